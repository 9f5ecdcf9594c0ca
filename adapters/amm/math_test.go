package amm_test

import (
	"math"
	"math/big"
	"testing"

	"github.com/yieldvault/yieldvault/adapters/amm"
)

func close(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

func TestILConstantProduct(t *testing.T) {
	tests := []struct{ r, want float64 }{
		{1, 0},
		{4, -0.2},    // 2*2/5 - 1
		{0.25, -0.2}, // symmetric in r and 1/r
		{2, -0.05719095841793653},
		{1.5, -0.020204102886728803},
		{0, -1},
		{math.Inf(1), -1},
	}
	for _, tt := range tests {
		if got := amm.ILConstantProduct(tt.r); !close(got, tt.want, 1e-15) {
			t.Errorf("ILConstantProduct(%g) = %.17g, want %.17g", tt.r, got, tt.want)
		}
	}
}

// weightedIL simulates a weighted pool independently: arbitrageurs move the
// balances along B0^w0 * B1^w1 = k until the spot price (B0/w0)/(B1/w1) is
// r times the old one; the LP's value is compared with holding B0, B1.
func weightedIL(r, w0 float64) float64 {
	w1 := 1 - w0
	b0, b1 := 1000*w0, 1000*w1 // spot price 1
	k := math.Pow(b0, w0) * math.Pow(b1, w1)
	// New balances: b0'/b1' = r * w0/w1, on the invariant. Solve for b1' by bisection.
	lo, hi := 1e-9, 1e9
	for i := 0; i < 200; i++ {
		mid := math.Sqrt(lo * hi)
		nb0 := r * w0 / w1 * mid
		if math.Pow(nb0, w0)*math.Pow(mid, w1) > k {
			hi = mid
		} else {
			lo = mid
		}
	}
	nb1 := lo
	nb0 := r * w0 / w1 * nb1
	return (nb0+nb1*r)/(b0+b1*r) - 1
}

func TestILWeighted(t *testing.T) {
	for _, w0 := range []float64{0.5, 0.8, 0.2, 0.6} {
		for _, r := range []float64{0.3, 0.9, 1, 1.1, 2, 4, 10} {
			want := weightedIL(r, w0)
			if got := amm.ILWeighted(r, w0); !close(got, want, 1e-9) {
				t.Errorf("ILWeighted(%g, %g) = %.12g, want %.12g (simulated pool)", r, w0, got, want)
			}
		}
		if got := amm.ILWeighted(4, 0.5); !close(got, amm.ILConstantProduct(4), 1e-15) {
			t.Errorf("ILWeighted(4, 0.5) = %g, want ILConstantProduct(4)", got)
		}
	}
}

func TestRange_Value(t *testing.T) {
	g := amm.Range{Lower: 0.8, Upper: 1.25}
	sa, sb := math.Sqrt(0.8), math.Sqrt(1.25)
	// Uniswap v3 token amounts of unit liquidity (whitepaper eq. 6.29/6.30),
	// with coin 1's price in coin 0 as P: coin 1 = 1/sqrt(P) - 1/sqrt(pb),
	// coin 0 = sqrt(P) - sqrt(pa), clamped to the range.
	amounts := func(p float64) (c0, c1 float64) {
		sp := math.Min(math.Max(math.Sqrt(p), sa), sb)
		return sp - sa, 1/sp - 1/sb
	}
	for _, r := range []float64{0.5, 0.8, 0.9, 1, 1.1, 1.25, 2} {
		c0, c1 := amounts(r)
		if got, want := g.Value(r), c0+c1*r; !close(got, want, 1e-14) {
			t.Errorf("Value(%g) = %.15g, want amounts valued = %.15g", r, got, want)
		}
		if got, want := g.Coin1Share(r), c1*r/(c0+c1*r); !close(got, want, 1e-14) {
			t.Errorf("Coin1Share(%g) = %.15g, want %.15g", r, got, want)
		}
	}
	full := amm.Range{}
	if got, want := full.Value(2.25), 3.0; !close(got, want, 1e-15) {
		t.Errorf("full range Value(2.25) = %g, want 2*sqrt(2.25) = %g", got, want)
	}
	if got := full.IL(4); !close(got, -0.2, 1e-15) {
		t.Errorf("full range IL(4) = %g, want the constant-product -0.2", got)
	}
}

func TestRange_IL(t *testing.T) {
	g := amm.Range{Lower: 0.8, Upper: 1.25}
	tests := []struct {
		r, want float64
	}{
		{1, 0},
		{1.25, -0.05865156055560272}, // at the top of the range: all coin 0
		{0.8, -0.05865156055560272},  // the bounds are equally far in log price
		{4, -0.5763932022500211},     // above the range: all coin 0, while holding gains on coin 1
	}
	for _, tt := range tests {
		if got := g.IL(tt.r); !close(got, tt.want, 1e-12) {
			t.Errorf("IL(%g) = %.15g, want %.15g", tt.r, got, tt.want)
		}
	}
	// Small moves lose about Concentration times the full-range loss.
	r := 1.001
	if got, want := g.IL(r)/amm.ILConstantProduct(r), g.Concentration(); !close(got, want, 1e-3) {
		t.Errorf("IL ratio to full range at %g = %g, want about the concentration %g", r, got, want)
	}
	if got, want := g.Concentration(), 9.472135954999573; !close(got, want, 1e-14) {
		t.Errorf("Concentration() = %.15g, want %.15g", got, want)
	}
	if got := (amm.Range{}).Concentration(); got != 1 {
		t.Errorf("full range Concentration() = %g, want 1", got)
	}
	if !g.In(1.25) || !g.In(0.8) || g.In(1.26) || g.In(0.79) {
		t.Errorf("In() bounds wrong for %+v", g)
	}
}

// curveD is Curve's get_D in integer arithmetic (StableSwap3Pool.vy),
// with balances at 18 decimals: an independent implementation to check
// StableD against.
func curveD(xs []float64, amp int64) float64 {
	n := big.NewInt(int64(len(xs)))
	one := new(big.Float).SetFloat64(1e18)
	xp := make([]*big.Int, len(xs))
	s := new(big.Int)
	for i, x := range xs {
		xp[i], _ = new(big.Float).Mul(big.NewFloat(x), one).Int(nil)
		s.Add(s, xp[i])
	}
	ann := new(big.Int).Mul(big.NewInt(amp), n)
	d := new(big.Int).Set(s)
	for i := 0; i < 255; i++ {
		dp := new(big.Int).Set(d)
		for _, x := range xp {
			dp.Mul(dp, d)
			dp.Quo(dp, new(big.Int).Mul(x, n))
		}
		prev := new(big.Int).Set(d)
		num := new(big.Int).Mul(ann, s)
		num.Add(num, new(big.Int).Mul(dp, n))
		num.Mul(num, d)
		den := new(big.Int).Mul(new(big.Int).Sub(ann, big.NewInt(1)), d)
		den.Add(den, new(big.Int).Mul(new(big.Int).Add(n, big.NewInt(1)), dp))
		d.Quo(num, den)
		if new(big.Int).Abs(new(big.Int).Sub(d, prev)).Cmp(big.NewInt(1)) <= 0 {
			break
		}
	}
	f, _ := new(big.Float).Quo(new(big.Float).SetInt(d), one).Float64()
	return f
}

func TestStableD(t *testing.T) {
	tests := []struct {
		name string
		amp  float64
		xs   []float64
		want float64 // from a 50-digit evaluation of the same invariant
	}{
		{"balanced", 50, []float64{1, 1}, 2},
		{"balanced 3pool", 2000, []float64{1, 1, 1}, 3},
		{"80% stETH", 50, []float64{0.2, 0.8}, 0.99457371648758619},
		{"Curve stETH 2022-07-29", 50, []float64{225886.985932, 591886.730514}, 815780.03564831881},
		{"3 coins tilted", 100, []float64{0.5, 0.3, 0.2}, 0.99922822384340480},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := amm.StableD(tt.amp, tt.xs)
			if !close(got, tt.want, 1e-13) {
				t.Errorf("StableD = %.17g, want %.17g", got, tt.want)
			}
			if c := curveD(tt.xs, int64(tt.amp)); !close(got, c, 1e-12) {
				t.Errorf("StableD = %.17g, Curve's integer get_D gives %.17g", got, c)
			}
		})
	}
	// Limits: large A is constant sum, A = 1 is far from it; zero balance gives 0.
	if got := amm.StableD(1e9, []float64{0.2, 0.8}); !close(got, 1, 1e-8) {
		t.Errorf("StableD(A=1e9) = %g, want the sum 1", got)
	}
	if got := amm.StableD(50, []float64{0, 1}); got != 0 {
		t.Errorf("StableD with an empty coin = %g, want 0", got)
	}
	// D lies between the constant-product and constant-sum values.
	cp := 2 * math.Sqrt(0.2*0.8)
	if got := amm.StableD(1, []float64{0.2, 0.8}); !(got > cp && got < 1) {
		t.Errorf("StableD(A=1) = %g, want within (%g, 1)", got, cp)
	}
}

