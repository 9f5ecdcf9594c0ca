package mech

import (
	"math"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/fixed"
)

// YearSeconds is the length of the year APYs compound over: 365 days.
const YearSeconds = 365 * 24 * 3600

// Staking is the driver of one staking or restaking market: the exchange-
// rate index, the protocol's withdrawal queue, instant exits through a
// venue at a depth-dependent slippage, slashing with optional insurance,
// and, for restaking, rewards accrued for harvesting. It is immutable once
// built and safe for concurrent use.
//
// Packages lst and lrt wrap it and expose only the capabilities of their
// kind (an LST has no Harvest method), so that capability checks by type
// assertion stay truthful.
type Staking struct {
	name   string // "lst" or "lrt": the prefix of operation names
	market adapters.Market

	// Operation names, built once (a concatenation per call allocates).
	opDeposit, opWithdraw, opClaim, opHarvest, opApply string

	rebasing        bool
	pegBasis        adapters.PegBasis
	grossAPY        bool
	feeOnRewards    float64
	withdrawalDays  adapters.Dated // the queue's delay; not in force = no queue then
	escrowDays      adapters.Dated // the restaking layer's escrow, added to the queue
	yieldPaid       adapters.Dated // 0 while the protocol pays no staking yield (Babylon phase 1)
	exitLiquidity   float64
	instantExitFee  float64
	insurance       float64
	restaking       bool // accrue restaking rewards into Position.Rewards
	restakingAPY    float64
	rewardsInRate   bool // restaking rewards compound into the exchange rate (Renzo), not Position.Rewards
	rewardHaircut   float64
	harvestSwapCost float64
	gasDeposit      float64
	gasWithdraw     float64
	gasClaim        float64
	gasHarvest      float64

	noQueue   bool    // the profile's queue = 0: no queue a vault can use (cbETH, rETH)
	burnLiq   float64 // burn_liquidity: base the protocol redeems at the rate at once (Rocket Pool's deposit pool)
	venue     string  // the instant-exit venue's market ID ("" when none)
	venueAmp  float64 // the venue's stableswap A; 0 prices it as constant-product depth
	venueFee  float64 // the venue's swap fee (stableswap venues)
	routeSwap string  // "swap <venue>", the route name of venue trades
}

// NewStaking builds the driver of market m from its profile. name is the kind's
// package name, used in operation names ("lst", "lrt"); restaking turns on
// the restaking mechanics (escrow, rewards).
func NewStaking(name string, m adapters.Market, p *adapters.Profile, restaking bool) (*Staking, error) {
	op := name + ".New"
	if p == nil {
		return nil, adapters.E(op, adapters.KindInvalid, "market %s: no profile", m.ID)
	}
	d := &Staking{
		name:            name,
		market:          m,
		rebasing:        p.Rebasing,
		grossAPY:        p.ParamOr("gross_apy", 0) != 0,
		feeOnRewards:    p.ParamOr("fee_on_rewards", 0),
		withdrawalDays:  p.DatedParam("withdrawal_days"),
		yieldPaid:       p.DatedParam("yield_paid"),
		exitLiquidity:   p.ParamOr("exit_liquidity", 0),
		instantExitFee:  p.ParamOr("instant_exit_fee", 0),
		insurance:       p.ParamOr("insurance_cap", 0),
		restaking:       restaking,
		rewardHaircut:   p.ParamOr("reward_haircut", 0),
		harvestSwapCost: p.ParamOr("harvest_swap_cost", 0),
		gasDeposit:      p.ParamOr("gas_deposit", 0),
		gasWithdraw:     p.ParamOr("gas_withdraw", 0),
		gasClaim:        p.ParamOr("gas_claim", 0),
		gasHarvest:      p.ParamOr("gas_harvest", 0),
		noQueue:         p.ParamOr("queue", 1) == 0,
		burnLiq:         p.ParamOr("burn_liquidity", 0),
		venue:           p.Venue,
		venueAmp:        p.ParamOr("venue_amplification", 0),
		venueFee:        p.ParamOr("venue_fee", 0),
	}
	d.routeSwap = "swap"
	if d.venue != "" {
		d.routeSwap = "swap " + d.venue
	}
	d.opDeposit, d.opWithdraw, d.opClaim = name+".Deposit", name+".Withdraw", name+".Claim"
	d.opHarvest, d.opApply = name+".Harvest", name+".Apply"
	if v, ok := p.Param("rebasing"); ok {
		d.rebasing = v != 0
	}
	d.pegBasis = adapters.PegBasisOf(m.Kind, d.rebasing)
	if restaking {
		d.escrowDays = p.DatedParam("escrow_days")
		d.restakingAPY = p.ParamOr("restaking_apy", 0)
		d.rewardsInRate = p.ParamOr("rewards_in_rate", 0) != 0
	}
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"fee_on_rewards", d.feeOnRewards}, {"instant_exit_fee", d.instantExitFee},
		{"insurance_cap", d.insurance}, {"reward_haircut", d.rewardHaircut},
		{"harvest_swap_cost", d.harvestSwapCost}, {"yield_paid", d.yieldPaid.Max()}, {"venue_fee", d.venueFee},
	} {
		if !(f.v >= 0 && f.v <= 1) {
			return nil, adapters.E(op, adapters.KindInvalid, "market %s: %s = %g must be a fraction in [0, 1]", m.ID, f.name, f.v)
		}
	}
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"withdrawal_days", d.withdrawalDays.Max()}, {"escrow_days", d.escrowDays.Max()}, {"exit_liquidity", d.exitLiquidity},
		{"restaking_apy", d.restakingAPY}, {"gas_deposit", d.gasDeposit}, {"gas_withdraw", d.gasWithdraw},
		{"gas_claim", d.gasClaim}, {"gas_harvest", d.gasHarvest}, {"venue_amplification", d.venueAmp}, {"burn_liquidity", d.burnLiq},
	} {
		if !(f.v >= 0) || math.IsInf(f.v, 0) {
			return nil, adapters.E(op, adapters.KindInvalid, "market %s: %s = %g must be a finite number >= 0", m.ID, f.name, f.v)
		}
	}
	return d, nil
}

