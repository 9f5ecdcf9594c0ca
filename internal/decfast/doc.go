// Package decfast is yieldvault's one home for fast paths around
// shopspring/decimal: conversions between float64 and decimals at
// Scale (18) places, the product of an amount and a float rate, and
// allocation-light sums and comparisons of amounts at Scale places.
//
// decimal.Decimal keeps its coefficient in a *big.Int behind unexported
// fields, and its API copies that big.Int on every accessor and result.
// The hot paths here read the coefficient in place and build results with
// one allocation, through a mirror of decimal's memory layout (layout.go).
// The mirror is checked against the real type once, with reflect, at
// init: if a future decimal changes its layout, every function takes its
// safe path through decimal's own API and returns the same values, only
// slower. Every fast path is tested bit for bit (coefficient and
// exponent) against decimal's own arithmetic, by table, random and fuzz
// tests.
//
// Num carries a hot path's arithmetic between decimals: a value is
// converted once on entry (FromDec, no allocation), added, compared,
// multiplied by rates and divided on 128-bit words at Scale places, and
// built as a decimal once per result (Dec). Every operation is specified
// as the decimal expression it replaces and gives that expression's
// coefficient and exponent; operands or results that do not fit take
// decimal's own arithmetic.
//
// Money stays decimal; float64 is for rates, weights and analytics.
package decfast
