package backtest

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/fixed"
	"github.com/yieldvault/yieldvault/vault"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// fixtureMarkets is the universe of the fixture result.
var fixtureMarkets = []string{"lido/steth", "aave-v3/weth", "renzo/ezeth"}

func mustDec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// fixtureResult builds a Result by hand, with n hourly steps: equity that
// rises, falls 6% in the middle and recovers, an allocation that moves
// from idle into three markets, benchmarks, a ledger, decisions, events
// and data issues. Every float comes from a decimal or one integer
// division, so the values are the same on every platform.
func fixtureResult(n int) *Result {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Hour) }
	capital := mustDec("100")
	r := &Result{
		Settings: Settings{
			Strategy: "fixture <balanced> & co", StrategyFile: "examples/strategies/fixture.yaml",
			Universe: fixtureMarkets, Params: map[string]float64{"min_peg": 0.99, "max_lrt": 0.4},
			From: t0, To: at(n - 1), Step: "1h", Lookback: "30d", Capital: capital, Pricing: "rate",
			GasPrice: 20, RiskFree: 0.03, Source: "embedded default history",
			Vault: vault.DefaultConfig("fixture", adapters.ETH),
		},
		Data: DataInfo{From: t0.Add(-720 * time.Hour), To: at(n - 1), Markets: fixtureMarkets,
			Rows: 3 * (n + 720), Steps: n, MarketSteps: 3 * n, Gaps: 1},
	}
	// Equity: +1 bp a step, then -6% over the middle tenth, then +1 bp.
	eq := capital
	up, down := mustDec("1.0001"), mustDec("0.994")
	eqs := make([]float64, n)
	for i := 0; i < n; i++ {
		if i > 0 {
			if i > n*4/10 && i <= n*5/10 && i <= n*4/10+10 {
				eq = adapters.Quantize(eq.Mul(down))
			} else {
				eq = adapters.Quantize(eq.Mul(up))
			}
		}
		nav := eq.Add(mustDec("0.5"))
		w := decimal.NewFromInt(int64(min(i, n/2))).DivRound(decimal.NewFromInt(int64(n)), 6) // 0 .. 0.5
		a := adapters.Quantize(nav.Mul(w).Mul(mustDec("0.6")))
		b := adapters.Quantize(nav.Mul(w).Mul(mustDec("0.3")))
		c := adapters.Quantize(nav.Mul(w).Mul(mustDec("0.1")))
		idle := nav.Sub(a).Sub(b).Sub(c)
		r.Steps = append(r.Steps, Step{
			Time: at(i), NAV: ExactFigure(nav), Equity: ExactFigure(eq), PricePerShare: ExactFigure(eq.DivRound(capital, 36)), Idle: idle,
			Costs:  decimal.NewFromInt(int64(i/10)).DivRound(decimal.NewFromInt(1000), adapters.Scale),
			Values: []float64{a.InexactFloat64(), b.InexactFloat64(), c.InexactFloat64()},
		})
		eqs[i] = eq.InexactFloat64()
	}
	for j, m := range fixtureMarkets {
		b := Benchmark{Name: "hold " + m, Kind: "hold", Markets: []string{m}, EntryCost: mustDec("0.002")}
		step := decimal.NewFromInt(int64(j+1)).DivRound(decimal.NewFromInt(100000), 18)
		v := capital
		for i := 0; i < n; i++ {
			b.Curve = append(b.Curve, v.InexactFloat64())
			v = adapters.Quantize(v.Mul(decimal.NewFromInt(1).Add(step)))
		}
		b.Metrics = Headline{StartValue: 100, EndValue: b.Curve[n-1], TotalReturn: float64(j+1) / 100, APY: float64(j+1) / 50}
		if j == 1 { // risky enough for the ratios (the others are "n/a")
			b.Metrics.Volatility, b.Metrics.Sharpe, b.Metrics.DownsideDeviation, b.Metrics.Sortino = 0.08, 0.5, 0.05, 0.8
			b.Metrics.MaxDrawdown, b.Metrics.Calmar = 0.1, 0.4
		}
		r.Benchmarks = append(r.Benchmarks, b)
	}
	ew := Benchmark{Name: "equal_weight", Kind: "equal_weight", Markets: fixtureMarkets, EntryCost: mustDec("0.006")}
	for i := 0; i < n; i++ {
		ew.Curve = append(ew.Curve, (r.Benchmarks[0].Curve[i]+r.Benchmarks[1].Curve[i]+r.Benchmarks[2].Curve[i])/3)
	}
	ew.Metrics = Headline{StartValue: 100, EndValue: ew.Curve[n-1], TotalReturn: 0.02}
	r.Benchmarks = append(r.Benchmarks, ew, Benchmark{Name: "best_single", Kind: "best_single", Markets: []string{"renzo/ezeth"},
		Curve: r.Benchmarks[2].Curve, Metrics: r.Benchmarks[2].Metrics, Note: "chosen in hindsight"})
	last := r.Steps[n-1]
	r.Metrics = Metrics{
		Headline: Headline{StartValue: 100, EndValue: eqs[n-1], TotalReturn: eqs[n-1]/100 - 1, Years: float64(n-1) / 8760,
			APY: 0.0321, StepsPerYear: 8760, Volatility: 0.0456, Sharpe: 1.25, DownsideDeviation: 0.0228, Sortino: 2.5, MaxDrawdown: 0.0583,
			DrawdownPeak: at(n * 4 / 10), DrawdownTrough: at(n*4/10 + 10), Calmar: 0.55},
		StartNAV: r.Steps[0].NAV.Decimal(), EndNAV: last.NAV.Decimal(), StartEquity: capital, EndEquity: last.Equity.Decimal(),
		PnL: last.Equity.Decimal().Sub(capital), Traded: mustDec("142.5"), Turnover: 1.4, TurnoverAnnual: 12.5,
		Gas: mustDec("0.0021"), Slippage: mustDec("0.0134"), ProtocolFees: mustDec("0.001"), VaultFees: mustDec("0.05"), Rounding: mustDec("0.000000000000000003"),
		Decisions: 3, Rebalances: 1, Exits: 1, Harvests: 1, Orders: 4, HHI: 0.46,
	}
	r.Markets = []MarketStats{
		{Market: "lido/steth", TimeInMarket: 0.99, AvgWeight: 0.3, MaxWeight: 0.35, EndValue: mustDec("30.1"), PnL: mustDec("0.61"), Bought: mustDec("30"), Gas: mustDec("0.001")},
		{Market: "aave-v3/weth", TimeInMarket: 0.99, AvgWeight: 0.15, MaxWeight: 0.2, EndValue: mustDec("15.05"), PnL: mustDec("0.3"), Bought: mustDec("15")},
		{Market: "renzo/ezeth", TimeInMarket: 0.5, AvgWeight: 0.05, MaxWeight: 0.1, PnL: mustDec("-0.4"), Bought: mustDec("5"), Sold: mustDec("4.6"), EventLoss: mustDec("0.35")},
	}
	r.Attribution = Attribution{
		Markets: []MarketPnL{{"lido/steth", mustDec("0.61")}, {"aave-v3/weth", mustDec("0.3")}, {"renzo/ezeth", mustDec("-0.4")}},
		Idle:    decimal.Zero, VaultFees: mustDec("0.05"), Locked: mustDec("0.01"), Dust: mustDec("0.000000000000000001"),
		NAVChange: mustDec("0.51"), Total: mustDec("0.449999999999999999"),
	}
	r.DataIssues = []DataIssue{{Kind: IssueGap, Market: "renzo/ezeth", From: at(5), To: at(9), Steps: 3, Note: "forward filled"}}
	r.Events = []EventRecord{{Time: at(n / 2), Market: "renzo/ezeth", Type: "depeg", Size: 0.08, Note: "ezETH depeg", Loss: mustDec("0.35")}}
	r.Ledger = []vault.Entry{
		{Seq: 1, Time: t0, Type: vault.EntryDeposit, User: "investor", Amount: capital, Shares: mustDec("100000000")},
		{Seq: 2, Time: at(1), Tick: at(0), Type: vault.EntryBuy, Market: "lido/steth", Amount: mustDec("30"), Gas: mustDec("0.001"), Slippage: mustDec("0.01"), Reason: "target 30%, score 0.031"},
		{Seq: 3, Time: at(1), Tick: at(0), Type: vault.EntryBuy, Market: "aave-v3/weth", Amount: mustDec("15"), Gas: mustDec("0.0005"), Reason: "target \"15%\", a, b"},
		{Seq: 4, Time: at(n / 2), Type: vault.EntryEvent, Market: "renzo/ezeth", Amount: mustDec("0.35"), Reason: "depeg 8%"},
		{Seq: 5, Time: at(n/2 + 1), Type: vault.EntrySell, Market: "renzo/ezeth", Amount: mustDec("4.6"), Slippage: mustDec("0.0034"), Fee: mustDec("0.001"), Reason: "exit rule: peg < 0.97"},
		{Seq: 6, Time: at(n - 1), Type: vault.EntryFee, User: "fees", Amount: mustDec("0.05"), Shares: mustDec("47000"), Reason: "management"},
	}
	r.Decisions = []vault.Decision{
		{Time: at(1), Tick: at(0), Trigger: vault.TriggerSchedule,
			Inputs: vault.Inputs{NAV: capital, Idle: capital, IdleTarget: 0.02, GasPrice: 20, Drift: 0.49, GainAPY: 0.031, CostAPY: 0.0012},
			Orders: []vault.Order{
				{Market: "lido/steth", Side: vault.Buy, Amount: fixed.FromDec(mustDec("30")), Mode: adapters.ExitAuto, EstCost: fixed.FromDec(mustDec("0.011")), Reason: "target 30%"},
				{Market: "aave-v3/weth", Side: vault.Buy, Amount: fixed.FromDec(mustDec("15")), Mode: adapters.ExitAuto, EstCost: fixed.FromDec(mustDec("0.0005")), Reason: "target 15%"},
			},
			Costs: mustDec("0.0115"), Reasons: []string{"rebalance condition: drift > 0.05"},
			Rejected: []vault.Rejection{{Market: "renzo/ezeth", Reason: "gain below cost"}, {Market: "curve/steth-eth", Reason: "below min trade"}}},
		{Time: at(7), Tick: at(6), Trigger: vault.TriggerSchedule, Inputs: vault.Inputs{NAV: capital, Idle: mustDec("55"), Drift: 0.01},
			Costs: decimal.Zero, Reasons: []string{"not executed: rebalance condition false: drift 0.01 <= 0.05"}},
		{Time: at(n/2 + 1), Trigger: vault.TriggerExit, Inputs: vault.Inputs{NAV: mustDec("99.6"), Idle: mustDec("50")},
			Orders: []vault.Order{{Market: "renzo/ezeth", Side: vault.Sell, Amount: fixed.FromDec(mustDec("4.6")), All: true, Urgent: true, Mode: adapters.ExitInstant, EstCost: fixed.FromDec(mustDec("0.004")), Reason: "exit rule <fired>"}},
			Costs:  mustDec("0.004")},
	}
	return r
}

