package lending

import (
	"math"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/internal/mech"
	"github.com/yieldvault/yieldvault/fixed"
)

func init() { adapters.Register(adapters.Lending, New) }

// year is the length of a year in seconds for compounding (365 days).
const year = 365 * 24 * 3600.0

// Driver models the supply side of one lending market. It is immutable
// after New and safe for concurrent use.
type Driver struct {
	market adapters.Market
	model  Model // the model the profile's values give (before any dated change)
	rates  Rates // the model over time
	// adaptive is the model when its rate at target adapts (Morpho).
	adaptive *AdaptiveCurve
	params   mech.UnitParams
	// bridgeDays is how long a deposit takes to reach the market from
	// Ethereum (bridge_days), during which it earns nothing.
	bridgeDays float64
}

// Harvesting is the Driver of a market whose profile pays reward tokens:
// it adds the adapters.Harvester capability.
type Harvesting struct{ *Driver }

// New builds the driver of a lending market from its profile. Markets whose
// profile lists reward tokens get a *Harvesting driver, the others a
// *Driver. It is the Factory registered for adapters.Lending.
func New(m adapters.Market, p *adapters.Profile) (adapters.Driver, error) {
	const op = "lending.New"
	if m.Legs != nil {
		l, err := NewLoop(m, p)
		if err != nil {
			return nil, err
		}
		return l, nil
	}
	up, err := mech.ReadUnitParams(op, m, p, adapters.Lending, "a lending")
	if err != nil {
		return nil, err
	}
	rates, err := RatesFromProfile(p)
	if err != nil {
		return nil, adapters.Wrap(op, adapters.KindInvalid, err)
	}
	model := rates.models[0]
	if err := up.Check(op, m.ID); err != nil {
		return nil, err
	}
	d := &Driver{market: m, model: model, rates: rates, params: up, bridgeDays: p.ParamOr("bridge_days", 0)}
	if a, ok := model.(AdaptiveCurve); ok {
		d.adaptive = &a
	}
	if len(p.RewardTokens) > 0 {
		return &Harvesting{d}, nil
	}
	return d, nil
}

// ModelFromProfile builds a profile's interest-rate model: Morpho's
// AdaptiveCurve when the profile sets irm_curve_steepness, Compound v3's
// Comet curves when it sets comet_supply_kink, else the kinked IRM.
func ModelFromProfile(p *adapters.Profile) (Model, error) {
	_, adaptive := p.Param("irm_curve_steepness")
	_, comet := p.Param("comet_supply_kink")
	switch {
	case adaptive && comet:
		return nil, adapters.E("lending.ModelFromProfile", adapters.KindInvalid, "profile %s sets both an adaptive-curve (irm_curve_steepness) and a Compound v3 (comet_supply_kink) rate model", p.Name)
	case adaptive:
		return AdaptiveCurveFromProfile(p)
	case comet:
		return CometFromProfile(p)
	}
	return IRMFromProfile(p)
}

// Model returns the driver's interest-rate model as the profile's values
// give it (before any dated change; see ModelAt).
func (d *Driver) Model() Model { return d.model }

// ModelAt returns the interest-rate model in force at t.
func (d *Driver) ModelAt(t time.Time) Model { return d.rates.At(t) }

// State is what the driver reads from one observation of a lending market.
type State struct {
	// APY is the supply APY now: the observed apy, or the model at the
	// observed utilization. Observed says which.
	APY      float64
	Observed bool
	// Utilization is borrows / supply; HasUtilization says whether it is
	// known: observed, derived from supply and borrows, or (Inferred)
	// solved from the observed APY with the model (Model.Invert) when the
	// observation carries only the APY and the market's size.
	Utilization    float64
	HasUtilization bool
	Inferred       bool
	// Supply and Borrows are the market's totals in base units; HasSize
	// says whether they are known (observed, or derived from utilization
	// and tvl, which for a lending market is the USD value supplied).
	Supply, Borrows float64
	HasSize         bool
	// Available is the base asset that can be withdrawn now: the observed
	// exit_liquidity, else Supply - Borrows; +Inf when neither is known.
	Available float64
	// RewardAPY is the observed reward APY before the haircut.
	RewardAPY float64
	// Model is the rate model in force at the observation's time.
	Model Model
}

