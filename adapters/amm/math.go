package amm

import (
	"math"

	"github.com/yieldvault/yieldvault/adapters/internal/mech"
)

// MaxCoins is the most coins a stableswap pool may hold here (Curve's
// 3pool has three).
const MaxCoins = 3

// ILConstantProduct is the impermanent loss of a 50/50 constant-product
// position when the price of one coin in the other moves by the factor r:
// the LP value over the value of holding the coins, minus one,
// 2*sqrt(r)/(1+r) - 1. It is zero at r = 1 and negative elsewhere.
func ILConstantProduct(r float64) float64 {
	if !(r > 0) || math.IsInf(r, 0) {
		return -1
	}
	return 2*math.Sqrt(r)/(1+r) - 1
}

// ILWeighted is the impermanent loss of a weighted-product (Balancer)
// position with weight w0 on coin 0 when coin 1's price in coin 0 moves by
// r: LP value r^w1 over holding value w0 + w1*r, minus one (w1 = 1 - w0).
// With w0 = 0.5 it is ILConstantProduct.
func ILWeighted(r, w0 float64) float64 {
	if !(r > 0) || math.IsInf(r, 0) {
		return -1
	}
	w1 := 1 - w0
	return math.Pow(r, w1)/(w0+w1*r) - 1
}

// Range is a concentrated-liquidity range relative to the entry price:
// liquidity is active while the price of coin 1 in coin 0 is within
// [Lower x entry, Upper x entry]. Lower 0 means no lower bound and Upper
// 0 no upper bound; both 0 is full range, a constant-product position.
type Range struct{ Lower, Upper float64 }

// Full reports whether the range is unbounded on both sides.
func (g Range) Full() bool { return g.Lower == 0 && g.Upper == 0 }

// bounds returns sqrt(lower) and 1/sqrt(upper) (0 for an open side).
func (g Range) bounds() (sqrtLower, invSqrtUpper float64) {
	if g.Lower > 0 {
		sqrtLower = math.Sqrt(g.Lower)
	}
	if g.Upper > 0 {
		invSqrtUpper = 1 / math.Sqrt(g.Upper)
	}
	return sqrtLower, invSqrtUpper
}

// In reports whether the price ratio r (price / entry) is within the range.
func (g Range) In(r float64) bool {
	return r >= g.Lower && (g.Upper == 0 || r <= g.Upper)
}

// Value is the value, in coin 0, of the Uniswap v3 position of unit
// liquidity on the range when the price ratio is r and the entry price is
// 1 (so pa = Lower, pb = Upper):
//
//	r <= pa:       (1/sqrt(pa) - 1/sqrt(pb)) * r   (all coin 1)
//	r >= pb:       sqrt(pb) - sqrt(pa)             (all coin 0)
//	otherwise:     2*sqrt(r) - sqrt(pa) - r/sqrt(pb)
//
// A full range gives 2*sqrt(r), the constant-product value.
func (g Range) Value(r float64) float64 {
	sa, isb := g.bounds()
	switch {
	case g.Lower > 0 && r <= g.Lower:
		return (1/sa - isb) * r
	case g.Upper > 0 && r >= g.Upper:
		return 1/isb - sa
	}
	return 2*math.Sqrt(r) - sa - r*isb
}

// Coin1Share is the share of the position's value held in coin 1 at the
// price ratio r (1 below the range, 0 above it).
func (g Range) Coin1Share(r float64) float64 {
	sa, isb := g.bounds()
	switch {
	case g.Lower > 0 && r <= g.Lower:
		return 1
	case g.Upper > 0 && r >= g.Upper:
		return 0
	}
	return (math.Sqrt(r) - r*isb) / (2*math.Sqrt(r) - sa - r*isb)
}

// Concentration is the range's liquidity per unit of capital at the entry
// price relative to a full-range position: 2 / (2 - sqrt(Lower) -
// 1/sqrt(Upper)). A position earns this multiple of a full-range
// position's fee share while the price is in range.
func (g Range) Concentration() float64 {
	sa, isb := g.bounds()
	return 2 / (2 - sa - isb)
}

// IL is the impermanent loss of the range position when the price ratio
// moves to r: the position's value over the value of holding the coins it
// was opened with, minus one.
func (g Range) IL(r float64) float64 {
	if !(r > 0) || math.IsInf(r, 0) {
		return -1
	}
	v0 := g.Value(1)
	share1 := g.Coin1Share(1)
	hold := v0 * ((1 - share1) + share1*r)
	return g.Value(r)/hold - 1
}

// StableD is the stableswap invariant D of the balances xs (in units of
// equal value at peg) at amplification amp (mech.StableD, the one
// implementation the LST/LRT venues share).
func StableD(amp float64, xs []float64) float64 { return mech.StableD(amp, xs) }

// stableDP is D^(n+1) / (n^n * prod(xs)), computed as get_D does.
func stableDP(d float64, xs []float64) float64 {
	n := float64(len(xs))
	dp := d
	for _, x := range xs {
		dp = dp * d / (x * n)
	}
	return dp
}

