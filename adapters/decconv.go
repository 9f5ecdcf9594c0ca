package adapters

import (
	"math"
	"sync/atomic"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/internal/decfast"
)

// The decimal fast paths (FromFloat's, Float's) live in internal/decfast,
// with their differential and fuzz tests; decfast keeps amounts at the
// same Scale.
const _ = uint(Scale-decfast.Scale) + uint(decfast.Scale-Scale) // compile error unless equal

// Float is d.InexactFloat64(), bit for bit (the nearest float64, ties to
// even), without the big.Rat that decimal builds when the coefficient
// exceeds 2^53 (amounts above about 0.009 at Scale places): decfast.Float.
func Float(d decimal.Decimal) float64 { return decfast.Float(d) }

// gasMemo is one remembered FromFloat conversion.
type gasMemo struct {
	v float64
	d decimal.Decimal
}

// gasMemos remember the latest gas costs: a decision prices the same
// few (gas units x gas price) again and again, across markets of one
// protocol and across quotes, exits and deposits. Entries are immutable
// and replaced atomically, so the table is safe for concurrent use;
// decimals are immutable values.
var gasMemos [1 << gasMemoBits]atomic.Pointer[gasMemo]

const gasMemoBits = 6

// gasDecimal is FromFloat(v), remembered by v's bits.
func gasDecimal(v float64) decimal.Decimal {
	b := math.Float64bits(v)
	// Fibonacci hashing: the top bits of b x 2^64/phi mix every bit of
	// b, where costs that differ by a power of two (only in the
	// exponent's bits) collided under a shift-and-xor of the low bits.
	slot := &gasMemos[(b*0x9E3779B97F4A7C15)>>(64-gasMemoBits)]
	if m := slot.Load(); m != nil && math.Float64bits(m.v) == b {
		return m.d
	}
	d := FromFloat(v)
	slot.Store(&gasMemo{v: v, d: d})
	return d
}
