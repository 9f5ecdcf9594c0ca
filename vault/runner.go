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
	nav := v.GrossAssets()
	navF := f64(nav)
	st := &strategies.State{
		Time: v.now, Base: v.cfg.Base, NAV: nav, Idle: v.idle,
		GasPrice: v.gasPrice, GasAssetPrice: v.gasAssetPrice,
		Markets: make([]strategies.MarketState, len(v.markets)),
	}
	for i, s := range v.markets {
		ms := &st.Markets[i]
		ms.Market, ms.Profile, ms.Row = s.ad.Market(), s.ad.Profile(), -1
		if !s.env.Obs.Time.IsZero() || s.env.Obs.Set != 0 {
			ms.Row, ms.Obs = 0, s.env.Obs
		}
		ms.Value = zero
		if s.pos.Units.Sign() != 0 {
			ms.Value = v.value(s)
		}
		if navF > 0 {
			ms.Weight = f64(ms.Value) / navF
		}
		ms.PendingRewards, ms.Paused = s.pos.Rewards, s.pos.Paused
		if st.BaseUSD == 0 {
			st.BaseUSD = s.env.Obs.Value(adapters.FieldBaseUSD, 0)
		}
	}
	return st
}

// Runner drives one vault with one strategy on a keeper: the step the
// backtest engine runs on simulated time and the service on wall time.
type Runner struct {
	Vault    *Vault
	Strategy strategies.Strategy
	Keeper   *Keeper
	// Prepare, when set, completes the strategy's State before each plan
	// (history series and rows for windows, parameters).
	Prepare func(st *strategies.State)
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

// Step brings the vault to now (accrual, fees, matured claims), then runs
// the keeper's due tasks: harvest when the strategy's harvest condition
// holds (without a Scheduled strategy: when rewards exceed the harvest
// cost); rebalance when its rebalance condition holds on the decision's
// drift, gain and cost (always without one); and the exit check, which
// unwinds the markets the plan lists in Target.Exit. When a step covers
// several ticks of one schedule, each is reported in Tasks but the action
// runs once, at the last tick: the state is the same for all of them.
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
	sc, _ := r.Strategy.(strategies.Scheduled)
	planned := false
	for _, t := range rep.Tasks {
		if !t.Tick.Equal(last[t.Kind]) {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s tick %s coalesced into %s", t.Kind, t.Tick.Format(time.RFC3339), last[t.Kind].Format(time.RFC3339)))
			continue
		}
		switch t.Kind {
		case TaskHarvest:
			vars := v.Vars()
			ok, why := vars.PendingRewards > vars.HarvestCost, "pending rewards vs harvest cost"
			if sc != nil {
				var err error
				if ok, why, err = sc.ShouldHarvest(vars); err != nil {
					return rep, err
				}
			}
			if !ok {
				rep.Notes = append(rep.Notes, "harvest skipped: "+why)
				continue
			}
			h, err := v.Harvest(now, t.Tick)
			if err != nil {
				return rep, err
			}
			rep.Harvests = append(rep.Harvests, h)
		case TaskRebalance:
			target, err := r.plan(ctx)
			if err != nil {
				return rep, err
			}
			planned = true
			d, err := v.Decide(now, t.Tick, TriggerSchedule, target)
			if err != nil {
				return rep, err
			}
			ok, why := true, ""
			if sc != nil {
				if ok, why, err = sc.ShouldRebalance(d.Vars(v)); err != nil {
					return rep, err
				}
			}
			if !ok {
				d.Reasons = append(d.Reasons, "not executed: rebalance condition false: "+why)
				d.Orders, d.Costs = nil, zero
				rep.Decisions = append(rep.Decisions, d)
				continue
			}
			if why != "" {
				d.Reasons = append(d.Reasons, "rebalance condition: "+why)
			}
			res, err := v.Execute(now, d)
			if err != nil {
				return rep, err
			}
			rep.Decisions, rep.Results = append(rep.Decisions, d), append(rep.Results, res)
		case TaskExitCheck:
			if planned || !v.holdsAny() {
				continue // a rebalance at this step already applied the exits
			}
			target, err := r.plan(ctx)
			if err != nil {
				return rep, err
			}
			if !v.holdsAnyOf(target.Exit) {
				continue
			}
			d, res, err := v.Rebalance(now, t.Tick, TriggerExit, target)
			if err != nil {
				return rep, err
			}
			rep.Decisions, rep.Results = append(rep.Decisions, d), append(rep.Results, res)
		}
	}
	return rep, nil
}

func (r *Runner) plan(ctx context.Context) (strategies.Target, error) {
	st := r.Vault.StrategyState()
	if r.Prepare != nil {
		r.Prepare(st)
	}
	return r.Strategy.Plan(ctx, st)
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
