// Package fixed is yieldvault's fixed-point number, Num, and its
// conversions to and from shopspring/decimal and float64.
//
// Num is the engine's amount (a position's units, principal and
// rewards; the vault's and adapters' arithmetic): a signed 128-bit
// coefficient at Scale (18) places, plus the exponent of the decimal
// it stands for. Every operation is specified as the decimal.Decimal
// expression it replaces and gives that expression's coefficient and
// exponent, so results are byte-identical to decimal arithmetic; a
// value or result that does not fit in 128 bits is held as a decimal
// and computed by decimal's own arithmetic (wider and exact, only
// slower: nothing wraps). Operations on the fast form allocate
// nothing; Dec builds the decimal.
//
// decimal.Decimal stays the type at the edges (ledger, state, API,
// reports, user input); Num converts to it with Dec and from it with
// FromDec, and marshals to JSON exactly as decimal does. float64 is for
// rates, weights and analytics: FromFloat, FastDecimal and their Num
// forms convert rates into amounts, Float and ToFloat amounts into
// floats. Every fast path is tested bit for bit (coefficient and
// exponent) against decimal's own arithmetic, by table, random and fuzz
// tests.
package fixed