// Read derives the market state from an observation.
func (d *Driver) Read(o *adapters.Observation) State {
	s := State{Model: d.rates.At(o.Time)}
	supply, okS := o.Get(adapters.FieldSupply)
	borrows, okB := o.Get(adapters.FieldBorrows)
	u, okU := o.Get(adapters.FieldUtilization)
	apy, okA := o.Get(adapters.FieldAPY)
	if !okS && !okB {
		// For a lending market tvl is the USD value supplied.
		if tvl, ok := o.Get(adapters.FieldTVL); ok {
			px := o.Value(adapters.FieldBaseUSD, 0)
			if px <= 0 && d.market.Base == adapters.USD {
				px = 1
			}
			if px > 0 {
				supply, okS = tvl/px, true
			}
		}
	}
	switch {
	case okS && okB:
		s.Supply, s.Borrows, s.HasSize = supply, borrows, true
		if !okU && supply > 0 {
			u, okU = borrows/supply, true
		}
	case okU && okS:
		s.Supply, s.Borrows, s.HasSize = supply, u*supply, true
	case okU && okB && u > 0:
		s.Supply, s.Borrows, s.HasSize = borrows/u, borrows, true
	case okS && okA && !okU:
		// APY and size only (DefiLlama pools): the utilization at which
		// the profile's model pays the observed APY.
		u, okU, s.Inferred = s.Model.Invert(apy), true, true
		s.Supply, s.Borrows, s.HasSize = supply, u*supply, true
	}
	if okU {
		s.Utilization, s.HasUtilization = clamp01(u), true
	}
	switch {
	case o.Set.Has(adapters.FieldExitLiquidity):
		s.Available = o.Values[adapters.FieldExitLiquidity]
	case s.HasSize:
		s.Available = math.Max(0, s.Supply-s.Borrows)
	default:
		s.Available = math.Inf(1)
	}
	if okA {
		s.APY, s.Observed = apy, true
	} else if s.HasUtilization {
		s.APY = s.Model.Supply(s.Utilization)
	}
	s.RewardAPY = o.Value(adapters.FieldRewardAPY, 0)
	return s
}

// APYAfter is the supply APY after base-asset amount delta is added to
// (delta > 0) or removed from (delta < 0) the market's supply: the
// utilization becomes Borrows / (Supply + delta), priced on the
// calibrated model. Without a known size the rate is unchanged.
func (d *Driver) APYAfter(s State, delta float64) float64 {
	return s.APY * d.ratio(&s, delta)
}

// ratio is the supply rate of the market with own base units added to
// its supply over the rate observed without them: the model at the
// utilization after own (UtilizationAfter) over the model at the observed
// utilization, which is the calibrated model (Calibrate) at the new
// utilization. It is 1 when the market's size or utilization is unknown
// or the model pays nothing at the observed utilization, and 0 when own
// takes the supply to zero or below while the model pays nothing there.
func (d *Driver) ratio(s *State, own float64) float64 {
	if !s.HasSize || !s.HasUtilization || own == 0 || s.Model == nil {
		return 1
	}
	m0 := s.Model.Supply(s.Utilization)
	if m0 <= 0 || math.IsNaN(m0) {
		return 1
	}
	u1 := UtilizationAfter(s.Utilization, s.Supply, own, 0)
	return s.Model.Supply(u1) / m0
}

// rateAtTarget is the market's rate at target implied by the observation
// (the observed borrow rate, else the supply rate grossed up by
// utilization and fee, over the curve at a unit rate at target), or the
// model's initial one when the observation cannot say.
func (d *Driver) rateAtTarget(o *adapters.Observation, s *State) float64 {
	a := d.adaptive
	c := a.Curve(1, s.Utilization)
	b, ok := o.Get(adapters.FieldBorrowAPY)
	if !ok && s.Utilization > 0 {
		b, ok = s.APY/(s.Utilization*(1-a.Fee)), true
	}
	if !ok || !(b > 0) || c <= 0 {
		return a.Initial
	}
	return a.Bound(b / c)
}

