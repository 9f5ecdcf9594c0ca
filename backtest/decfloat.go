package backtest

import (
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/internal/decfast"
)

// toFloat converts a decimal to the nearest float64 within a few ulps,
// with no allocation: decfast.ToFloat. Analytics, weights and charts use
// it; money stays decimal.
func toFloat(d decimal.Decimal) float64 { return decfast.ToFloat(d) }
