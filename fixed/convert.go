package fixed

import (
	"math"
	"math/big"
	"math/bits"
	"strconv"

	"github.com/shopspring/decimal"
)

const bits64 = bits.UintSize

// FromFloat converts a float64 to a decimal at Scale places, rounded half
// away from zero: decimal.NewFromFloat(v).Round(Scale) (the same
// coefficient and exponent) without decimal's multi-precision
// shortest-digits search. Non-finite values give decimal.Zero.
func FromFloat(v float64) decimal.Decimal {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return decimal.Zero
	}
	if d, ok := fromFloatFast(v); ok {
		return d
	}
	return decimal.NewFromFloat(v).Round(Scale)
}

// pow10u64 holds 10^k for k in [0, 19].
var pow10u64 = func() (p [20]uint64) {
	p[0] = 1
	for k := 1; k < len(p); k++ {
		p[k] = p[k-1] * 10
	}
	return p
}()

// fromFloatFast is decimal.NewFromFloat(v).Round(Scale) for a finite v,
// without decimal's multi-precision shortest-digits search and without
// the big.Int rescaling of Round: strconv gives the shortest decimal that
// round-trips (the digits NewFromFloat uses), and the rounding to Scale
// places (half away from zero) runs on 64- and 128-bit words. The result
// has the same coefficient and exponent as the slow path (a test compares
// them bit for bit); ok is false for the few values it does not handle
// (coefficients of 2^127 or more), which take the slow path.
func fromFloatFast(v float64) (decimal.Decimal, bool) {
	neg, hi, lo, zero, ok := fromFloatWords(v)
	switch {
	case !ok:
		return decimal.Decimal{}, false
	case zero:
		return decimal.New(0, -Scale), true
	case hi == 0 && lo <= math.MaxInt64:
		c := int64(lo)
		if neg {
			c = -c
		}
		return decimal.New(c, -Scale), true
	case hi>>63 != 0:
		return decimal.Decimal{}, false
	}
	var c big.Int
	if bits.UintSize == 64 {
		c.SetBits([]big.Word{big.Word(lo), big.Word(hi)})
	} else {
		c.SetUint64(hi)
		c.Lsh(&c, 64)
		c.Or(&c, new(big.Int).SetUint64(lo))
	}
	if neg {
		c.Neg(&c)
	}
	return decimal.NewFromBigInt(&c, -Scale), true
}

// fromFloatWords is the arithmetic of fromFloatFast: v rounded half away
// from zero to Scale places as a sign and a magnitude hi:lo at Scale
// places; zero reports a zero result (decimal.New(0, -Scale)). ok is
// false when the magnitude reaches 2^128.
func fromFloatWords(v float64) (neg bool, hi, lo uint64, zero, ok bool) {
	var buf [32]byte
	b := strconv.AppendFloat(buf[:0], v, 'e', -1, 64)
	if b[0] == '-' {
		neg, b = true, b[1:]
	}
	// b is d[.ddd]e±xx: at most 17 significant digits.
	var mant uint64
	nd := 0
	i := 0
	for ; i < len(b) && b[i] != 'e'; i++ {
		if c := b[i]; c != '.' {
			mant = mant*10 + uint64(c-'0')
			nd++
		}
	}
	if i+2 >= len(b) {
		return false, 0, 0, false, false
	}
	esign := b[i+1]
	e10 := 0
	for _, c := range b[i+2:] {
		e10 = e10*10 + int(c-'0')
	}
	if esign == '-' {
		e10 = -e10
	}
	// v = mant x 10^exp exactly (as NewFromFloat has it).
	exp := e10 - (nd - 1)
	if mant == 0 {
		return neg, 0, 0, true, true
	}
	switch shift := exp + Scale; {
	case shift >= 0:
		lo = mant
		for shift > 0 {
			k := min(shift, len(pow10u64)-1)
			shift -= k
			h1, l1 := bits.Mul64(lo, pow10u64[k])
			h2, l2 := bits.Mul64(hi, pow10u64[k])
			var carry uint64
			hi, carry = bits.Add64(l2, h1, 0)
			if h2 != 0 || carry != 0 {
				return false, 0, 0, false, false // 2^128 or more
			}
			lo = l1
		}
	case -shift >= len(pow10u64):
		// mant < 10^17 is less than half of 10^19: rounds to zero.
		return neg, 0, 0, true, true
	default:
		d := pow10u64[-shift]
		q, r := mant/d, mant%d
		if r >= d-r { // r/d >= 1/2: half away from zero
			q++
		}
		if q == 0 {
			return neg, 0, 0, true, true
		}
		lo = q
	}
	return neg, hi, lo, false, true
}