// own is the vault's position's part of a market: the rate ratio it
// earns at (ratio) and its adaptation state after years (adapt, for an
// adaptive model: the log of its rate at target over the market's,
// moving at Speed times the difference of the two utilization errors
// and bounded as the contract bounds the rate at target; the ratio then
// includes the contract's trapezoidal average of it over the interval).
func (d *Driver) own(o *adapters.Observation, own, adapt, years float64) (ratio, next float64) {
	s := d.Read(o)
	ratio, next = d.ratio(&s, own), adapt
	a := d.adaptive
	if a == nil || !s.HasSize || !s.HasUtilization {
		return ratio, next
	}
	if years <= 0 {
		return ratio * math.Exp(adapt), next
	}
	rT := d.rateAtTarget(o, &s)
	lo, hi := math.Log(a.MinRate/rT), math.Log(a.MaxRate/rT)
	lin := a.Speed * (a.Err(UtilizationAfter(s.Utilization, s.Supply, own, 0)) - a.Err(s.Utilization)) * years
	next = math.Min(math.Max(adapt+lin, lo), hi)
	mid := math.Min(math.Max(adapt+lin/2, lo), hi)
	return ratio * (math.Exp(adapt) + math.Exp(next) + 2*math.Exp(mid)) / 4, next
}

// hasSize is a quick test (allocation-free, before any Read) of whether
// an observation can tell the market's size: supplied amounts, borrows
// with a utilization, or a tvl the driver can convert to base units (a
// USD market, or a base_usd price).
func (d *Driver) hasSize(o *adapters.Observation) bool {
	set := o.Set
	switch {
	case set.Has(adapters.FieldSupply), set.Has(adapters.FieldBorrows) && set.Has(adapters.FieldUtilization):
		return true
	case set.Has(adapters.FieldTVL):
		return d.market.Base == adapters.USD || set.Has(adapters.FieldBaseUSD) && o.Values[adapters.FieldBaseUSD] > 0
	}
	return false
}

// supplyAPY is the hot-path form of Read(o).APY; ok is false when the
// observation says nothing about the rate.
func (d *Driver) supplyAPY(o *adapters.Observation) (apy float64, ok bool) {
	if o.Set.Has(adapters.FieldAPY) {
		return o.Values[adapters.FieldAPY], true
	}
	if o.Set.Has(adapters.FieldUtilization) {
		return d.rates.At(o.Time).Supply(o.Values[adapters.FieldUtilization]), true
	}
	if o.Set.Has(adapters.FieldSupply) && o.Set.Has(adapters.FieldBorrows) && o.Values[adapters.FieldSupply] > 0 {
		return d.rates.At(o.Time).Supply(o.Values[adapters.FieldBorrows] / o.Values[adapters.FieldSupply]), true
	}
	return 0, false
}

// projection is a position projected to a time.
type projection struct {
	idx, apy float64 // the index, and the rate the position earned
	drag     float64 // Position.Entry: idx over the market's observed index (0 = 1)
	adapt    float64 // Position.Adapt
}

