package fmath

import "math"

// Log is math.Log(x), to the bit. The operations and their order are
// those of math/log_amd64.s (the FreeBSD algorithm that math/log.go also
// writes out), including its reduction (f1 <= sqrt(2)/2 halves the
// exponent, where log.go has <), and each product is converted to
// float64 so that the compiler may not fuse it into an FMA; zero,
// negative, subnormal, infinite and NaN arguments go to math.Log.
func Log(x float64) float64 {
	b := math.Float64bits(x)
	e := b >> 52 // the sign bit too: a negative x is >= 0x800
	if e == 0 || e >= 0x7ff {
		return math.Log(x)
	}
	f, k := logReduce(b)
	sf := f / (2 + f)
	return logSum(f, sf, k, logR(sf))
}

// logReduce is Log's reduction of x's bits b (e neither 0 nor 0x7ff):
// f1, k := math.Frexp(x); if f1 <= sqrt(2)/2 { f1 *= 2; k-- }, in the
// bits, without a branch on the (random) comparison: f1 in [0.5, 1) is
// the mantissa with the exponent of 0.5, and twice it the same with the
// exponent of 1. f is f1 - 1.
func logReduce(b uint64) (f, k float64) {
	const (
		hSqrt2 = 7.07106781186547524401e-01 // sqrt(2)/2
		mant   = 1<<52 - 1
	)
	m := b & mant
	var half uint64
	if m|0x3fe<<52 <= math.Float64bits(hSqrt2) {
		half = 1
	}
	f1 := math.Float64frombits(m | (0x3fe+half)<<52)
	return f1 - 1, float64(int64(b>>52) - 0x3fe - int64(half))
}

// logSum is Log's result from its reduction f, k, s = f/(2+f) and the
// polynomial r = logR(s). (Log's steps are small functions the compiler
// inlines, which Log and Log4 share.)
func logSum(f, s, k, r float64) float64 {
	const (
		ln2Hi = 6.93147180369123816490e-01 // 0x3fe62e42fee00000
		ln2Lo = 1.90821492927058770002e-10 // 0x3dea39ef35793c76
	)
	hfsq := float64(float64(0.5*f) * f)
	return float64(k*ln2Hi) - ((hfsq - (float64(s*(hfsq+r)) + float64(k*ln2Lo))) - f)
}

// logR is the polynomial's R(s) = t1 + t2 of Log's s.
func logR(s float64) float64 {
	s2 := float64(s * s)
	s4 := float64(s2 * s2)
	t1 := float64(s2 * (lg1 + float64(s4*(lg3+float64(s4*(lg5+float64(s4*lg7)))))))
	t2 := float64(s4 * (lg2 + float64(s4*(lg4+float64(s4*lg6)))))
	return t1 + t2
}

// Log4 is math.Log of each of x0..x3, to the bit: Log's operations for
// each, written side by side (each is a chain of dependent operations, a
// division and the polynomial, that the processor overlaps with the
// others'); an x that Log gives to math.Log (zero, negative, subnormal,
// infinite, NaN) is math.Log's.
func Log4(x0, x1, x2, x3 float64) (y0, y1, y2, y3 float64) {
	b0, b1, b2, b3 := math.Float64bits(x0), math.Float64bits(x1), math.Float64bits(x2), math.Float64bits(x3)
	// Log's test of its range, e == 0 || e >= 0x7ff, as one comparison.
	in0, in1, in2, in3 := b0>>52-1 < 0x7fe, b1>>52-1 < 0x7fe, b2>>52-1 < 0x7fe, b3>>52-1 < 0x7fe
	if !(in0 && in1 && in2 && in3) {
		y0, y1, y2, y3 = Log(x0), Log(x1), Log(x2), Log(x3)
		return y0, y1, y2, y3
	}
	f0, k0 := logReduce(b0)
	f1, k1 := logReduce(b1)
	f2, k2 := logReduce(b2)
	f3, k3 := logReduce(b3)
	s0, s1, s2, s3 := f0/(2+f0), f1/(2+f1), f2/(2+f2), f3/(2+f3)
	r0, r1, r2, r3 := logR(s0), logR(s1), logR(s2), logR(s3)
	return logSum(f0, s0, k0, r0), logSum(f1, s1, k1, r1), logSum(f2, s2, k2, r2), logSum(f3, s3, k3, r3)
}

