package importers

import (
	"math"

	"github.com/google/go-cmp/cmp"
)

// cmpFloat compares float64s to 1e-12 relative (unit conversions round).
var cmpFloat = cmp.Comparer(func(a, b float64) bool {
	if a == b {
		return true
	}
	return math.Abs(a-b) <= 1e-12*math.Max(math.Abs(a), math.Abs(b))
})
