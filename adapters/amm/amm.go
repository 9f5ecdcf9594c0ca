package amm

import (
	"math"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/internal/mech"
	"github.com/yieldvault/yieldvault/fixed"
)

func init() { adapters.Register(adapters.AMM, New) }

const year = 365 * 24 * 3600.0

// Model is the valuation model of a pool.
type Model uint8

// Pool models.
const (
	// Product is a constant-product pool, or a weighted-product pool when
	// weight0 is not 0.5 (Balancer weighted pools); concentrated pools
	// with a full range are Product too.
	Product Model = iota
	// Stable is a stableswap pool (Curve, Balancer composable stable).
	Stable
	// Concentrated is a Uniswap v3 position on a bounded range.
	Concentrated
)

func (m Model) String() string {
	switch m {
	case Stable:
		return "stableswap"
	case Concentrated:
		return "concentrated"
	}
	return "product"
}

// Driver models a liquidity-provider position in one AMM pool. It is
// immutable after New and safe for concurrent use.
type Driver struct {
	market adapters.Market
	model  Model
	fee    float64 // the profile's fee tier; observations override it
	amp    float64
	w0     float64 // weight of coin 0 (the base asset) in a product pool
	rng    Range
	v1     float64 // rng.Value(1): the range's value at entry, Shape's denominator
	invert bool    // the observed price is coin 1 per base coin
	params mech.UnitParams
}

// Harvesting is the Driver of a pool whose profile pays reward tokens (CRV,
// BAL/AURA gauges): it adds the adapters.Harvester capability.
type Harvesting struct{ *Driver }

// New builds the driver of an AMM market from its profile: pool_type
// selects the model (constant_product, stableswap, concentrated), fee_tier,
// amplification, weight0, range_lower and range_upper parameterise it. It
// is the Factory registered for adapters.AMM.
func New(m adapters.Market, p *adapters.Profile) (adapters.Driver, error) {
	const op = "amm.New"
	up, err := mech.ReadUnitParams(op, m, p, adapters.AMM, "an AMM")
	if err != nil {
		return nil, err
	}
	d := &Driver{
		market: m,
		fee:    p.ParamOr("fee_tier", 0.003),
		amp:    p.ParamOr("amplification", 100),
		w0:     p.ParamOr("weight0", 0.5),
		rng:    Range{Lower: p.ParamOr("range_lower", 0), Upper: p.ParamOr("range_upper", 0)},
		invert: p.ParamOr("price_inverted", 0) != 0,
		params: up,
	}
	switch p.PoolType {
	case adapters.PoolConstantProduct:
		d.model = Product
	case adapters.PoolStableswap:
		d.model = Stable
	case adapters.PoolConcentrated:
		d.model = Concentrated
		if d.rng.Full() {
			d.model, d.w0 = Product, 0.5
		}
	default:
		return nil, adapters.E(op, adapters.KindInvalid, "market %s: unknown pool_type %q", m.ID, p.PoolType)
	}
	switch {
	case d.fee < 0 || d.fee >= 1:
		return nil, adapters.E(op, adapters.KindInvalid, "market %s: fee_tier %g must be within [0, 1)", m.ID, d.fee)
	case d.model == Stable && !(d.amp >= 1):
		return nil, adapters.E(op, adapters.KindInvalid, "market %s: amplification %g must be >= 1", m.ID, d.amp)
	case d.model == Product && !(d.w0 > 0 && d.w0 < 1):
		return nil, adapters.E(op, adapters.KindInvalid, "market %s: weight0 %g must be within (0, 1)", m.ID, d.w0)
	case d.model == Concentrated && (d.rng.Lower >= 1 || (d.rng.Upper != 0 && d.rng.Upper <= 1)):
		return nil, adapters.E(op, adapters.KindInvalid,
			"market %s: range [%g, %g] x entry price must contain the entry price (range_lower < 1 < range_upper, 0 for an open side)",
			m.ID, d.rng.Lower, d.rng.Upper)
	}
	if err := d.params.Check(op, m.ID); err != nil {
		return nil, err
	}
	d.v1 = d.rng.Value(1)
	if len(p.RewardTokens) > 0 {
		return &Harvesting{d}, nil
	}
	return d, nil
}

// Model returns the driver's pool model.
func (d *Driver) Model() Model { return d.model }

