//go:build !amd64

package lending

import "math"

// fastGrowth is false: growthFactors calls growth for every factor.
const fastGrowth = false

func log1pOf(x float64) float64 { return math.Log1p(x) }

func expOf(x float64) float64 { return math.Exp(x) }
