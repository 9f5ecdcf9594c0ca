package lending

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestGrowthFactors compares growthFactors with growth bit for bit: on
// rates as lending markets have them (near zero, negative, up to 19),
// numbers of every magnitude and the special cases, over steps of a
// second to a year, in whole groups of four and with a rest.
func TestGrowthFactors(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var apy []float64
	for range 100_000 {
		apy = append(apy, 0.1*rng.Float64(), 0.7*rng.Float64()-0.3, rng.NormFloat64()*1e-6,
			math.Float64frombits(rng.Uint64()), 20*rng.Float64()-1)
	}
	for _, x := range []float64{0, math.Copysign(0, -1), -1, 1, math.Inf(1), math.Inf(-1), math.NaN(), 0x1p-29, -0x1p-29,
		4.142135623730950488017e-01, -2.928932188134524755992e-01, 700, math.MaxFloat64} {
		apy = append(apy, x)
	}
	secs := make([]int64, len(apy))
	for i := range secs {
		secs[i] = []int64{3600, 1, 86400, 365 * 86400, 1 + rng.Int64N(1e6)}[i%5]
	}
	f := make([]float64, len(apy))
	for _, n := range []int{len(apy), 7, 3, 0} {
		growthFactors(apy[:n], secs, f)
		for i := range n {
			if want := growth(years(time.Duration(secs[i])*time.Second), apy[i]); math.Float64bits(f[i]) != math.Float64bits(want) {
				t.Fatalf("growthFactors: %d: rate %v over %ds: %v, growth %v", i, apy[i], secs[i], f[i], want)
			}
		}
	}
}