// Range returns the concentrated range (zero for other models).
func (d *Driver) Range() Range {
	if d.model != Concentrated {
		return Range{}
	}
	return d.rng
}

// Pool is what the driver reads from one observation of a pool. Coin 0 is
// the base asset; balances are in base units (a rate-bearing coin's
// balance scaled by its rate, as Curve's oracle pools and Balancer's rate
// providers do).
type Pool struct {
	// Price is the market price of coin 1 in the base asset (stETH in ETH,
	// USDT in ETH): the observed price, or its inverse for markets with
	// price_inverted (Uniswap WETH/USDT quotes USDT per WETH); HasPrice
	// says it was observed.
	Price    float64
	HasPrice bool
	// Balances holds the N observed balances (N is 0 unless balance0 and
	// balance1 are both observed and positive).
	Balances [MaxCoins]float64
	N        int
	// TVL is the pool's value in base units: the sum of the balances, else
	// tvl (USD) / base_usd (tvl itself for USD pools); 0 when unknown.
	TVL float64
	// Volume is the trading volume per day in base units; HasVolume says
	// it was observed.
	Volume    float64
	HasVolume bool
	// Fee is the swap fee: the observed fee_tier, else the profile's.
	Fee float64
	// Coin holds the observed market prices of the pool's coins in the
	// base asset (coin0_price .. coin2_price: a stablecoin's USD price in a
	// USD pool), 0 where not observed; HasCoin says whether any is.
	Coin    [MaxCoins]float64
	HasCoin bool
	// APY is the observed fee APY; HasAPY says it was observed.
	APY    float64
	HasAPY bool
	// RewardAPY is the observed gauge reward APY before the haircut.
	RewardAPY float64
	// ExitLiquidity is the base asset an instant exit can take: the
	// observed exit_liquidity, else the base coin's balance; +Inf when
	// neither is known.
	ExitLiquidity float64
}

// coinPrices is the set of the pools' coin price fields.
const coinPrices = adapters.FieldSet(1<<adapters.FieldCoin0Price | 1<<adapters.FieldCoin1Price | 1<<adapters.FieldCoin2Price)

// Read derives the pool's state from an observation.
func (d *Driver) Read(o *adapters.Observation) Pool {
	var p Pool
	d.read(o, &p)
	return p
}

// read is Read into p, which must be zero: the hot paths (Accrue, Value)
// read into their own variable instead of copying the Pool back.
func (d *Driver) read(o *adapters.Observation, p *Pool) {
	p.Price, p.HasPrice = o.Get(adapters.FieldPrice)
	if p.HasPrice && !(p.Price > 0 && !math.IsInf(p.Price, 0)) {
		p.Price, p.HasPrice = 0, false
	}
	if p.HasPrice && d.invert {
		p.Price = 1 / p.Price
	}
	b0, ok0 := o.Get(adapters.FieldBalance0)
	b1, ok1 := o.Get(adapters.FieldBalance1)
	if ok0 && ok1 && b0 > 0 && b1 > 0 {
		p.Balances[0], p.Balances[1], p.N = b0, b1, 2
		if b2, ok := o.Get(adapters.FieldBalance2); ok && b2 > 0 {
			p.Balances[2], p.N = b2, 3
		}
		for _, b := range p.Balances[:p.N] {
			p.TVL += b
		}
	} else if tvl, ok := o.Get(adapters.FieldTVL); ok {
		px := o.Value(adapters.FieldBaseUSD, 0)
		if px <= 0 && d.market.Base == adapters.USD {
			px = 1
		}
		if px > 0 {
			p.TVL = tvl / px
		}
	}
	if o.Set&coinPrices != 0 { // one test where no coin price is observed (most pools)
		for i, f := range [MaxCoins]adapters.Field{adapters.FieldCoin0Price, adapters.FieldCoin1Price, adapters.FieldCoin2Price} {
			if v, ok := o.Get(f); ok && v > 0 && !math.IsInf(v, 0) {
				p.Coin[i], p.HasCoin = v, true
			}
		}
	}
	p.Volume, p.HasVolume = o.Get(adapters.FieldVolume)
	p.Fee = o.Value(adapters.FieldFeeTier, d.fee)
	p.APY, p.HasAPY = o.Get(adapters.FieldAPY)
	p.RewardAPY = o.Value(adapters.FieldRewardAPY, 0)
	switch {
	case o.Set.Has(adapters.FieldExitLiquidity):
		p.ExitLiquidity = o.Values[adapters.FieldExitLiquidity]
	case p.N > 0:
		p.ExitLiquidity = p.Balances[0]
	default:
		p.ExitLiquidity = math.Inf(1)
	}
}

