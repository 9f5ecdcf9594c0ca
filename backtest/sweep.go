package backtest

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
	"github.com/yieldvault/yieldvault/strategies/rules"
)

// Objectives a sweep can sort by. max_drawdown sorts ascending (smaller
// is better), the others descending.
var Objectives = []string{"apy", "sharpe", "sortino", "total_return", "max_drawdown", "calmar"}

// SweepSpec is a parameter sweep: one base run, a grid of parameters,
// and how to run and record the points.
type SweepSpec struct {
	// Spec is the base run. Its Data is loaded once (from Loader, when
	// Data is nil) and shared read-only by every point. Its Strategy is
	// the base strategy; each point gets WithParams(point).
	Spec Spec
	// Grid lists the swept parameters and their values. The points are
	// the cartesian product in Grid order, the last parameter varying
	// fastest (see GridPoints).
	Grid []Param
	// Workers is the number of runs at once (-j); < 1 means 1.
	Workers int
	// Objective sorts the results (see Objectives); "" means "apy".
	Objective string
	// WithParams builds a point's strategy. Nil means the base strategy's
	// own WithParams (rules strategies, or any strategy with a
	// WithParams(map[string]float64) (strategies.Strategy, error) method).
	WithParams func(params map[string]float64) (strategies.Strategy, error)
	// Done, when set, reports whether a point already finished (its
	// outputs exist): the point is skipped and marked Skipped.
	Done func(run *SweepRun) bool
	// Write, when set, records a finished point (its outputs). Calls are
	// serialised (never two at once) but come in completion order; an
	// error stops the sweep.
	Write func(run *SweepRun) error
	// KeepResults keeps every point's full Result in SweepRun.Result;
	// otherwise it is dropped after Write to bound memory.
	KeepResults bool
	// Shard, when set, runs only the shard's points (Shard.Has of the
	// grid index); the others are not in the result.
	Shard Shard
}

// GridPoints returns the points of a grid: the cartesian product of the
// parameters' values, in Grid order with the last parameter varying
// fastest. An empty grid has one point (no overrides). A parameter
// without values, with a duplicate name or a non-finite value is
// KindInvalid.
func GridPoints(grid []Param) ([]map[string]float64, error) {
	const op = "backtest.GridPoints"
	seen := map[string]bool{}
	total := 1
	for _, p := range grid {
		if p.Name == "" {
			return nil, adapters.E(op, adapters.KindInvalid, "a swept parameter has no name")
		}
		if seen[p.Name] {
			return nil, adapters.E(op, adapters.KindInvalid, "parameter %s is swept twice", p.Name)
		}
		seen[p.Name] = true
		if len(p.Values) == 0 {
			return nil, adapters.E(op, adapters.KindInvalid, "parameter %s has no values", p.Name)
		}
		for _, v := range p.Values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, adapters.E(op, adapters.KindInvalid, "parameter %s: value %g is not a finite number", p.Name, v)
			}
		}
		total *= len(p.Values)
		if total > 1_000_000 {
			return nil, adapters.E(op, adapters.KindInvalid, "the grid has more than 1000000 points")
		}
	}
	out := make([]map[string]float64, 0, total)
	idx := make([]int, len(grid))
	for {
		pt := make(map[string]float64, len(grid))
		for i, p := range grid {
			pt[p.Name] = p.Values[idx[i]]
		}
		out = append(out, pt)
		i := len(grid) - 1
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < len(grid[i].Values) {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return out, nil
		}
	}
}

// PointKey names a point: "name=value" pairs sorted by name, joined by
// commas, values in Go's shortest float form ("max_lrt=0.3,min_peg=0.99").
func PointKey(p map[string]float64) string {
	names := make([]string, 0, len(p))
	for k := range p {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for i, k := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(strconv.FormatFloat(p[k], 'g', -1, 64))
	}
	return b.String()
}

// ObjectiveValue returns the value of an objective metric.
func ObjectiveValue(m *Metrics, objective string) (float64, error) {
	switch objective {
	case "", "apy":
		return m.APY, nil
	case "sharpe":
		return m.Sharpe, nil
	case "sortino":
		return m.Sortino, nil
	case "total_return":
		return m.TotalReturn, nil
	case "max_drawdown":
		return m.MaxDrawdown, nil
	case "calmar":
		return m.Calmar, nil
	}
	return 0, adapters.E("backtest.ObjectiveValue", adapters.KindInvalid, "unknown objective %q (want one of %s)", objective, strings.Join(Objectives, ", "))
}

// ObjectiveDefined reports whether an objective's value is defined for m:
// sharpe, sortino and calmar are undefined when the risk they divide by
// is below RatioFloor (their value is then 0, which must not rank as a
// real 0); the other objectives are always defined.
func ObjectiveDefined(m *Metrics, objective string) bool {
	switch objective {
	case "sharpe":
		return m.SharpeDefined()
	case "sortino":
		return m.SortinoDefined()
	case "calmar":
		return m.CalmarDefined()
	}
	return true
}

// LessRun orders two sweep runs best first by an objective: finished
// runs with a defined objective by its value (max_drawdown ascending, the
// others descending), then finished runs whose objective is undefined,
// then failed runs, then skipped ones; ties by grid index.
func LessRun(a, b *SweepRun, objective string) bool {
	ra, rb := rank(a), rank(b)
	if ra != rb {
		return ra < rb
	}
	if ra == 0 && a.Objective != b.Objective {
		if objective == "max_drawdown" {
			return a.Objective < b.Objective
		}
		return a.Objective > b.Objective
	}
	return a.Index < b.Index
}

