package backtest

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies/rules"
)

// ruleStrategy loads a rules strategy from text.
func ruleStrategy(t *testing.T, src string) *rules.Strategy {
	t.Helper()
	s, err := rules.Load("test.yaml", []byte(src), adapters.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// withoutRows returns a copy of w in which market id has no rows (its
// data is elsewhere in time).
func withoutRows(w *adapters.Window, id string) *adapters.Window {
	out := &adapters.Window{From: w.From, To: w.To}
	for _, s := range w.Series {
		if s.Market.ID == id {
			s = &adapters.Series{Market: s.Market}
		}
		out.Series = append(out.Series, s)
	}
	return out
}

// TestDataFingerprint_MarketWithoutRows is issue 19's panic: a window in
// which one market has no rows (index out of range before the fix).
func TestDataFingerprint_MarketWithoutRows(t *testing.T) {
	s := loadExample(t, "lst-conservative.yaml")
	w := defaultWindow(t, s, day("2024-03-01"), day("2024-04-01"))
	empty := withoutRows(w, "rocketpool/reth")
	a, b := DataFingerprint(w), DataFingerprint(empty)
	if a == "" || b == "" || a == b {
		t.Errorf("fingerprints %q and %q: want two different non-empty ones", a, b)
	}
}

const twoLSTs = `name: two
base: ETH
universe: [lido/steth, rocketpool/reth]
rules:
  eligible: true
  score: 1
  weight: score
constraints: { idle: 0.02 }
`

// TestRun_MarketWithoutRows: a market with no row in the range is
// reported as not investable with its stored range (a warning, its hold
// benchmark marked, the equal weight over the others), never a panic.
func TestRun_MarketWithoutRows(t *testing.T) {
	ctx := context.Background()
	s := ruleStrategy(t, twoLSTs)
	from, to := day("2024-03-01"), day("2024-04-01")
	w := withoutRows(defaultWindow(t, s, from, to), "rocketpool/reth")
	stored := map[string]DataRange{"rocketpool/reth": {From: day("2025-01-01"), To: day("2025-06-01"), Rows: 10}}
	res, err := Run(ctx, Spec{Strategy: s, Data: w, From: from, To: to, Capital: decimal.NewFromInt(100), DataRanges: stored})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Data.Ranges[1]; got.Investable || got.Stored == nil {
		t.Errorf("range of rocketpool/reth: got %+v, want not investable with its stored range", got)
	}
	if !res.Data.Ranges[0].Investable {
		t.Errorf("lido/steth: got not investable, want investable")
	}
	var warned bool
	for _, m := range res.Warnings {
		warned = warned || (strings.Contains(m, "rocketpool/reth") && strings.Contains(m, "not investable") && strings.Contains(m, "2025-01-01 .. 2025-06-01"))
	}
	if !warned {
		t.Errorf("warnings %q: want one saying rocketpool/reth is not investable, naming its data's range", res.Warnings)
	}
	hold := res.Benchmarks[1]
	if hold.Name != "hold rocketpool/reth" || !strings.Contains(hold.NotInvestable, "2025-01-01") {
		t.Errorf("benchmark %s: not investable %q, want the reason with the data's range", hold.Name, hold.NotInvestable)
	}
	best := res.Benchmarks[len(res.Benchmarks)-1]
	if best.Markets[0] != "lido/steth" {
		t.Errorf("best_single holds %v, want lido/steth (the only investable market)", best.Markets)
	}
	ew := res.Benchmarks[2]
	if len(ew.Markets) != 1 || !strings.Contains(ew.Note, "1 of 2 markets") {
		t.Errorf("equal_weight: markets %v, note %q: want lido/steth alone, saying 1 of 2", ew.Markets, ew.Note)
	}
	// The equal weight over one market is that market's hold.
	if got, want := ew.Metrics.EndValue, res.Benchmarks[0].Metrics.EndValue; !near(got, want, 1e-12) {
		t.Errorf("equal_weight end value %v, want the hold of lido/steth's %v", got, want)
	}
	if res.Metrics.EndValue <= 0 {
		t.Errorf("strategy end value %v", res.Metrics.EndValue)
	}
}

func near(a, b, rel float64) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	s := b
	if s < 0 {
		s = -s
	}
	return d <= rel*s
}

// TestRun_ClipsTheRange: a range reaching beyond the data runs over the
// data only, says so (a warning, the requested range in the settings) and
// gives the same figures as the clipped range asked directly.
func TestRun_ClipsTheRange(t *testing.T) {
	ctx := context.Background()
	s := ruleStrategy(t, twoLSTs)
	from, to := day("2024-03-01"), day("2024-04-01")
	w := defaultWindow(t, s, from, to)
	first, last := time.Unix(w.Series[0].Times[0], 0).UTC(), time.Time{}
	for _, ser := range w.Series {
		if t0 := time.Unix(ser.Times[0], 0).UTC(); t0.Before(first) {
			first = t0
		}
		if t1 := time.Unix(ser.Times[ser.Len()-1], 0).UTC(); t1.After(last) {
			last = t1
		}
	}
	wide, err := Run(ctx, Spec{Strategy: s, Data: w, From: day("2019-01-01"), To: day("2031-01-01"), Capital: decimal.NewFromInt(100)})
	if err != nil {
		t.Fatal(err)
	}
	if !wide.Settings.From.Equal(first) || !wide.Settings.To.Equal(last) {
		t.Errorf("clipped range %s .. %s, want the data's %s .. %s", wide.Settings.From, wide.Settings.To, first, last)
	}
	if !wide.Settings.RequestedFrom.Equal(day("2019-01-01")) || !wide.Settings.RequestedTo.Equal(day("2031-01-01")) {
		t.Errorf("requested range %s .. %s, want 2019-01-01 .. 2031-01-01", wide.Settings.RequestedFrom, wide.Settings.RequestedTo)
	}
	var n int
	for _, m := range wide.Warnings {
		if strings.HasPrefix(m, "range clipped") {
			n++
		}
	}
	if n != 2 {
		t.Errorf("warnings %q: want two 'range clipped' ones", wide.Warnings)
	}
	exact, err := Run(ctx, Spec{Strategy: s, Data: w, From: first, To: last, Capital: decimal.NewFromInt(100)})
	if err != nil {
		t.Fatal(err)
	}
	if wide.Metrics.APY != exact.Metrics.APY || !wide.Metrics.EndEquity.Equal(exact.Metrics.EndEquity) {
		t.Errorf("clipped run: APY %v, end equity %s; the data's range asked directly: %v, %s", wide.Metrics.APY, wide.Metrics.EndEquity,
			exact.Metrics.APY, exact.Metrics.EndEquity)
	}
	if len(exact.Warnings) != 0 || !exact.Settings.RequestedFrom.IsZero() {
		t.Errorf("the data's own range: warnings %q, requested from %s; want none", exact.Warnings, exact.Settings.RequestedFrom)
	}
}

// TestRun_LateMarketBenchmarks: a market whose data starts after the
// run's start enters its hold when its data starts (metrics from then),
// and the equal weight holds its share idle until then: it is not the
// hold of the market observed from the start.
func TestRun_LateMarketBenchmarks(t *testing.T) {
	ctx := context.Background()
	s := ruleStrategy(t, twoLSTs)
	from, to := day("2024-03-01"), day("2024-05-01")
	w := defaultWindow(t, s, day("2024-01-01"), to)
	// rocketpool/reth's rows start on 2024-04-01.
	late := &adapters.Window{From: w.From, To: w.To}
	start := day("2024-04-01").Unix()
	for _, ser := range w.Series {
		if ser.Market.ID == "rocketpool/reth" {
			i := ser.Index(start-1) + 1
			c := &adapters.Series{Market: ser.Market, Times: ser.Times[i:], Set: ser.Set[i:], Events: ser.Events}
			for f := range ser.Cols {
				if ser.Cols[f] != nil {
					c.Cols[f] = ser.Cols[f][i:]
				}
			}
			ser = c
		}
		late.Series = append(late.Series, ser)
	}
	res, err := Run(ctx, Spec{Strategy: s, Data: late, From: from, To: to, Capital: decimal.NewFromInt(100)})
	if err != nil {
		t.Fatal(err)
	}
	hold := res.Benchmarks[1]
	if hold.NotInvestable != "" || !hold.From.Equal(day("2024-04-01")) || !strings.Contains(hold.Note, "when its data starts") {
		t.Fatalf("hold rocketpool/reth: from %s, note %q, not investable %q: want an entry on 2024-04-01", hold.From, hold.Note, hold.NotInvestable)
	}
	k0 := 0
	for k, st := range res.Steps {
		if st.Time.Equal(hold.From) {
			k0 = k
		}
	}
	if k0 == 0 {
		t.Fatal("no step at the entry")
	}
	// Flat at the capital before entry; metrics over [entry, to].
	if hold.Curve[k0-1] != 100 {
		t.Errorf("hold curve before entry %v, want the capital 100", hold.Curve[k0-1])
	}
	wantYears := res.Settings.To.Sub(hold.From).Hours() / 24 / 365
	if !near(hold.Metrics.Years, wantYears, 1e-9) {
		t.Errorf("hold years %v, want %v (from its entry)", hold.Metrics.Years, wantYears)
	}
	// Equal weight: half in lido/steth from the start, half idle then in
	// rocketpool/reth; the value at the last step before entry is half the
	// lido hold scaled plus 50 idle.
	ew := res.Benchmarks[2]
	lido := res.Benchmarks[0]
	if ew.Metrics.EndValue == lido.Metrics.EndValue {
		t.Errorf("equal weight ends at the hold of lido/steth (%v): want the late market's share in it", ew.Metrics.EndValue)
	}
	k := k0 - 1
	if got, want := ew.Curve[k], 50+(lido.Curve[k])/2; !near(got, want, 1e-3) {
		t.Errorf("equal weight before the late entry: %v, want about %v (half the lido hold, half idle)", got, want)
	}
	if !strings.Contains(ew.Note, "rocketpool/reth from 2024-04-01") {
		t.Errorf("equal weight note %q: want the late entry named", ew.Note)
	}
}

// TestRun_HoldRespectsPoolLimit: a hold deposits at most the strategy's
// max_share_of_tvl of its market's TVL, the rest idle: its value is the
// idle rest plus a hold of the allowed amount (computed by a second run
// whose capital is that amount).
func TestRun_HoldRespectsPoolLimit(t *testing.T) {
	ctx := context.Background()
	const capped = `name: capped
base: ETH
universe: [lido/steth]
rules:
  eligible: true
  score: 1
  weight: score
constraints: { idle: 0.02, max_share_of_tvl: 1e-9 }
`
	s := ruleStrategy(t, capped)
	from, to := day("2024-03-01"), day("2024-04-01")
	w := defaultWindow(t, s, from, to)
	capital := decimal.NewFromInt(1000000)
	res, err := Run(ctx, Spec{Strategy: s, Data: w, From: from, To: to, Capital: capital})
	if err != nil {
		t.Fatal(err)
	}
	hold := res.Benchmarks[0]
	if !strings.Contains(hold.Note, "max_share_of_tvl") || !strings.Contains(hold.Note, "held idle") {
		t.Fatalf("hold note %q: want the pool limit and the idle rest", hold.Note)
	}
	// The allowed amount, as the track computes it from the observation at From.
	ser := w.Get("lido/steth")
	r := ser.Index(from.Unix())
	o := ser.At(r)
	tvl, _ := o.Get(adapters.FieldTVL)
	usd, _ := o.Get(adapters.FieldBaseUSD)
	allowed := 1e-9 * tvl / usd
	if !(allowed > 0) || allowed >= 1e6 {
		t.Fatalf("allowed %v: the fixture should cut the deposit", allowed)
	}
	free := ruleStrategy(t, strings.Replace(capped, "max_share_of_tvl: 1e-9", "max_weight: 1", 1))
	small, err := Run(ctx, Spec{Strategy: free, Data: w, From: from, To: to, Capital: adapters.Quantize(adapters.FromFloat(allowed))})
	if err != nil {
		t.Fatal(err)
	}
	want := (1e6 - allowed) + small.Benchmarks[0].Metrics.EndValue
	if got := hold.Metrics.EndValue; !near(got, want, 1e-9) {
		t.Errorf("capped hold ends at %v, want %v (idle rest + a hold of the allowed %v)", got, want, allowed)
	}
}

// TestSummaryJSON_UndefinedRatiosAreNull: a ratio whose risk is below
// RatioFloor is null in summary.json, a defined one a number.
func TestSummaryJSON_UndefinedRatiosAreNull(t *testing.T) {
	r := fixtureResult(20)
	r.Metrics.Volatility, r.Metrics.Sharpe = 0.2, 1.5
	r.Metrics.DownsideDeviation, r.Metrics.Sortino = 0, 0
	r.Metrics.MaxDrawdown, r.Metrics.Calmar = 0.0001, 0
	b, err := SummaryJSONWith(r, map[string]any{"run_folder": "runs/x-1"})
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Metrics map[string]any `json:"metrics"`
		Folder  string         `json:"run_folder"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if v.Metrics["sharpe"] != 1.5 || v.Metrics["sortino"] != nil || v.Metrics["calmar"] != nil {
		t.Errorf("sharpe %v, sortino %v, calmar %v: want 1.5, null, null", v.Metrics["sharpe"], v.Metrics["sortino"], v.Metrics["calmar"])
	}
	if _, ok := v.Metrics["sortino"]; !ok {
		t.Error("sortino missing: want it present as null")
	}
	if v.Folder != "runs/x-1" {
		t.Errorf("run_folder %q", v.Folder)
	}
	// It reads back (a sweep's resume reads summaries).
	var back Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("reading back: %v", err)
	}
}

// TestRun_MinGainOverCost: the strategy's rebalance.min_gain_over_cost
// reaches the rebalancer (a test no buy can pass keeps the vault idle;
// 0 lets it trade), Spec.MinGainOverCost overrides it, and the settings
// record the value used.
func TestRun_MinGainOverCost(t *testing.T) {
	ctx := context.Background()
	src := strings.Replace(twoLSTs, "constraints:", "rebalance: { min_gain_over_cost: 1e9 }\nconstraints:", 1)
	s := ruleStrategy(t, src)
	from, to := day("2024-03-01"), day("2024-04-01")
	w := defaultWindow(t, s, from, to)
	spec := Spec{Strategy: s, Data: w, From: from, To: to, Capital: decimal.NewFromInt(100)}
	strict, err := Run(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if got := strict.Settings.Vault.Rebalance.MinGainOverCost; got != 1e9 {
		t.Errorf("settings: min gain over cost %v, want the file's 1e9", got)
	}
	if strict.Metrics.Orders != 0 {
		t.Errorf("min_gain_over_cost 1e9: %d orders, want none (no buy earns a billion times its cost)", strict.Metrics.Orders)
	}
	zero := 0.0
	spec.MinGainOverCost = &zero
	free, err := Run(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if got := free.Settings.Vault.Rebalance.MinGainOverCost; got != 0 {
		t.Errorf("override: min gain over cost %v, want 0", got)
	}
	if free.Metrics.Orders == 0 {
		t.Error("min gain over cost 0: no orders, want the initial allocation's")
	}
}
