package fmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

// same fails the test when got is not want to the bit.
func same(t *testing.T, name string, x, got, want float64) {
	t.Helper()
	if math.Float64bits(got) != math.Float64bits(want) {
		t.Fatalf("%s(%v) = %v (%#x), math's = %v (%#x)", name, x, got, math.Float64bits(got), want, math.Float64bits(want))
	}
}

// TestLog compares Log and Log4 with math.Log bit for bit: on ratios of
// neighbouring values as a curve's log returns take them (near 1, both
// sides), on numbers of every magnitude, at the reduction's boundary
// (sqrt(2)/2's mantissa and its neighbours) and on the special cases.
func TestLog(t *testing.T) {
	// Each x through Log, and through Log4 in each lane beside the three
	// before it (of every kind alike).
	var xs [4]float64
	check := func(x float64) {
		t.Helper()
		same(t, "Log", x, Log(x), math.Log(x))
		xs = [4]float64{xs[1], xs[2], xs[3], x}
		sameLanes(t, "Log4", Log4, math.Log, xs)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 1_000_000 {
		check(1 + 0.01*rng.NormFloat64())
		check(1 + 1e-7*rng.NormFloat64())
		check(math.Float64frombits(rng.Uint64() &^ (1 << 63))) // any positive number, subnormal, Inf, NaN
		check(math.Exp(700 * (2*rng.Float64() - 1)))
	}
	b := math.Float64bits(math.Sqrt2 / 2)
	for _, e := range []uint64{0x3fe, 0x3ff, 0x400, 0x001, 0x7fe} {
		for d := -3; d <= 3; d++ {
			check(math.Float64frombits(e<<52 | (b&(1<<52-1) + uint64(d))))
		}
	}
	for _, x := range []float64{0, math.Copysign(0, -1), -1, 1, 2, 0.5, math.Inf(1), math.Inf(-1), math.NaN(),
		math.SmallestNonzeroFloat64, math.MaxFloat64, 0x1p-1022, 1 - 0x1p-53, 1 + 0x1p-52} {
		check(x)
	}
}

// TestLog1pExp compares Log1p and Exp with math.Log1p and math.Exp bit
// for bit: on rates as lending markets have them (near zero and up to
// the ends of Log1p's own range and beyond), the exponentials of their
// growth over steps of an hour to far beyond a year, numbers of every
// magnitude and the special cases.
func TestLog1pExp(t *testing.T) {
	if !expFMA {
		t.Log("math.Exp takes its path without FMA here: Exp is math.Exp")
	}
	rng := rand.New(rand.NewPCG(7, 8))
	var xs []float64
	for range 300_000 {
		xs = append(xs, 0.1*rng.Float64(), 0.7*rng.Float64()-0.3, rng.NormFloat64()*1e-6,
			math.Float64frombits(rng.Uint64()), 20*rng.Float64()-1)
	}
	for _, x := range []float64{0, math.Copysign(0, -1), -1, 1, math.Inf(1), math.Inf(-1), math.NaN(), 0x1p-29, -0x1p-29,
		0x1p-29 * (1 - 0x1p-53), 4.142135623730950488017e-01, -2.928932188134524755992e-01, math.Nextafter(-2.928932188134524755992e-01, 0),
		math.Nextafter(4.142135623730950488017e-01, 0), 700, -700, math.Nextafter(700, 800), 710, -746, math.MaxFloat64} {
		xs = append(xs, x)
	}
	for i, x := range xs {
		same(t, "Log1p", x, Log1p(x), math.Log1p(x))
		for _, e := range []float64{x, x / 8760, x * 700, x * 1e5} {
			y, _, _, _ := Exp4(e, e, e, e)
			same(t, "Exp4", e, y, math.Exp(e))
		}
		// Exp4's lanes: x with three others of the list (in and beyond
		// the copy's range alike), in each lane.
		var es [4]float64
		for l := range es {
			es[l] = xs[(i+l*7919)%len(xs)] / []float64{1, 8760, 1, 0.01}[l]
		}
		sameLanes(t, "Exp4", Exp4, math.Exp, es)
	}
}

// TestExp_ProbesTellPaths: on a processor with FMA math.Exp rounds as
// exp4's copy; without, as expNoFMA (math/exp_amd64.s's other path, copied
// here). probeExp can tell which math.Exp takes only if the two differ
// on its probes.
func TestExp_ProbesTellPaths(t *testing.T) {
	differ := 0
	for _, x := range probes() {
		for _, e := range []float64{x, x / 8760, x * 600} {
			if y, _, _, _ := exp4(e, e, e, e, true); math.Float64bits(y) != math.Float64bits(expNoFMA(e)) {
				differ++
			}
		}
	}
	if differ == 0 {
		t.Fatalf("exp4's copy and the path without FMA agree on every probe: probeExp cannot tell them apart")
	}
	t.Logf("%d of %d probes tell the paths apart", differ, 3*len(probes()))
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

// sameLanes wants f4 of xs, and of xs turned round by one, two and three
// lanes (each x in each lane), to be want of each x, bit for bit.
func sameLanes(t *testing.T, name string, f4 func(x0, x1, x2, x3 float64) (y0, y1, y2, y3 float64), want func(float64) float64, xs [4]float64) {
	t.Helper()
	for range 4 {
		var ys [4]float64
		ys[0], ys[1], ys[2], ys[3] = f4(xs[0], xs[1], xs[2], xs[3])
		for l, y := range ys {
			same(t, name, xs[l], y, want(xs[l]))
		}
		xs = [4]float64{xs[1], xs[2], xs[3], xs[0]}
	}
}
