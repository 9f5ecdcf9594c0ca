package adapters

import (
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/fixed"
)

// The decimal fast paths (FromFloat's, Float's) live in package fixed,
// with their differential and fuzz tests; fixed keeps amounts at the
// same Scale.
const _ = uint(Scale-fixed.Scale) + uint(fixed.Scale-Scale) // compile error unless equal

// Float is d.InexactFloat64(), bit for bit (the nearest float64, ties to
// even), without the big.Rat that decimal builds when the coefficient
// exceeds 2^53 (amounts above about 0.009 at Scale places): fixed.Float.
func Float(d decimal.Decimal) float64 { return fixed.Float(d) }

// gasMemo remembers the latest gas costs: a decision prices the same
// few (gas units x gas price) again and again, across markets of one
// protocol and across quotes, exits and deposits, and NumFromFloat's
// shortest-digits conversion is the dearest step of a quote.
var gasMemo = fixed.NewMemo(fixed.NumFromFloat)
