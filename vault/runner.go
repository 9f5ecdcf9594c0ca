package vault

import (
	"context"
	"fmt"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
)

// StrategyState builds the State a strategy plans on from the vault: the
// time, NAV (GrossAssets), idle, gas, and per market its profile, latest
// observation (Row 0 when the vault has one, -1 otherwise), value, weight,
// pending rewards and pause flag. Series is nil: callers with history set
// Series and Row (Runner.Prepare) so that look-back windows see it.
func (v *Vault) StrategyState() *strategies.State {
	st := new(strategies.State)
	v.fillState(st, false)
	return st
}

// fillState is StrategyState into st, reusing its Markets. same says that
// st is one fillState filled for this vault before (which no strategy
// modifies): its markets keep their Market and Profile, which do not
// change under a vault, and only the rest of each is written again (the
// Market's copy was most of the cost of a plan's State).
func (v *Vault) fillState(st *strategies.State, same bool) {
	nav := v.grossN()
	navF := nav.ToFloat()
	ms := st.Markets
	if len(ms) != len(v.markets) {
		same = false
		if cap(ms) < len(v.markets) {
			ms = make([]strategies.MarketState, len(v.markets))
		}
		ms = ms[:len(v.markets)]
	}
	*st = strategies.State{
		Time: v.now, Base: v.cfg.Base, NAV: nav, Idle: v.idle,
		GasPrice: v.gasPrice, GasAssetPrice: v.gasAssetPrice,
		Markets: ms,
	}
	for i, s := range v.markets {
		ms := &st.Markets[i]
		if !same {
			ms.Market, ms.Profile = s.ad.Market(), s.ad.Profile()
		}
		ms.Series, ms.Row, ms.Value, ms.Weight, ms.Loop = nil, -1, num{}, 0, nil
		ms.PendingRewards, ms.Paused = s.pos.Rewards, s.pos.Paused
		if e := s.env(); !e.Obs.Time.IsZero() || e.Obs.Set != 0 {
			// Two statements: a tuple assignment copies the observation
			// (216 bytes) to a temporary first, then again.
			ms.Row = 0
			ms.Obs = e.Obs
		} else {
			ms.Obs = adapters.Observation{}
		}
		if s.pos.Units.Sign() != 0 {
			ms.Value = v.fill(s).units
			if navF > 0 {
				ms.Weight = v.weight(s, navF)
			}
		}
		if l := s.ad.Leverer(); l != nil && ms.Row >= 0 {
			f := l.Figures(&s.pos, s.env(), s.pos.Leverage)
			ms.Loop = &f
		}
		if st.BaseUSD == 0 {
			st.BaseUSD = s.env().Obs.Value(adapters.FieldBaseUSD, 0)
		}
	}
}

// Runner drives one vault with one strategy: the per-task operations
// (Harvest, Rebalance, ExitCheck) that the backtest engine, the service
// and the CLI's plan share, and Step, the keeper's loop body built from
// them. The task methods are pure vault operations: no I/O, no clock.
type Runner struct {
	Vault    *Vault
	Strategy strategies.Strategy
	// Keeper says which tasks are due; only Step reads it.
	Keeper *Keeper
	// Prepare, when set, completes the strategy's State before each plan
	// (history series and rows for windows, parameters): PrepareState
	// from a Window, or the backtest engine's row pointers.
	Prepare func(st *strategies.State)
	// Execute, when set, carries out a decision in place of
	// Vault.Execute (the service's executor). It must leave the vault
	// as Vault.Execute would with the fills it obtained.
	Execute func(ctx context.Context, now time.Time, d Decision) (Result, error)
	// PlanExits makes ExitCheck plan in full even when the strategy is a
	// strategies.Exiter (the reference the cheap path is tested against).
	PlanExits bool

	state runnerState // reused by State
}

// runnerState is the State a Runner plans on, reused from plan to plan,
// and the vault it was last filled for: filled again for the same vault
// it keeps its markets' Market and Profile (Vault.fillState).
type runnerState struct {
	st strategies.State
	of *Vault
	// target is the Target brief plans are made in (strategies.PlanInto),
	// reused: a brief plan's caller keeps no Target.
	target strategies.Target
}

// Skip says why a task did nothing.
type Skip string

