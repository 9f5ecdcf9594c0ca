package backtest

import (
	"context"
	"sort"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
)

// WalkForwardSpec is a walk-forward study: optimise the grid on each
// training window, run the chosen point on the test window that follows,
// and stitch the test windows' equity into one out-of-sample curve.
type WalkForwardSpec struct {
	// Sweep is the grid, the objective and the base run; its Spec must
	// hold the loaded Data (over [From - lookback, To]) and the study's
	// range in From and To.
	Sweep SweepSpec
	// Train and Test are the windows' lengths; windows start at From and
	// advance by Test while a whole test window fits before To.
	Train, Test time.Duration
}

// WFWindow is one training window and the test window that follows.
type WFWindow struct {
	// Index is the window's position (0 first).
	Index     int       `json:"index"`
	TrainFrom time.Time `json:"train_from"`
	TrainTo   time.Time `json:"train_to"`
	TestTo    time.Time `json:"test_to"`
	// Chosen is the best point of the training sweep (LessRun: undefined
	// objectives last); InSample its training metrics, OutOfSample its
	// metrics on the test window.
	Chosen      string             `json:"chosen"`
	Params      map[string]float64 `json:"params"`
	Objective   float64            `json:"objective"`
	Undefined   bool               `json:"objective_undefined,omitempty"`
	InSample    Headline           `json:"in_sample"`
	OutOfSample Headline           `json:"out_of_sample"`
	// TestTimes and TestEquity are the test run's equity (Unix seconds),
	// the first value being the run's start value before its entry, as
	// stitched; empty when the run has no positive start value.
	TestTimes  []int64   `json:"test_times"`
	TestEquity []float64 `json:"test_equity"`
}

// WFResult is a walk-forward study's result.
type WFResult struct {
	Objective string
	Windows   []WFWindow
	// Stitched is the out-of-sample equity: each test window's equity
	// scaled to start where the previous one ended, from the capital.
	StitchedTimes  []int64
	StitchedValues []float64
	// OutOfSample is the stitched curve's Headline; InSample the mean,
	// over the windows, of the chosen points' training APY, volatility,
	// max drawdown and (where defined) Sharpe.
	OutOfSample Headline
	InSample    Headline
	// InSampleSharpeDefined counts the windows whose chosen Sharpe is
	// defined (the mean Sharpe is over those).
	InSampleSharpeDefined int
}

// WFWindows returns the study's windows (their ranges and indices):
// from From, a training window of Train and the test window of Test that
// follows, moving on by Test while a whole test window fits before To.
func WFWindows(wf WalkForwardSpec) ([]WFWindow, error) {
	const op = "backtest.WalkForward"
	base := wf.Sweep.Spec
	if base.Data == nil {
		return nil, adapters.E(op, adapters.KindInvalid, "no data: load it into Sweep.Spec.Data")
	}
	if wf.Train <= 0 || wf.Test <= 0 {
		return nil, adapters.E(op, adapters.KindInvalid, "train %s and test %s must be > 0", wf.Train, wf.Test)
	}
	from, to := base.From, base.To
	if from.IsZero() {
		from = base.Data.From
	}
	if to.IsZero() {
		to = base.Data.To
	}
	var out []WFWindow
	for start := from; !start.Add(wf.Train + wf.Test).After(to); start = start.Add(wf.Test) {
		out = append(out, WFWindow{Index: len(out), TrainFrom: start, TrainTo: start.Add(wf.Train), TestTo: start.Add(wf.Train + wf.Test)})
	}
	if len(out) == 0 {
		return nil, adapters.E(op, adapters.KindInvalid, "no window fits: train %s + test %s is longer than %s .. %s", wf.Train, wf.Test, fmtTime(from), fmtTime(to))
	}
	return out, nil
}

// WalkForward runs the study.
func WalkForward(ctx context.Context, wf WalkForwardSpec) (*WFResult, error) {
	ws, err := WFWindows(wf)
	if err != nil {
		return nil, err
	}
	for i := range ws {
		if err := RunWFWindow(ctx, wf, &ws[i]); err != nil {
			return nil, err
		}
	}
	return AssembleWalkForward(wf.Sweep.Objective, ws, wf.Sweep.Spec.Capital.InexactFloat64(), wf.Sweep.Spec.RiskFree), nil
}

