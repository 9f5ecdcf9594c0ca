package backtest

import (
	"math"
	"testing"
	"time"
)

func TestComputeHeadline(t *testing.T) {
	const day = 86400
	t0 := int64(1704067200) // 2024-01-01
	days := func(n int) []int64 {
		ts := make([]int64, n)
		for i := range ts {
			ts[i] = t0 + int64(i)*day
		}
		return ts
	}
	type want struct {
		totalReturn, apy, vol, sharpe, sortino, maxDD, calmar float64
		peak, trough, recovery                                int // day indexes, -1 for none
	}
	// Two daily returns of +10% and -10% repeated: mean log return
	// (ln 1.1 + ln 0.9)/2, sample stdev computed independently below.
	lr := []float64{math.Log(1.1), math.Log(0.9)}
	mean := (lr[0] + lr[1]) / 2
	sd := math.Sqrt(((lr[0]-mean)*(lr[0]-mean) + (lr[1]-mean)*(lr[1]-mean)) / 1)
	tests := []struct {
		name string
		ts   []int64
		v    []float64
		rf   float64
		want want
	}{
		{"flat", days(366), constant(366, 100), 0, want{0, 0, 0, 0, 0, 0, 0, -1, -1, -1}},
		{"steady 5%", days(366), growth(366, 100, math.Pow(1.05, 1.0/365)), 0,
			want{0.05, 0.05, 0, 0, 0, 0, 0, -1, -1, -1}},
		{"drawdown and recovery", days(5), []float64{100, 120, 90, 110, 130}, 0,
			want{0.3, math.Pow(1.3, 365.0/4) - 1, -1, -1, -1, 0.25, (math.Pow(1.3, 365.0/4) - 1) / 0.25, 1, 2, 4}},
		{"never recovers", days(4), []float64{100, 80, 90, 85}, 0,
			want{-0.15, math.Pow(0.85, 365.0/3) - 1, -1, -1, -1, 0.2, (math.Pow(0.85, 365.0/3) - 1) / 0.2, 0, 1, -1}},
		{"up down", days(3), []float64{100, 110, 99}, 0,
			want{-0.01, math.Pow(0.99, 365.0/2) - 1, sd * math.Sqrt(365), mean * 365 / (sd * math.Sqrt(365)),
				mean * 365 / (math.Sqrt((lr[1]*lr[1])/1) * math.Sqrt(365)), 0.1, (math.Pow(0.99, 365.0/2) - 1) / 0.1, 1, 2, -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := ComputeHeadline(tt.ts, tt.v, tt.rf)
			check := func(name string, got, want float64) {
				if want == -1 && name != "apy" && name != "total_return" {
					return // not checked
				}
				if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
					t.Errorf("%s = %.12g, want %.12g", name, got, want)
				}
			}
			check("total_return", h.TotalReturn, tt.want.totalReturn)
			check("apy", h.APY, tt.want.apy)
			check("volatility", h.Volatility, tt.want.vol)
			check("sharpe", h.Sharpe, tt.want.sharpe)
			check("sortino", h.Sortino, tt.want.sortino)
			check("max_drawdown", h.MaxDrawdown, tt.want.maxDD)
			check("calmar", h.Calmar, tt.want.calmar)
			at := func(i int) time.Time {
				if i < 0 {
					return time.Time{}
				}
				return time.Unix(tt.ts[i], 0).UTC()
			}
			if !h.DrawdownPeak.Equal(at(tt.want.peak)) || !h.DrawdownTrough.Equal(at(tt.want.trough)) || !h.DrawdownRecovery.Equal(at(tt.want.recovery)) {
				t.Errorf("drawdown peak/trough/recovery = %v/%v/%v, want %v/%v/%v", h.DrawdownPeak, h.DrawdownTrough, h.DrawdownRecovery,
					at(tt.want.peak), at(tt.want.trough), at(tt.want.recovery))
			}
		})
	}
}