// ratio is the price move since entry: Price / entry, or 1 when either is
// unknown.
func (p *Pool) ratio(entry float64) float64 {
	if !p.HasPrice || !(entry > 0) {
		return 1
	}
	return p.Price / entry
}

// stableBalances returns balances to price a stableswap pool on: the
// observed ones, else (two coins) the shares that give the observed price
// scaled to TVL (or to 1 when TVL is unknown). ok is false when neither
// balances nor a price are known.
func (d *Driver) stableBalances(p *Pool) (xs [MaxCoins]float64, n int, ok bool) {
	if p.N >= 2 {
		return p.Balances, p.N, true
	}
	size := p.TVL
	if !(size > 0) {
		size = 1
	}
	if !p.HasPrice {
		if p.TVL > 0 {
			return [MaxCoins]float64{size / 2, size / 2}, 2, true
		}
		return xs, 0, false
	}
	s := StableShareForPrice(d.amp, p.Price)
	return [MaxCoins]float64{s[0] * size, s[1] * size}, 2, true
}

// Shape is the value of one LP unit now relative to its value at the
// reference state, before fees: (Price/entry)^(1-weight0) for product
// pools, the v3 range value at Price/entry over the value at entry for
// concentrated ranges, and the stableswap value ratio (pool value at its
// marginal prices over D) for stable pools, which needs no entry.
func (d *Driver) Shape(p *Pool, entry float64) float64 {
	switch d.model {
	case Stable:
		xs, n, ok := d.stableBalances(p)
		if !ok {
			return 1
		}
		if v := StableValueRatio(d.amp, xs[:n]); v > 0 {
			return v
		}
		return 1
	case Concentrated:
		return d.rng.Value(p.ratio(entry)) / d.v1
	}
	r := p.ratio(entry)
	if d.w0 == 0.5 {
		return math.Sqrt(r)
	}
	return math.Pow(r, 1-d.w0)
}

// FeeRate is the fee income of a position whose entry price is entry and
// whose own liquidity is own base units, as a continuously compounded rate
// a year (logRate) and as an APY. The fees a pool earns are volume x fee a
// day; the position's share is its liquidity over the pool's active
// liquidity plus its own, own / (TVL + own): the observed TVL does not
// include the vault's position, in the backtest as in the quote.
//
// For a concentrated position the pool's active liquidity at the price is
// not in the history (no file carries it); it is estimated from the TVL
// with the assumption that the pool's liquidity is as concentrated around
// the price as the position's (the pool-average fee yield already reflects
// concentrated liquidity), so a unit of value in range earns the pool's
// fee yield volume x fee / (TVL + own) and nothing out of range; the range
// does not multiply it. Without volume the observed fee APY is used,
// diluted by own the same way. ok is false when the observation cannot
// support a fee yield (volume without any pool size, or neither volume nor
// an APY): FeeUnknown says why, and the fee income is then zero, never a
// division by the vault's own deposit.
func (d *Driver) FeeRate(p *Pool, entry, own float64) (logRate, apy float64, ok bool) {
	if d.model == Concentrated && !d.rng.In(p.ratio(entry)) {
		return 0, 0, true
	}
	if !(own > 0) {
		own = 0
	}
	if p.HasVolume && p.TVL > 0 {
		daily := p.Volume * p.Fee / (p.TVL + own)
		logRate = 365 * math.Log1p(daily)
		return logRate, math.Expm1(logRate), true
	}
	if p.HasAPY && p.APY > -1 {
		a := p.APY
		if p.TVL > 0 && own > 0 {
			a *= p.TVL / (p.TVL + own)
		}
		return math.Log1p(a), a, true
	}
	return 0, 0, false
}

// FeeUnknown says why FeeRate cannot give a fee yield for p, or "" when it
// can.
func (d *Driver) FeeUnknown(p *Pool) string {
	switch {
	case p.HasVolume && p.TVL > 0, p.HasAPY && p.APY > -1:
		return ""
	case p.HasVolume:
		return "fee APY unknown: the data has the pool's volume but no pool size (TVL or balances), so the position's share of the fees cannot be known"
	}
	return "fee APY unknown: the data has neither the pool's volume and size nor a fee APY"
}

