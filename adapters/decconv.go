package adapters

import (
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

// gasMemo remembers the latest gas costs: a decision prices the same
// few (gas units x gas price) again and again, across markets of one
// protocol and across quotes, exits and deposits.
var gasMemo = decfast.NewMemo(FromFloat)

// gasDecimal is FromFloat(v), remembered by v's bits.
func gasDecimal(v float64) decimal.Decimal { return gasMemo.Get(v) }
