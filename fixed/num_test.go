package fixed

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"
)

// numAmounts are amounts() plus values near the fast form's limits.
func numAmounts(rng *rand.Rand, n int) []decimal.Decimal {
	out := amounts(rng, n)
	lim := new(big.Int).Lsh(big.NewInt(1), 127) // 2^127 units
	for _, d := range []*big.Int{lim, new(big.Int).Sub(lim, big.NewInt(1)), new(big.Int).Neg(lim), new(big.Int).Add(new(big.Int).Neg(lim), big.NewInt(1))} {
		out = append(out, decimal.NewFromBigInt(d, -Scale))
	}
	out = append(out, decimal.New(1, Scale), decimal.New(1, Scale+1), decimal.New(123, 2), decimal.RequireFromString("7.5"),
		decimal.RequireFromString("1000"), decimal.New(0, 1), decimal.New(0, -Scale-1))
	// Realistic amounts: 1e-6 to 1e9 base units at Scale places.
	for range n {
		out = append(out, decimal.NewFromFloat(rng.Float64()*math.Pow(10, float64(rng.IntN(16)-6))).Round(Scale))
	}
	return out
}

func numRates(rng *rand.Rand, n int) []float64 {
	out := []float64{0, 1, -1, 1.1, 0.98, 1e-9, 1e-19, 5e-19, 1.0000000001, 3.5e7, 9e15, 1e17, -0.5, 0.999999999999, 1.05e-3,
		math.NaN(), math.Inf(1), math.Copysign(0, -1)}
	for range n {
		out = append(out, rng.Float64()*2, rng.Float64()*math.Pow(10, float64(rng.IntN(24)-12)), -rng.Float64())
	}
	return out
}

// check fails unless got (a Num) stands for want, the decimal result.
func check(t *testing.T, what string, got Num, want decimal.Decimal) {
	t.Helper()
	if g := got.Dec(); !same(g, want) {
		t.Fatalf("%s = %s (exp %d), want %s (exp %d)", what, g, g.Exponent(), want, want.Exponent())
	}
	if got.Sign() != want.Sign() {
		t.Fatalf("%s: Sign %d, want %d", what, got.Sign(), want.Sign())
	}
	if g, w := got.Exponent(), want.Exponent(); g != w {
		t.Fatalf("%s: Exponent %d, want %d", what, g, w)
	}
}

// decPanics runs f and reports whether it panicked (decimal panics on a
// division by zero).
func decPanics(f func()) (p bool) {
	defer func() { p = recover() != nil }()
	f()
	return false
}

func TestNum_RoundTrip(t *testing.T) {
	sub(t, func(t *testing.T) {
		for _, d := range numAmounts(rand.New(rand.NewPCG(11, 12)), 500) {
			n := FromDec(d)
			check(t, "FromDec("+d.String()+")", n, d)
			if got, want := n.Float(), d.InexactFloat64(); got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
				t.Fatalf("Float(%s) = %.17g, want %.17g", d, got, want)
			}
			if got, want := n.ToFloat(), ToFloat(d); got != want {
				t.Fatalf("ToFloat(%s) = %.17g, want %.17g", d, got, want)
			}
		}
	})
	var zero Num
	check(t, "Num{}", zero, decimal.Decimal{})
}

func TestNum_AddSubCmp(t *testing.T) {
	sub(t, func(t *testing.T) {
		xs := numAmounts(rand.New(rand.NewPCG(13, 14)), 150)
		for _, a := range xs {
			na := FromDec(a)
			check(t, "Neg("+a.String()+")", na.Neg(), a.Neg())
			for _, b := range xs {
				nb := FromDec(b)
				check(t, a.String()+" + "+b.String(), na.Add(nb), a.Add(b))
				check(t, a.String()+" - "+b.String(), na.Sub(nb), a.Sub(b))
				if got, want := na.Cmp(nb), a.Cmp(b); got != want {
					t.Fatalf("Cmp(%s, %s) = %d, want %d", a, b, got, want)
				}
			}
		}
	})
}

func TestNum_Floats(t *testing.T) {
	sub(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(15, 16))
		for _, x := range numRates(rng, 3000) {
			check(t, "FastNum", FastNum(x), FastDecimal(x))
			if math.IsNaN(x) || math.IsInf(x, 0) {
				check(t, "NumFromFloat", NumFromFloat(x), decimal.Zero)
				continue
			}
			check(t, "NumFromFloat", NumFromFloat(x), FromFloat(x))
		}
		for range 20000 {
			v := math.Float64frombits(rng.Uint64())
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			check(t, "NumFromFloat", NumFromFloat(v), FromFloat(v))
		}
	})
}

