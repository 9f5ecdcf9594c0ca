package fixed

import (
	"math/bits"

	"github.com/shopspring/decimal"
)

// pow10w holds 10^k for k in [0, 2 x Scale] as two words (hi, lo).
var pow10w = func() (p [2*Scale + 1][2]uint64) {
	for k := range p {
		hi, lo, _ := mulPow10Big(0, 1, k)
		p[k] = [2]uint64{hi, lo}
	}
	return p
}()

// floorScale rounds d down to Scale places as the vault does: a
// negative value is QuoRem'd by one at Scale places and stepped down a
// unit when inexact (exponent -Scale); any other is Truncate(Scale)'d,
// which keeps its exponent when that is Scale places or fewer.
func floorScale(d decimal.Decimal) decimal.Decimal {
	if d.Sign() < 0 {
		q, r := d.QuoRem(decimal.New(1, 0), Scale)
		if r.Sign() != 0 {
			q = q.Sub(decimal.New(1, -Scale))
		}
		return q
	}
	return d.Truncate(Scale)
}

// SubMulFloor returns a - h x s rounded down to Scale places, as
// floorScale(a.Dec().Sub(h.Mul(s.Dec()))) gives it (floorScale: a
// negative value QuoRem'd by one at Scale places and a unit down when
// inexact, any other Truncate(Scale)'d). h may carry up to 2 x Scale
// places: it is a share price (the vault's high-water mark times the
// share supply is the assets the mark stands for).
//
// The fast path takes a >= 0, s >= 0 and h >= 0 in the fast form (h's
// coefficient below 2^128, its exponent in [-2 x Scale, 0]) when the
// difference has more than Scale places, so that the result has
// exponent -Scale; it works on 256-bit words at 3 x Scale places.
func SubMulFloor(a Num, h decimal.Decimal, s Num) Num {
	return SubMulFloorWide(a, WideOf(h), s)
}

// subMulFloorWords is SubMulFloor's fast path, with h >= 0 given as its
// coefficient's words hh:hl at exponent he, in [-2 x Scale, 0]; ok is
// false outside it.
func subMulFloorWords(a *Num, hh, hl uint64, he int32, s *Num) (Num, bool) {
	if a.slow() || s.slow() || a.hi>>63 != 0 || s.hi>>63 != 0 || bits64 != 64 {
		return Num{}, false
	}
	if he < -2*Scale || he > 0 || min(a.exp, he+s.exp) >= -Scale {
		return Num{}, false
	}
	var ok bool
	// h's coefficient at 2 x Scale places.
	if hh, hl, ok = mulPow10Big(hh, hl, int(he+2*Scale)); !ok {
		return Num{}, false
	}
	// At 3 x Scale places: a x 10^(2 Scale) and h x s.
	p10 := pow10w[2*Scale]
	x := mul128(a.hi, a.lo, p10[0], p10[1])
	y := mul128(hh, hl, s.hi, s.lo)
	neg := cmp256(&x, &y) < 0
	if neg {
		x, y = y, x
	}
	d := sub256(&x, &y)
	// Divide by 10^(2 Scale): truncated, then (negative) a unit further
	// down when inexact.
	var r1, r2 uint64
	d, r1 = div256byP10(d, Scale)
	d, r2 = div256byP10(d, Scale)
	if neg && r1|r2 != 0 {
		var c uint64
		d[0], c = bits.Add64(d[0], 1, 0)
		d[1], c = bits.Add64(d[1], 0, c)
		d[2], c = bits.Add64(d[2], 0, c)
		d[3] += c
	}
	if d[3]|d[2] != 0 {
		return Num{}, false
	}
	return fastNum(neg, d[1], d[0], -Scale)
}

// DivRoundDec returns n.Dec().DivRound(b.Dec(), places) for places in
// [0, 2 x Scale] (b must not be zero): the quotient rounded half away
// from zero at places, exponent -places. With n >= 0 and b > 0 in the
// fast form it divides on 256-bit words and allocates only the result.
func (n Num) DivRoundDec(b Num, places int32) decimal.Decimal {
	return n.DivRoundWide(b, places).d
}

// DivRoundWide is DivRoundDec with the quotient's words kept (Wide).
func (n Num) DivRoundWide(b Num, places int32) Wide {
	if !n.slow() && !b.slow() && n.hi>>63 == 0 && b.Sign() > 0 && places >= 0 && places <= 2*Scale && bits64 == 64 {
		// n / b = n's coefficient / b's (both at Scale places).
		p10 := pow10w[places]
		q := quo256(mul128(n.hi, n.lo, p10[0], p10[1]), b.hi, b.lo, true)
		if q[3]|q[2] == 0 {
			return Wide{d: fromWords(false, q[1], q[0], -places), hi: q[1], lo: q[0], exp: -places, ok: true}
		}
	}
	return WideOf(n.Dec().DivRound(b.Dec(), places))
}

// Wide is a decimal with, when it is >= 0 with a coefficient below 2^128
// and an exponent in [-2 x Scale, 0], that coefficient's words: a share
// price at 2 x Scale places (a vault's high-water mark), which
// SubMulFloorWide reads at every accrual, where SubMulFloor would copy
// the decimal's coefficient of more than 64 bits (Coefficient) to read
// it. The zero Wide is the zero decimal.
type Wide struct {
	d      decimal.Decimal
	hi, lo uint64 // d's coefficient, when ok
	exp    int32  // d's exponent, when ok
	ok     bool
}

// WideOf returns d with its words, read once.
func WideOf(d decimal.Decimal) Wide {
	w := Wide{d: d}
	if e := d.Exponent(); e >= -2*Scale && e <= 0 && bits64 == 64 {
		if neg, hi, lo, ok := words(&d); ok && !neg {
			w.hi, w.lo, w.exp, w.ok = hi, lo, e, true
		}
	}
	return w
}

// Dec is the decimal w stands for.
func (w Wide) Dec() decimal.Decimal { return w.d }

// SubMulFloorWide is SubMulFloor(a, h.Dec(), s), reading h's words
// instead of its decimal's coefficient.
func SubMulFloorWide(a Num, h Wide, s Num) Num {
	if h.ok {
		if r, ok := subMulFloorWords(&a, h.hi, h.lo, h.exp, &s); ok {
			return r
		}
	}
	return FromDec(floorScale(a.Dec().Sub(h.d.Mul(s.Dec()))))
}

// cmp256 compares two four-word magnitudes.
func cmp256(x, y *[4]uint64) int {
	for i := 3; i >= 0; i-- {
		switch {
		case x[i] < y[i]:
			return -1
		case x[i] > y[i]:
			return 1
		}
	}
	return 0
}

// sub256 returns x - y (x >= y).
func sub256(x, y *[4]uint64) [4]uint64 {
	var d [4]uint64
	var b uint64
	d[0], b = bits.Sub64(x[0], y[0], 0)
	d[1], b = bits.Sub64(x[1], y[1], b)
	d[2], b = bits.Sub64(x[2], y[2], b)
	d[3], _ = bits.Sub64(x[3], y[3], b)
	return d
}

// div256byP10 divides u by 10^k (k < len(pow10u64)): quotient and
// remainder, by the power's reciprocal (p10Div) instead of the hardware
// divide.
func div256byP10(u [4]uint64, k int) ([4]uint64, uint64) {
	var q [4]uint64
	var r uint64
	v := &p10Div[k]
	for i := 3; i >= 0; i-- {
		q[i], r = v.div(r, u[i])
	}
	return q, r
}