// project returns pos's fee index at env.Time and the fee APY used,
// without changing pos; at or before pos.Last it is pos.Index. sh is
// Shape(p, pos.Entry) when the caller has it, else negative (it is then
// computed only if the fee share needs the position's value).
func (d *Driver) project(pos *adapters.Position, env *adapters.Env, p *Pool, sh float64) (idx, apy float64) {
	idx, apy = pos.Index, pos.APY
	if idx <= 0 {
		idx = 1
	}
	if env == nil || !env.Time.After(pos.Last) || pos.Last.IsZero() {
		return idx, apy
	}
	own := 0.0
	if d.poolShares(p, pos.Entry) {
		// A share: a few ulps do not matter. The units' sign is the
		// float's (no separate test).
		if u := pos.Units.ApproxFloat(); u > 0 {
			if sh < 0 {
				sh = d.ownShape(p, pos.Entry)
			}
			own = u * idx * sh
		}
	}
	lr, a, ok := d.FeeRate(p, pos.Entry, own)
	switch {
	case ok:
		apy = a
	case d.FeeUnknown(p) != "" && p.HasVolume:
		// Volume without a pool size: the data supports no fee income.
		apy = 0
	case apy > -1:
		lr = math.Log1p(apy)
	}
	dt := float64(env.Time.Sub(pos.Last)) / float64(time.Second) / year
	if lr != 0 {
		idx *= math.Exp(lr * dt)
	}
	return idx, apy
}

// ownShape is the shape the fee share values the position at: Shape, but
// 1 for a stableswap pool, whose shape (its imbalance loss, within a few
// percent of 1: 0.971 at the worst 2022 Curve ETH/stETH snapshot) would
// cost a Newton solve of the invariant on every step for a second-order
// change of a small share.
func (d *Driver) ownShape(p *Pool, entry float64) float64 {
	if d.model == Stable {
		return 1
	}
	return d.Shape(p, entry)
}

// needsOwn says whether FeeRate shares fees by the position's own value
// (units x index x Shape, the liquidity it adds to the pool's): a pool of
// known size paying fees (observed volume or APY), and a concentrated
// position in range.
func (d *Driver) needsOwn(pos *adapters.Position, p *Pool) bool {
	return pos.Units.Sign() > 0 && d.poolShares(p, pos.Entry)
}

// poolShares is needsOwn without the position's units: the pool's fees
// are shared by liquidity at p for a position entered at entry.
func (d *Driver) poolShares(p *Pool, entry float64) bool {
	if !(p.TVL > 0) || !(p.HasVolume || p.HasAPY) {
		return false
	}
	return d.model != Concentrated || d.rng.In(p.ratio(entry))
}

// entryRef is the entry reference of a new position: the price (product
// and concentrated pools), or the marginal price of coin 1 the balances
// imply (stable pools; informational).
func (d *Driver) entryRef(p *Pool) float64 {
	if d.model == Stable {
		if xs, n, ok := d.stableBalances(p); ok {
			if v := StablePrice(d.amp, xs[:n], 1); v > 0 {
				return v
			}
		}
	}
	if p.HasPrice {
		return p.Price
	}
	return 1
}

// coin1Share is the share of a position's value held outside the base coin.
func (d *Driver) coin1Share(p *Pool, entry float64) float64 {
	if d.model == Concentrated {
		return d.rng.Coin1Share(p.ratio(entry))
	}
	return 1 - d.w0
}

// reserves returns the base-coin and other-coin reserves (in base units)
// that one-sided swaps are priced on, or ok false when the pool's size is
// unknown.
func (d *Driver) reserves(p *Pool) (x0, x1 float64, ok bool) {
	w0 := d.w0
	if d.model != Product {
		w0 = 0.5
	}
	switch {
	case p.N >= 2:
		return p.Balances[0], p.TVL - p.Balances[0], true
	case p.TVL > 0:
		return p.TVL * w0, p.TVL * (1 - w0), true
	}
	return 0, 0, false
}

