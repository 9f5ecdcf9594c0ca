package adapters

import (
	"math"
	"math/big"
	"math/bits"
	"strconv"

	"github.com/shopspring/decimal"
)

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
	var buf [32]byte
	b := strconv.AppendFloat(buf[:0], v, 'e', -1, 64)
	neg := false
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
		return decimal.Decimal{}, false
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
		return decimal.New(0, -Scale), true
	}
	var hi, lo uint64
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
				return decimal.Decimal{}, false // 2^128 or more
			}
			lo = l1
		}
	case -shift >= len(pow10u64):
		// mant < 10^17 is less than half of 10^19: rounds to zero.
		return decimal.New(0, -Scale), true
	default:
		d := pow10u64[-shift]
		q, r := mant/d, mant%d
		if r >= d-r { // r/d >= 1/2: half away from zero
			q++
		}
		lo = q
	}
	if hi == 0 && lo <= math.MaxInt64 {
		c := int64(lo)
		if neg {
			c = -c
		}
		return decimal.New(c, -Scale), true
	}
	if hi>>63 != 0 {
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
