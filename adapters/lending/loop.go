package lending

import (
	"fmt"
	"math"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/internal/mech"
	"github.com/yieldvault/yieldvault/fixed"
)

// Loop is the driver of a leveraged loop market (a lending market with
// adapters.Market.Legs): one position holds collateral supplied to one
// reserve and debt borrowed from another of the same protocol. Its
// observation is the composed one (adapters.ComposeLoop): the collateral's
// liquidity index, supply APY, oracle exchange rate and market price; the
// debt's borrow index, borrow APY, utilization and size.
//
// The position's Units are the collateral's scaled balance (tokens over
// the liquidity index), Index the liquidity index and Rate the token's
// exchange rate at Last, so the collateral is worth Units x Index x Rate
// in the base asset; Debt is the scaled debt, worth Debt x DebtIndex. Its
// value is the equity, collateral less debt, floored at zero: a loan is
// non-recourse, so a position whose debt exceeds its collateral is worth
// nothing to the vault (and is liquidated).
//
// Loop is immutable after NewLoop and safe for concurrent use.
type Loop struct {
	market adapters.Market
	rates  Rates // the debt reserve's rate model over time
	params mech.UnitParams

	ltv, lltv, bonus, closeFactor, fullHF, cursor, maxLIF adapters.Dated
	borrowCap, oracleMarket, flashFee, swapCost           adapters.Dated
	gasBorrow, gasRepay, gasMint, gasFlash                adapters.Dated
	// The collateral token's withdrawal queue, for unwinds through it
	// (loopqueue.go): its delay, and the gas of a request and a claim.
	withdrawalDays, gasQueue, gasClaim adapters.Dated
	// emode is the Aave e-mode category the ltv and lltv are of.
	emode adapters.Dated
	// capParam is the borrow_cap parameter (for its source notes), hasCap
	// whether the profile sets it.
	capParam adapters.Param
	hasCap   bool
}

// NewLoop builds the driver of a loop market. The profile must give ltv
// and lltv (0 < ltv <= lltv < 1 whenever they are in force); the
// liquidation incentive comes from liquidation_bonus, or from
// liquidation_cursor and max_liquidation_incentive (Morpho's formula).
func NewLoop(m adapters.Market, p *adapters.Profile) (*Loop, error) {
	const op = "lending.NewLoop"
	up, err := mech.ReadUnitParams(op, m, p, adapters.Lending, "a lending")
	if err != nil {
		return nil, err
	}
	if err := up.Check(op, m.ID); err != nil {
		return nil, err
	}
	if m.Legs == nil {
		return nil, adapters.E(op, adapters.KindInvalid, "market %s has no legs: it is not a loop", m.ID)
	}
	rates, err := RatesFromProfile(p)
	if err != nil {
		return nil, adapters.Wrap(op, adapters.KindInvalid, err)
	}
	d := &Loop{market: m, rates: rates, params: up}
	d.capParam, d.hasCap = p.Params["borrow_cap"]
	for _, f := range []struct {
		name string
		dst  *adapters.Dated
	}{
		{"ltv", &d.ltv}, {"lltv", &d.lltv}, {"liquidation_bonus", &d.bonus},
		{"close_factor", &d.closeFactor}, {"close_factor_full_hf", &d.fullHF},
		{"liquidation_cursor", &d.cursor}, {"max_liquidation_incentive", &d.maxLIF},
		{"borrow_cap", &d.borrowCap}, {"oracle_market_price", &d.oracleMarket},
		{"flash_loan_fee", &d.flashFee}, {"unwind_swap_cost", &d.swapCost},
		{"gas_borrow", &d.gasBorrow}, {"gas_repay", &d.gasRepay}, {"gas_mint", &d.gasMint}, {"gas_flash", &d.gasFlash},
		{"withdrawal_days", &d.withdrawalDays}, {"gas_queue", &d.gasQueue}, {"gas_claim", &d.gasClaim},
		{"emode", &d.emode},
	} {
		*f.dst = p.DatedParam(f.name)
	}
	if !d.ltv.Set() || !d.lltv.Set() {
		return nil, adapters.E(op, adapters.KindInvalid, "loop market %s: profile %s must set ltv and lltv", m.ID, p.Name)
	}
	if !(d.ltv.Min() > 0 && d.ltv.Max() < 1 && d.lltv.Max() < 1 && d.ltv.Max() <= d.lltv.Max()) {
		return nil, adapters.E(op, adapters.KindInvalid, "loop market %s: ltv %g..%g and lltv %g..%g must satisfy 0 < ltv <= lltv < 1", m.ID, d.ltv.Min(), d.ltv.Max(), d.lltv.Min(), d.lltv.Max())
	}
	if d.closeFactor.Set() && !(d.closeFactor.Min() > 0 && d.closeFactor.Max() <= 1) {
		return nil, adapters.E(op, adapters.KindInvalid, "loop market %s: close_factor must be within (0, 1]", m.ID)
	}
	if !d.bonus.Set() && !d.cursor.Set() {
		return nil, adapters.E(op, adapters.KindInvalid, "loop market %s: profile %s sets neither liquidation_bonus nor liquidation_cursor", m.ID, p.Name)
	}
	return d, nil
}

