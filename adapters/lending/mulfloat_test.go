package lending_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
)

// TestMulFloat checks adapters.MulFloat, the fast path of Value, against
// the decimal computation it replaces: Quantize(d x x at 15 places).
func TestMulFloat(t *testing.T) {
	slow := func(d decimal.Decimal, x float64) decimal.Decimal {
		if x < 9e3 {
			return adapters.Quantize(d.Mul(decimal.New(int64(math.Round(x*1e15)), -15)))
		}
		return adapters.Quantize(d.Mul(adapters.FromFloat(x)))
	}
	fixed := []struct {
		d string
		x float64
	}{
		{"0", 1.5},
		{"1", 0},
		{"1234.567800000000000001", 1.0181234567},
		{"0.000000000000000001", 0.5},                     // half rounds away from zero
		{"340282366920938463463.374607431768211455", 1},   // 2^128-1 at 18 places
		{"340282366920938463463.374607431768211455", 1.5}, // overflows 128 bits: decimal path
		{"99999999999999999999999999.5", 2.25},            // more than 128 bits
		{"-5.5", 1.1},                                     // negative: decimal path
		{"12.34", 12345.678},                              // x beyond the fast range
		{"7.123456789012345678", 8999.999999999999},
	}
	for _, tt := range fixed {
		d := adapters.Quantize(decimal.RequireFromString(tt.d))
		if got, want := adapters.MulFloat(d, tt.x), slow(d, tt.x); !got.Equal(want) {
			t.Errorf("MulFloat(%s, %g) = %s, want %s", tt.d, tt.x, got, want)
		}
	}
	r := rand.New(rand.NewPCG(7, 11))
	for i := 0; i < 20000; i++ {
		d := decimal.New(r.Int64(), -18).Mul(decimal.New(r.Int64N(1e9)+1, 0))
		x := r.Float64() * 3
		if r.IntN(4) == 0 {
			x = r.Float64() * 8999
		}
		if got, want := adapters.MulFloat(d, x), slow(d, x); !got.Equal(want) {
			t.Fatalf("MulFloat(%s, %.17g) = %s, want %s", d, x, got, want)
		}
	}
}