// The FreeBSD logarithm's polynomial, which math's Log and Log1p share.
const (
	lg1 = 6.666666666666735130e-01 // 3FE5555555555593
	lg2 = 3.999999999940941908e-01 // 3FD999999997FA04
	lg3 = 2.857142874366239149e-01 // 3FD2492494229359
	lg4 = 2.222219843214978396e-01 // 3FCC71C51D8E78AF
	lg5 = 1.818357216161805012e-01 // 3FC7466496CB03DE
	lg6 = 1.531383769920937332e-01 // 3FC39A09D078C69F
	lg7 = 1.479819860511658591e-01 // 3FC2F112DF3E5244
)

// Log1p is math.Log1p(x), to the bit: for Sqrt(2)/2-1 < x < Sqrt(2)-1
// and |x| >= 2^-29 (the rates of lending markets) the operations of
// math/log1p.go's path for that range (k = 0), written as it writes them
// so that a compiler fusing products into additions treats both alike;
// elsewhere math.Log1p itself. On amd64 math.Log1p is that Go function
// (no assembly), which the compiler does not inline.
func Log1p(x float64) float64 {
	const (
		sqrt2M1     = 4.142135623730950488017e-01  // Sqrt(2)-1 = 0x3fda827999fcef34
		sqrt2HalfM1 = -2.928932188134524755992e-01 // Sqrt(2)/2-1 = 0xbfd2bec333018866
		small       = 1.0 / (1 << 29)              // 2**-29 = 0x3e20000000000000
	)
	if !(x > sqrt2HalfM1 && x < sqrt2M1) || (x < small && x > -small) {
		return math.Log1p(x)
	}
	f := x
	hfsq := 0.5 * f * f
	s := f / (2.0 + f)
	z := s * s
	R := z * (lg1 + z*(lg2+z*(lg3+z*(lg4+z*(lg5+z*(lg6+z*lg7))))))
	return f - (hfsq - s*(hfsq+R))
}

// Exp4 is math.Exp of each of x0..x3, to the bit: exp4 with the copy
// where math.Exp takes the FMA path it copies (expFMA, checked at start).
func Exp4(x0, x1, x2, x3 float64) (y0, y1, y2, y3 float64) { return exp4(x0, x1, x2, x3, expFMA) }