// Reasons a task did nothing.
const (
	// SkipCondition: the strategy's harvest or rebalance condition is
	// false (TaskReport.Why says why). A rebalance so skipped still
	// reports its Decision, with no orders and the reason.
	SkipCondition Skip = "condition"
	// SkipNothingHeld: an exit check on a vault that holds no position.
	SkipNothingHeld Skip = "nothing_held"
	// SkipNoExit: the exit rule lists no market the vault holds.
	SkipNoExit Skip = "no_exit"
)

// TaskReport is what one task did: the action taken, or why none was.
type TaskReport struct {
	Kind TaskKind  `json:"kind"`
	Tick time.Time `json:"tick"`
	// Skip is empty when the task acted.
	Skip Skip `json:"skip,omitempty"`
	// Why is the strategy condition's explanation (empty when no
	// condition was evaluated).
	Why string `json:"why,omitempty"`
	// Vars are the variables the condition read: the vault's before a
	// harvest, the decision's for a scheduled rebalance.
	Vars strategies.VaultVars `json:"vars"`
	// Target is the plan (rebalance; an exit check that fired).
	Target *strategies.Target `json:"target,omitempty"`
	// Decision is the rebalance's decision (also when its condition said
	// no), Result its execution.
	Decision *Decision `json:"decision,omitempty"`
	Result   *Result   `json:"result,omitempty"`
	// Harvest is the harvest's result.
	Harvest *HarvestResult `json:"harvest,omitempty"`
}

// The task methods expect the vault at now (its market data observed and
// accrued, as Step and FeedWindow followed by Claim leave it).

// Harvest harvests when the strategy's harvest condition holds on the
// vault's variables (strategies.Scheduled.ShouldHarvest; without one,
// when pending rewards exceed the harvest cost), or unconditionally with
// force (a manual harvest).
func (r *Runner) Harvest(ctx context.Context, now, tick time.Time, force bool) (TaskReport, error) {
	v := r.Vault
	reads := strategies.AllVars
	sc, isSc := r.Strategy.(strategies.Scheduled)
	if cr, ok := r.Strategy.(strategies.ConditionReads); ok && isSc && !force {
		reads = cr.HarvestReads()
	}
	rep := TaskReport{Kind: TaskHarvest, Tick: tick, Vars: v.varsFor(reads)}
	if !force {
		vars := rep.Vars
		var ok bool
		var why string
		if isSc {
			var err error
			if ok, why, err = sc.ShouldHarvest(vars); err != nil {
				return rep, err
			}
		} else {
			ok, why = vars.PendingRewards > vars.HarvestCost, fmt.Sprintf("pending rewards %.6g vs harvest cost %.6g", vars.PendingRewards, vars.HarvestCost)
		}
		rep.Why = why
		if !ok {
			rep.Skip = SkipCondition
			return rep, nil
		}
	}
	h, err := v.Harvest(now, tick)
	if err != nil {
		return rep, err
	}
	rep.Harvest = &h
	return rep, nil
}

// Rebalance plans, decides and executes. A TriggerSchedule rebalance is
// executed only when the strategy's rebalance condition holds on the
// decision's drift, gain and cost (always without a Scheduled strategy);
// other triggers (manual, exit) are not conditional.
func (r *Runner) Rebalance(ctx context.Context, now, tick time.Time, trigger Trigger) (TaskReport, error) {
	return r.rebalance(ctx, now, tick, trigger, false)
}

// rebalance is Rebalance, planning brief (strategies.State.Brief) when
// the caller keeps no Target (Step).
func (r *Runner) rebalance(ctx context.Context, now, tick time.Time, trigger Trigger, brief bool) (TaskReport, error) {
	rep := TaskReport{Kind: TaskRebalance, Tick: tick}
	st := r.State()
	st.Brief = brief
	target, err := r.plan(ctx, st)
	if err != nil {
		return rep, err
	}
	return r.decide(ctx, rep, now, trigger, target)
}

// ExitCheck unwinds the markets the strategy's exit rule lists, when the
// vault holds any of them, with TriggerExit. A strategy that says it has
// no exit rule (HasExitRule() false) is not consulted (unless PlanExits). A strategies.Exiter has its
// exit rule evaluated alone first, and is planned in full only when the
// rule lists a held market (unless PlanExits); any other strategy is
// planned and its Target.Exit read.
func (r *Runner) ExitCheck(ctx context.Context, now, tick time.Time) (TaskReport, error) {
	return r.exitCheck(ctx, now, tick, false)
}

