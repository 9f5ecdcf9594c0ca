package strategies

import (
	"math"
	"testing"

	"github.com/yieldvault/yieldvault/adapters"
)

// TestProject_Subnormal: desired weights, or ratios of desired weights,
// below the smallest normal float64 count as zero, and no projected
// weight is +Inf, NaN or subnormal. The first case is FuzzProject's find
// (testdata/fuzz/FuzzProject/96b77d10011909fc): a rate of 8.5e-314 made
// a cap divided by it +Inf, and the weight +Inf, the idle NaN.
func TestProject_Subnormal(t *testing.T) {
	ids := []string{"lido/steth", "rocketpool/reth", "etherfi/weeth", "renzo/ezeth", "aave-v3/weth", "curve/steth-eth"}
	st := testState(t, ids, []float64{1e6, 0, 5e7, 1e9, 2e8, 0})
	fuzzCons := Constraints{Idle: 1.398043286095289e-76, MinWeight: 1.398043286095289e-76,
		MaxKind: map[adapters.Kind]float64{adapters.LRT: 1.398043286095289e-76}, MaxTag: map[string]float64{"protocol:lido": 0}}
	tests := []struct {
		name     string
		c        Constraints
		desired  []float64
		zero     []int // markets that must get weight 0
		positive []int // markets that must get a weight > 0
	}{
		{"fuzz find", fuzzCons, []float64{1.060912188235294e+06, 9.005004792076203e-308, 1.398043286095289e-76, 0, 0, 0}, []int{0, 1}, nil},
		{"subnormal ratio", Constraints{}, []float64{1e6, 1e-305, 0, 0, 1, 0}, []int{1}, []int{0, 4}},
		{"subnormal weight", Constraints{}, []float64{0, 5e-324, 0, 0, 0, 0}, []int{1}, nil},
		{"smallest normal ratio kept", Constraints{}, []float64{1, minNormal, 0, 0, 0, 0}, nil, []int{0, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.c.Project(st, tc.desired)
			if err != nil {
				t.Fatal(err)
			}
			for i, w := range got.Weights {
				if math.IsNaN(w) || math.IsInf(w, 0) || subnormal(w) || w < 0 {
					t.Errorf("%s: weight %g is not zero or a normal number >= 0", ids[i], w)
				}
			}
			if math.IsNaN(got.Idle) || math.IsInf(got.Idle, 0) {
				t.Errorf("idle %g", got.Idle)
			}
			for _, i := range tc.zero {
				if got.Weights[i] != 0 {
					t.Errorf("%s: weight %g, want 0", ids[i], got.Weights[i])
				}
			}
			for _, i := range tc.positive {
				if !(got.Weights[i] > 0) {
					t.Errorf("%s: weight %g, want > 0", ids[i], got.Weights[i])
				}
			}
			tg := got.Target(nil)
			if err := tc.c.Check(st, &tg, 1e-12); err != nil {
				t.Error(err)
			}
		})
	}
}
