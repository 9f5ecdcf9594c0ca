package backtest

import (
	"context"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
	"github.com/yieldvault/yieldvault/adapters/history/synth"
	"github.com/yieldvault/yieldvault/vault"
)

// MonteCarloSpec is a Monte Carlo study: Paths synthetic histories of a
// scenario with random events (synth.Config.RandomEvents), each run
// through the backtest with the same strategy and settings.
type MonteCarloSpec struct {
	// Spec is the base run: Strategy, Catalog, Capital, Pricing, Step,
	// RiskFree, Lookback, From and To (both required: the range each path
	// covers). Data and Loader are ignored: each path generates its own.
	Spec Spec
	// Scenario names the synthetic scenario; SlashScope and Rates
	// override its slash scope and its event rates (nil: its own).
	Scenario   string
	SlashScope string
	Rates      *synth.EventRates
	// GenStep is the generator's step (0: one hour).
	GenStep time.Duration
	// Paths is the number of paths (>= 1); Seed the study's seed. Path i
	// uses PathSeed(Seed, i): a path is a pure function of (strategy,
	// scenario, settings, Seed, i), so Workers never changes a result.
	Paths   int
	Seed    uint64
	Workers int
	// FanPoints is the number of times the fan chart samples each path's
	// equity (0: 60).
	FanPoints int
	// Progress, when set, is called after each path with the number done.
	Progress func(done int)
	// Shard, when set, runs only the shard's paths (Shard.Has of the path
	// index): the result holds those paths and no summary; MergeMonteCarlo
	// combines the shards' paths into the whole study's result.
	Shard Shard
	// viaSQLite loads each path's history through an in-memory SQLite
	// database (Write then Load), the way paths were loaded before
	// history.BatchWindow: the tests' reference.
	viaSQLite bool
}

// MCPath is one path's outcome.
type MCPath struct {
	Index       int     `json:"index"`
	Seed        uint64  `json:"seed"`
	APY         float64 `json:"apy"`
	TotalReturn float64 `json:"total_return"`
	MaxDrawdown float64 `json:"max_drawdown"`
	EndValue    float64 `json:"end_value"`
	Loss        bool    `json:"loss"`
	// QueueExit: the vault left a market through its withdrawal queue.
	QueueExit bool `json:"queue_exit"`
	// Liquidated: a protocol liquidated one of the vault's loops.
	Liquidated bool `json:"liquidated"`
	// Events counts the path's slash, depeg and pause events in the
	// strategy's universe.
	Slashes int    `json:"slashes"`
	Depegs  int    `json:"depegs"`
	Pauses  int    `json:"pauses"`
	Err     string `json:"error,omitempty"`
	// Fan is the equity sampled at MCResult.FanTimes.
	Fan []float64 `json:"-"`
}

// Quantiles of a distribution at MCQuantiles.
type Quantiles struct {
	P5, P25, P50, P75, P95 float64
	Mean                   float64
}

// MCSummary is the distribution over the finished paths.
type MCSummary struct {
	Paths, Failed int
	APY           Quantiles
	MaxDrawdown   Quantiles
	EndValue      Quantiles
	// VaR95 is the 95th percentile of the loss Capital - EndValue (in
	// the base asset; negative when even the 5% worst paths gain); CVaR95
	// the mean loss of the worst 5% of paths (at least one path).
	VaR95, CVaR95 float64
	// ProbLoss: share of paths ending below Capital; ProbQueueExit: share
	// that left a market through its withdrawal queue.
	ProbLoss, ProbQueueExit float64
	// ProbLiquidation is the share of paths on which a protocol
	// liquidated one of the vault's loops; undefined (nil) when the
	// universe holds no market that borrows: no position can be
	// liquidated.
	ProbLiquidation *float64
}

// MCResult is a Monte Carlo study's result.
type MCResult struct {
	Spec     *MonteCarloSpec
	Paths    []MCPath
	Summary  MCSummary
	FanTimes []time.Time
	// Fan holds, per FanTimes, the 5/25/50/75/95% quantiles of equity.
	Fan      [][5]float64
	Warnings []string
	// settings, when set, are the study's settings read back from its
	// shards (MergeMonteCarlo); Spec is then nil.
	settings *MCSettings
	// borrows: the universe holds a market that borrows (a loop).
	borrows bool
}