// RunWFWindow runs one window (from WFWindows): the training sweep, then
// the chosen point on the test window. Windows are independent, so a
// shard may run any subset; AssembleWalkForward stitches them in order.
func RunWFWindow(ctx context.Context, wf WalkForwardSpec, w *WFWindow) error {
	const op = "backtest.WalkForward"
	ss := wf.Sweep
	ss.Spec.From, ss.Spec.To = w.TrainFrom, w.TrainTo
	ss.Done, ss.Write, ss.KeepResults, ss.Shard = nil, nil, false, Shard{}
	runs, err := Sweep(ctx, ss)
	if err != nil {
		return err
	}
	best := runs[0]
	if best.Err != "" {
		return adapters.E(op, adapters.KindInvalid, "training window %s .. %s: every point failed (first: %s)", fmtTime(w.TrainFrom), fmtTime(w.TrainTo), best.Err)
	}
	w.Chosen, w.Params, w.Objective, w.Undefined, w.InSample = best.Key, best.Params, best.Objective, best.Undefined, best.Metrics.Headline
	// The chosen point on the test window.
	tss := wf.Sweep
	tss.Spec.From, tss.Spec.To = w.TrainTo, w.TestTo
	tss.Grid = pointGrid(best.Params)
	tss.Done, tss.Write, tss.KeepResults, tss.Shard = nil, nil, true, Shard{}
	truns, err := Sweep(ctx, tss)
	if err != nil {
		return err
	}
	tr := truns[0]
	if tr.Err != "" {
		return adapters.E(op, adapters.KindInvalid, "test window %s .. %s: %s", fmtTime(w.TrainTo), fmtTime(w.TestTo), tr.Err)
	}
	w.OutOfSample = tr.Metrics.Headline
	r := tr.Result
	eq := equityValues(r)
	// As in the run's own metrics, the curve starts from the equity
	// before the initial allocation, so each window's entry costs count.
	w.TestTimes, w.TestEquity = []int64{}, []float64{}
	if len(eq) == 0 || !(r.Metrics.StartValue > 0) {
		return nil
	}
	eq[0] = r.Metrics.StartValue
	for i := range eq {
		w.TestTimes = append(w.TestTimes, r.Steps[i].Time.Unix())
	}
	w.TestEquity = eq
	return nil
}

// AssembleWalkForward stitches the windows' test equity in order and
// computes the in-sample means and the out-of-sample headline. windows
// must be every window of the study, in order.
func AssembleWalkForward(objective string, windows []WFWindow, capital, riskFree float64) *WFResult {
	res := &WFResult{Objective: objective, Windows: windows}
	if res.Objective == "" {
		res.Objective = "apy"
	}
	var isAPY, isVol, isDD, isSharpe float64
	for i := range windows {
		w := &windows[i]
		res.stitch(w.TestTimes, w.TestEquity, capital)
		isAPY += w.InSample.APY
		isVol += w.InSample.Volatility
		isDD += w.InSample.MaxDrawdown
		if w.InSample.SharpeDefined() {
			isSharpe += w.InSample.Sharpe
			res.InSampleSharpeDefined++
		}
	}
	n := float64(len(windows))
	res.InSample = Headline{APY: isAPY / n, Volatility: isVol / n, MaxDrawdown: isDD / n}
	if res.InSampleSharpeDefined > 0 {
		res.InSample.Sharpe = isSharpe / float64(res.InSampleSharpeDefined)
	}
	res.OutOfSample = ComputeHeadline(res.StitchedTimes, res.StitchedValues, riskFree)
	return res
}

// pointGrid is a one-point grid of params.
func pointGrid(p map[string]float64) []Param {
	names := make([]string, 0, len(p))
	for k := range p {
		names = append(names, k)
	}
	sort.Strings(names)
	g := make([]Param, len(names))
	for i, k := range names {
		g[i] = Param{Name: k, Values: []float64{p[k]}}
	}
	return g
}

// stitch appends a test run's equity (times, eq: from its start value),
// scaled so that it starts where the stitched curve ends (the capital
// for the first window).
func (res *WFResult) stitch(times []int64, eq []float64, capital float64) {
	if len(eq) == 0 {
		return
	}
	scale := capital / eq[0]
	start := 0
	if n := len(res.StitchedValues); n > 0 {
		scale = res.StitchedValues[n-1] / eq[0]
		start = 1 // the first step is the previous window's last
	}
	for i := start; i < len(eq); i++ {
		res.StitchedTimes = append(res.StitchedTimes, times[i])
		res.StitchedValues = append(res.StitchedValues, eq[i]*scale)
	}
}
