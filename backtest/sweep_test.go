package backtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
	"github.com/yieldvault/yieldvault/strategies/rules"
)

func TestGridPoints(t *testing.T) {
	got, err := GridPoints([]Param{{Name: "b", Values: []float64{1, 2}}, {Name: "a", Values: []float64{0.5, 0.25, 0}}})
	if err != nil {
		t.Fatal(err)
	}
	want := []map[string]float64{
		{"b": 1, "a": 0.5}, {"b": 1, "a": 0.25}, {"b": 1, "a": 0},
		{"b": 2, "a": 0.5}, {"b": 2, "a": 0.25}, {"b": 2, "a": 0},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("GridPoints (-want +got):\n%s", d)
	}
	if got, _ := GridPoints(nil); len(got) != 1 || len(got[0]) != 0 {
		t.Errorf("GridPoints(nil) = %v, want one empty point", got)
	}
	for _, bad := range [][]Param{{{Name: "a"}}, {{Name: "a", Values: []float64{1}}, {Name: "a", Values: []float64{2}}}, {{Values: []float64{1}}}} {
		if _, err := GridPoints(bad); !errors.Is(err, adapters.ErrInvalid) {
			t.Errorf("GridPoints(%v): got %v, want KindInvalid", bad, err)
		}
	}
}

func TestPointKey(t *testing.T) {
	if got, want := PointKey(map[string]float64{"min_peg": 0.99, "max_lrt": 0.3}), "max_lrt=0.3,min_peg=0.99"; got != want {
		t.Errorf("PointKey = %q, want %q", got, want)
	}
}

func sweepSpec(t *testing.T) SweepSpec {
	t.Helper()
	s := loadExample(t, "lst-lrt-balanced.yaml")
	from, to := day("2024-03-01"), day("2024-04-15")
	w := defaultWindow(t, s, from, to)
	return SweepSpec{
		Spec:      Spec{Strategy: s, Data: w, From: from, To: to, Capital: decimal.NewFromInt(100)},
		Grid:      []Param{{Name: "min_peg", Values: []float64{0.9, 0.99, 0.999}}, {Name: "min_tvl", Values: []float64{0, 1e12}}},
		Objective: "sharpe",
	}
}

func TestSweep(t *testing.T) {
	ctx := context.Background()
	ss := sweepSpec(t)
	var mu sync.Mutex
	var written []string
	ss.Write = func(r *SweepRun) error {
		mu.Lock()
		defer mu.Unlock()
		if r.Result == nil {
			t.Errorf("Write(%s): no result", r.Key)
		}
		written = append(written, r.Key)
		return nil
	}
	ss.Workers = 1
	one, err := Sweep(ctx, ss)
	if err != nil {
		t.Fatal(err)
	}
	ss.Workers = 2
	written = nil
	two, err := Sweep(ctx, ss)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(one, two, cmp.Comparer(func(a, b decimal.Decimal) bool { return a.Equal(b) })); d != "" {
		t.Errorf("-j 1 and -j 2 differ (-j1 +j2):\n%s", d)
	}
	if len(written) != 6 {
		t.Errorf("Write called %d times, want 6", len(written))
	}
	// Sorted by Sharpe, best first; every point once.
	seen := map[int]bool{}
	for i, r := range two {
		if r.Err != "" {
			t.Errorf("point %s failed: %s", r.Key, r.Err)
		}
		seen[r.Index] = true
		// Defined Sharpes best first, then the undefined ones (issue 16:
		// an undefined Sharpe ranked as 0, above worse defined points).
		if r.Undefined != !r.Metrics.SharpeDefined() {
			t.Errorf("point %s: Undefined %v, Sharpe defined %v", r.Key, r.Undefined, r.Metrics.SharpeDefined())
		}
		if i > 0 && two[i-1].Undefined && !r.Undefined {
			t.Errorf("point %s with a defined Sharpe after one whose Sharpe is undefined", r.Key)
		}
		if i > 0 && !r.Undefined && r.Objective > two[i-1].Objective {
			t.Errorf("runs not sorted by objective: %g after %g", r.Objective, two[i-1].Objective)
		}
		if r.Objective != r.Metrics.Sharpe {
			t.Errorf("point %s: objective %g, Sharpe %g", r.Key, r.Objective, r.Metrics.Sharpe)
		}
		if r.Result != nil {
			t.Errorf("point %s keeps its result without KeepResults", r.Key)
		}
	}
	if len(seen) != 6 {
		t.Errorf("sweep returned points %v, want 6 distinct", seen)
	}
	// An impossible TVL floor makes every market ineligible: all idle.
	for _, r := range two {
		if r.Params["min_tvl"] == 1e12 && r.Metrics.TotalReturn != 0 {
			t.Errorf("point %s holds nothing but returns %g", r.Key, r.Metrics.TotalReturn)
		}
	}
}