// LTV is the loan-to-value ratio a borrow may reach at t (0 before the
// profile's ltv is in force: the market did not exist then).
func (d *Loop) LTV(t time.Time) float64 { return d.ltv.Or(t, 0) }

// LLTV is the liquidation threshold at t: the loan-to-value above which
// the position may be liquidated.
func (d *Loop) LLTV(t time.Time) float64 { return d.lltv.Or(t, 0) }

// MaxLeverage is the most collateral per unit of equity a borrow can reach
// at t: 1 / (1 - ltv).
func (d *Loop) MaxLeverage(t time.Time) float64 {
	l := d.LTV(t)
	if !(l > 0 && l < 1) {
		return 1
	}
	return 1 / (1 - l)
}

// Incentive is the liquidation incentive factor at t: 1 + liquidation_bonus
// (Aave), or min(max_liquidation_incentive, 1 / (cursor x LLTV + 1 -
// cursor)) when liquidation_cursor is set (Morpho Blue's
// liquidationIncentiveFactor).
func (d *Loop) Incentive(t time.Time) float64 {
	if c, ok := d.cursor.At(t); ok && c > 0 {
		f := 1 / (c*d.LLTV(t) + 1 - c)
		if m, ok := d.maxLIF.At(t); ok && m > 0 {
			f = math.Min(m, f)
		}
		return f
	}
	return 1 + d.bonus.Or(t, 0)
}

// BorrowCap is the debt reserve's borrow cap at t in base units: 0 when
// none is known to bound the market's borrowing then.
func (d *Loop) BorrowCap(t time.Time) float64 {
	if c, ok := d.borrowCap.At(t); ok && c > 0 {
		return c
	}
	return 0
}

// UncappedFrom is the first time in [from, to] at which no borrow cap
// bounds the market (adapters.BorrowCapper), and why: the parameter's
// source note then, or that the profile sets none or that it is not in
// force yet.
func (d *Loop) UncappedFrom(from, to time.Time) (time.Time, string, bool) {
	if !d.hasCap {
		return from, "the profile sets no borrow_cap: no source for the debt reserve's cap was read", true
	}
	times := []time.Time{from}
	for _, b := range d.borrowCap.Breaks() {
		if b.After(from) && !b.After(to) {
			times = append(times, b)
		}
	}
	for _, t := range times {
		if d.BorrowCap(t) > 0 {
			continue
		}
		if v, src, ok := d.capParam.AtTime(t); ok && v == 0 {
			return t, src, true
		}
		since, _ := d.borrowCap.Since()
		return t, fmt.Sprintf("the borrow_cap the profile sets is in force only from %s", since.Format(time.DateOnly)), true
	}
	return time.Time{}, "", false
}

// OracleMarketPrice reports whether the protocol's oracle prices the
// collateral at its market price at t (else at its exchange rate).
func (d *Loop) OracleMarketPrice(t time.Time) bool { return d.oracleMarket.Or(t, 0) != 0 }

// loopState is a position projected to an environment's time.
type loopState struct {
	idx, rate, didx float64 // liquidity index, exchange rate, borrow index
	apy, bapy       float64 // collateral supply APY and borrow APY used
	price           float64 // the collateral token's market price in base (rate when unobserved)
	oracle          float64 // the oracle's price of one token in base
}

// project brings pos's indexes to env.Time without changing it.
func (d *Loop) project(pos *adapters.Position, env *adapters.Env) loopState {
	s := loopState{idx: pos.Index, rate: pos.Rate, didx: pos.DebtIndex, apy: pos.APY}
	if s.idx <= 0 {
		s.idx = 1
	}
	if s.rate <= 0 {
		s.rate = 1
	}
	if s.didx <= 0 {
		s.didx = 1
	}
	if env == nil {
		s.price, s.oracle = s.rate, s.rate
		return s
	}
	o := &env.Obs
	years := 0.0
	if !pos.Last.IsZero() && env.Time.After(pos.Last) {
		years = float64(env.Time.Sub(pos.Last)) / float64(time.Second) / year
	}
	if a, ok := o.Get(adapters.FieldAPY); ok {
		s.apy = a
	}
	rateObserved := false
	if v, ok := o.Get(adapters.FieldExchangeRate); ok && v > 0 && !math.IsInf(v, 0) {
		s.rate, rateObserved = v, true
	}
	if v, ok := o.Get(adapters.FieldIndex); ok && v > 0 && !math.IsInf(v, 0) {
		s.idx = v
	} else if years > 0 && s.apy > -1 && !rateObserved {
		// apy is the collateral's whole yield: with neither the index
		// nor the rate observed it compounds into the index; with the
		// rate observed, the rate carries it.
		s.idx *= math.Exp(years * math.Log1p(s.apy))
	}
	s.bapy = d.borrowAPY(pos, env, s)
	if v, ok := o.Get(adapters.FieldBorrowIndex); ok && v > 0 && !math.IsInf(v, 0) {
		s.didx = v
	} else if years > 0 && s.bapy > -1 {
		s.didx *= math.Exp(years * math.Log1p(s.bapy))
	}
	s.price = s.rate
	if p, ok := o.Get(adapters.FieldPrice); ok && p > 0 && !math.IsInf(p, 0) {
		s.price = p
	}
	s.oracle = s.rate
	if d.OracleMarketPrice(env.Time) {
		s.oracle = s.price
	}
	return s
}