// project returns pos projected to env.Time without changing it. The
// market's rate is the observed supply APY (or the model at the observed
// utilization; else the last known rate, pos.APY); the position earns it
// times the ratio of the model after its own supply (own) to the model
// at the observed utilization, when the market's size is known. With an
// observed liquidity index the index follows the market's index, its log
// growth since pos.Last scaled by that ratio (pos.Entry keeps the
// position's index over the market's); otherwise pos.Index compounds the
// rate from pos.Last. At or before pos.Last it is pos as it is.
func (d *Driver) project(pos *adapters.Position, env *adapters.Env) projection {
	p := projection{idx: pos.Index, apy: pos.APY, drag: pos.Entry, adapt: pos.Adapt}
	if p.idx <= 0 {
		p.idx = 1
	}
	if env == nil || !env.Time.After(pos.Last) {
		return p
	}
	o := &env.Obs
	a, okA := d.supplyAPY(o)
	ratio := 1.0
	if okA && d.hasSize(o) && pos.Units.Sign() > 0 {
		ratio, p.adapt = d.own(o, pos.Units.ToFloat()*p.idx, pos.Adapt, yearsSince(pos, env))
	}
	if okA {
		p.apy = a * ratio
	}
	v, okI := observedIndex(o)
	switch {
	case okI && (pos.Last.IsZero() || ratio == 1 && p.drag == 0):
		p.idx = v
	case okI:
		drag := p.drag
		if drag <= 0 {
			drag = 1
		}
		if g := v * drag / p.idx; ratio != 1 && g > 0 {
			drag *= math.Pow(g, ratio-1)
		}
		p.idx, p.drag = v*drag, drag
	case pos.Last.IsZero():
	case p.apy != 0 && p.apy > -1:
		if f, end, ok := env.Growth.Upto(pos.Last, env.Time, p.apy); ok && ratio == 1 {
			// The steps' growth, computed ahead (Growth) from the same
			// rate over the same interval, or over its start up to a
			// step before env.Time (an event's time), compounded on from
			// there.
			p.idx *= f
			if rest := env.Time.Sub(end); rest > 0 {
				p.idx *= growth(years(rest), p.apy)
			}
			break
		}
		years := yearsSince(pos, env)
		p.idx *= growth(years, p.apy)
		if ratio != 1 && a > -1 {
			// The market compounded a: keep the position's index over
			// the market's for an index observed later.
			drag := p.drag
			if drag <= 0 {
				drag = 1
			}
			p.drag = drag * math.Exp(years*(math.Log1p(p.apy)-math.Log1p(a)))
		}
	}
	return p
}

// yearsSince is the time from pos.Last to env.Time in years (0 for a
// position never accrued).
func yearsSince(pos *adapters.Position, env *adapters.Env) float64 {
	if pos.Last.IsZero() {
		return 0
	}
	return years(env.Time.Sub(pos.Last))
}

// years is a duration in years of 365 days.
func years(d time.Duration) float64 { return float64(d) / float64(time.Second) / year }

// growth is the factor an index compounding apy grows by over years:
// (1+apy)^years, as exp(years x log1p(apy)).
func growth(years, apy float64) float64 { return math.Exp(years * math.Log1p(apy)) }

// Growth is the factor one unit supplied grows by over (from, to] (unix
// seconds) at observation o, and the rate it compounds
// (adapters.Grower): what project computes for a position whose rate the
// observation fixes whatever its size, that is where the observation
// tells neither the market's size (hasSize) nor its index. ok is false
// elsewhere, and where the position would not compound (a rate of zero,
// or -100% or less).
func (d *Driver) Growth(o *adapters.Observation, from, to int64) (apy, factor float64, ok bool) {
	a, ok := d.GrowthRate(o)
	if !ok || to <= from {
		return 0, 0, false
	}
	return a, growth(years(time.Duration(to-from)*time.Second), a), true
}

// GrowthRate is the rate Growth compounds at o (adapters.RateGrower): the
// observed supply rate where the observation tells neither the market's
// size nor its index, and the rate is neither zero nor -100% or less.
func (d *Driver) GrowthRate(o *adapters.Observation) (apy float64, ok bool) {
	a, okA := d.supplyAPY(o)
	if !okA || d.hasSize(o) || !(a != 0 && a > -1) {
		return 0, false
	}
	if _, okI := observedIndex(o); okI {
		return 0, false
	}
	return a, true
}

// GrowthFactors sets f[i] to Growth's factor of rate apy[i] over secs[i]
// seconds (adapters.RateGrower), to the bit: growth(years, apy) of each,
// computed four at a time (growthFactors).
func (d *Driver) GrowthFactors(apy []float64, secs []int64, f []float64) {
	growthFactors(apy, secs, f)
}

