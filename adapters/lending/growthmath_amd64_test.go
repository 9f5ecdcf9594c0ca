package lending

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestGrowthMath compares log1pOf and expOf with math.Log1p and math.Exp,
// and growthFactors with growth, bit for bit: on rates as lending markets
// have them (near zero and up to the ends of log1pOf's own range and
// beyond), numbers of every magnitude, the special cases, and steps of
// a second to a year.
func TestGrowthMath(t *testing.T) {
	if !fastGrowth {
		t.Skip("math.Exp takes its path without FMA here: growthFactors calls growth")
	}
	rng := rand.New(rand.NewPCG(7, 8))
	var apy []float64
	for range 300_000 {
		apy = append(apy, 0.1*rng.Float64(), 0.7*rng.Float64()-0.3, rng.NormFloat64()*1e-6,
			math.Float64frombits(rng.Uint64()), 20*rng.Float64()-1)
	}
	for _, x := range []float64{0, math.Copysign(0, -1), -1, 1, math.Inf(1), math.Inf(-1), math.NaN(), 0x1p-29, -0x1p-29,
		0x1p-29 * (1 - 0x1p-53), 4.142135623730950488017e-01, -2.928932188134524755992e-01, math.Nextafter(-2.928932188134524755992e-01, 0),
		math.Nextafter(4.142135623730950488017e-01, 0), 700, -700, math.Nextafter(700, 800), 710, -746, math.MaxFloat64} {
		apy = append(apy, x)
	}
	for _, x := range apy {
		if got, want := log1pOf(x), math.Log1p(x); math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("log1pOf(%v) = %v, math.Log1p = %v", x, got, want)
		}
		for _, e := range []float64{x, x / 8760, x * 700, x * 1e5} {
			if got, want := expOf(e), math.Exp(e); math.Float64bits(got) != math.Float64bits(want) {
				t.Fatalf("expOf(%v) = %v, math.Exp = %v", e, got, want)
			}
		}
	}
	secs := make([]int64, len(apy))
	for i := range secs {
		secs[i] = []int64{3600, 1, 86400, 365 * 86400, 1 + rng.Int64N(1e6)}[i%5]
	}
	f := make([]float64, len(apy))
	for _, n := range []int{len(apy), 7, 3, 0} { // whole groups of four and a rest
		growthFactors(apy[:n], secs, f)
		for i := range n {
			if want := growth(years(time.Duration(secs[i])*time.Second), apy[i]); math.Float64bits(f[i]) != math.Float64bits(want) {
				t.Fatalf("growthFactors: %d: rate %v over %ds: %v, growth %v", i, apy[i], secs[i], f[i], want)
			}
		}
	}
}

// TestExpOf_ProbesTellPaths: on a processor with FMA math.Exp rounds as
// expOf; without, as expNoFMA (math/exp_amd64.s's other path, copied
// here). probeGrowth can tell which math.Exp takes only if the two
// differ on its probes.
func TestExpOf_ProbesTellPaths(t *testing.T) {
	differ := 0
	for _, x := range growthProbes() {
		for _, e := range []float64{x, x / 8760, x * 600} {
			if math.Float64bits(expOf(e)) != math.Float64bits(expNoFMA(e)) {
				differ++
			}
		}
	}
	if differ == 0 {
		t.Fatalf("expOf and the path without FMA agree on every probe: probeGrowth cannot tell them apart")
	}
	t.Logf("%d of %d probes tell the paths apart", differ, 3*len(growthProbes()))
}

// expNoFMA is math/exp_amd64.s's path for processors without FMA, for
// |x| <= 700: its products and sums rounded one by one.
func expNoFMA(x float64) float64 {
	const (
		log2e = 1.4426950408889634073599246810018920
		ln2U  = 0.69314718055966295651160180568695068359375
		ln2L  = 0.28235290563031577122588448175013436025525412068e-12
	)
	n := math.RoundToEven(float64(x * log2e))
	r := x - float64(n*ln2U)
	r = r - float64(n*ln2L)
	r = float64(r * 0.0625)
	p := float64(2.4801587301587301587e-5 * r)
	for _, c := range []float64{1.9841269841269841270e-4, 1.3888888888888888889e-3, 8.3333333333333333333e-3,
		4.1666666666666666667e-2, 1.6666666666666666667e-1, 0.5} {
		p = float64((p + c) * r)
	}
	p = p + 1.0
	r = float64(r * p)
	for range 4 {
		r = float64(r * (r + 2))
	}
	r = r + 1
	return float64(r * math.Float64frombits(uint64(int64(n)+0x3ff)<<52))
}