func TestSummaryJSON_CanonicalAndDeterministic(t *testing.T) {
	r := fixtureResult(48)
	a, err := SummaryJSON(r)
	if err != nil {
		t.Fatal(err)
	}
	b, err := SummaryJSON(fixtureResult(48))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatalf("two summaries of the same result differ")
	}
	// Keys are sorted at the top level and below.
	var top map[string]json.RawMessage
	if err := json.Unmarshal(a, &top); err != nil {
		t.Fatalf("summary is not JSON: %v", err)
	}
	for _, want := range []string{"settings", "data", "metrics", "benchmarks", "attribution", "markets", "data_issues", "events"} {
		if _, ok := top[want]; !ok {
			t.Errorf("summary lacks %q", want)
		}
	}
	s := string(a)
	if i, j := strings.Index(s, `"attribution"`), strings.Index(s, `"settings"`); i < 0 || j < 0 || i > j {
		t.Errorf("top-level keys are not sorted: attribution at %d, settings at %d", i, j)
	}
	if i, j := strings.Index(s, `"max_lrt"`), strings.Index(s, `"min_peg"`); i < 0 || j < 0 || i > j {
		t.Errorf("params are not sorted: max_lrt at %d, min_peg at %d", i, j)
	}
	// Reading it back gives the same metrics, floats to their 15 digits.
	var back Result
	if err := json.Unmarshal(a, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r.Metrics, back.Metrics, cmp.Comparer(func(x, y decimal.Decimal) bool { return x.Equal(y) }),
		cmp.Comparer(func(x, y float64) bool { return math.Abs(x-y) <= 1e-14*math.Max(math.Abs(x), math.Abs(y)) })); diff != "" {
		t.Errorf("metrics after a round trip (-want +got):\n%s", diff)
	}
}