// PathSeed is path i's generator seed: a SplitMix64 mix of the study's
// seed and i.
func PathSeed(seed uint64, i int) uint64 {
	z := seed + 0x9e3779b97f4a7c15*uint64(i+1)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// MonteCarlo runs the study on Workers goroutines. A path whose run fails
// records its error; the study goes on (the summary is over the finished
// paths and says how many failed).
func MonteCarlo(ctx context.Context, ms MonteCarloSpec) (*MCResult, error) {
	const op = "backtest.MonteCarlo"
	sp := ms.Spec
	switch {
	case sp.Strategy == nil:
		return nil, adapters.E(op, adapters.KindInvalid, "no strategy")
	case ms.Paths < 1:
		return nil, adapters.E(op, adapters.KindInvalid, "paths %d: need at least 1", ms.Paths)
	case ms.Paths > 1_000_000:
		return nil, adapters.E(op, adapters.KindInvalid, "paths %d: more than 1000000", ms.Paths)
	case sp.From.IsZero() || sp.To.IsZero() || !sp.From.Before(sp.To):
		return nil, adapters.E(op, adapters.KindInvalid, "a Monte Carlo study needs a range: from before to")
	case sp.Capital.Sign() <= 0:
		return nil, adapters.E(op, adapters.KindInvalid, "capital %s must be > 0", sp.Capital)
	case sp.Lookback < 0:
		return nil, adapters.E(op, adapters.KindInvalid, "negative look-back %s", sp.Lookback)
	}
	cat := sp.Catalog
	if cat == nil {
		cat = adapters.Builtin()
	}
	universe := sp.Universe
	if len(universe) == 0 {
		universe = UniverseOf(sp.Strategy)
	}
	ms.Spec.Universe = universe
	// The markets generated: the universe's, a loop's legs in its place
	// (its history is composed from theirs at load).
	var markets []adapters.Market
	borrows := false
	have := map[string]bool{}
	add := func(m adapters.Market) {
		if !have[m.ID] {
			have[m.ID] = true
			markets = append(markets, m)
		}
	}
	for _, id := range universe {
		m, err := cat.Market(id)
		if err != nil {
			return nil, err
		}
		if m.Legs == nil {
			add(m)
			continue
		}
		borrows = true
		for _, leg := range m.Legs.IDs() {
			lm, err := cat.Market(leg)
			if err != nil {
				return nil, err
			}
			add(lm)
		}
	}
	if len(markets) == 0 {
		return nil, adapters.E(op, adapters.KindInvalid, "strategy %s has no universe", sp.Strategy.Name())
	}
	lookback := sp.Lookback
	if lookback == 0 {
		lookback = DefaultLookback
	}
	genStep := ms.GenStep
	if genStep == 0 {
		genStep = time.Hour
	}
	fanN := ms.FanPoints
	if fanN <= 0 {
		fanN = 60
	}
	res := &MCResult{Spec: &ms, Paths: make([]MCPath, ms.Paths), borrows: borrows}
	for k := 0; k < fanN; k++ {
		res.FanTimes = append(res.FanTimes, sp.From.Add(time.Duration(float64(sp.To.Sub(sp.From))*float64(k)/float64(fanN-1))).Truncate(time.Second))
	}
	// Check the scenario and rates once, with a one-day probe.
	if _, err := synth.Generate(synth.Config{Scenario: ms.Scenario, From: sp.From, To: sp.From.Add(24 * time.Hour), Step: genStep,
		Seed: ms.Seed, Markets: markets, Catalog: cat, SlashScope: ms.SlashScope, RandomEvents: true, Rates: ms.Rates}); err != nil {
		return nil, err
	}
	workers := max(1, ms.Workers)
	jobs := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				p := &res.Paths[i]
				*p = MCPath{Index: i, Seed: PathSeed(ms.Seed, i)}
				if err := runPath(ctx, ms, markets, cat, lookback, genStep, res.FanTimes, p); err != nil {
					p.Err = err.Error()
				}
				if ms.Progress != nil {
					mu.Lock()
					done++
					ms.Progress(done)
					mu.Unlock()
				}
			}
		}()
	}
