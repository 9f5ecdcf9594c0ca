package backtest

import (
	"bytes"
	"context"
	"encoding/csv"
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

// lstsNoExit is a strategy of LSTs without an exit rule that keeps stETH
// eligible whatever its peg: only a monitor can take the vault out.
const lstsNoExit = `name: lsts-no-exit
base: ETH
universe: [lido/steth, rocketpool/reth]
rules:
  eligible: tvl > 0
  score: 1
allocation: { method: proportional }
constraints: { idle: 0.02 }
rebalance: { every: "@daily" }
`

// steth2022Window is the steth-2022 scenario (synth) from April to July
// 2022 at 6-hour steps, loaded for the strategy's universe.
func steth2022Window(t *testing.T, s *rules.Strategy) *adapters.Window {
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
	w, err := Load(ctx, db, s, time.Date(2022, 5, 1, 0, 0, 0, 0, time.UTC), time.Date(2022, 7, 31, 0, 0, 0, 0, time.UTC), 0)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// runScenarioMonitors parses the scenario text (named name) and runs it
// with the built-in monitors of a vault of base asset base.
func runScenarioMonitors(t *testing.T, name, text string, base adapters.Asset) (*Scenario, *Result) {
	t.Helper()
	sc, err := ParseScenario(name, []byte(text), adapters.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	c := &monitor.Compiler{Catalog: sc.Spec.Catalog}
	ms, err := c.Compile(monitor.File{}, sc.Markets, base)
	if err != nil {
		t.Fatal(err)
	}
	spec := sc.Spec
	spec.Monitors = ms
	res, err := Run(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	return sc, res
}

// runSteth2022 runs lstsNoExit over the steth-2022 replay with the
// monitors of f.
func runSteth2022(t *testing.T, f monitor.File) *Result {
	t.Helper()
	s, err := rules.Load("lsts.yaml", []byte(lstsNoExit), adapters.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	w := steth2022Window(t, s)
	c := &monitor.Compiler{Catalog: adapters.Builtin()}
	ms, err := c.Compile(f, s.Universe(), s.Base())
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Spec{Strategy: s, Data: w, Monitors: ms, From: time.Date(2022, 5, 1, 0, 0, 0, 0, time.UTC),
		To: time.Date(2022, 7, 31, 0, 0, 0, 0, time.UTC), Capital: decimal.NewFromInt(100), Source: "steth-2022"})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// pegAvg6h is the built-in peg monitor's avg(peg, "6h") of a market at t,
// computed from the series: the mean peg of the rows in (t - 6h, t].
func pegAvg6h(t *testing.T, w *adapters.Window, id string, at time.Time) float64 {
	t.Helper()
	ser := w.Get(id)
	basis := adapters.PegBasisOf(ser.Market.Kind, true)
	var sum float64
	n := 0
	for r := range ser.Times {
		if ser.Times[r] > at.Add(-6*time.Hour).Unix() && ser.Times[r] <= at.Unix() {
			o := ser.At(r)
			p, ok := o.Peg(basis)
			if !ok {
				t.Fatalf("%s at %s: no peg", id, time.Unix(ser.Times[r], 0).UTC())
			}
			sum += p
			n++
		}
	}
	if n == 0 {
		t.Fatalf("%s: no row in the 6 hours to %s", id, at)
	}
	return sum / float64(n)
}

// TestMonitors_Steth2022 replays the steth-2022 scenario with the
// built-in peg monitor alert-only and bound to exit. Alert-only, it fires
// on stETH (monitors.csv, summary, console line) and the vault keeps its
// stETH; bound to exit, the vault sells all its stETH at the step the
// monitor fires, through an exit decision, and buys none while it fires.
func TestMonitors_Steth2022(t *testing.T) {
	alert := runSteth2022(t, monitor.File{})
	exit := runSteth2022(t, monitor.File{Rules: []monitor.Rule{{Name: "peg-below", Action: monitor.Exit}}})

	first := func(r *Result) (MonitorEvent, time.Time) {
		t.Helper()
		var fired MonitorEvent
		var resolved time.Time
		for _, ev := range r.MonitorEvents {
			if ev.Monitor != "peg-below" || ev.Market != "lido/steth" {
				continue
			}
			if ev.Status == "firing" && fired.Time.IsZero() {
				fired = ev
			}
			if ev.Status == "resolved" && !fired.Time.IsZero() && resolved.IsZero() {
				resolved = ev.Time
			}
		}
		if fired.Time.IsZero() {
			t.Fatal("peg-below never fired on lido/steth in the steth-2022 replay")
		}
		return fired, resolved
	}
	af, _ := first(alert)
	ef, eResolved := first(exit)
	t.Logf("alert-only: peg-below fired %s (value %s < %s); bound to exit: fired %s, resolved %s", af.Time, af.Value, af.Threshold, ef.Time, eResolved)
	if !af.Time.Equal(ef.Time) {
		t.Errorf("peg-below fired at %s alert-only and %s bound to exit: the binding must not move the firing", af.Time, ef.Time)
	}
	// The firing row's value is the condition's avg(peg, "6h"), computed
	// here from the data, below 0.98; the step before it was not.
	s, _ := rules.Load("lsts.yaml", []byte(lstsNoExit), adapters.Builtin())
	w := steth2022Window(t, s)
	want := pegAvg6h(t, w, "lido/steth", af.Time)
	got, err := strconv.ParseFloat(af.Value, 64)
	if err != nil || af.Threshold != "0.98" || !(want < 0.98) || mathAbs(got-want) > 1e-6 {
		t.Errorf("firing row value %q threshold %q, want avg(peg, 6h) = %.9f (to 6 digits) < 0.98 (err %v)", af.Value, af.Threshold, want, err)
	}
	if prev := pegAvg6h(t, w, "lido/steth", af.Time.Add(-6*time.Hour)); prev < 0.98 {
		t.Errorf("avg(peg, 6h) was already %.6f < 0.98 at the step before the first firing (%s)", prev, af.Time)
	}

	// Counts.
	stat := func(r *Result) MonitorStat {
		for _, m := range r.Monitors {
			if m.Name == "peg-below" {
				return m
			}
		}
		t.Fatal("no peg-below in Result.Monitors")
		return MonitorStat{}
	}
	if st := stat(alert); st.Fired < 1 || !st.First.Equal(af.Time) || st.Action != monitor.Alert || len(st.Markets) == 0 || st.Markets[0] != "lido/steth" {
		t.Errorf("alert-only peg-below stats %+v, want fired >= 1 first %s on lido/steth, action alert", st, af.Time)
	}
	if st := stat(exit); st.Action != monitor.Exit {
		t.Errorf("bound peg-below action %q, want exit", st.Action)
	}
	if c := MonitorCounts(alert); !strings.Contains(c, "peg-below fired") {
		t.Errorf("console line %q does not say peg-below fired", c)
	}

	// Alert-only: stETH is still held after the firing.
	stethAt := func(r *Result, at time.Time) float64 {
		for _, st := range r.Steps {
			if st.Time.Equal(at) {
				return st.Values[0]
			}
		}
		t.Fatalf("no step at %s", at)
		return 0
	}
	if v := stethAt(alert, af.Time); v <= 0 {
		t.Errorf("alert-only: stETH value %g at the firing, want still held", v)
	}
	// Bound to exit: all of it sold at the firing step by an exit, none
	// bought until the monitor resolved.
	if v := stethAt(exit, ef.Time); v != 0 {
		t.Errorf("bound to exit: stETH value %g at the step the monitor fired, want 0", v)
	}
	soldAll := false
	for _, d := range exit.Decisions {
		for _, o := range d.Orders {
			if o.Market != "lido/steth" {
				continue
			}
			if d.Time.Equal(ef.Time) && o.Side == "sell" && o.All {
				soldAll = true
			}
			if o.Side == "buy" && !d.Time.Before(ef.Time) && (eResolved.IsZero() || d.Time.Before(eResolved)) {
				t.Errorf("bought stETH at %s while peg-below fired", d.Time)
			}
		}
	}
	if !soldAll {
		t.Errorf("no decision sold all the stETH at %s", ef.Time)
	}
	for _, st := range exit.Steps {
		if !st.Time.Before(ef.Time) && (eResolved.IsZero() || st.Time.Before(eResolved)) && st.Values[0] != 0 {
			t.Errorf("bound to exit: stETH value %g at %s while the monitor fired", st.Values[0], st.Time)
			break
		}
	}

	// monitors.csv holds the rows.
	var buf bytes.Buffer
	if err := WriteMonitorsCSV(&buf, exit); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(exit.MonitorEvents)+1 || strings.Join(recs[0], ",") != "time,monitor,market,status,value,threshold,action,severity,when" {
		t.Fatalf("monitors.csv: %d rows, header %v; want %d rows", len(recs), recs[0], len(exit.MonitorEvents)+1)
	}
	found := false
	for _, r := range recs[1:] {
		if r[1] == "peg-below" && r[2] == "lido/steth" && r[3] == "firing" && r[6] == "exit" && r[0] == ef.Time.Format(time.RFC3339) {
			found = true
		}
	}
	if !found {
		t.Errorf("monitors.csv has no firing row of peg-below on lido/steth at %s bound to exit: %v", ef.Time, recs)
	}
}

// TestMonitors_PauseBinding binds the peg monitor to pause: the vault
// stops trading at the step it fires for the rest of the run, and the
// run says so.
func TestMonitors_PauseBinding(t *testing.T) {
	res := runSteth2022(t, monitor.File{Rules: []monitor.Rule{{Name: "peg-below", Action: monitor.Pause}}})
	if res.Paused == nil {
		t.Fatal("the vault was not paused")
	}
	at := res.Paused.Time
	for _, d := range res.Decisions {
		if !d.Time.Before(at) {
			t.Errorf("a decision at %s after the pause at %s", d.Time, at)
		}
	}
	for _, e := range res.Ledger {
		if e.Time.After(at) && e.Type != "event" {
			t.Errorf("a %s ledger entry at %s after the pause at %s", e.Type, e.Time, at)
		}
	}
	warned := false
	for _, w := range res.Warnings {
		warned = warned || strings.Contains(w, "paused")
	}
	if !warned || !strings.Contains(res.Paused.By, "peg-below") {
		t.Errorf("pause %+v, warnings %v: want peg-below named and a warning", res.Paused, res.Warnings)
	}
}

func mathAbs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestMonitors_Report checks report.html's monitors table and the
// equity chart's marker at the step peg-below fired.
func TestMonitors_Report(t *testing.T) {
	res := runSteth2022(t, monitor.File{Rules: []monitor.Rule{{Name: "peg-below", Action: monitor.Exit}}})
	var buf bytes.Buffer
	if err := WriteReport(&buf, res, ReportOptions{}); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	var fired MonitorEvent
	for _, ev := range res.MonitorEvents {
		if ev.Status == "firing" {
			fired = ev
			break
		}
	}
	for _, want := range []string{
		`<table id="monitors">`,
		`<td class="l">peg-below</td>`,
		`<table id="monitor-events">`,
		`<tr><td>` + formatDateTime(fired.Time) + `</td><td class="l">peg-below</td><td class="l">lido/steth</td><td class="l">firing</td><td>` + fired.Value + `</td><td>0.98</td><td class="l">exit</td></tr>`,
		`class="monitor"><title>` + formatDateTime(fired.Time) + `: peg-below fires on lido/steth (` + fired.Value + ` against 0.98) -&gt; exit</title></line>`,
		`risk monitor fired`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("report.html lacks %s", want)
		}
	}
}

// TestMonitors_OwnPosition checks that the built-in exit-liquidity-thin
// reads the vault's own position: on the steth-2022 replay it fires on
// stETH for a 1,000,000 ETH vault and never for a 100 ETH one, and its
// firing row's value is the price impact of selling the whole holding
// into the observed depth, holding / (exit_liquidity + holding), computed
// here from the step's stETH value and the data.
func TestMonitors_OwnPosition(t *testing.T) {
	s, err := rules.Load("lsts.yaml", []byte(lstsNoExit), adapters.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	w := steth2022Window(t, s)
	c := &monitor.Compiler{Catalog: adapters.Builtin()}
	ms, err := c.Compile(monitor.File{}, s.Universe(), s.Base())
	if err != nil {
		t.Fatal(err)
	}
	run := func(capital int64) *Result {
		res, err := Run(context.Background(), Spec{Strategy: s, Data: w, Monitors: ms, From: time.Date(2022, 5, 1, 0, 0, 0, 0, time.UTC),
			To: time.Date(2022, 7, 31, 0, 0, 0, 0, time.UTC), Capital: decimal.NewFromInt(capital), Source: "steth-2022"})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	small, big := run(100), run(1000000)
	for _, ev := range small.MonitorEvents {
		if ev.Monitor == "exit-liquidity-thin" {
			t.Fatalf("exit-liquidity-thin fired for the 100 ETH vault: %+v", ev)
		}
	}
	var ev MonitorEvent
	for _, e := range big.MonitorEvents {
		if e.Monitor == "exit-liquidity-thin" && e.Market == "lido/steth" && e.Status == "firing" {
			ev = e
			break
		}
	}
	if ev.Time.IsZero() {
		t.Fatal("exit-liquidity-thin never fired on stETH for the 1,000,000 ETH vault")
	}
	var holding float64
	for _, st := range big.Steps {
		if st.Time.Equal(ev.Time) {
			holding = st.Values[0]
		}
	}
	ser := w.Get("lido/steth")
	o := ser.At(ser.Index(ev.Time.Unix()))
	liq, ok := o.Get(adapters.FieldExitLiquidity)
	if !ok {
		t.Fatal("no observed exit liquidity for stETH")
	}
	want := holding / (liq + holding)
	got, err := strconv.ParseFloat(ev.Value, 64)
	if err != nil || ev.Threshold != "0.02" || mathAbs(got-want) > 1e-5*want {
		t.Errorf("exit-liquidity-thin at %s: value %q threshold %q, want holding %g / (depth %g + holding) = %.6g against 0.02", ev.Time, ev.Value, ev.Threshold, holding, liq, want)
	}
	t.Logf("exit-liquidity-thin fired %s: holding %.0f ETH of stETH, depth %.0f, impact %s", ev.Time, holding, liq, ev.Value)
}

// hfScenario is a 4x weETH/WETH loop whose oracle prices weETH at its
// market price, with the price falling from the rate (1.05) to 0.88 and
// back: at 4x the health factor is 0.95 x 4 / 3 x price / 1.05
// (collateral 400 at the oracle's price x the liquidation threshold 95%
// over the debt 300), 1.0616 at 0.88.
const hfScenario = `catalog loop_catalog.yaml
load aave-v3/weeth-market-oracle-loop 1d from=2025-06-01
  exchange_rate 1.05x11
  price 1.05x3 0.95 0.90 0.88 0.90 1.05x4
  liquidity_index 1x11
  apy 0x11
  borrow_apy 0x11
set gas=0
strategy rules
  name: lrt-loop
  base: ETH
  universe: [aave-v3/weeth-market-oracle-loop]
  rules:
    leverage: 4
    score: 1.0
  constraints: { idle: 0 }
  rebalance: { every: "@daily", when: "idle > 0.5 * nav" }
run from=2025-06-01 to=+10d capital=100
`

// TestMonitors_HealthFactor checks the built-in health-factor-low on a
// loop: it fires on the step the health factor, computed here from the
// price, falls below 1.075 (0.88: 1.0616; not at 0.90: 1.0857), with that
// value, and resolves when the price recovers.
func TestMonitors_HealthFactor(t *testing.T) {
	_, res := runScenarioMonitors(t, "testdata/scenarios/hf_monitor.txt", hfScenario, adapters.ETH)
	var rows []MonitorEvent
	for _, ev := range res.MonitorEvents {
		if ev.Monitor == "health-factor-low" {
			rows = append(rows, ev)
		}
	}
	day := func(n int) time.Time { return time.Date(2025, 6, 1+n, 0, 0, 0, 0, time.UTC) }
	if len(rows) != 2 || rows[0].Status != "firing" || !rows[0].Time.Equal(day(5)) || rows[1].Status != "resolved" || !rows[1].Time.Equal(day(6)) {
		t.Fatalf("health-factor-low rows %+v, want firing on %s and resolved on %s", rows, day(5), day(6))
	}
	want := 0.95 * 4 / 3 * 0.88 / 1.05
	got, err := strconv.ParseFloat(rows[0].Value, 64)
	if err != nil || rows[0].Threshold != "1.075" || mathAbs(got-want) > 1e-5 {
		t.Errorf("firing value %q threshold %q, want the health factor 0.95 x 4/3 x 0.88/1.05 = %.6f against 1.075", rows[0].Value, rows[0].Threshold, want)
	}
}

// staleScenario holds Aave USDC beside Compound USDC; both have no rows
// for five days from 2024-01-11 (the source stopped and came back), and
// the engine steps daily through the gap (their last rows carry on).
const staleScenario = `load aave-v3/usdc 1d
  apy 0.05x10 _x5 0.05x15
load compound-v3/usdc 1d
  apy 0.03x10 _x5 0.03x15
set gas=0
strategy hold aave-v3/usdc
run from=2024-01-01 to=+29d capital=1000 step=1d
`

// TestMonitors_DataStale checks the built-in data-stale on a history with
// a gap: it fires on the held market only (Aave USDC, not Compound USDC,
// whose data stopped at the same time), at the first step whose data is
// more than 72 hours old, computed here from the rows' times, with that
// age as its value, and resolves at the first step with a new row.
func TestMonitors_DataStale(t *testing.T) {
	sc, res := runScenarioMonitors(t, "testdata/scenarios/data_stale.txt", staleScenario, adapters.USD)
	var rows []MonitorEvent
	for _, ev := range res.MonitorEvents {
		if ev.Monitor == "data-stale" {
			rows = append(rows, ev)
		}
	}
	// The expected times from the data: the first daily step more than
	// 72 hours after the latest row at or before it, and the first step
	// after that with a row of its own.
	ser := sc.Window.Get("aave-v3/usdc")
	var fire, resolve time.Time
	var age float64
	for _, st := range res.Steps {
		last := time.Unix(ser.Times[ser.Index(st.Time.Unix())], 0)
		a := st.Time.Sub(last).Hours()
		if fire.IsZero() && a > 72 {
			fire, age = st.Time, a
		}
		if !fire.IsZero() && resolve.IsZero() && a == 0 {
			resolve = st.Time
		}
	}
	if fire.IsZero() || resolve.IsZero() {
		t.Fatal("test data: no stale step")
	}
	t.Logf("data-stale fired %s (data %g hours old), resolved %s", fire, age, resolve)
	if len(rows) != 2 || rows[0].Market != "aave-v3/usdc" || rows[0].Status != "firing" || !rows[0].Time.Equal(fire) ||
		rows[1].Status != "resolved" || !rows[1].Time.Equal(resolve) {
		t.Fatalf("data-stale rows %+v, want firing on aave-v3/usdc only at %s and resolved at %s", rows, fire, resolve)
	}
	if got, err := strconv.ParseFloat(rows[0].Value, 64); err != nil || got != age || rows[0].Threshold != "72" {
		t.Errorf("firing value %q threshold %q, want the data's age %g hours against 72", rows[0].Value, rows[0].Threshold, age)
	}
	for _, m := range res.Monitors {
		if m.Name == "data-stale" && (m.Fired != 1 || len(m.Markets) != 1) {
			t.Errorf("data-stale stats %+v, want fired once on one market", m)
		}
	}
}

// oracleGapScenario is a 5x wstETH/WETH loop on Morpho Blue, whose oracle
// prices wstETH at its exchange rate (1.17 ETH): its market price falls
// 1.5% below the rate (day 3), 3% (day 4), to stETH's June 2022 low of
// 0.9306 (day 5), and recovers (day 6). The health factor, 0.945 x 5/4 =
// 1.18 at the oracle's price, does not move, so nothing is liquidated.
const oracleGapScenario = `load morpho/wsteth-weth-loop 1d from=2025-06-01
  exchange_rate 1.17x9
  price 1.17x3 1.15245 1.1349 1.088802 1.17x3
  apy 0x9
  borrow_apy 0x9
set gas=0
strategy rules
  name: loop
  base: ETH
  universe: [morpho/wsteth-weth-loop]
  rules:
    leverage: 5
    score: 1.0
  constraints: { idle: 0 }
  rebalance: { every: "@daily", when: "idle > 0.5 * nav" }
run from=2025-06-01 to=+8d capital=100
`

// TestMonitors_OracleGap checks the built-in oracle-gap on a loop whose
// oracle is the exchange rate: it fires when the collateral's market price
// is more than 2% below the rate (day 4, not day 3's 1.5%), with the gap
// price / rate - 1 computed here as its value, stays quiet in
// health-factor-low (the oracle does not see the discount), and resolves
// when the price recovers.
func TestMonitors_OracleGap(t *testing.T) {
	_, res := runScenarioMonitors(t, "testdata/scenarios/oracle_gap.txt", oracleGapScenario, adapters.ETH)
	var rows []MonitorEvent
	for _, ev := range res.MonitorEvents {
		switch ev.Monitor {
		case "oracle-gap":
			rows = append(rows, ev)
		case "health-factor-low":
			t.Errorf("health-factor-low fired: %+v (the exchange-rate oracle does not see the discount)", ev)
		}
	}
	day := func(n int) time.Time { return time.Date(2025, 6, 1+n, 0, 0, 0, 0, time.UTC) }
	if len(rows) != 2 || rows[0].Status != "firing" || !rows[0].Time.Equal(day(4)) || rows[1].Status != "resolved" || !rows[1].Time.Equal(day(6)) {
		t.Fatalf("oracle-gap rows %+v, want firing on %s and resolved on %s", rows, day(4), day(6))
	}
	want := 1.1349/1.17 - 1
	got, err := strconv.ParseFloat(rows[0].Value, 64)
	if err != nil || rows[0].Threshold != "-0.02" || mathAbs(got-want) > 1e-6 {
		t.Errorf("firing value %q threshold %q, want the gap 1.1349/1.17 - 1 = %.6f against -0.02", rows[0].Value, rows[0].Threshold, want)
	}
	if res.Metrics.Liquidations != 0 {
		t.Errorf("%d liquidations, want none: the oracle is the exchange rate", res.Metrics.Liquidations)
	}
}