// MarkBasis is the market's growth (adapters.Marker): a unit is worth
// the position's index, which grows by the market's Growth factors, one
// for one in the base asset; except at market pricing in a USD vault,
// where ValueRate also multiplies by the coin's observed price.
func (d *Driver) MarkBasis(_ *adapters.Series, pricing adapters.Pricing) ([]float64, bool, bool) {
	if pricing == adapters.PriceMarket && d.market.Base == adapters.USD {
		return nil, false, false
	}
	return nil, true, true
}

// observedIndex returns the observation's liquidity index when it carries
// a usable one.
func observedIndex(o *adapters.Observation) (float64, bool) {
	if v, ok := o.Get(adapters.FieldIndex); ok && v > 0 && !math.IsInf(v, 0) {
		return v, true
	}
	return 0, false
}

// Quote prices a deposit of amount: the supply APY after the deposit's
// rate impact, on top of the caller's own position (env.Held), plus
// rewards after the haircut, gas on the way in and out, and the free
// liquidity as the most an instant exit can take: the market's plus the
// caller's own supply and the deposit, which history does not count
// (exitLimit).
func (d *Driver) Quote(env *adapters.Env, amount fixed.Num) (adapters.Quote, error) {
	return d.QuotePart(env, amount, false, adapters.QuoteAll)
}

// QuoteSell prices a sale of amount from the caller's position
// (env.Held, adapters.SellQuoter): the APY is the yield the sale gives up
// per unit sold, (H·r(H) − (H−X)·r(H−X)) / X, where r(h) is the rate a
// position of value h earns after its own supply (rateAt), H the
// position's value and X the amount (at most H). Selling part of a
// position the market's utilization depends on lowers the supply, so what
// stays earns more: the loss is below r(H), and far below it where the
// vault dominates the market. Without a position (or a sale of zero) it
// is r(H), the rate the position earns. Rewards, gas and the bridge's
// transit are Quote's; MaxInstantExit is the market's free liquidity plus
// the position's own supply.
func (d *Driver) QuoteSell(env *adapters.Env, amount fixed.Num) (adapters.Quote, error) {
	return d.QuotePart(env, amount, true, adapters.QuoteAll)
}

// sellRate is QuoteSell's APY: the yield a sale of amount from a
// position of value h gives up per unit sold.
func (d *Driver) sellRate(s *State, h, adapt float64, amount fixed.Num) float64 {
	apy := d.rateAt(s, h, adapt)
	if x := math.Min(amount.Float(), h); x > 0 {
		apy = (h*apy - (h-x)*d.rateAt(s, h-x, adapt)) / x
	}
	return apy
}

// QuotePart is part of Quote (of QuoteSell with sell)
// (adapters.PartQuoter): the supply APY after the deposit's rate impact
// (the yield the sale gives up) plus rewards after the haircut, and the
// entry and exit part asks for.
func (d *Driver) QuotePart(env *adapters.Env, amount fixed.Num, sell bool, part adapters.QuotePart) (adapters.Quote, error) {
	s := d.Read(&env.Obs)
	own, adapt := d.ownOf(env, d.held(env))
	var apy float64
	if sell {
		apy = d.sellRate(&s, own, adapt, amount)
	} else {
		apy = d.rateAt(&s, own+amount.Float(), adapt)
	}
	q := d.yield(&s, apy)
	if part&adapters.QuoteEntry != 0 {
		q.EntryCost = d.entryCost(env, amount, apy)
	}
	if part&adapters.QuoteExit != 0 {
		q.ExitCost = env.GasCost(d.params.GasWithdraw)
		switch {
		case !sell:
			q.MaxInstantExit = d.exitLimit(&s, own, amount)
		case math.IsInf(s.Available, 1):
			q.MaxInstantExit = amount
		default:
			q.MaxInstantExit = d.exitLimit(&s, own, fixed.Num{})
		}
	}
	return q, nil
}

// yield is a quote's yield at apy: rewards after the haircut added.
func (d *Driver) yield(s *State, apy float64) adapters.Quote {
	reward := s.RewardAPY * (1 - d.params.RewardHaircut)
	return adapters.Quote{APY: apy + reward, RewardAPY: reward}
}

