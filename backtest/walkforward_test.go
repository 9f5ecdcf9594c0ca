package backtest

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// TestWalkForward: two windows of 60 days' training and 30 days' test.
// The chosen point is the best by Sharpe of independent runs of every
// grid point on the training window; the stitched out-of-sample curve
// starts at the capital, is contiguous, and grows by the product of the
// test windows' returns.
func TestWalkForward(t *testing.T) {
	ctx := context.Background()
	s := loadExample(t, "lst-lrt-balanced.yaml")
	from, to := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	w, err := Load(ctx, defaultHistory(t), s, from, to, 0)
	if err != nil {
		t.Fatal(err)
	}
	capital := decimal.NewFromInt(100)
	base := Spec{Strategy: s, Data: w, From: from, To: to, Capital: capital}
	grid := []Param{{Name: "min_peg", Values: []float64{0.98, 0.995}}}
	res, err := WalkForward(ctx, WalkForwardSpec{Sweep: SweepSpec{Spec: base, Grid: grid, Objective: "sharpe", Workers: 2},
		Train: 60 * 24 * time.Hour, Test: 15 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Windows) != 2 {
		t.Fatalf("%d windows, want 2 (92 days: 60 + 15, then 75 + 15)", len(res.Windows))
	}
	growth := 1.0
	for i, x := range res.Windows {
		if i > 0 && !x.TrainFrom.Equal(res.Windows[i-1].TrainFrom.Add(15*24*time.Hour)) {
			t.Errorf("window %d starts %s, want 15 days after the previous", i, x.TrainFrom)
		}
		// Independent runs of each point on the training window.
		bestKey, best, bestDefined := "", math.Inf(-1), false
		for _, v := range grid[0].Values {
			ps, err := s.WithParams(map[string]float64{"min_peg": v})
			if err != nil {
				t.Fatal(err)
			}
			r, err := Run(ctx, Spec{Strategy: ps, Data: w, From: x.TrainFrom, To: x.TrainTo, Capital: capital, Params: map[string]float64{"min_peg": v}})
			if err != nil {
				t.Fatal(err)
			}
			def := r.Metrics.SharpeDefined()
			if (def && !bestDefined) || (def == bestDefined && r.Metrics.Sharpe > best) {
				bestKey, best, bestDefined = PointKey(map[string]float64{"min_peg": v}), r.Metrics.Sharpe, def
			}
		}
		if x.Chosen != bestKey {
			t.Errorf("window %d chose %s, the training runs' best Sharpe is %s", i, x.Chosen, bestKey)
		}
		growth *= 1 + x.OutOfSample.TotalReturn
	}
	v := res.StitchedValues
	if len(v) == 0 || math.Abs(v[0]-100) > 1e-9 {
		t.Fatalf("stitched curve starts at %v, want the capital 100", v)
	}
	if got := v[len(v)-1] / v[0]; math.Abs(got-growth) > 1e-9 {
		t.Errorf("stitched growth %.12f, product of the test windows' returns %.12f", got, growth)
	}
	first, last := res.Windows[0].TrainTo.Unix(), res.Windows[1].TestTo.Unix()
	if res.StitchedTimes[0] != first || res.StitchedTimes[len(res.StitchedTimes)-1] != last {
		t.Errorf("stitched curve spans %d..%d, want %d..%d", res.StitchedTimes[0], res.StitchedTimes[len(res.StitchedTimes)-1], first, last)
	}
	for i := 1; i < len(res.StitchedTimes); i++ {
		if res.StitchedTimes[i] <= res.StitchedTimes[i-1] {
			t.Fatalf("stitched times not increasing at %d", i)
		}
	}
	if math.Abs(res.OutOfSample.TotalReturn-(growth-1)) > 1e-9 {
		t.Errorf("out-of-sample return %g, want %g", res.OutOfSample.TotalReturn, growth-1)
	}
	wantIS := (res.Windows[0].InSample.APY + res.Windows[1].InSample.APY) / 2
	if math.Abs(res.InSample.APY-wantIS) > 1e-15 {
		t.Errorf("in-sample APY %g, want the windows' mean %g", res.InSample.APY, wantIS)
	}

	_, err = WalkForward(ctx, WalkForwardSpec{Sweep: SweepSpec{Spec: base, Grid: grid}, Train: 90 * 24 * time.Hour, Test: 15 * 24 * time.Hour})
	if err == nil || !strings.Contains(err.Error(), "no window fits") {
		t.Errorf("too long a window: error %v", err)
	}
}