// Market returns the driver's market.
func (d *Staking) Market() adapters.Market { return d.market }

// Rebasing reports whether the market's token rebases (its market price
// is quoted per token worth one base unit at NAV).
func (d *Staking) Rebasing() bool { return d.rebasing }

// netAPY turns an observed APY into what a holder earns. Observed APYs are
// net (what holders earn, after the protocol's fee) unless the profile
// says gross_apy = 1, in which case fee_on_rewards is taken off positive
// yields.
func (d *Staking) netAPY(apy float64) float64 {
	if d.grossAPY && apy > 0 {
		return apy * (1 - d.feeOnRewards)
	}
	return apy
}

// Growth is the factor one unit's value grows by over dt at apy:
// (1+apy)^(dt / 365 days). A rate of -100% or less gives 0.
//
// It is computed as exp(dt/year x log1p(apy)): a third of the cost of
// math.Pow on the backtest's hot path, and within a few ulps of it (the
// conformance suite's compounding tolerance is 1e-12).
func Growth(apy float64, dt time.Duration) float64 {
	if apy == 0 || dt == 0 {
		return 1
	}
	if !(apy > -1) {
		return 0
	}
	return math.Exp(dt.Seconds() / YearSeconds * math.Log1p(apy))
}

// rate returns the exchange rate (value of one unit) at env and the APY
// the position carries forward. It does not change pos.
//
// An observed exchange_rate is used exactly. Otherwise the observed APY
// (or pos.APY, the last known) compounds pos.Index from pos.Last to
// env.Time. A new position (zero Last) starts at the observed rate or 1.
// At or before pos.Last, the rate is pos.Index.
func (d *Staking) rate(pos *adapters.Position, env *adapters.Env) (rate, apy float64) {
	if !pos.Last.IsZero() && !env.Time.After(pos.Last) {
		return pos.Index, pos.APY
	}
	apy = pos.APY
	obs := &env.Obs
	if obs.Set.Has(adapters.FieldAPY) {
		if v := obs.Values[adapters.FieldAPY]; !math.IsNaN(v) && !math.IsInf(v, 0) {
			apy = d.netAPY(v)
		}
	}
	if !d.paysYield(env.Time) {
		apy = 0
	}
	if obs.Set.Has(adapters.FieldExchangeRate) {
		if v := obs.Values[adapters.FieldExchangeRate]; v > 0 && !math.IsInf(v, 0) {
			return v, apy
		}
	}
	if pos.Last.IsZero() {
		if pos.Index > 0 {
			return pos.Index, apy
		}
		return 1, apy
	}
	g := Growth(apy, env.Time.Sub(pos.Last))
	if d.rewardsInRate {
		// Rewards the protocol compounds into the rate (an observed rate
		// already carries them).
		g *= Growth(d.rewardRate(env), env.Time.Sub(pos.Last))
	}
	return pos.Index * g, apy
}