// swapLoss is what swapping s base units of value from the reserve xin to
// the reserve xout loses against the pre-trade price, fee included, on a
// weighted-product curve with weights win, wout.
func swapLoss(s, xin, xout, win, wout, fee float64) float64 {
	if s <= 0 {
		return 0
	}
	in := s * (1 - fee)
	out := xout * (1 - math.Pow(xin/(xin+in), win/wout))
	return math.Max(0, s-out)
}

// EntrySlippage is the base asset lost entering the pool with net base
// units one-sided: for stable pools Curve's add_liquidity of coin 0
// (imbalance fee included) valued at the pool's marginal prices; for
// product and concentrated pools the swap of the coin-1 share of net
// through the reserves (the swap fee alone when the pool's size is
// unknown).
func (d *Driver) EntrySlippage(p *Pool, entry, net float64) float64 {
	if net <= 0 {
		return 0
	}
	if d.model == Stable {
		xs, n, ok := d.stableBalances(p)
		if !ok {
			return 0
		}
		vr := StableValueRatio(d.amp, xs[:n])
		if !(vr > 0) {
			return 0
		}
		got := StableAddOne(d.amp, p.Fee, xs[:n], net) * vr
		return math.Min(net, math.Max(0, net-got))
	}
	s := net * d.coin1Share(p, entry)
	x0, x1, ok := d.reserves(p)
	if !ok {
		return s * p.Fee
	}
	w0 := d.w0
	if d.model != Product {
		w0 = 0.5
	}
	return swapLoss(s, x0, x1, w0, 1-w0, p.Fee)
}

// ExitSlippage is the base asset lost taking value out one-sided into the
// base coin; ok is false when the pool cannot pay it (a stable pool's
// base balance would run out).
func (d *Driver) ExitSlippage(p *Pool, entry, value float64) (slip float64, ok bool) {
	if value <= 0 {
		return 0, true
	}
	if d.model == Stable {
		xs, n, known := d.stableBalances(p)
		if !known {
			return 0, true
		}
		vr := StableValueRatio(d.amp, xs[:n])
		if !(vr > 0) {
			return 0, true
		}
		if p.N < 2 && p.TVL <= 0 {
			// Balances of unit size only price the curve's shape: scale
			// the withdrawal to them.
			return 0, true
		}
		dy := StableRemoveOne(d.amp, p.Fee, xs[:n], value/vr)
		if dy < 0 || math.IsNaN(dy) {
			return 0, false
		}
		return math.Min(value, math.Max(0, value-dy)), true
	}
	s := value * d.coin1Share(p, entry)
	x0, x1, known := d.reserves(p)
	if !known {
		return s * p.Fee, true
	}
	w0 := d.w0
	if d.model != Product {
		w0 = 0.5
	}
	return swapLoss(s, x1, x0, 1-w0, w0, p.Fee), true
}

// Quote prices a deposit of amount: the fee APY after the deposit joins
// the pool on top of the caller's own position (env.Held, whose liquidity
// shares the fees as Accrue's does) plus rewards after the haircut, gas
// and the one-sided entry swap, the exit of the same value, and the exit
// liquidity.
func (d *Driver) Quote(env *adapters.Env, amount fixed.Num) (adapters.Quote, error) {
	p := d.Read(&env.Obs)
	entry := d.entryRef(&p)
	gas := env.GasCost(d.params.GasDeposit)
	net := amount.Sub(gas)
	netF := math.Max(0, net.Float())
	entrySlip := fixed.NumFromFloat(d.EntrySlippage(&p, entry, netF))
	// The deposit's value after its entry costs joins the pool, as in
	// Deposit: the quote promises what Accrue will pay.
	value := netF - entrySlip.Float()
	_, apy, ok := d.FeeRate(&p, entry, d.heldValue(env, &p)+value)
	q := d.quote(env, &p, entry, apy, ok, value)
	q.EntryCost = gas.Add(entrySlip)
	if math.IsInf(p.ExitLiquidity, 1) {
		q.MaxInstantExit = amount
	}
	return q, nil
}