// numericGradient is dD/dx_i by central differences of StableD.
func numericGradient(amp float64, xs []float64, i int) float64 {
	h := 1e-6 * xs[i]
	up := append([]float64(nil), xs...)
	dn := append([]float64(nil), xs...)
	up[i] += h
	dn[i] -= h
	return (amm.StableD(amp, up) - amm.StableD(amp, dn)) / (2 * h)
}

func TestStableValueRatio(t *testing.T) {
	tests := []struct {
		name          string
		amp           float64
		xs            []float64
		wantVR, wantP float64 // 50-digit evaluation
	}{
		{"balanced", 50, []float64{3, 3}, 1, 1},
		{"80% stETH", 50, []float64{0.2, 0.8}, 0.96239768088260645, 0.94646929776805985},
		{"Curve stETH 2022-07-29", 50, []float64{225886.985932, 591886.730514}, 0.98314847059147110, 0.97340568516271656},
		{"3 coins, coin 0 abundant", 100, []float64{0.5, 0.3, 0.2}, 1.0048446643860130, 1.0054255323106106},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := amm.StableValueRatio(tt.amp, tt.xs); !close(got, tt.wantVR, 1e-13) {
				t.Errorf("StableValueRatio = %.17g, want %.17g", got, tt.wantVR)
			}
			if got := amm.StablePrice(tt.amp, tt.xs, 1); !close(got, tt.wantP, 1e-13) {
				t.Errorf("StablePrice(1) = %.17g, want %.17g", got, tt.wantP)
			}
			// The analytic gradient agrees with finite differences, and
			// V/D = sum(x_i p_i) / D (Euler).
			v := 0.0
			g0 := numericGradient(tt.amp, tt.xs, 0)
			for i := range tt.xs {
				g := numericGradient(tt.amp, tt.xs, i)
				if a := amm.StableGradient(tt.amp, tt.xs, i); !close(a, g, 1e-6) {
					t.Errorf("StableGradient(%d) = %.12g, finite differences %.12g", i, a, g)
				}
				v += tt.xs[i] * g / g0
			}
			if got, want := amm.StableValueRatio(tt.amp, tt.xs), v/amm.StableD(tt.amp, tt.xs); !close(got, want, 1e-6) {
				t.Errorf("StableValueRatio = %.12g, sum(x p)/D = %.12g", got, want)
			}
		})
	}
}

