package fixed

import (
	"math"
	"math/bits"
	"strconv"

	"github.com/shopspring/decimal"
)

// Num is a decimal value for the arithmetic of a hot path: a signed
// 128-bit coefficient at Scale places (two 64-bit words, two's
// complement) when the value fits, else the decimal itself. It remembers
// the exponent of the decimal it stands for, so that every operation
// gives the decimal that the same operation on decimal.Decimal gives:
// the same coefficient and the same exponent (Dec builds it). Values that
// do not fit (|value| of 2^127 units or more, exponents outside
// [-Scale, Scale], more than Scale places) and results that would not
// fit take decimal's own arithmetic, so a Num is never wrong, only
// slower.
//
// The zero Num is the zero decimal.Decimal{}. Conversions from decimals
// (FromDec), from floats (NumFromFloat, FastNum) and every operation on
// the fast form allocate nothing; Dec allocates the result's big.Int
// (one allocation).
//
// A Num is four words (32 bytes), so that two of them and a result pass
// in registers: the slow form keeps the decimal's coefficient pointer in
// p and its exponent in exp, and p is nil exactly in the fast form.
type Num struct {
	hi, lo uint64           // coefficient at Scale places, two's complement (fast form)
	p      *decimal.Decimal // slow form: the decimal itself; nil in the fast form
	exp    int32            // exponent of the decimal the Num stands for (fast form)
}

// slowNum is the slow form of d (one allocation: d moves to the heap).
func slowNum(d decimal.Decimal) Num { return Num{p: &d, exp: d.Exponent()} }

// slow reports whether n is in the slow form.
func (n *Num) slow() bool { return n.p != nil }

// dec is the decimal a slow Num holds.
func (n *Num) dec() decimal.Decimal { return *n.p }

// maxExp bounds the exponents held in the fast form: the coefficient at
// Scale places is the decimal's times 10^(exp+Scale).
const maxExp = Scale

// FromDec converts a decimal to a Num: without allocating when its
// coefficient fits a signed 64-bit word (decimal's CoefficientInt64),
// else with decimal's copy of the coefficient (Coefficient).
func FromDec(d decimal.Decimal) Num {
	exp := d.Exponent()
	if exp >= -Scale && exp <= maxExp && bits64 == 64 {
		if neg, hi, lo, ok := words(&d); ok {
			if hi, lo, ok = mulPow10Big(hi, lo, int(exp+Scale)); ok && hi>>63 == 0 {
				if neg {
					hi, lo = neg128(hi, lo)
				}
				return Num{hi: hi, lo: lo, exp: exp}
			}
		}
	}
	return slowNum(d)
}

// mulPow10Big is mulPow10 for k in [0, 36].
func mulPow10Big(hi, lo uint64, k int) (uint64, uint64, bool) {
	if k > 18 {
		var ok bool
		if hi, lo, ok = mulPow10(hi, lo, 18); !ok {
			return 0, 0, false
		}
		k -= 18
	}
	return mulPow10(hi, lo, k)
}

// fastNum returns the fast form of the magnitude hi:lo with a sign at
// exponent exp, or ok false when it does not fit in 127 bits.
func fastNum(neg bool, hi, lo uint64, exp int32) (Num, bool) {
	if hi>>63 != 0 {
		return Num{}, false
	}
	if neg {
		hi, lo = neg128(hi, lo)
	}
	return Num{hi: hi, lo: lo, exp: exp}, true
}

func neg128(hi, lo uint64) (uint64, uint64) {
	lo, b := bits.Sub64(0, lo, 0)
	hi, _ = bits.Sub64(0, hi, b)
	return hi, lo
}

// abs returns the magnitude of a fast Num and its sign.
func (n *Num) abs() (neg bool, hi, lo uint64) {
	if n.hi>>63 != 0 {
		hi, lo = neg128(n.hi, n.lo)
		return true, hi, lo
	}
	return false, n.hi, n.lo
}