// borrowAPY is the borrow APY the position's debt accrues at when the
// history has no borrow index: the observed borrow APY (else the model's at
// the observed utilization) times the model's borrow rate with the
// position's own debt in the market over the model's without it
// (UtilizationAfter), when the market's size is known.
func (d *Loop) borrowAPY(pos *adapters.Position, env *adapters.Env, s loopState) float64 {
	o := &env.Obs
	m := d.rates.At(env.Time)
	u, okU := o.Get(adapters.FieldUtilization)
	b, okB := o.Get(adapters.FieldBorrowAPY)
	if !okB {
		if !okU {
			return 0
		}
		b = m.Borrow(u)
	}
	own := 0.0
	if pos.Debt.Sign() > 0 {
		own = pos.Debt.Float() * s.didx
	}
	return b * d.ownRatio(o, m, own)
}

// ownRatio is the model's borrow rate with own base units more borrowed
// from the debt market over its rate without them (1 when the market's
// size or utilization is unknown).
func (d *Loop) ownRatio(o *adapters.Observation, m Model, own float64) float64 {
	u, okU := o.Get(adapters.FieldUtilization)
	supply, okS := o.Get(adapters.FieldSupply)
	if own <= 0 || !okU || !okS || supply <= 0 {
		return 1
	}
	b0 := m.Borrow(u)
	if !(b0 > 0) {
		return 1
	}
	return m.Borrow(UtilizationAfter(u, supply, 0, own)) / b0
}

// amounts are a projected position's collateral (at rate, at market and at
// the oracle's price) and debt, in the base asset.
type amounts struct {
	coll, collMarket, collOracle, debt decimal.Decimal
}

func (d *Loop) amounts(pos *adapters.Position, s loopState) amounts {
	var a amounts
	if pos.Units.Sign() > 0 {
		a.coll = pos.Units.MulRate(s.idx * s.rate).Dec()
		a.collMarket = pos.Units.MulRate(s.idx * s.price).Dec()
		a.collOracle = pos.Units.MulRate(s.idx * s.oracle).Dec()
	}
	if pos.Debt.Sign() > 0 {
		a.debt = pos.Debt.MulRate(s.didx).Dec()
	}
	return a
}

// Accrue brings pos to env.Time: the collateral's liquidity index (observed,
// else compounded at its supply APY), its exchange rate (observed, else
// unchanged) and the borrow index (observed, else compounded at the borrow
// APY after the position's own debt, see borrowAPY).
func (d *Loop) Accrue(pos *adapters.Position, env *adapters.Env) {
	if !env.Time.After(pos.Last) {
		return
	}
	s := d.project(pos, env)
	pos.Index, pos.Rate, pos.DebtIndex, pos.APY = s.idx, s.rate, s.didx, s.apy
	pos.Last = env.Time
}

// Value is the position's equity: collateral (at its exchange rate, or at
// its market price with PriceMarket) less debt, floored at zero.
func (d *Loop) Value(pos *adapters.Position, env *adapters.Env, pricing adapters.Pricing) decimal.Decimal {
	if pos.Units.Sign() == 0 {
		return decimal.Zero
	}
	s := d.project(pos, env)
	px := s.rate
	if pricing == adapters.PriceMarket {
		px = s.price
	}
	// On fixed.Num (the arithmetic amounts' decimals would give), one
	// decimal built at the end: Value runs at every step.
	v := pos.Units.MulRate(s.idx * px)
	if pos.Debt.Sign() > 0 {
		v = v.Sub(pos.Debt.MulRate(s.didx))
	}
	if v.Sign() > 0 {
		return v.Dec()
	}
	return decimal.Zero
}

