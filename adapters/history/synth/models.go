package synth

import (
	"math"
	"strings"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	irm "github.com/yieldvault/yieldvault/adapters/lending"
)

// effectKind is what a scenario effect acts on.
type effectKind uint8

const (
	effPegDrop effectKind = iota // subtract shape from the market's peg
	effExit                      // multiply exit liquidity by shape
	effVolume                    // multiply AMM volume by shape
	effShare                     // add shape to the logit of AMM coin `coin`
	effUtil                      // blend utilization toward target with weight shape
)

// effect is one scenario overlay bound to a process.
type effect struct {
	kind   effectKind
	s      shape
	coin   int
	target float64
}

func mulOf(effs []effect, k effectKind, day float64) float64 {
	v := 1.0
	for i := range effs {
		if effs[i].kind == k {
			v *= effs[i].s.at(day)
		}
	}
	return v
}

func addOf(effs []effect, k effectKind, day float64) float64 {
	v := 0.0
	for i := range effs {
		if effs[i].kind == k {
			v += effs[i].s.at(day)
		}
	}
	return v
}

// pegProc is a market price relative to its reference (an LST's exchange
// rate, a stablecoin's dollar): an OU around 1 - discount, minus the
// drops scenarios add.
type pegProc struct {
	key   string
	ou    *ou
	drops []shape
}

func (g *gen) peg(key string, c underCalib) *pegProc {
	if p, ok := g.pegs[key]; ok {
		return p
	}
	p := &pegProc{key: key, ou: newOU(newRNG(g.cfg.Seed, "peg:"+key), 1-c.discount, c.pegSD, 0.5/365, g.dt)}
	g.pegs[key] = p
	return p
}

func (p *pegProc) value(day float64) float64 {
	v := p.ou.x
	for _, s := range p.drops {
		v -= s.at(day)
	}
	return math.Max(v, 0.01)
}

// underlying is a staking token's yield, exchange rate and peg, shared by
// every market that holds the token (lido/steth, lido/wsteth,
// eigenlayer/steth and curve/steth-eth all read Lido's).
type underlying struct {
	key    string
	fee    float64
	common *ou // gross staking yield of the base asset
	idio   *ou // protocol-specific APY deviation
	apy    float64
	rate   float64
	peg    *pegProc
	paid   adapters.Dated // the profile's yield_paid: 0 while no yield was paid
}

// compute sets the step's APY at t: net = gross*(1 - fee) +
// idiosyncratic, or 0 while the protocol paid no yield (its yield_paid,
// as Babylon's phase 1), so that the rate stays flat then.
func (u *underlying) compute(t time.Time) {
	u.apy = sig(math.Max(0, u.common.x*(1-u.fee)+u.idio.x), 6)
	if u.paid.Or(t, 1) == 0 {
		u.apy = 0
	}
}

// step compounds the rate over the step at the step's APY.
func (u *underlying) step(dt float64) {
	u.rate *= compound(u.apy, dt)
	u.idio.step()
}

// underFor returns the staking underlying of a protocol, creating it from
// the catalog's profile. It returns nil when the protocol has no profile or
// earns no staking yield (no fee_on_rewards parameter).
func (g *gen) underFor(protocol string) *underlying {
	if u, ok := g.unders[protocol]; ok {
		return u
	}
	p, err := g.cat.Profile(protocol)
	if err != nil || (p.Kind != adapters.LST && p.Kind != adapters.LRT) {
		return nil
	}
	fee, ok := p.Param("fee_on_rewards")
	if !ok {
		return nil
	}
	base := p.Base
	if base == "" {
		base = adapters.ETH
	}
	gc, ok := grossStaking[base]
	if !ok {
		gc = grossStaking[adapters.ETH]
	}
	common := g.common[base]
	if common == nil {
		common = newOU(newRNG(g.cfg.Seed, "staking:"+string(base)), gc.mean, gc.sd, gc.halfLifeDays/365, g.dt)
		g.common[base] = common
	}
	c, ok := underCalibs[protocol]
	if !ok {
		c = defaultUnder
	}
	// The rate at From: the anchor rate carried to From at the mean net
	// APY (never below 1, the rate at launch).
	years := float64(g.from-day(c.anchor).Unix()) / year.Seconds()
	rate := math.Max(1, c.rate*compound(gc.mean*(1-fee)+c.offset, years))
	u := &underlying{
		key: protocol, fee: fee, common: common,
		idio: newOU(newRNG(g.cfg.Seed, "under:"+protocol), c.offset, 0.001, 5.0/365, g.dt),
		rate: rate,
		peg:  g.peg(protocol, c),
		paid: p.DatedParam("yield_paid"),
	}
	g.unders[protocol] = u
	return u
}

