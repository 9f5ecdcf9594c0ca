//go:build !amd64

package backtest

import "math"

// logOf is math.Log (see logret_amd64.go for amd64's).
func logOf(x float64) float64 { return math.Log(x) }