// QuoteSell prices a sale of amount from the caller's position (env.Held,
// adapters.SellQuoter): the APY is the fee yield the sale gives up per
// unit sold, (H·a(H) − (H−X)·a(H−X)) / X, where a(h) is the fee APY a
// position of value h earns with its own liquidity in the pool (FeeRate),
// H the position's value and X the amount (at most H): what stays earns a
// larger share. Without a position (or a sale of zero) it is a(H). The
// exit's cost is the one-sided exit of amount; rewards as Quote's.
func (d *Driver) QuoteSell(env *adapters.Env, amount fixed.Num) (adapters.Quote, error) {
	p := d.Read(&env.Obs)
	entry := d.entryRef(&p)
	if h := d.held(env); h != nil && h.Units.Sign() > 0 {
		entry = h.Entry
	}
	hv := d.heldValue(env, &p)
	_, apy, ok := d.FeeRate(&p, entry, hv)
	if x := math.Min(math.Max(0, amount.Float()), hv); x > 0 && ok {
		_, rest, _ := d.FeeRate(&p, entry, hv-x)
		apy = (hv*apy - (hv-x)*rest) / x
	}
	q := d.quote(env, &p, entry, apy, ok, math.Max(0, amount.Float()))
	q.EntryCost = env.GasCost(d.params.GasDeposit)
	if math.IsInf(p.ExitLiquidity, 1) {
		q.MaxInstantExit = amount
	}
	return q, nil
}

// quote is a quote at fee APY apy (ok false: unknown, FeeUnknown says
// why) whose exit is of value base units: rewards after the haircut, the
// exit's gas and slippage, and the exit liquidity when it is known.
func (d *Driver) quote(env *adapters.Env, p *Pool, entry, apy float64, ok bool, value float64) adapters.Quote {
	reward := p.RewardAPY * (1 - d.params.RewardHaircut)
	q := adapters.Quote{APY: apy + reward, RewardAPY: reward}
	if !ok {
		q.Unknown = d.FeeUnknown(p)
	}
	exitSlip, _ := d.ExitSlippage(p, entry, value)
	q.ExitCost = env.GasCost(d.params.GasWithdraw).Add(fixed.NumFromFloat(exitSlip))
	if !math.IsInf(p.ExitLiquidity, 1) {
		q.MaxInstantExit = fixed.NumFromFloat(math.Max(0, p.ExitLiquidity))
	}
	return q
}

// held returns env.Held when it is a position in this market, else nil.
func (d *Driver) held(env *adapters.Env) *adapters.Position {
	if h := env.Held; h != nil && (h.Market == "" || h.Market == d.market.ID) {
		return h
	}
	return nil
}

// heldValue is the liquidity the caller's own position (env.Held) adds to
// the pool, as Accrue's fee share counts it (units x fee index x
// ownShape), or 0 when it adds none (no position, or a range out of the
// price).
func (d *Driver) heldValue(env *adapters.Env, p *Pool) float64 {
	h := d.held(env)
	if h == nil || !d.needsOwn(h, p) {
		return 0
	}
	idx, _ := d.project(h, env, p, -1)
	return h.Units.ApproxFloat() * idx * d.ownShape(p, h.Entry)
}

// Deposit adds amount of the base asset to the pool one-sided. Gas and
// the entry slippage come out of the amount; the rest buys LP units at the
// unit's current value. A position opened from empty records the entry
// price (the range's anchor for concentrated pools) and restarts its fee
// index at 1; later deposits join the same position and range.
func (d *Driver) Deposit(pos adapters.Position, env *adapters.Env, amount fixed.Num) (adapters.Position, adapters.Fill, error) {
	const op = "amm.Deposit"
	if pos.Paused {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindPaused, "%s is paused", d.market.ID)
	}
	d.Accrue(&pos, env)
	p := d.Read(&env.Obs)
	gas := env.GasCost(d.params.GasDeposit)
	net := amount.Sub(gas)
	if net.Sign() <= 0 {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "%s: deposit of %s does not cover gas of %s", d.market.ID, amount, gas)
	}
	if pos.Units.Sign() == 0 {
		pos.Entry, pos.Index = d.entryRef(&p), 1
	}
	slip := fixed.NumFromFloat(d.EntrySlippage(&p, pos.Entry, net.Float()))
	if slip.GreaterThan(net) {
		slip = net
	}
	value := net.Sub(slip)
	if value.Sign() <= 0 {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "%s: deposit of %s is lost to gas and slippage", d.market.ID, amount)
	}
	unit := pos.Index * d.Shape(&p, pos.Entry)
	if !(unit > 0) || math.IsInf(unit, 0) {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "%s: LP unit value %g is not positive", d.market.ID, unit)
	}
	pos.Units = pos.Units.Add(value.DivRoundRate(unit))
	pos.Principal = pos.Principal.Add(amount)
	if pos.Last.Before(env.Time) {
		pos.Last = env.Time
	}
	return pos, adapters.Fill{Amount: amount, Value: value, Gas: gas, Slippage: slip}, nil
}

