// Package backtest replays market history through a vault and a strategy
// on a simulated clock and measures the result.
//
// Run steps through time over a Window loaded once (Load adds a look-back
// before the start for the strategy's windows): at each step every
// market's latest observation is fed to the vault, events (slash, depeg,
// pause, bad debt) are applied at their time, and the vault's Runner lets
// the keeper harvest, rebalance and check the exit rule on the simulated
// time. Every step records NAV, share price, idle, costs and each market's
// value; metrics (returns, risk, drawdown, turnover, costs, allocation,
// attribution) and passive benchmarks (hold each market, equal weight,
// best single market) are computed from those records.
//
// A run is a pure function of its inputs: the same strategy, parameters,
// data and settings give a byte-identical summary. Sweep runs a grid of
// parameters over the same loaded Window on several workers.
//
// The scenario files in testdata/scenarios are small readable backtests
// (load data, run, expect values); see ParseScenario.
package backtest
