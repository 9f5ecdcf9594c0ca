package backtest

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shopspring/decimal"
)

// chromiumPath finds a Chromium or Chrome binary. Outside CI a missing
// browser skips the test with a message; with CI=true it fails it (.ci/run
// installs Debian's chromium), so CI never passes by skipping.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true but no chromium is installed: .ci/run installs it with apt-get install chromium")
	}
	t.Skip("no chromium on PATH: skipping the headless-Chromium report test (apt-get install chromium, or run it in CI)")
	return ""
}

// TestReport_HeadlessChromium renders a real run's report.html in headless
// Chromium, offline: no console error, exception or failed load, every
// chart present and drawn with a size, and a full-page screenshot that
// decodes as a PNG of the page's width.
func TestReport_HeadlessChromium(t *testing.T) {
	path := chromiumPath(t)
	s := loadExample(t, "lst-lrt-balanced.yaml")
	from, to := day("2024-03-01"), day("2024-06-01")
	res, err := Run(context.Background(), Spec{Strategy: s, Data: defaultWindow(t, s, from, to), From: from, To: to,
		Capital: decimal.NewFromInt(100), Source: "embedded"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := WriteRun(dir, res); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(dir, ReportFile)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.WindowSize(1100, 900),
	)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	// Every console message, exception and browser log entry (a failed
	// load is one) while the page loads and is measured.
	cctx, stopConsole := context.WithCancel(ctx)
	messages := chromedp.Console(cctx)
	var mu sync.Mutex
	var problems []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			switch m.Type {
			case chromedp.ConsoleError, chromedp.ConsoleWarning, chromedp.ConsoleException:
				mu.Lock()
				problems = append(problems, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line+1))
				mu.Unlock()
			}
		}
	}()

	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+report), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
		t.Fatalf("loading %s: %v", report, err)
	}
	nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSSAll("svg")))
	if err != nil {
		t.Fatal(err)
	}
	ids := append(append([]string(nil), ChartIDs...), ChartCosts, ChartAPY, ChartPeg)
	if len(nodes) < len(ids) {
		t.Errorf("%d svg elements rendered, want at least %d", len(nodes), len(ids))
	}
	for _, id := range ids {
		size, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]float64](fmt.Sprintf(
			`(() => { const e = document.getElementById(%q); if (!e) return {w: 0, h: 0}; const r = e.getBoundingClientRect(); return {w: r.width, h: r.height}; })()`, id)))
		if err != nil {
			t.Fatalf("measuring %s: %v", id, err)
		}
		if size["w"] < 100 || size["h"] < 40 {
			t.Errorf("chart %s is drawn %vx%v px, want a visible chart", id, size["w"], size["h"])
		}
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // late log entries
	stopConsole()
	<-done
	mu.Lock()
	for _, p := range problems {
		t.Errorf("report.html in Chromium: %s", p)
	}
	mu.Unlock()
	img, err := jpegOrPNG(shot)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 1000 || b.Dy() < 2000 {
		t.Errorf("screenshot is %dx%d, want the whole page (at least 1000x2000)", b.Dx(), b.Dy())
	}
	if out := os.Getenv("YIELDVAULT_REPORT_SHOT"); out != "" {
		if err := os.WriteFile(out, shot, 0o644); err != nil {
			t.Error(err)
		}
	}
}

// jpegOrPNG decodes a screenshot (chromedp writes JPEG at a quality
// below 100, PNG at 100).
func jpegOrPNG(b []byte) (image.Image, error) {
	if img, err := png.Decode(bytes.NewReader(b)); err == nil {
		return img, nil
	}
	return jpeg.Decode(bytes.NewReader(b))
}
