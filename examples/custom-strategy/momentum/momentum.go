// Package momentum is an example of a strategy written in Go outside the
// strategies package, with the powers a rules file has: its own universe,
// a rebalance and a harvest schedule with conditions, an exit rule,
// rebalance thresholds and declared parameters. It favours markets whose
// APY has been rising.
//
// Importing the package registers the strategy under the name "momentum"
// (as a database/sql driver registers itself): a binary that imports it
// (examples/custom-strategy) runs it as -s go:momentum, and a service
// configuration as strategy: go:momentum. New builds it directly.
//
// The score of a market is
//
//	score = net_apy + beta x (apy - mean(apy over lookback))
//
// the net APY (strategies.NetAPY) plus a bonus for an APY above its mean
// over the look-back window (Mean, a penalty when below). The top k
// markets by score share the investable capital in proportion to their
// scores, and the result is projected onto the configured constraints.
// Markets that are paused, have no observation, have fewer than two
// observations in the look-back, or trade below exit_peg are left out,
// with the reason in the Target; a market below exit_peg is also listed in
// Target.Exit, so that a vault holding it unwinds it at once.
package momentum

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
)

// Name is the registry name of the strategy.
const Name = "momentum"

// Params are the strategy's parameters, as the CLI and the service parse
// them (lookback is a duration: --param lookback=14d; held in days).
var Params = []strategies.Param{
	{Name: "lookback", Doc: "window of the APY mean the trend is measured against", Default: 7, Min: 1.0 / 24, Max: 365, Duration: true},
	{Name: "k", Doc: "markets held (the top k by score)", Default: 3, Min: 1, Max: 1000},
	{Name: "beta", Doc: "weight of the trend in the score", Default: 2, Min: 0, Max: 100},
	{Name: "min_drift", Doc: "rebalance when the weights drift this far from the target (a fraction of NAV)", Default: 0.05, Min: 0, Max: 1},
	{Name: "exit_peg", Doc: "unwind a market whose peg falls below this (0: no exit rule)", Default: 0.97, Min: 0, Max: 1},
}

func init() {
	strategies.RegisterParams(Name, func(cfg strategies.Config) (strategies.Strategy, error) { return New(cfg) }, Params...)
}

// DefaultUniverse is the universe when the Config names none.
var DefaultUniverse = []string{"lido/steth", "rocketpool/reth", "etherfi/weeth", "renzo/ezeth", "aave-v3/weth"}

// The schedules: rebalance every six hours when the condition holds,
// harvest daily when the rewards are worth the cost.
const (
	RebalanceSpec = "0 */6 * * *"
	HarvestSpec   = "@daily"
)

// Strategy is the momentum strategy.
type Strategy struct {
	cfg       strategies.Config
	universe  []string // cfg.Universe, else DefaultUniverse
	lookback  time.Duration
	k         int
	beta      float64
	minDrift  float64
	exitPeg   float64
	rebalance cron.Schedule
	harvest   cron.Schedule
}

var (
	_ strategies.Scheduled      = (*Strategy)(nil)
	_ strategies.ConditionReads = (*Strategy)(nil)
	_ strategies.Exiter         = (*Strategy)(nil)
	_ strategies.ExitRuler      = (*Strategy)(nil)
	_ strategies.Thresholder    = (*Strategy)(nil)
	_ strategies.Lookbacker     = (*Strategy)(nil)
	_ strategies.Universer      = (*Strategy)(nil)
)

