package rules

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

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
				env.fill(&st.Markets[0], nil, &c, st.Time.Unix(), true)
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

// TestDataAge checks data_age: the hours from the latest row at or before
// the plan's time to it, computed here from the rows' times, through the
// compiled rule and the explanation's value. A row after the plan's time
// does not count, and without a row the age is +Inf.
func TestDataAge(t *testing.T) {
	s := mustLoad(t, `name: age
base: ETH
universe: [lido/steth]
rules: { eligible: "true", score: "1" }
exit: { when: "data_age > 30" }
`)
	for _, tc := range []struct {
		name  string
		rows  []float64 // hours from the plan's time
		want  float64
		exits bool
	}{
		{"fresh", []float64{-48, -24, -1}, 1, false},
		{"a gap", []float64{-72, -36}, 36, true},
		{"a later row is not seen", []float64{-40, 2}, 40, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rows []row
			for _, h := range tc.rows {
				rows = append(rows, obs(h, fPrice, 1, fRate, 1))
			}
			ms := marketState(t, adapters.Builtin(), "lido/steth", rows...)
			st := newState(adapters.ETH, ms)
			want := planTime.Sub(time.Unix(ms.Series.Times[ms.Row], 0)).Hours()
			if want != tc.want {
				t.Fatalf("test data: latest row %g hours old, want %g", want, tc.want)
			}
			in := s.Inputs(st, 0, []string{"data_age"})
			if len(in) != 1 || in[0] != "data_age="+fmtAny(want) {
				t.Errorf("inputs %v, want data_age=%s", in, fmtAny(want))
			}
			exits, err := s.ExitCheck(context.Background(), st)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(exits) == 1; got != tc.exits {
				t.Errorf("data_age > 30 gave %v, want %v", exits, tc.exits)
			}
		})
	}
	var env marketEnv
	ms := marketState(t, adapters.Builtin(), "lido/steth", obs(5, fRate, 1))
	c := constsOf(ms.Profile)
	env.fill(&ms, nil, &c, planTime.Unix(), true)
	if !math.IsInf(env.DataAge, 1) {
		t.Errorf("no row at or before the plan's time: data_age %g, want +Inf", env.DataAge)
	}
}

// TestPlan_HoldingReads checks that a plan computes holding, exit_impact
// and exit_days wherever a rule reads them (a plan computes them only
// when some rule does): the score, eligible, exit and weight rules and a
// group call's argument each see the position's value, 100 here.
func TestPlan_HoldingReads(t *testing.T) {
	for _, tc := range []struct {
		name, rules string
		want        string // in the market's reason, or the target's
	}{
		{"score", `rules: { score: "holding" }`, "score 100"},
		{"eligible", `rules: { eligible: "holding < 50", score: "1" }`, "ineligible: holding 100 >= 50"},
		{"exit", "rules: { score: \"1\" }\nexit: { when: \"exit_impact > 0.1\" }", "exit from lido/steth"},
		{"weight", `rules: { score: "1", weight: "exit_days + 1" }`, "weight 6"},
		{"group", `rules: { score: "1", weight: "group_max(holding)" }`, "weight 100"},
		{"none", `rules: { score: "1" }`, "score 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustLoad(t, "name: pos\nbase: ETH\nuniverse: [lido/steth]\n"+tc.rules+"\n")
			ms := marketState(t, adapters.Builtin(), "lido/steth", obs(-1, float64(adapters.FieldExitLiquidity), 50, float64(adapters.FieldWithdrawalDays), 5, fPrice, 1, fRate, 1))
			ms.Value = fixed.RequireFromString("100")
			st := newState(adapters.ETH, ms)
			tg, err := s.Plan(context.Background(), st)
			if err != nil {
				t.Fatal(err)
			}
			if got := tg.Reason + " | " + tg.Allocations[0].Reason; !strings.Contains(got, tc.want) {
				t.Errorf("plan says %q, want %q in it", got, tc.want)
			}
			if got, want := s.readsHolding, tc.name != "none"; got != want {
				t.Errorf("readsHolding %v, want %v", got, want)
			}
		})
	}
}