// stakingUnder finds the underlying whose yield an LST/LRT market earns:
// its own protocol when that protocol takes a fee on staking rewards, else
// the staking protocol named by a protocol:<name> tag (eigenlayer/steth
// earns Lido's yield), else none (karak/weth holds plain ETH).
func (g *gen) stakingUnder(m adapters.Market, prof *adapters.Profile) *underlying {
	if _, ok := prof.Param("fee_on_rewards"); ok {
		if u := g.underFor(m.Protocol); u != nil {
			return u
		}
	}
	for _, t := range append(append([]string(nil), m.Tags...), prof.Tags...) {
		if p, ok := strings.CutPrefix(t, "protocol:"); ok && p != m.Protocol {
			if u := g.underFor(p); u != nil {
				return u
			}
		}
	}
	return nil
}

func (g *gen) newModel(m adapters.Market, prof *adapters.Profile) (model, error) {
	mk := &market{m: m, prof: prof}
	c := calibFor(m)
	rg := func(what string) *rng { return newRNG(g.cfg.Seed, what+":"+m.ID) }
	switch m.Kind {
	case adapters.LST, adapters.LRT:
		mk.under = g.stakingUnder(m, prof)
		s := &staking{market: mk,
			size:     newLogOU(rg("size"), c.size, 0.08, 90.0/365, g.dt),
			exit:     newLogOU(rg("exit"), prof.ParamOr("exit_liquidity", 0), 0.25, 7.0/365, g.dt),
			withdraw: prof.DatedParam("withdrawal_days"),
			noQueue:  prof.ParamOr("queue", 1) == 0,
			yield:    prof.DatedParam("yield_paid"),
			rebasing: prof.IsRebasing(),
		}
		if m.Kind == adapters.LRT {
			s.escrow = prof.DatedParam("escrow_days")
			if r := prof.ParamOr("restaking_apy", 0); r > 0 {
				s.reward = newLogOU(rg("reward"), r, 0.3, 14.0/365, g.dt)
			}
			if prof.ParamOr("rewards_in_rate", 0) != 0 {
				s.inRate, s.rewardIdx, s.dt = true, 1, g.dt
				s.keep = 1 - math.Min(math.Max(prof.ParamOr("reward_haircut", 0), 0), 1)
			}
		}
		return s, nil
	case adapters.Lending:
		if st := stableOf(m); st != "" {
			mk.stable = g.peg(st, stableCalibs[st])
		}
		rates, err := irm.RatesFromProfile(prof)
		if err != nil {
			return nil, adapters.Wrap("synth.Generate", adapters.KindInvalid, err)
		}
		// The model in force at the start (a dated change within the
		// generated range is not followed).
		l := &lending{market: mk, model: rates.At(time.Unix(g.from, 0)), dt: g.dt}
		u0 := c.util
		if u0 == 0 {
			u0 = 0.8 * prof.ParamOr("irm_optimal", prof.ParamOr("comet_borrow_kink", 0.9))
		}
		u0 = math.Min(math.Max(u0, 0.01), 0.97)
		l.util = newOU(rg("util"), logit(u0), c.utilSD, c.utilHalfLife/365, g.dt)
		l.supply = newLogOU(rg("supply"), c.size, 0.08, 30.0/365, g.dt)
		if c.reward > 0 {
			l.reward = newLogOU(rg("reward"), c.reward, 0.3, 14.0/365, g.dt)
		}
		since := "2024-01-01"
		if s, ok := lendingInception[m.Protocol]; ok {
			since = s
		}
		l.index = 1
		if years := float64(g.from-day(since).Unix()) / year.Seconds(); years > 0 {
			l.index = compound(l.supplyAPY(u0), years)
		}
		return l, nil
	case adapters.AMM:
		return g.newAMM(mk, c)
	}
	return nil, adapters.E("synth.Generate", adapters.KindInvalid, "market %s: unknown kind %q", m.ID, m.Kind)
}

func (mk *market) base() *market { return mk }

