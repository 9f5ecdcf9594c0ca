package backtest

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
	"github.com/yieldvault/yieldvault/adapters/history/synth"
	"github.com/yieldvault/yieldvault/strategies/rules"
	"github.com/yieldvault/yieldvault/vault/monitor"
)

// stethOnly holds stETH (98%) through the run, whatever the data says.
const stethOnly = `name: steth-only
base: ETH
universe: [lido/steth]
rules:
  eligible: "true"
  score: 1
allocation: { method: proportional }
constraints: { idle: 0.02 }
rebalance: { every: "@daily" }
`

// curveEthSide reads the Curve ETH/stETH pool's snapshots (time, ETH
// balance) from the shared data file, sorted by time.
func curveEthSide(t *testing.T) (ts []int64, eth []float64) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(sharedData(t, "curve-steth-pool-snapshots-2022"), "curve_steth_pool_snapshots.csv"))
	if err != nil {
		t.Fatal(err)
	}
	type snap struct {
		ts  int64
		eth float64
	}
	var snaps []snap
	for i, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		if i == 0 {
			continue
		}
		f := strings.Split(strings.TrimSpace(line), ",")
		at, err1 := strconv.ParseInt(f[1], 10, 64)
		b0, err2 := strconv.ParseFloat(f[3], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("line %d: %q", i+1, line)
		}
		snaps = append(snaps, snap{at, b0})
	}
	sort.Slice(snaps, func(i, j int) bool { return snaps[i].ts < snaps[j].ts })
	for _, s := range snaps {
		ts, eth = append(ts, s.ts), append(eth, s.eth)
	}
	return ts, eth
}