// paysYield reports whether the protocol pays its staking yield at t:
// false while the profile's yield_paid is 0 (Babylon's phase 1 locked BTC
// without rewards), whatever the observations say.
func (d *Staking) paysYield(t time.Time) bool {
	if !d.yieldPaid.Set() {
		return true
	}
	v, ok := d.yieldPaid.At(t)
	return !ok || v != 0
}

// QueueOpen reports whether the protocol's withdrawal queue exists at t:
// false before the profile's withdrawal_days took effect (Lido's queue
// opened with Lido V2 on 2023-05-15; before that stETH left only through
// a swap).
func (d *Staking) QueueOpen(t time.Time) bool {
	if d.noQueue {
		return false
	}
	if !d.withdrawalDays.Set() {
		return true
	}
	_, ok := d.withdrawalDays.At(t)
	return ok
}

// rewardRate is the restaking reward APY a holder keeps after the fee (if
// gross) and the profile's haircut.
func (d *Staking) rewardRate(env *adapters.Env) float64 {
	if !d.restaking || !d.paysYield(env.Time) {
		return 0
	}
	r := env.Obs.Value(adapters.FieldRewardAPY, d.restakingAPY)
	if math.IsNaN(r) || math.IsInf(r, 0) || r <= 0 {
		return 0
	}
	return d.netAPY(r) * (1 - d.rewardHaircut)
}

// Accrue brings pos from pos.Last to env.Time: the index moves to the
// observed exchange rate or compounds the APY, and (restaking) rewards
// accrue on the position's value at the start of the step, linearly in
// time, after the haircut. Accruing to or before pos.Last changes nothing.
// It allocates only when rewards accrue.
func (d *Staking) Accrue(pos *adapters.Position, env *adapters.Env) {
	if !pos.Last.IsZero() && !env.Time.After(pos.Last) {
		return
	}
	r, apy := d.rate(pos, env)
	if d.restaking && !d.rewardsInRate && !pos.Last.IsZero() && pos.Units.Sign() > 0 {
		if rr := d.rewardRate(env); rr > 0 {
			years := env.Time.Sub(pos.Last).Seconds() / YearSeconds
			pos.Rewards = pos.Rewards.Add(pos.Units.MulRate(pos.Index * rr * years))
		}
	}
	pos.Index = r
	pos.APY = apy
	pos.Last = env.Time
}

// peg is the token's peg at env (adapters.Peg: price / exchange rate, the
// price alone for a rebasing token), or 1 when the data cannot say: no
// price, or a value-accruing token without an observed rate (a rate the
// history read from the price, cbETH's, is no rate: the price is then the
// value, at rate and market pricing alike).
func (d *Staking) peg(env *adapters.Env) float64 {
	p, _ := env.Obs.Peg(d.pegBasis)
	return p
}

// Value is Units x the exchange rate at env (PriceRate), or x the market
// price (PriceMarket), quantized. Queued claims and rewards are not
// included.
func (d *Staking) Value(pos *adapters.Position, env *adapters.Env, pricing adapters.Pricing) decimal.Decimal {
	if pos.Units.Sign() == 0 {
		return decimal.Zero
	}
	r, _ := d.ValueRate(pos, env, pricing)
	return pos.Units.MulRate(r).Dec()
}

// ValueRate is the rate Value multiplies the units by
// (adapters.RateValuer): the exchange rate, times the peg at market
// pricing.
func (d *Staking) ValueRate(pos *adapters.Position, env *adapters.Env, pricing adapters.Pricing) (float64, bool) {
	r, _ := d.rate(pos, env)
	if pricing == adapters.PriceMarket {
		r *= d.peg(env)
	}
	return r, true
}