// Dec returns the decimal n stands for: the same coefficient and exponent
// as the decimal arithmetic it replaces.
func (n Num) Dec() decimal.Decimal {
	if n.slow() {
		return n.dec()
	}
	neg, hi, lo := n.abs()
	hi, lo = divPow10Exact(hi, lo, int(n.exp+Scale))
	return fromWords(neg, hi, lo, n.exp)
}

// divPow10Exact divides hi:lo by 10^k, k in [0, 36], when it is known to
// divide.
func divPow10Exact(hi, lo uint64, k int) (uint64, uint64) {
	for k > 0 {
		s := min(k, 19)
		k -= s
		d := pow10u64[s]
		q1, r := hi/d, hi%d
		q0, _ := bits.Div64(r, lo, d)
		hi, lo = q1, q0
	}
	return hi, lo
}

// Sign returns -1, 0 or 1.
func (n Num) Sign() int {
	if n.p != nil {
		return n.slowSign()
	}
	x := n.hi | n.lo
	return int(int64(n.hi)>>63) | int((x|-x)>>63) // -1 | 1 = -1
}

func (n *Num) slowSign() int { return n.dec().Sign() }

// IsZero reports whether n is zero.
func (n Num) IsZero() bool { return n.Sign() == 0 }

// Exponent is the exponent of the decimal n stands for.
func (n Num) Exponent() int32 {
	if n.slow() {
		return n.dec().Exponent()
	}
	return n.exp
}

// Add returns n + b (decimal's Add).
func (n Num) Add(b Num) Num {
	lo, c := bits.Add64(n.lo, b.lo, 0)
	hi, _ := bits.Add64(n.hi, b.hi, c)
	// Signed overflow: both operands of one sign, the sum of the other.
	if n.p != nil || b.p != nil || ((n.hi^hi)&(b.hi^hi))>>63 != 0 {
		return addSlow(n, b)
	}
	return Num{hi: hi, lo: lo, exp: min(n.exp, b.exp)}
}

func addSlow(n, b Num) Num { return FromDec(n.Dec().Add(b.Dec())) }

// Sub returns n - b (decimal's Sub).
func (n Num) Sub(b Num) Num {
	lo, br := bits.Sub64(n.lo, b.lo, 0)
	hi, _ := bits.Sub64(n.hi, b.hi, br)
	// Signed overflow: operands of different signs, the difference of
	// the subtrahend's.
	if n.p != nil || b.p != nil || ((n.hi^b.hi)&(n.hi^hi))>>63 != 0 {
		return subSlow(n, b)
	}
	return Num{hi: hi, lo: lo, exp: min(n.exp, b.exp)}
}

func subSlow(n, b Num) Num { return FromDec(n.Dec().Sub(b.Dec())) }

// Neg returns -n (decimal's Neg: the exponent is kept).
func (n Num) Neg() Num {
	if !n.slow() && !(n.hi == 1<<63 && n.lo == 0) {
		n.hi, n.lo = neg128(n.hi, n.lo)
		return n
	}
	return FromDec(n.Dec().Neg())
}

// Cmp compares the values of n and b: -1, 0 or 1.
func (n Num) Cmp(b Num) int {
	if n.p != nil || b.p != nil {
		return cmpSlow(n, b)
	}
	if n.hi != b.hi {
		if int64(n.hi) < int64(b.hi) {
			return -1
		}
		return 1
	}
	if n.lo != b.lo {
		if n.lo < b.lo {
			return -1
		}
		return 1
	}
	return 0
}

func cmpSlow(n, b Num) int { return n.Dec().Cmp(b.Dec()) }

// Equal reports whether n and b have the same value.
func (n Num) Equal(b Num) bool { return n.Cmp(b) == 0 }

// Min returns the smaller of n and b (n when they are equal).
func (n Num) Min(b Num) Num {
	if n.Cmp(b) <= 0 {
		return n
	}
	return b
}

// Max returns the larger of n and b (n when they are equal).
func (n Num) Max(b Num) Num {
	if n.Cmp(b) >= 0 {
		return n
	}
	return b
}