// staking models an LST or LRT market.
type staking struct {
	*market
	size     *logOU         // tokens outstanding, valued in base units
	exit     *logOU         // instant-exit depth in base units
	reward   *logOU         // LRT restaking reward APY, or nil
	withdraw adapters.Dated // the queue's delay, in force from when the queue opened
	noQueue  bool           // the profile's queue = 0: no queue a vault can use
	// inRate: the protocol compounds its restaking rewards (after the
	// profile's haircut) into the exchange rate (Renzo): rewardIdx is
	// their cumulative growth since From.
	inRate          bool
	rewardIdx, keep float64
	dt              float64        // years per step
	escrow          adapters.Dated // LRTs: the restaking layer's escrow, added to the delay
	yield           adapters.Dated // yield_paid: 0 while the protocol paid no yield
	rebasing        bool           // the token rebases: no exchange rate, price is the peg
}

func (s *staking) observe(c *stepCtx, o *adapters.Observation) {
	apy, rate, peg := 0.0, 1.0, 1.0
	if u := s.under; u != nil {
		apy, rate, peg = u.apy, sig(u.rate, 11), u.peg.value(c.day)
	}
	peg = math.Max(peg-addOf(s.effects, effPegDrop, c.day), 0.01)
	o.Put(adapters.FieldAPY, apy)
	if s.rebasing {
		// A rebasing token is worth one base unit by the protocol's
		// accounting: no exchange rate, and its price is the peg alone
		// (see adapters.Profile.IsRebasing).
		o.Put(adapters.FieldPrice, sig(peg, 8))
	} else {
		if s.inRate {
			rate = sig(rate*s.rewardIdx, 11)
		}
		o.Put(adapters.FieldExchangeRate, rate)
		o.Put(adapters.FieldPrice, sig(rate*peg, 8))
	}
	if s.reward != nil {
		r := sig(s.reward.value(), 6)
		if s.yield.Or(o.Time, 1) == 0 {
			r = 0
		}
		o.Put(adapters.FieldRewardAPY, r)
	}
	o.Put(adapters.FieldTVL, sig(s.size.value()*c.baseUSD(s.m.Base), 6))
	o.Put(adapters.FieldExitLiquidity, sig(s.exit.value()*mulOf(s.effects, effExit, c.day), 6))
	// The queue's delay as the profile dates it; no observation before the
	// queue opened (Lido's in May 2023, Renzo's in June 2024), so that
	// nothing suggests a queue that did not exist.
	if s.noQueue {
		// No queue a vault can use (rETH, cbETH): no delay to observe.
	} else if !s.withdraw.Set() {
		o.Put(adapters.FieldWithdrawalDays, s.escrow.Or(o.Time, 0))
	} else if wd, ok := s.withdraw.At(o.Time); ok {
		o.Put(adapters.FieldWithdrawalDays, wd+s.escrow.Or(o.Time, 0))
	}
}

func (s *staking) step() {
	s.size.step()
	s.exit.step()
	if s.reward != nil {
		if s.inRate {
			s.rewardIdx *= compound(sig(s.reward.value(), 6)*s.keep, s.dt) // the reward_apy written
		}
		s.reward.step()
	}
}

// lending models the supply side of a lending market.
type lending struct {
	*market
	// model is the profile's rate model (adapters/lending): the kinked
	// curve, Compound v3's curves, or Morpho's adaptive curve at its
	// initial rate at target.
	model irm.Model

	util   *ou    // logit of utilization
	supply *logOU // total supplied, base units
	reward *logOU // incentive APY, or nil
	index  float64
	apy    float64 // the step's supply APY, as emitted
	dt     float64 // years per step
}

// BorrowAPY is the kinked interest-rate curve of a lending profile:
//
//	borrow(u) = base + slope1*u/optimal                              u <= optimal
//	borrow(u) = base + slope1 + slope2*(u - optimal)/(1 - optimal)   u > optimal
func BorrowAPY(u, base, slope1, slope2, optimal float64) float64 {
	if optimal <= 0 || optimal >= 1 {
		return base + slope1*u
	}
	if u <= optimal {
		return base + slope1*u/optimal
	}
	return base + slope1 + slope2*(u-optimal)/(1-optimal)
}

func (l *lending) borrowAPY(u float64) float64 { return l.model.Borrow(u) }

func (l *lending) supplyAPY(u float64) float64 { return l.model.Supply(u) }

