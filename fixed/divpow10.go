package fixed

import "math/bits"

// Division by a power of ten without the hardware divide: the engine
// multiplies every held position by a rate at every step (Num.MulRate),
// and the quotient by 10^k of that product took two 128-by-64-bit
// divisions, several times the cost of the multiplications around them.
// Each power of ten has a precomputed reciprocal (Möller and Granlund,
// "Improved division by invariant integers", IEEE Trans. Computers 2011,
// algorithm 4, as Go's math/big divWW uses it), and a division is two
// multiplications and at most two corrections, exact for every input.

// p10Divisor is 10^k normalized (shifted left until its top bit is set)
// with the reciprocal floor((2^128 - 1) / d) - 2^64 of the shifted d.
type p10Divisor struct {
	d     uint64 // 10^k << shift
	shift uint
	rec   uint64
}

// p10Div holds the divisors of pow10u64.
var p10Div = func() (t [len(pow10u64)]p10Divisor) {
	for k, p := range pow10u64 {
		s := uint(bits.LeadingZeros64(p))
		d := p << s
		rec, _ := bits.Div64(^d, ^uint64(0), d)
		t[k] = p10Divisor{d: d, shift: s, rec: rec}
	}
	return t
}()

// div divides x1:x0 by the divisor's 10^k, x1 < 10^k: bits.Div64(x1, x0,
// 10^k) by the reciprocal.
func (v *p10Divisor) div(x1, x0 uint64) (q, r uint64) {
	s, d := v.shift, v.d
	if s != 0 {
		x1 = x1<<s | x0>>(64-s)
		x0 <<= s
	}
	t1, t0 := bits.Mul64(v.rec, x1)
	_, c := bits.Add64(t0, x0, 0)
	q, _ = bits.Add64(t1, x1, c)
	// The quotient is q, q+1 or q+2.
	dq1, dq0 := bits.Mul64(d, q)
	r0, b := bits.Sub64(x0, dq0, 0)
	r1, _ := bits.Sub64(x1, dq1, b)
	if r1 != 0 {
		q++
		r0 -= d
	}
	if r0 >= d {
		q++
		r0 -= d
	}
	return q, r0 >> s
}

// div192p10 is div192 by 10^k (k < len(pow10u64)).
func div192p10(w2, w1, w0 uint64, k int) (q2, q1, q0, r uint64) {
	v := &p10Div[k]
	d := pow10u64[k]
	if w2 != 0 {
		q2, r = v.div(0, w2)
	}
	if r == 0 && w1 < d {
		r = w1
	} else {
		q1, r = v.div(r, w1)
	}
	q0, r = v.div(r, w0)
	return
}