func TestStableY(t *testing.T) {
	xs := []float64{225886.985932, 591886.730514}
	d := amm.StableD(50, xs)
	if got := amm.StableY(50, xs, 0, d); !close(got, xs[0], 1e-12) {
		t.Errorf("StableY at the pool's own D = %.15g, want balance0 %.15g", got, xs[0])
	}
	y := amm.StableY(50, xs, 0, d*0.99)
	if got := amm.StableD(50, []float64{y, xs[1]}); !close(got, d*0.99, 1e-12) {
		t.Errorf("D after StableY = %.15g, want %.15g", got, d*0.99)
	}
}

func TestStableAddRemove(t *testing.T) {
	xs := []float64{225886.985932, 591886.730514}
	const amp, fee = 50, 0.0004
	vr := amm.StableValueRatio(amp, xs)
	for _, amount := range []float64{1, 1000, 50000} {
		dD := amm.StableAddOne(amp, fee, xs, amount)
		// Adding the scarce coin mints more D than it adds, but at marginal
		// prices it is worth at most the amount (D is concave).
		if !(dD > amount) {
			t.Errorf("StableAddOne(%g) = %g D, want > amount (ETH is the scarce coin)", amount, dD)
		}
		if v := dD * vr; !(v <= amount) {
			t.Errorf("StableAddOne(%g) worth %g at marginal prices, want <= amount", amount, v)
		}
		// Removing what was added pays back less than the amount.
		out := amm.StableRemoveOne(amp, fee, xs, amount/vr)
		if !(out > 0 && out <= amount) {
			t.Errorf("StableRemoveOne(value %g) pays %g, want within (0, %g]", amount, out, amount)
		}
	}
	// Slippage grows faster than linearly with size.
	small := 1000 - amm.StableRemoveOne(amp, fee, xs, 1000/vr)
	large := 100000 - amm.StableRemoveOne(amp, fee, xs, 100000/vr)
	if !(large/100000 > small/1000) {
		t.Errorf("slippage share: %g on 100000, %g on 1000; want larger for larger exits", large/100000, small/1000)
	}
	// The pool cannot pay more D than it has.
	if got := amm.StableRemoveOne(amp, fee, xs, amm.StableD(amp, xs)); got >= 0 {
		t.Errorf("StableRemoveOne(all of D) = %g, want < 0", got)
	}
	// Without a fee, a balanced pool's small add is nearly free.
	bal := []float64{1e6, 1e6}
	if dD := amm.StableAddOne(amp, 0, bal, 1); !close(dD, 1, 1e-6) {
		t.Errorf("StableAddOne(1) into a balanced pool = %g, want about 1", dD)
	}
}

func TestStableShareForPrice(t *testing.T) {
	for _, p := range []float64{0.9306, 0.95, 0.99, 1, 1.02} {
		xs := amm.StableShareForPrice(50, p)
		if got := amm.StablePrice(50, xs[:], 1); !close(got, p, 1e-9) {
			t.Errorf("StableShareForPrice(%g) gives a pool priced at %.12g", p, got)
		}
	}
	xs := amm.StableShareForPrice(50, 0.94646929776805985)
	if !close(xs[1], 0.8, 1e-9) {
		t.Errorf("share at the 80%% price = %g, want 0.8", xs[1])
	}
}