// Figures returns the loop figures of pos at env, or, for an empty
// position, of a loop at the given leverage opened now (leverage <= 1: no
// debt) (adapters.Leverer).
func (d *Loop) Figures(pos *adapters.Position, env *adapters.Env, leverage float64) adapters.LoopFigures {
	s := d.project(pos, env)
	t := env.Time
	f := adapters.LoopFigures{MaxLTV: d.LTV(t), LLTV: d.LLTV(t), MaxLeverage: d.MaxLeverage(t), SupplyAPY: s.apy,
		BorrowAPY: s.bapy, OracleMarket: d.OracleMarketPrice(t), BorrowCap: d.BorrowCap(t), EMode: int(d.emode.Or(t, 0))}
	if s.oracle > 0 {
		f.OracleGap = s.price/s.oracle - 1
	}
	lev, ltv := leverage, 0.0
	if pos.Units.Sign() > 0 {
		c, co := pos.Units.MulRate(s.idx*s.rate).Float(), pos.Units.MulRate(s.idx*s.oracle).Float()
		b := 0.0
		if pos.Debt.Sign() > 0 {
			b = pos.Debt.MulRate(s.didx).Float()
		}
		lev = 1
		if c > b && c > 0 {
			lev = c / (c - b)
		}
		if co > 0 {
			ltv = b / co
		}
	} else {
		lev = math.Max(1, lev)
		ltv = (lev - 1) / lev * s.rate / s.oracle
	}
	f.Leverage, f.LTV = lev, ltv
	f.LiquidationDrop = 1
	if ltv > 0 && f.LLTV > 0 {
		f.HealthFactor = f.LLTV / ltv
		f.LiquidationDrop = math.Max(0, 1-1/f.HealthFactor)
	}
	return f
}

// Relever moves pos to leverage at constant equity less costs
// (adapters.Leverer). Up: debt dB is borrowed and, less the route's gas
// and premium, minted into collateral, dB = L'(E - cost) - C + cost. Down:
// collateral worth dC at the rate is sold through the venue at its market
// price less unwind_swap_cost (q per unit) and repays dB of debt and the
// route's costs g, dC = (dB + g) / q, dB = (C - L'E + g(L'-1)/q) / (L' -
// (L'-1)/q). Leverage above MaxLeverage fails with KindCapExceeded; a sale
// beyond the exit liquidity with KindInsufficientLiquidity.
func (d *Loop) Relever(pos adapters.Position, env *adapters.Env, leverage float64) (adapters.Position, adapters.Fill, error) {
	const op = "lending.Loop.Relever"
	if pos.Paused {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindPaused, "%s is paused", d.market.ID)
	}
	if pos.Unwinding() {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "%s is being unwound through the withdrawal queue: it is not relevered until the unwind ends", d.market.ID)
	}
	t := env.Time
	if max := d.MaxLeverage(t); leverage > max*(1+1e-12) {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindCapExceeded, "%s: leverage %.4g is above the %.4g an LTV of %.4g allows", d.market.ID, leverage, max, d.LTV(t))
	}
	d.Accrue(&pos, env)
	s := d.project(&pos, env)
	a := d.amounts(&pos, s)
	C, B := adapters.Float(a.coll), adapters.Float(a.debt)
	E := C - B
	if !(E > 0) {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "%s: the position has no equity to relever", d.market.ID)
	}
	L := C / E
	pos.Leverage = leverage
	collUnit, debtUnit := s.idx*s.rate, s.didx
	switch {
	case leverage > L:
		est := adapters.FromFloat(leverage*E - C)
		r := d.cheaper(env, est, leverage/L, d.gasBorrow.Or(t, 0)+d.gasMint.Or(t, 0)+d.params.GasDeposit, 0)
		cost := r.gas.Add(r.fee).Float()
		dB := leverage*(E-cost) - C + cost
		if dB <= 0 || cost >= E {
			return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "%s: relevering from %.4g to %.4g costs %g, more than it moves", d.market.ID, L, leverage, cost)
		}
		if err := d.ltvAllows(op, &pos, s, dB-cost, dB, t); err != nil {
			return pos, adapters.Fill{}, err
		}
		if c, ok := d.borrowCap.At(t); ok && c > 0 && env.Obs.Value(adapters.FieldBorrows, 0)+B+dB > c {
			return pos, adapters.Fill{}, adapters.E(op, adapters.KindCapExceeded, "%s: borrowing %g more would take the market's borrows past its cap of %g", d.market.ID, dB, c)
		}
		pos.Units = pos.Units.Add(fixed.NumFromFloat(dB - cost).DivRoundRate(collUnit))
		pos.Debt = pos.Debt.Add(fixed.NumFromFloat(dB).DivRoundRate(debtUnit))
		return pos, adapters.Fill{Gas: r.gas, Fee: r.fee, Route: r.name}, nil
	case leverage < L:
		q := s.price / s.rate * (1 - d.swapCost.Or(t, 0))
		est := adapters.FromFloat(B - (leverage-1)*E)
		r := d.cheaper(env, est, L/leverage, d.gasRepay.Or(t, 0)+d.params.GasWithdraw, 0)
		g := r.gas.Add(r.fee).Float()
		dB := (C - leverage*E + g*(leverage-1)/q) / (leverage - (leverage-1)/q)
		if leverage <= 1 || dB > B {
			dB = B
		}
		dC := (dB + g) / q
		if x, ok := env.Obs.Get(adapters.FieldExitLiquidity); ok && dC > x {
			return pos, adapters.Fill{}, adapters.E(op, adapters.KindInsufficientLiquidity, "%s: deleveraging sells %.6g of collateral; the venue takes %.6g now", d.market.ID, dC, x)
		}
		if dC >= C {
			return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "%s: deleveraging to %.4g would sell all the collateral", d.market.ID, leverage)
		}
		units := fixed.NumFromFloat(dC).DivRoundRate(collUnit)
		if dB >= B {
			pos.Debt = fixed.Num{}
		} else {
			pos.Debt = pos.Debt.Sub(fixed.NumFromFloat(dB).DivRoundRate(debtUnit))
		}
		pos.Units = pos.Units.Sub(units)
		slip := dC - dB - g
		return pos, adapters.Fill{Gas: r.gas, Fee: r.fee, Slippage: fixed.NumFromFloat(slip), Route: r.name}, nil
	}
	return pos, adapters.Fill{}, nil
}

