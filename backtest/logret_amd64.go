package backtest

import "math"

// logOf is math.Log(x), to the bit, computed in Go. On amd64 math.Log is
// an assembly function (math/log_amd64.s): the compiler cannot inline or
// schedule it, every call goes through an ABI wrapper that passes its
// argument on the stack, and its branch-free body is the FreeBSD
// algorithm that math/log.go also writes out. ComputeHeadline takes one
// logarithm per step of every curve (52 curves of 26,280 steps in W1),
// where this Go copy of the same operations is about a quarter faster
// (measured, interleaved). The operations and their order are those of
// log_amd64.s, including its reduction (f1 <= sqrt(2)/2 halves the
// exponent, where log.go has <), and each product is converted to
// float64 so that the compiler may not fuse it into an FMA; zero,
// negative, subnormal, infinite and NaN arguments go to math.Log.
// TestLogOf compares it with math.Log bit for bit.
func logOf(x float64) float64 {
	const (
		hSqrt2 = 7.07106781186547524401e-01 // sqrt(2)/2
		ln2Hi  = 6.93147180369123816490e-01 // 0x3fe62e42fee00000
		ln2Lo  = 1.90821492927058770002e-10 // 0x3dea39ef35793c76
		l1     = 6.666666666666735130e-01   // 0x3FE5555555555593
		l2     = 3.999999999940941908e-01   // 0x3FD999999997FA04
		l3     = 2.857142874366239149e-01   // 0x3FD2492494229359
		l4     = 2.222219843214978396e-01   // 0x3FCC71C51D8E78AF
		l5     = 1.818357216161805012e-01   // 0x3FC7466496CB03DE
		l6     = 1.531383769920937332e-01   // 0x3FC39A09D078C69F
		l7     = 1.479819860511658591e-01   // 0x3FC2F112DF3E5244
		mant   = 1<<52 - 1
	)
	b := math.Float64bits(x)
	e := b >> 52 // the sign bit too: a negative x is >= 0x800
	if e == 0 || e >= 0x7ff {
		return math.Log(x)
	}
	// f1, k := math.Frexp(x); if f1 <= sqrt(2)/2 { f1 *= 2; k-- }, in
	// the bits, without a branch on the (random) comparison: f1 in
	// [0.5, 1) is the mantissa with the exponent of 0.5, and twice it the
	// same with the exponent of 1.
	m := b & mant
	var half uint64
	if m|0x3fe<<52 <= math.Float64bits(hSqrt2) {
		half = 1
	}
	f1 := math.Float64frombits(m | (0x3fe+half)<<52)
	k := float64(int64(e) - 0x3fe - int64(half))
	f := f1 - 1
	s := f / (2 + f)
	s2 := float64(s * s)
	s4 := float64(s2 * s2)
	t1 := float64(s2 * (l1 + float64(s4*(l3+float64(s4*(l5+float64(s4*l7)))))))
	t2 := float64(s4 * (l2 + float64(s4*(l4+float64(s4*l6)))))
	r := t1 + t2
	hfsq := float64(float64(0.5*f) * f)
	return float64(k*ln2Hi) - ((hfsq - (float64(s*(hfsq+r)) + float64(k*ln2Lo))) - f)
}
