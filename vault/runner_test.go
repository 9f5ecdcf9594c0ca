package vault

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
)

// schedStrategy targets f/a at 0.9, exits it once exit is set, and
// rebalances only when drift > 0.05. briefs records each plan's
// State.Brief.
type schedStrategy struct {
	exit   bool
	sched  strategies.Schedule
	briefs []bool
}

func (s *schedStrategy) Name() string { return "sched" }
func (s *schedStrategy) Plan(_ context.Context, st *strategies.State) (strategies.Target, error) {
	s.briefs = append(s.briefs, st.Brief)
	if s.exit {
		return strategies.Target{Allocations: []strategies.Allocation{{Market: "f/a"}}, Idle: 1, Exit: []string{"f/a"}}, nil
	}
	return strategies.Target{Allocations: []strategies.Allocation{{Market: "f/a", Weight: 0.9}}, Idle: 0.1}, nil
}
func (s *schedStrategy) RebalanceSchedule() strategies.Schedule { return s.sched }
func (s *schedStrategy) HarvestSchedule() strategies.Schedule   { return strategies.Schedule{} }
func (s *schedStrategy) ShouldRebalance(v strategies.VaultVars) (bool, string, error) {
	return v.Drift > 0.05, "drift > 0.05", nil
}
func (s *schedStrategy) ShouldHarvest(strategies.VaultVars) (bool, string, error) {
	return false, "never", nil
}

func TestRunner_Step(t *testing.T) {
	sched := must(strategies.ParseSchedule("0 */6 * * *"))(t)
	st := &schedStrategy{sched: strategies.Schedule{Spec: "0 */6 * * *", Sched: sched}}
	v := newTestVault(t, plainConfig(), map[string]*fake{"f/a": {apy: 0.05}})
	must(v.Deposit(t0, "u", d("100")))(t)
	r := &Runner{Vault: v, Strategy: st, Keeper: KeeperFor(st, nil, nil, t0)}

	// 13 hours: ticks at 06:00 and 12:00, acted on once at 12:00.
	rep := must(r.Step(t.Context(), t0.Add(13*time.Hour)))(t)
	if len(rep.Decisions) != 1 || len(rep.Results) != 1 || !rep.Decisions[0].Tick.Equal(t0.Add(12*time.Hour)) {
		t.Fatalf("first step: %d decisions, %d results, want one executed at the 12:00 tick: %+v", len(rep.Decisions), len(rep.Results), rep)
	}
	if len(rep.Notes) != 1 {
		t.Errorf("notes %v, want the 06:00 tick coalesced", rep.Notes)
	}
	if w := v.Weights()["f/a"]; w < 0.89 || w > 0.91 {
		t.Errorf("weight after the rebalance = %g, want 0.9", w)
	}
	// At the next tick drift is tiny: decided, not executed.
	rep = must(r.Step(t.Context(), t0.Add(18*time.Hour)))(t)
	if len(rep.Decisions) != 1 || len(rep.Results) != 0 || len(rep.Decisions[0].Orders) != 0 {
		t.Fatalf("second step: %+v, want one decision with no orders and no execution", rep)
	}
	// Between ticks, the exit rule fires: unwound at once.
	st.exit = true
	rep = must(r.Step(t.Context(), t0.Add(19*time.Hour)))(t)
	if len(rep.Results) != 1 || rep.Decisions[0].Trigger != TriggerExit {
		t.Fatalf("exit step: %+v, want one exit decision executed", rep)
	}
	if p, _ := v.Position("f/a"); p.Units.Sign() != 0 {
		t.Errorf("position after the exit = %s units, want 0", p.Units)
	}
	if err := Reconcile(v); err != nil {
		t.Error(err)
	}
	// Step's report keeps no target: its plans were brief. A rebalance
	// asked for directly reports its target: it plans in full.
	if len(st.briefs) == 0 || slices.Contains(st.briefs, false) {
		t.Errorf("Step's plans were brief %v, want all brief", st.briefs)
	}
	must(r.Rebalance(t.Context(), t0.Add(19*time.Hour), time.Time{}, TriggerManual))(t)
	if st.briefs[len(st.briefs)-1] {
		t.Error("Rebalance planned brief, want in full")
	}
}

// TestRunner_State: the State a Runner reuses is, at every plan, the one
// StrategyState builds afresh: after observations and trades, and for another vault put in the Runner (whose markets it then holds).
func TestRunner_State(t *testing.T) {
	v := newTestVault(t, plainConfig(), map[string]*fake{"f/a": {apy: 0.05}, "f/b": {apy: 0.03}})
	must(v.Deposit(t0, "u", d("100")))(t)
	r := &Runner{Vault: v, Strategy: &schedStrategy{}}
	check := func(what string) {
		t.Helper()
		got, want := r.State(), r.Vault.StrategyState()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Runner.State\n%+v\nwant StrategyState\n%+v", what, got, want)
		}
	}
	check("no observation")
	obs := adapters.Observation{Time: t0}
	obs.Set = obs.Set.With(adapters.FieldAPY)
	obs.Values[adapters.FieldAPY] = 0.04
	if err := v.Observe("f/a", obs); err != nil {
		t.Fatal(err)
	}
	check("f/a observed")
	if _, _, err := v.Rebalance(t0, time.Time{}, TriggerManual, target(map[string]float64{"f/a": 0.5, "f/b": 0.3})); err != nil {
		t.Fatal(err)
	}
	check("after trades")
	w := newTestVault(t, plainConfig(), map[string]*fake{"f/c": {apy: 0.02}, "f/d": {apy: 0.01}})
	r.Vault = w
	check("another vault")
	r.Vault = v
	check("the first vault again")
}
