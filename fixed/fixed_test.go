package fixed

import (
	"math"
	"math/big"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shopspring/decimal"
)

// same reports whether a and b have the same coefficient and exponent.
func same(a, b decimal.Decimal) bool {
	return a.Exponent() == b.Exponent() && a.Coefficient().Cmp(b.Coefficient()) == 0
}

// sameValue is same, except that zero results may differ in exponent.
func sameValue(a, b decimal.Decimal) bool {
	if a.Sign() == 0 && b.Sign() == 0 {
		return true
	}
	return same(a, b)
}

// sub runs f as a subtest.
func sub(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	t.Run("num", f)
}

// amounts are test decimals: at Scale places, at other exponents, zero
// values, and coefficients of one, two and three words.
func amounts(rng *rand.Rand, n int) []decimal.Decimal {
	out := []decimal.Decimal{
		{}, decimal.Zero, decimal.New(0, -Scale), decimal.RequireFromString("0.01"), decimal.RequireFromString("-0.01"),
		decimal.New(1, -Scale), decimal.New(-1, -Scale), decimal.RequireFromString("1000.123456789012345678"),
		decimal.RequireFromString("-340282366920938463463.374607431768211455"), // -(2^128 - 1) units
		decimal.RequireFromString("340282366920938463463.374607431768211456"),  // 2^128 units
		decimal.RequireFromString("1e40"), decimal.New(5, 3), decimal.New(7, -20),
	}
	for range n {
		var c big.Int
		c.SetUint64(rng.Uint64())
		if rng.IntN(2) == 0 {
			c.Lsh(&c, uint(rng.IntN(70)))
		}
		if rng.IntN(2) == 0 {
			c.Neg(&c)
		}
		exp := int32(-Scale)
		if rng.IntN(5) == 0 {
			exp = int32(rng.IntN(25) - 21)
		}
		out = append(out, decimal.NewFromBigInt(&c, exp))
	}
	return out
}

func TestAddSubCmp_MatchDecimal(t *testing.T) {
	sub(t, func(t *testing.T) {
		xs := amounts(rand.New(rand.NewPCG(3, 4)), 300)
		for _, a := range xs {
			for _, b := range xs {
				if got, want := Add(a, b), a.Add(b); !same(got, want) {
					t.Fatalf("Add(%s, %s) = %s (exp %d), want %s (exp %d)", a, b, got, got.Exponent(), want, want.Exponent())
				}
				if got, want := Sub(a, b), a.Sub(b); !same(got, want) {
					t.Fatalf("Sub(%s, %s) = %s (exp %d), want %s (exp %d)", a, b, got, got.Exponent(), want, want.Exponent())
				}
				if got, want := Cmp(a, b), a.Cmp(b); got != want {
					t.Fatalf("Cmp(%s, %s) = %d, want %d", a, b, got, want)
				}
			}
		}
	})
}

func TestAdd_DoesNotAlias(t *testing.T) {
	a, b := decimal.RequireFromString("1.000000000000000001"), decimal.RequireFromString("2.000000000000000002")
	s := Add(a, b)
	s2 := Add(s, a)
	if !a.Equal(decimal.RequireFromString("1.000000000000000001")) || !s.Equal(decimal.RequireFromString("3.000000000000000003")) {
		t.Errorf("operands changed: a %s, s %s (s2 %s)", a, s, s2)
	}
}

func TestFromFloat_MatchesDecimal(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 1.5, 2.5, -2.5, 1e-18, 5e-19, 4.9e-19, -5e-19, 1e-19, 1.7e20,
		1.7014118346046923e20, 1.7014118346046924e20, math.MaxFloat64, 5e-324, 0.30000000000000004}
	for range 50000 {
		cases = append(cases, math.Float64frombits(rng.Uint64()), (rng.Float64()-0.5)*math.Pow(10, float64(rng.IntN(50)-25)))
	}
	for _, v := range cases {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		if got, want := FromFloat(v), decimal.NewFromFloat(v).Round(Scale); !same(got, want) {
			t.Fatalf("FromFloat(%v) = %s (exp %d), want %s (exp %d)", v, got, got.Exponent(), want, want.Exponent())
		}
	}
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if got := FromFloat(v); !got.Equal(decimal.Zero) {
			t.Errorf("FromFloat(%v) = %s, want 0", v, got)
		}
	}
}

