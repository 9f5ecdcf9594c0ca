package fixed

import (
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
