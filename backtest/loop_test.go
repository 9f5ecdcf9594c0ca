package backtest

import (
	"context"
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies/rules"
	"github.com/yieldvault/yieldvault/vault"
)

// csvColumns reads named columns of a CSV file, keyed by the value of
// column key.
func csvColumns(t *testing.T, path, key string, names ...string) map[string][]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	out := map[string][]float64{}
	for _, r := range recs[1:] {
		var vals []float64
		for _, n := range names {
			v, err := strconv.ParseFloat(r[col[n]], 64)
			if err != nil {
				t.Fatalf("%s: %s = %q: %v", path, n, r[col[n]], err)
			}
			vals = append(vals, v)
		}
		out[r[col[key]]] = vals
	}
	return out
}

func loadLoopExample(t *testing.T, params map[string]float64) *rules.Strategy {
	t.Helper()
	path := filepath.Join("..", "examples", "strategies", "aave-wsteth-loop.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := rules.Load(path, data, adapters.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	if params != nil {
		if s, err = s.WithParams(params); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// TestRealData_LoopHeldGrowsAsIndexes: the example wstETH/WETH loop with
// relever=false on the real AaveScan files (2024-05-12..2025-09-29): once
// opened, the loop's value is, at every day, its collateral units x the
// Aave oracle's wstETH/WETH price ratio x wstETH's liquidityIndex less its
// scaled debt x WETH's variableBorrowIndex, all read here from the files
// (1e-9 relative). The units and scaled debt are fixed by the entry:
// collateral = 3 x the equity after the route's costs, shown separately.
func TestRealData_LoopHeldGrowsAsIndexes(t *testing.T) {
	const folder = "aave-v3-eth-weth-wsteth-weeth-usdt-aavescan-daily"
	db := importFolder(t, folder)
	dir := sharedData(t, folder)
	coll := csvColumns(t, filepath.Join(dir, "aave_v3_aave-v3-ethereum_wstETH_rates_2024-05-12_2025-09-18.csv"), "timestamp", "liquidityIndex", "price")
	debt := csvColumns(t, filepath.Join(dir, "aave_v3_aave-v3-ethereum_WETH_rates_2024-01-01_2025-09-18.csv"), "timestamp", "variableBorrowIndex", "price")
	ctx := context.Background()
	s := loadLoopExample(t, map[string]float64{"relever": 0})
	w, err := Load(ctx, db, s, time.Time{}, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(ctx, Spec{Strategy: s, Data: w, Capital: decimal.NewFromInt(100), GasPrice: 20, Source: folder})
	if err != nil {
		t.Fatal(err)
	}
	var buy *vault.Entry
	for i := range res.Ledger {
		e := &res.Ledger[i]
		switch e.Type {
		case vault.EntryBuy:
			if buy != nil {
				t.Fatalf("a second buy at %s: relever=false trades once", e.Time)
			}
			buy = e
		case vault.EntrySell, vault.EntryRelever, vault.EntryLiquidation:
			t.Fatalf("%s at %s: relever=false must not trade again (%s)", e.Type, e.Time, e.Reason)
		}
	}
	if buy == nil {
		t.Fatal("the loop was never opened")
	}
	state := func(at time.Time) (ratio, liq, bidx float64) {
		k := strconv.FormatInt(at.Unix(), 10)
		c, d := coll[k], debt[k]
		if c == nil || d == nil {
			t.Fatalf("no file row at %s", at)
		}
		return c[1] / d[1], c[0], d[0]
	}
	r0, l0, b0 := state(buy.Time)
	cost := buy.Gas.Add(buy.Slippage).Add(buy.Fee).InexactFloat64()
	equity := buy.Amount.InexactFloat64() - cost
	units, scaled := 3*equity/(r0*l0), 2*equity/b0
	t.Logf("opened %s: %g ETH, entry costs %g (%s)", buy.Time.Format(time.DateOnly), buy.Amount.InexactFloat64(), cost, buy.Reason)
	n, worst := 0, 0.0
	var last float64
	for _, st := range res.Steps {
		if st.Time.Before(buy.Time) {
			continue
		}
		r, l, b := state(st.Time)
		want := units*r*l - scaled*b
		got := st.NAV.Decimal().Sub(st.Idle).InexactFloat64()
		if d := math.Abs(got/want - 1); d > worst {
			worst = d
		}
		if d := math.Abs(got/want - 1); d > 1e-9 {
			t.Errorf("%s: loop value %.12f, want units x ratio x liquidityIndex - debt x variableBorrowIndex = %.12f (rel %.3g)", st.Time.Format(time.DateOnly), got, want, d)
			if n++; n > 5 {
				t.FailNow()
			}
		}
		last = got
	}
	t.Logf("%d days, worst relative difference %.3g; loop value %.6f -> %.6f ETH", len(res.Steps), worst, equity, last)
}

// TestLoopSeries: the borrow-spike scenario's run records its loop's
// leverage, health factor and distance to liquidation at every step: the
// health factor at open is 0.95 x 13/12, it falls while the debt grows at
// 22.6% against the collateral's 3%, and the report's health chart names
// the liquidation; equity.csv carries the three columns.
func TestLoopSeries(t *testing.T) {
	sc, err := ParseScenarioFile(filepath.Join("testdata", "scenarios", "loop_borrow_spike.txt"), nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), sc.Spec)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.LoopMarkets; len(got) != 1 || got[0] != "aave-v3/wsteth-loop" {
		t.Fatalf("LoopMarkets = %v, want [aave-v3/wsteth-loop]", got)
	}
	at := func(d int) LoopPoint {
		for _, st := range res.Steps {
			if st.Time.Equal(day("2024-01-01").AddDate(0, 0, d)) {
				return st.Loops[0]
			}
		}
		t.Fatalf("no step at day %d", d)
		return LoopPoint{}
	}
	p0, p10, p40 := at(0), at(10), at(40)
	if want := 0.95 * 13 / 12; math.Abs(p0.HealthFactor-want) > 1e-9 || math.Abs(p0.Leverage-13) > 1e-9 {
		t.Errorf("at open: %+v, want leverage 13 and health factor %g", p0, want)
	}
	if math.Abs(p0.LiquidationDrop-(1-1/p0.HealthFactor)) > 1e-12 {
		t.Errorf("liquidation drop %g, want 1 - 1/health = %g", p0.LiquidationDrop, 1-1/p0.HealthFactor)
	}
	if !(p40.HealthFactor < p10.HealthFactor && p40.Leverage > p10.Leverage) {
		t.Errorf("day 10 %+v, day 40 %+v: want the health factor falling and the leverage rising under the spike", p10, p40)
	}
	var b strings.Builder
	if err := WriteReport(&b, res, ReportOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{ChartLeverage, ChartHealth, ChartLiquidation, "liquidated 2024-"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	b.Reset()
	if err := WriteEquityCSV(&b, res); err != nil {
		t.Fatal(err)
	}
	head, _, _ := strings.Cut(b.String(), "\n")
	if !strings.Contains(head, "leverage:aave-v3/wsteth-loop,health_factor:aave-v3/wsteth-loop,liquidation_drop:aave-v3/wsteth-loop") {
		t.Errorf("equity.csv header %q lacks the loop columns", head)
	}
}

// TestLoop_BorrowCapWarning: a backtest says when no borrow cap bounds a
// loop's borrowing (the Aave WETH reserve's cap is not known from
// 2024-12-22; Morpho Blue has none), and says nothing while one does.
func TestLoop_BorrowCapWarning(t *testing.T) {
	run := func(market, from, to string) []string {
		t.Helper()
		src := "synth calm " + market + " from=" + from + " to=" + to + " step=1d\nset gas=0\nstrategy rules\n" +
			"  name: loop\n  base: ETH\n  universe: [" + market + "]\n  rules:\n    leverage: 3\n    score: 1.0\n" +
			"  constraints: { idle: 0 }\n  rebalance: { every: \"@daily\", when: \"idle > 0.5 * nav\" }\n" +
			"run from=" + from + " to=" + to + " capital=100\n"
		sc, err := ParseScenario("cap.txt", []byte(src), nil)
		if err != nil {
			t.Fatal(err)
		}
		res, fails, err := sc.Check(context.Background())
		if err != nil || len(fails) > 0 {
			t.Fatalf("run: %v %v", err, fails)
		}
		var out []string
		for _, w := range res.Warnings {
			if strings.Contains(w, "borrow cap") {
				out = append(out, w)
			}
		}
		return out
	}
	if w := run("aave-v3/wsteth-loop", "2024-06-01", "2024-09-01"); len(w) != 0 {
		t.Errorf("2024-06..09, under the 1,400,000 cap: warnings %q, want none", w)
	}
	w := run("aave-v3/wsteth-loop", "2024-12-01", "2025-01-15")
	if len(w) != 1 || !strings.Contains(w[0], "from 2024-12-22") || !strings.Contains(w[0], "flatters a large loop") {
		t.Errorf("2024-12..2025-01: warnings %q, want one from 2024-12-22", w)
	}
	if w := run("morpho/wsteth-weth-loop", "2024-06-01", "2024-07-01"); len(w) != 1 || !strings.Contains(w[0], "Morpho Blue markets have no borrow cap") {
		t.Errorf("Morpho: warnings %q, want one naming Morpho's rule", w)
	}
}