// Withdraw takes value out of the pool one-sided into the base coin. Pools
// have no queue: ExitQueue fails with KindInvalid. The value is limited by
// the exit liquidity (KindInsufficientLiquidity, or a partial fill with
// AllowPartial) and the slippage by MaxSlippage (KindCapExceeded).
func (d *Driver) Withdraw(pos adapters.Position, env *adapters.Env, w adapters.Withdrawal) (adapters.Position, adapters.Fill, error) {
	const op = "amm.Withdraw"
	if pos.Paused {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindPaused, "%s is paused", d.market.ID)
	}
	if w.Mode == adapters.ExitQueue {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "%s has no withdrawal queue", d.market.ID)
	}
	d.Accrue(&pos, env)
	p := d.Read(&env.Obs)
	unit := pos.Index * d.Shape(&p, pos.Entry)
	value := pos.Units.MulRate(unit)
	amount := w.Amount
	if w.All {
		amount = value
	} else if amount.GreaterThan(value) {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "%s: withdrawal of %s exceeds the position's value %s", d.market.ID, amount, value)
	}
	if amount.Sign() <= 0 {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "%s: nothing to withdraw", d.market.ID)
	}
	partial := false
	if !math.IsInf(p.ExitLiquidity, 1) {
		liq := fixed.NumFromFloat(math.Max(0, p.ExitLiquidity))
		if amount.GreaterThan(liq) {
			if !w.AllowPartial || liq.Sign() <= 0 {
				return pos, adapters.Fill{}, adapters.E(op, adapters.KindInsufficientLiquidity,
					"%s: withdrawal of %s exceeds the exit liquidity of %s", d.market.ID, amount, liq)
			}
			amount, partial = liq, true
		}
	}
	slipF, ok := d.ExitSlippage(&p, pos.Entry, amount.Float())
	if !ok {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInsufficientLiquidity,
			"%s: the pool's base balance cannot pay out %s", d.market.ID, amount)
	}
	slip := fixed.NumFromFloat(slipF)
	if w.MaxSlippage > 0 && slipF > w.MaxSlippage*amount.Float() {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindCapExceeded,
			"%s: slippage %s on %s is above the bound of %g", d.market.ID, slip, amount, w.MaxSlippage)
	}
	gas := env.GasCost(d.params.GasWithdraw)
	out := amount.Sub(slip).Sub(gas)
	if out.Sign() <= 0 {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid,
			"%s: withdrawal of %s does not cover gas %s and slippage %s", d.market.ID, amount, gas, slip)
	}
	units, principal := pos.Units.Dec(), pos.Principal.Dec()
	var burned decimal.Decimal
	if amount.Equal(value) {
		burned = units
	} else {
		burned = amount.DivRoundRate(unit).Dec()
		if burned.GreaterThan(units) {
			burned = units
		}
	}
	if units.Sign() > 0 {
		principal = principal.Sub(principal.Mul(burned).DivRound(units, adapters.Scale))
	}
	units = units.Sub(burned)
	if units.Sign() == 0 {
		principal = decimal.Zero
	}
	pos.Units, pos.Principal = fixed.FromDec(units), fixed.FromDec(principal)
	return pos, adapters.Fill{Amount: out, Value: amount, Gas: gas, Slippage: slip, Partial: partial}, nil
}