// entryCost is a deposit's of amount at apy: gas and the bridge's
// transit cost.
func (d *Driver) entryCost(env *adapters.Env, amount fixed.Num, apy float64) fixed.Num {
	gas := env.GasCost(d.params.GasDeposit)
	if d.bridgeDays > 0 {
		if net := amount.Sub(gas); net.Sign() > 0 {
			return gas.Add(d.transit(net, apy))
		}
	}
	return gas
}

// exitLimit is the most an instant exit can take: the market's free
// liquidity (s.Available) plus the liquid part of the caller's own supply
// and of amount (ownLiquid), which history does not count. Unlimited
// (amount) when the free liquidity is not known. It is
// adapters.Quantize(adapters.FromFloat(limit)): FromFloat's decimal at
// Scale places, and zero at Scale places for a limit that is not finite.
func (d *Driver) exitLimit(s *State, own float64, amount fixed.Num) fixed.Num {
	if math.IsInf(s.Available, 1) {
		return amount
	}
	limit := math.Max(0, s.Available) + s.ownLiquid(own+amount.Float())
	if math.IsNaN(limit) || math.IsInf(limit, 0) {
		limit = 0
	}
	return fixed.NumFromFloat(limit)
}

// ownLiquid is the part of own base units of the vault's supply that is
// cash it can take out: own x (1 - utilization), the market's observed
// free share. History records the market without the vault. Its rate
// (u' = borrows / (supply + own)) assumes the borrowers borrow no more for
// the vault's supply, which is the lower rate; its exits assume the
// vault's supply is borrowed as much as the market's was, which is the
// tighter exit. Each side takes the assumption that does not flatter (the
// truth lies between: borrowers take up cheap liquidity over days). At
// 100% utilization nothing of it is liquid. With the utilization unknown
// (free liquidity observed, no size) none of it counts.
func (s *State) ownLiquid(own float64) float64 {
	if !s.HasUtilization || own <= 0 {
		return 0
	}
	return own * (1 - s.Utilization)
}

// held returns env.Held when it is a position in this market, else nil.
func (d *Driver) held(env *adapters.Env) *adapters.Position {
	if h := env.Held; h != nil && (h.Market == "" || h.Market == d.market.ID) {
		return h
	}
	return nil
}

// ownOf is held's value projected to env.Time, in base units, and its
// adaptation state (Position.Adapt); zero for nil or an empty position.
func (d *Driver) ownOf(env *adapters.Env, held *adapters.Position) (own, adapt float64) {
	if held == nil || held.Units.Sign() <= 0 {
		return 0, 0
	}
	p := d.project(held, env)
	return held.Units.ToFloat() * p.idx, p.adapt
}

// rateAt is the supply APY a position of own base units earns: the
// observed rate times the model's ratio after them (ratio), and for an
// adaptive model its adaptation of the rate at target.
func (d *Driver) rateAt(s *State, own, adapt float64) float64 {
	apy := s.APY * d.ratio(s, own)
	if adapt != 0 && d.adaptive != nil && s.HasSize && s.HasUtilization {
		apy *= math.Exp(adapt)
	}
	return apy
}

// apyWith is the supply APY of a position of held (nil for none) plus
// amount base units (rateAt).
func (d *Driver) apyWith(env *adapters.Env, s *State, held *adapters.Position, amount float64) float64 {
	own, adapt := d.ownOf(env, held)
	return d.rateAt(s, own+amount, adapt)
}

// transit is the interest net base units forgo while bridging for
// bridge_days at apy: net x (1 - (1+apy)^(-days/365)); zero at a rate
// of zero or below.
func (d *Driver) transit(net fixed.Num, apy float64) fixed.Num {
	if !(apy > 0) {
		return fixed.Num{}
	}
	return net.MulRate(-math.Expm1(-d.bridgeDays / 365 * math.Log1p(apy)))
}