feed:
	for i := 0; i < ms.Paths; i++ {
		if !ms.Shard.Has(i) {
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
	if err := ctx.Err(); err != nil {
		return nil, adapters.Wrap(op, adapters.KindOther, err)
	}
	if ms.Shard.Sharded() {
		var mine []MCPath
		for _, i := range ms.Shard.Items(ms.Paths) {
			mine = append(mine, res.Paths[i])
		}
		res.Paths = mine
		return res, nil
	}
	res.finish(sp.Capital.InexactFloat64())
	return res, nil
}

// MergeMonteCarlo is the result of a study run in shards: its settings
// (as Settings returned them), its fan times and every path, from the
// shards' results. It is the result the study gives on one machine:
// the same summary, fan, warnings and output bytes.
func MergeMonteCarlo(st MCSettings, fanTimes []time.Time, paths []MCPath) (*MCResult, error) {
	const op = "backtest.MergeMonteCarlo"
	if len(paths) != st.Paths {
		return nil, adapters.E(op, adapters.KindInvalid, "%d paths for a study of %d", len(paths), st.Paths)
	}
	out := make([]MCPath, len(paths))
	seen := make([]bool, len(paths))
	for _, p := range paths {
		if p.Index < 0 || p.Index >= len(paths) || seen[p.Index] {
			return nil, adapters.E(op, adapters.KindInvalid, "path %d is out of range or given twice", p.Index)
		}
		seen[p.Index] = true
		out[p.Index] = p
	}
	capital, err := decimal.NewFromString(st.Capital)
	if err != nil {
		return nil, adapters.E(op, adapters.KindInvalid, "capital %q: %v", st.Capital, err)
	}
	res := &MCResult{Paths: out, FanTimes: fanTimes, settings: &st, borrows: st.Borrows}
	res.finish(capital.InexactFloat64())
	return res, nil
}

// finish computes the summary and the fan over every path and adds the
// warnings.
func (res *MCResult) finish(capital float64) {
	res.summarise(capital)
	n := len(res.Paths)
	if res.Summary.Failed > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d of %d paths failed (their errors are in paths.csv); the figures are over the %d others",
			res.Summary.Failed, n, n-res.Summary.Failed))
	}
	if !res.borrows {
		res.Warnings = append(res.Warnings, "probability of a liquidation: n/a (no market of the universe borrows: no position can be liquidated)")
	}
}

// runPath generates path p's history, runs the backtest over it and
// records the outcome.
func runPath(ctx context.Context, ms MonteCarloSpec, markets []adapters.Market, cat *adapters.Catalog, lookback, genStep time.Duration, fanTimes []time.Time, p *MCPath) error {
	sp := ms.Spec
	b, err := synth.Generate(synth.Config{Scenario: ms.Scenario, From: sp.From.Add(-lookback), To: sp.To, Step: genStep,
		Seed: p.Seed, Markets: markets, Catalog: cat, SlashScope: ms.SlashScope, RandomEvents: true, Rates: ms.Rates})
	if err != nil {
		return err
	}
	var w *adapters.Window
	if ms.viaSQLite {
		w, err = loadViaSQLite(ctx, b, cat, sp.Universe, sp.From, sp.To, lookback)
	} else {
		// The window Write then Load would give, without the database.
		w, err = history.BatchWindow(b, sp.Universe, sp.From.Add(-lookback), sp.To, cat)
		if err == nil && w.Rows() == 0 {
			err = adapters.E("backtest.Load", adapters.KindInvalid, "no data for %v in %s .. %s", sp.Universe, fmtTime(sp.From.Add(-lookback)), fmtTime(sp.To))
		}
	}
	if err != nil {
		return err
	}
	// The events counted now: the batch (its rows, the largest of a
	// path's allocations) is not used after this and is garbage during the
	// backtest, not live heap the collector marks at every cycle.
	for _, e := range b.Events {
		if e.Time.Before(sp.From) {
			continue
		}
		switch e.Type {
		case adapters.EventSlash:
			p.Slashes++
		case adapters.EventDepeg:
			p.Depegs++
		case adapters.EventPause:
			p.Pauses++
		}
	}
	run := sp
	run.Data, run.Loader, run.Progress = w, nil, nil
	run.noBenchmarks = true
	r, err := Run(ctx, run)
	if err != nil {
		return err
	}
	m := &r.Metrics
	p.APY, p.TotalReturn, p.MaxDrawdown, p.EndValue = m.APY, m.TotalReturn, m.MaxDrawdown, m.EndValue
	p.Loss = m.EndValue < sp.Capital.InexactFloat64()
	p.Liquidated = m.Liquidations > 0
	for _, e := range r.Ledger {
		if e.Type == vault.EntryQueue {
			p.QueueExit = true
		}
	}
	// Equity at each fan time: the last step at or before it (converted
	// to float at those steps only, not at every step).
	j := 0
	for _, t := range fanTimes {
		for j+1 < len(r.Steps) && !r.Steps[j+1].Time.After(t) {
			j++
		}
		v := 0.0
		if j < len(r.Steps) {
			v = r.Steps[j].Equity.Float()
		}
		p.Fan = append(p.Fan, v)
	}
	return nil
}

