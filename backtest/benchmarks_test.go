package backtest

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
	"github.com/yieldvault/yieldvault/strategies/rules"
	"github.com/yieldvault/yieldvault/vault"
)

// benchTolerance is the documented agreement of the float64 hold path
// with the exact decimal computation (see stepBenchmarks).
const benchTolerance = 1e-9

// TestBenchmarks_FloatPathMatchesDecimal runs the balanced example (an
// LST with an exchange rate, a rebasing LST, two LRTs with rewards, a
// lending market, given rewards, and an AMM pool) over the embedded
// history with extra slash, bad-debt and pause events, at both pricings, once with the
// float64 hold path and once with a decimal Accrue and Value per market
// and step, and requires every benchmark curve point and headline to
// agree to a relative 1e-9.
func TestBenchmarks_FloatPathMatchesDecimal(t *testing.T) {
	ctx := context.Background()
	s := loadExample(t, "lst-lrt-balanced.yaml")
	from, to := day("2024-03-01"), day("2024-09-01")
	w2 := eventfulWindow(t, s, from, to)
	for _, pricing := range []adapters.Pricing{adapters.PriceRate, adapters.PriceMarket} {
		t.Run(pricing.String(), func(t *testing.T) {
			spec := Spec{Strategy: s, Data: w2, From: from, To: to, Capital: decimal.NewFromInt(100), Pricing: pricing}
			e := &engine{spec: spec, op: "backtest.Run", gasM: -1}
			got, err := runEngine(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			// Every path of the float64 holds is taken: the index from an
			// observed column, accrued by the adapter, and the adapter's Value.
			paths := map[string]bool{}
			for _, m := range e.bench.ms {
				switch {
				case m.col != nil:
					paths["column"] = true
				case m.rewardF:
					paths["accrued"] = true
				default:
					paths["value"] = true
				}
			}
			if len(paths) != 3 {
				t.Fatalf("the universe takes the paths %v, want all three", paths)
			}
			want, err := runEngine(ctx, &engine{spec: spec, op: "backtest.Run", gasM: -1, exactBench: true})
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Events) < 4 {
				t.Fatalf("the run applied %d events, want at least 4", len(got.Events))
			}
			if len(got.Benchmarks) != len(want.Benchmarks) {
				t.Fatalf("got %d benchmarks, want %d", len(got.Benchmarks), len(want.Benchmarks))
			}
			near := func(a, b float64) bool { return math.Abs(a-b) <= benchTolerance*math.Max(1, math.Abs(b)) }
			for i := range want.Benchmarks {
				g, w := &got.Benchmarks[i], &want.Benchmarks[i]
				if g.Name != w.Name || len(g.Curve) != len(w.Curve) {
					t.Fatalf("benchmark %d: got %s with %d points, want %s with %d", i, g.Name, len(g.Curve), w.Name, len(w.Curve))
				}
				moved := false
				for k := range w.Curve {
					if !near(g.Curve[k], w.Curve[k]) {
						t.Fatalf("%s at %s: got %.15g, want %.15g", w.Name, want.Steps[k].Time.Format(time.RFC3339), g.Curve[k], w.Curve[k])
					}
					moved = moved || w.Curve[k] != w.Curve[0]
				}
				if !moved {
					t.Errorf("%s: the curve never moves; the comparison proves nothing", w.Name)
				}
				for _, f := range []struct {
					name      string
					got, want float64
				}{
					{"end_value", g.Metrics.EndValue, w.Metrics.EndValue},
					{"apy", g.Metrics.APY, w.Metrics.APY},
					{"max_drawdown", g.Metrics.MaxDrawdown, w.Metrics.MaxDrawdown},
				} {
					if !near(f.got, f.want) {
						t.Errorf("%s %s: got %.15g, want %.15g", w.Name, f.name, f.got, f.want)
					}
				}
			}
		})
	}
}