// exitCheck is ExitCheck, planning brief when the caller keeps no Target
// (Step).
func (r *Runner) exitCheck(ctx context.Context, now, tick time.Time, brief bool) (TaskReport, error) {
	v := r.Vault
	rep := TaskReport{Kind: TaskExitCheck, Tick: tick}
	if !v.holdsAny() {
		rep.Skip = SkipNothingHeld
		return rep, nil
	}
	if x, ok := r.Strategy.(strategies.ExitRuler); ok && !x.HasExitRule() && !r.PlanExits {
		rep.Skip = SkipNoExit // no rule to list a market: nothing to plan
		return rep, nil
	}
	st := r.State()
	st.Brief = brief
	if x, ok := r.Strategy.(strategies.Exiter); ok && !r.PlanExits {
		exits, err := x.ExitCheck(ctx, st)
		if err != nil {
			return rep, err
		}
		if !v.holdsAnyOf(exits) {
			rep.Skip = SkipNoExit
			return rep, nil
		}
	}
	target, err := r.plan(ctx, st)
	if err != nil {
		return rep, err
	}
	if !v.holdsAnyOf(target.Exit) {
		rep.Skip = SkipNoExit
		return rep, nil
	}
	return r.decide(ctx, rep, now, TriggerExit, target)
}

// plan plans on st. A brief plan (Step's, whose report keeps no Target)
// is made into the Runner's reused Target (strategies.PlanInto), valid
// until the next plan: the pointer returned is the Runner's, which the
// task's report then names without a copy of its own.
func (r *Runner) plan(ctx context.Context, st *strategies.State) (*strategies.Target, error) {
	if !st.Brief {
		t, err := r.Strategy.Plan(ctx, st)
		return &t, err
	}
	err := strategies.PlanInto(ctx, r.Strategy, st, &r.state.target)
	return &r.state.target, err
}

// decide turns a target into a decision, consults the rebalance condition
// for a scheduled one, and executes.
func (r *Runner) decide(ctx context.Context, rep TaskReport, now time.Time, trigger Trigger, tp *strategies.Target) (TaskReport, error) {
	v := r.Vault
	rep.Target = tp
	target := *tp
	sc, scheduled := r.Strategy.(strategies.Scheduled)
	scheduled = scheduled && trigger == TriggerSchedule
	reads := strategies.AllVars
	held, heldWhy := false, "" // the preview found the condition true (Decide's drift is the same)
	var pre *Decision          // that preview, which Decide completes
	if cr, ok := r.Strategy.(strategies.ConditionReads); ok && scheduled {
		reads = cr.RebalanceReads()
		// A condition that reads neither gain_apy nor cost_apy is decided
		// on the inputs and drift alone: the quotes and orders are planned
		// only when it holds (most scheduled ticks of a drift condition
		// do nothing).
		if reads&(strategies.VarGainAPY|strategies.VarCostAPY) == 0 {
			d, err := v.Preview(now, rep.Tick, trigger, target)
			if err != nil {
				return rep, err
			}
			vars := d.varsFor(v, reads)
			ok, why, err := sc.ShouldRebalance(vars)
			if err != nil {
				return rep, err
			}
			if !ok {
				rep.Vars = vars
				return skipRebalance(rep, d, why), nil
			}
			held, heldWhy, pre = true, why, &d
		}
	}
	var d Decision
	var err error
	if pre != nil {
		d, err = v.decideFrom(now, *pre, target)
	} else {
		d, err = v.Decide(now, rep.Tick, trigger, target)
	}
	if err != nil {
		return rep, err
	}
	if scheduled {
		rep.Vars = d.varsFor(v, reads)
		ok, why := true, heldWhy
		if !held {
			if ok, why, err = sc.ShouldRebalance(rep.Vars); err != nil {
				return rep, err
			}
		}
		if !ok {
			return skipRebalance(rep, d, why), nil
		}
		rep.Why = why
		if why != "" {
			d.Reasons = append(d.Reasons, "rebalance condition: "+why)
		}
	}
	var res Result
	if r.Execute != nil {
		res, err = r.Execute(ctx, now, d)
	} else {
		res, err = v.Execute(now, d)
	}
	if err != nil {
		return rep, err
	}
	rep.Decision, rep.Result = &d, &res
	return rep, nil
}

