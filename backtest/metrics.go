package backtest

import (
	"math"
	"slices"
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
	var h [1]Headline
	computeHeadlines([]headlineCurve{{ts, v}}, rf, h[:])
	return h[0]
}

// headlineCurve is a curve whose Headline computeHeadlines computes:
// values v at unix times ts, as ComputeHeadline's.
type headlineCurve struct {
	ts []int64
	v  []float64
}

// computeHeadlines sets out[i] to ComputeHeadline(cs[i].ts, cs[i].v, rf)
// for every curve, to the bit. The pass over the curves' log returns is
// made on several curves side by side (logReturns): each curve's
// returns are summed in its own order, by the same operations, but
// their chains of dependent divisions overlap.
func computeHeadlines(cs []headlineCurve, rf float64, out []Headline) {
	lrf := math.Log1p(rf)
	sums := make([]returnSums, len(cs))
	rfStep := make([]float64, len(cs))
	var pass []int // the curves with a log-return pass
	for i, c := range cs {
		h := &out[i]
		*h = Headline{}
		ts, v := c.ts, c.v
		n := len(v)
		if n == 0 || len(ts) != n {
			continue
		}
		h.StartValue, h.EndValue = v[0], v[n-1]
		if n < 2 || !(v[0] > 0) {
			continue
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
		// The per-step risk-free rate the downside is measured below.
		if h.StepsPerYear > 0 {
			rfStep[i] = lrf / h.StepsPerYear
		}
		pass = append(pass, i)
	}
	logReturns(cs, pass, rfStep, sums)
	for _, i := range pass {
		h, s := &out[i], &sums[i]
		if s.cnt >= 2 && h.StepsPerYear > 0 {
			sd := math.Sqrt(s.m2 / float64(s.cnt-1))
			h.Volatility = finite(sd * math.Sqrt(h.StepsPerYear))
			excess := s.mean*h.StepsPerYear - lrf
			if h.Volatility >= RatioFloor {
				h.Sharpe = finite(excess / h.Volatility)
			}
			dd := math.Sqrt(s.down/float64(s.cnt-1)) * math.Sqrt(h.StepsPerYear)
			h.DownsideDeviation = finite(dd)
			if h.DownsideDeviation >= RatioFloor {
				h.Sortino = finite(excess / dd)
			}
		}
		drawdown(h, cs[i].ts, cs[i].v)
	}
}

// drawdown sets h's maximum drawdown, its peak, trough and recovery, and
// Calmar (from h.APY), of values v at times ts.
func drawdown(h *Headline, ts []int64, v []float64) {
	n := len(v)
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
}

// returnSums are a curve's per-step log returns summed in one pass: their
// count, mean and sum of squared deviations (Welford), and the downside's
// sum of squares below the per-step risk-free rate. Four fields, so that
// the compiler keeps a value of it in registers.
type returnSums struct {
	cnt            int
	mean, m2, down float64
}

// add is s with the log return r added, as the pass adds each in turn,
// the downside's below rfStep.
func (s returnSums) add(r, rfStep float64) returnSums {
	s.cnt++
	d := r - s.mean
	s.mean += d / float64(s.cnt)
	s.m2 += d * (r - s.mean)
	if d := r - rfStep; d < 0 {
		s.down += d * d
	}
	return s
}

// addReturns is s with the log returns of the values v added, in order:
// fmath.Log(v[k]/v[k-1]) for k from 1, leaving out a step where either
// value is <= 0 (the downside's below rfStep).
func (s returnSums) addReturns(v []float64, rfStep float64) returnSums {
	for k := 1; k < len(v); k++ {
		if v[k-1] > 0 && v[k] > 0 {
			s = s.add(fmath.Log(v[k]/v[k-1]), rfStep)
		}
	}
	return s
}

// logReturns adds to sums[i] the log returns of curve cs[i] for each i
// of idx (addReturns; the downside's below rfStep[i]).
//
// A return is a chain of dependent operations (a division, the
// logarithm's division and polynomial), and its addition another,
// through the mean (a subtraction, a division, an addition), that a
// curve summed alone waits on at every step. The curves are taken four
// at a time, the longest together, and their steps summed side by side
// (addReturns4), each curve's in its own order by the same operations:
// the four chains overlap. A curve's steps before the four's common last
// stretch are summed alone.
func logReturns(cs []headlineCurve, idx []int, rfStep []float64, sums []returnSums) {
	idx = slices.Clone(idx)
	slices.SortStableFunc(idx, func(a, b int) int { return len(cs[b].v) - len(cs[a].v) })
	for len(idx) > 0 {
		g := idx[:min(4, len(idx))]
		idx = idx[len(g):]
		if len(g) == 1 {
			sums[g[0]] = sums[g[0]].addReturns(cs[g[0]].v, rfStep[g[0]])
			continue
		}
		// The common stretch is the last m returns, m those of the
		// group's shortest curve, its last. A group of fewer than four
		// repeats its last curve in the lanes left, whose sums are
		// dropped.
		m := len(cs[g[len(g)-1]].v) - 1
		var w [4][]float64
		var s [4]returnSums
		var rf [4]float64
		for l := range 4 {
			i := g[min(l, len(g)-1)]
			v := cs[i].v
			s[l] = sums[i].addReturns(v[:len(v)-m], rfStep[i])
			w[l], rf[l] = v[len(v)-m-1:], rfStep[i]
		}
		s = addReturns4(w, s, rf)
		for l, i := range g {
			sums[i] = s[l]
		}
	}
}

// addReturns4 is each s[l].addReturns(w[l], rf[l]), for four curves w of
// the same length, computed a step of each at a time: the four
// logarithms in one call (fmath.Log4, their operations side by side),
// then the four additions.
func addReturns4(w [4][]float64, s [4]returnSums, rf [4]float64) [4]returnSums {
	s0, s1, s2, s3 := s[0], s[1], s[2], s[3]
	rf0, rf1, rf2, rf3 := rf[0], rf[1], rf[2], rf[3]
	v0 := w[0]
	v1, v2, v3 := w[1][:len(v0)], w[2][:len(v0)], w[3][:len(v0)]
	for k := 1; k < len(v0); k++ {
		// A return where a value is <= 0 is computed, and left out.
		r0, r1, r2, r3 := fmath.Log4(v0[k]/v0[k-1], v1[k]/v1[k-1], v2[k]/v2[k-1], v3[k]/v3[k-1])
		if v0[k-1] > 0 && v0[k] > 0 {
			s0 = s0.add(r0, rf0)
		}
		if v1[k-1] > 0 && v1[k] > 0 {
			s1 = s1.add(r1, rf1)
		}
		if v2[k-1] > 0 && v2[k] > 0 {
			s2 = s2.add(r2, rf2)
		}
		if v3[k-1] > 0 && v3[k] > 0 {
			s3 = s3.add(r3, rf3)
		}
	}
	return [4]returnSums{s0, s1, s2, s3}
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