// route is how a loop is opened or unwound: rounds of supply, borrow and
// mint (gas each), or one flash loan (gas plus the premium on the
// borrowed amount), whichever costs less.
type route struct {
	name  string
	steps int
	gas   fixed.Num
	fee   fixed.Num
}

// rounds is the number of borrow rounds that take one unit of equity to
// leverage lev when each round can borrow ltv of the collateral the last
// added: after k rounds the leverage is (1 - ltv^(k+1)) / (1 - ltv).
func rounds(lev, ltv float64) int {
	if lev <= 1 {
		return 0
	}
	n, l := 0, 1.0
	for l < lev-1e-12 && n < 1000 {
		l = 1 + ltv*l
		n++
	}
	return n
}

// cheaper picks the route of a borrow (or repay) of borrowed base units at
// leverage lev: n rounds of per-step gas, or a flash loan.
func (d *Loop) cheaper(env *adapters.Env, borrowed decimal.Decimal, lev float64, perStep, base float64) route {
	t := env.Time
	n := rounds(lev, d.LTV(t))
	steps := route{name: fmt.Sprintf("loop: %d borrow rounds", n), steps: n, gas: env.GasCost(base + float64(n)*perStep)}
	if n == 0 || borrowed.Sign() == 0 {
		steps.name = "supply"
		return steps
	}
	fg, ok := d.gasFlash.At(t)
	if !ok {
		return steps
	}
	flash := route{name: "flash loan", steps: 1, gas: env.GasCost(fg), fee: fixed.FromDec(mech.MulRate(borrowed, d.flashFee.Or(t, 0)))}
	if flash.gas.Add(flash.fee).Cmp(steps.gas) < 0 {
		return flash
	}
	return steps
}

// Quote prices a deposit of amount opened at leverage 1 (the Quote
// contract has no leverage; Figures gives a levered loop's figures).
func (d *Loop) Quote(env *adapters.Env, amount fixed.Num) (adapters.Quote, error) {
	var pos adapters.Position
	if h := env.Held; h != nil && h.Market == d.market.ID {
		pos = *h
	}
	f := d.Figures(&pos, env, pos.Leverage)
	lev := f.Leverage
	apy := lev*f.SupplyAPY - (lev-1)*f.BorrowAPY
	if math.IsNaN(apy) || math.IsInf(apy, 0) {
		apy = 0
	}
	gas := env.GasCost(d.params.GasDeposit)
	q := adapters.Quote{APY: apy, EntryCost: gas, ExitCost: env.GasCost(d.params.GasWithdraw), MaxInstantExit: amount}
	if x, ok := env.Obs.Get(adapters.FieldExitLiquidity); ok && x >= 0 {
		q.MaxInstantExit = fixed.NumFromFloat(x / math.Max(1, lev))
	}
	// The queue's delay: a round per repayment the unwind needs, each a
	// queue's delay (collateral at the oracle's price, debt at par).
	if d.QueueOpen(env.Time) {
		s := d.project(&pos, env)
		q.ExitDelay = time.Duration(QueueRounds(lev*s.oracle/s.rate, lev-1, f.MaxLTV)) * d.Delay(env)
	} else {
		q.QueueClosed = true
	}
	return q, nil
}

