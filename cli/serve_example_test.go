package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/yieldvault/yieldvault/internal/headless"
	"github.com/yieldvault/yieldvault/service"
)

// syncBuffer is a bytes.Buffer written by the service's logger and read by
// the test while it runs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServe_ExampleConfig is issue 15's acceptance tried as a new user
// would: `serve -c examples/service/service.yaml` (copied with the example
// strategies, so that its relative paths and its state database stay in a
// temporary folder) replays the embedded history. The first scrape of
// /metrics is clean under the Prometheus linter and has a series for every
// metric docs/operations.md documents; the dashboard opens in headless
// Chromium and shows both example vaults with the API's vaults; and after
// the stop every decision in the state database is one INFO "action" line
// of the log, in order.
func TestServe_ExampleConfig(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"service", "strategies"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	copyFile := func(from, to string) {
		b, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	copyFile("../examples/service/service.yaml", filepath.Join(dir, "service", "service.yaml"))
	strats, err := filepath.Glob("../examples/strategies/*.yaml")
	if err != nil || len(strats) == 0 {
		t.Fatalf("no example strategies (%v)", err)
	}
	for _, s := range strats {
		copyFile(s, filepath.Join(dir, "strategies", filepath.Base(s)))
	}
	cfgPath := filepath.Join(dir, "service", "service.yaml")
	t.Setenv("YIELDVAULT_TOKEN", "")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"serve", "-c", cfgPath, "--listen", "127.0.0.1:0", "--log-format", "json"}, strings.NewReader(""), io.Discard, &logs)
	}()
	// The address from the "listening" line.
	var base string
	for deadline := time.Now().Add(60 * time.Second); base == ""; {
		for _, l := range strings.Split(logs.String(), "\n") {
			var m struct{ Msg, Addr string }
			if json.Unmarshal([]byte(l), &m) == nil && m.Msg == "listening" {
				base = "http://" + m.Addr
			}
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d before listening: %s", code, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve is not listening after 60 s: %s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	get := func(path string) []byte {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
		}
		return b
	}

	// The first scrape.
	body := string(get("/metrics"))
	probs, err := promlint.New(strings.NewReader(body)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range probs {
		t.Errorf("first scrape: %s: %s", p.Metric, p.Text)
	}
	doc, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	sec := string(doc)
	i := strings.Index(sec, "\n## Metrics\n")
	if i < 0 {
		t.Fatal("docs/operations.md has no Metrics section")
	}
	sec = sec[i:]
	sec = sec[:strings.Index(sec[1:], "\n## ")+1]
	n := 0
	for _, row := range regexp.MustCompile("(?m)^\\| ([^|]+)\\|").FindAllStringSubmatch(sec, -1) {
		for _, m := range regexp.MustCompile("`([a-z_]+)`").FindAllStringSubmatch(row[1], -1) {
			n++
			if !regexp.MustCompile(`(?m)^yieldvault_` + regexp.QuoteMeta(m[1]) + `(_bucket)?[{ ]`).MatchString(body) {
				t.Errorf("documented metric yieldvault_%s has no series in the first scrape", m[1])
			}
		}
	}
	if n < 20 {
		t.Fatalf("read %d metric names from docs/operations.md", n)
	}
	for _, id := range []string{"eth-balanced", "usd-lending"} {
		if !strings.Contains(body, `yieldvault_decisions_total{action="rebalance",outcome="traded",vault="`+id+`"}`) {
			t.Errorf("first scrape has no decisions_total series of vault %s", id)
		}
	}

	// A few simulated hours (one a second), then the dashboard.
	time.Sleep(4 * time.Second)
	var vaults struct {
		Vaults []service.VaultView `json:"vaults"`
	}
	if err := json.Unmarshal(get("/v1/vaults"), &vaults); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, v := range vaults.Vaults {
		ids = append(ids, v.ID)
	}
	if strings.Join(ids, ",") != "eth-balanced,usd-lending" {
		t.Fatalf("the API lists vaults %v, want the example's eth-balanced and usd-lending", ids)
	}
	br := headless.Open(t, "the dashboard", 1200, 900)
	if err := chromedp.Do(br.Ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#vault-usd-lending .nav"))); err != nil {
		t.Fatalf("opening the dashboard: %v", err)
	}
	for _, id := range ids {
		text := func(sel string) string {
			v, err := chromedp.Run(br.Ctx, chromedp.Evaluate[string](fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e ? e.textContent : ""; })()`, sel)))
			if err != nil {
				t.Fatalf("reading %s: %v", sel, err)
			}
			return v
		}
		nav, share := text("#vault-"+id+" .nav"), text("#vault-"+id+" .share-price")
		if nav == "" || share == "" {
			t.Errorf("the dashboard shows vault %s with NAV %q and share price %q", id, nav, share)
		}
	}
	for _, p := range br.Problems() {
		t.Errorf("dashboard in Chromium: %s", p)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited with %d after the stop", code)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not stop within 60 s")
	}

	// One INFO action line per decision, in order.
	type line struct {
		Level, Msg, Vault, Task, Outcome, Reason string
	}
	perVault := map[string][]line{}
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("log line %q is not JSON: %v", sc.Text(), err)
		}
		if l.Msg == "action" {
			perVault[l.Vault] = append(perVault[l.Vault], l)
		}
	}
	st, err := service.OpenStore(context.Background(), filepath.Join(dir, "service", "yieldvault-state.db"), false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	total := 0
	for _, id := range ids {
		ds, err := st.Decisions(context.Background(), id, 0, 100000)
		if err != nil {
			t.Fatal(err)
		}
		mine := perVault[id]
		if len(mine) != len(ds) {
			t.Fatalf("vault %s: %d action lines, want one per decision (%d)", id, len(mine), len(ds))
		}
		for k := range ds {
			d, l := ds[len(ds)-1-k], mine[k] // decisions newest first
			if l.Level != "INFO" || l.Task != string(d.Action) || l.Outcome != d.Outcome || l.Reason == "" {
				t.Errorf("vault %s action %d: %s %s %s (reason %q), want INFO %s %s with a reason", id, k, l.Level, l.Task, l.Outcome, l.Reason, d.Action, d.Outcome)
			}
		}
		total += len(ds)
	}
	if len(perVault["eth-balanced"]) < 3 || len(perVault["usd-lending"]) < 1 {
		t.Fatalf("action lines %d and %d: the replay ran too little to check", len(perVault["eth-balanced"]), len(perVault["usd-lending"]))
	}
	t.Logf("%d decisions, each one INFO action line", total)
}

// TestServe_Steth2022Example follows examples/service/steth-2022.yaml's
// own instructions as a new user would: `data synth` writes the
// steth-2022 history, `serve` replays it with the built-in peg-below bound
// to exit. The monitor fires on stETH on 2022-05-13, the log says so, and
// that exit check sells all the vault's stETH through its journaled
// intent (done, traded); no decision buys stETH until the monitor
// resolves, which is journaled too.
func TestServe_Steth2022Example(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"service", "strategies"} {
		if err := os.MkdirAll(filepath.Join(dir, "examples", sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"service/steth-2022.yaml", "strategies/lst-hold.yaml"} {
		b, err := os.ReadFile("../examples/" + f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "examples", f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfgPath := filepath.Join(dir, "examples", "service", "steth-2022.yaml")
	// The synth command of the file's header, run from the folder.
	raw, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`#\s+yieldvault (data synth [^\\\n]+)\\\n#\s+(--db \S+)`).FindStringSubmatch(string(raw))
	if m == nil {
		t.Fatal("examples/service/steth-2022.yaml has no `yieldvault data synth ... --db ...` line in its header")
	}
	args := strings.Fields(m[1] + " " + m[2])
	args[len(args)-1] = filepath.Join(dir, args[len(args)-1])
	if code, _, stderr := cli(t, args...); code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, stderr)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"serve", "-c", cfgPath, "--listen", "127.0.0.1:0", "--log-format", "json"}, strings.NewReader(""), io.Discard, &logs)
	}()
	// Until the log says the monitor resolved (a simulated day a second).
	type line struct {
		Level, Msg, Vault, Task, Outcome, Orders, Monitor, Action, Markets string
		Tick                                                               time.Time
		// ServiceTime is a monitor line's service time (its "time" is the
		// wall clock's, as on every line).
		ServiceTime time.Time `json:"service_time"`
	}
	var lines []line
	for deadline := time.Now().Add(120 * time.Second); ; {
		lines = lines[:0]
		resolved := false
		for _, l := range strings.Split(logs.String(), "\n") {
			var x line
			if json.Unmarshal([]byte(l), &x) == nil {
				lines = append(lines, x)
				resolved = resolved || (x.Msg == "monitor resolved" && x.Monitor == "peg-below")
			}
		}
		if resolved {
			break
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d: %s", code, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("peg-below did not fire and resolve within 120 s: %s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited with %d after the stop", code)
	}
	var fired time.Time
	for _, l := range lines {
		if l.Msg == "monitor firing" && l.Monitor == "peg-below" {
			if l.Level != "WARN" || l.Action != "exit" || l.Markets != "lido/steth" {
				t.Errorf("firing line %+v, want WARN, action exit, on lido/steth", l)
			}
			fired = l.ServiceTime
			break
		}
	}
	if want := time.Date(2022, 5, 13, 18, 0, 0, 0, time.UTC); !fired.Equal(want) {
		t.Fatalf("peg-below fired at %s, want %s", fired, want)
	}
	exitLine := false
	for _, l := range lines {
		if l.Msg == "action" && l.Task == "exit_check" && l.Tick.Equal(fired) {
			exitLine = l.Outcome == "traded" && strings.Contains(l.Orders, "sell lido/steth") && strings.Contains(l.Orders, "all")
		}
	}
	if !exitLine {
		t.Errorf("no INFO action line of the exit check at %s selling all the stETH", fired)
	}

	st, err := service.OpenStore(context.Background(), filepath.Join(dir, "examples", "service", "steth-2022-state.db"), false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ds, err := st.Decisions(context.Background(), "lst", 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	var exitIntent string
	var resolvedAt time.Time
	for k := len(ds) - 1; k >= 0; k-- { // oldest first
		d := ds[k]
		var det struct {
			Decision struct {
				Orders []struct {
					Market, Side string
					All          bool
				}
			}
		}
		_ = json.Unmarshal(d.Detail, &det)
		if d.Time.Equal(fired) && d.Action == service.ActExitCheck && strings.Contains(d.Summary, "firing: monitor peg-below fires on lido/steth") {
			for _, o := range det.Decision.Orders {
				if o.Market == "lido/steth" && o.Side == "sell" && o.All && d.Outcome == service.OutTraded {
					exitIntent = d.Intent
				}
			}
		}
		if resolvedAt.IsZero() && strings.Contains(d.Summary, "resolved: monitor peg-below") {
			resolvedAt = d.Time
		}
		if !d.Time.Before(fired) && resolvedAt.IsZero() {
			for _, o := range det.Decision.Orders {
				if o.Market == "lido/steth" && o.Side == "buy" {
					t.Errorf("%s: a %s bought stETH while peg-below fired", d.Time, d.Action)
				}
			}
		}
	}
	if exitIntent == "" || resolvedAt.IsZero() {
		t.Fatalf("journal: exit intent %q, resolved %s; want an exit check at %s that sold all the stETH, and a resolution", exitIntent, resolvedAt, fired)
	}
	var status, outcome string
	if err := st.DB().QueryRow("SELECT status, outcome FROM intents WHERE key = ?", exitIntent).Scan(&status, &outcome); err != nil || status != "done" || outcome != service.OutTraded || !strings.HasPrefix(exitIntent, "lst/exit_check/") {
		t.Errorf("the exit's intent %q: %s %s (%v), want a done exit-check intent that traded", exitIntent, status, outcome, err)
	}
	t.Logf("peg-below fired %s, the exit check's intent %s sold all the stETH, resolved %s", fired, exitIntent, resolvedAt)
}
