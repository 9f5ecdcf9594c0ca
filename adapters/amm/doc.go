// Package amm is the driver of the amm kind: a liquidity-provider position
// in an AMM pool (Curve and Balancer stableswap pools, constant-product and
// Balancer weighted pools, Uniswap v3 full-range and concentrated
// positions), parameterised by protocol profile. Importing it registers the
// driver for adapters.AMM.
//
// # Conventions
//
// Coin 0 of a pool is the vault's base asset (ETH in Curve ETH/stETH, WETH
// in Uniswap WETH/USDT for an ETH vault). Balances are in base units; a
// rate-bearing coin's balance is scaled by its rate, as Curve's oracle
// pools and Balancer's rate providers do. The observation's price is the
// market price of coin 1 in the base asset (stETH in ETH; USDT in ETH);
// markets whose data quotes coin 1 per base coin instead (Uniswap WETH/USDT
// history gives USDT per WETH) set the parameter price_inverted. Volume is
// per day in base units.
//
// # Accounting
//
// Position.Units are LP units. Position.Index is the fee index: the growth
// of one unit from fees, 1 when the position is opened. Position.Entry is
// the price of coin 1 at entry (for stable pools, the marginal price the
// balances implied; informational). A position's value is
//
//	Units x Index x Shape(pool now)
//
// where Shape is the unit's value relative to the reference state:
//
//   - product pools: (price/entry)^(1-weight0), sqrt(price/entry) for an
//     even pool: the LP loses 2*sqrt(r)/(1+r) - 1 against holding
//     (ILConstantProduct, ILWeighted);
//   - concentrated ranges [range_lower, range_upper] x entry price: the
//     Uniswap v3 value of unit liquidity at the price over its value at
//     entry (Range.Value); a full range is a product pool;
//   - stable pools: the pool's value at its own marginal prices over its
//     invariant D, found by Curve's Newton iterations (StableD,
//     StableValueRatio). It is 1 for a balanced pool and below 1 when the
//     pool tilts, which is the loss an imbalance implies (Curve ETH/stETH
//     at 80% stETH in 2022). With a price but no balances, the balances
//     that give that marginal price are solved for (StableShareForPrice).
//
// LP units are fungible at the unit's current value, so later deposits
// join the position (and, for concentrated positions, its range).
//
// # Fees, rewards, costs
//
// Fee income compounds into the index: volume x fee tier a day shared by
// liquidity, own / (TVL + own), so a unit of value earns volume x fee /
// (TVL + own) a day; own is the position's value in Accrue and the
// caller's position (env.Held) plus the deposit after its entry costs in
// Quote (the observed TVL never includes the vault). QuoteSell prices a
// sale by the fees it gives up per unit sold,
// (H·a(H) − (H−X)·a(H−X)) / X. Concentrated positions earn the same in range (the pool's
// active liquidity is not in the history; it is estimated from the TVL by
// assuming the pool's liquidity as concentrated as the position's) and
// nothing out of range. Without volume the observed fee APY is used,
// diluted by TVL / (TVL + own), and without either the last known rate.
// Volume without a pool size supports no fee yield: Quote.Unknown says
// why, the APY counts it as 0 and the position earns no fees (FeeRate,
// FeeUnknown).
// Gauge rewards (reward_apy) accrue into Position.Rewards after
// reward_haircut; profiles with reward tokens (CRV, BAL) get a Harvesting
// driver that swaps them at harvest_swap_cost plus gas_harvest.
//
// Entries and exits are one-sided in the base coin. Entering swaps the
// coin-1 share of the deposit through the pool; exiting swaps it back;
// the loss against the pool price, swap fee included, is the fill's
// slippage. Stable pools use Curve's add_liquidity and
// calc_withdraw_one_coin with the imbalance fee. Product and concentrated
// pools price the swap on the balances, else on TVL split by weight (the
// active v3 liquidity is not observed: the depth is a full-range
// approximation), else charge the swap fee alone. Instant exits are
// limited by the observed exit_liquidity, else the base coin's balance.
// Gas is gas_deposit and gas_withdraw at the Env's gas price.
//
// # Events
//
// Slash and bad-debt events (a pool exploit) cut Units by their size.
// Pause and unpause set and clear Position.Paused, which refuses deposits
// and withdrawals with KindPaused. Depegs are informational: their effect
// is in the observed price and balances.
package amm