func (l *lending) observe(c *stepCtx, o *adapters.Observation) {
	u := logistic(l.util.x)
	for i := range l.effects {
		if e := &l.effects[i]; e.kind == effUtil {
			w := e.s.at(c.day)
			u = (1-w)*u + w*e.target
		}
	}
	u = math.Min(math.Max(sig(u, 6), 0), 1)
	borrow := sig(l.borrowAPY(u), 6)
	l.apy = sig(l.supplyAPY(u), 6)
	supply := sig(l.supply.value(), 8)
	borrows := sig(u*supply, 8)
	o.Put(adapters.FieldUtilization, u)
	o.Put(adapters.FieldBorrowAPY, borrow)
	o.Put(adapters.FieldAPY, l.apy)
	if l.reward != nil {
		o.Put(adapters.FieldRewardAPY, sig(l.reward.value(), 6))
	}
	o.Put(adapters.FieldIndex, sig(l.index, 12))
	o.Put(adapters.FieldSupply, supply)
	o.Put(adapters.FieldBorrows, borrows)
	o.Put(adapters.FieldExitLiquidity, math.Max(0, sig(supply-borrows, 8)))
	o.Put(adapters.FieldTVL, sig(supply*c.baseUSD(l.m.Base), 6))
	if l.stable != nil {
		o.Put(adapters.FieldPrice, sig(l.stable.value(c.day)-addOf(l.effects, effPegDrop, c.day), 8))
	}
}

func (l *lending) step() {
	l.index *= compound(l.apy, l.dt)
	l.util.step()
	l.supply.step()
	if l.reward != nil {
		l.reward.step()
	}
}

// amm models a liquidity-provider position in a pool.
type amm struct {
	*market
	coins   int
	stable  bool    // stableswap/weighted: balances drift; else constant product (value split evenly)
	fee     float64 // fee tier
	size    *logOU  // pool value in base units
	volume  *logOU  // daily volume in base units
	logits  []*ou   // per-coin share logits (stable pools)
	reward  *logOU  // incentive APY, or nil
	walk    *logOU  // price of a pool with no known coins, or nil
	price   func(c *stepCtx) float64
	w0      float64    // weight of coin 0 in a product pool
	shares  []float64  // scratch
	balance [3]float64 // scratch
}

func (g *gen) newAMM(mk *market, c marketCalib) (model, error) {
	m, prof := mk.m, mk.prof
	rg := func(what string) *rng { return newRNG(g.cfg.Seed, what+":"+m.ID) }
	a := &amm{market: mk, coins: 2,
		fee:    prof.ParamOr("fee_tier", 0.003),
		size:   newLogOU(rg("size"), c.size, 0.1, 60.0/365, g.dt),
		volume: newLogOU(rg("volume"), c.size*c.turnover, 0.5, 2.0/365, g.dt),
		stable: prof.PoolType != adapters.PoolConstantProduct && prof.PoolType != adapters.PoolConcentrated,
		w0:     prof.ParamOr("weight0", 0.5),
	}
	if c.reward > 0 {
		a.reward = newLogOU(rg("reward"), c.reward, 0.3, 14.0/365, g.dt)
	}
	g.poolPrice(a)
	if a.stable {
		// Shares drift around balanced: equal values, or for a weighted
		// two-coin pool around (weight0, 1 - weight0).
		means := make([]float64, a.coins)
		if w := prof.ParamOr("weight0", 0.5); a.coins == 2 && w > 0 && w < 1 {
			means[0], means[1] = math.Log1p(w-1), math.Log1p(-w)
		}
		for i := 0; i < a.coins; i++ {
			a.logits = append(a.logits, newOU(rg("share"+string(rune('0'+i))), means[i], 0.08, 5.0/365, g.dt))
		}
	}
	a.shares = make([]float64, a.coins)
	return a, nil
}