func TestNum_MulDivRate(t *testing.T) {
	sub(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(17, 18))
		rates := numRates(rng, 100)
		for _, u := range numAmounts(rng, 150) {
			n := FromDec(u)
			for _, x := range rates {
				check(t, "MulQ("+u.String()+")", n.MulQ(x), u.Mul(FastDecimal(x)).Round(Scale))
				check(t, "MulRate("+u.String()+")", n.MulRate(x), MulRate(u, x))
				fd := FastDecimal(x)
				if fd.Sign() == 0 {
					continue
				}
				check(t, "DivRoundRate("+u.String()+")", n.DivRoundRate(x), u.DivRound(fd, Scale))
			}
		}
	})
}

func TestNum_DivRoundMulDiv(t *testing.T) {
	sub(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(19, 20))
		xs := numAmounts(rng, 10)
		for _, a := range xs {
			na := FromDec(a)
			for _, b := range xs {
				nb := FromDec(b)
				if b.Sign() != 0 {
					check(t, a.String()+" DivRound "+b.String(), na.DivRound(nb), a.DivRound(b, Scale))
				}
				for _, c := range xs {
					if c.Sign() == 0 {
						continue
					}
					nc := FromDec(c)
					q, _ := a.Mul(b).QuoRem(c, Scale)
					check(t, "MulDivDown("+a.String()+", "+b.String()+", "+c.String()+")", na.MulDivDown(nb, nc), q)
					check(t, "MulDivRound("+a.String()+", "+b.String()+", "+c.String()+")", na.MulDivRound(nb, nc), a.Mul(b).DivRound(c, Scale))
				}
			}
		}
	})
}

// floorMul is the formula MulNewFloor stands for.
func floorMul(a decimal.Decimal, m int64, k int) decimal.Decimal {
	p := a.Mul(decimal.New(m, -int32(k)))
	if p.Sign() < 0 {
		q, r := p.QuoRem(decimal.New(1, 0), Scale)
		if r.Sign() != 0 {
			q = q.Sub(decimal.New(1, -Scale))
		}
		return q
	}
	return p.Truncate(Scale)
}

func TestNum_MulNewFloor(t *testing.T) {
	sub(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(21, 22))
		ms := []int64{0, 1, -1, 1e15, 999999999999999, 12000000000000, -5}
		for range 50 {
			ms = append(ms, rng.Int64N(1e15+1))
		}
		for _, a := range numAmounts(rng, 100) {
			for _, m := range ms {
				for _, k := range []int{0, 1, 15, 18} {
					check(t, "MulNewFloor("+a.String()+")", FromDec(a).MulNewFloor(m, k), floorMul(a, m, k))
				}
			}
		}
	})
}

// TestDiv256by128 checks the long division against math/big.
func TestDiv256by128(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	toBig := func(w ...uint64) *big.Int {
		z := new(big.Int)
		for i := len(w) - 1; i >= 0; i-- {
			z.Lsh(z, 64)
			z.Or(z, new(big.Int).SetUint64(w[i]))
		}
		return z
	}
	word := func() uint64 {
		switch rng.IntN(4) {
		case 0:
			return 0
		case 1:
			return math.MaxUint64
		case 2:
			return rng.Uint64() >> uint(rng.IntN(64))
		}
		return rng.Uint64()
	}
	for range 200000 {
		u := [4]uint64{word(), word(), word(), word()}
		d1, d0 := word(), word()
		if d1 == 0 {
			d1 = 1
		}
		q, r1, r0 := div256by128(u, d1, d0)
		wq, wr := new(big.Int).QuoRem(toBig(u[:]...), toBig(d0, d1), new(big.Int))
		if toBig(q[:]...).Cmp(wq) != 0 || toBig(r0, r1).Cmp(wr) != 0 {
			t.Fatalf("div256by128(%x, %x:%x) = %x rem %x:%x, want %s rem %s", u, d1, d0, q, r1, r0, wq.Text(16), wr.Text(16))
		}
	}
}

