// Package lending is the driver of the lending kind: the supply side of
// a lending market (Aave v3, Compound v3, Morpho, Spark, Kamino),
// parameterised by protocol profile. Importing it registers the driver for
// adapters.Lending.
//
// # Accounting
//
// A supply position is a scaled balance, as Aave's aTokens are:
// Position.Units = amount / index at deposit (DivRound at adapters.Scale)
// and its value is Units x index. Position.Index is the liquidity index at
// Position.Last. When an observation carries liquidity_index (AaveScan
// exports do) Accrue sets the index to it exactly, so a held position grows
// exactly as the protocol's index; otherwise it compounds the supply APY
// over the elapsed time from the position's index: Index *= (1+apy)^(dt/365d).
// The supply APY is the observed apy, or the interest-rate model at the
// observed utilization when the observation has no apy.
//
// # Interest-rate model and own impact
//
// Each profile sets a rate model (Model): the kinked IRM (irm_base,
// irm_slope1, irm_slope2, irm_optimal, reserve_factor) of Aave, Spark and
// Kamino; Compound v3's separate supply and borrow curves (Comet,
// comet_* parameters); Morpho's AdaptiveCurveIRM (AdaptiveCurve,
// irm_curve_steepness and friends). History records a market without the
// vault, so the vault's own supply is added to it: utilization becomes
// borrows / (supply + own) (UtilizationAfter), in Accrue (own = the
// position's value) as in Quote (own = env.Held's value plus the amount).
// The position earns the observed rate times the model at the new
// utilization over the model at the observed one: the model scaled to
// the market where it was observed (Calibrate), so only the curve's shape
// prices the impact. Supply and borrows come from the observation, else
// from utilization and tvl (for a lending market tvl is the USD value
// supplied, converted with base_usd, or 1 for USD markets); with only an
// APY and a size the utilization is inferred by inverting the model
// (Model.Invert). For an adaptive model the position also carries
// (Position.Adapt) how far its own supply has moved the market's rate at
// target, which adapts to the utilization error over time. A sale is
// priced by QuoteSell (adapters.SellQuoter): the yield it gives up per
// unit sold, (H·r(H) − (H−X)·r(H−X)) / X, as what stays earns more.
//
// # Liquidity, events, rewards, costs
//
// Withdrawals are limited by the protocol's cash for the position: the
// observed free liquidity (exit_liquidity, else supply - borrows) plus the
// free share of the position's own supply, which history does not count:
// own x (1 - utilization), the vault's supply borrowed as much as the
// market's was (none of it with the utilization unknown); more fails with
// KindInsufficientLiquidity unless the withdrawal allows a partial fill.
// The rate takes the other side (borrows unchanged, u' = borrows /
// (supply + own)): each takes the assumption that does not flatter.
// There is no queue. Bad-debt and slash events cut Units by exactly the
// event's size. Pause state is a plain value on the position:
// Apply(EventPause) sets Position.Paused, Apply(EventUnpause) clears it,
// and while it is set deposits and withdrawals fail with KindPaused. A
// pause reaches the positions it is applied to: a caller opening a new
// position in a paused market applies the pause to it first.
// Observed reward_apy accrues simply into Position.Rewards after the
// profile's reward_haircut; markets whose profile lists reward tokens get a
// Harvesting driver that swaps them at harvest_swap_cost plus gas_harvest.
// Gas is the profile's gas_deposit, gas_withdraw and gas_harvest units at
// the Env's gas price, taken from the amount that moves.
package lending
