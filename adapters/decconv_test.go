package adapters

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"
)

// slowFromFloat is FromFloat's reference: decimal's own conversion,
// rounded to Scale places.
func slowFromFloat(v float64) decimal.Decimal { return decimal.NewFromFloat(v).Round(Scale) }

// sameDecimal reports whether a and b have the same coefficient and
// exponent (not only the same value).
func sameDecimal(a, b decimal.Decimal) bool {
	return a.Exponent() == b.Exponent() && a.Coefficient().Cmp(b.Coefficient()) == 0
}

func TestFromFloat_MatchesDecimal(t *testing.T) {
	cases := []float64{
		0, math.Copysign(0, -1), 1, -1, 0.1, 0.2, 0.3, 1.5, 2.5, -2.5, 1e-18, 5e-19, 4.9e-19, -5e-19, 1.5e-18,
		1e-19, 1e-20, 9.999999999999999e-19, 1.234567890123456789, 123.456, 1e7, 9.22, 9.223372036854775807,
		10, 1e15, 1e18, 1e19, 1.7e20, 1.23456789012345e20, 5e-324, math.SmallestNonzeroFloat64, 1e-300,
		math.MaxFloat64, -math.MaxFloat64, 1e38, 1.7014118346046923e20, 1.7014118346046924e20, 0.035, 1.1e-9,
		5 * 5 * 1e-9, 21000 * 30 * 1e-9 * 1, 0.000123456789, 3.0000000000000004, 0.30000000000000004,
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		// Random bit patterns (all magnitudes) and random values in the
		// money range at several scales.
		cases = append(cases, math.Float64frombits(rng.Uint64()))
		e := rng.IntN(50) - 25
		cases = append(cases, (rng.Float64()-0.5)*math.Pow(10, float64(e)))
		cases = append(cases, math.Round(rng.Float64()*1e6)/math.Pow(10, float64(rng.IntN(25))))
	}
	for _, v := range cases {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		got, want := FromFloat(v), slowFromFloat(v)
		if !sameDecimal(got, want) {
			t.Fatalf("FromFloat(%v) = %s (exp %d), want %s (exp %d)", v, got, got.Exponent(), want, want.Exponent())
		}
	}
}

func TestFromFloat_NonFinite(t *testing.T) {
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if got := FromFloat(v); !got.Equal(decimal.Zero) {
			t.Errorf("FromFloat(%v) = %s, want 0", v, got)
		}
	}
}

func FuzzFromFloat(f *testing.F) {
	for _, v := range []float64{0, 1, 0.1, 1e-18, 5e-19, 1e20, -123.456} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		if got, want := FromFloat(v), slowFromFloat(v); !sameDecimal(got, want) {
			t.Fatalf("FromFloat(%v) = %s (exp %d), want %s (exp %d)", v, got, got.Exponent(), want, want.Exponent())
		}
	})
}

func BenchmarkFromFloat(b *testing.B) {
	vals := []float64{0.000105, 0.035, 1.1, 123.456789, 1e7}
	for _, tc := range []struct {
		name string
		f    func(float64) decimal.Decimal
	}{{"fast", FromFloat}, {"decimal", slowFromFloat}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				_ = tc.f(vals[i%len(vals)])
			}
		})
	}
}

func TestFloat_MatchesDecimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var ds []decimal.Decimal
	for _, s := range []string{"0", "1", "-1", "0.1", "123.456", "1e-18", "9007199254740993e-18", "9007199254740992",
		"123456789012345678901234567890.123456789", "-0.000000000000000001", "1e40", "1e-40", "18446744073709551616e-18",
		"0.30000000000000000444", "2.5e-324", "1.797693134862315708145274237317043567981e308"} {
		ds = append(ds, decimal.RequireFromString(s))
	}
	// Ties: odd integers between 2^53 and 2^54 lie halfway between two
	// floats, at every exponent.
	for _, k := range []int64{1, 3, 5, 7} {
		v := new(big.Int).Add(new(big.Int).Lsh(big.NewInt(1), 53), big.NewInt(k))
		for _, e := range []int32{0, -1, -18, -19} {
			c := new(big.Int).Mul(v, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-e)), nil))
			ds = append(ds, decimal.NewFromBigInt(c, e), decimal.NewFromBigInt(new(big.Int).Neg(c), e))
		}
	}
	for range 300000 {
		// Amounts at Scale places of every size, and other exponents.
		c := new(big.Int).Lsh(new(big.Int).SetUint64(rng.Uint64()), 64)
		c.Or(c, new(big.Int).SetUint64(rng.Uint64()))
		c.Rsh(c, uint(rng.IntN(128)))
		if rng.IntN(2) == 0 {
			c.Neg(c)
		}
		exp := int32(-Scale)
		if rng.IntN(4) == 0 {
			exp = int32(-rng.IntN(40))
		}
		ds = append(ds, decimal.NewFromBigInt(c, exp))
		ds = append(ds, FromFloat(math.Float64frombits(rng.Uint64()>>2)))
	}
	for _, d := range ds {
		got, want := Float(d), d.InexactFloat64()
		if math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("Float(%s) = %v, want %v", d, got, want)
		}
	}
}

func BenchmarkFloat(b *testing.B) {
	// Amounts at Scale places, as adapters see them.
	var vals []decimal.Decimal
	for _, s := range []string{"7.5", "1234.567890123456789", "0.001"} {
		vals = append(vals, decimal.RequireFromString(s).Round(Scale))
	}
	for _, tc := range []struct {
		name string
		f    func(decimal.Decimal) float64
	}{{"fast", Float}, {"decimal", decimal.Decimal.InexactFloat64}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				_ = tc.f(vals[i%len(vals)])
			}
		})
	}
}

func FuzzFloat(f *testing.F) {
	f.Add(uint64(0), uint64(7500000000000000000), int8(-18))
	f.Add(uint64(1), uint64(0), int8(-18))
	f.Fuzz(func(t *testing.T, hi, lo uint64, exp int8) {
		c := new(big.Int).Lsh(new(big.Int).SetUint64(hi), 64)
		c.Or(c, new(big.Int).SetUint64(lo))
		d := decimal.NewFromBigInt(c, int32(exp%40))
		if got, want := Float(d), d.InexactFloat64(); math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("Float(%s) = %v, want %v", d, got, want)
		}
	})
}

func TestEnv_GasCost_Memo(t *testing.T) {
	// Repeated and colliding gas costs give FromFloat's answer every time.
	rng := rand.New(rand.NewPCG(8, 8))
	for i := range 20000 {
		e := Env{GasPrice: float64(1 + rng.IntN(50)), GasAssetPrice: []float64{0, 1, 0.0004}[rng.IntN(3)]}
		units := float64(21000 * (1 + rng.IntN(10)))
		px := e.GasAssetPrice
		if px <= 0 {
			px = 1
		}
		got, want := e.GasCost(units), FromFloat(units*e.GasPrice*1e-9*px)
		if !sameDecimal(got, want) {
			t.Fatalf("step %d: GasCost(%g) at %g gwei = %s, want %s", i, units, e.GasPrice, got, want)
		}
	}
}
