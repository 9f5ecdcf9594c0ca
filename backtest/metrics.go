package backtest

import (
	"math"
	"time"

	"github.com/yieldvault/yieldvault/internal/fmath"
)

// yearSeconds is the 365-day year every annualisation uses.
const yearSeconds = 365 * 24 * 3600

// RatioFloor is the least risk a ratio divides by: Sharpe needs an
// annualised volatility, Sortino a downside deviation and Calmar a
// maximum drawdown of at least 0.1%. Below it the curve is riskless at
// the precision of the data (a hold of a lending market or of an LST's
// smoothly rising rate), and the ratio would measure rounding and rate
// steps: 650 for a 2.9% yield at 0.004% volatility. Such a ratio is
// undefined (0, and "n/a" in tables and reports).
const RatioFloor = 1e-3

// ComputeHeadline computes the Headline of a curve: values v at unix
// times ts (seconds, ascending, the same length), with the annual
// risk-free rate rf. The formulas are documented on Headline. Log returns
// over a step where either value is <= 0 are left out (a curve at zero
// has no defined return).
func ComputeHeadline(ts []int64, v []float64, rf float64) Headline {
	var h Headline
	n := len(v)
	if n == 0 || len(ts) != n {
		return h
	}
	h.StartValue, h.EndValue = v[0], v[n-1]
	if n < 2 || !(v[0] > 0) {
		return h
	}
	h.TotalReturn = finite(v[n-1]/v[0] - 1)
	h.Years = float64(ts[n-1]-ts[0]) / yearSeconds
	if h.Years > 0 {
		if v[n-1] <= 0 {
			h.APY = -1
		} else {
			h.APY = finite(math.Pow(v[n-1]/v[0], 1/h.Years) - 1)
		}
		h.StepsPerYear = float64(n-1) / h.Years
	}
	// Per-step log returns: mean and sample variance (Welford), and the
	// downside's sum of squares below the per-step risk-free rate, in one
	// pass (one logarithm per step).
	lrf := math.Log1p(rf)
	var rfStep float64
	if h.StepsPerYear > 0 {
		rfStep = lrf / h.StepsPerYear
	}
	var cnt int
	var mean, m2, down float64
	for i := 1; i < n; i++ {
		if !(v[i-1] > 0) || !(v[i] > 0) {
			continue
		}
		r := fmath.Log(v[i] / v[i-1])
		cnt++
		d := r - mean
		mean += d / float64(cnt)
		m2 += d * (r - mean)
		if d := r - rfStep; d < 0 {
			down += d * d
		}
	}
	if cnt >= 2 && h.StepsPerYear > 0 {
		sd := math.Sqrt(m2 / float64(cnt-1))
		h.Volatility = finite(sd * math.Sqrt(h.StepsPerYear))
		excess := mean*h.StepsPerYear - lrf
		if h.Volatility >= RatioFloor {
			h.Sharpe = finite(excess / h.Volatility)
		}
		dd := math.Sqrt(down/float64(cnt-1)) * math.Sqrt(h.StepsPerYear)
		h.DownsideDeviation = finite(dd)
		if h.DownsideDeviation >= RatioFloor {
			h.Sortino = finite(excess / dd)
		}
	}
	// Drawdown.
	peak, peakAt := v[0], 0
	var maxDD float64
	ddPeak, ddTrough := -1, -1
	for i := 1; i < n; i++ {
		if v[i] > peak {
			peak, peakAt = v[i], i
			continue
		}
		if peak > 0 {
			if dd := 1 - v[i]/peak; dd > maxDD {
				maxDD, ddPeak, ddTrough = dd, peakAt, i
			}
		}
	}
	h.MaxDrawdown = finite(maxDD)
	if ddTrough >= 0 {
		h.DrawdownPeak = unixUTC(ts[ddPeak])
		h.DrawdownTrough = unixUTC(ts[ddTrough])
		for i := ddTrough + 1; i < n; i++ {
			if v[i] >= v[ddPeak] {
				h.DrawdownRecovery = unixUTC(ts[i])
				break
			}
		}
	}
	if h.MaxDrawdown >= RatioFloor {
		h.Calmar = finite(h.APY / h.MaxDrawdown)
	}
	return h
}

// SharpeDefined reports whether Sharpe is defined: the volatility is at
// least RatioFloor.
func (h Headline) SharpeDefined() bool { return h.Volatility >= RatioFloor }

// SortinoDefined reports whether Sortino is defined: the downside
// deviation is at least RatioFloor.
func (h Headline) SortinoDefined() bool { return h.DownsideDeviation >= RatioFloor }

// CalmarDefined reports whether Calmar is defined: the maximum drawdown
// is at least RatioFloor.
func (h Headline) CalmarDefined() bool { return h.MaxDrawdown >= RatioFloor }

func unixUTC(t int64) time.Time { return time.Unix(t, 0).UTC() }

// finite maps NaN and infinities to 0, so that metrics always encode as
// JSON.
func finite(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}
