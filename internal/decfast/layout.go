package decfast

import (
	"math/big"
	"reflect"
	"unsafe"

	"github.com/shopspring/decimal"
)

// Scale is the number of decimal places amounts are kept at (it equals
// adapters.Scale; adapters checks that at compile time).
const Scale = 18

// This file is the only one that reads or builds decimals through their
// memory layout: coef reads a coefficient in place, makeDec builds a
// decimal around a new big.Int. Everything else in decfast goes through
// these two (or through decimal's API).

// decimalLayout mirrors the memory layout of decimal.Decimal (shopspring
// v1.6: a *big.Int coefficient and an int32 exponent).
type decimalLayout struct {
	value *big.Int
	exp   int32
}

// layoutOK reports whether decimalLayout matches decimal.Decimal. When it
// does not, nothing reads or builds decimals through the mirror.
var layoutOK = checkLayout(reflect.TypeOf(decimal.Decimal{}))

func checkLayout(t reflect.Type) bool {
	l := reflect.TypeOf(decimalLayout{})
	if t.Kind() != reflect.Struct || t.Size() != l.Size() || t.NumField() != 2 {
		return false
	}
	v, e := t.Field(0), t.Field(1)
	return v.Name == "value" && v.Type == reflect.TypeOf((*big.Int)(nil)) && v.Offset == l.Field(0).Offset &&
		e.Name == "exp" && e.Type.Kind() == reflect.Int32 && e.Offset == l.Field(1).Offset
}

// LayoutOK reports whether the fast paths read decimals in place (true
// for the decimal version in go.mod; false means every function here
// takes decimal's API, with the same results).
func LayoutOK() bool { return layoutOK }

// coef returns d's coefficient, read in place (never modify it), or a
// copy when the layout is unknown. It is nil for the zero Decimal.
func coef(d *decimal.Decimal) *big.Int {
	if layoutOK {
		return (*decimalLayout)(unsafe.Pointer(d)).value
	}
	return d.Coefficient()
}

// makeDec returns the decimal c x 10^exp built around c, which it
// takes: c must be new and never change afterwards (decimals are
// immutable). A nil c is zero and allocates nothing. When the layout is
// unknown, decimal's NewFromBigInt copies c.
func makeDec(c *big.Int, exp int32) decimal.Decimal {
	if !layoutOK {
		if c == nil {
			return decimal.New(0, exp)
		}
		return decimal.NewFromBigInt(c, exp)
	}
	var res decimal.Decimal
	*(*decimalLayout)(unsafe.Pointer(&res)) = decimalLayout{value: c, exp: exp}
	return res
}

// inlineInt is a big.Int with room for its words, allocated as one
// object.
type inlineInt struct {
	i big.Int
	w [3]big.Word
}

// inlineInt2 is an inlineInt for coefficients below 2^128 (every
// realistic amount at Scale places): 48 bytes, the next size class
// down from inlineInt's 56 (64 with the allocator's rounding).
type inlineInt2 struct {
	i big.Int
	w [2]big.Word
}

// fromWords builds the decimal ±(hi·2^64 + lo) x 10^exp with one
// allocation (when the layout is known).
//
// A zero result allocates nothing: its coefficient is a nil *big.Int, as
// in decimal.Zero (decimal reads a nil coefficient as zero everywhere).
func fromWords(neg bool, hi, lo uint64, exp int32) decimal.Decimal {
	if hi|lo == 0 {
		return makeDec(nil, exp)
	}
	return inWords(new(inlineInt2), neg, hi, lo, exp)
}

// inWords builds the decimal ±(hi·2^64 + lo) x 10^exp on in, which it
// takes (in must be new).
func inWords(in *inlineInt2, neg bool, hi, lo uint64, exp int32) decimal.Decimal {
	in.w[0], in.w[1] = big.Word(lo), big.Word(hi)
	n := 2
	if hi == 0 {
		n = 1
		if lo == 0 {
			n = 0
		}
	}
	in.i.SetBits(in.w[:n])
	if neg && n > 0 {
		in.i.Neg(&in.i)
	}
	return makeDec(&in.i, exp)
}

// words returns |c| as two 64-bit words and its sign; ok is false when
// |c| >= 2^128 or words are not 64 bits.
func words(c *big.Int) (neg bool, hi, lo uint64, ok bool) {
	if c == nil {
		return false, 0, 0, true
	}
	if bits64 != 64 {
		return false, 0, 0, false
	}
	w := c.Bits()
	switch len(w) {
	case 0:
	case 1:
		lo = uint64(w[0])
	case 2:
		lo, hi = uint64(w[0]), uint64(w[1])
	default:
		return false, 0, 0, false
	}
	return c.Sign() < 0, hi, lo, true
}

// Identical reports whether a and b have the same coefficient and
// exponent, so that either stands for the other in any computation (a
// cache key: decimals are immutable values). It compares through
// decimal's API (Exponent, and Cmp, which compares the coefficients of
// decimals at one exponent without allocating), not the layout.
func Identical(a, b decimal.Decimal) bool {
	return a.Exponent() == b.Exponent() && a.Cmp(b) == 0
}
