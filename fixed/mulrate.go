package fixed

import (
	"math/bits"

	"github.com/shopspring/decimal"
)

// MulRate returns u x FastDecimal(x) rounded half away from zero to Scale
// places: the same coefficient and exponent as
// u.Mul(FastDecimal(x)).Round(Scale) for every u and x (zero results may
// be decimal.Zero). The product and the rounding division run on 64-bit
// words (Num.MulRate); only the result is built as a decimal.
func MulRate(u decimal.Decimal, x float64) decimal.Decimal {
	return FromDec(u).MulRate(x).Dec()
}

// RateOperand is a Num made ready to be multiplied by rate after rate
// (a position's units, valued at every step at its market's new rate):
// MulRate gives n.MulRate(x), bit for bit. The product's division by
// the rate's power of ten (m x 10^-k, fastParts) is most of a MulRate;
// RateOperand divides |n| by 10^k once (|n| = Q x 10^k + R) and keeps
// Q and R, so that each product is Q x m plus (R x m) / 10^k, whose
// dividend is below 10^k x 2^64: one word-by-power-of-ten division
// instead of two. The split is kept until n or k changes (k is the same
// for rates of one magnitude: 15 for rates in [0.9, 9)).
type RateOperand struct {
	n      Num
	k      int // the power of ten Q and R are split at; -1: none
	qh, ql uint64
	r      uint64
}

// NewRateOperand returns n made ready for MulRate.
func NewRateOperand(n Num) RateOperand { return RateOperand{n: n, k: -1} }

// Num is the operand.
func (o *RateOperand) Num() Num { return o.n }

// MulRate returns o.Num().MulRate(x).
func (o *RateOperand) MulRate(x float64) Num {
	n := &o.n
	if n.slow() || n.Sign() == 0 {
		return n.MulRate(x)
	}
	m, k, ok := fastParts(x)
	if !ok || m == 0 {
		return n.MulRate(x)
	}
	neg, hi, lo := n.abs()
	if k != o.k {
		o.k = k
		o.qh, o.ql, o.r = hi, lo, 0
		if k > 0 {
			var r uint64
			d := &p10Div[k]
			if hi >= pow10u64[k] {
				o.qh, r = d.div(0, hi)
			} else {
				o.qh, r = 0, hi
			}
			o.ql, o.r = d.div(r, lo)
		}
	}
	if m < 0 {
		neg, m = !neg, -m
	}
	um := uint64(m)
	// Q x m on three words.
	h1, l1 := bits.Mul64(o.ql, um)
	h2, l2 := bits.Mul64(o.qh, um)
	w1, c := bits.Add64(h1, l2, 0)
	w2 := h2 + c
	w0 := l1
	// (R x m) / 10^k: R < 10^k and m < 2^53, so the high word is below
	// 10^k.
	var f, rem uint64
	if k > 0 {
		rh, rl := bits.Mul64(o.r, um)
		f, rem = p10Div[k].div(rh, rl)
	}
	w0, c = bits.Add64(w0, f, 0)
	w1, c = bits.Add64(w1, 0, c)
	w2 += c
	if d := pow10u64[k]; rem >= d-rem && k > 0 {
		w0, c = bits.Add64(w0, 1, 0)
		w1, c = bits.Add64(w1, 0, c)
		w2 += c
	}
	if w2 != 0 {
		return n.MulRate(x)
	}
	if r, ok := fastNum(neg && w1|w0 != 0, w1, w0, -Scale); ok {
		return r
	}
	return n.MulRate(x)
}