// exitLiq is the instant-exit depth in base units: observed, else the
// profile's default.
func (d *Staking) exitLiq(env *adapters.Env) float64 {
	v := env.Obs.Value(adapters.FieldExitLiquidity, d.exitLiquidity)
	if !(v > 0) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// Delay is the time a queued withdrawal takes at env: the observed
// withdrawal_days (else the profile's) plus the restaking escrow.
func (d *Staking) Delay(env *adapters.Env) time.Duration {
	def := d.withdrawalDays.Or(env.Time, 0)
	days := env.Obs.Value(adapters.FieldWithdrawalDays, def)
	if !(days >= 0) || math.IsInf(days, 0) {
		days = def
	}
	days += d.escrowDays.Or(env.Time, 0)
	return time.Duration(math.Round(days * 24 * float64(time.Hour)))
}

// Quote prices a deposit of amount: the net APY (base plus restaking
// rewards after haircut), the entry cost (the cheaper route's gas and
// slippage, at least its gas), the cost of an instant
// exit of the same amount now (or, when the venue cannot take it, of the
// queue's gas), the queue's delay and the largest instant exit.
func (d *Staking) Quote(env *adapters.Env, amount fixed.Num) (adapters.Quote, error) {
	return d.QuotePart(env, amount, false, adapters.QuoteAll)
}

// QuotePart is part of Quote (adapters.PartQuoter): the net APY, base
// plus restaking rewards after haircut, whatever the amount (a sale is
// priced as a deposit), and the entry and exit part asks for.
func (d *Staking) QuotePart(env *adapters.Env, amount fixed.Num, sell bool, part adapters.QuotePart) (adapters.Quote, error) {
	var q adapters.Quote
	apy := 0.0
	if v, ok := env.Obs.Get(adapters.FieldAPY); ok && !math.IsNaN(v) && !math.IsInf(v, 0) && d.paysYield(env.Time) {
		apy = d.netAPY(v)
	}
	q.RewardAPY = d.rewardRate(env)
	q.APY = apy + q.RewardAPY
	if d.rewardsInRate {
		q.RewardAPY = 0 // in the rate: nothing to harvest
	}
	if part&adapters.QuoteEntry != 0 {
		q.EntryCost = d.entryCost(env, amount)
	}
	if part&adapters.QuoteExit != 0 {
		d.exitQuote(&q, env, amount)
	}
	return q, nil
}

// entryCost is a buy's of amount: its gas plus its slippage, never below
// the gas. A buy below the rate's value counts no saving (the pricing
// values the discount), so a gain-over-cost test is not passed by a
// discount.
func (d *Staking) entryCost(env *adapters.Env, amount fixed.Num) fixed.Num {
	cost := env.GasCost(d.gasDeposit)
	if amount.Sign() > 0 {
		if route, value, gas, ok := d.entry(env, amount, cost); ok && route != "mint" {
			if slip := amount.Sub(gas).Sub(value); slip.Sign() > 0 {
				gas = gas.Add(slip)
			}
			cost = gas
		}
	}
	return cost
}

// exitQuote sets q's exit of amount: the cost of an instant exit now
// (or, when the venue cannot take it, of the queue's gas), the queue's
// delay and the largest instant exit.
func (d *Staking) exitQuote(q *adapters.Quote, env *adapters.Env, amount fixed.Num) {
	q.QueueClosed = !d.QueueOpen(env.Time)
	if !q.QueueClosed {
		q.ExitDelay = d.Delay(env)
	}
	liq := d.exitLiq(env)
	q.MaxInstantExit = fixed.FastNum(math.Max(liq, d.burnLiq))
	gasW := env.GasCost(d.gasWithdraw)
	if amount.Sign() > 0 && (liq > 0 || d.burnLiq > 0) {
		if a := amount.Float(); a <= liq || d.burns(a) {
			slip, fee, gas := d.instantCosts(env, amount, a, liq, d.peg(env), gasW)
			q.ExitCost = slip.Add(fee).Add(gas)
			return
		}
	}
	q.ExitCost = gasW.Add(env.GasCost(d.gasClaim))
}

// Deposit buys units on the cheaper route the market offers now: mint
// at the protocol's exchange rate (paying gas_deposit), or buy on the
// venue at its price (paying gas_withdraw, the swap's gas) when that
// brings more value at the rate: below peg, buying on the venue is the
// cheaper entry. Fill.Route names the route. Deposits fail with
// KindPaused while the market is paused.
func (d *Staking) Deposit(pos adapters.Position, env *adapters.Env, amount fixed.Num) (adapters.Position, adapters.Fill, error) {
	op := d.opDeposit
	if pos.Paused {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindPaused, "%s is paused", d.market.ID)
	}
	d.Accrue(&pos, env)
	if !(pos.Index > 0) {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "%s: exchange rate %g is not > 0", d.market.ID, pos.Index)
	}
	am := amount
	route, value, gas, ok := d.entry(env, am, env.GasCost(d.gasDeposit))
	if !ok {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "%s: deposit of %s does not cover its gas %s", d.market.ID, amount, env.GasCost(d.gasDeposit))
	}
	units := value.DivRoundRate(pos.Index)
	pos.Units, pos.Principal = pos.Units.Add(units), pos.Principal.Add(am)
	f := adapters.Fill{Amount: amount, Value: value, Gas: gas, Route: route}
	if slip := am.Sub(gas).Sub(value); !slip.IsZero() {
		f.Slippage = slip
	}
	return pos, f, nil
}