// float64pow10 holds 10^k for k in [0, 22], exact in float64.
var float64pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// ApproxFloat is Float(d) within a few ulps (two roundings instead of
// one), for weights and shares where the correctly rounded value is not
// needed: a coefficient of up to two words over a power of ten up to
// 10^22 costs a few float operations instead of a 128-bit division. Other
// decimals take Float.
func ApproxFloat(d decimal.Decimal) float64 {
	exp := d.Exponent()
	if d.Sign() == 0 {
		return 0
	}
	if exp > 0 || exp < -22 || bits.UintSize != 64 {
		return Float(d)
	}
	neg, hi, lo, ok := words(&d)
	if !ok {
		return Float(d)
	}
	f := float64(lo)
	if hi != 0 {
		f = float64(hi)*0x1p64 + float64(lo)
	}
	if neg {
		f = -f
	}
	return f / float64pow10[-exp]
}

// Float is d.InexactFloat64(), bit for bit (the nearest float64, ties to
// even), without the big.Rat that decimal builds when the coefficient
// exceeds 2^53 (amounts above about 0.009 at Scale places): for a
// coefficient below 2^128 and an exponent in [-19, 0] the quotient
// coefficient / 10^-exp is taken on 64-bit words, with enough bits and a
// sticky remainder to round exactly.
func Float(d decimal.Decimal) float64 {
	exp := d.Exponent()
	if exp > 0 || exp < -19 || d.Sign() == 0 {
		return d.InexactFloat64()
	}
	neg, hi, lo, ok := words(&d)
	if !ok {
		return d.InexactFloat64()
	}
	if hi == 0 && lo <= 1<<53 {
		f := float64(lo) / float64pow10[-exp] // decimal's own fast path
		if neg {
			f = -f
		}
		return f
	}
	f := quoFloat(hi, lo, int(-exp))
	if neg {
		f = -f
	}
	return f
}

// quoFloat returns (c1·2^64 + c0) / D rounded to the nearest float64,
// ties to even, for D = 10^k (k < len(pow10u64)). c > 0.
func quoFloat(c1, c0 uint64, k int) float64 {
	D := pow10u64[k]
	L := 128 - bits.LeadingZeros64(c1)
	if c1 == 0 {
		L = 64 - bits.LeadingZeros64(c0)
	}
	Dl := 64 - bits.LeadingZeros64(D)
	// Shift c left so that the quotient has at least 55 bits.
	s := 56 - (L - Dl)
	if s < 0 {
		s = 0
	}
	n1, n0 := shl128(c1, c0, uint(s))
	var q1, r1 uint64
	if n1 < D {
		r1 = n1 // q1 = 0 without a division (the usual case)
	} else {
		q1, r1 = n1/D, n1%D
	}
	q0, r := p10Div[k].div(r1, n0)
	// Round q (>= 55 bits) to 53 bits; r != 0 is a sticky bit.
	qn := 128 - bits.LeadingZeros64(q1)
	if q1 == 0 {
		qn = 64 - bits.LeadingZeros64(q0)
	}
	sh := uint(qn - 53)
	_, mant := shr128(q1, q0, sh) // < 2^53
	// rem = q mod 2^sh against half = 2^(sh-1).
	r1m, r0m := q1, q0
	if sh < 64 {
		r1m, r0m = 0, q0&(1<<sh-1)
	} else {
		r1m = q1 & (1<<(sh-64) - 1)
	}
	h1, h0 := shl128(0, 1, sh-1)
	up := false
	switch cmp128(r1m, r0m, h1, h0) {
	case 1:
		up = true
	case 0:
		up = r != 0 || mant&1 == 1
	}
	if up {
		mant++
		if mant == 1<<53 {
			mant >>= 1
			sh++
		}
	}
	return math.Ldexp(float64(mant), int(sh)-s)
}

