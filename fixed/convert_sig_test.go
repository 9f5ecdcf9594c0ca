package fixed

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/shopspring/decimal"
)

// TestFromFloatSig: over values from 1e-12 to 1e20 of both signs, the
// decimal has at most 15 significant digits and is strconv's
// 15-significant-digit rounding of the float, or one unit of its last
// place from it (the float's scaling by a power of ten rounds once); it
// never has more than Scale places; zero, NaN and infinities give zero.
func TestFromFloatSig(t *testing.T) {
	xs := sigInputs(-12, 32, 1, -1, 0.1, 999999999999999, 1e15, 1000.364018168689, 1e-19, 123456789.123456789)
	for _, x := range xs {
		got := FromFloatSig(x)
		if got.Exponent() < -Scale {
			t.Fatalf("%v: %s has more than %d places", x, got, Scale)
		}
		if c := got.Coefficient(); len(c.Abs(c).String()) > sigDigits {
			t.Fatalf("%v: %s has more than %d significant digits", x, got, sigDigits)
		}
		want, err := decimal.NewFromString(strconv.FormatFloat(x, 'e', sigDigits-1, 64))
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(x) < 1e-4 { // fewer digits at Scale places
			want = want.Round(Scale)
		}
		ulp := decimal.New(1, want.Exponent())
		if got.Sub(want).Abs().Cmp(ulp) > 0 {
			t.Fatalf("%v: %s, want %s within one unit of the last place", x, got, want)
		}
	}
	for _, x := range []float64{0, math.NaN(), math.Inf(1), math.Inf(-1)} {
		if got := FromFloatSig(x); !got.IsZero() {
			t.Errorf("%v: %s, want 0", x, got)
		}
	}
}

// TestFromFloatSigFloat: the pair is FromFloatSig(x) and ToFloat of that
// decimal, to the bit, over the same values as TestFromFloatSig plus
// values so small that they round to a zero coefficient (of both signs).
func TestFromFloatSigFloat(t *testing.T) {
	xs := sigInputs(-20, 40, 1, -1, 0.1, 999999999999999, 1e15, 1e-19, -1e-19, 4e-19, -4e-19, 1e-30, -1e-30, 0, math.NaN(), math.Inf(1), math.Inf(-1))
	for _, x := range xs {
		d, f := FromFloatSigFloat(x)
		want := FromFloatSig(x)
		if !d.Equal(want) || d.Exponent() != want.Exponent() {
			t.Fatalf("%v: decimal %s, want %s", x, d, want)
		}
		if wf := ToFloat(want); math.Float64bits(f) != math.Float64bits(wf) {
			t.Fatalf("%v: float %v (%#x), want ToFloat's %v (%#x)", x, f, math.Float64bits(f), wf, math.Float64bits(wf))
		}
	}
}

// sigInputs is the values given and 20,000 more of both signs whose
// magnitudes are spread evenly in the exponent over [10^lo, 10^(lo+span)]
// (the same seeded sequence for every test).
func sigInputs(lo, span float64, given ...float64) []float64 {
	rng := rand.New(rand.NewPCG(7, 9))
	xs := given
	for i := 0; i < 20000; i++ {
		x := math.Pow(10, lo+span*rng.Float64())
		if rng.IntN(2) == 0 {
			x = -x
		}
		xs = append(xs, x)
	}
	return xs
}

func TestRoundAway_MatchesRound(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	ys := []float64{0, math.Copysign(0, -1), 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, math.Nextafter(0.5, 0), -math.Nextafter(0.5, 0),
		math.Nextafter(0.5, 1), 1<<52 - 0.5, -(1<<52 - 0.5), 1 << 52, 1<<52 + 1, 1<<53 - 1, -(1<<53 - 1), 9e15 - 1, 4503599627370495.5}
	for range 200000 {
		y := rng.Float64() * math.Pow(2, float64(rng.IntN(54)))
		if rng.IntN(2) == 0 {
			y = -y
		}
		ys = append(ys, y, math.Floor(y)+0.5, math.Nextafter(math.Floor(y)+0.5, 0))
	}
	for _, y := range ys {
		if math.Abs(y) >= 1<<53 {
			continue
		}
		if got, want := roundAway(y), int64(math.Round(y)); got != want {
			t.Fatalf("roundAway(%v) = %d, want %d", y, got, want)
		}
	}
}

// TestFromFloatSigNum: the num is FromDec(FromFloatSig(x)), its
// decimal FromFloatSig(x) (coefficient and exponent), and the float
// FromFloatSigFloat's, to the bit, over TestFromFloatSigFloat's values
// and magnitudes past the fast form's exponents.
func TestFromFloatSigNum(t *testing.T) {
	xs := sigInputs(-20, 40, 1, -1, 0.1, 999999999999999, 1e15, 1e-19, -1e-19, 4e-19, -4e-19, 1e-30, -1e-30, 0, 1e32, -1e33, 1e34, 1e300, math.NaN(), math.Inf(1), math.Inf(-1))
	for _, x := range xs {
		n, f := FromFloatSigNum(x)
		want, wf := FromFloatSigFloat(x)
		if d := n.Dec(); !d.Equal(want) || d.Exponent() != want.Exponent() {
			t.Fatalf("%v: decimal %s (exponent %d), want %s (exponent %d)", x, d, d.Exponent(), want, want.Exponent())
		}
		if n.Cmp(FromDec(want)) != 0 || n.Exponent() != FromDec(want).Exponent() {
			t.Fatalf("%v: num %s, want FromDec's %s", x, n.Dec(), want)
		}
		if math.Float64bits(f) != math.Float64bits(wf) {
			t.Fatalf("%v: float %v, want %v", x, f, wf)
		}
		if got, w := n.Float(), want.InexactFloat64(); math.Float64bits(got) != math.Float64bits(w) {
			t.Fatalf("%v: Float %v, want InexactFloat64's %v", x, got, w)
		}
	}
}