// entry prices a buy of amount at env on the cheaper route (see Deposit):
// the route's name, the value it adds at the rate, and its gas (mintGas
// is the mint's, env.GasCost(gas_deposit)). ok is false when no route's
// gas is covered.
func (d *Staking) entry(env *adapters.Env, amount fixed.Num, mintGas fixed.Num) (route string, value fixed.Num, gas fixed.Num, ok bool) {
	gas = mintGas
	if gas.Cmp(amount) < 0 {
		route, value, ok = "mint", amount.Sub(gas), true
	}
	if !d.swapMayBeat(env, amount.Float()) {
		return route, value, gas, ok
	}
	sg := env.GasCost(d.gasWithdraw)
	sn := sg
	if sn.Cmp(amount) >= 0 {
		return route, value, gas, ok
	}
	in := amount.Sub(sn)
	factor := d.buyFactor(env, in.Float(), d.exitLiq(env), d.peg(env))
	if !(factor > 0) || math.IsInf(factor, 0) {
		return route, value, gas, ok
	}
	if v := in.MulQ(factor); !ok || v.Cmp(value) > 0 {
		return d.routeSwap, v, sg, true
	}
	return route, value, gas, ok
}

// swapMayBeat reports, on floats and without allocating, whether buying a
// (base) on the venue may add more value at the rate than minting: the
// venue's price is observed and below the rate, and its value after the
// swap's gas is within a part in a million of the mint's or above. Most
// quotes (a token at or above peg) end here.
func (d *Staking) swapMayBeat(env *adapters.Env, a float64) bool {
	liq := d.exitLiq(env)
	p := d.peg(env)
	if liq <= 0 || !(p < 1) || !env.Obs.Set.Has(adapters.FieldPrice) {
		return false
	}
	px := env.GasAssetPrice
	if px <= 0 {
		px = 1
	}
	gasF := func(units float64) float64 {
		if units <= 0 || env.GasPrice <= 0 {
			return 0
		}
		return units * env.GasPrice * 1e-9 * px
	}
	in := a - gasF(d.gasWithdraw)
	if !(in > 0) {
		return false
	}
	swap := in * d.buyFactor(env, in, liq, p)
	mint := a - gasF(d.gasDeposit)
	return swap >= mint-1e-6*math.Abs(mint)
}

// buyFactor is the value at the rate one base unit buys on the venue when
// a base units are paid in: on the venue's stableswap invariant with its
// observed balances (balance0: base, balance1: the token, as the history
// of a Curve pool carries them), else on a balanced stableswap pool of
// depth liq per side divided by the peg, else on constant-product depth
// liq divided by the peg.
func (d *Staking) buyFactor(env *adapters.Env, a, liq, peg float64) float64 {
	if d.venueAmp > 0 {
		if b0, b1, ok := d.venueBalances(env); ok {
			return StableSwapOut(d.venueAmp, d.venueFee, b0, b1, a) / a
		}
		return StableSwapOut(d.venueAmp, d.venueFee, liq, liq, a) / a / peg
	}
	return liq / (liq + a) / peg
}

// sellFactor is the base one unit of value (at the rate) brings when a
// of it is sold on the venue, before the protocol's instant-exit fee: the
// mirror of buyFactor, at the peg when the venue's balances are not
// observed. It is at most 1: a sale pays at most the exchange rate.
func (d *Staking) sellFactor(env *adapters.Env, a, liq, peg float64) float64 {
	f := 0.0
	switch b0, b1, ok := d.venueBalances(env); {
	case d.venueAmp > 0 && ok:
		f = StableSwapOut(d.venueAmp, d.venueFee, b1, b0, a) / a
	case d.venueAmp > 0:
		f = math.Min(peg, 1) * StableSwapOut(d.venueAmp, d.venueFee, liq, liq, a) / a
	default:
		f = math.Min(peg, 1) * liq / (liq + a)
	}
	return math.Min(f, 1)
}

// venueBalances are the venue's observed balances of base (balance0) and
// token (balance1), in base units, when the market's history carries them.
func (d *Staking) venueBalances(env *adapters.Env) (b0, b1 float64, ok bool) {
	b0, ok0 := env.Obs.Get(adapters.FieldBalance0)
	b1, ok1 := env.Obs.Get(adapters.FieldBalance1)
	return b0, b1, ok0 && ok1 && b0 > 0 && b1 > 0 && !math.IsInf(b0+b1, 0)
}

