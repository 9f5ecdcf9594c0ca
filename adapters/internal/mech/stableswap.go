package mech

import "math"

// Two-coin stableswap (Curve's StableSwap invariant) on float64, for
// pricing an LST's swap through a stable venue:
//
//	A n^n sum(x) + D = A D n^n + D^(n+1) / (n^n prod(x)),  n = 2
//
// amp is A as the pool contract reports it (Ann = amp * n, as
// adapters/amm). Balances are in base units of equal value at peg.

// stableD2 is the invariant D of balances x0, x1 by Newton's iteration
// (Curve's get_D); 0 when a balance is not positive.
func stableD2(amp, x0, x1 float64) float64 {
	if !(x0 > 0 && x1 > 0) || math.IsInf(x0+x1, 0) {
		return 0
	}
	ann := amp * 2
	s := x0 + x1
	d := s
	for i := 0; i < 255; i++ {
		dp := d * d / (2 * x0) * d / (2 * x1)
		prev := d
		d = (ann*s + 2*dp) * d / ((ann-1)*d + 3*dp)
		if math.Abs(d-prev) <= 1e-15*d {
			return d
		}
	}
	return 0
}

// stableY2 is the balance of the other coin that keeps D when one coin's
// balance is x (Curve's get_y).
func stableY2(amp, x, d float64) float64 {
	ann := amp * 2
	c := d * d / (2 * x) * d / (ann * 2)
	b := x + d/ann
	y := d
	for k := 0; k < 255; k++ {
		prev := y
		y = (y*y + c) / (2*y + b - d)
		if math.Abs(y-prev) <= 1e-15*y {
			break
		}
	}
	return y
}

// StableSwapOut is what a swap of dx into a two-coin stableswap pool with
// balances xIn (of the coin paid in) and xOut (of the coin taken out)
// brings, after the pool's fee on the output (Curve's get_dy). It is 0
// when the pool cannot price the swap.
func StableSwapOut(amp, fee, xIn, xOut, dx float64) float64 {
	d := stableD2(amp, xIn, xOut)
	if d == 0 || !(dx > 0) {
		return 0
	}
	y := stableY2(amp, xIn+dx, d)
	dy := (xOut - y) * (1 - fee)
	if !(dy > 0) {
		return 0
	}
	return dy
}