func TestFloatToFloat(t *testing.T) {
	sub(t, func(t *testing.T) {
		for _, d := range amounts(rand.New(rand.NewPCG(5, 6)), 3000) {
			want := d.InexactFloat64()
			if got := Float(d); got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
				t.Fatalf("Float(%s) = %.17g, want %.17g", d, got, want)
			}
			if math.IsNaN(want) {
				want = 0
			}
			if got := ToFloat(d); math.Abs(got-want) > 4*math.Abs(want)*0x1p-52 {
				t.Fatalf("ToFloat(%s) = %.17g, want %.17g", d, got, want)
			}
		}
	})
}

func TestMulRate_MatchesFormula(t *testing.T) {
	sub(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 8))
		rates := []float64{0, 1, 1.1, 0.98, 1e-9, 1.0000000001, 3.5e7, 9e15, 1e17, -0.5, math.NaN()}
		for range 300 {
			rates = append(rates, rng.Float64()*2, rng.Float64()*math.Pow(10, float64(rng.IntN(20)-10)))
		}
		for _, u := range amounts(rng, 200) {
			for _, x := range rates {
				got, want := MulRate(u, x), u.Mul(FastDecimal(x)).Round(Scale)
				if !sameValue(got, want) {
					t.Fatalf("MulRate(%s, %v) = %s (exp %d), want %s (exp %d)", u, x, got, got.Exponent(), want, want.Exponent())
				}
			}
		}
	})
}

func FuzzAddSubCmp(f *testing.F) {
	f.Add(int64(1), uint64(0), int8(-18), int64(-5), uint64(7), int8(-18))
	f.Add(int64(0), uint64(1<<63), int8(-18), int64(1), uint64(0), int8(-2))
	f.Fuzz(func(t *testing.T, ahi int64, alo uint64, aexp int8, bhi int64, blo uint64, bexp int8) {
		mk := func(hi int64, lo uint64, exp int8) decimal.Decimal {
			var c big.Int
			c.SetInt64(hi)
			c.Lsh(&c, 64)
			c.Add(&c, new(big.Int).SetUint64(lo))
			return decimal.NewFromBigInt(&c, int32(exp%24))
		}
		a, b := mk(ahi, alo, aexp), mk(bhi, blo, bexp)
		if got, want := Add(a, b), a.Add(b); !same(got, want) {
			t.Fatalf("Add(%s, %s) = %s, want %s", a, b, got, want)
		}
		if got, want := Sub(a, b), a.Sub(b); !same(got, want) {
			t.Fatalf("Sub(%s, %s) = %s, want %s", a, b, got, want)
		}
		if got, want := Cmp(a, b), a.Cmp(b); got != want {
			t.Fatalf("Cmp(%s, %s) = %d, want %d", a, b, got, want)
		}
	})
}

func FuzzFromFloat(f *testing.F) {
	for _, v := range []float64{0, 1, 0.1, 1e-18, 5e-19, 1e20, -123.456} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
		if got, want := FromFloat(v), decimal.NewFromFloat(v).Round(Scale); !same(got, want) {
			t.Fatalf("FromFloat(%v) = %s, want %s", v, got, want)
		}
		d := FromFloat(v)
		if got, want := Float(d), d.InexactFloat64(); got != want {
			t.Fatalf("Float(%s) = %v, want %v", d, got, want)
		}
	})
}

func FuzzMulRate(f *testing.F) {
	f.Add(int64(1), uint64(123456789), 1.1)
	f.Add(int64(0), uint64(1), 0.98)
	f.Fuzz(func(t *testing.T, hi int64, lo uint64, x float64) {
		var c big.Int
		c.SetInt64(hi % (1 << 40))
		c.Lsh(&c, 64)
		c.Add(&c, new(big.Int).SetUint64(lo))
		u := decimal.NewFromBigInt(&c, -Scale)
		if got, want := MulRate(u, x), u.Mul(FastDecimal(x)).Round(Scale); !sameValue(got, want) {
			t.Fatalf("MulRate(%s, %v) = %s, want %s", u, x, got, want)
		}
	})
}