func TestNum_DivisionByZeroPanics(t *testing.T) {
	one := FromDec(decimal.New(1, 0))
	var zero Num
	if !decPanics(func() { one.DivRound(zero) }) {
		t.Error("DivRound by zero did not panic")
	}
	if !decPanics(func() { one.DivRoundRate(0) }) {
		t.Error("DivRoundRate by zero did not panic")
	}
}

// fuzzDec builds a decimal from fuzz words.
func fuzzDec(hi int64, lo uint64, exp int8) decimal.Decimal {
	var c big.Int
	c.SetInt64(hi)
	c.Lsh(&c, 64)
	c.Add(&c, new(big.Int).SetUint64(lo))
	return decimal.NewFromBigInt(&c, int32(exp%24))
}

func FuzzNum(f *testing.F) {
	f.Add(int64(1), uint64(0), int8(-18), int64(-5), uint64(7), int8(-18), int64(0), uint64(3), int8(-18), 1.1)
	f.Add(int64(0), uint64(1<<63), int8(-18), int64(1), uint64(0), int8(-2), int64(1), uint64(1), int8(0), 0.98)
	f.Add(int64(1<<62), uint64(0), int8(-18), int64(0), uint64(1e18), int8(-18), int64(0), uint64(7), int8(-1), 1e-9)
	f.Fuzz(func(t *testing.T, ahi int64, alo uint64, aexp int8, bhi int64, blo uint64, bexp int8, chi int64, clo uint64, cexp int8, x float64) {
		a, b, c := fuzzDec(ahi, alo, aexp), fuzzDec(bhi, blo, bexp), fuzzDec(chi, clo, cexp)
		na, nb, nc := FromDec(a), FromDec(b), FromDec(c)
		check(t, "FromDec", na, a)
		check(t, "Add", na.Add(nb), a.Add(b))
		check(t, "Sub", na.Sub(nb), a.Sub(b))
		if got, want := na.Cmp(nb), a.Cmp(b); got != want {
			t.Fatalf("Cmp(%s, %s) = %d, want %d", a, b, got, want)
		}
		if got, want := na.Float(), a.InexactFloat64(); got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Fatalf("Float(%s) = %v, want %v", a, got, want)
		}
		if got, want := na.ToFloat(), ToFloat(a); got != want {
			t.Fatalf("ToFloat(%s) = %v, want %v", a, got, want)
		}
		check(t, "MulQ", na.MulQ(x), a.Mul(FastDecimal(x)).Round(Scale))
		check(t, "MulRate", na.MulRate(x), MulRate(a, x))
		if fd := FastDecimal(x); fd.Sign() != 0 {
			check(t, "DivRoundRate", na.DivRoundRate(x), a.DivRound(fd, Scale))
		}
		if b.Sign() != 0 {
			check(t, "DivRound", na.DivRound(nb), a.DivRound(b, Scale))
		}
		if c.Sign() != 0 {
			q, _ := a.Mul(b).QuoRem(c, Scale)
			check(t, "MulDivDown", na.MulDivDown(nb, nc), q)
			check(t, "MulDivRound", na.MulDivRound(nb, nc), a.Mul(b).DivRound(c, Scale))
		}
		m := int64(blo % (1e15 + 1))
		check(t, "MulNewFloor", na.MulNewFloor(m, 15), floorMul(a, m, 15))
		if got, want := string(na.AppendString(nil)), a.String(); got != want {
			t.Fatalf("AppendString(%s) = %q, want %q", a, got, want)
		}
	})
}

func BenchmarkNum(b *testing.B) {
	x := FromDec(decimal.RequireFromString("1000.123456789012345678"))
	y := FromDec(decimal.RequireFromString("12.500000000000000001"))
	b.Run("add-sub-cmp", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			x = x.Add(y).Sub(y)
			if x.Cmp(y) < 0 {
				b.Fatal("order")
			}
		}
	})
	b.Run("mulq-divround", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			x = x.MulQ(1.0000001).DivRoundRate(1.0000001)
		}
	})
	b.Run("muldivdown", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			x = x.MulDivDown(y, y)
		}
	})
}