func shl128(hi, lo uint64, s uint) (uint64, uint64) {
	switch {
	case s == 0:
		return hi, lo
	case s >= 64:
		return lo << (s - 64), 0
	}
	return hi<<s | lo>>(64-s), lo << s
}

func shr128(hi, lo uint64, s uint) (uint64, uint64) {
	switch {
	case s == 0:
		return hi, lo
	case s >= 64:
		return 0, hi >> (s - 64)
	}
	return hi >> s, lo>>s | hi<<(64-s)
}

func cmp128(a1, a0, b1, b0 uint64) int {
	switch {
	case a1 != b1:
		if a1 < b1 {
			return -1
		}
		return 1
	case a0 < b0:
		return -1
	case a0 > b0:
		return 1
	}
	return 0
}

// pow10f holds 10^k for k in [0, 22], exact in float64.
var pow10f = float64pow10

// ToFloat converts a decimal to float64 within a few ulps (the
// coefficient's nearest float64 scaled by a power of ten, two roundings
// for coefficients of two words) with no allocation: for weights,
// expression variables, charts and analytics, never for money. NaN
// never results (the zero Decimal gives 0).
func ToFloat(d decimal.Decimal) float64 {
	if neg, hi, lo, ok := words(&d); ok {
		return toFloatWords(neg, hi, lo, int(d.Exponent()))
	}
	c := d.Coefficient()
	var x float64
	if c.IsInt64() {
		x = float64(c.Int64())
	} else {
		x, _ = c.Float64()
	}
	return scaleFloat(x, int(d.Exponent()))
}

// toFloatWords is ToFloat of the decimal ±(hi·2^64 + lo) x 10^e.
func toFloatWords(neg bool, hi, lo uint64, e int) float64 {
	var x float64
	if hi == 0 {
		x = float64(lo)
	} else {
		x = float64(hi)*0x1p64 + float64(lo) // two roundings: within 2 ulps
	}
	if neg {
		x = -x
	}
	return scaleFloat(x, e)
}

// scaleFloat is x x 10^e by steps of exact powers of ten (NaN gives 0).
func scaleFloat(x float64, e int) float64 {
	for e < -22 {
		x /= 1e22
		e += 22
	}
	for e > 22 {
		x *= 1e22
		e -= 22
	}
	if e < 0 {
		x /= pow10f[-e]
	} else {
		x *= pow10f[e]
	}
	if math.IsNaN(x) {
		return 0
	}
	return x
}

// fastParts splits x into m x 10^-k with m an integer below 2^53 and k in
// [0, 18] as large as that allows. ok is false for values FastDecimal
// hands to FromFloat.
//
// k is the largest k <= 18 with ax x 10^k < 9e15 in float arithmetic; the
// search starts at fastStart[ax's biased exponent], a bound no smaller
// than that k, instead of at 18 (one or two steps instead of up to 18).
func fastParts(x float64) (m int64, k int, ok bool) {
	ax := math.Abs(x)
	if !(ax < 9e15) {
		return 0, 0, false
	}
	k = int(fastStart[math.Float64bits(ax)>>52])
	for ax*pow10f[k] >= 9e15 {
		k--
	}
	return roundAway(x * pow10f[k]), k, true
}

// roundAway is int64(math.Round(y)) for |y| < 2^53, without Round's
// bit manipulation: the truncation (an exact conversion) stepped away
// from zero when the fraction it dropped is half or more. y - t is exact:
// t has y's sign and |t| <= |y| < 2|t| when t != 0 (Sterbenz), else it
// is y itself.
func roundAway(y float64) int64 {
	t := int64(y)
	f := y - float64(t)
	if f >= 0.5 {
		t++
	} else if f <= -0.5 {
		t--
	}
	return t
}

