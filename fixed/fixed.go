package fixed

import (
	"math/bits"

	"github.com/shopspring/decimal"
)

// Add returns a + b with the same coefficient and exponent as a.Add(b).
// When both are at Scale places (or b is zero) with coefficients below
// 2^128, the sum is taken on 64-bit words and built with one allocation
// (none when b is zero) instead of decimal's two to four.
func Add(a, b decimal.Decimal) decimal.Decimal {
	if r, ok := addSub(&a, &b, false); ok {
		return r
	}
	return a.Add(b)
}

// Sub returns a - b with the same coefficient and exponent as a.Sub(b),
// on the fast path of Add.
func Sub(a, b decimal.Decimal) decimal.Decimal {
	if r, ok := addSub(&a, &b, true); ok {
		return r
	}
	return a.Sub(b)
}

func addSub(a, b *decimal.Decimal, sub bool) (decimal.Decimal, bool) {
	if bits64 != 64 {
		return decimal.Decimal{}, false
	}
	ea, eb := a.Exponent(), b.Exponent()
	if b.Sign() == 0 && ea <= eb {
		return *a, true // a ± 0 at a's exponent, the smaller: decimal's result
	}
	if ea != -Scale || eb != -Scale {
		return decimal.Decimal{}, false
	}
	na, ha, la, oka := words(a)
	nb, hb, lb, okb := words(b)
	if !oka || !okb {
		return decimal.Decimal{}, false
	}
	if sub {
		nb = !nb
	}
	if na == nb {
		lo, c := bits.Add64(la, lb, 0)
		hi, c2 := bits.Add64(ha, hb, c)
		if c2 != 0 {
			return decimal.Decimal{}, false // 2^128 or more
		}
		return fromWords(na, hi, lo, -Scale), true
	}
	if cmp128(ha, la, hb, lb) < 0 {
		na, ha, la, hb, lb = nb, hb, lb, ha, la
	}
	lo, br := bits.Sub64(la, lb, 0)
	hi, _ := bits.Sub64(ha, hb, br)
	return fromWords(na, hi, lo, -Scale), true
}

// Cmp is a.Cmp(b) without decimal's allocation for operands at different
// exponents: both are brought to Scale places on 128-bit words when they
// fit (exponents in [-Scale, 0], coefficients below 2^128).
func Cmp(a, b decimal.Decimal) int {
	ea, eb := a.Exponent(), b.Exponent()
	if ea == eb || bits64 != 64 || ea > 0 || eb > 0 || ea < -Scale || eb < -Scale {
		return a.Cmp(b)
	}
	na, ha, la, oka := words(&a)
	nb, hb, lb, okb := words(&b)
	if !oka || !okb {
		return a.Cmp(b)
	}
	var ok bool
	if ha, la, ok = mulPow10(ha, la, int(ea+Scale)); !ok {
		return a.Cmp(b)
	}
	if hb, lb, ok = mulPow10(hb, lb, int(eb+Scale)); !ok {
		return a.Cmp(b)
	}
	za, zb := ha|la == 0, hb|lb == 0
	switch {
	case za && zb:
		return 0
	case za:
		if nb {
			return 1
		}
		return -1
	case zb:
		if na {
			return -1
		}
		return 1
	case na != nb:
		if na {
			return -1
		}
		return 1
	}
	c := cmp128(ha, la, hb, lb)
	if na {
		return -c
	}
	return c
}

// mulPow10 returns (hi·2^64 + lo) x 10^k, k in [0, 18]; ok is false on
// overflow of 128 bits.
func mulPow10(hi, lo uint64, k int) (uint64, uint64, bool) {
	if k == 0 {
		return hi, lo, true
	}
	p := pow10u64[k]
	h1, l1 := bits.Mul64(lo, p)
	h2, l2 := bits.Mul64(hi, p)
	nh, c := bits.Add64(l2, h1, 0)
	if h2 != 0 || c != 0 {
		return 0, 0, false
	}
	return nh, l1, true
}