// Sweep runs every point of the grid over the same loaded Window on
// Workers goroutines and returns the runs sorted by the objective: best
// first (max_drawdown ascending, the others descending), ties by grid
// index; failed and skipped points follow, by index. A point whose run
// fails records its error and the sweep goes on; a Write error or a
// cancelled context stops it. Each run is a pure function of its point,
// so the results do not depend on Workers.
func Sweep(ctx context.Context, ss SweepSpec) ([]SweepRun, error) {
	const op = "backtest.Sweep"
	if _, err := ObjectiveValue(&Metrics{}, ss.Objective); err != nil {
		return nil, err
	}
	points, err := GridPoints(ss.Grid)
	if err != nil {
		return nil, err
	}
	base := ss.Spec
	if base.Strategy == nil {
		return nil, adapters.E(op, adapters.KindInvalid, "no strategy")
	}
	withParams := ss.WithParams
	if withParams == nil {
		switch s := base.Strategy.(type) {
		case *rules.Strategy:
			withParams = func(p map[string]float64) (strategies.Strategy, error) { return s.WithParams(p) }
		case interface {
			WithParams(map[string]float64) (strategies.Strategy, error)
		}:
			withParams = s.WithParams
		default:
			return nil, adapters.E(op, adapters.KindInvalid, "strategy %s has no WithParams: set SweepSpec.WithParams", base.Strategy.Name())
		}
	}
	// Load once.
	if base.Data == nil {
		universe := base.Universe
		if len(universe) == 0 {
			universe = UniverseOf(base.Strategy)
		}
		if base.Loader == nil {
			return nil, adapters.E(op, adapters.KindInvalid, "no data: set Spec.Data or Spec.Loader")
		}
		w, err := LoadUniverse(ctx, base.Loader, universe, base.From, base.To, base.Lookback)
		if err != nil {
			return nil, err
		}
		base.Data = w
	}
	// The points share their benchmarks (the same data, range, capital,
	// pricing and gas; each run checks its universe): computed once. When
	// that fails, every point computes its own (and reports the failure).
	if sh, err := sweepBenchmarks(ctx, base); err == nil {
		base.shared = sh
	}
	runs := make([]SweepRun, 0, len(points))
	for i, p := range points {
		if ss.Shard.Has(i) {
			runs = append(runs, SweepRun{Index: i, Key: PointKey(p), Params: p})
		}
	}
	workers := max(1, ss.Workers)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex // serialises Write and guards stop
	var stop error
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				r := &runs[i]
				sweepPoint(ctx, base, withParams, ss.Objective, r)
				if r.Err == "" && ss.Write != nil {
					mu.Lock()
					if stop == nil {
						if err := ss.Write(r); err != nil {
							stop = adapters.Wrap(op, adapters.KindOf(err), fmt.Errorf("point %s: %w", r.Key, err))
							cancel()
						}
					}
					mu.Unlock()
				}
				if !ss.KeepResults {
					r.Result = nil
				}
			}
		}()
	}
feed:
	for i := range runs {
		if ss.Done != nil && ss.Done(&runs[i]) {
			runs[i].Skipped = true
			continue
		}
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if stop != nil {
		return nil, stop
	}
	if err := ctx.Err(); err != nil {
		return nil, adapters.Wrap(op, adapters.KindOther, err)
	}
	sort.SliceStable(runs, func(i, j int) bool { return LessRun(&runs[i], &runs[j], ss.Objective) })
	return runs, nil
}

// rank orders finished runs with a defined objective before those whose
// objective is undefined, before failed, before skipped ones.
func rank(r *SweepRun) int {
	switch {
	case r.Skipped:
		return 3
	case r.Err != "":
		return 2
	case r.Undefined:
		return 1
	}
	return 0
}

func sweepPoint(ctx context.Context, base Spec, withParams func(map[string]float64) (strategies.Strategy, error), objective string, r *SweepRun) {
	s, err := withParams(r.Params)
	if err != nil {
		r.Err = err.Error()
		return
	}
	spec := base
	spec.Strategy = s
	spec.Progress = nil
	spec.Params = make(map[string]float64, len(base.Params)+len(r.Params))
	for k, v := range base.Params {
		spec.Params[k] = v
	}
	for k, v := range r.Params {
		spec.Params[k] = v
	}
	res, err := Run(ctx, spec)
	if err != nil {
		r.Err = err.Error()
		return
	}
	r.Result, r.Metrics = res, res.Metrics
	r.Objective, _ = ObjectiveValue(&res.Metrics, objective)
	r.Undefined = !ObjectiveDefined(&res.Metrics, objective)
}

// sweepBenchmarks computes the benchmarks of a sweep's base spec: its
// benchmark track alone, from a run brought to From.
func sweepBenchmarks(ctx context.Context, spec Spec) (*sharedBench, error) {
	e := &engine{spec: spec, op: "backtest.Sweep", gasM: -1}
	if err := e.setup(ctx); err != nil {
		return nil, err
	}
	if err := e.start(); err != nil {
		return nil, err
	}
	from := e.spec.From
	b := e.newBenchTrack(from)
	b.run(from, e.v.GasPrice(), e.v.GasAssetPrice())
	return &sharedBench{key: e.benchKey(), out: b.out}, nil
}
