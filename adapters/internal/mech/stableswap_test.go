package mech_test

import (
	"math"
	"testing"

	"github.com/yieldvault/yieldvault/adapters/amm"
	"github.com/yieldvault/yieldvault/adapters/internal/mech"
)

// TestStableSwapOut checks the staking venue's swap against the invariant
// it is built on (amm.StableD, amm.StableY, which amm's own tests check
// against Curve's limits and derivatives): the output of
// dx into a pool is the drop of the other balance that keeps D, less the
// fee. The figures: 1000 stETH into a 60k/60k A = 50 pool costs
// about 0.07% with the 0.04% fee (the constant-product depth model said
// 1.64%), 10k about 0.37% (14.3%).
func TestStableSwapOut(t *testing.T) {
	tests := []struct {
		amp, fee, xIn, xOut, dx float64
		maxCost                 float64
	}{
		{50, 0.0004, 60000, 60000, 1000, 0.0008},
		{50, 0.0004, 60000, 60000, 10000, 0.0045},
		{50, 0, 591886, 225886, 5000, 1}, // the July 2022 snapshot: 72% stETH
		{2000, 0.0001, 1e8, 1e8, 1e6, 0.0002},
	}
	for _, tt := range tests {
		got := mech.StableSwapOut(tt.amp, tt.fee, tt.xIn, tt.xOut, tt.dx)
		xs := []float64{tt.xOut, tt.xIn}
		d := amm.StableD(tt.amp, xs)
		y := amm.StableY(tt.amp, []float64{tt.xOut, tt.xIn + tt.dx}, 0, d)
		want := (tt.xOut - y) * (1 - tt.fee)
		if math.Abs(got-want) > 1e-9*want {
			t.Errorf("StableSwapOut(%g, %g, %g, %g, %g) = %.12g, amm's invariant gives %.12g", tt.amp, tt.fee, tt.xIn, tt.xOut, tt.dx, got, want)
		}
		if cost := 1 - got/tt.dx; cost > tt.maxCost || cost < 0 && tt.xIn <= tt.xOut {
			t.Errorf("swap of %g into %g/%g at A = %g costs %.4f%%, want at most %.4f%%", tt.dx, tt.xIn, tt.xOut, tt.amp, 100*cost, 100*tt.maxCost)
		}
	}
	if got := mech.StableSwapOut(50, 0, 0, 100, 1); got != 0 {
		t.Errorf("an empty pool prices a swap at %g", got)
	}
}
