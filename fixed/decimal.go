package fixed

import (
	"math"
	"math/big"
	"sync"

	"github.com/shopspring/decimal"
)

// Scale is the number of decimal places amounts are kept at (it equals
// adapters.Scale; adapters checks that at compile time).
const Scale = 18

// This file is the one place that reads and builds decimal.Decimal's
// coefficients, through decimal's public API only: coefficient words
// (words) with no allocation for a coefficient of one signed 64-bit
// word, a copy (Coefficient) otherwise; and decimals built from words
// (fromWords) by decimal.New or decimal.NewFromBigInt.

// int64Bounds[e-minBoundExp] are the decimals MinInt64 x 10^e and
// MaxInt64 x 10^e: a decimal at exponent e between them has a
// coefficient that CoefficientInt64 returns exactly, and decimal's Cmp
// compares decimals of one exponent without allocating.
var int64Bounds = func() (b [maxBoundExp - minBoundExp + 1][2]decimal.Decimal) {
	for e := minBoundExp; e <= maxBoundExp; e++ {
		b[e-minBoundExp] = [2]decimal.Decimal{decimal.New(math.MinInt64, int32(e)), decimal.New(math.MaxInt64, int32(e))}
	}
	return b
}()

const (
	minBoundExp = -2*Scale - 4
	maxBoundExp = Scale + 4
)

// words returns d's coefficient as a sign and a magnitude hi:lo; ok is
// false when the magnitude is 2^128 or more (or words are not 64 bits).
// A coefficient within a signed 64-bit word (|value| below about 9.2 at
// Scale places) is read without allocating; a larger one costs decimal's
// copy (Coefficient).
func words(d *decimal.Decimal) (neg bool, hi, lo uint64, ok bool) {
	if bits64 != 64 {
		return false, 0, 0, false
	}
	e := int(d.Exponent())
	if e >= minBoundExp && e <= maxBoundExp {
		b := &int64Bounds[e-minBoundExp]
		if d.Cmp(b[0]) >= 0 && d.Cmp(b[1]) <= 0 {
			c := d.CoefficientInt64()
			if c < 0 {
				return true, 0, uint64(-c), true // -MinInt64 wraps to 2^63, as uint64
			}
			return false, 0, uint64(c), true
		}
	}
	return bigWords(d.Coefficient())
}

// bigWords is words of a big.Int.
func bigWords(c *big.Int) (neg bool, hi, lo uint64, ok bool) {
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

// zeros[e-minBoundExp] is decimal.New(0, e), built once: zero results
// share it (decimals are immutable values).
var zeros = func() (z [maxBoundExp - minBoundExp + 1]decimal.Decimal) {
	for e := minBoundExp; e <= maxBoundExp; e++ {
		z[e-minBoundExp] = decimal.New(0, int32(e))
	}
	return z
}()

// fromWords builds the decimal ±(hi·2^64 + lo) x 10^exp: decimal.New for
// a coefficient within a signed 64-bit word, else decimal.NewFromBigInt
// (each allocates the coefficient's big.Int and its words). A zero is
// shared, with no allocation.
func fromWords(neg bool, hi, lo uint64, exp int32) decimal.Decimal {
	if hi == 0 && lo <= math.MaxInt64 {
		v := int64(lo)
		if v == 0 && exp >= minBoundExp && exp <= maxBoundExp {
			return zeros[exp-minBoundExp]
		}
		if neg {
			v = -v
		}
		return decimal.New(v, exp)
	}
	if bits64 != 64 {
		d := decimal.NewFromUint64(hi).Shift(64).Add(decimal.NewFromUint64(lo)) // not reached on 64-bit words
		if neg {
			d = d.Neg()
		}
		return decimal.NewFromBigInt(d.BigInt(), exp)
	}
	sc := scratchPool.Get().(*scratch)
	sc.w = [2]big.Word{big.Word(lo), big.Word(hi)}
	sc.i.SetBits(sc.w[:])
	if neg {
		sc.i.Neg(&sc.i)
	}
	d := decimal.NewFromBigInt(&sc.i, exp) // copies the coefficient: two allocations
	scratchPool.Put(sc)
	return d
}

// scratch is a big.Int with room for two words, which fromWords sets and
// decimal.NewFromBigInt copies (the pool saves allocating one per call).
type scratch struct {
	i big.Int
	w [2]big.Word
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// Identical reports whether a and b have the same coefficient and
// exponent, so that either stands for the other in any computation (a
// cache key: decimals are immutable values). It compares through
// decimal's API (Exponent, and Cmp, which compares the coefficients of
// decimals at one exponent without allocating).
func Identical(a, b decimal.Decimal) bool {
	return a.Exponent() == b.Exponent() && a.Cmp(b) == 0
}
