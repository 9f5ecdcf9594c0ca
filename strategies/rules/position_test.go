package rules

import (
	"context"
	"testing"

	"github.com/yieldvault/yieldvault/adapters"

	"github.com/yieldvault/yieldvault/fixed"
)

// TestPositionNames checks holding, exit_impact and exit_days against
// their definitions, computed here from the position and the observed
// exit liquidity and withdrawal delay: constant-product impact
// A / (L + A), and the queue's days only when the holding exceeds the
// instant-exit depth.
func TestPositionNames(t *testing.T) {
	const (
		fExit = float64(adapters.FieldExitLiquidity)
		fWD   = float64(adapters.FieldWithdrawalDays)
	)
	s := mustLoad(t, `name: pos
base: ETH
universe: [lido/steth]
rules: { eligible: "true", score: "1" }
exit: { when: "holding > 0" }
`)
	for _, tc := range []struct {
		name         string
		value        string
		liq, days    float64
		wantHolding  float64
		wantImpact   float64
		wantExitDays float64
	}{
		{"not held", "0", 500, 5, 0, 0, 0},
		{"fits the depth", "100", 500, 5, 100, 100.0 / 600, 0},
		{"exactly the depth", "500", 500, 5, 500, 0.5, 0},
		{"above the depth", "800", 500, 5, 800, 800.0 / 1300, 5},
		{"no depth", "10", 0, 7, 10, 1, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ms := marketState(t, adapters.Builtin(), "lido/steth", obs(-1, fExit, tc.liq, fWD, tc.days, fPrice, 1, fRate, 1))
			ms.Value = fixed.RequireFromString(tc.value)
			st := newState(adapters.ETH, ms)
			got := map[string]float64{}
			for _, in := range []string{"holding", "exit_impact", "exit_days"} {
				var env marketEnv
				c := constsOf(ms.Profile)
				env.fill(&st.Markets[0], nil, &c)
				v, _ := env.value(in)
				got[in] = v.(float64)
			}
			near := func(a, b float64) bool { d := a - b; return d < 1e-12 && d > -1e-12 }
			if !near(got["holding"], tc.wantHolding) || !near(got["exit_impact"], tc.wantImpact) || got["exit_days"] != tc.wantExitDays {
				t.Errorf("holding %g, exit_impact %g, exit_days %g; want %g, %g, %g", got["holding"], got["exit_impact"], got["exit_days"],
					tc.wantHolding, tc.wantImpact, tc.wantExitDays)
			}
			// The compiled rule reads the same value.
			exits, err := s.ExitCheck(context.Background(), st)
			if err != nil {
				t.Fatal(err)
			}
			if held := len(exits) == 1; held != (tc.wantHolding > 0) {
				t.Errorf("exit rule holding > 0 gave %v, want held %v", exits, tc.wantHolding > 0)
			}
		})
	}
}