// instantCosts are the costs of selling value amount (at rate; a is
// adapters.Float(amount)) through the venue with depth liq at peg:
// slippage (the depth's price impact, amount/(liq+amount) of the proceeds
// at market, plus the depeg), the protocol's instant-exit fee on what the
// sale brings, and gas (gasW, the withdrawal's gas cost at env).
//
// A premium is not captured: a sale pays at most the exchange rate (peg
// capped at 1). Arbitrageurs mint at the rate and sell into a premium
// long before a vault's rebalance could, and pricing sales above the rate
// while deposits mint at it would let a strategy earn a riskless profit
// from every round trip.
func (d *Staking) instantCosts(env *adapters.Env, amount fixed.Num, a, liq, peg float64, gasW fixed.Num) (slip, fee, gas fixed.Num) {
	if d.burns(a) {
		return fixed.Num{}, fixed.Num{}, gasW // redeemed at the rate
	}
	received := amount.MulQ(d.sellFactor(env, a, liq, peg))
	slip = amount.Sub(received)
	fee = received.MulQ(d.instantExitFee)
	return slip, fee, gasW
}

// burns reports whether a sale of a (at the rate) is redeemed by the
// protocol at the rate, against its limited liquidity (Rocket Pool burns
// rETH against the deposit pool's ETH): the cheapest instant route when
// it can take the amount.
func (d *Staking) burns(a float64) bool { return d.burnLiq > 0 && a <= d.burnLiq }

// Withdraw takes value out: instantly through the venue, through the
// protocol's queue, or (ExitAuto) the cheaper of the two, preferring the
// instant exit at equal cost and falling back to the queue when the venue
// cannot take the amount or the slippage bound is broken.
func (d *Staking) Withdraw(pos adapters.Position, env *adapters.Env, w adapters.Withdrawal) (adapters.Position, adapters.Fill, error) {
	op := d.opWithdraw
	d.Accrue(&pos, env)
	if !(pos.Index > 0) && pos.Units.Sign() > 0 {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "%s: exchange rate %g is not > 0", d.market.ID, pos.Index)
	}
	held := pos.Units.MulQ(pos.Index)
	amount := w.Amount
	if w.All {
		amount = held
	}
	if amount.Sign() <= 0 {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "%s: nothing to withdraw (position value %s)", d.market.ID, held)
	}
	if amount.Cmp(held) > 0 {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "%s: withdrawal of %s exceeds the position's value %s", d.market.ID, amount, held)
	}
	switch w.Mode {
	case adapters.ExitInstant:
		return d.instant(op, pos, env, amount, w)
	case adapters.ExitQueue:
		return d.queue(op, pos, env, amount, w.All)
	}
	ip, iFill, ierr := d.instant(op, pos, env, amount, adapters.Withdrawal{All: w.All, MaxSlippage: w.MaxSlippage})
	qp, qFill, qerr := d.queue(op, pos, env, amount, w.All)
	switch {
	case ierr != nil && qerr != nil:
		return pos, adapters.Fill{}, ierr
	case ierr != nil:
		return qp, qFill, nil
	case qerr != nil:
		return ip, iFill, nil
	}
	// The queue costs its request now and its claim later.
	if iFill.Cost().LessThanOrEqual(qFill.Cost().Add(env.GasCost(d.gasClaim))) {
		return ip, iFill, nil
	}
	return qp, qFill, nil
}

// take removes units (or all of them) from pos and the matching share of
// its principal.
func take(pos *adapters.Position, units fixed.Num, all bool) {
	held := pos.Units
	if all || units.Cmp(held) >= 0 {
		pos.Units = fixed.Num{}
		pos.Principal = fixed.Num{}
		return
	}
	if held.Sign() > 0 {
		p := pos.Principal
		cut := p.MulDivRound(units, held)
		pos.Units, pos.Principal = held.Sub(units), p.Sub(cut)
		return
	}
	pos.Units = held.Sub(units)
}