func BenchmarkAdd(b *testing.B) {
	x, y := decimal.RequireFromString("1000.123456789012345678"), decimal.RequireFromString("12.5")
	y = y.Round(Scale).Add(decimal.New(1, -Scale))
	for _, tc := range []struct {
		name string
		f    func(a, b decimal.Decimal) decimal.Decimal
	}{{"fixed", Add}, {"decimal", decimal.Decimal.Add}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				x = tc.f(x, y)
			}
		})
	}
}

func TestIdentical(t *testing.T) {
	a := decimal.RequireFromString("1.5")
	b := decimal.RequireFromString("1.5")
	tests := []struct {
		name string
		x, y decimal.Decimal
		want bool
	}{
		{"same object", a, a, true},
		{"copies of one value", a, func() decimal.Decimal { c := a; return c }(), true},
		{"equal values, two objects", a, b, true},
		{"equal values at other exponents", a, decimal.RequireFromString("1.50"), false},
		{"other values", a, decimal.RequireFromString("1.6"), false},
		{"a negative and its magnitude", a.Neg(), a, false},
		{"zeros", decimal.Decimal{}, decimal.Decimal{}, true},
		{"zeros at other exponents", decimal.New(0, -18), decimal.New(0, 2), false},
		{"decimal.Zero is the zero value", decimal.Decimal{}, decimal.Zero, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Identical(tc.x, tc.y); got != tc.want {
				t.Errorf("Identical(%s, %s) = %v, want %v", tc.x, tc.y, got, tc.want)
			}
			if got := Identical(tc.y, tc.x); got != tc.want {
				t.Errorf("Identical(%s, %s) = %v, want %v", tc.y, tc.x, got, tc.want)
			}
			if n := testing.AllocsPerRun(10, func() { Identical(tc.x, tc.y) }); n != 0 {
				t.Errorf("Identical(%s, %s): %v allocations, want 0", tc.x, tc.y, n)
			}
		})
	}
}

func TestMemo_Get(t *testing.T) {
	var calls atomic.Int64
	m := NewMemo(func(x float64) Num { calls.Add(1); return NumFromFloat(x) })
	xs := []float64{0.001, 0.002, 0.004, 1e6, 2e6, 0, math.Copysign(0, -1), 123.456}
	for round := 0; round < 3; round++ {
		for _, x := range xs {
			if got, want := m.Get(x), NumFromFloat(x); !got.Identical(want) {
				t.Fatalf("Get(%v) = %s, want %s", x, got, want)
			}
		}
	}
	// Each value converts once unless two share a slot (at most the
	// values' count more).
	if n := int(calls.Load()); n < len(xs) || n > 2*len(xs) {
		t.Errorf("%d conversions for %d values over 3 rounds", n, len(xs))
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				x := float64(i%100) / 7
				if got, want := m.Get(x), NumFromFloat(x); !got.Identical(want) {
					t.Errorf("concurrent Get(%v) = %s, want %s", x, got, want)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestApproxFloat: within 4 ulps of the correctly rounded Float on random
// amounts at Scale places and the edge cases.
func TestApproxFloat(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	cases := []decimal.Decimal{decimal.Zero, decimal.RequireFromString("1234.5678"), decimal.RequireFromString("-0.000000000000000001"),
		decimal.RequireFromString("340282366920938463463.374607431768211455"), decimal.New(5, 3), decimal.New(7, -30)}
	for range 2000 {
		v := (rng.Float64() - 0.3) * math.Pow(10, float64(rng.IntN(30)-10))
		cases = append(cases, FromFloat(v))
	}
	for _, d := range cases {
		got, want := ApproxFloat(d), Float(d)
		if want == 0 {
			if got != 0 {
				t.Errorf("ApproxFloat(%s) = %g, want 0", d, got)
			}
			continue
		}
		if math.Abs(got-want) > 4*math.Abs(want)*0x1p-52 {
			t.Errorf("ApproxFloat(%s) = %.17g, Float %.17g: more than 4 ulps apart", d, got, want)
		}
	}
}