// fastStart[e] bounds fastParts' k from above for |x| with biased
// exponent e: |x| >= 2^(e-1023) (normal), and float products are monotone
// in both factors, so every k with 2^(e-1023) x 10^k >= 9e15 (in float
// arithmetic) fails the test for |x| too; the bound is the largest k
// below the smallest such k, or 18.
var fastStart = func() (t [2048]int8) {
	for e := range t {
		t[e] = 18
		if e == 0 {
			continue // subnormals: no lower bound above zero
		}
		lo := math.Float64frombits(uint64(e) << 52)
		for k := 0; k <= 18; k++ {
			if lo*pow10f[k] >= 9e15 {
				t[e] = int8(max(k-1, 0))
				break
			}
		}
	}
	return t
}()

// FastDecimal converts a rate or price to a decimal without strconv: x is
// rounded to the most decimal places (at most 18) that keep its
// coefficient below 2^53, about 15-16 significant digits, which is all a
// float64 holds. Out-of-range values fall back to FromFloat; non-finite
// values give zero.
func FastDecimal(x float64) decimal.Decimal {
	ax := math.Abs(x)
	if ax == 0 {
		return decimal.Zero
	}
	if !(ax < 9e15) {
		return FromFloat(x)
	}
	m, k, _ := fastParts(x)
	return decimal.New(m, -int32(k))
}

// sigDigits is how many significant digits FromFloatSig keeps: every
// decimal of 15 significant digits survives a round trip through
// float64, so none of them is an artefact of the binary fraction.
const sigDigits = 15

// FromFloatSig converts a float64 to a decimal of at most 15
// significant digits (the nearest, from the float's value scaled by a
// power of ten): for figures computed in float64 and recorded beside
// exact ones (a backtest's marks), which show no more digits than the
// float carries. Zero, NaN and infinities give decimal.Zero; the result
// never has an exponent below -Scale.
func FromFloatSig(x float64) decimal.Decimal {
	c, e, ok := sigParts(x)
	if !ok {
		return decimal.Zero
	}
	return decimal.New(c, int32(e))
}

// FromFloatSigFloat is FromFloatSig(x) and ToFloat of it, computed
// together: ToFloat of a decimal of 15 significant digits is its
// coefficient (exact in a float64) scaled by its power of ten, which
// needs no look at the decimal. For a figure recorded as a decimal and
// read again as a float64 (a backtest's marked NAV and equity, its
// return metrics).
func FromFloatSigFloat(x float64) (decimal.Decimal, float64) {
	c, e, ok := sigParts(x)
	if !ok {
		return decimal.Zero, 0
	}
	return decimal.New(c, int32(e)), scaleFloat(float64(c), e)
}

// FromFloatSigNum is FromFloatSigFloat(x) with the decimal as a Num,
// which FromDec of the decimal is (coefficient and exponent), made
// without the decimal: without allocating where the Num's fast form holds
// it (the exponent within -Scale..Scale and the value at Scale places
// below 2^127 units: magnitudes below about 1.7e20). For a
// figure recorded now and made a decimal only where it is read (a
// backtest's marked steps): making a decimal allocates its coefficient.
func FromFloatSigNum(x float64) (Num, float64) {
	c, e, ok := sigParts(x)
	if !ok {
		return Num{}, 0
	}
	f := scaleFloat(float64(c), e)
	if e >= -Scale && e <= maxExp && bits64 == 64 {
		neg, mag := c < 0, uint64(c)
		if neg {
			mag = uint64(-c)
		}
		if hi, lo, ok := mulPow10Big(0, mag, e+Scale); ok && hi>>63 == 0 {
			if neg {
				hi, lo = neg128(hi, lo)
			}
			return Num{hi: hi, lo: lo, exp: int32(e)}, f
		}
	}
	return slowNum(decimal.New(c, int32(e))), f
}

// sigParts is the coefficient and exponent of FromFloatSig(x); ok is
// false where it is zero.
func sigParts(x float64) (c int64, e int, ok bool) {
	if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, 0, false
	}
	e = int(math.Floor(math.Log10(math.Abs(x)))) - (sigDigits - 1)
	if e < -Scale {
		e = -Scale
	}
	r := math.Round(scaleFloat(x, -e))
	if math.Abs(r) >= 1e15 { // the logarithm or the scaling rounded up to the next power of ten
		e++
		r = math.Round(scaleFloat(x, -e))
	}
	return int64(r), e, true
}
