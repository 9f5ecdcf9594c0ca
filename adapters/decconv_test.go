package adapters

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"
)

// sameDecimal reports whether a and b have the same coefficient and
// exponent (not only the same value).
func sameDecimal(a, b decimal.Decimal) bool {
	return a.Exponent() == b.Exponent() && a.Coefficient().Cmp(b.Coefficient()) == 0
}

// FromFloat and Float are package fixed's (tested there against
// decimal, bit for bit); these check the delegation and the non-finite
// cases adapters documents.
func TestFromFloat_Float(t *testing.T) {
	for _, v := range []float64{0, 1, 0.1, 1e-18, 5e-19, 123.456, 1.7e20, -2.5} {
		if got, want := FromFloat(v), decimal.NewFromFloat(v).Round(Scale); !sameDecimal(got, want) {
			t.Errorf("FromFloat(%v) = %s, want %s", v, got, want)
		}
		d := decimal.NewFromFloat(v * 1.1).Round(Scale)
		if got, want := Float(d), d.InexactFloat64(); got != want {
			t.Errorf("Float(%s) = %v, want %v", d, got, want)
		}
	}
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if got := FromFloat(v); !got.Equal(decimal.Zero) {
			t.Errorf("FromFloat(%v) = %s, want 0", v, got)
		}
	}
}

func TestEnv_GasCost(t *testing.T) {
	// GasCost is FromFloat's decimal (coefficient and exponent) on a fixed.Num.
	rng := rand.New(rand.NewPCG(8, 8))
	for i := range 20000 {
		e := Env{GasPrice: float64(1 + rng.IntN(50)), GasAssetPrice: []float64{0, 1, 0.0004}[rng.IntN(3)]}
		units := float64(21000 * (1 + rng.IntN(10)))
		px := e.GasAssetPrice
		if px <= 0 {
			px = 1
		}
		got, want := e.GasCost(units), FromFloat(units*e.GasPrice*1e-9*px)
		if !sameDecimal(got.Dec(), want) {
			t.Fatalf("step %d: GasCost(%g) at %g gwei = %s, want %s", i, units, e.GasPrice, got, want)
		}
	}
}
