package service

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
	"github.com/yieldvault/yieldvault/adapters/history/importers"
	"github.com/yieldvault/yieldvault/adapters/history/synth"
)

// trendEpisodes runs a vault holding market (98%) over h from from to
// to, with exit checks every 12 hours and the built-in monitors, and
// returns the times the journal says monitor started and stopped firing
// on market, oldest first, with the value of monitor_fired_total.
func trendEpisodes(t *testing.T, h *history.DB, market, mon string, from, to time.Time, extra string) (fired, resolved []time.Time, total float64) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	strat := filepath.Join(dir, "one.yaml")
	if err := os.WriteFile(strat, []byte("name: one\nbase: ETH\nuniverse: ["+market+"]\nrules:\n  eligible: \"true\"\n  score: 1\n"+
		"allocation: { method: proportional }\nconstraints: { idle: 0.02 }\nrebalance: { every: \"@daily\" }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgText := "state_db: state.db\ndurability: normal\nvaults:\n  - id: v\n    strategy: " + strat + "\n    deposit: \"100\"\n    exit_check: \"0 */12 * * *\"\n" + extra
	cfg := loadConfigIn(t, dir, cfgText)
	s, err := New(ctx, cfg, Options{Wall: time.Now, Clock: NewManualClock(from), History: h, Manual: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Advance(ctx, to); err != nil {
		t.Fatal(err)
	}
	ds, err := s.store.Decisions(ctx, "v", 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	sort.SliceStable(ds, func(i, j int) bool { return ds[i].Time.Before(ds[j].Time) })
	for _, d := range ds {
		switch {
		case strings.Contains(d.Summary, "firing: monitor "+mon+" fires on "+market):
			fired = append(fired, d.Time)
		case strings.Contains(d.Summary, "resolved: monitor "+mon):
			resolved = append(resolved, d.Time)
		}
	}
	return fired, resolved, metricValue(t, s.metrics.MonitorFired.WithLabelValues("v", mon))
}

// TestMonitors_TrendsInService runs the trend monitors in the service,
// which evaluates them on the universe's stored history at each exit
// check (the vault's lookback does not cut it): exit-time-rising on stETH restaked in EigenLayer
// through 2025-04-17 (EigenLayer's escrow 7 -> 14 days, the synthetic
// history's dated withdrawal_days), and exit-liquidity-falling on stETH
// over the real Curve ETH/stETH pool snapshots of November 2022, at the
// times the rule gives on the data, computed here (the backtest's
// TestMonitors_ExitTimeRising and TestMonitors_ExitLiquidityFalling hold
// the same times at the same 12-hour steps).
func TestMonitors_TrendsInService(t *testing.T) {
	ctx := context.Background()
	t.Run("exit-time-rising", func(t *testing.T) {
		cat := adapters.Builtin()
		m, err := cat.Market("eigenlayer/steth")
		if err != nil {
			t.Fatal(err)
		}
		from, to := time.Date(2025, 3, 20, 0, 0, 0, 0, time.UTC), time.Date(2025, 5, 20, 0, 0, 0, 0, time.UTC)
		b, err := synth.Generate(synth.Config{From: from.Add(-30 * 24 * time.Hour), To: to, Step: 6 * time.Hour, Seed: 3, Markets: []adapters.Market{m}})
		if err != nil {
			t.Fatal(err)
		}
		h, err := history.OpenMemory(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		if _, err := h.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
		// withdrawal_days in the rows: 7, then 14 from 2025-04-17, so the
		// 7-day change is +100% from then until the window's start
		// passes the change, 7 days later.
		change := time.Date(2025, 4, 17, 0, 0, 0, 0, time.UTC)
		var before, after float64
		for _, r := range b.Rows {
			v, ok := r.Obs.Get(adapters.FieldWithdrawalDays)
			if !ok {
				continue
			}
			if r.Obs.Time.Before(change) {
				before = v
			} else if after == 0 {
				after = v
			}
		}
		if before != 7 || after != 14 {
			t.Fatalf("test data: withdrawal_days %g then %g, want 7 then 14", before, after)
		}
		// lookback 1d: the service reads every stored row of the
		// universe, so the monitor's 7 days are not cut to one (a 1-day
		// window would resolve it 6 days early).
		fired, resolved, total := trendEpisodes(t, h, "eigenlayer/steth", "exit-time-rising", from, to, "    lookback: 1d\n")
		if len(fired) != 1 || !fired[0].Equal(change) || len(resolved) != 1 || !resolved[0].Equal(change.Add(7*24*time.Hour)) || total != 1 {
			t.Fatalf("exit-time-rising fired %v, resolved %v (monitor_fired_total %g), want fired %s and resolved 7 days later", fired, resolved, total, change)
		}
	})
	t.Run("exit-liquidity-falling", func(t *testing.T) {
		root := os.Getenv("YIELDVAULT_SHARED_DATA")
		if root == "" {
			t.Skip("YIELDVAULT_SHARED_DATA is not set: skipping the real-data test")
		}
		h, err := history.OpenMemory(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		for _, f := range []string{"steth-usd-coingecko-hourly", "curve-steth-pool-snapshots-2022", "lido-steth-apy-defillama-daily"} {
			bs, err := importers.ImportDir(ctx, filepath.Join(root, f), importers.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range bs {
				if _, err := h.Write(ctx, b); err != nil {
					t.Fatal(err)
				}
			}
		}
		// The ETH side's 7-day change at each 12-hour exit check, from
		// the raw file.
		raw, err := os.ReadFile(filepath.Join(root, "curve-steth-pool-snapshots-2022", "curve_steth_pool_snapshots.csv"))
		if err != nil {
			t.Fatal(err)
		}
		type snap struct {
			ts  int64
			eth float64
		}
		var snaps []snap
		for i, line := range strings.Split(strings.TrimSpace(string(raw)), "\n")[1:] {
			f := strings.Split(line, ",")
			at, err1 := strconv.ParseInt(f[1], 10, 64)
			eth, err2 := strconv.ParseFloat(f[3], 64)
			if err1 != nil || err2 != nil {
				t.Fatalf("line %d: %q", i+2, line)
			}
			snaps = append(snaps, snap{at, eth})
		}
		sort.Slice(snaps, func(i, j int) bool { return snaps[i].ts < snaps[j].ts })
		ethAt := func(u int64) float64 {
			k := sort.Search(len(snaps), func(k int) bool { return snaps[k].ts > u }) - 1
			return snaps[max(k, 0)].eth
		}
		from, to := time.Date(2022, 10, 20, 0, 0, 0, 0, time.UTC), time.Date(2022, 11, 20, 0, 0, 0, 0, time.UTC)
		var wantFired, wantResolved []time.Time
		firing := false
		for at := from.Add(12 * time.Hour); !at.After(to); at = at.Add(12 * time.Hour) {
			u := at.Unix()
			c := ethAt(u)/ethAt(u-7*24*3600) - 1
			switch {
			case !firing && c < -0.5:
				wantFired, firing = append(wantFired, at), true
			case firing && !(c < -0.5):
				wantResolved, firing = append(wantResolved, at), false
			}
		}
		if len(wantFired) != 1 || len(wantResolved) != 1 {
			t.Fatalf("test data: the rule fires %v and resolves %v, want one episode in November 2022", wantFired, wantResolved)
		}
		fired, resolved, total := trendEpisodes(t, h, "lido/steth", "exit-liquidity-falling", from, to, "")
		if len(fired) != 1 || !fired[0].Equal(wantFired[0]) || len(resolved) != 1 || !resolved[0].Equal(wantResolved[0]) || total != 1 {
			t.Fatalf("exit-liquidity-falling fired %v, resolved %v (monitor_fired_total %g), want fired %s, resolved %s", fired, resolved, total, wantFired[0], wantResolved[0])
		}
		t.Logf("exit-liquidity-falling fired %s, resolved %s", fired[0], resolved[0])
	})
}

// TestMonitors_PauseBindingSteth2022 binds the built-in peg-below to
// pause in the steth-2022 replay: the exit check that finds it firing
// pauses the vault instead of running (outcome paused, "paused by" the
// monitor, vault_paused 1), the vault keeps its stETH (a pause sells
// nothing), and no action trades while it stays paused.
func TestMonitors_PauseBindingSteth2022(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	strat := filepath.Join(dir, "lsts.yaml")
	if err := os.WriteFile(strat, []byte("name: lsts-no-exit\nbase: ETH\nuniverse: [lido/steth, rocketpool/reth]\nrules:\n  eligible: tvl > 0\n  score: 1\n"+
		"allocation: { method: proportional }\nconstraints: { idle: 0.02 }\nrebalance: { every: \"@daily\" }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgText := "state_db: state.db\ndurability: normal\nvaults:\n  - id: lst\n    strategy: " + strat + "\n    deposit: \"100\"\n    exit_check: \"0 */6 * * *\"\n" +
		"    monitors: { rules: [ { name: peg-below, action: pause } ] }\n"
	cfg := loadConfigIn(t, dir, cfgText)
	s, err := New(ctx, cfg, Options{Wall: time.Now, Clock: NewManualClock(time.Date(2022, 5, 1, 0, 0, 0, 0, time.UTC)), History: steth2022(t), Manual: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Advance(ctx, time.Date(2022, 6, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	ds, err := s.store.Decisions(ctx, "lst", 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	sort.SliceStable(ds, func(i, j int) bool { return ds[i].Time.Before(ds[j].Time) })
	var paused time.Time
	for _, d := range ds {
		if paused.IsZero() && d.Outcome == OutPaused && strings.Contains(d.Summary, "paused by") && strings.Contains(d.Summary, "peg-below") {
			paused = d.Time
			if d.Action != ActExitCheck {
				t.Errorf("the first pause was in a %s, want an exit check", d.Action)
			}
			continue
		}
		if !paused.IsZero() && d.Outcome == OutTraded {
			t.Errorf("%s: a %s traded while the vault was paused", d.Time, d.Action)
		}
	}
	if want := time.Date(2022, 5, 13, 18, 0, 0, 0, time.UTC); !paused.Equal(want) {
		t.Fatalf("the vault was paused by peg-below at %s, want %s (the exit check where it fires)", paused, want)
	}
	row, err := s.store.Vault(ctx, "lst")
	if err != nil {
		t.Fatal(err)
	}
	held := false
	for _, p := range row.State.Positions {
		held = held || (p.Market == "lido/steth" && p.Units.Sign() > 0)
	}
	if !row.Paused || !held {
		t.Errorf("vault paused %v, holds stETH %v; want paused and still holding its stETH", row.Paused, held)
	}
	if got := metricValue(t, s.metrics.Paused.WithLabelValues("lst")); got != 1 {
		t.Errorf("vault_paused %g, want 1", got)
	}
}