// Float is Float(n.Dec()) (decimal's InexactFloat64, bit for bit: the
// nearest float64 to the value, which does not depend on the exponent).
func (n Num) Float() float64 {
	if n.slow() {
		return Float(n.dec())
	}
	neg, hi, lo := n.abs()
	if hi|lo == 0 {
		return 0
	}
	var f float64
	if hi == 0 && lo <= 1<<53 {
		f = float64(lo) / 1e18
	} else {
		f = quoFloat(hi, lo, Scale)
	}
	if neg {
		f = -f
	}
	return f
}

// ToFloat is ToFloat(n.Dec()), bit for bit, without building the
// decimal.
func (n Num) ToFloat() float64 {
	if n.slow() {
		return ToFloat(n.dec())
	}
	neg, hi, lo := n.abs()
	hi, lo = divPow10Exact(hi, lo, int(n.exp+Scale))
	return toFloatWords(neg, hi, lo, int(n.exp))
}

// NumFromFloat is FromDec(FromFloat(v)) without allocating.
func NumFromFloat(v float64) Num {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return Num{} // decimal.Zero
	}
	if neg, hi, lo, zero, ok := fromFloatWords(v); ok {
		if zero {
			return Num{exp: -Scale}
		}
		if n, ok := fastNum(neg, hi, lo, -Scale); ok {
			return n
		}
	}
	return FromDec(FromFloat(v))
}

// FastNum is FromDec(FastDecimal(x)) without allocating.
func FastNum(x float64) Num {
	ax := math.Abs(x)
	if ax == 0 {
		return Num{} // decimal.Zero
	}
	if !(ax < 9e15) {
		return NumFromFloat(x)
	}
	m, k, _ := fastParts(x)
	neg := m < 0
	if neg {
		m = -m
	}
	hi, lo := bits.Mul64(uint64(m), pow10u64[Scale-k])
	if m == 0 {
		return Num{exp: -int32(k)}
	}
	n, _ := fastNum(neg, hi, lo, -int32(k)) // m < 2^53, 10^18 < 2^60
	return n
}

// MulQ returns n x FastDecimal(x) rounded half away from zero to Scale
// places: n.Dec().Mul(FastDecimal(x)).Round(Scale), exponent -Scale.
func (n Num) MulQ(x float64) Num {
	if !n.slow() {
		if x == 0 {
			return Num{exp: -Scale} // a zero rate (no fee): zero at Scale places
		}
		if m, k, ok := fastParts(x); ok {
			if r, ok := n.mulParts(m, k); ok {
				return r
			}
		}
	}
	return FromDec(n.Dec().Mul(FastDecimal(x)).Round(Scale))
}

// mulParts is MulQ of a fast-form n by m x 10^-k (fastParts of a
// non-zero x); ok is false when the product does not fit the fast form.
func (n Num) mulParts(m int64, k int) (Num, bool) {
	neg, hi, lo := n.abs()
	if m < 0 {
		neg, m = !neg, -m
	}
	// |n| x m: three words.
	h1, l1 := bits.Mul64(lo, uint64(m))
	h2, l2 := bits.Mul64(hi, uint64(m))
	w1, c := bits.Add64(h1, l2, 0)
	w2 := h2 + c
	q2, q1, q0, rem := div192p10(w2, w1, l1, k)
	if d := pow10u64[k]; rem >= d-rem && k > 0 {
		var c uint64
		q0, c = bits.Add64(q0, 1, 0)
		q1, c = bits.Add64(q1, 0, c)
		q2 += c
	}
	if q2 != 0 {
		return Num{}, false
	}
	return fastNum(neg && q1|q0 != 0, q1, q0, -Scale)
}