// New builds a momentum strategy from cfg; Params lists the parameters
// and their bounds (k must be a whole number).
func New(cfg strategies.Config) (*Strategy, error) {
	const op = "momentum.New"
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	v := map[string]float64{}
	for _, p := range Params {
		v[p.Name] = p.Default
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.Params)) {
		x := cfg.Params[name]
		i := slices.IndexFunc(Params, func(p strategies.Param) bool { return p.Name == name })
		if i < 0 {
			names := make([]string, len(Params))
			for j, p := range Params {
				names[j] = p.Name
			}
			return nil, adapters.E(op, adapters.KindInvalid, "unknown parameter %q (known: %s)", name, strings.Join(names, ", "))
		}
		if p := Params[i]; !(x >= p.Min && x <= p.Max) {
			return nil, adapters.E(op, adapters.KindInvalid, "parameter %s = %s is outside [%s, %s]", name, p.Format(x), p.Format(p.Min), p.Format(p.Max))
		}
		v[name] = x
	}
	if v["k"] != math.Trunc(v["k"]) {
		return nil, adapters.E(op, adapters.KindInvalid, "parameter k = %g is not a whole number", v["k"])
	}
	s := &Strategy{cfg: cfg, universe: cfg.Universe, lookback: time.Duration(v["lookback"] * float64(24*time.Hour)),
		k: int(v["k"]), beta: v["beta"], minDrift: v["min_drift"], exitPeg: v["exit_peg"]}
	if len(s.universe) == 0 {
		s.universe = DefaultUniverse
	}
	var err error
	if s.rebalance, err = strategies.ParseSchedule(RebalanceSpec); err != nil {
		return nil, err
	}
	if s.harvest, err = strategies.ParseSchedule(HarvestSpec); err != nil {
		return nil, err
	}
	return s, nil
}

// Name implements strategies.Strategy.
func (s *Strategy) Name() string { return Name }

// Universe is the configured universe, else DefaultUniverse.
func (s *Strategy) Universe() []string { return slices.Clone(s.universe) }

// Lookback is the history the windows read: the look-back parameter.
func (s *Strategy) Lookback() time.Duration { return s.lookback }

// Thresholds: orders smaller than 0.1% of NAV are not worth their gas.
func (s *Strategy) Thresholds() strategies.Thresholds {
	return strategies.Thresholds{MinTrade: 0.001}
}

// RebalanceSchedule and HarvestSchedule are the keeper's candidate
// instants; the conditions below decide at each.
func (s *Strategy) RebalanceSchedule() strategies.Schedule {
	return strategies.Schedule{Spec: RebalanceSpec, Sched: s.rebalance, When: fmt.Sprintf("drift > %g || gain_apy > 3 * cost_apy", s.minDrift)}
}

func (s *Strategy) HarvestSchedule() strategies.Schedule {
	return strategies.Schedule{Spec: HarvestSpec, Sched: s.harvest, When: "pending_rewards > 5 * harvest_cost"}
}

// ShouldRebalance is the rebalance condition: the weights drifted past
// min_drift, or the move earns three times its cost.
func (s *Strategy) ShouldRebalance(v strategies.VaultVars) (bool, string, error) {
	switch {
	case v.Drift > s.minDrift:
		return true, fmt.Sprintf("drift %.4g > %g", v.Drift, s.minDrift), nil
	case v.GainAPY > 3*v.CostAPY:
		return true, fmt.Sprintf("gain_apy %.4g > 3 x cost_apy %.4g", v.GainAPY, v.CostAPY), nil
	}
	return false, fmt.Sprintf("drift %.4g <= %g and gain_apy %.4g <= 3 x cost_apy %.4g", v.Drift, s.minDrift, v.GainAPY, v.CostAPY), nil
}

// ShouldHarvest harvests when the pending rewards are worth five harvests.
func (s *Strategy) ShouldHarvest(v strategies.VaultVars) (bool, string, error) {
	ok := v.PendingRewards > 5*v.HarvestCost
	return ok, fmt.Sprintf("pending rewards %.6g vs 5 x harvest cost %.6g", v.PendingRewards, v.HarvestCost), nil
}

// RebalanceReads and HarvestReads are the variables the conditions read.
func (s *Strategy) RebalanceReads() strategies.VarSet {
	return strategies.VarDrift | strategies.VarGainAPY | strategies.VarCostAPY
}

func (s *Strategy) HarvestReads() strategies.VarSet {
	return strategies.VarPendingRewards | strategies.VarHarvestCost
}

