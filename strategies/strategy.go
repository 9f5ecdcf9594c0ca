// Package strategies holds the Strategy contract, the registry of named
// strategies, the allocation and constraint projection every strategy
// shares, and the built-in Go strategies.
//
// A strategy is a pure planner: Plan reads a State (the time, the vault's
// NAV and positions, and the look-back history of its universe) and
// returns a Target (a weight per market plus idle, with reasons). The same
// State gives the same Target; plans have no side effects. The vault turns
// a Target into orders.
package strategies

import (
	"context"
	"strings"
	"time"

	"github.com/yieldvault/yieldvault/adapters"

	"github.com/yieldvault/yieldvault/fixed"
)

// Strategy decides how a vault's capital is spread over its universe.
type Strategy interface {
	// Name is the strategy's name (a registry name or the name in its file).
	Name() string
	// Plan returns the target allocation for the state. It must be
	// deterministic, must not modify st and must not keep it (or its
	// Markets) after it returns: keepers reuse the State between plans.
	Plan(ctx context.Context, st *State) (Target, error)
}

// PlannerInto is a Strategy that can plan into a Target its caller
// reuses from plan to plan, so that a plan at every rebalance check of a
// backtest allocates no Target of its own. PlanInto must give t what Plan
// gives (to the bit), reusing the array of t.Allocations when it is large
// enough; on an error it leaves t as it was. A caller that reuses t reads
// it before its next plan and keeps no part of it but its strings.
type PlannerInto interface {
	Strategy
	PlanInto(ctx context.Context, st *State, t *Target) error
}

// PlanInto plans s on st into t: s.PlanInto when s is a PlannerInto,
// else t = s.Plan (on an error t is left as it was).
func PlanInto(ctx context.Context, s Strategy, st *State, t *Target) error {
	if p, ok := s.(PlannerInto); ok {
		return p.PlanInto(ctx, st, t)
	}
	got, err := s.Plan(ctx, st)
	if err != nil {
		return err
	}
	*t = got
	return nil
}

// MarketState is one market of the universe as a strategy sees it.
type MarketState struct {
	Market  adapters.Market
	Profile *adapters.Profile
	// Series is the market's history; rows after the State's time are not
	// visible to the strategy (Row bounds them). Nil when there is none.
	Series *adapters.Series
	// Row is the index in Series of the latest observation at or before the
	// State's time; -1 when there is none.
	Row int
	// Obs is the latest observation (Series row Row), zero when Row < 0.
	Obs adapters.Observation
	// Value is the vault's current position value in the market (base
	// units, at the vault's pricing), Weight that value over NAV.
	Value  fixed.Num
	Weight float64
	// PendingRewards are the position's unharvested rewards in base units.
	PendingRewards fixed.Num
	// Paused is true while the market is paused by an event.
	Paused bool
	// Loop holds, for a market that borrows against its collateral, the
	// position's loop figures (of a loop opened now at the position's
	// leverage when it holds nothing); nil for other markets.
	Loop *adapters.LoopFigures
}

// State is everything a strategy may read to plan.
type State struct {
	Time time.Time
	Base adapters.Asset
	// NAV is the vault's total assets, Idle its undeployed base asset.
	NAV  fixed.Num
	Idle fixed.Num
	// Markets is the universe, in the strategy's order.
	Markets []MarketState
	// GasPrice is the gas price in gwei; GasAssetPrice the value of one ETH
	// in the base asset; BaseUSD the USD value of one base unit.
	GasPrice      float64
	GasAssetPrice float64
	BaseUSD       float64
	// Params are the strategy's parameters after overrides (sweeps).
	Params map[string]float64
	// Brief says the caller reads of the Target only what a vault acts
	// on: the weights, idle, exits, leverages, the Target's own Reason
	// and, of each allocation, whether a cap binds it (IsCapped: the
	// vault sells an over-weight down to a capped target; see
	// vault.Decide). A strategy may then leave the allocations' reasons
	// out (scores, why a market is ineligible, notes, the caps; with
	// Capped set where a cap binds), whose formatting costs more than
	// the plan itself at every rebalance check. The keeper's Step plans
	// brief: its report keeps no Target.
	Brief bool
}

// Market returns the state of a market by ID, or nil.
func (s *State) Market(id string) *MarketState {
	for i := range s.Markets {
		if s.Markets[i].Market.ID == id {
			return &s.Markets[i]
		}
	}
	return nil
}

// Allocation is one market's share of a Target.
type Allocation struct {
	Market string  `json:"market"`
	Weight float64 `json:"weight"` // fraction of NAV, >= 0
	// Reason explains the weight: the score, the cap that bound it, or why
	// the market is ineligible.
	Reason string `json:"reason"`
	// Reads lists the names the rules read for this market (for plan
	// explanations), sorted.
	Reads []string `json:"reads,omitempty"`
	// Leverage is, for a loop market (one that borrows against its
	// collateral), the collateral per unit of equity the strategy wants:
	// new money opens at it and a held loop is relevered to it; 0 leaves
	// the market's leverage as it is.
	Leverage float64 `json:"leverage,omitempty"`
	// Capped says that a cap binds the weight (the projection held the
	// market at it): the vault sells an over-weight down to a capped
	// target. A strategy that projects with a Projector has it from the
	// Projection (Projection.Target sets it); a full plan's Reason also
	// says "capped by", which is what IsCapped reads for a strategy that
	// writes its reasons itself. Not serialised: a full plan's reason
	// says it; a brief plan's Target (State.Brief: the keeper's, which no
	// report keeps) has no reasons, and decoded it reads as uncapped.
	Capped bool `json:"-"`
}

// IsCapped reports whether a cap binds the allocation's weight: Capped,
// or a reason that says "capped by".
func (a *Allocation) IsCapped() bool {
	return a.Capped || strings.Contains(a.Reason, "capped by")
}

// Target is a strategy's answer: a weight per market plus idle. Weights
// and Idle are >= 0 and sum to 1 (within 1e-12). Allocations are in the
// order of State.Markets and list every market of the universe, including
// those at zero weight (with the reason they are at zero).
type Target struct {
	Allocations []Allocation `json:"allocations"`
	Idle        float64      `json:"idle"`
	Reason      string       `json:"reason,omitempty"`
	// Exit is set when the strategy's exit rule fired: the vault should
	// unwind the listed markets now, whatever the schedule.
	Exit []string `json:"exit,omitempty"`
}

// Weight returns the target weight of a market (0 when absent).
func (t *Target) Weight(id string) float64 {
	for _, a := range t.Allocations {
		if a.Market == id {
			return a.Weight
		}
	}
	return 0
}
