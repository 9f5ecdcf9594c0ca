package mech

import "math"

// Curve's StableSwap invariant on float64: the one implementation that
// adapters/amm's pools and the LST/LRT stable venues share.
//
//	A n^n sum(x) + D = A D n^n + D^(n+1) / (n^n prod(x))
//
// amp is A as the pool contract reports it (Ann = amp * n). Balances are
// in base units of equal value at peg.

// StableD is the stableswap invariant D of the balances xs (in units of
// equal value at peg) at amplification amp, by Curve's Newton iteration
// (get_D). amp is the pool's A as its contract reports it (Ann = A * n).
// It returns 0 when a balance is not positive or the iteration does not
// converge.
func StableD(amp float64, xs []float64) float64 {
	n := float64(len(xs))
	s := 0.0
	for _, x := range xs {
		if !(x > 0) || math.IsInf(x, 0) {
			return 0
		}
		s += x
	}
	ann := amp * n
	d := s
	for i := 0; i < 255; i++ {
		dp := d
		for _, x := range xs {
			dp = dp * d / (x * n)
		}
		prev := d
		d = (ann*s + dp*n) * d / ((ann-1)*d + (n+1)*dp)
		if math.Abs(d-prev) <= 1e-15*d {
			return d
		}
	}
	return 0
}

// StableY solves the invariant for the balance of coin i that gives D with
// the other balances fixed (Curve's get_y_D).
func StableY(amp float64, xs []float64, i int, d float64) float64 {
	n := float64(len(xs))
	ann := amp * n
	c, s := d, 0.0
	for j, x := range xs {
		if j == i {
			continue
		}
		s += x
		c = c * d / (x * n)
	}
	c = c * d / (ann * n)
	b := s + d/ann
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
	xs := [2]float64{xIn, xOut}
	d := StableD(amp, xs[:])
	if d == 0 || !(dx > 0) {
		return 0
	}
	xs[0] += dx
	y := StableY(amp, xs[:], 1, d)
	dy := (xOut - y) * (1 - fee)
	if !(dy > 0) {
		return 0
	}
	return dy
}
