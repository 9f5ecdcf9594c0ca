//go:build !amd64

package fmath

import "math"

// Log is math.Log (see fmath_amd64.go for amd64's copy).
func Log(x float64) float64 { return math.Log(x) }

// Log1p is math.Log1p.
func Log1p(x float64) float64 { return math.Log1p(x) }

// Exp4 is math.Exp of each of x0..x3.
func Exp4(x0, x1, x2, x3 float64) (y0, y1, y2, y3 float64) {
	return math.Exp(x0), math.Exp(x1), math.Exp(x2), math.Exp(x3)
}

// Log4 is math.Log of each of x0..x3.
func Log4(x0, x1, x2, x3 float64) (y0, y1, y2, y3 float64) {
	return math.Log(x0), math.Log(x1), math.Log(x2), math.Log(x3)
}
