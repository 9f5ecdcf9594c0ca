package backtest

import (
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/fixed"
)

// toFloat converts a decimal to the nearest float64 within a few ulps,
// with no allocation: fixed.ToFloat. Analytics, weights and charts use
// it; money stays decimal.
func toFloat(d decimal.Decimal) float64 { return fixed.ToFloat(d) }