// skipRebalance reports a decision its rebalance condition turned down:
// no orders, the condition's explanation among the reasons.
func skipRebalance(rep TaskReport, d Decision, why string) TaskReport {
	d.Reasons = append(d.Reasons, "not executed: rebalance condition false: "+why)
	d.Orders, d.Costs = nil, zero
	rep.Why, rep.Skip, rep.Decision = why, SkipCondition, &d
	return rep
}

// State is the State the strategy plans on: the vault's, completed by
// Prepare. The Runner reuses it: it is valid until the next call (a
// strategy must not keep it after Plan returns).
func (r *Runner) State() *strategies.State {
	st := &r.state.st
	r.Vault.fillState(st, r.state.of == r.Vault)
	r.state.of = r.Vault
	if r.Prepare != nil {
		r.Prepare(st)
	}
	return st
}

// StepReport is what one step did.
type StepReport struct {
	Time      time.Time       `json:"time"`
	Tasks     []Task          `json:"tasks"`
	Decisions []Decision      `json:"decisions,omitempty"`
	Results   []Result        `json:"results,omitempty"`
	Harvests  []HarvestResult `json:"harvests,omitempty"`
	// Notes say why a due task did nothing (a condition that did not hold,
	// ticks coalesced into a later one).
	Notes []string `json:"notes,omitempty"`
}

// Add records a task's report in the step's.
func (s *StepReport) Add(tr TaskReport) {
	if tr.Kind == TaskHarvest && tr.Skip != "" {
		s.Notes = append(s.Notes, "harvest skipped: "+tr.Why)
	}
	if tr.Harvest != nil {
		s.Harvests = append(s.Harvests, *tr.Harvest)
	}
	if tr.Decision != nil {
		s.Decisions = append(s.Decisions, *tr.Decision)
	}
	if tr.Result != nil {
		s.Results = append(s.Results, *tr.Result)
	}
}

// Step brings the vault to now (accrual, fees, matured claims), then runs
// the keeper's due tasks: Harvest, Rebalance with TriggerSchedule, and
// ExitCheck, which a rebalance earlier in the step makes redundant (it
// applied the exits). When a step covers several ticks of one schedule,
// each is reported in Tasks but the action runs once, at the last tick:
// the state is the same for all of them. Its report keeps no Target, so
// it plans brief (strategies.State.Brief): the allocations' own reasons,
// which no decision records, are not written.
func (r *Runner) Step(ctx context.Context, now time.Time) (StepReport, error) {
	v := r.Vault
	rep := StepReport{Time: now}
	if err := v.Accrue(now); err != nil {
		return rep, err
	}
	v.claimReady(now, time.Time{})
	rep.Tasks = r.Keeper.Due(now)
	last := map[TaskKind]time.Time{}
	for _, t := range rep.Tasks {
		last[t.Kind] = t.Tick
	}
	planned := false
	for _, t := range rep.Tasks {
		if !t.Tick.Equal(last[t.Kind]) {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s tick %s coalesced into %s", t.Kind, t.Tick.Format(time.RFC3339), last[t.Kind].Format(time.RFC3339)))
			continue
		}
		var tr TaskReport
		var err error
		switch t.Kind {
		case TaskHarvest:
			tr, err = r.Harvest(ctx, now, t.Tick, false)
		case TaskRebalance:
			tr, err = r.rebalance(ctx, now, t.Tick, TriggerSchedule, true)
			planned = true
		case TaskExitCheck:
			if planned {
				continue // a rebalance at this step already applied the exits
			}
			tr, err = r.exitCheck(ctx, now, t.Tick, true)
		}
		if err != nil {
			return rep, err
		}
		rep.Add(tr)
	}
	return rep, nil
}

func (v *Vault) holdsAny() bool {
	for _, s := range v.markets {
		if s.pos.Units.Sign() != 0 {
			return true
		}
	}
	return false
}

func (v *Vault) holdsAnyOf(ids []string) bool {
	for _, id := range ids {
		if i, ok := v.byID[id]; ok && v.markets[i].pos.Units.Sign() != 0 {
			return true
		}
	}
	return false
}