func TestComputeHeadline_RiskFree(t *testing.T) {
	// A curve growing exactly at the risk-free rate has zero excess
	// return; noise around it makes Sharpe ~0.
	ts := make([]int64, 367) // an even number of steps: the noise cancels at the end
	v := make([]float64, 367)
	for i := range ts {
		ts[i] = int64(i) * 86400
		v[i] = 100 * math.Pow(1.04, float64(i)/365) * (1 + 0.001*float64(i%2))
	}
	h := ComputeHeadline(ts, v, 0.04)
	if math.Abs(h.Sharpe) > 1e-9 {
		t.Errorf("Sharpe at the risk-free rate = %g, want ~0", h.Sharpe)
	}
	if h0 := ComputeHeadline(ts, v, 0); !(h0.Sharpe > h.Sharpe) {
		t.Errorf("Sharpe with rf 0 (%g) is not above Sharpe with rf 4%% (%g)", h0.Sharpe, h.Sharpe)
	}
}

func TestComputeHeadline_Degenerate(t *testing.T) {
	for _, tt := range []struct {
		name string
		ts   []int64
		v    []float64
	}{
		{"empty", nil, nil},
		{"one", []int64{0}, []float64{1}},
		{"zero start", []int64{0, 86400}, []float64{0, 1}},
		{"to zero", []int64{0, 86400, 172800}, []float64{1, 0, 0}},
		{"same time", []int64{5, 5}, []float64{1, 2}},
		{"mismatched", []int64{0}, []float64{1, 2}},
	} {
		h := ComputeHeadline(tt.ts, tt.v, 0)
		for _, x := range []float64{h.TotalReturn, h.APY, h.Volatility, h.Sharpe, h.Sortino, h.MaxDrawdown, h.Calmar, h.StepsPerYear} {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				t.Errorf("%s: a metric is %g: %+v", tt.name, x, h)
			}
		}
	}
}

func constant(n int, v float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func growth(n int, v0, g float64) []float64 {
	out := make([]float64, n)
	out[0] = v0
	for i := 1; i < n; i++ {
		out[i] = out[i-1] * g
	}
	return out
}

// TestComputeHeadline_RatioFloor: a curve whose risk is below RatioFloor
// has undefined (0) ratios; just above it they are the formulas'.
func TestComputeHeadline_RatioFloor(t *testing.T) {
	const day = 86400
	ts := make([]int64, 366)
	for i := range ts {
		ts[i] = int64(i) * day
	}
	// A 3% yield with daily wiggles of +-w: annualised volatility about
	// w x sqrt(365), drawdowns about w.
	curve := func(w float64) []float64 {
		v := make([]float64, len(ts))
		g := math.Pow(1.03, 1.0/365)
		v[0] = 100
		for i := 1; i < len(v); i++ {
			v[i] = v[i-1] * g * (1 + w*float64(i%2*2-1))
		}
		return v
	}
	quiet := ComputeHeadline(ts, curve(2e-6), 0)
	if quiet.Volatility >= RatioFloor || quiet.SharpeDefined() || quiet.Sharpe != 0 || quiet.SortinoDefined() || quiet.Sortino != 0 || quiet.CalmarDefined() || quiet.Calmar != 0 {
		t.Errorf("quiet curve: volatility %g, sharpe %g (%t), sortino %g (%t), calmar %g (%t); want undefined ratios",
			quiet.Volatility, quiet.Sharpe, quiet.SharpeDefined(), quiet.Sortino, quiet.SortinoDefined(), quiet.Calmar, quiet.CalmarDefined())
	}
	risky := ComputeHeadline(ts, curve(2e-3), 0)
	if !risky.SharpeDefined() || !risky.SortinoDefined() || !risky.CalmarDefined() {
		t.Fatalf("risky curve: volatility %g, downside %g, max drawdown %g: want every ratio defined", risky.Volatility, risky.DownsideDeviation, risky.MaxDrawdown)
	}
	excess := 0.0
	for i := 1; i < len(ts); i++ {
		excess += math.Log(curve(2e-3)[i] / curve(2e-3)[i-1])
	}
	excess = excess / float64(len(ts)-1) * risky.StepsPerYear
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"sharpe", risky.Sharpe, excess / risky.Volatility},
		{"sortino", risky.Sortino, excess / risky.DownsideDeviation},
		{"calmar", risky.Calmar, risky.APY / risky.MaxDrawdown},
	} {
		if math.Abs(c.got-c.want) > 1e-9*math.Abs(c.want) {
			t.Errorf("%s = %g, want %g", c.name, c.got, c.want)
		}
	}
}