// exp4 is, with useCopy, math/exp_amd64.s's path for processors with AVX
// and FMA applied to each of x0..x3 with |x| <= 700: each fused
// multiply-add a math.FMA and every other product converted to float64
// so that the compiler fuses none (the path without FMA rounds
// differently, which probeExp tells apart); math.Exp itself for an x
// beyond, and for all four without useCopy.
//
// Each exponential is a chain of some twenty dependent operations (the
// polynomial's multiply-adds, the squarings): the four are written side
// by side, operation by operation, so that the processor overlaps their
// chains, where four calls one after the other each waited on its own.
// Each lane's operations and their order are those of the one-lane path.
func exp4(x0, x1, x2, x3 float64, useCopy bool) (y0, y1, y2, y3 float64) {
	if !useCopy {
		return math.Exp(x0), math.Exp(x1), math.Exp(x2), math.Exp(x3)
	}
	in0, in1, in2, in3 := x0 >= -700 && x0 <= 700, x1 >= -700 && x1 <= 700, x2 >= -700 && x2 <= 700, x3 >= -700 && x3 <= 700
	if !(in0 && in1 && in2 && in3) {
		// A lane beyond the copy's range is math.Exp's (the copy computed
		// of 0 in its place, and dropped).
		a0, a1, a2, a3 := x0, x1, x2, x3
		if !in0 {
			a0 = 0
		}
		if !in1 {
			a1 = 0
		}
		if !in2 {
			a2 = 0
		}
		if !in3 {
			a3 = 0
		}
		y0, y1, y2, y3 = exp4(a0, a1, a2, a3, true)
		if !in0 {
			y0 = math.Exp(x0)
		}
		if !in1 {
			y1 = math.Exp(x1)
		}
		if !in2 {
			y2 = math.Exp(x2)
		}
		if !in3 {
			y3 = math.Exp(x3)
		}
		return y0, y1, y2, y3
	}
	const (
		log2e = 1.4426950408889634073599246810018920 // 1/LN2
		ln2U  = 0.69314718055966295651160180568695068359375
		ln2L  = 0.28235290563031577122588448175013436025525412068e-12
		// the Taylor series' coefficients, from the highest
		c7 = 2.4801587301587301587e-5
		c6 = 1.9841269841269841270e-4
		c5 = 1.3888888888888888889e-3
		c4 = 8.3333333333333333333e-3
		c3 = 4.1666666666666666667e-2
		c2 = 1.6666666666666666667e-1
		c1 = 0.5
		c0 = 1.0
	)
	// the exponents, rounded to nearest even (CVTSD2SL)
	n0, n1, n2, n3 := math.RoundToEven(float64(x0*log2e)), math.RoundToEven(float64(x1*log2e)),
		math.RoundToEven(float64(x2*log2e)), math.RoundToEven(float64(x3*log2e))
	r0, r1, r2, r3 := math.FMA(-n0, ln2U, x0), math.FMA(-n1, ln2U, x1), math.FMA(-n2, ln2U, x2), math.FMA(-n3, ln2U, x3)
	r0, r1, r2, r3 = math.FMA(-n0, ln2L, r0), math.FMA(-n1, ln2L, r1), math.FMA(-n2, ln2L, r2), math.FMA(-n3, ln2L, r3)
	r0, r1, r2, r3 = float64(r0*0.0625), float64(r1*0.0625), float64(r2*0.0625), float64(r3*0.0625)
	// Taylor series
	p0, p1, p2, p3 := math.FMA(c7, r0, c6), math.FMA(c7, r1, c6), math.FMA(c7, r2, c6), math.FMA(c7, r3, c6)
	p0, p1, p2, p3 = math.FMA(p0, r0, c5), math.FMA(p1, r1, c5), math.FMA(p2, r2, c5), math.FMA(p3, r3, c5)
	p0, p1, p2, p3 = math.FMA(p0, r0, c4), math.FMA(p1, r1, c4), math.FMA(p2, r2, c4), math.FMA(p3, r3, c4)
	p0, p1, p2, p3 = math.FMA(p0, r0, c3), math.FMA(p1, r1, c3), math.FMA(p2, r2, c3), math.FMA(p3, r3, c3)
	p0, p1, p2, p3 = math.FMA(p0, r0, c2), math.FMA(p1, r1, c2), math.FMA(p2, r2, c2), math.FMA(p3, r3, c2)
	p0, p1, p2, p3 = math.FMA(p0, r0, c1), math.FMA(p1, r1, c1), math.FMA(p2, r2, c1), math.FMA(p3, r3, c1)
	p0, p1, p2, p3 = math.FMA(p0, r0, c0), math.FMA(p1, r1, c0), math.FMA(p2, r2, c0), math.FMA(p3, r3, c0)
	r0, r1, r2, r3 = float64(r0*p0), float64(r1*p1), float64(r2*p2), float64(r3*p3)
	// Squared four times: (r+1)^16 - 1 as r(r+2) three times, then r(r+2)+1.
	r0, r1, r2, r3 = float64(r0*(r0+2)), float64(r1*(r1+2)), float64(r2*(r2+2)), float64(r3*(r3+2))
	r0, r1, r2, r3 = float64(r0*(r0+2)), float64(r1*(r1+2)), float64(r2*(r2+2)), float64(r3*(r3+2))
	r0, r1, r2, r3 = float64(r0*(r0+2)), float64(r1*(r1+2)), float64(r2*(r2+2)), float64(r3*(r3+2))
	r0, r1, r2, r3 = math.FMA(r0, r0+2, 1), math.FMA(r1, r1+2, 1), math.FMA(r2, r2+2, 1), math.FMA(r3, r3+2, 1)
	// times 2**n (|n| <= 1010: a normal power of two)
	return float64(r0 * pow2(n0)), float64(r1 * pow2(n1)), float64(r2 * pow2(n2)), float64(r3 * pow2(n3))
}

// pow2 is 2**n for an integral n with |n| <= 1022.
func pow2(n float64) float64 { return math.Float64frombits(uint64(int64(n)+0x3ff) << 52) }

// expFMA reports whether exp4's copy gave math.Exp's results to the bit on
// every probe in this process: math.Exp takes its FMA path here.
var expFMA = probeExp()

// probeExp reports whether exp4's copy and math.Exp agree on every probe
// (the exponential of rates, of an hour's log growth at them, and of
// arguments up to +-250), on which the FMA path and the path without it
// differ (TestExp_ProbesTellPaths).
func probeExp() bool {
	for _, x := range probes() {
		for _, e := range []float64{x, x / 8760, x * 600} {
			xs := [4]float64{e, -e, 2 * e, 0.5 * e}
			var ys [4]float64
			ys[0], ys[1], ys[2], ys[3] = exp4(xs[0], xs[1], xs[2], xs[3], true)
			for l, y := range ys {
				if math.Float64bits(y) != math.Float64bits(math.Exp(xs[l])) {
					return false
				}
			}
		}
	}
	return true
}

// probes are 256 numbers in (-0.29, 0.41), evenly spread with a fixed
// irrational step.
func probes() []float64 {
	out := make([]float64, 256)
	x := 0.0
	for i := range out {
		x += 0.6180339887498949 // the golden ratio's fraction
		if x >= 1 {
			x--
		}
		out[i] = -0.29 + 0.7*x
	}
	return out
}