// TestNum_FastPathsDoNotAllocate checks that realistic operands take the
// fast paths: no operation but Dec allocates.
func TestNum_FastPathsDoNotAllocate(t *testing.T) {
	a := FromDec(decimal.RequireFromString("1000.123456789012345678"))
	b := FromDec(decimal.RequireFromString("12.5"))
	c := FromDec(decimal.RequireFromString("7.000000000000000003"))
	var sink Num
	var sf float64
	ops := map[string]func(){
		"FromDec":      func() { sink = FromDec(decimal.Zero) },
		"Add":          func() { sink = a.Add(b) },
		"Sub":          func() { sink = a.Sub(b) },
		"Cmp":          func() { sf = float64(a.Cmp(b)) },
		"MulQ":         func() { sink = a.MulQ(1.0123) },
		"MulRate":      func() { sink = a.MulRate(0.987) },
		"DivRoundRate": func() { sink = a.DivRoundRate(1.0456) },
		"DivRound":     func() { sink = a.DivRound(c) },
		"MulDivDown":   func() { sink = a.MulDivDown(b, c) },
		"MulDivRound":  func() { sink = a.MulDivRound(b, c) },
		"MulNewFloor":  func() { sink = a.MulNewFloor(123456789012345, 15) },
		"NumFromFloat": func() { sink = NumFromFloat(0.000123) },
		"FastNum":      func() { sink = FastNum(1.0123) },
		"Float":        func() { sf = a.Float() },
		"ToFloat":      func() { sf = b.ToFloat() },
	}
	for name, f := range ops {
		if got := testing.AllocsPerRun(20, f); got != 0 {
			t.Errorf("%s: %v allocations, want 0", name, got)
		}
	}
	_, _ = sink, sf
}

func TestFastDecimal_MatchesNew(t *testing.T) {
	sub(t, func(t *testing.T) {
		for _, x := range numRates(rand.New(rand.NewPCG(25, 26)), 2000) {
			ax := math.Abs(x)
			if ax == 0 || !(ax < 9e15) {
				continue
			}
			m, k, _ := fastParts(x)
			if got, want := FastDecimal(x), decimal.New(m, -int32(k)); !same(got, want) {
				t.Fatalf("FastDecimal(%v) = %s (exp %d), want %s (exp %d)", x, got, got.Exponent(), want, want.Exponent())
			}
		}
	})
}

// TestNum_ZeroResults checks that zero results, built without a
// coefficient, behave as decimal's zeros in decimal's own arithmetic.
func TestNum_ZeroResults(t *testing.T) {
	for _, exp := range []int32{-Scale, -3, 0} {
		z := Num{exp: exp}.Dec()
		want := decimal.New(0, exp)
		if !same(z, want) || z.String() != want.String() || z.StringFixed(6) != want.StringFixed(6) {
			t.Fatalf("zero at exp %d = %s, want %s", exp, z, want)
		}
		x := decimal.RequireFromString("1.5")
		for name, got := range map[string][2]decimal.Decimal{
			"Add":      {z.Add(x), want.Add(x)},
			"Sub":      {x.Sub(z), x.Sub(want)},
			"Mul":      {z.Mul(x), want.Mul(x)},
			"DivRound": {z.DivRound(x, Scale), want.DivRound(x, Scale)},
			"Round":    {z.Round(Scale), want.Round(Scale)},
			"Neg":      {z.Neg(), want.Neg()},
		} {
			if !same(got[0], got[1]) {
				t.Errorf("%s with a zero at exp %d = %s (exp %d), want %s (exp %d)", name, exp, got[0], got[0].Exponent(), got[1], got[1].Exponent())
			}
		}
		if z.Cmp(want) != 0 || z.Sign() != 0 || !z.IsZero() {
			t.Errorf("zero at exp %d does not compare as zero", exp)
		}
		if b, err := z.MarshalJSON(); err != nil || string(b) != `"0"` {
			t.Errorf("zero at exp %d marshals to %s, %v", exp, b, err)
		}
	}
}

func TestNum_AppendString(t *testing.T) {
	sub(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(43, 44))
		xs := append(numAmounts(rng, 200), decimal.New(0, -Scale), decimal.New(-5, -1), decimal.New(5, 3), decimal.New(-120, 0),
			decimal.RequireFromString("18446744073.709551616"), decimal.RequireFromString("18446744073709551616"),
			decimal.RequireFromString("-0.000000000000000001"), decimal.RequireFromString("100.100000000000000000"))
		for _, x := range xs {
			if got, want := string(FromDec(x).AppendString([]byte("x"))), "x"+x.String(); got != want {
				t.Fatalf("AppendString(%s (exp %d)) = %q, want %q", x, x.Exponent(), got, want)
			}
		}
	})
}