func TestCanonicalNumber(t *testing.T) {
	tests := []struct{ in, want string }{
		{"0", "0"},
		{"12345678901234567", "12345678901234567"},
		{"0.30000000000000004", "0.3"},
		{"-0.0", "0"},
		{"1.5e-07", "1.5e-07"},
		{"2.718281828459045", "2.71828182845905"},
	}
	for _, tt := range tests {
		got, err := canonicalNumber(json.Number(tt.in))
		if err != nil || got != tt.want {
			t.Errorf("canonicalNumber(%s) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := canonicalNumber(json.Number("1.2.3")); err == nil {
		t.Errorf("canonicalNumber(1.2.3): no error")
	}
}

func TestRunKey_Name(t *testing.T) {
	base := RunKey{Strategy: "lst-lrt-balanced", File: []byte("name: x\n"), Params: map[string]float64{"a": 1, "b": 2},
		Capital: mustDec("100"), Pricing: "rate", Source: "embedded default history", Data: "abc"}
	name := base.Name()
	if !strings.HasPrefix(name, "lst-lrt-balanced-") || len(name) != len("lst-lrt-balanced-")+8 {
		t.Fatalf("Name() = %q, want lst-lrt-balanced-<8 hex>", name)
	}
	if got := (RunKey{Strategy: base.Strategy, File: base.File, Params: map[string]float64{"b": 2, "a": 1}, Capital: mustDec("100"),
		Pricing: "rate", Source: base.Source, Data: "abc"}).Name(); got != name {
		t.Errorf("same key with params in another order: %q, want %q", got, name)
	}
	changes := map[string]func(k *RunKey){
		"file":     func(k *RunKey) { k.File = []byte("name: y\n") },
		"param":    func(k *RunKey) { k.Params = map[string]float64{"a": 1, "b": 2.5} },
		"from":     func(k *RunKey) { k.From = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC) },
		"step":     func(k *RunKey) { k.Step = time.Hour },
		"capital":  func(k *RunKey) { k.Capital = mustDec("1000") },
		"pricing":  func(k *RunKey) { k.Pricing = "market" },
		"riskfree": func(k *RunKey) { k.RiskFree = 0.04 },
		"source":   func(k *RunKey) { k.Source = "h.db" },
		"data":     func(k *RunKey) { k.Data = "abd" },
		"catalog":  func(k *RunKey) { k.Catalog = []byte("profiles: []") },
	}
	for what, change := range changes {
		k := base
		change(&k)
		if k.Name() == name {
			t.Errorf("changing the %s keeps the name %q", what, name)
		}
	}
	if got := (RunKey{Strategy: "a/b c"}).Name(); !strings.HasPrefix(got, "a_b_c-") {
		t.Errorf("Name of strategy %q = %q, want a_b_c-<hash>", "a/b c", got)
	}
	if got := (RunKey{Strategy: ".."}).Name(); !strings.HasPrefix(got, "run-") {
		t.Errorf("Name of strategy .. = %q, want run-<hash>", got)
	}
}

func TestDrawdowns(t *testing.T) {
	got := Drawdowns([]float64{100, 110, 99, 121, 121, 60.5})
	want := []float64{0, 0, 0.1, 0, 0, 0.5}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b float64) bool { return a-b < 1e-12 && b-a < 1e-12 })); diff != "" {
		t.Errorf("Drawdowns (-want +got):\n%s", diff)
	}
}