// poolPrice decides what a pool's price field is, and its coins:
//   - curve/3pool: DAI, USDC, USDT; price is USDC in USD.
//   - uniswap-v3/weth-usdt*: WETH, USDT; price is USDT per WETH.
//   - a pool named after a staking token (steth-eth, reth-weth, weeth-weth):
//     that token and the base; price is the token's market price in base
//     (its exchange rate times its peg, or the peg alone for rebasing
//     tokens); the pool shares the token's peg with its LST market.
//   - a pool named after a stablecoin: that coin's USD peg.
//   - otherwise: a stable pool's own peg around 1, or for a constant-product
//     pool a price that wanders around 1.
func (g *gen) poolPrice(a *amm) {
	m := a.m
	_, name, _ := strings.Cut(m.ID, "/")
	toks := strings.Split(strings.ToLower(name), "-")
	if m.ID == "curve/3pool" {
		a.coins = 3
		p := g.peg("usdc", stableCalibs["usdc"])
		a.market.stable = p
		a.price = func(c *stepCtx) float64 { return p.value(c.day) }
		return
	}
	if !a.stable && m.Base != adapters.USD {
		for _, t := range toks {
			if sc, ok := stableCalibs[t]; ok { // WETH/USDT: USD per base over the stable's peg
				p := g.peg(t, sc)
				a.market.stable = p
				a.price = func(c *stepCtx) float64 { return c.baseUSD(m.Base) / p.value(c.day) }
				return
			}
		}
	}
	for _, t := range toks {
		if tu, ok := tokenUnder[t]; ok {
			if u := g.underFor(tu.protocol); u != nil {
				a.market.under = u
				if tu.rebasing {
					a.price = func(c *stepCtx) float64 { return u.peg.value(c.day) }
				} else {
					a.price = func(c *stepCtx) float64 { return sig(u.rate, 11) * u.peg.value(c.day) }
				}
				return
			}
		}
		if sc, ok := stableCalibs[t]; ok {
			p := g.peg(t, sc)
			a.market.stable = p
			a.price = func(c *stepCtx) float64 { return p.value(c.day) }
			return
		}
	}
	if a.stable {
		p := g.peg("pool:"+m.ID, underCalib{pegSD: 0.001})
		a.price = func(c *stepCtx) float64 { return p.value(c.day) }
		return
	}
	w := newLogOU(newRNG(g.cfg.Seed, "price:"+m.ID), 1, 0.3, 180.0/365, g.dt)
	a.walk = w
	a.price = func(*stepCtx) float64 { return w.value() }
}

func (a *amm) observe(c *stepCtx, o *adapters.Observation) {
	size := a.size.value()
	if a.stable {
		sum := 0.0
		for i, l := range a.logits {
			a.shares[i] = exp(l.x + addCoin(a.effects, i, c.day))
			sum += a.shares[i]
		}
		for i := range a.shares {
			a.shares[i] /= sum
		}
	} else {
		// A product pool holds its coins at its weights: even, or
		// (weight0, 1 - weight0) for a two-coin weighted pool.
		for i := range a.shares {
			a.shares[i] = 1 / float64(a.coins)
		}
		if a.coins == 2 && a.w0 > 0 && a.w0 < 1 {
			a.shares[0], a.shares[1] = a.w0, 1-a.w0
		}
	}
	total := 0.0
	for i := 0; i < a.coins; i++ {
		a.balance[i] = sig(size*a.shares[i], 7)
		total += a.balance[i]
	}
	vol := sig(a.volume.value()*mulOf(a.effects, effVolume, c.day), 6)
	price := a.price(c) - addOf(a.effects, effPegDrop, c.day)
	o.Put(adapters.FieldTVL, sig(total*c.baseUSD(a.m.Base), 6))
	o.Put(adapters.FieldVolume, vol)
	o.Put(adapters.FieldFeeTier, a.fee)
	o.Put(adapters.FieldBalance0, a.balance[0])
	o.Put(adapters.FieldBalance1, a.balance[1])
	if a.coins > 2 {
		o.Put(adapters.FieldBalance2, a.balance[2])
	}
	o.Put(adapters.FieldPrice, sig(math.Max(price, 1e-9), 8))
	if total > 0 {
		o.Put(adapters.FieldAPY, sig(vol*a.fee*365/total, 6))
	}
	if a.reward != nil {
		o.Put(adapters.FieldRewardAPY, sig(a.reward.value(), 6))
	}
}

func addCoin(effs []effect, coin int, day float64) float64 {
	v := 0.0
	for i := range effs {
		if effs[i].kind == effShare && effs[i].coin == coin {
			v += effs[i].s.at(day)
		}
	}
	return v
}

func (a *amm) step() {
	a.size.step()
	a.volume.step()
	for _, l := range a.logits {
		l.step()
	}
	if a.reward != nil {
		a.reward.step()
	}
	if a.walk != nil {
		a.walk.step()
	}
}
