package decfast

import (
	"math/big"
	"math/bits"

	"github.com/shopspring/decimal"
)

// MulRate returns u x FastDecimal(x) rounded half away from zero to Scale
// places: the same coefficient and exponent as
// u.Mul(FastDecimal(x)).Round(Scale) for every u and x (zero results may
// be decimal.Zero), with one allocation (the result's big.Int together
// with its words) instead of seven. It is the hot path of the adapters'
// Value: the product and the rounding division run on 64-bit words.
func MulRate(u decimal.Decimal, x float64) decimal.Decimal {
	m, k, ok := fastParts(x)
	shift := k - int(u.Exponent()) - Scale // divide the product by 10^shift
	if !ok || m <= 0 || u.Sign() <= 0 || shift > 18 || shift < 0 || bits.UintSize != 64 {
		if u.Sign() == 0 || (ok && m == 0) {
			return decimal.Zero
		}
		return u.Mul(FastDecimal(x)).Round(Scale)
	}
	cw := coef(&u).Bits() // read only
	n := len(cw)
	// The product is formed in tmp when it fits (coefficients below
	// 2^128, about 3.4e20 base units at 18 places: every realistic
	// position), and the result's big.Int and its words then share one
	// allocation of the smallest size that holds them.
	var tmp [3]big.Word
	var out []big.Word
	if n+1 <= len(tmp) {
		out = tmp[:n+1]
	} else {
		out = make([]big.Word, n+1)
	}
	var carry uint64
	for i, w := range cw {
		hi, lo := bits.Mul64(uint64(w), uint64(m))
		var cc uint64
		lo, cc = bits.Add64(lo, carry, 0)
		out[i] = big.Word(lo)
		carry = hi + cc
	}
	out[n] = big.Word(carry)
	if shift > 0 {
		d := pow10u64[shift]
		var rem uint64
		for i := n; i >= 0; i-- {
			if rem == 0 && uint64(out[i]) < d {
				rem, out[i] = uint64(out[i]), 0 // quotient digit zero, no division
				continue
			}
			var q uint64
			q, rem = bits.Div64(rem, uint64(out[i]), d)
			out[i] = big.Word(q)
		}
		if rem >= d-rem { // rem/d >= 1/2: round half away from zero
			for i := range out {
				out[i]++
				if out[i] != 0 {
					break
				}
			}
		}
	}
	for len(out) > 0 && out[len(out)-1] == 0 {
		out = out[:len(out)-1]
	}
	// out may be tmp, which stays on the stack: the result's words are
	// a copy.
	var prod *big.Int
	var w []big.Word
	switch {
	case len(out) <= 2:
		in := new(inlineInt2)
		prod, w = &in.i, in.w[:copy(in.w[:], out)]
	case len(out) <= 3:
		in := new(inlineInt)
		prod, w = &in.i, in.w[:copy(in.w[:], out)]
	default:
		prod, w = new(big.Int), append([]big.Word(nil), out...)
	}
	prod.SetBits(w)
	return makeDec(prod, -Scale)
}
