// Package pick is a Go strategy of a module outside yieldvault: it puts
// everything in the market with the highest APY and checks every six hours
// whether the weights drifted enough to move.
package pick

import (
	"context"
	"fmt"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
)

func init() {
	strategies.RegisterParams("outside-pick", New,
		strategies.Param{Name: "min_apy", Doc: "smallest APY worth holding", Default: 0, Min: 0, Max: 1})
}

// Pick is the strategy.
type Pick struct {
	cfg    strategies.Config
	minAPY float64
	sched  strategies.Schedule
}

// New builds the strategy.
func New(cfg strategies.Config) (strategies.Strategy, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s, err := strategies.ParseSchedule("0 */6 * * *")
	if err != nil {
		return nil, err
	}
	return &Pick{cfg: cfg, minAPY: cfg.Params["min_apy"], sched: strategies.Schedule{Spec: "0 */6 * * *", Sched: s, When: "drift > 0.01"}}, nil
}

// Name implements strategies.Strategy.
func (p *Pick) Name() string { return "outside-pick" }

// Plan puts everything in the market with the highest APY above min_apy.
func (p *Pick) Plan(ctx context.Context, st *strategies.State) (strategies.Target, error) {
	best, bestAPY := -1, p.minAPY
	for i := range st.Markets {
		if a := st.Markets[i].Obs.Value(adapters.FieldAPY, 0); st.Markets[i].Row >= 0 && a > bestAPY {
			best, bestAPY = i, a
		}
	}
	t := strategies.Target{Idle: 1, Reason: "the highest APY"}
	for i := range st.Markets {
		al := strategies.Allocation{Market: st.Markets[i].Market.ID, Reason: "not the highest APY"}
		if i == best {
			al.Weight, al.Reason, t.Idle = 1, fmt.Sprintf("apy %.4f", bestAPY), 0
		}
		t.Allocations = append(t.Allocations, al)
	}
	return t, nil
}

// RebalanceSchedule and the rest make it a strategies.Scheduled.
func (p *Pick) RebalanceSchedule() strategies.Schedule { return p.sched }
func (p *Pick) HarvestSchedule() strategies.Schedule   { return strategies.Schedule{} }
func (p *Pick) ShouldRebalance(v strategies.VaultVars) (bool, string, error) {
	return v.Drift > 0.01, fmt.Sprintf("drift %.4f vs 0.01", v.Drift), nil
}
func (p *Pick) ShouldHarvest(v strategies.VaultVars) (bool, string, error) {
	return v.PendingRewards > v.HarvestCost, "rewards over cost", nil
}