func (d *Staking) instant(op string, pos adapters.Position, env *adapters.Env, amount fixed.Num, w adapters.Withdrawal) (adapters.Position, adapters.Fill, error) {
	liq := d.exitLiq(env)
	if liq <= 0 && !d.burns(amount.Float()) {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInsufficientLiquidity, "%s has no instant-exit liquidity", d.market.ID)
	}
	all := w.All
	partial := false
	am := amount
	a := am.Float()
	if top := math.Max(liq, d.burnLiq); a > top {
		if !w.AllowPartial {
			return pos, adapters.Fill{}, adapters.E(op, adapters.KindInsufficientLiquidity,
				"%s: instant exit of %s exceeds the exit liquidity %g", d.market.ID, amount, top)
		}
		amount = fixed.FastNum(top)
		am = amount
		a = am.Float()
		all, partial = false, true
	}
	units := pos.Units
	if !all {
		units = am.DivRoundRate(pos.Index)
	}
	gasW := env.GasCost(d.gasWithdraw)
	slip, fee, gas := d.instantCosts(env, am, a, liq, d.peg(env), gasW)
	if w.MaxSlippage > 0 {
		if frac := slip.Float() / a; frac > w.MaxSlippage {
			return pos, adapters.Fill{}, adapters.E(op, adapters.KindCapExceeded,
				"%s: instant exit slippage %.6g exceeds the bound %.6g", d.market.ID, frac, w.MaxSlippage)
		}
	}
	got := am.Sub(slip).Sub(fee).Sub(gas)
	if got.Sign() < 0 {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid,
			"%s: instant exit of %s does not cover its costs (%s)", d.market.ID, amount, slip.Add(fee).Add(gas))
	}
	take(&pos, units, all)
	route := d.routeSwap
	if d.burns(a) {
		route = "burn"
	}
	return pos, adapters.Fill{Amount: got, Value: amount, Gas: gasW, Slippage: slip, Fee: fee, Partial: partial, Route: route}, nil
}

// queue requests a withdrawal through the protocol's queue. The request's
// gas comes out of the claim, so nothing leaves idle: the claim pays
// (amount - gas) at the current rate when ready, and stays exposed to
// slashing until then.
func (d *Staking) queue(op string, pos adapters.Position, env *adapters.Env, amount fixed.Num, all bool) (adapters.Position, adapters.Fill, error) {
	if pos.Paused {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindPaused, "%s is paused: its withdrawal queue is closed", d.market.ID)
	}
	if d.noQueue {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "%s has no withdrawal queue a vault can use: it leaves through a burn or a swap", d.market.ID)
	}
	if !d.QueueOpen(env.Time) {
		since, _ := d.withdrawalDays.Since()
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "%s has no withdrawal queue before %s: it leaves only through a swap",
			d.market.ID, since.Format("2006-01-02"))
	}
	gas := env.GasCost(d.gasWithdraw)
	am, gn := amount, gas
	if gn.Cmp(am) >= 0 {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "%s: queued withdrawal of %s does not cover its gas %s", d.market.ID, amount, gas)
	}
	units := pos.Units
	if !all {
		units = am.DivRoundRate(pos.Index)
	}
	c := adapters.Claim{
		Units:     am.Sub(gn).DivRoundRate(pos.Index),
		Index:     pos.Index,
		Requested: env.Time,
		ReadyAt:   env.Time.Add(d.Delay(env)),
	}
	take(&pos, units, all)
	claims := make([]adapters.Claim, len(pos.Claims), len(pos.Claims)+1)
	copy(claims, pos.Claims)
	pos.Claims = append(claims, c)
	return pos, adapters.Fill{Value: amount, Gas: gas, Queued: &c, Route: "queue"}, nil
}

// Claim pays out every claim whose ReadyAt is at or before env.Time: units
// x the index at request, as cut by slashes since. The claim's gas is
// taken from the payout (at most all of it).
func (d *Staking) Claim(pos adapters.Position, env *adapters.Env) (adapters.Position, adapters.Fill, error) {
	op := d.opClaim
	if pos.Paused {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindPaused, "%s is paused: claims are halted", d.market.ID)
	}
	var (
		payout = decimal.Zero
		keep   []adapters.Claim
		n      int
		next   time.Time
	)
	for _, c := range pos.Claims {
		if !c.ReadyAt.After(env.Time) {
			payout = payout.Add(c.Amount())
			n++
			continue
		}
		if next.IsZero() || c.ReadyAt.Before(next) {
			next = c.ReadyAt
		}
		keep = append(keep, c)
	}
	if n == 0 {
		if len(pos.Claims) == 0 {
			return pos, adapters.Fill{}, adapters.E(op, adapters.KindNotReady, "%s: no queued withdrawal", d.market.ID)
		}
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindNotReady, "%s: no queued withdrawal is ready (next at %s)", d.market.ID, next.UTC().Format(time.RFC3339))
	}
	gas := env.GasCost(d.gasClaim)
	pn := fixed.FromDec(payout)
	if gas.GreaterThan(pn) {
		gas = pn
	}
	pos.Claims = keep
	return pos, adapters.Fill{Amount: pn.Sub(gas), Value: pn, Gas: gas}, nil
}