// MulRate is FromDec(MulRate(n.Dec(), x)): MulQ, except that a zero
// operand gives decimal.Zero.
func (n Num) MulRate(x float64) Num {
	if n.Sign() == 0 {
		return Num{}
	}
	m, k, ok := fastParts(x)
	if ok && m == 0 {
		return Num{}
	}
	if ok && !n.slow() {
		if r, ok := n.mulParts(m, k); ok {
			return r
		}
	}
	return n.MulQ(x)
}

// DivRoundRate returns n.Dec().DivRound(FastDecimal(x), Scale): the
// quotient rounded half away from zero to Scale places. x must not round
// to zero (decimal panics on a division by zero, and so does this).
func (n Num) DivRoundRate(x float64) Num {
	if !n.slow() {
		if m, k, ok := fastParts(x); ok && m != 0 {
			neg, hi, lo := n.abs()
			if m < 0 {
				neg, m = !neg, -m
			}
			// |n| x 10^k / m.
			h1, l1 := bits.Mul64(lo, pow10u64[k])
			h2, l2 := bits.Mul64(hi, pow10u64[k])
			w1, c := bits.Add64(h1, l2, 0)
			w2 := h2 + c
			q2, q1, q0, rem := div192(w2, w1, l1, uint64(m))
			if rem >= uint64(m)-rem {
				var c uint64
				q0, c = bits.Add64(q0, 1, 0)
				q1, c = bits.Add64(q1, 0, c)
				q2 += c
			}
			if q2 == 0 {
				if r, ok := fastNum(neg && q1|q0 != 0, q1, q0, -Scale); ok {
					return r
				}
			}
		}
	}
	return FromDec(n.Dec().DivRound(FastDecimal(x), Scale))
}

// DivRound returns n.Dec().DivRound(b.Dec(), Scale) (b must not be zero).
func (n Num) DivRound(b Num) Num {
	if !n.slow() && !b.slow() && n.Sign() >= 0 && b.Sign() > 0 {
		// n x 10^18 / b at Scale places.
		h1, l1 := bits.Mul64(n.lo, pow10u64[Scale])
		h2, l2 := bits.Mul64(n.hi, pow10u64[Scale])
		w1, c := bits.Add64(h1, l2, 0)
		w2 := h2 + c
		if r, ok := quoRound([4]uint64{l1, w1, w2, 0}, b.hi, b.lo, true); ok {
			return r
		}
	}
	return FromDec(n.Dec().DivRound(b.Dec(), Scale))
}

// MulDivDown returns n.Dec().Mul(b.Dec()).QuoRem(c.Dec(), Scale)'s
// quotient: the exact product divided by c, truncated to Scale places.
func (n Num) MulDivDown(b, c Num) Num {
	if p, ok := mul256(&n, &b, &c); ok {
		if r, ok := quoRound(p, c.hi, c.lo, false); ok {
			return r
		}
	}
	q, _ := n.Dec().Mul(b.Dec()).QuoRem(c.Dec(), Scale)
	return FromDec(q)
}

// MulDivRound returns n.Dec().Mul(b.Dec()).DivRound(c.Dec(), Scale).
func (n Num) MulDivRound(b, c Num) Num {
	if p, ok := mul256(&n, &b, &c); ok {
		if r, ok := quoRound(p, c.hi, c.lo, true); ok {
			return r
		}
	}
	return FromDec(n.Dec().Mul(b.Dec()).DivRound(c.Dec(), Scale))
}

// mul256 returns n x b (coefficients at Scale places) on four words when
// n, b >= 0 and c > 0 are all in the fast form.
func mul256(n, b, c *Num) ([4]uint64, bool) {
	if n.slow() || b.slow() || c.slow() || n.hi>>63 != 0 || b.hi>>63 != 0 || c.Sign() <= 0 {
		return [4]uint64{}, false
	}
	return mul128(n.hi, n.lo, b.hi, b.lo), true
}

