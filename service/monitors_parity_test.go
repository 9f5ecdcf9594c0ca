package service

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/backtest"
)

// TestMonitors_ServiceBacktestParity replays the steth-2022 scenario in
// the service (an exit check every 6 hours, on 6-hourly data) and in the
// backtest (a step per row) with the same monitors: every built-in, and
// peg-below bound to exit. After each 6-hour step the monitors firing in
// the service (its persisted episodes) and in the backtest (its
// monitors.csv rows up to then) are the same monitors on the same
// markets, and both vaults are out of stETH while peg-below fires. A
// second vault of 1,000,000 ETH holds more stETH and rETH than their exit
// depth: the monitors reading the vault's own position fire on it, in
// both, and not on the small vault.
func TestMonitors_ServiceBacktestParity(t *testing.T) {
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
	// Two vaults: 100 ETH, and 1,000,000 ETH whose stETH holding is
	// larger than stETH's exit depth, so that the monitors reading the
	// vault's own position (exit-liquidity-thin, withdrawal-queue-long)
	// fire on it alone.
	cfgText := "state_db: state.db\ndurability: normal\nvaults:\n" +
		"  - id: lst\n    strategy: " + strat + "\n    deposit: \"100\"\n    exit_check: \"0 */6 * * *\"\n" +
		"    monitors: { rules: [ { name: peg-below, action: exit } ] }\n" +
		"  - id: big\n    strategy: " + strat + "\n    deposit: \"1000000\"\n    exit_check: \"0 */6 * * *\"\n"
	cfg := loadConfigIn(t, dir, cfgText)
	start, end := time.Date(2022, 5, 1, 0, 0, 0, 0, time.UTC), time.Date(2022, 7, 31, 0, 0, 0, 0, time.UTC)
	hist := steth2022(t)
	ctx := context.Background()

	// The backtests, with the service's own compiled monitors.
	type run struct {
		id       string
		res      *backtest.Result
		held     map[time.Time]bool
		firingBT map[string][]string
		next     int
		fired    map[string]int
	}
	var runs []*run
	for _, vs := range cfg.Vaults {
		w, err := backtest.Load(ctx, hist, vs.Strategy, start, end, 0)
		if err != nil {
			t.Fatal(err)
		}
		res, err := backtest.Run(ctx, backtest.Spec{Strategy: vs.Strategy, Data: w, Monitors: vs.Monitors, From: start, To: end,
			Capital: vs.Deposit, Source: "steth-2022"})
		if err != nil {
			t.Fatal(err)
		}
		r := &run{id: vs.ID, res: res, held: map[time.Time]bool{}, firingBT: map[string][]string{}, fired: map[string]int{}}
		for _, st := range res.Steps {
			r.held[st.Time] = st.Values[0] > 0
		}
		runs = append(runs, r)
	}

	s, err := New(ctx, cfg, Options{Wall: time.Now, Clock: NewManualClock(start), History: hist, Manual: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mismatches := 0
	for at := start.Add(6 * time.Hour); !at.After(end); at = at.Add(6 * time.Hour) {
		if _, err := s.Advance(ctx, at); err != nil {
			t.Fatal(err)
		}
		for _, r := range runs {
			for ; r.next < len(r.res.MonitorEvents) && !r.res.MonitorEvents[r.next].Time.After(at); r.next++ {
				ev := r.res.MonitorEvents[r.next]
				if ev.Status == "firing" {
					r.firingBT[ev.Monitor] = append(r.firingBT[ev.Monitor], ev.Market)
				} else {
					r.firingBT[ev.Monitor] = slices.DeleteFunc(r.firingBT[ev.Monitor], func(m string) bool { return m == ev.Market })
					if len(r.firingBT[ev.Monitor]) == 0 {
						delete(r.firingBT, ev.Monitor)
					}
				}
			}
			svc := map[string][]string{}
			for _, f := range s.vaults[r.id].alerts.List() {
				svc[f.Monitor] = slices.Clone(f.Markets)
				r.fired[f.Monitor]++
			}
			// The backtest allocates at its start, the service at its first
			// rebalance tick (2022-05-02 00:00, after the monitors of that
			// action): positions, and the monitors reading them, agree from
			// the step after.
			if !at.After(start.Add(24 * time.Hour)) {
				continue
			}
			if got, want := describeFiring(r.firingBT), describeFiring(svc); got != want {
				mismatches++
				if mismatches <= 5 {
					t.Errorf("vault %s at %s: the backtest's monitors fire on %s, the service's on %s", r.id, at, got, want)
				}
			}
			if _, ok := svc["peg-below"]; ok && r.id == "lst" && r.held[at] {
				t.Errorf("at %s peg-below fires (bound to exit) and the backtest vault still holds stETH", at)
			}
		}
	}
	t.Logf("6-hour steps firing, 100 ETH vault: %v; 1,000,000 ETH vault: %v; %d mismatches", runs[0].fired, runs[1].fired, mismatches)
	fired := runs[0].fired["peg-below"]
	if fired == 0 {
		t.Fatal("peg-below never fired in the service")
	}
	// The position monitors fire on the big vault's stETH, not the small one's.
	if runs[1].fired["exit-liquidity-thin"] == 0 || runs[0].fired["exit-liquidity-thin"] != 0 {
		t.Errorf("exit-liquidity-thin fired at %d steps for 1,000,000 ETH and %d for 100 ETH; want some and none", runs[1].fired["exit-liquidity-thin"], runs[0].fired["exit-liquidity-thin"])
	}
}

// describeFiring is firing monitors with their sorted markets, sorted.
func describeFiring(m map[string][]string) string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(m)) {
		ms := slices.Clone(m[name])
		slices.Sort(ms)
		parts = append(parts, fmt.Sprintf("%s[%s]", name, strings.Join(ms, ",")))
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, " ")
}