// loadViaSQLite writes b into an in-memory database and loads the
// universe's window from it.
func loadViaSQLite(ctx context.Context, b *history.Batch, cat *adapters.Catalog, universe []string, from, to time.Time, lookback time.Duration) (*adapters.Window, error) {
	db, err := history.OpenMemory(ctx, history.WithCatalog(cat), history.WithClock(func() time.Time { return time.Unix(0, 0).UTC() }))
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if _, err := db.Write(ctx, b); err != nil {
		return nil, err
	}
	return LoadUniverse(ctx, db, universe, from, to, lookback)
}

// quantile is the q-quantile of sorted xs by linear interpolation
// between order statistics (type 7); 0 for none.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	h := q * float64(len(xs)-1)
	lo := int(math.Floor(h))
	if lo >= len(xs)-1 {
		return xs[len(xs)-1]
	}
	return xs[lo] + (h-float64(lo))*(xs[lo+1]-xs[lo])
}

func quantilesOf(xs []float64) Quantiles {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	var sum float64
	for _, x := range s {
		sum += x
	}
	q := Quantiles{P5: quantile(s, 0.05), P25: quantile(s, 0.25), P50: quantile(s, 0.5), P75: quantile(s, 0.75), P95: quantile(s, 0.95)}
	if len(s) > 0 {
		q.Mean = sum / float64(len(s))
	}
	return q
}

func (res *MCResult) summarise(capital float64) {
	s := &res.Summary
	s.Paths = len(res.Paths)
	var apy, dd, end, loss []float64
	var nLoss, nQueue, nLiq int
	for i := range res.Paths {
		p := &res.Paths[i]
		if p.Err != "" {
			s.Failed++
			continue
		}
		apy, dd, end = append(apy, p.APY), append(dd, p.MaxDrawdown), append(end, p.EndValue)
		loss = append(loss, capital-p.EndValue)
		if p.Loss {
			nLoss++
		}
		if p.QueueExit {
			nQueue++
		}
		if p.Liquidated {
			nLiq++
		}
	}
	s.APY, s.MaxDrawdown, s.EndValue = quantilesOf(apy), quantilesOf(dd), quantilesOf(end)
	if n := len(loss); n > 0 {
		sort.Float64s(loss)
		s.VaR95 = quantile(loss, 0.95)
		k := max(1, int(math.Ceil(0.05*float64(n))))
		var tail float64
		for _, l := range loss[n-k:] {
			tail += l
		}
		s.CVaR95 = tail / float64(k)
		s.ProbLoss, s.ProbQueueExit = float64(nLoss)/float64(n), float64(nQueue)/float64(n)
		if res.borrows {
			pl := float64(nLiq) / float64(n)
			s.ProbLiquidation = &pl
		}
	}
	for k := range res.FanTimes {
		var col []float64
		for i := range res.Paths {
			if p := &res.Paths[i]; p.Err == "" && k < len(p.Fan) {
				col = append(col, p.Fan[k])
			}
		}
		q := quantilesOf(col)
		res.Fan = append(res.Fan, [5]float64{q.P5, q.P25, q.P50, q.P75, q.P95})
	}
}
