package mech

import (
	"math"
	"sync/atomic"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/internal/decfast"
)

// MulRate returns u x FastDecimal(x) rounded half away from zero to
// adapters.Scale places, with one allocation: decfast.MulRate (the
// adapters' Value hot path; tested there against decimal).
func MulRate(u decimal.Decimal, x float64) decimal.Decimal { return decfast.MulRate(u, x) }

// FastDecimal converts a rate or price to a decimal without strconv, at
// the most places (up to 18) that keep its coefficient below 2^53:
// decfast.FastDecimal.
func FastDecimal(x float64) decimal.Decimal { return decfast.FastDecimal(x) }

// depthMemo is one remembered FastDecimal conversion of an exit depth.
type depthMemo struct {
	x float64
	d decimal.Decimal
}

// depthMemos remember the latest exit depths converted for quotes'
// MaxInstantExit: a decision quotes every market at the same observed
// depth, step after step. Entries are immutable and replaced atomically,
// so the table is safe for concurrent use (decimals are immutable
// values, shared by the quotes that return them).
var depthMemos [1 << depthMemoBits]atomic.Pointer[depthMemo]

const depthMemoBits = 6

// depthDecimal is FastDecimal(x), remembered by x's bits.
func depthDecimal(x float64) decimal.Decimal {
	b := math.Float64bits(x)
	slot := &depthMemos[(b*0x9E3779B97F4A7C15)>>(64-depthMemoBits)] // Fibonacci hashing
	if m := slot.Load(); m != nil && math.Float64bits(m.x) == b {
		return m.d
	}
	d := FastDecimal(x)
	slot.Store(&depthMemo{x: x, d: d})
	return d
}