func TestSweep_SkipAndErrors(t *testing.T) {
	ctx := context.Background()
	ss := sweepSpec(t)
	ss.Grid = []Param{{Name: "min_peg", Values: []float64{0.9, 0.99}}, {Name: "min_tvl", Values: []float64{0}}}
	ss.Objective = "max_drawdown"
	ss.Done = func(r *SweepRun) bool { return r.Params["min_peg"] == 0.9 }
	runs, err := Sweep(ctx, ss)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[1].Skipped != true || runs[1].Key != "min_peg=0.9,min_tvl=0" || runs[0].Skipped {
		t.Errorf("skip: got %+v", runs)
	}
	ss.Done = nil
	ss.Grid = []Param{{Name: "no_such_param", Values: []float64{1}}}
	runs, err = Sweep(ctx, ss)
	if err != nil || len(runs) != 1 || runs[0].Err == "" {
		t.Errorf("unknown parameter: got %v, %+v; want the point to fail alone", err, runs)
	}
	ss.Objective = "happiness"
	if _, err := Sweep(ctx, ss); !errors.Is(err, adapters.ErrInvalid) {
		t.Errorf("unknown objective: got %v, want KindInvalid", err)
	}
	ss = sweepSpec(t)
	ss.Write = func(r *SweepRun) error { return adapters.E("test", adapters.KindPaused, "disk full") }
	if _, err := Sweep(ctx, ss); !errors.Is(err, adapters.ErrPaused) {
		t.Errorf("Write error: got %v, want it returned", err)
	}
}

// TestSweep_SharedBenchmarks: a sweep computes its points' benchmarks
// once; every point's are a lone run's, byte for byte, also for a point
// whose strategy trades another universe (which computes its own).
func TestSweep_SharedBenchmarks(t *testing.T) {
	ctx := context.Background()
	ss := sweepSpec(t)
	ss.KeepResults = true
	base := ss.Spec.Strategy.(*rules.Strategy)
	small, err := rules.Load("small.yaml", []byte(`name: small
base: ETH
universe: [lido/steth, aave-v3/weth]
params: { min_peg: 0.99, min_tvl: 50e6 }
rules: { eligible: peg >= params.min_peg && tvl > params.min_tvl, score: net_apy }
`), adapters.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	ss.WithParams = func(p map[string]float64) (strategies.Strategy, error) {
		if p["min_tvl"] > 0 {
			return small.WithParams(p)
		}
		return base.WithParams(p)
	}
	runs, err := Sweep(ctx, ss)
	if err != nil {
		t.Fatal(err)
	}
	if ss.Spec.shared != nil {
		t.Fatal("Sweep changed the caller's spec")
	}
	kinds := map[int]bool{}
	shared := map[*float64]int{} // the first hold curve's array: shared by the base universe's points
	for _, r := range runs {
		shared[&r.Result.Benchmarks[0].Curve[0]]++
		if r.Err != "" {
			t.Fatalf("point %s: %s", r.Key, r.Err)
		}
		spec := ss.Spec
		spec.Strategy, _ = ss.WithParams(r.Params)
		spec.Params = r.Params
		lone, err := Run(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := json.Marshal(r.Result.Benchmarks)
		want, _ := json.Marshal(lone.Benchmarks)
		if !bytes.Equal(got, want) {
			t.Errorf("point %s: the sweep's benchmarks differ from a lone run's", r.Key)
		}
		kinds[len(lone.Benchmarks)] = true
	}
	if len(shared) != 1+3 { // the three base-universe points share one set; the others compute their own
		t.Errorf("benchmark arrays used by the points: %v, want one shared by three and three of their own", shared)
	}
	if len(kinds) != 2 {
		t.Errorf("the points' benchmark counts %v: want both universes covered", kinds)
	}
}

func TestLessRun_UndefinedAfterDefined(t *testing.T) {
	runs := []SweepRun{
		{Index: 0, Objective: 0, Undefined: true},
		{Index: 1, Objective: -4.7},
		{Index: 2, Err: "boom"},
		{Index: 3, Objective: 1.2},
		{Index: 4, Skipped: true},
		{Index: 5, Objective: 0, Undefined: true},
	}
	for _, c := range []struct {
		objective string
		want      []int
	}{
		{"sharpe", []int{3, 1, 0, 5, 2, 4}},
		{"max_drawdown", []int{1, 3, 0, 5, 2, 4}},
	} {
		rs := append([]SweepRun(nil), runs...)
		sort.SliceStable(rs, func(i, j int) bool { return LessRun(&rs[i], &rs[j], c.objective) })
		var got []int
		for _, r := range rs {
			got = append(got, r.Index)
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s: order %v, want %v", c.objective, got, c.want)
		}
	}
}
