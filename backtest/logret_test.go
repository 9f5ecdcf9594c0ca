package backtest

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestLogOf compares logOf with math.Log bit for bit: on ratios of
// neighbouring values as ComputeHeadline takes them (near 1, both
// sides), on numbers of every magnitude, at the reduction's boundary
// (sqrt(2)/2's mantissa and its neighbours) and on the special cases.
func TestLogOf(t *testing.T) {
	check := func(x float64) {
		t.Helper()
		if got, want := logOf(x), math.Log(x); math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("logOf(%v) = %v (%#x), math.Log = %v (%#x)", x, got, math.Float64bits(got), want, math.Float64bits(want))
		}
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