// TestBenchmarks_HeldStepsBitForBit runs benchmark tracks once with
// benchTrack.stepHeld and once with every step by stepMarket, at both
// pricings, and requires the benchmarks (curves and headlines) to agree
// to the bit, on two histories made to break stepHeld's runs of steps:
// the balanced example's of TestBenchmarks_FloatPathMatchesDecimal,
// hourly, with rETH's data starting a month late, a gap in the lending
// market's rows and events between steps on stETH and on the lending
// market; and 3,000 hours of W1 (exchange-rate and growth-table holds)
// with events between steps on an LRT and a lending market, the LRT's
// reward_apy changing, gaps in an LST's and a lending market's rows,
// and a lending market whose data starts late.
func TestBenchmarks_HeldStepsBitForBit(t *testing.T) {
	ctx := context.Background()
	keep := func(ser *adapters.Series, ok func(r int) bool) *adapters.Series {
		cp := *ser
		cp.Times, cp.Set, cp.Cols = nil, nil, [adapters.NumFields][]float64{}
		for r, ts := range ser.Times {
			if !ok(r) {
				continue
			}
			cp.Times = append(cp.Times, ts)
			cp.Set = append(cp.Set, ser.Set[r])
			for f, col := range ser.Cols {
				if col != nil {
					cp.Cols[f] = append(cp.Cols[f], col[r])
				}
			}
		}
		return &cp
	}
	withEvent := func(ser *adapters.Series, at time.Time, typ adapters.EventType, size float64) *adapters.Series {
		cp := *ser
		cp.Events = append(append([]adapters.Event(nil), ser.Events...), adapters.Event{Market: ser.Market.ID, Time: at, Type: typ, Size: size, Note: "test"})
		return &cp
	}

	bal := loadExample(t, "lst-lrt-balanced.yaml")
	from, to := day("2024-03-01"), day("2024-06-01")
	bw := eventfulWindow(t, bal, from, to)
	for i, ser := range bw.Series {
		switch ser.Market.ID {
		case "rocketpool/reth":
			late := day("2024-04-01").Unix()
			bw.Series[i] = keep(ser, func(r int) bool { return ser.Times[r] >= late })
		case "lido/steth":
			bw.Series[i] = withEvent(ser, day("2024-05-10").Add(7*time.Hour+1234*time.Second), adapters.EventSlash, 0.01)
		case "aave-v3/weth":
			lo, hi := day("2024-04-20").Unix(), day("2024-04-25").Unix()
			cp := keep(ser, func(r int) bool { return ser.Times[r] < lo || ser.Times[r] >= hi })
			bw.Series[i] = withEvent(cp, day("2024-05-20").Add(90*time.Minute), adapters.EventBadDebt, 0.005)
		}
	}

	f := w1Data(t)
	ww := *f.window
	ww.Series = append([]*adapters.Series(nil), f.window.Series...)
	hour := func(h int) time.Time { return w1Start.Add(time.Duration(h) * time.Hour) }
	for i, ser := range ww.Series {
		switch i {
		case 0: // rocketpool, an LST
			ww.Series[i] = keep(ser, func(r int) bool { return r < 1000 || r >= 1007 })
		case 3: // etherfi, an LRT
			cp := withEvent(ser, hour(500).Add(30*time.Minute), adapters.EventSlash, 0.02)
			rew := append([]float64(nil), ser.Cols[adapters.FieldRewardAPY]...)
			for r := 800; r < len(rew); r++ {
				rew[r] = 0.015
			}
			cp.Cols[adapters.FieldRewardAPY] = rew
			ww.Series[i] = cp
		case 5: // aave-v3, lending
			ww.Series[i] = withEvent(ser, hour(700).Add(20*time.Minute), adapters.EventBadDebt, 0.01)
		case 6: // spark, lending
			ww.Series[i] = keep(ser, func(r int) bool { return r < 1200 || r >= 1210 })
		case 7: // compound-v3, lending
			ww.Series[i] = keep(ser, func(r int) bool { return r >= 300 })
		}
	}

	for _, c := range []struct {
		name string
		spec Spec
	}{
		{"balanced", Spec{Strategy: bal, Data: bw, From: from, To: to, Step: time.Hour, Capital: decimal.NewFromInt(100)}},
		{"w1", Spec{Strategy: f.strategy, Catalog: f.cat, Data: &ww, From: w1Start, To: hour(3000), Capital: decimal.NewFromInt(1000)}},
	} {
		for _, pricing := range []adapters.Pricing{adapters.PriceRate, adapters.PriceMarket} {
			t.Run(c.name+"/"+pricing.String(), func(t *testing.T) {
				spec := c.spec
				spec.Pricing = pricing
				e := &engine{spec: spec, op: "backtest.Run", gasM: -1}
				got, err := runEngine(ctx, e)
				if err != nil {
					t.Fatal(err)
				}
				ref := &engine{spec: spec, op: "backtest.Run", gasM: -1, stepwiseBench: true}
				want, err := runEngine(ctx, ref)
				if err != nil {
					t.Fatal(err)
				}
				steps := len(got.Steps) * len(e.bench.ms)
				if e.bench.held < steps/3 || e.bench.held == steps || ref.bench.held != 0 {
					t.Fatalf("stepHeld took %d of %d market-steps (the reference %d): want a third or more, not all", e.bench.held, steps, ref.bench.held)
				}
				if len(got.Events) < 2 {
					t.Fatalf("the run applied %d events, want at least 2", len(got.Events))
				}
				g, err := json.Marshal(got.Benchmarks)
				if err != nil {
					t.Fatal(err)
				}
				wj, _ := json.Marshal(want.Benchmarks)
				if !bytes.Equal(g, wj) {
					t.Errorf("the benchmarks differ between stepHeld and stepMarket at every step")
				}
				for i := range want.Benchmarks {
					gc, wc := got.Benchmarks[i].Curve, want.Benchmarks[i].Curve
					for k := range wc {
						if math.Float64bits(gc[k]) != math.Float64bits(wc[k]) {
							t.Fatalf("%s at %s: %v with stepHeld, %v step by step", want.Benchmarks[i].Name, want.Steps[k].Time.Format(time.RFC3339), gc[k], wc[k])
						}
					}
				}
			})
		}
	}
}

