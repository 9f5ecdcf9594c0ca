package lending

import "math"

// fastGrowth reports whether growthFactors may take log1pOf and expOf for
// math.Log1p and math.Exp: their results were those functions' to the
// bit on every probe (growthProbes) in this process.
var fastGrowth = probeGrowth()

// log1pOf is math.Log1p(x), to the bit: for Sqrt(2)/2-1 < x < Sqrt(2)-1
// and |x| >= 2^-29 (the rates of lending markets) the operations of
// math/log1p.go's path for that range (k = 0), written as it writes them
// so that a compiler fusing products into additions treats both alike;
// elsewhere math.Log1p itself. On amd64 math.Log1p is that Go function
// (no assembly), which the compiler does not inline.
func log1pOf(x float64) float64 {
	const (
		sqrt2M1     = 4.142135623730950488017e-01  // Sqrt(2)-1 = 0x3fda827999fcef34
		sqrt2HalfM1 = -2.928932188134524755992e-01 // Sqrt(2)/2-1 = 0xbfd2bec333018866
		small       = 1.0 / (1 << 29)              // 2**-29 = 0x3e20000000000000
		Lp1         = 6.666666666666735130e-01     // 3FE5555555555593
		Lp2         = 3.999999999940941908e-01     // 3FD999999997FA04
		Lp3         = 2.857142874366239149e-01     // 3FD2492494229359
		Lp4         = 2.222219843214978396e-01     // 3FCC71C51D8E78AF
		Lp5         = 1.818357216161805012e-01     // 3FC7466496CB03DE
		Lp6         = 1.531383769920937332e-01     // 3FC39A09D078C69F
		Lp7         = 1.479819860511658591e-01     // 3FC2F112DF3E5244
	)
	if !(x > sqrt2HalfM1 && x < sqrt2M1) || (x < small && x > -small) {
		return math.Log1p(x)
	}
	f := x
	hfsq := 0.5 * f * f
	s := f / (2.0 + f)
	z := s * s
	R := z * (Lp1 + z*(Lp2+z*(Lp3+z*(Lp4+z*(Lp5+z*(Lp6+z*Lp7))))))
	return f - (hfsq - s*(hfsq+R))
}

// expOf is math.Exp(x), to the bit, on a processor with AVX and FMA: for
// |x| <= 700 the operations of math/exp_amd64.s's path for such
// processors (math.Exp is that assembly function on amd64; its path
// without FMA rounds differently, which probeGrowth tells apart), each
// fused multiply-add a math.FMA and every other product converted to
// float64 so that the compiler fuses none; elsewhere math.Exp itself.
// As an assembly function math.Exp is called through a wrapper that
// passes its argument and result on the stack; this copy is inlined and
// scheduled with its neighbours.
func expOf(x float64) float64 {
	const (
		log2e = 1.4426950408889634073599246810018920 // 1/LN2
		ln2U  = 0.69314718055966295651160180568695068359375
		ln2L  = 0.28235290563031577122588448175013436025525412068e-12
	)
	if !(x >= -700 && x <= 700) {
		return math.Exp(x)
	}
	n := math.RoundToEven(float64(x * log2e)) // CVTSD2SL: the exponent, rounded to nearest even
	r := math.FMA(-n, ln2U, x)
	r = math.FMA(-n, ln2L, r)
	r = float64(r * 0.0625)
	// Taylor series
	p := math.FMA(2.4801587301587301587e-5, r, 1.9841269841269841270e-4)
	p = math.FMA(p, r, 1.3888888888888888889e-3)
	p = math.FMA(p, r, 8.3333333333333333333e-3)
	p = math.FMA(p, r, 4.1666666666666666667e-2)
	p = math.FMA(p, r, 1.6666666666666666667e-1)
	p = math.FMA(p, r, 0.5)
	p = math.FMA(p, r, 1.0)
	r = float64(r * p)
	// Squared four times: (r+1)^16 - 1 as r(r+2) three times, then r(r+2)+1.
	r = float64(r * (r + 2))
	r = float64(r * (r + 2))
	r = float64(r * (r + 2))
	r = math.FMA(r, r+2, 1)
	// times 2**n (|n| <= 1010: a normal power of two)
	return float64(r * math.Float64frombits(uint64(int64(n)+0x3ff)<<52))
}

// probeGrowth reports whether log1pOf and expOf gave math.Log1p's and
// math.Exp's results to the bit on every probe (growthProbes): math.Exp
// takes its FMA path on this processor, the one expOf copies.
func probeGrowth() bool {
	for _, x := range growthProbes() {
		if math.Float64bits(log1pOf(x)) != math.Float64bits(math.Log1p(x)) {
			return false
		}
		// the exponential of a step's log growth (an hour at rate x
		// is x/8760 of it), and of arguments up to +-250
		for _, e := range []float64{x, x / 8760, x * 600} {
			if math.Float64bits(expOf(e)) != math.Float64bits(math.Exp(e)) {
				return false
			}
		}
	}
	return true
}

// growthProbes are 256 numbers in (-0.29, 0.41), evenly spread with a
// fixed irrational step: rates, and (scaled) arguments of the
// exponential on which its two paths round differently
// (TestExpOf_ProbesTellPaths).
func growthProbes() []float64 {
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
