package staking

import (
	"math/big"
	"math/bits"
	"reflect"
	"unsafe"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
)

// decimalLayout mirrors the memory layout of decimal.Decimal (shopspring
// v1.6: a *big.Int coefficient and an int32 exponent). MulRate uses it to
// read a coefficient and to build its result without the two big.Int
// copies decimal's API makes (Coefficient and NewFromBigInt), which are
// most of the cost of Value in a backtest. layoutOK checks the mirror
// against the real type once; if decimal's layout ever changes, MulRate
// takes the copying path instead.
type decimalLayout struct {
	value *big.Int
	exp   int32
}

var layoutOK = func() bool {
	t, l := reflect.TypeOf(decimal.Decimal{}), reflect.TypeOf(decimalLayout{})
	if t.Size() != l.Size() || t.NumField() != 2 {
		return false
	}
	v, e := t.Field(0), t.Field(1)
	return v.Name == "value" && v.Type == reflect.TypeOf((*big.Int)(nil)) && v.Offset == l.Field(0).Offset &&
		e.Name == "exp" && e.Type.Kind() == reflect.Int32 && e.Offset == l.Field(1).Offset
}()

// inlineInt is a big.Int with room for its words, allocated as one
// object.
type inlineInt struct {
	i big.Int
	w [3]big.Word
}

// pow10u holds 10^k for k in [0, 18].
var pow10u = func() (p [19]uint64) {
	p[0] = 1
	for k := 1; k < len(p); k++ {
		p[k] = p[k-1] * 10
	}
	return p
}()

// MulRate returns u x FastDecimal(x) rounded half away from zero to
// adapters.Scale places: the same result as
// adapters.Quantize(u.Mul(FastDecimal(x))), with one allocation (the
// result's big.Int together with its words) instead of seven. It is the
// hot path of Value. The product and the rounding division run on 64-bit words with
// math/bits.
func MulRate(u decimal.Decimal, x float64) decimal.Decimal {
	m, k, ok := fastParts(x)
	shift := k - int(u.Exponent()) - adapters.Scale // divide the product by 10^shift
	if !ok || m <= 0 || u.Sign() <= 0 || shift > 18 || shift < 0 || bits.UintSize != 64 {
		if u.Sign() == 0 || (ok && m == 0) {
			return decimal.Zero
		}
		return adapters.Quantize(u.Mul(FastDecimal(x)))
	}
	var c *big.Int
	if layoutOK {
		c = (*decimalLayout)(unsafe.Pointer(&u)).value // read only
	} else {
		c = u.Coefficient()
	}
	cw := c.Bits()
	n := len(cw)
	// The result's big.Int and its words share one allocation when the
	// product fits in the inline words (coefficients up to 2^128, about
	// 3.4e20 base units at 18 places: every realistic position).
	var out []big.Word
	var prod *big.Int
	if n+1 <= len(inlineInt{}.w) {
		in := new(inlineInt)
		prod, out = &in.i, in.w[:n+1]
	} else {
		prod, out = new(big.Int), make([]big.Word, n+1)
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
		d := pow10u[shift]
		var rem uint64
		for i := n; i >= 0; i-- {
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
	prod.SetBits(out)
	if !layoutOK {
		return decimal.NewFromBigInt(prod, -adapters.Scale)
	}
	var res decimal.Decimal
	*(*decimalLayout)(unsafe.Pointer(&res)) = decimalLayout{value: prod, exp: -adapters.Scale}
	return res
}
