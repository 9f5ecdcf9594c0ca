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
var gasMemos [64]atomic.Pointer[gasMemo]

// gasDecimal is FromFloat(v), remembered by v's bits.
func gasDecimal(v float64) decimal.Decimal {
	b := math.Float64bits(v)
	slot := &gasMemos[(b^b>>23^b>>41)&(uint64(len(gasMemos))-1)]
	if m := slot.Load(); m != nil && math.Float64bits(m.v) == b {
		return m.d
	}
	d := FromFloat(v)
	slot.Store(&gasMemo{v: v, d: d})
	return d
}