// Deposit supplies amount: the position is accrued to env.Time, gas is
// taken from the amount, and the rest becomes scaled units at the current
// index (DivRound at adapters.Scale).
func (d *Driver) Deposit(pos adapters.Position, env *adapters.Env, amount fixed.Num) (adapters.Position, adapters.Fill, error) {
	const op = "lending.Deposit"
	if pos.Paused {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindPaused, "%s is paused", d.market.ID)
	}
	d.Accrue(&pos, env)
	gas := env.GasCost(d.params.GasDeposit)
	am := amount
	net := am.Sub(gas)
	if net.Sign() <= 0 {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "%s: deposit of %s does not cover gas of %s", d.market.ID, amount, gas)
	}
	var fee fixed.Num
	if d.bridgeDays > 0 {
		// The deposit earns nothing while it crosses the bridge: the
		// interest it forgoes is the transfer's cost.
		s := d.Read(&env.Obs)
		f := d.transit(net, d.apyWith(env, &s, &pos, amount.Float()))
		net, fee = net.Sub(f), f
	}
	idx := d.project(&pos, env).idx
	units := net.DivRoundRate(idx)
	pos.Index = idx
	pos.Units, pos.Principal = pos.Units.Add(units), pos.Principal.Add(am)
	if pos.Last.Before(env.Time) || pos.Last.IsZero() {
		pos.Last = env.Time
	}
	return pos, adapters.Fill{
		Amount: amount,
		Value:  units.MulRate(idx),
		Gas:    gas,
		Fee:    fee,
	}, nil
}

// Withdraw redeems value at the current index. Lending markets have no
// queue: ExitQueue fails with KindInvalid, ExitAuto and ExitInstant
// withdraw now. The amount is limited by the free liquidity: more fails
// with KindInsufficientLiquidity, or fills partially with AllowPartial.
func (d *Driver) Withdraw(pos adapters.Position, env *adapters.Env, w adapters.Withdrawal) (adapters.Position, adapters.Fill, error) {
	const op = "lending.Withdraw"
	if pos.Paused {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindPaused, "%s is paused", d.market.ID)
	}
	if w.Mode == adapters.ExitQueue {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "%s has no withdrawal queue", d.market.ID)
	}
	d.Accrue(&pos, env)
	idx := d.project(&pos, env).idx
	pos.Index = idx
	held := pos.Units
	value := held.MulRate(idx)
	am := w.Amount
	if w.All || am.Cmp(value) > 0 {
		if !w.All {
			return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "%s: withdrawal of %s exceeds the position's value %s", d.market.ID, am, value)
		}
		am = value
	}
	if am.Sign() <= 0 {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "%s: nothing to withdraw", d.market.ID)
	}
	partial := false
	if st := d.Read(&env.Obs); !math.IsInf(st.Available, 1) {
		// The market's free liquidity plus the liquid part of the
		// position's own supply, which history does not count (ownLiquid).
		availN := fixed.NumFromFloat(math.Max(0, st.Available) + st.ownLiquid(value.Float()))
		if am.Cmp(availN) > 0 {
			if !w.AllowPartial || availN.Sign() <= 0 {
				return pos, adapters.Fill{}, adapters.E(op, adapters.KindInsufficientLiquidity,
					"%s: withdrawal of %s exceeds the free liquidity of %s", d.market.ID, am, availN)
			}
			am, partial = availN, true
		}
	}
	var burned fixed.Num
	if am.Equal(value) {
		burned, am = held, value // the fill's Value is value's representation
	} else {
		burned = am.DivRoundRate(idx)
		if burned.Cmp(held) > 0 {
			burned = held
		}
	}
	gas := env.GasCost(d.params.GasWithdraw)
	if am.Cmp(gas) <= 0 {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "%s: withdrawal of %s does not cover gas of %s", d.market.ID, am, gas)
	}
	left := held.Sub(burned)
	if held.Sign() > 0 && left.Sign() != 0 {
		p := pos.Principal
		pos.Units, pos.Principal = left, p.Sub(p.MulDivRound(burned, held))
	} else {
		pos.Units = left
		if left.Sign() == 0 {
			pos.Principal = fixed.Num{}
		}
	}
	return pos, adapters.Fill{
		Amount:  am.Sub(gas),
		Value:   am,
		Gas:     gas,
		Partial: partial,
	}, nil
}