// Deposit adds amount of equity at the position's Leverage (1 when unset):
// the amount, less the route's gas and flash-loan premium, is supplied as
// collateral together with (Leverage - 1) times it borrowed and minted
// into the collateral token at its exchange rate. A leverage above the
// market's MaxLeverage, or a borrow past the profile's borrow_cap, fails
// with KindCapExceeded.
func (d *Loop) Deposit(pos adapters.Position, env *adapters.Env, amountN fixed.Num) (adapters.Position, adapters.Fill, error) {
	const op = "lending.Loop.Deposit"
	if pos.Paused {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindPaused, "%s is paused", d.market.ID)
	}
	t := env.Time
	if d.LTV(t) <= 0 {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "%s: the market does not exist at %s (its ltv is not in force)", d.market.ID, t.Format(time.DateOnly))
	}
	d.Accrue(&pos, env)
	lev := math.Max(1, pos.Leverage)
	if max := d.MaxLeverage(t); lev > max*(1+1e-12) {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindCapExceeded, "%s: leverage %.4g is above the %.4g an LTV of %.4g allows", d.market.ID, lev, max, d.LTV(t))
	}
	s := d.project(&pos, env)
	per := d.gasBorrow.Or(t, 0) + d.gasMint.Or(t, 0) + d.params.GasDeposit
	amount := amountN.Dec()
	est := mech.MulRate(amount, lev-1)
	r := d.cheaper(env, est, lev, per, d.params.GasDeposit)
	eq := amount.Sub(r.gas.Dec()).Sub(r.fee.Dec())
	if eq.Sign() <= 0 {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "%s: deposit of %s does not cover the %s route's gas %s and fee %s", d.market.ID, amount, r.name, r.gas, r.fee)
	}
	coll := mech.MulRate(eq, lev)
	debt := coll.Sub(eq)
	if err := d.ltvAllows(op, &pos, s, adapters.Float(coll), adapters.Float(debt), t); err != nil {
		return pos, adapters.Fill{}, err
	}
	if c, ok := d.borrowCap.At(t); ok && c > 0 && debt.Sign() > 0 {
		mkt := env.Obs.Value(adapters.FieldBorrows, 0)
		if mkt+pos.Debt.Float()*s.didx+adapters.Float(debt) > c {
			return pos, adapters.Fill{}, adapters.E(op, adapters.KindCapExceeded, "%s: borrowing %s would take the market's borrows past its cap of %g", d.market.ID, debt, c)
		}
	}
	pos.Units = pos.Units.Add(fixed.FromDec(coll).DivRoundRate(s.idx * s.rate))
	if debt.Sign() > 0 {
		pos.Debt = pos.Debt.Add(fixed.FromDec(debt).DivRoundRate(s.didx))
	}
	pos.Index, pos.Rate, pos.DebtIndex = s.idx, s.rate, s.didx
	pos.Principal = pos.Principal.Add(amountN)
	if pos.Last.Before(t) || pos.Last.IsZero() {
		pos.Last = t
	}
	return pos, adapters.Fill{Amount: amountN, Value: fixed.FromDec(eq), Gas: r.gas, Fee: r.fee, Route: r.name}, nil
}

// Withdraw unwinds a share of the loop: the same share of its collateral
// is withdrawn and sold for the base asset through the token's venue (at
// its market price less unwind_swap_cost; the discount to the exchange
// rate is slippage), and the same share of its debt is repaid out of it,
// by rounds or a flash loan. The sale is bounded by the observed exit
// liquidity: more fails with KindInsufficientLiquidity, or fills partly
// with AllowPartial. ExitQueue unwinds through the collateral token's
// withdrawal queue instead, in rounds (queueUnwind); ExitAuto sells
// through the venue and queues when the venue cannot take the sale.
func (d *Loop) Withdraw(pos adapters.Position, env *adapters.Env, w adapters.Withdrawal) (adapters.Position, adapters.Fill, error) {
	const op = "lending.Loop.Withdraw"
	if pos.Paused {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindPaused, "%s is paused", d.market.ID)
	}
	if w.Mode == adapters.ExitQueue {
		return d.queueUnwind(op, pos, env, w)
	}
	np, f, err := d.sellUnwind(op, pos, env, w)
	if err != nil && w.Mode == adapters.ExitAuto && adapters.KindOf(err) == adapters.KindInsufficientLiquidity && d.QueueOpen(env.Time) {
		return d.queueUnwind(op, pos, env, w)
	}
	return np, f, err
}