func TestOutcome(t *testing.T) {
	tests := []struct {
		name string
		d    vault.Decision
		want string
	}{
		{"orders", vault.Decision{Orders: []vault.Order{{Market: "m"}}}, OutcomeTraded},
		{"condition", vault.Decision{Reasons: []string{"not executed: rebalance condition false: x"}, Rejected: []vault.Rejection{{Market: "m"}}}, OutcomeSkipped},
		{"rejected", vault.Decision{Rejected: []vault.Rejection{{Market: "m", Reason: "gas"}}}, OutcomeRejected},
		{"on target", vault.Decision{Reasons: []string{"on target: nothing to trade"}}, OutcomeOnTarget},
	}
	for _, tt := range tests {
		if got := Outcome(&tt.d); got != tt.want {
			t.Errorf("%s: Outcome = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestWriteRun_Folder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	r := fixtureResult(48)
	if err := WriteRun(dir, r); err != nil {
		t.Fatal(err)
	}
	if !Finished(dir) {
		t.Fatalf("Finished(%s) = false after WriteRun", dir)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	want := []string{DecisionsFile, EquityFile, LedgerFile, ReportFile, SummaryFile}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("run folder files (-want +got), no temporary files left:\n%s", diff)
	}
	// CSV files: the header plus one row per step, entry or decision.
	rows := map[string]int{EquityFile: len(r.Steps), LedgerFile: len(r.Ledger), DecisionsFile: len(r.Decisions)}
	for f, n := range rows {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if got := len(recs) - 1; got != n {
			t.Errorf("%s: %d rows, want %d", f, got, n)
		}
	}
	back, err := ReadSummary(dir)
	if err != nil {
		t.Fatal(err)
	}
	if back.Settings.Strategy != r.Settings.Strategy || back.Data.Steps != r.Data.Steps {
		t.Errorf("ReadSummary: strategy %q steps %d, want %q %d", back.Settings.Strategy, back.Data.Steps, r.Settings.Strategy, r.Data.Steps)
	}
	// A rewrite of the same result gives the same bytes.
	first, _ := os.ReadFile(filepath.Join(dir, SummaryFile))
	if err := WriteRun(dir, fixtureResult(48)); err != nil {
		t.Fatal(err)
	}
	second, _ := os.ReadFile(filepath.Join(dir, SummaryFile))
	if !bytes.Equal(first, second) {
		t.Errorf("summary.json changed on a rewrite of the same result")
	}
}

func TestWriteRun_Errors(t *testing.T) {
	if err := WriteRun(t.TempDir(), nil); !errors.Is(err, adapters.ErrInvalid) {
		t.Errorf("WriteRun(nil) = %v, want KindInvalid", err)
	}
	// A folder path that is a file.
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteRun(f, fixtureResult(4)); err == nil {
		t.Errorf("WriteRun into a file: no error")
	}
	if Finished(f) {
		t.Errorf("Finished(file) = true")
	}
	if _, err := ReadSummary(t.TempDir()); !errors.Is(err, adapters.ErrNotFound) {
		t.Errorf("ReadSummary(empty dir) = %v, want KindNotFound", err)
	}
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, SummaryFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadSummary(bad); !errors.Is(err, adapters.ErrInvalid) {
		t.Errorf("ReadSummary(bad JSON) = %v, want KindInvalid", err)
	}
}

// TestGolden compares every file of the fixture's run folder with
// testdata/golden; go test -update rewrites them.
func TestGolden(t *testing.T) {
	dir := t.TempDir()
	if err := WriteRun(dir, fixtureResult(48)); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{SummaryFile, EquityFile, LedgerFile, DecisionsFile, ReportFile} {
		got, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "golden", f)
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s (go test -update rewrites it):\n%s", f, golden, firstDiff(string(want), string(got)))
		}
	}
}

// firstDiff shows the first differing line of two texts.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + w + "\n  got:  " + g
		}
	}
	return "(same lines)"
}

// BenchmarkWriteRun writes the run folder of three years of hourly steps
// (26280 steps, 3 markets, 5 benchmarks): CSVs, report and summary.
func BenchmarkWriteRun(b *testing.B) {
	r := fixtureResult(26280)
	dir := b.TempDir()
	b.ResetTimer()
	for b.Loop() {
		if err := WriteRun(dir, r); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	st, err := os.Stat(filepath.Join(dir, ReportFile))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(st.Size())/1024, "report-KiB")
}