// eventfulWindow is the balanced example's history over [from, to] with
// extra slash, bad-debt and pause events, and lending rewards that
// change every tenth row.
func eventfulWindow(t *testing.T, s strategies.Strategy, from, to time.Time) *adapters.Window {
	t.Helper()
	w := defaultWindow(t, s, from, to)
	extra := map[string][]adapters.Event{
		"etherfi/weeth":   {{Time: day("2024-04-10").Add(3 * time.Hour), Type: adapters.EventSlash, Size: 0.03, Note: "test"}},
		"aave-v3/weth":    {{Time: day("2024-05-02"), Type: adapters.EventBadDebt, Size: 0.01, Note: "test"}},
		"curve/steth-eth": {{Time: day("2024-06-01"), Type: adapters.EventSlash, Size: 0.02, Note: "test"}},
		"renzo/ezeth": {{Time: day("2024-07-01"), Type: adapters.EventPause, Note: "test"},
			{Time: day("2024-07-03"), Type: adapters.EventUnpause, Note: "test"}},
	}
	w2 := *w
	lending := false
	w2.Series = make([]*adapters.Series, len(w.Series))
	for i, ser := range w.Series {
		cp := *ser
		for _, ev := range extra[ser.Market.ID] {
			ev.Market = ser.Market.ID
			cp.Events = append(append([]adapters.Event(nil), cp.Events...), ev)
		}
		if ser.Market.Kind == adapters.Lending {
			// Lending rewards that change every tenth row.
			cp.Set = make([]adapters.FieldSet, len(ser.Set))
			col := make([]float64, ser.Len())
			for r := range col {
				cp.Set[r] = ser.Set[r].With(adapters.FieldRewardAPY)
				col[r] = 0.01 + 0.002*float64(r/10%3)
			}
			cp.Cols[adapters.FieldRewardAPY] = col
			lending = true
		}
		w2.Series[i] = &cp
	}
	if !lending {
		t.Fatal("the universe has no lending market")
	}
	return &w2
}

