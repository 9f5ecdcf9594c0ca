package strategies

import "context"

// Exiter is the optional capability of strategies whose exit rule can be
// evaluated on its own, far more cheaply than a whole Plan. A keeper that
// checks exits at every step (the backtest engine between rebalance
// ticks) calls ExitCheck and plans in full only when it lists a market the
// vault holds.
//
// ExitCheck must return exactly the markets Plan on the same State would
// list in Target.Exit, in the same order (nil when none), and fail
// whenever Plan would fail evaluating the exit rule. Like Plan it must be
// deterministic and must not modify st.
type Exiter interface {
	ExitCheck(ctx context.Context, st *State) ([]string, error)
}

// ExitRuler is implemented by strategies that can say whether they have
// an exit rule at all. One that has none never lists a market in
// Target.Exit: keepers skip its exit checks (the backtest between ticks,
// vault.Runner.ExitCheck) without building a State.
type ExitRuler interface {
	HasExitRule() bool
}