// sellUnwind is Withdraw through the collateral's venue.
func (d *Loop) sellUnwind(op string, pos adapters.Position, env *adapters.Env, w adapters.Withdrawal) (adapters.Position, adapters.Fill, error) {
	d.Accrue(&pos, env)
	t := env.Time
	s := d.project(&pos, env)
	a := d.amounts(&pos, s)
	eqv := a.coll.Sub(a.debt)
	if eqv.Sign() <= 0 {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "%s: the position has no equity to withdraw", d.market.ID)
	}
	share := 1.0
	if !w.All {
		if w.Amount.Dec().Cmp(eqv) > 0 {
			return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "%s: withdrawal of %s is more than the position's equity %s", d.market.ID, w.Amount, eqv)
		}
		share = w.Amount.Float() / adapters.Float(eqv)
	}
	partial := false
	if x, ok := env.Obs.Get(adapters.FieldExitLiquidity); ok {
		sell := adapters.Float(a.coll) * share
		if sell > x {
			if !w.AllowPartial {
				return pos, adapters.Fill{}, adapters.E(op, adapters.KindInsufficientLiquidity, "%s: unwinding sells %.6g of collateral; the venue takes %.6g now", d.market.ID, sell, x)
			}
			share, partial = math.Max(0, x/adapters.Float(a.coll)), true
			if share == 0 {
				return pos, adapters.Fill{}, adapters.E(op, adapters.KindInsufficientLiquidity, "%s: the venue has no liquidity now", d.market.ID)
			}
		}
	}
	all := w.All && !partial
	coll, debt := a.coll, a.debt
	if !all {
		coll, debt = mech.MulRate(a.coll, share), mech.MulRate(a.debt, share)
	}
	value := coll.Sub(debt)
	lev := adapters.Float(a.coll) / adapters.Float(eqv)
	per := d.gasRepay.Or(t, 0) + d.params.GasWithdraw
	r := d.cheaper(env, debt, lev, per, d.params.GasWithdraw)
	sale := mech.MulRate(coll, s.price/s.rate)
	swap := mech.MulRate(sale, d.swapCost.Or(t, 0))
	// Negative when the venue pays above the rate: a gain, reported as
	// such so that amount + costs is the value removed.
	slip := coll.Sub(sale).Add(swap)
	if w.MaxSlippage > 0 && adapters.Float(slip) > w.MaxSlippage*adapters.Float(value) {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindCapExceeded, "%s: unwinding costs %s in price and swap, above the %.4g allowed", d.market.ID, slip, w.MaxSlippage)
	}
	out := sale.Sub(swap).Sub(debt).Sub(r.gas.Dec()).Sub(r.fee.Dec())
	if out.Sign() <= 0 {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "%s: unwinding %s of equity does not cover its costs", d.market.ID, value)
	}
	if all {
		pos.Units, pos.Debt, pos.Principal = fixed.Num{}, fixed.Num{}, fixed.Num{}
	} else {
		pos.Units = pos.Units.Sub(pos.Units.MulRate(share))
		pos.Debt = pos.Debt.Sub(pos.Debt.MulRate(share))
		pos.Principal = pos.Principal.Sub(pos.Principal.MulRate(share))
	}
	clampUnwind(&pos)
	return pos, adapters.Fill{Amount: fixed.FromDec(out), Value: fixed.FromDec(value), Gas: r.gas, Fee: r.fee, Slippage: fixed.FromDec(slip), Partial: partial, Route: r.name}, nil
}

// Apply applies an event: a slash of the collateral token or bad debt of
// the collateral reserve cuts the collateral by its size (the equity by
// leverage times it), and the loss is the equity lost; a slash also cuts
// the claims of an unwind in the token's withdrawal queue (bad debt of the
// reserve does not: they have left it); pause and unpause set and clear
// Paused; a depeg changes nothing (its effect is in the observed price,
// which a market-price oracle then sees).
func (d *Loop) Apply(pos adapters.Position, env *adapters.Env, ev adapters.Event) (adapters.Position, decimal.Decimal, error) {
	if env != nil {
		d.Accrue(&pos, env)
	}
	switch ev.Type {
	case adapters.EventSlash, adapters.EventBadDebt:
		before := d.Value(&pos, env, adapters.PriceRate)
		pos.Units = pos.Units.MulRate(1 - ev.Size)
		pos.UnwindUnits = pos.UnwindUnits.MulRate(1 - ev.Size)
		lost := before.Sub(d.Value(&pos, env, adapters.PriceRate))
		if ev.Type == adapters.EventSlash && len(pos.Claims) > 0 {
			claims := make([]adapters.Claim, len(pos.Claims))
			for i, c := range pos.Claims {
				a := c.Amount()
				c.Units = c.Units.MulRate(1 - ev.Size)
				lost = lost.Add(a.Sub(c.Amount()))
				claims[i] = c
			}
			pos.Claims = claims
		}
		return pos, lost, nil
	case adapters.EventPause:
		pos.Paused = true
	case adapters.EventUnpause:
		pos.Paused = false
	}
	return pos, decimal.Zero, nil
}

// Health is the position's health factor at env: collateral at the
// oracle's price x LLTV / debt (+Inf without debt).
func (d *Loop) Health(pos *adapters.Position, env *adapters.Env) float64 {
	s := d.project(pos, env)
	return d.health(pos, s, env.Time)
}

func (d *Loop) health(pos *adapters.Position, s loopState, t time.Time) float64 {
	if pos.Debt.Sign() <= 0 {
		return math.Inf(1)
	}
	b := pos.Debt.MulRate(s.didx).Float()
	if b <= 0 {
		return math.Inf(1)
	}
	return pos.Units.MulRate(s.idx*s.oracle).Float() * d.LLTV(t) / b
}