// TestRun_ExitCheckPath runs the balanced example (which has an exit
// rule) hourly over the embedded history with a week-long rETH depeg
// added on rows between rebalance ticks, once
// evaluating the exit rule alone between rebalance ticks (the strategy is
// a strategies.Exiter) and once planning in full at every step, and
// requires identical results: summary, steps, decisions, ledger, notes.
func TestRun_ExitCheckPath(t *testing.T) {
	ctx := context.Background()
	s := loadExample(t, "lst-lrt-balanced.yaml")
	from, to := day("2024-03-01"), day("2024-06-01")
	w := defaultWindow(t, s, from, to)
	w2 := *w
	w2.Series = append([]*adapters.Series(nil), w.Series...)
	for i, ser := range w.Series {
		if ser.Market.ID != "rocketpool/reth" {
			continue
		}
		// Rows five hours after the others' (between rebalance ticks),
		// 5% below the rate from April 10 to 17.
		cp := *ser
		cp.Times = make([]int64, len(ser.Times))
		price := append([]float64(nil), ser.Cols[adapters.FieldPrice]...)
		lo, hi := day("2024-04-10").Unix(), day("2024-04-17").Unix()
		for r, ts := range ser.Times {
			cp.Times[r] = ts + 5*3600
			if ts >= lo && ts < hi {
				price[r] *= 0.95
			}
		}
		cp.Cols[adapters.FieldPrice] = price
		w2.Series[i] = &cp
	}
	spec := Spec{Strategy: s, Data: &w2, From: from, To: to, Step: time.Hour, Capital: decimal.NewFromInt(100), Pricing: adapters.PriceMarket}
	got, err := runEngine(ctx, &engine{spec: spec, op: "backtest.Run", gasM: -1})
	if err != nil {
		t.Fatal(err)
	}
	want, err := runEngine(ctx, &engine{spec: spec, op: "backtest.Run", gasM: -1, noExiter: true})
	if err != nil {
		t.Fatal(err)
	}
	between := 0
	for _, d := range want.Decisions {
		if d.Trigger == vault.TriggerExit && d.Time.Hour()%6 != 0 {
			between++
		}
	}
	if between == 0 {
		t.Fatal("the exit rule never fired between rebalance ticks: the comparison proves nothing")
	}
	for _, part := range []struct {
		name      string
		got, want any
	}{
		{"summary", got, want}, {"steps", got.Steps, want.Steps}, {"decisions", got.Decisions, want.Decisions},
		{"ledger", got.Ledger, want.Ledger}, {"notes", got.Notes, want.Notes},
	} {
		g, err := json.Marshal(part.got)
		if err != nil {
			t.Fatal(err)
		}
		w, _ := json.Marshal(part.want)
		if !bytes.Equal(g, w) {
			t.Errorf("%s differ between the exit-check path and planning at every step", part.name)
		}
	}
}

// noReads is a rules strategy that does not say what its conditions
// read (no strategies.ConditionReads): the runner plans every scheduled
// decision in full.
type noReads struct{ s *rules.Strategy }