// mul128 returns a1:a0 x b1:b0 on four words (little-endian).
func mul128(a1, a0, b1, b0 uint64) [4]uint64 {
	var p [4]uint64
	h, l := bits.Mul64(a0, b0)
	p[0], p[1] = l, h
	h, l = bits.Mul64(a0, b1)
	var cy uint64
	p[1], cy = bits.Add64(p[1], l, 0)
	p[2], cy = bits.Add64(h, 0, cy)
	h, l = bits.Mul64(a1, b0)
	p[1], cy = bits.Add64(p[1], l, 0)
	p[2], cy = bits.Add64(p[2], h, cy)
	p[3] = cy
	h, l = bits.Mul64(a1, b1)
	p[2], cy = bits.Add64(p[2], l, 0)
	p[3], _ = bits.Add64(p[3], h, cy)
	return p
}

// quoRound divides u (four words, little-endian) by d1:d0 > 0 and
// returns the quotient as a Num at Scale places, rounded half away from
// zero when round is set, else truncated. ok is false when it does not
// fit.
func quoRound(u [4]uint64, d1, d0 uint64, round bool) (Num, bool) {
	q := quo256(u, d1, d0, round)
	if q[3]|q[2] != 0 {
		return Num{}, false
	}
	return fastNum(false, q[1], q[0], -Scale)
}

// quo256 divides u (four words, little-endian) by d1:d0 > 0, rounding
// half away from zero when round is set, else truncating.
func quo256(u [4]uint64, d1, d0 uint64, round bool) [4]uint64 {
	var q [4]uint64
	var r1, r0 uint64
	if d1 == 0 {
		var r uint64
		for i := 3; i >= 0; i-- {
			if r == 0 && u[i] < d0 {
				r = u[i] // quotient digit zero, no division
				continue
			}
			q[i], r = bits.Div64(r, u[i], d0)
		}
		r0 = r
	} else {
		q, r1, r0 = div256by128(u, d1, d0)
	}
	if round {
		// 2r >= d: away from zero.
		t1, t0 := r1<<1|r0>>63, r0<<1
		if r1>>63 != 0 || cmp128(t1, t0, d1, d0) >= 0 {
			var c uint64
			q[0], c = bits.Add64(q[0], 1, 0)
			q[1], c = bits.Add64(q[1], 0, c)
			q[2], c = bits.Add64(q[2], 0, c)
			q[3] += c
		}
	}
	return q
}

// div192 divides w2:w1:w0 by d > 0.
//
// Leading words below d take no division (their quotient digit is zero):
// an amount times a rate's mantissa usually fits in two words, the
// second below 10^k.
func div192(w2, w1, w0, d uint64) (q2, q1, q0, r uint64) {
	if w2 != 0 {
		q2, r = w2/d, w2%d
	}
	if r == 0 && w1 < d {
		r = w1
	} else {
		q1, r = bits.Div64(r, w1, d)
	}
	q0, r = bits.Div64(r, w0, d)
	return
}

// div256by128 divides u by d1:d0 (d1 != 0), Knuth's algorithm D on
// 64-bit digits.
func div256by128(u [4]uint64, d1, d0 uint64) (q [4]uint64, r1, r0 uint64) {
	s := uint(bits.LeadingZeros64(d1))
	v1, v0 := shl128(d1, d0, s)
	var un [5]uint64
	if s == 0 {
		copy(un[:4], u[:])
	} else {
		un[4] = u[3] >> (64 - s)
		for i := 3; i > 0; i-- {
			un[i] = u[i]<<s | u[i-1]>>(64-s)
		}
		un[0] = u[0] << s
	}
	for j := 2; j >= 0; j-- {
		if un[j+2] == 0 && un[j+1] < v1 {
			// un[j..j+2] < v1·2^64 <= v: the quotient digit is zero and
			// the remainder stays.
			continue
		}
		var qhat, rhat uint64
		rOver := false
		if un[j+2] >= v1 {
			qhat = math.MaxUint64
			var c uint64
			rhat, c = bits.Add64(un[j+1], v1, 0)
			rOver = c != 0
		} else {
			qhat, rhat = bits.Div64(un[j+2], un[j+1], v1)
		}
		for !rOver {
			ph, pl := bits.Mul64(qhat, v0)
			if ph < rhat || (ph == rhat && pl <= un[j]) {
				break
			}
			qhat--
			var c uint64
			rhat, c = bits.Add64(rhat, v1, 0)
			rOver = c != 0
		}
		// un[j..j+2] -= qhat x v.
		ph0, pl0 := bits.Mul64(qhat, v0)
		ph1, pl1 := bits.Mul64(qhat, v1)
		var br, c uint64
		un[j], br = bits.Sub64(un[j], pl0, 0)
		t, c := bits.Add64(pl1, ph0, 0)
		ph1 += c
		un[j+1], br = bits.Sub64(un[j+1], t, br)
		un[j+2], br = bits.Sub64(un[j+2], ph1, br)
		if br != 0 {
			qhat--
			un[j], c = bits.Add64(un[j], v0, 0)
			un[j+1], c = bits.Add64(un[j+1], v1, c)
			un[j+2] += c
		}
		q[j] = qhat
	}
	r1, r0 = shr128(un[1], un[0], s)
	return q, r1, r0
}