// TestMonitors_ExitLiquidityFalling replays stETH over the real Curve
// ETH/stETH pool snapshots of 2022 (the ETH side is lido/steth's
// exit_liquidity) with the built-in monitors. exit-liquidity-falling must
// fire exactly at the steps where the ETH side fell more than half over 7
// days, computed here from the raw file: the last snapshot at or before
// the step against the last one at or before 7 days earlier. That is the
// FTX week of November 2022 and no other; the monitor's basis quotes the
// figures checked here (the file's worst 7-day fall before November,
// -29.5%, and in it, -58.5%).
func TestMonitors_ExitLiquidityFalling(t *testing.T) {
	ts, eth := curveEthSide(t)
	at := func(u int64) int { return sort.Search(len(ts), func(k int) bool { return ts[k] > u }) - 1 }
	change := func(u int64) float64 {
		i, j := at(u), at(u-7*24*3600)
		if j < 0 {
			j = 0
		}
		return (eth[i] - eth[j]) / eth[j]
	}
	// The basis's figures, from the file.
	worstBefore, worst := 0.0, 0.0
	below := 0
	for _, u := range ts {
		c := change(u)
		if u < day("2022-11-01").Unix() {
			worstBefore = math.Min(worstBefore, c)
		}
		worst = math.Min(worst, c)
		if c < -0.5 {
			below++
		}
	}
	t.Logf("Curve ETH side over 7 days: worst %.4f before November 2022, %.4f in all; %d of %d snapshots below -50%%", worstBefore, worst, below, len(ts))
	if math.Round(worstBefore*1000) != -295 || math.Round(worst*1000) != -585 || below != 4 {
		t.Errorf("the basis of exit-liquidity-falling quotes -29.5%%, -58.5%% and 4 snapshots; the file gives %.4f, %.4f and %d", worstBefore, worst, below)
	}

	db := importFolders(t, "steth-usd-coingecko-hourly", "curve-steth-pool-snapshots-2022", "lido-steth-apy-defillama-daily")
	s, err := rules.Load("steth-only.yaml", []byte(stethOnly), adapters.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	from, to := day("2022-08-06"), day("2022-12-31")
	ctx := context.Background()
	w, err := Load(ctx, db, s, from, to, 0)
	if err != nil {
		t.Fatal(err)
	}
	c := &monitor.Compiler{Catalog: adapters.Builtin()}
	ms, err := c.Compile(monitor.File{}, s.Universe(), s.Base())
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(ctx, Spec{Strategy: s, Data: w, Monitors: ms, From: from, To: to, Step: 12 * time.Hour, Capital: decimal.NewFromInt(100), Source: "curve-2022"})
	if err != nil {
		t.Fatal(err)
	}
	var got []MonitorEvent
	for _, ev := range res.MonitorEvents {
		if ev.Monitor == "exit-liquidity-falling" {
			got = append(got, ev)
		}
	}
	type row struct {
		at     time.Time
		status string
		value  float64
	}
	var want []row
	firing := false
	for k, st := range res.Steps {

		if k > 0 && res.Steps[k-1].Values[0] <= 0 {
			t.Fatalf("%s: the vault holds no stETH", st.Time)
		}
		c := change(st.Time.Unix())
		switch {
		case !firing && c < -0.5:
			want, firing = append(want, row{st.Time, "firing", c}), true
		case firing && !(c < -0.5):
			want, firing = append(want, row{st.Time, "resolved", c}), false
		}
	}
	if len(want) == 0 {
		t.Fatal("the data has no step with the ETH side down more than half over 7 days")
	}
	if len(got) != len(want) {
		t.Fatalf("exit-liquidity-falling rows %+v, want %+v", got, want)
	}
	for i := range want {
		g := got[i]
		if g.Market != "lido/steth" || g.Status != want[i].status || !g.Time.Equal(want[i].at) {
			t.Errorf("row %d: %s %s %s, want %s %s", i, g.Time, g.Market, g.Status, want[i].at, want[i].status)
		}
		if g.Status == "firing" {
			v, err := strconv.ParseFloat(g.Value, 64)
			if err != nil || math.Abs(v-want[i].value) > 1e-6 || g.Threshold != "-0.5" {
				t.Errorf("row %d: value %q against %q, want %.6g against -0.5 (6 digits)", i, g.Value, g.Threshold, want[i].value)
			}
		}
		t.Logf("%s %s (7-day change of the ETH side %.4f)", want[i].at.Format(time.DateTime), want[i].status, want[i].value)
	}
}

// TestMonitors_ExitTimeRising holds stETH restaked in EigenLayer over a
// synthetic history through 2025-04-17, when EigenLayer's withdrawal
// escrow went from 7 to 14 days (the builtin profile's dated escrow_days,
// which the history's withdrawal_days carries). exit-time-rising must
// fire exactly at the steps where withdrawal_days rose more than 50% over
// 7 days, computed here from the rows: the latest row at or before the
// step against the latest at or before 7 days earlier; that is the week
// after the change, and it fires on the change's first step.
func TestMonitors_ExitTimeRising(t *testing.T) {
	ctx := context.Background()
	cat := adapters.Builtin()
	m, err := cat.Market("eigenlayer/steth")
	if err != nil {
		t.Fatal(err)
	}
	from, to := day("2025-03-20"), day("2025-05-20")
	b, err := synth.Generate(synth.Config{From: from.Add(-30 * 24 * time.Hour), To: to, Step: 6 * time.Hour, Seed: 3, Markets: []adapters.Market{m}})
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
	s, err := rules.Load("restaked.yaml", []byte(strings.ReplaceAll(stethOnly, "lido/steth", "eigenlayer/steth")), cat)
	if err != nil {
		t.Fatal(err)
	}
	w, err := Load(ctx, db, s, from, to, 0)
	if err != nil {
		t.Fatal(err)
	}
	c := &monitor.Compiler{Catalog: cat}
	ms, err := c.Compile(monitor.File{}, s.Universe(), s.Base())
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(ctx, Spec{Strategy: s, Data: w, Monitors: ms, From: from, To: to, Step: 12 * time.Hour, Capital: decimal.NewFromInt(100), Source: "synth"})
	if err != nil {
		t.Fatal(err)
	}
	ser := w.Get("eigenlayer/steth")
	days := func(u int64) float64 {
		r := sort.Search(len(ser.Times), func(k int) bool { return ser.Times[k] > u }) - 1
		o := ser.At(r)
		v, ok := o.Get(adapters.FieldWithdrawalDays)
		if !ok {
			t.Fatalf("%s: no withdrawal_days", time.Unix(u, 0).UTC())
		}
		return v
	}
	if d0, d1 := days(day("2025-04-16").Unix()), days(day("2025-04-17").Unix()); d0 != 7 || d1 != 14 {
		t.Fatalf("withdrawal_days %g on 2025-04-16 and %g on 2025-04-17, want EigenLayer's escrow 7 then 14", d0, d1)
	}
	type row struct {
		at     time.Time
		status string
	}
	var want []row
	firing := false
	for k, st := range res.Steps {
		if k > 0 && res.Steps[k-1].Values[0] <= 0 {
			t.Fatalf("%s: the vault holds none", st.Time)
		}
		u := st.Time.Unix()
		ch := (days(u) - days(u-7*24*3600)) / days(u-7*24*3600)
		switch {
		case !firing && ch > 0.5:
			want, firing = append(want, row{st.Time, "firing"}), true
		case firing && !(ch > 0.5):
			want, firing = append(want, row{st.Time, "resolved"}), false
		}
	}
	var got []row
	for _, ev := range res.MonitorEvents {
		if ev.Monitor == "exit-time-rising" {
			if ev.Market != "eigenlayer/steth" {
				t.Errorf("exit-time-rising on %s", ev.Market)
			}
			if ev.Status == "firing" && (ev.Value != "1" || ev.Threshold != "0.5") {
				t.Errorf("firing value %q against %q, want 1 (7 -> 14 days) against 0.5", ev.Value, ev.Threshold)
			}
			got = append(got, row{ev.Time, ev.Status})
		}
	}
	if len(want) != 2 || !want[0].at.Equal(day("2025-04-17")) {
		t.Fatalf("test data: expected firing %+v, want one episode from 2025-04-17", want)
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("exit-time-rising rows %+v, want %+v", got, want)
	}
	t.Logf("exit-time-rising fired %s, resolved %s", got[0].at, got[1].at)
}