// HasExitRule is false when exit_peg is 0.
func (s *Strategy) HasExitRule() bool { return s.exitPeg > 0 }

// ExitCheck is the exit rule alone: the markets whose known peg is below
// exit_peg, in the State's order (what Plan lists in Target.Exit).
func (s *Strategy) ExitCheck(ctx context.Context, st *strategies.State) ([]string, error) {
	if err := s.check(ctx, st); err != nil {
		return nil, err
	}
	var out []string
	for i := range st.Markets {
		if s.depegged(&st.Markets[i]) {
			out = append(out, st.Markets[i].Market.ID)
		}
	}
	return out, nil
}

// depegged reports whether the exit rule lists a market.
func (s *Strategy) depegged(ms *strategies.MarketState) bool {
	if s.exitPeg <= 0 || ms.Row < 0 || ms.Profile == nil {
		return false
	}
	peg, known := ms.Obs.Peg(ms.Profile.PegBasis())
	return known && peg < s.exitPeg
}

func (s *Strategy) check(ctx context.Context, st *strategies.State) error {
	const op = "momentum.Plan"
	if err := ctx.Err(); err != nil {
		return adapters.Wrap(op, adapters.KindOther, err)
	}
	if st == nil {
		return adapters.E(op, adapters.KindInvalid, "nil state")
	}
	if len(s.cfg.Universe) > 0 {
		ids := st.IDs()
		if !slices.Equal(ids, s.cfg.Universe) {
			return adapters.E(op, adapters.KindInvalid, "state markets %v are not the universe %v", ids, s.cfg.Universe)
		}
	}
	return nil
}

// Plan implements strategies.Strategy. It reads st and never modifies it.
func (s *Strategy) Plan(ctx context.Context, st *strategies.State) (strategies.Target, error) {
	if err := s.check(ctx, st); err != nil {
		return strategies.Target{}, err
	}
	n := len(st.Markets)
	cands := make([]strategies.Candidate, n)
	reasons := make([]string, n)
	var exits []string
	days := s.lookback.Hours() / 24
	for i := range st.Markets {
		ms := &st.Markets[i]
		switch {
		case ms.Row < 0:
			reasons[i] = "no observation yet"
			continue
		case s.depegged(ms):
			peg, _ := ms.Obs.Peg(ms.Profile.PegBasis())
			reasons[i] = fmt.Sprintf("exit: peg %.4f < %g", peg, s.exitPeg)
			exits = append(exits, ms.Market.ID)
			continue
		case ms.Paused:
			reasons[i] = "paused"
			continue
		}
		avg, k := Mean(ms, adapters.FieldAPY, st.Time, s.lookback)
		if k < 2 {
			reasons[i] = fmt.Sprintf("%d observations in %gd: too few for momentum", k, days)
			continue
		}
		net := strategies.NetAPY(ms)
		trend := ms.Obs.Value(adapters.FieldAPY, 0) - avg
		score := net + s.beta*trend
		if math.IsNaN(score) || math.IsInf(score, 0) {
			reasons[i] = "invalid data: score is not a finite number"
			continue
		}
		reasons[i] = fmt.Sprintf("score %.2f%% = net apy %.2f%% + %g x trend %+.2f%%", score*100, net*100, s.beta, trend*100)
		if score <= 0 {
			reasons[i] += "; score <= 0"
			continue
		}
		cands[i] = strategies.Candidate{Eligible: true, Score: score, Weight: score}
	}
	desired, notes, err := strategies.Allocate(st, strategies.AllocOptions{Method: strategies.TopK, K: s.k}, cands)
	if err != nil {
		return strategies.Target{}, err
	}
	for i, note := range notes {
		if note != "" {
			reasons[i] += "; " + note
		}
	}
	proj, err := s.cfg.Constraints.Project(st, desired)
	if err != nil {
		return strategies.Target{}, err
	}
	t := proj.Target(reasons)
	t.Reason = fmt.Sprintf("top %d by momentum score over %gd", s.k, days)
	t.Exit = exits
	return t, nil
}
