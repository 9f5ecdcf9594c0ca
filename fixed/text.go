package fixed

import (
	"math/bits"

	"github.com/shopspring/decimal"
)

// String is n.Dec().String(): decimal's default format.
func (n Num) String() string {
	var buf [48]byte
	return string(n.AppendString(buf[:0]))
}

// MarshalJSON writes n as decimal.Decimal does: its String, quoted
// unless decimal.MarshalJSONWithoutQuotes is set.
func (n Num) MarshalJSON() ([]byte, error) {
	if decimal.MarshalJSONWithoutQuotes {
		return n.AppendString(nil), nil
	}
	b := make([]byte, 0, 24)
	b = append(b, '"')
	b = n.AppendString(b)
	return append(b, '"'), nil
}

// UnmarshalJSON reads what decimal.Decimal's UnmarshalJSON reads (a
// quoted or bare number; null leaves n unchanged), with its errors.
func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	var d decimal.Decimal
	if err := d.UnmarshalJSON(b); err != nil {
		return err
	}
	*n = FromDec(d)
	return nil
}

// NewFromString parses s as decimal.NewFromString does.
func NewFromString(s string) (Num, error) {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return Num{}, err
	}
	return FromDec(d), nil
}

// RequireFromString is NewFromString that panics on an error: for
// tests and constants.
func RequireFromString(s string) Num { return FromDec(decimal.RequireFromString(s)) }

// IsPositive reports whether n > 0.
func (n Num) IsPositive() bool { return n.Sign() > 0 }

// IsNegative reports whether n < 0.
func (n Num) IsNegative() bool { return n.Sign() < 0 }

// GreaterThan reports whether n > b.
func (n Num) GreaterThan(b Num) bool { return n.Cmp(b) > 0 }

// GreaterThanOrEqual reports whether n >= b.
func (n Num) GreaterThanOrEqual(b Num) bool { return n.Cmp(b) >= 0 }

// LessThanOrEqual reports whether n <= b.
func (n Num) LessThanOrEqual(b Num) bool { return n.Cmp(b) <= 0 }

// LessThan reports whether n < b.
func (n Num) LessThan(b Num) bool { return n.Cmp(b) < 0 }

// ApproxFloat is ApproxFloat(n.Dec()), bit for bit, without building
// the decimal: within a few ulps of the value, for shares and weights.
func (n Num) ApproxFloat() float64 {
	if n.slow() || n.exp > 0 {
		return ApproxFloat(n.Dec())
	}
	neg, hi, lo := n.abs()
	if hi|lo == 0 {
		return 0
	}
	hi, lo = divPow10Exact(hi, lo, int(n.exp+Scale))
	f := float64(lo)
	if hi != 0 {
		f = float64(hi)*0x1p64 + float64(lo)
	}
	if neg {
		f = -f
	}
	return f / float64pow10[-n.exp]
}

// Identical reports whether n and b stand for the same decimal (the same
// coefficient and exponent), so that either may replace the other in any
// computation: a cache key. It may report false for equal values held
// in different forms.
func (n Num) Identical(b Num) bool { return n == b }

// InexactFloat64 is n.Dec().InexactFloat64() (Float).
func (n Num) InexactFloat64() float64 { return n.Float() }

// Abs returns |n| (decimal's Abs: the exponent is kept).
func (n Num) Abs() Num {
	if n.Sign() < 0 {
		return n.Neg()
	}
	return n
}

// StringFixed is n.Dec().StringFixed(places).
func (n Num) StringFixed(places int32) string { return n.Dec().StringFixed(places) }

// NewFromInt is FromDec(decimal.NewFromInt(x)) without allocating: the
// integer x, exponent 0.
func NewFromInt(x int64) Num {
	neg := x < 0
	u := uint64(x)
	if neg {
		u = -u
	}
	hi, lo := bits.Mul64(u, pow10u64[Scale])
	n, _ := fastNum(neg, hi, lo, 0) // |x| <= 2^63, 10^18 < 2^60: below 2^127
	return n
}
