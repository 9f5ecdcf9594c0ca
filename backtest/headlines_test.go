package backtest

import (
	"context"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// headlineOneByOne is ComputeHeadline's pass over a curve's log returns
// written out for one curve at a time, as it was before curves were
// summed side by side (math.Log, which fmath.Log equals to the bit): the
// volatility and downside deviation it gives.
func headlineOneByOne(ts []int64, v []float64, rf float64) (vol, down float64) {
	n := len(v)
	years := float64(ts[n-1]-ts[0]) / yearSeconds
	spy := float64(n-1) / years
	rfStep := math.Log1p(rf) / spy
	var cnt int
	var mean, m2, dsum float64
	for i := 1; i < n; i++ {
		if !(v[i-1] > 0) || !(v[i] > 0) {
			continue
		}
		r := math.Log(v[i] / v[i-1])
		cnt++
		d := r - mean
		mean += d / float64(cnt)
		m2 += d * (r - mean)
		if d := r - rfStep; d < 0 {
			dsum += d * d
		}
	}
	return finite(math.Sqrt(m2/float64(cnt-1)) * math.Sqrt(spy)), finite(math.Sqrt(dsum/float64(cnt-1)) * math.Sqrt(spy))
}

// TestComputeHeadlines_SideBySide: the headlines of curves of different
// lengths (suffixes of one time axis, as the holds entered late), with
// flat stretches and values at or below zero, computed together, are
// each curve's own ComputeHeadline to the bit, for every count of curves
// around the four summed side by side; and the pass's volatility and
// downside deviation are those of the pass written out for one curve.
func TestComputeHeadlines_SideBySide(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 3000
	ts := make([]int64, n)
	for i := range ts {
		ts[i] = 1704067200 + int64(i)*3600
	}
	curve := func(c int) []float64 {
		v := make([]float64, n)
		x := 1000.0
		for i := range v {
			switch {
			case c%3 == 1 && i%97 < 20: // flat stretches
			case c%5 == 2 && i%700 == 5:
				x = 0 // a value at zero, then below, then back
			case c%5 == 2 && i%700 == 6:
				x = -3
			case x <= 0:
				x = 990
			default:
				x *= math.Exp(0.0001 + 0.002*rng.NormFloat64())
			}
			v[i] = x
		}
		return v
	}
	for count := 1; count <= 11; count++ {
		cs := make([]headlineCurve, count)
		for c := range cs {
			from := 0
			if c%4 == 3 {
				from = rng.IntN(n - 2)
			}
			cs[c] = headlineCurve{ts[from:], curve(c)[from:]}
		}
		for _, rf := range []float64{0, 0.04} {
			got := make([]Headline, count)
			computeHeadlines(cs, rf, got)
			for c, cv := range cs {
				want := ComputeHeadline(cv.ts, cv.v, rf)
				if !reflect.DeepEqual(got[c], want) || math.Float64bits(got[c].Volatility) != math.Float64bits(want.Volatility) ||
					math.Float64bits(got[c].DownsideDeviation) != math.Float64bits(want.DownsideDeviation) {
					t.Errorf("%d curves, rf %g: curve %d: %+v, alone %+v", count, rf, c, got[c], want)
				}
				vol, down := headlineOneByOne(cv.ts, cv.v, rf)
				if math.Float64bits(got[c].Volatility) != math.Float64bits(vol) || math.Float64bits(got[c].DownsideDeviation) != math.Float64bits(down) {
					t.Errorf("%d curves, rf %g: curve %d: volatility %v, downside %v; one by one %v, %v", count, rf, c,
						got[c].Volatility, got[c].DownsideDeviation, vol, down)
				}
				if vol == 0 || down == 0 {
					t.Errorf("curve %d: no volatility (%v) or downside (%v): the curves test nothing", c, vol, down)
				}
			}
		}
	}
}

// BenchmarkHeadlines: the headlines of W1's benchmark set (50 holds and
// equal weight, 26,280 hourly steps each), computed together and one by
// one (ComputeHeadline).
func BenchmarkHeadlines(b *testing.B) {
	f := w1Data(b)
	res, err := Run(context.Background(), f.spec())
	if err != nil {
		b.Fatal(err)
	}
	ts := make([]int64, len(res.Steps))
	for k, s := range res.Steps {
		ts[k] = s.Time.Unix()
	}
	var cs []headlineCurve
	for _, bm := range res.Benchmarks {
		if bm.Kind != BenchBestSingle {
			cs = append(cs, headlineCurve{ts, bm.Curve})
		}
	}
	out := make([]Headline, len(cs))
	cpu := func(b *testing.B, f func()) {
		cpu0 := cpuTime()
		for b.Loop() {
			f()
		}
		if c := cpuTime() - cpu0; c > 0 {
			b.ReportMetric(float64(c.Microseconds())/1e3/float64(b.N), "cpu-ms/op")
		}
	}
	b.Run("together", func(b *testing.B) { cpu(b, func() { computeHeadlines(cs, 0, out) }) })
	b.Run("one by one", func(b *testing.B) {
		cpu(b, func() {
			for i, c := range cs {
				out[i] = ComputeHeadline(c.ts, c.v, 0)
			}
		})
	})
}
