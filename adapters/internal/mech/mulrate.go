package mech

import (
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/fixed"
)

// MulRate returns u x FastDecimal(x) rounded half away from zero to
// adapters.Scale places, with one allocation: fixed.MulRate (the
// adapters' Value hot path; tested there against decimal).
func MulRate(u decimal.Decimal, x float64) decimal.Decimal { return fixed.MulRate(u, x) }

// FastDecimal converts a rate or price to a decimal without strconv, at
// the most places (up to 18) that keep its coefficient below 2^53:
// fixed.FastDecimal.
func FastDecimal(x float64) decimal.Decimal { return fixed.FastDecimal(x) }