// Accrue brings pos to env.Time. With a liquidity index in the observation
// the position's index follows that index (exactly, while the market's
// size is unknown or the position too small to move its utilization);
// otherwise the index compounds the supply APY (observed, or the model at
// the observed utilization) over the elapsed time:
// Index *= (1+apy)^(dt/365d). Where the market's size is known the rate
// is the model's after the position's own supply (see project). The
// rate of the latest observation applies to the whole interval. Reward
// APY accrues simply (reward tokens do not compound) into Rewards after
// the profile's reward_haircut; only that allocates.
func (d *Driver) Accrue(pos *adapters.Position, env *adapters.Env) {
	if !env.Time.After(pos.Last) {
		return
	}
	last := pos.Last
	p := d.project(pos, env)
	pos.Index, pos.APY, pos.Entry, pos.Adapt = p.idx, p.apy, p.drag, p.adapt
	pos.Last = env.Time
	if last.IsZero() {
		// A position that has never been opened only starts its clock.
		return
	}
	if r := env.Obs.Values[adapters.FieldRewardAPY]; r > 0 && env.Obs.Set.Has(adapters.FieldRewardAPY) && pos.Units.Sign() > 0 {
		dt := float64(env.Time.Sub(last)) / float64(time.Second) / year
		if f := r * dt * (1 - d.params.RewardHaircut); f > 0 {
			pos.Rewards = pos.Rewards.Add(pos.Units.MulRate(pos.Index).MulRate(f))
		}
	}
}

// Value is Units x the index at env.Time (projected as Accrue would, so a
// position not yet accrued is valued at the time asked). aTokens redeem
// one for one in the base asset, so rate and market pricing agree.
func (d *Driver) Value(pos *adapters.Position, env *adapters.Env, pricing adapters.Pricing) decimal.Decimal {
	if pos.Units.Sign() == 0 {
		return decimal.Zero
	}
	idx, _ := d.ValueRate(pos, env, pricing)
	return pos.Units.MulRate(idx).Dec()
}

// ValueRate is the index Value multiplies the units by
// (adapters.RateValuer), projected as Accrue would. At market pricing a
// stablecoin market of a USD vault is also valued at the coin's observed
// market price (USDC at 0.88 in March 2023 shows as a loss): the market's
// base is USD and its observation carries the coin's price in USD.
func (d *Driver) ValueRate(pos *adapters.Position, env *adapters.Env, pricing adapters.Pricing) (float64, bool) {
	idx := d.project(pos, env).idx
	if pricing == adapters.PriceMarket && d.market.Base == adapters.USD {
		if p, ok := env.Obs.Get(adapters.FieldPrice); ok && p > 0 && !math.IsInf(p, 0) {
			idx *= p
		}
	}
	return idx, true
}

// Apply applies an event. Bad debt and slashing cut Units by exactly the
// event's size and return the value lost; pause and unpause set and clear
// pos.Paused; a depeg changes nothing (a supply position is redeemed at
// par). The position is accrued to env.Time first when env is given.
func (d *Driver) Apply(pos adapters.Position, env *adapters.Env, ev adapters.Event) (adapters.Position, decimal.Decimal, error) {
	return mech.ApplyUnits(d, pos, env, ev)
}

// Harvest claims the accrued rewards and swaps them to the base asset at
// the profile's harvest_swap_cost plus gas_harvest gas. With nothing
// accrued it fails with KindNotReady; when the costs would eat the whole
// harvest it fails with KindInvalid and leaves the rewards in place (as
// the LRT driver does).
func (h *Harvesting) Harvest(pos adapters.Position, env *adapters.Env) (adapters.Position, adapters.Fill, error) {
	const op = "lending.Harvest"
	h.Accrue(&pos, env)
	return h.params.Harvest(op, h.market.ID, pos, env)
}