// Accrue brings pos to env.Time: the fee index compounds the fee rate
// (FeeRate, or the last known APY when the observation says nothing) over
// the elapsed time, and the gauge reward APY accrues simply into Rewards
// after the profile's reward_haircut. Price moves need no accrual: Value
// reads them from the observation. Only reward accrual allocates.
func (d *Driver) Accrue(pos *adapters.Position, env *adapters.Env) {
	if !env.Time.After(pos.Last) {
		return
	}
	if pos.Last.IsZero() {
		pos.Last = env.Time
		return
	}
	var p Pool
	d.read(&env.Obs, &p)
	last := pos.Last
	// The shape is computed once: for the fee share and for rewards.
	sh := -1.0
	rewards := p.RewardAPY > 0 && pos.Units.Sign() > 0
	if rewards {
		sh = d.Shape(&p, pos.Entry)
	}
	own := sh
	if d.model == Stable {
		own = 1 // ownShape
	}
	pos.Index, pos.APY = d.project(pos, env, &p, own)
	pos.Last = env.Time
	if r := p.RewardAPY; rewards {
		dt := float64(env.Time.Sub(last)) / float64(time.Second) / year
		if f := r * dt * (1 - d.params.RewardHaircut); f > 0 {
			v := pos.Index * sh
			pos.Rewards = pos.Rewards.Add(pos.Units.MulRate(v).MulRate(f))
		}
	}
}

// Value is Units x fee index (projected to env.Time) x Shape: the LP
// position marked to the pool's state in env, its coins at the pool's own
// prices relative to coin 0. At market pricing a stable pool whose history
// observes its coins' market prices is marked to them instead
// (CoinFactor): USDC at 0.9555 on 2023-03-11 is a loss on the 3pool share
// USDC filled. Otherwise rate and market pricing agree: an LP unit has no
// separate redemption rate.
func (d *Driver) Value(pos *adapters.Position, env *adapters.Env, pricing adapters.Pricing) decimal.Decimal {
	if pos.Units.Sign() == 0 {
		return decimal.Zero
	}
	if env == nil {
		return pos.Units.MulRate(math.Max(pos.Index, 0)).Dec()
	}
	var p Pool
	d.read(&env.Obs, &p)
	sh := d.Shape(&p, pos.Entry)
	own := sh
	if d.model == Stable {
		own = 1 // ownShape
	}
	idx, _ := d.project(pos, env, &p, own)
	if pricing == adapters.PriceMarket {
		sh *= d.CoinFactor(&p)
	}
	return pos.Units.MulRate(idx * sh).Dec()
}

// CoinFactor is what marking a stable pool's coins to their observed
// market prices changes in its value: sum(x_i q_i) / sum(x_i p_i), where
// p_i is coin i's marginal price on the curve in coin 0 (p_0 = 1) and q_i
// its observed market price, else p_i times coin 0's (observed, else 1: a
// coin without a price is valued at the pool's own rate to coin 0). 1 when
// no coin price is observed, the pool is not stableswap, or its balances
// are not known.
func (d *Driver) CoinFactor(p *Pool) float64 {
	if !p.HasCoin || d.model != Stable {
		return 1
	}
	xs, n, ok := d.stableBalances(p)
	if !ok || n < 2 {
		return 1
	}
	q0 := p.Coin[0]
	if !(q0 > 0) {
		q0 = 1
	}
	var curve, market float64
	for i := 0; i < n; i++ {
		pi := 1.0
		if i > 0 {
			pi = StablePrice(d.amp, xs[:n], i)
		}
		if !(pi > 0) || math.IsInf(pi, 0) {
			return 1
		}
		qi := p.Coin[i]
		if !(qi > 0) {
			qi = pi * q0
		}
		curve += xs[i] * pi
		market += xs[i] * qi
	}
	if !(curve > 0) || !(market > 0) || math.IsInf(market, 0) {
		return 1
	}
	return market / curve
}

// Apply applies an event: a slash or bad debt (an exploit of the pool)
// cuts Units by exactly its size; pause and unpause set and clear
// pos.Paused; a depeg changes nothing, as its effect is in the observed
// price and balances.
func (d *Driver) Apply(pos adapters.Position, env *adapters.Env, ev adapters.Event) (adapters.Position, decimal.Decimal, error) {
	return mech.ApplyUnits(d, pos, env, ev)
}

// Harvest claims the accrued gauge rewards and swaps them to the base
// asset at harvest_swap_cost plus gas_harvest gas. With nothing accrued it
// fails with KindNotReady; when the costs would eat the whole harvest it
// fails with KindInvalid and leaves the rewards in place (as the LRT
// driver does).
func (h *Harvesting) Harvest(pos adapters.Position, env *adapters.Env) (adapters.Position, adapters.Fill, error) {
	const op = "amm.Harvest"
	h.Accrue(&pos, env)
	return h.params.Harvest(op, h.market.ID, pos, env)
}
