// Package fmath holds Go copies of standard-library math functions that
// the engine calls once per step of a long series (a curve's log return,
// a lending market's growth factor): Log, Log1p, and Log4 and Exp4 (four
// at once, their operations side by side so that their chains overlap)
// give math.Log, math.Log1p and math.Exp's results to the bit, always,
// and are faster where the copy applies. On amd64 math.Log and math.Exp are assembly
// functions: the compiler cannot inline or schedule them and calls each
// through an ABI wrapper that passes its argument on the stack, while a
// Go copy of the same operations, in the same order, is inlined or called
// directly and overlaps with its neighbours. Elsewhere, and for arguments
// outside a copy's range, each is the math function itself. The tests
// compare each with math bit for bit over millions of arguments; Exp4
// also checks at start, on probes that tell them apart, that math.Exp
// takes the path its copy follows (the processor's FMA path).
package fmath