// Liquidate applies the protocol's liquidation to a position whose health
// factor is below 1, call by call as liquidators would: each repays up to
// the close factor of the debt (close_factor; all of it once the health
// factor is at or below close_factor_full_hf, as Aave v3's
// CLOSE_FACTOR_HF_THRESHOLD; all of it when close_factor is unset, as
// Morpho Blue allows) and seizes that debt times the incentive factor
// (Incentive) in collateral at the oracle's price, until the position is
// healthy or has no collateral left. Debt left without collateral is bad
// debt: the lenders bear it, and the position is closed.
func (d *Loop) Liquidate(pos adapters.Position, env *adapters.Env) (adapters.Position, adapters.Liquidation, bool) {
	t := env.Time
	if pos.Last.Equal(t) && pos.Units.Sign() > 0 && pos.Debt.Sign() > 0 && !d.OracleMarketPrice(t) {
		// Accrued to t, priced at its exchange rate: the health factor
		// from the position's own indexes, in float64, far from 1 needs
		// no more (the vault asks at every step).
		if hf := pos.Units.Float() * pos.Index * pos.Rate * d.LLTV(t) / (pos.Debt.Float() * pos.DebtIndex); hf > 1+1e-6 {
			return pos, adapters.Liquidation{}, false
		}
	}
	d.Accrue(&pos, env)
	s := d.project(&pos, env)
	hf := d.health(&pos, s, t)
	if !(hf < 1) {
		return pos, adapters.Liquidation{}, false
	}
	before := d.Value(&pos, env, adapters.PriceRate)
	lq := adapters.Liquidation{HealthBefore: hf}
	a0 := d.amounts(&pos, s)
	lq.Cause = fmt.Sprintf("health factor %.4f below 1: collateral %s at the oracle's price (%s) x LLTV %.4g against debt %s (borrow APY %.2f%%)",
		hf, a0.collOracle.StringFixed(6), oracleKind(d.OracleMarketPrice(t)), d.LLTV(t), a0.debt.StringFixed(6), 100*s.bapy)
	lif := d.Incentive(t)
	unit := s.idx * s.oracle // base value of one scaled collateral unit at the oracle
	for hf < 1 && pos.Units.Sign() > 0 && pos.Debt.Sign() > 0 && lq.Calls < 64 {
		cf := d.closeFactor.Or(t, 1)
		if full, ok := d.fullHF.At(t); ok && hf <= full {
			cf = 1
		}
		debt := pos.Debt.MulRate(s.didx)
		repay := debt.MulRate(cf)
		seizeUnits := repay.MulRate(lif / unit)
		if seizeUnits.Cmp(pos.Units) >= 0 {
			seizeUnits = pos.Units
			repay = pos.Units.MulRate(unit / lif)
		}
		lq.Repaid = lq.Repaid.Add(repay.Dec())
		lq.Seized = lq.Seized.Add(seizeUnits.MulRate(unit).Dec())
		pos.Units = pos.Units.Sub(seizeUnits)
		if repay.Cmp(debt) >= 0 {
			pos.Debt = fixed.Num{}
		} else if pos.Debt = pos.Debt.Sub(repay.DivRoundRate(s.didx)); pos.Debt.Sign() < 0 {
			pos.Debt = fixed.Num{}
		}
		lq.Calls++
		hf = d.health(&pos, s, t)
	}
	if pos.Units.Sign() == 0 {
		// Debt left without collateral is the lenders' bad debt.
		pos.Debt, pos.Principal = fixed.Num{}, fixed.Num{}
	}
	if pos.Debt.Sign() > 0 {
		lq.HealthAfter = hf
	}
	clampUnwind(&pos)
	lq.Loss = before.Sub(d.Value(&pos, env, adapters.PriceRate))
	return pos, lq, true
}

func oracleKind(market bool) string {
	if market {
		return "market price"
	}
	return "exchange rate"
}

// ltvAllows refuses a borrow the protocol would: one after which the
// position's debt is above its LTV of its collateral at the oracle's
// price (addColl and addDebt, in base units at the rate, are what the
// borrow adds), with KindCapExceeded. Under a market-price oracle a
// depegged collateral allows less debt than its rate suggests.
func (d *Loop) ltvAllows(op string, pos *adapters.Position, s loopState, addColl, addDebt float64, t time.Time) error {
	if addDebt <= 0 {
		return nil
	}
	coll := addColl * s.oracle / s.rate
	debt := addDebt
	if pos.Units.Sign() > 0 {
		coll += pos.Units.MulRate(s.idx * s.oracle).Float()
	}
	if pos.Debt.Sign() > 0 {
		debt += pos.Debt.MulRate(s.didx).Float()
	}
	if ltv := d.LTV(t); coll <= 0 || debt > ltv*coll*(1+1e-12) {
		return adapters.E(op, adapters.KindCapExceeded, "%s: a debt of %.6g against collateral worth %.6g at the oracle's price (%s) is above the LTV of %g", d.market.ID, debt, coll, oracleKind(d.OracleMarketPrice(t)), ltv)
	}
	return nil
}