// MulNewFloor returns the floor, at Scale places, of n x
// decimal.New(m, -k) (k in [0, 18]) as decimal computes it: a negative
// product is QuoRem'd by one and stepped down when inexact (exponent
// -Scale); a non-negative one is Truncate(Scale)'d, which keeps the
// product's exponent when that is Scale places or fewer.
func (n Num) MulNewFloor(m int64, k int) Num {
	if !n.slow() && m >= 0 && n.hi>>63 == 0 && k >= 0 && k <= 18 {
		pexp := n.exp - int32(k)
		h1, l1 := bits.Mul64(n.lo, uint64(m))
		h2, l2 := bits.Mul64(n.hi, uint64(m))
		w1, c := bits.Add64(h1, l2, 0)
		w2 := h2 + c
		q2, q1, q0, _ := div192(w2, w1, l1, pow10u64[k])
		if q2 == 0 {
			if r, ok := fastNum(false, q1, q0, max(pexp, -Scale)); ok {
				return r
			}
		}
	}
	p := n.Dec().Mul(decimal.New(m, -int32(k)))
	if p.Sign() < 0 {
		q, r := p.QuoRem(decimal.New(1, 0), Scale)
		if r.Sign() != 0 {
			q = q.Sub(decimal.New(1, -Scale))
		}
		return FromDec(q)
	}
	return FromDec(p.Truncate(Scale))
}

// twoDigits holds the decimal digits of 00 to 99.
const twoDigits = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"

// AppendString appends n.Dec().String() to b: decimal's default format,
// the value with trailing zeros trimmed (which depends on the value
// only, not the exponent), without building the decimal. Non-default
// decimal.TrimTrailingZeros or decimal.UseScientificNotation settings
// take decimal's own String.
func (n Num) AppendString(b []byte) []byte {
	if n.slow() || !decimal.TrimTrailingZeros || decimal.UseScientificNotation || bits64 != 64 {
		return append(b, n.Dec().String()...)
	}
	neg, hi, lo := n.abs()
	const one = 1e18 // 10^Scale
	if hi >= one {
		return append(b, n.Dec().String()...) // an integer part of 2^64 or more
	}
	ip, frac := p10Div[Scale].div(hi, lo) // bits.Div64(hi, lo, one), hi < one
	if neg {
		b = append(b, '-')
	}
	b = strconv.AppendUint(b, ip, 10)
	if frac == 0 {
		return b
	}
	var digits [Scale]byte // Scale is even: two digits at a time
	for i := Scale - 2; i >= 0; i -= 2 {
		q := frac / 100
		d := frac - q*100
		digits[i], digits[i+1] = twoDigits[2*d], twoDigits[2*d+1]
		frac = q
	}
	end := Scale
	for digits[end-1] == '0' {
		end--
	}
	b = append(b, '.')
	return append(b, digits[:end]...)
}