// fastPartsRef is fastParts' search from k = 18.
func fastPartsRef(x float64) (int64, int, bool) {
	ax := math.Abs(x)
	if !(ax < 9e15) {
		return 0, 0, false
	}
	k := 18
	for ax*pow10f[k] >= 9e15 {
		k--
	}
	return int64(math.Round(x * pow10f[k])), k, true
}

func TestFastParts_MatchesSearchFrom18(t *testing.T) {
	rng := rand.New(rand.NewPCG(47, 48))
	xs := []float64{0, math.Copysign(0, -1), 1, -1, 9e15, math.Nextafter(9e15, 0), 9e14, math.Nextafter(9e14, 0), 9e-3, 0.009, 5e-324, 1e-300, math.NaN(), math.Inf(1)}
	for k := 0; k <= 18; k++ {
		b := 9e15 / pow10f[k]
		xs = append(xs, b, math.Nextafter(b, 0), math.Nextafter(b, math.Inf(1)), -b)
	}
	for e := -1074; e < 60; e++ {
		p := math.Ldexp(1, e)
		xs = append(xs, p, math.Nextafter(p, 0), math.Nextafter(p, math.Inf(1)))
	}
	for range 200000 {
		xs = append(xs, math.Float64frombits(rng.Uint64()), rng.Float64()*math.Pow(10, float64(rng.IntN(40)-24)))
	}
	for _, x := range xs {
		gm, gk, gok := fastParts(x)
		wm, wk, wok := fastPartsRef(x)
		if gm != wm || gk != wk || gok != wok {
			t.Fatalf("fastParts(%v) = %d, %d, %v; the search from 18 gives %d, %d, %v", x, gm, gk, gok, wm, wk, wok)
		}
	}
}

func BenchmarkNum_MulRate(b *testing.B) {
	// A held position's units (about 100 tokens) times a market's
	// exchange rate, as the vault values positions at every tick.
	u := FromDec(decimal.RequireFromString("98.123456789012345678"))
	rates := []float64{1.0512345678901234, 1.0000001, 0.9987654321, 1.2345678912345678}
	var sink Num
	b.Run("Num", func(b *testing.B) {
		i := 0
		for b.Loop() {
			sink = u.MulRate(rates[i&3])
			i++
		}
	})
	b.Run("RateOperand", func(b *testing.B) {
		o := NewRateOperand(u)
		i := 0
		for b.Loop() {
			sink = o.MulRate(rates[i&3])
			i++
		}
	})
	_ = sink
}

func BenchmarkNum_AppendString(b *testing.B) {
	x := FromDec(decimal.RequireFromString("1000.123456789012345678"))
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = x.AppendString(buf[:0])
	}
}

// TestRateOperand_MatchesMulRate: a RateOperand's products are
// Num.MulRate's (checked against decimal's in TestNum_MulDivRate), for
// every amount and rate, with rates of changing magnitude in a row (the
// split is made again when the rate's power of ten changes) and again
// with the rate's sign and magnitude kept (the split reused).
func TestRateOperand_MatchesMulRate(t *testing.T) {
	sub(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(53, 54))
		rates := numRates(rng, 100)
		for range 200 {
			x := 1 + 0.2*rng.Float64() // an exchange rate: k stays at 15
			rates = append(rates, x, x*1e-3, 9-rng.Float64()*1e-9, 0.9+rng.Float64()*1e-9)
		}
		for _, u := range numAmounts(rng, 150) {
			n := FromDec(u)
			o := NewRateOperand(n)
			if !o.Num().Identical(n) {
				t.Fatalf("Num() of %s is not the operand", u)
			}
			for _, x := range rates {
				want := n.MulRate(x)
				got := o.MulRate(x)
				check(t, "RateOperand("+u.String()+").MulRate", got, want.Dec())
				if !want.slow() && !got.Identical(want) { // slow forms hold their own decimals
					t.Fatalf("RateOperand(%s).MulRate(%v) = %v, not Identical to MulRate's %v", u, x, got, want)
				}
			}
		}
		o := NewRateOperand(FromDec(decimal.RequireFromString("100.5")))
		o.MulRate(1.05)
		if o.k != 15 {
			t.Fatalf("a rate of 1.05 split 100.5 at 10^%d, want 10^15 (the fast path)", o.k)
		}
	})
}