// Harvest claims pos.Rewards and swaps them to base at harvest_swap_cost
// (reported as Fee) plus gas_harvest. Nothing to harvest fails with
// KindNotReady; rewards that do not cover the costs fail with KindInvalid
// and change nothing.
func (d *Staking) Harvest(pos adapters.Position, env *adapters.Env) (adapters.Position, adapters.Fill, error) {
	op := d.opHarvest
	d.Accrue(&pos, env)
	if pos.Rewards.Sign() <= 0 {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindNotReady, "%s: no rewards to harvest", d.market.ID)
	}
	rewards := pos.Rewards
	fee := pos.Rewards.MulQ(d.harvestSwapCost) // Quantize(rewards x FastDecimal(cost))
	gas := env.GasCost(d.gasHarvest)
	got := rewards.Sub(fee).Sub(gas)
	if got.Sign() < 0 {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid,
			"%s: rewards of %s do not cover the harvest cost %s", d.market.ID, rewards, fee.Add(gas))
	}
	f := adapters.Fill{Amount: got, Value: rewards, Gas: gas, Fee: fee}
	pos.Rewards = fixed.Num{}
	return pos, f, nil
}

// Hits reports whether an event with the given scope hits the market: an
// empty scope always does; otherwise the market must carry the tag.
func (d *Staking) Hits(scope string) bool {
	return scope == "" || d.market.HasTag(scope)
}

// exposure is the share of the market a slash scoped to scope cuts
// (adapters.Market.ExposureTo; an unknown share cuts fully).
func (d *Staking) exposure(scope string) float64 {
	share, _ := d.market.ExposureTo(scope)
	return share
}

// Apply applies an event. A slash whose scope hits the market cuts the
// position's units and every queued claim's units by size x the market's
// exposure to the scope (Market.ExposureTo: the share of its backing the
// scope names, 1 when unscoped or unknown) x (1 - insurance_cap) and
// returns the value lost at rate pricing. Pause and
// unpause set and clear Position.Paused. A depeg changes nothing (its
// effect is in the observed price). Bad debt is not a staking event.
func (d *Staking) Apply(pos adapters.Position, env *adapters.Env, ev adapters.Event) (adapters.Position, decimal.Decimal, error) {
	op := d.opApply
	d.Accrue(&pos, env)
	switch ev.Type {
	case adapters.EventSlash:
		if !d.Hits(ev.Scope) {
			return pos, decimal.Zero, nil
		}
		eff := ev.Size * d.exposure(ev.Scope) * (1 - d.insurance)
		if eff <= 0 {
			return pos, decimal.Zero, nil
		}
		keep := adapters.FromFloat(1 - eff)
		before := d.Value(&pos, env, adapters.PriceRate)
		pos.Units = fixed.FromDec(adapters.Quantize(pos.Units.Dec().Mul(keep)))
		after := d.Value(&pos, env, adapters.PriceRate)
		loss := before.Sub(after)
		if len(pos.Claims) > 0 {
			claims := make([]adapters.Claim, len(pos.Claims))
			for i, c := range pos.Claims {
				b := c.Amount()
				c.Units = fixed.FromDec(adapters.Quantize(c.Units.Dec().Mul(keep)))
				loss = loss.Add(b.Sub(c.Amount()))
				claims[i] = c
			}
			pos.Claims = claims
		}
		return pos, loss, nil
	case adapters.EventDepeg:
		return pos, decimal.Zero, nil
	case adapters.EventPause:
		pos.Paused = true
		return pos, decimal.Zero, nil
	case adapters.EventUnpause:
		pos.Paused = false
		return pos, decimal.Zero, nil
	}
	return pos, decimal.Zero, adapters.E(op, adapters.KindInvalid, "%s: a %s event does not apply to a %s market", d.market.ID, ev.Type, d.market.Kind)
}

// MarkBasis is a column of s when every row of s observes an exchange
// rate (adapters.Marker): rate values a unit at the observed exchange
// rate, whatever the position. At rate pricing the basis is that rate;
// at market pricing a value-accruing token's unit is worth the rate
// times its peg, the price over the rate, so the basis is the price
// when every row observes one and no rate was derived from it. A
// rebasing token's market value is the rate times the price, no column
// of s: it has no basis there.
func (d *Staking) MarkBasis(s *adapters.Series, pricing adapters.Pricing) (col []float64, growth, ok bool) {
	rate := adapters.CompleteColumn(s, adapters.FieldExchangeRate)
	if rate == nil {
		return nil, false, false
	}
	switch {
	case pricing == adapters.PriceRate:
		col = rate
	case pricing == adapters.PriceMarket && d.pegBasis == adapters.PegRate && !s.Derived.Has(adapters.FieldExchangeRate):
		col = adapters.CompleteColumn(s, adapters.FieldPrice)
	}
	return col, false, col != nil
}
