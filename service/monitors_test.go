package service

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
	"github.com/yieldvault/yieldvault/adapters/history/synth"
	"github.com/yieldvault/yieldvault/vault/monitor"
)

// steth2022 is an in-memory history of the steth-2022 scenario, May to
// July 2022.
func steth2022(t *testing.T) *history.DB {
	t.Helper()
	ctx := context.Background()
	b, err := synth.Generate(synth.Config{Scenario: "steth-2022", From: time.Date(2022, 4, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2022, 8, 1, 0, 0, 0, 0, time.UTC), Step: 6 * time.Hour, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	db, err := history.OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	return db
}

// TestMonitors_PegExitSteth2022 is the seeds' "assume a breach": a vault
// of LSTs whose strategy has no exit rule and keeps stETH eligible binds
// the built-in peg monitor to exit. Replayed through the steth-2022
// scenario, the monitor fires, the exit check sells all the stETH through
// its journaled intent, no rebalance buys it back while the monitor
// fires, and Alertmanager receives the alert.
func TestMonitors_PegExitSteth2022(t *testing.T) {
	var mu sync.Mutex
	var posted [][]map[string]any
	am := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var body []map[string]any
		if err := json.Unmarshal(b, &body); err != nil {
			t.Errorf("webhook body %q: %v", b, err)
		}
		mu.Lock()
		posted = append(posted, body)
		mu.Unlock()
	}))
	defer am.Close()
	dir := t.TempDir()
	strat := filepath.Join(dir, "lsts.yaml")
	if err := os.WriteFile(strat, []byte(`name: lsts-no-exit
base: ETH
universe: [lido/steth, rocketpool/reth]
rules:
  eligible: tvl > 0
  score: 1
allocation: { method: proportional }
constraints: { idle: 0.02 }
rebalance: { every: "@daily" }
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgText := "state_db: state.db\ndurability: normal\nalerts: { webhooks: [ { url: " + am.URL + "/api/v2/alerts, format: alertmanager } ] }\nvaults:\n" +
		"  - id: lst\n    strategy: " + strat + "\n    deposit: \"100\"\n    exit_check: \"0 */6 * * *\"\n" +
		"    monitors: { rules: [ { name: peg-below, action: exit } ] }\n"
	cfg := loadConfigIn(t, dir, cfgText)
	start := time.Date(2022, 5, 1, 0, 0, 0, 0, time.UTC)
	s, err := New(context.Background(), cfg, Options{Wall: time.Now, Clock: NewManualClock(start), History: steth2022(t), Manual: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if _, err := s.Advance(ctx, time.Date(2022, 7, 31, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	ds, err := s.store.Decisions(ctx, "lst", 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	// Oldest first.
	for i, j := 0, len(ds)-1; i < j; i, j = i+1, j-1 {
		ds[i], ds[j] = ds[j], ds[i]
	}
	var fired, exited, resolved time.Time
	boughtWhileFiring := false
	for _, d := range ds {
		switch {
		case fired.IsZero() && strings.Contains(d.Summary, "firing: monitor peg-below fires on lido/steth"):
			fired = d.Time
			if d.Action != ActExitCheck {
				t.Errorf("the monitor first fired in a %s, want an exit check", d.Action)
			}
		case !fired.IsZero() && resolved.IsZero() && strings.Contains(d.Summary, "resolved: monitor peg-below"):
			resolved = d.Time
		}
		if fired.IsZero() || !resolved.IsZero() {
			continue
		}
		var det rebalanceDetail
		if json.Unmarshal(d.Detail, &det) == nil {
			for _, o := range det.Decision.Orders {
				if o.Market == "lido/steth" && o.Side == "sell" && o.All && d.Outcome == OutTraded && exited.IsZero() {
					exited = d.Time
				}
				if o.Market == "lido/steth" && o.Side == "buy" {
					boughtWhileFiring = true
				}
			}
		}
	}
	t.Logf("peg-below fired %s, stETH exited %s, resolved %s", fired, exited, resolved)
	if fired.IsZero() {
		t.Fatal("the peg monitor never fired in the steth-2022 scenario")
	}
	if exited.IsZero() || exited.Sub(fired) > 6*time.Hour {
		t.Errorf("stETH exited at %s, want by the exit check that found the monitor firing (%s)", exited, fired)
	}
	if boughtWhileFiring {
		t.Error("a rebalance bought stETH while the peg monitor fired")
	}
	var key string
	if err := s.store.db.QueryRow("SELECT intent_key FROM decisions WHERE vault_id = 'lst' AND time = ? AND outcome = 'traded'", exited.Unix()).Scan(&key); err != nil {
		t.Fatal(err)
	}
	var status, outcome string
	if err := s.store.db.QueryRow("SELECT status, outcome FROM intents WHERE key = ?", key).Scan(&status, &outcome); err != nil || status != "done" || outcome != OutTraded || !strings.HasPrefix(key, "lst/exit_check/") {
		t.Errorf("the exit's intent %q: %s %s (%v), want a done exit-check intent that traded", key, status, outcome, err)
	}
	if got := metricValue(t, s.metrics.MonitorFired.WithLabelValues("lst", "peg-below")); got < 1 {
		t.Errorf("monitor_fired_total %g, want >= 1", got)
	}
	// The webhook is asynchronous.
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(posted)
		var first map[string]any
		if n > 0 && len(posted[0]) > 0 {
			first = posted[0][0]
		}
		mu.Unlock()
		if n > 0 {
			labels, _ := first["labels"].(map[string]any)
			if labels["monitor"] != "peg-below" || labels["vault"] != "lst" || labels["severity"] != "critical" || first["startsAt"] == nil {
				t.Errorf("Alertmanager alert %v, want monitor peg-below of vault lst, critical, with startsAt", first)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no alert reached the Alertmanager webhook")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMonitors_Config checks monitor configuration errors name the place.
func TestMonitors_Config(t *testing.T) {
	for _, tc := range []struct{ name, monitors, want string }{
		{"bad expression", `{ rules: [ { name: x, when: "peg <" } ] }`, "monitor \"x\""},
		{"unknown name", `{ rules: [ { name: x, when: "pegg < 1" } ] }`, "pegg"},
		{"no when", `{ rules: [ { name: x } ] }`, "needs when"},
		{"bad action", `{ rules: [ { name: peg-below, action: sell } ] }`, "action \"sell\""},
		{"vault scope", `{ rules: [ { name: x, when: "nav > 1" } ] }`, "nav"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfig(t, "", "  - { id: v, strategy: $STRAT/lst-conservative.yaml, deposit: \"1\", monitors: "+tc.monitors+" }\n")
			_, err := LoadConfig(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "service.yaml:") {
				t.Errorf("error %v, want one naming service.yaml:line and %q", err, tc.want)
			}
			if adapters.KindOf(err) != adapters.KindInvalid {
				t.Errorf("kind %v, want invalid", adapters.KindOf(err))
			}
		})
	}
}

// TestMonitors_RestartContinuesEpisode checks that a monitor's episode
// survives a restart on the same state database: the peg monitor fires
// in the steth-2022 scenario, the service stops and a new one starts on
// the same database; while the monitor still fires the new service
// neither journals nor alerts it again, and when it clears it sends
// exactly one resolved alert and journals one resolution.
func TestMonitors_RestartContinuesEpisode(t *testing.T) {
	var mu sync.Mutex
	var posts []Alert // generic webhook bodies
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var a Alert
		if err := json.NewDecoder(r.Body).Decode(&a); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		mu.Lock()
		posts = append(posts, a)
		mu.Unlock()
	}))
	defer hook.Close()
	count := func(status string) int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, a := range posts {
			if a.Monitor == "peg-below" && a.Status == status {
				n++
			}
		}
		return n
	}
	waitFor := func(status string, want int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for count(status) < want && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
	}
	dir := t.TempDir()
	strat := filepath.Join(dir, "steth.yaml")
	if err := os.WriteFile(strat, []byte(`name: steth-only
base: ETH
universe: [lido/steth]
rules:
  eligible: tvl > 0
  score: 1
allocation: { method: proportional }
constraints: { idle: 0.02 }
rebalance: { every: "@daily" }
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgText := "state_db: state.db\ndurability: normal\nalerts: { webhooks: [ { url: " + hook.URL + "/hook, format: generic } ] }\nvaults:\n" +
		"  - id: lst\n    strategy: " + strat + "\n    deposit: \"100\"\n    exit_check: \"0 */6 * * *\"\n"
	cfg := loadConfigIn(t, dir, cfgText)
	hist := steth2022(t)
	ctx := context.Background()
	clock := NewManualClock(time.Date(2022, 5, 1, 0, 0, 0, 0, time.UTC))
	start := func(wall func() time.Time) *Service {
		s, err := New(ctx, cfg, Options{Wall: wall, Clock: clock, History: hist, Manual: true})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// journaled counts the vault's decisions that say the monitor fired
	// and resolved.
	journaled := func(s *Service) (fired, resolved int) {
		var n, m int
		if err := s.store.db.QueryRow("SELECT COUNT(*) FROM decisions WHERE vault_id = 'lst' AND summary LIKE '%firing: monitor peg-below%'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if err := s.store.db.QueryRow("SELECT COUNT(*) FROM decisions WHERE vault_id = 'lst' AND summary LIKE '%resolved: monitor peg-below%'").Scan(&m); err != nil {
			t.Fatal(err)
		}
		return n, m
	}
	end := time.Date(2022, 7, 31, 0, 0, 0, 0, time.UTC)

	s1 := start(time.Now)
	at := clock.Now()
	for {
		at = at.Add(6 * time.Hour)
		if at.After(end) {
			t.Fatal("the peg monitor never fired")
		}
		if _, err := s1.Advance(ctx, at); err != nil {
			t.Fatal(err)
		}
		if f, _ := journaled(s1); f > 0 {
			break
		}
	}
	firedAt := at
	// Still firing a day later, with no second alert.
	at = at.Add(24 * time.Hour)
	if _, err := s1.Advance(ctx, at); err != nil {
		t.Fatal(err)
	}
	waitFor("firing", 1)
	if f, r := journaled(s1); f != 1 || r != 0 {
		t.Fatalf("before the restart: %d firing and %d resolved decisions, want 1 and 0 (fired %s)", f, r, firedAt)
	}
	if got := count("firing"); got != 1 {
		t.Fatalf("before the restart: %d firing alerts, want 1", got)
	}
	if err := s1.Close(); err != nil {
		t.Fatal(err)
	}

	// The first service stopped without releasing its lease (a crash, or
	// a failover): the second one starts after the lease expired.
	s2 := start(func() time.Time { return time.Now().Add(cfg.LeaseTTL + time.Minute) })
	defer s2.Close()
	// The lease holder shows the episode before its first action.
	if fs := s2.vaults["lst"].alerts.List(); len(fs) != 1 || fs[0].Monitor != "peg-below" || fs[0].Since.After(firedAt) {
		t.Errorf("after the restart the firing monitors are %v, want peg-below firing since the first service's episode (%s)", fs, firedAt)
	}
	if got := metricValue(t, s2.metrics.MonitorFiring.WithLabelValues("lst", "peg-below", "critical", monitor.Alert)); got != 1 {
		t.Errorf("monitor_firing after the restart %g, want 1", got)
	}
	var resolvedAt time.Time
	for resolvedAt.IsZero() {
		at = at.Add(6 * time.Hour)
		if at.After(end) {
			t.Fatal("the peg monitor never resolved")
		}
		if _, err := s2.Advance(ctx, at); err != nil {
			t.Fatal(err)
		}
		f, r := journaled(s2)
		if f != 1 {
			t.Fatalf("after the restart, at %s: %d firing decisions, want still 1 (the episode continues)", at, f)
		}
		if r > 0 {
			resolvedAt = at
			if r != 1 {
				t.Errorf("%d resolved decisions, want 1", r)
			}
		}
		if fs := s2.vaults["lst"].alerts.List(); r == 0 && (len(fs) == 0 || !fs[0].Since.Before(firedAt.Add(time.Second))) {
			t.Errorf("at %s the firing monitors are %v, want peg-below firing since the first service's episode (%s)", at, fs, firedAt)
		}
	}
	waitFor("resolved", 1)
	time.Sleep(100 * time.Millisecond) // a second alert would be queued by now
	t.Logf("peg-below fired by %s, resolved by %s after a restart", firedAt, resolvedAt)
	if got := count("firing"); got != 1 {
		t.Errorf("%d firing alerts in all, want 1 (none after the restart)", got)
	}
	if got := count("resolved"); got != 1 {
		t.Errorf("%d resolved alerts, want 1", got)
	}
	if got := metricValue(t, s2.metrics.MonitorFiring.WithLabelValues("lst", "peg-below", "critical", monitor.Alert)); got != 0 {
		t.Errorf("monitor_firing after the resolve %g, want 0", got)
	}
}

// TestMonitors_DataStaleSourceStops runs a vault of stETH and rETH (it
// holds stETH only) fed by a folder source: a file of the next day's rows
// of both markets is dropped each day, then the source stops. The built-in
// data-stale stays quiet while the rows arrive and fires on stETH alone at
// the first exit check whose clock is more than 72 hours past the last
// row, with the journal and the metric saying so.
func TestMonitors_DataStaleSourceStops(t *testing.T) {
	ctx := context.Background()
	cat := adapters.Builtin()
	var mks []adapters.Market
	for _, id := range []string{"lido/steth", "rocketpool/reth"} {
		m, err := cat.Market(id)
		if err != nil {
			t.Fatal(err)
		}
		mks = append(mks, m)
	}
	day := func(n int) time.Time { return time.Date(2025, 1, 1+n, 0, 0, 0, 0, time.UTC) }
	b, err := synth.Generate(synth.Config{From: day(-30), To: day(4), Step: 24 * time.Hour, Seed: 3, Markets: mks})
	if err != nil {
		t.Fatal(err)
	}
	// The history holds the rows to 2025-01-01; the source brings one
	// day's rows at a time.
	later := map[int64][]history.Row{}
	kept := *b
	kept.Rows = nil
	for _, r := range b.Rows {
		if r.Obs.Time.After(day(0)) {
			later[r.Obs.Time.Unix()] = append(later[r.Obs.Time.Unix()], r)
		} else {
			kept.Rows = append(kept.Rows, r)
		}
	}
	h, err := history.OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	if _, err := h.Write(ctx, &kept); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	drop := filepath.Join(dir, "incoming")
	if err := os.Mkdir(drop, 0o700); err != nil {
		t.Fatal(err)
	}
	strat := filepath.Join(dir, "steth.yaml")
	if err := os.WriteFile(strat, []byte(`name: steth-only
base: ETH
universe: [lido/steth, rocketpool/reth]
rules:
  eligible: id == "lido/steth"
  score: 1
constraints: { idle: 0.02 }
rebalance: { every: "@daily" }
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgText := "state_db: state.db\ndurability: normal\nsources:\n  - { name: drop, folder: " + drop + ", every: \"@hourly\" }\nvaults:\n" +
		"  - id: st\n    strategy: " + strat + "\n    deposit: \"100\"\n    exit_check: \"0 * * * *\"\n"
	cfg := loadConfigIn(t, dir, cfgText)
	s, err := New(ctx, cfg, Options{Wall: time.Now, Clock: NewManualClock(day(0)), History: h, Manual: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	firing := func() []monitor.Firing {
		fs, err := s.store.Alerts(ctx, "st")
		if err != nil {
			t.Fatal(err)
		}
		return fs
	}
	// Each day's rows arrive during that day; the clock runs to the next.
	for n := 1; n <= 4; n++ {
		var buf bytes.Buffer
		if err := history.WriteNativeCSV(&buf, later[day(n).Unix()]); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(drop, day(n).Format("2006-01-02")+".csv"), buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Advance(ctx, day(n+1).Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		for _, f := range firing() {
			if f.Monitor == "data-stale" {
				t.Fatalf("data-stale fired on %s on day %d while the source delivered", f.Markets, n)
			}
		}
	}
	// The source stops: the last row is day(4).
	if _, err := s.Advance(ctx, day(10)); err != nil {
		t.Fatal(err)
	}
	var fired monitor.Firing
	for _, f := range firing() {
		if f.Monitor == "data-stale" {
			fired = f
		}
	}
	// The first hourly exit check more than 72 hours after the last row.
	want := day(4).Add(73 * time.Hour)
	if len(fired.Markets) != 1 || fired.Markets[0] != "lido/steth" || !fired.Since.Equal(want) {
		t.Fatalf("data-stale %+v, want firing on lido/steth (held) alone since %s", fired, want)
	}
	ds, err := s.store.Decisions(ctx, "st", 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	journaled := false
	for _, d := range ds {
		if d.Time.Equal(want) && strings.Contains(d.Summary, "firing: monitor data-stale fires on lido/steth") {
			journaled = true
		}
	}
	if !journaled {
		t.Errorf("no decision at %s journals data-stale firing on lido/steth", want)
	}
	if got := metricValue(t, s.metrics.MonitorFiring.WithLabelValues("st", "data-stale", "critical", "alert")); got != 1 {
		t.Errorf("monitor_firing{monitor=data-stale} %g, want 1", got)
	}
}
