// Package headless opens pages in headless Chromium for the tests that
// check what a user sees in a browser (the backtest report, the service's
// dashboard): it finds the browser, starts it offline with a private
// profile, and collects every console error, warning and exception.
//
// Outside CI a missing browser skips the test with a message; with
// CI=true it fails it (.ci/run installs Debian's chromium), so CI never
// passes by skipping.
package headless

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Path finds a Chromium or Chrome binary, or skips (fails under CI=true)
// the test; what names the test's subject in the skip message.
func Path(t testing.TB, what string) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true but no chromium is installed: .ci/run installs it with apt-get install chromium")
	}
	t.Skipf("no chromium on PATH: skipping the headless-Chromium test of %s (apt-get install chromium, or run it in CI)", what)
	return ""
}

// Browser is a headless Chromium tab with a console watcher.
type Browser struct {
	// Ctx runs chromedp actions in the tab; it ends after 90 seconds.
	Ctx context.Context

	stop     context.CancelFunc
	done     chan struct{}
	mu       sync.Mutex
	problems []string
}

// Open starts Chromium (Path) with a window of width x height and a
// profile in a temporary folder, and watches its console. The browser is
// closed when the test ends.
func Open(t testing.TB, what string, width, height int) *Browser {
	t.Helper()
	path := Path(t, what)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "profile")),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.WindowSize(width, height),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })

	b := &Browser{Ctx: ctx, done: make(chan struct{})}
	cctx, stop := context.WithCancel(ctx)
	b.stop = stop
	messages := chromedp.Console(cctx)
	go func() {
		defer close(b.done)
		for m, err := range messages {
			if err != nil {
				return
			}
			switch m.Type {
			case chromedp.ConsoleError, chromedp.ConsoleWarning, chromedp.ConsoleException:
				b.mu.Lock()
				b.problems = append(b.problems, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line+1))
				b.mu.Unlock()
			}
		}
	}()
	return b
}

// Problems waits briefly for late console entries, stops watching and
// returns every console error, warning and exception seen.
func (b *Browser) Problems() []string {
	time.Sleep(200 * time.Millisecond)
	b.stop()
	<-b.done
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.problems...)
}
