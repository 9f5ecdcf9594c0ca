// Package synth generates realistic synthetic market histories, so that
// yieldvault runs, tests and demonstrates strategies with no download, and
// embeds a small generated history as the default data set.
//
// Generate(cfg) returns a *history.Batch (rows and events) for a set of
// markets over [From, To] at a fixed Step, under a named scenario. It is
// seeded and deterministic: every random process draws from its own PCG
// stream (math/rand/v2) seeded with Config.Seed and a hash of the
// process's name, so the same Config gives the same rows, a market's path
// does not depend on which other markets are generated, and nothing
// depends on map iteration order. Normal deviates come from the Marsaglia
// polar method and exponentials from math.Expm1, because math.Exp,
// math.Log and rand.NormFloat64 use CPU-dependent assembly on amd64; the
// output is therefore bit-identical on every amd64 machine built with the
// default GOAMD64=v1. (Builds that fuse multiply-adds, arm64 or
// GOAMD64=v3, can move the last bits; the default-data test then compares
// values instead of bytes.) Generated values are rounded
// to the precision real sources carry (6 significant digits for rates, 11
// for exchange rates, 12 for the liquidity index), which also keeps the
// embedded file small.
//
// # Processes
//
// Every stochastic quantity is an Ornstein-Uhlenbeck (OU) process sampled
// exactly on the step, parameterised by its level m, stationary standard
// deviation s and half-life h (dt and h in years):
//
//	x' = m + (x - m)*a + s*sqrt(1 - a^2)*z,   a = 2^(-dt/h),   z ~ N(0, 1)
//
// started from its stationary law N(m, s^2). A positive quantity with
// typical size L is L*e^x with x an OU around 0 (a mean-reverting
// lognormal); a fraction is logistic(x) with x an OU around logit(level).
// Profile parameters (adapters.Catalog.ProfileFor, per-market overrides
// applied) set every protocol quantity; calib.go holds the rest (market
// sizes, usual utilizations, incentive APYs, pool turnover, and anchor
// exchange rates read off the shared real data sets).
//
// # Shared factors
//
//   - base_usd: ETH and BTC in USD are mean-reverting lognormals (ETH level
//     2900, BTC 60000, s = 0.12, h = 120 days: a random walk that stays
//     within about 2000-4000 for ETH); USD is 1.
//   - gas_price: a lognormal around 20 gwei (s = 0.45, h = 1 day).
//   - Gross staking yield per base asset: OU (ETH 3.4%, BTC 1.1%; s = 0.2%
//     and 0.15%, h = 60 days), shared by every staking protocol of that base.
//   - Staking underlyings (one per protocol that takes fee_on_rewards:
//     lido, rocketpool, etherfi, ...): net APY, exchange rate and peg,
//     shared by every market that holds the token (lido/steth, lido/wsteth,
//     eigenlayer/steth, symbiotic/wsteth and curve/steth-eth all read
//     Lido's).
//   - Stablecoin pegs (usdc, usdt, dai): OU around 1 (s = 0.03-0.04%,
//     h = 12 hours), shared by USD lending markets and stable pools.
//
// # LST and LRT markets
//
//	apy            = max(0, g*(1 - fee_on_rewards) + e)        g: gross yield, e: protocol OU (s = 0.1%, h = 5 days)
//	exchange_rate' = exchange_rate * (1 + apy)^dt              value-accruing tokens only (wstETH, rETH, weETH, ...)
//	price          = exchange_rate * peg                       peg: OU around 1 - discount (h = 12 hours) minus scenario drops
//	price          = peg                                       rebasing tokens (stETH): no exchange_rate is written,
//	                                                           one token is worth one base unit (adapters.Profile.IsRebasing)
//	reward_apy     = restaking_apy * e^y                       LRTs, y an OU (s = 0.3, h = 14 days)
//	exit_liquidity = profile exit_liquidity * e^y * scenario   (s = 0.25, h = 7 days)
//	tvl            = size * base_usd                           size lognormal (s = 0.08, h = 90 days)
//	withdrawal_days = profile withdrawal_days (+ escrow_days for LRTs), each as
//	                  dated at the row's time; absent before the queue opened
//
// APYs are net (what holders earn), as the lst/lrt adapters read them by
// default. The exchange rate at From is an anchor rate (a real observation
// from shared/data, see calib.go) carried to From at the mean net APY, so
// levels are realistic for any range. A market earns the yield of its own
// protocol when that protocol takes fee_on_rewards, else of the staking
// protocol named by a protocol:<name> tag, else none (karak/weth: apy 0,
// rate 1).
//
// # Lending markets
//
//	u          = logistic(y)                        y: OU around logit(usual utilization) (s = 0.2, h = 2 days)
//	borrow_apy = Borrow(u)                          the profile's rate model (lending.ModelFromProfile): the kinked
//	                                                curve (irm_*), Compound v3's curves (comet_*) or Morpho's
//	                                                adaptive curve at its initial rate at target
//	apy        = Supply(u)                          borrow_apy * u * (1 - reserve_factor); Comet's own supply curve
//	liquidity_index' = liquidity_index * (1 + apy)^dt
//	supply     = lognormal (s = 0.08, h = 30 days); borrows = u * supply
//	exit_liquidity = supply - borrows;  tvl = supply * base_usd
//	price      = the stablecoin's peg (USD markets of USDC, USDT or DAI only)
//	reward_apy = incentive level * e^y (markets with incentives)
//
// The index starts at the mean supply APY compounded from the protocol's
// launch, so Aave v3 WETH starts 2024 near 1.018, as AaveScan shows.
//
// # AMM pools
//
//	tvl     = size * base_usd;  size lognormal (s = 0.1, h = 60 days)
//	volume  = turnover * size * e^y * scenario      daily volume in base units (s = 0.5, h = 2 days)
//	fee_tier = profile fee_tier
//	balance_i = size * share_i                      in base units (coin amounts at their exchange rate)
//	apy     = volume * fee_tier * 365 / (sum of balances)
//	price   = the pool's quoted price (below)
//
// Stableswap and weighted pools: share_i = softmax(y_i + scenario shift_i)
// with y_i OU around 0 (s = 0.08, h = 5 days), drifting around balanced.
// Constant-product and concentrated pools hold equal values of both coins.
// The price field: curve/3pool (DAI, USDC, USDT) quotes USDC in USD; a pool
// of the base and a stablecoin (uniswap-v3/weth-usdt) quotes base_usd over
// the stablecoin's peg (USDT per WETH); a pool named after a staking token
// (curve/steth-eth: ETH, stETH; balancer/reth-weth: rETH, WETH) quotes that
// token in base, exchange_rate * peg (the peg alone for rebasing stETH), so
// it moves with the token's LST market; other pools get their own peg or
// price walk.
//
// # Scenarios
//
// Scenarios overlay piecewise-linear shapes (in days from an anchor) on the
// processes: drops subtracted from a peg, multipliers on exit liquidity,
// volume and gas, shifts of a pool coin's share logit, and a blend of
// utilization toward a target. A scenario places its anchor at its default
// date (ScenarioInfo.Date) when that lies within [From, To], else at
// From + (To - From)/3, then moves it to the nearest step so the extreme is
// always sampled. Events are emitted only for generated markets and only
// within [From, To].
//
//   - calm: no overlays, no events.
//   - default: calm plus a mild rsETH discount (2% below rate, 2 days, exit
//     depth halved, gas x2.5) and one depeg event, on 2024-08-05. The
//     embedded history uses it.
//   - steth-2022 (2022-06-18): Lido's peg drop follows the observed path:
//     0.976 on May 13, 0.961 on June 10, about 0.93 on June 18, 0.97 in
//     July, above 0.99 by November, 1 by February 2023; the Curve pool's
//     stETH share rises to about 80% (logit shift ln 4) and rebalances over
//     months; stETH exit depth falls to a quarter; pool volume x6; depeg
//     events on May 13 and at the low for every market holding stETH.
//   - ezeth-2024 (2024-04-24): Renzo's peg drops 20% at the anchor (0.80),
//     recovers to 2% within two days and fully within a week; exit
//     liquidity x0.02 for a day, back over a week; a depeg event.
//   - correlated-slash (2025-04-17): every LST/LRT carrying the slashed tag
//     (Config.SlashScope, else the operator: tag on most markets if at
//     least two share it, else the most shared avs: tag; with the built-in
//     catalog that is avs:eigenda) gets a slash event of 0.5-2% with that
//     Scope, a depeg event six hours later, a market-price panic of twice
//     the loss plus 0.5% that fades over a week, halved exit depth, and
//     (LRTs) a one-day pause. Per adapters.Event, the loss is not baked
//     into exchange rates or prices: adapters apply the event.
//   - utilization-spike (2024-08-05): every lending market's utilization is
//     blended to 0.99 for a day and a half, so borrow and supply rates jump
//     along the kinked curve and exit liquidity falls to 1% of supply; it
//     recovers over a week.
//   - weth-borrow-spike (2024-07-05): Aave v3's WETH reserve's utilization
//     is blended to 0.9249 (AaveScan's on that day, when its borrow rate
//     was 22.6%) for 60 days, then back over a week. The observed spike
//     lasted hours; the 60 days are a stress for loops borrowing WETH.
//   - usdc-2023 (2023-03-11): USDC's peg falls to about 0.88 six hours into
//     March 11 and recovers within about three days (DAI follows at 80% of
//     the depth); 3pool's USDC share rises to about half with volume x15;
//     depeg events on every USDC market.
//
// # Default data
//
// DefaultConfig (every built-in market, 2024-01-01 to 2025-01-01 UTC, 6-hour
// step, scenario default, a fixed seed) is generated into
// default_history.csv.gz (the native CSV of history.WriteNativeCSV,
// gzipped) and default_events.json, embedded in the package. `go generate`
// rewrites them (through ./gen); a test regenerates them in memory and
// fails when the embedded copies differ. Default decodes them; OpenDefault
// loads them into an in-memory history.DB.
package synth