// StableGradient returns dD/dx_i, the marginal D of one more unit of coin
// i, from the invariant's implicit derivative:
//
//	dD/dx_i = (Ann + DP/x_i) / (Ann - 1 + (n+1)*DP/D),  DP = D^(n+1)/(n^n prod x)
//
// It is 1 for every coin of a balanced pool.
func StableGradient(amp float64, xs []float64, i int) float64 {
	d := StableD(amp, xs)
	if d == 0 {
		return math.NaN()
	}
	n := float64(len(xs))
	ann := amp * n
	dp := stableDP(d, xs)
	return (ann + dp/xs[i]) / (ann - 1 + (n+1)*dp/d)
}

// StablePrice is the marginal price of coin i in coin 0 implied by the
// balances: dD/dx_i / dD/dx_0. Below 1 for a coin the pool holds too much of.
func StablePrice(amp float64, xs []float64, i int) float64 {
	d := StableD(amp, xs)
	if d == 0 {
		return math.NaN()
	}
	ann := amp * float64(len(xs))
	dp := stableDP(d, xs)
	return (ann + dp/xs[i]) / (ann + dp/xs[0])
}

// StableValueRatio is the pool's value in coin 0, with every balance
// valued at its marginal price on the curve, over D, its value at peg:
// sum(x_i * p_i) / D = 1 / (dD/dx_0) (D is homogeneous of degree one).
// It is 1 for a balanced pool and falls as the pool tilts away from coin 0,
// which is the loss an LP position marked to the pool's own prices shows.
func StableValueRatio(amp float64, xs []float64) float64 {
	g := StableGradient(amp, xs, 0)
	if !(g > 0) {
		return math.NaN()
	}
	return 1 / g
}

// StableY solves the invariant for the balance of coin i that gives D
// with the other balances fixed (mech.StableY).
func StableY(amp float64, xs []float64, i int, d float64) float64 {
	return mech.StableY(amp, xs, i, d)
}

// StableAddOne returns the increase of D from adding amount of coin 0 to
// the pool, after Curve's imbalance fee (fee * n / (4(n-1)) on each
// coin's distance from a proportional deposit).
func StableAddOne(amp, fee float64, xs []float64, amount float64) float64 {
	var nb, fb [MaxCoins]float64
	n := len(xs)
	d0 := StableD(amp, xs)
	copy(nb[:n], xs)
	nb[0] += amount
	d1 := StableD(amp, nb[:n])
	if d0 == 0 || d1 == 0 {
		return 0
	}
	feeN := imbalanceFee(fee, n)
	for j := 0; j < n; j++ {
		ideal := d1 * xs[j] / d0
		fb[j] = nb[j] - feeN*math.Abs(ideal-nb[j])
	}
	d2 := StableD(amp, fb[:n])
	if d2 <= d0 {
		return 0
	}
	return d2 - d0
}

// StableRemoveOne returns the amount of coin 0 paid out when burning dD of
// the invariant into coin 0 alone (Curve's calc_withdraw_one_coin,
// imbalance fee included). It returns a negative number when the pool
// cannot pay (dD >= D).
func StableRemoveOne(amp, fee float64, xs []float64, dD float64) float64 {
	n := len(xs)
	d0 := StableD(amp, xs)
	if d0 == 0 || dD >= d0 {
		return -1
	}
	d1 := d0 - dD
	newY := StableY(amp, xs, 0, d1)
	feeN := imbalanceFee(fee, n)
	var red [MaxCoins]float64
	for j := 0; j < n; j++ {
		var dx float64
		if j == 0 {
			dx = xs[j]*d1/d0 - newY
		} else {
			dx = xs[j] - xs[j]*d1/d0
		}
		red[j] = xs[j] - feeN*dx
	}
	return red[0] - StableY(amp, red[:n], 0, d1)
}

func imbalanceFee(fee float64, n int) float64 {
	if n < 2 {
		return 0
	}
	return fee * float64(n) / (4 * float64(n-1))
}

// StableShareForPrice finds the balances of a two-coin pool of unit D
// whose marginal price of coin 1 in coin 0 is p, by bisection on coin 1's
// share of the balances. It is how a stableswap pool is valued when an
// observation carries the market price but no balances.
func StableShareForPrice(amp, p float64) (xs [2]float64) {
	if !(p > 0) || math.IsInf(p, 0) {
		return [2]float64{0.5, 0.5}
	}
	lo, hi := 1e-9, 1-1e-9 // coin 1 share; the price falls as it rises
	for k := 0; k < 100 && hi-lo > 1e-13; k++ {
		mid := (lo + hi) / 2
		b := [2]float64{1 - mid, mid}
		if StablePrice(amp, b[:], 1) > p {
			lo = mid
		} else {
			hi = mid
		}
	}
	s := (lo + hi) / 2
	return [2]float64{1 - s, s}
}