func (n noReads) Name() string { return n.s.Name() }
func (n noReads) Plan(ctx context.Context, st *strategies.State) (strategies.Target, error) {
	return n.s.Plan(ctx, st)
}
func (n noReads) RebalanceSchedule() strategies.Schedule { return n.s.RebalanceSchedule() }
func (n noReads) HarvestSchedule() strategies.Schedule   { return n.s.HarvestSchedule() }
func (n noReads) ShouldRebalance(v strategies.VaultVars) (bool, string, error) {
	return n.s.ShouldRebalance(v)
}
func (n noReads) ShouldHarvest(v strategies.VaultVars) (bool, string, error) {
	return n.s.ShouldHarvest(v)
}
func (n noReads) Universe() []string { return n.s.Universe() }
func (n noReads) ExitCheck(ctx context.Context, st *strategies.State) ([]string, error) {
	return n.s.ExitCheck(ctx, st)
}

// TestRun_PreviewPath runs a drift-only rebalance condition with the
// preview (decisions the condition turns down are judged on their drift
// before any quote) and with every decision planned in full: the runs
// must trade, value and record alike; only the turned-down decisions'
// rows differ (no gain, cost or rejections).
func TestRun_PreviewPath(t *testing.T) {
	ctx := context.Background()
	src, err := os.ReadFile("../examples/strategies/lst-lrt-balanced.yaml")
	if err != nil {
		t.Fatal(err)
	}
	yaml := strings.Replace(string(src), `when: "drift > 0.05 || gain_apy > 3 * cost_apy"`, `when: "drift > 0.06"`, 1)
	if yaml == string(src) {
		t.Fatal("the example's rebalance condition changed: update this test")
	}
	s, err := rules.Load("drift.yaml", []byte(yaml), adapters.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	from, to := day("2024-01-01"), day("2024-07-01")
	w := defaultWindow(t, s, from, to)
	capital := decimal.NewFromInt(100)
	cfg := DefaultVaultConfig(s, adapters.ETH, capital) // the file's min_trade, which noReads hides
	spec := Spec{Strategy: s, Data: w, From: from, To: to, Capital: capital, Vault: &cfg}
	got, err := Run(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	spec.Strategy = noReads{s}
	want, err := Run(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	previews, traded := 0, 0
	if len(got.Decisions) != len(want.Decisions) {
		t.Fatalf("%d decisions, want %d", len(got.Decisions), len(want.Decisions))
	}
	for i := range got.Decisions {
		g, w := &got.Decisions[i], &want.Decisions[i]
		if g.Inputs.Preview {
			previews++
			if Outcome(w) != OutcomeSkipped || len(g.Rejected) != 0 || g.Inputs.Drift != w.Inputs.Drift || !g.Inputs.NAV.Equal(w.Inputs.NAV) {
				t.Errorf("decision %d at %s: preview drift %g NAV %s, full %s drift %g NAV %s", i, g.Time, g.Inputs.Drift, g.Inputs.NAV, Outcome(w), w.Inputs.Drift, w.Inputs.NAV)
			}
			continue
		}
		if len(g.Orders) > 0 {
			traded++
		}
		gj, _ := json.Marshal(g)
		wj, _ := json.Marshal(w)
		if !bytes.Equal(gj, wj) {
			t.Errorf("decision %d at %s differs:\n got %s\nwant %s", i, g.Time, gj, wj)
			break
		}
	}
	if previews == 0 || traded < 2 {
		t.Fatalf("%d previews and %d traded decisions: the comparison proves nothing", previews, traded)
	}
	t.Logf("%d decisions: %d previews, %d traded", len(got.Decisions), previews, traded)
	for _, part := range []struct {
		name      string
		got, want any
	}{
		{"steps", got.Steps, want.Steps}, {"ledger", got.Ledger, want.Ledger}, {"metrics", got.Metrics, want.Metrics},
		{"benchmarks", got.Benchmarks, want.Benchmarks}, {"attribution", got.Attribution, want.Attribution}, {"notes", got.Notes, want.Notes},
	} {
		g, err := json.Marshal(part.got)
		if err != nil {
			t.Fatal(err)
		}
		w, _ := json.Marshal(part.want)
		if !bytes.Equal(g, w) {
			t.Errorf("%s differ between the preview and the full decisions:\n got %.600s\nwant %.600s", part.name, g, w)
		}
	}
}
