package vault

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/internal/decfast"
	"github.com/yieldvault/yieldvault/strategies"
)

// sellWhy is why the rebalancer sells (part of) a position.
type sellWhy uint8

const (
	sellOptional sellWhy = iota // over-weight within the band: sold only for one of the reasons below
	sellUrgent                  // exit rule or shutdown
	sellZero                    // target below the minimum trade: sell everything
	sellCap                     // the target is a cap the position breaches
	sellBand                    // over-weight beyond the tolerance band
	sellIdle                    // the idle target needs the cash
	sellFund                    // the proceeds fund buys that pay for the move
)

// note is what a sell's order reason adds to the weight comparison.
func (w sellWhy) note() string {
	switch w {
	case sellZero:
		return "; target below the minimum trade: sell everything"
	case sellCap:
		return "; the target is a cap"
	case sellBand:
		return "; beyond the tolerance band"
	case sellIdle:
		return "; restores the idle target"
	case sellFund:
		return "; funds buys"
	}
	return ""
}

type candidate struct {
	i      int
	side   Side
	amount decimal.Decimal // buy: the deficit; sell: what to sell
	over   decimal.Decimal // sell: the over-weight, what funding may take
	all    bool
	urgent bool
	why    sellWhy
	apy    float64
	q      adapters.Quote
	qAmt   decimal.Decimal // the amount q was quoted at
	funded decimal.Decimal // buy: the part instant sells fund for it
	reason string
}

// Decide turns a target into orders without executing anything. Target
// weights are fractions of NAV (GrossAssets); markets of the vault the
// target does not list are at weight 0, markets it lists that the vault
// does not hold are an error (KindInvalid). Queued withdrawals not yet
// claimed are idle in transit: they count as idle for weights and drift
// and fund buys once claimed. The rules, in order:
//
//   - exit (Target.Exit, TriggerExit, shutdown): sell the whole position
//     now, instant first and the rest queued, whatever the gas price;
//   - gas gate: above MaxGasPrice nothing else trades;
//   - paused markets and moves below MinTrade are rejected (a sell that
//     would leave less than MinTrade sells everything);
//   - an over-weight position is sold only when it must be: its target
//     is below MinTrade, its target is a cap (the allocation's reason
//     says "capped by"), it is more than max(Band, MinTrade/NAV) above
//     its target, the idle target needs cash (lowest APY first), or the
//     proceeds fund buys and the whole move pays (below);
//   - a buy must expect, paid from idle, a gain over Horizon of at least
//     MinGainOverCost times its entry cost: APY x amount x horizon;
//   - buys that idle above the idle target and the claims in transit
//     cannot fund are funded by over-weight positions, the best buys from
//     the lowest-APY positions, only as much as needed; the move (those
//     sells and the parts of the buys they fund) must expect a gain,
//     sum of amount x (buy APY - sell APY) x horizon, of at least
//     MinGainOverCost times its whole cost (the sells' exit costs and the
//     buys' entry costs pro rata); when it does not, the pairs with the
//     smallest APY spread drop out until it does;
//   - a non-urgent sell exits instantly or through the queue, whichever
//     costs less (the queue costs its gas plus the yield the buys forgo
//     while it waits), and queues when the instant exit breaks
//     MaxSlippage or the venue cannot take it;
//   - buys take what idle holds above the idle target plus the instant
//     sells' expected proceeds, scaled down pro rata; the rest waits for
//     queued claims.
//
// With MinGainOverCost zero there is no gain test: every buy is funded.
func (v *Vault) Decide(now, tick time.Time, trigger Trigger, target strategies.Target) (Decision, error) {
	const op = "vault.Decide"
	if err := v.advance(op, now); err != nil {
		return Decision{}, err
	}
	if v.shutdown {
		trigger = TriggerShutdown
	}
	n := len(v.markets)
	tw := make([]float64, n)
	flags := make([]uint8, n) // 1: exit, 2: capped target
	const fExit, fCapped = 1, 2
	for _, a := range target.Allocations {
		i, ok := v.byID[a.Market]
		if !ok {
			return Decision{}, adapters.E(op, adapters.KindInvalid, "vault %q: target weights market %s the vault does not hold", v.cfg.Name, a.Market)
		}
		if math.IsNaN(a.Weight) || math.IsInf(a.Weight, 0) || a.Weight < 0 || a.Weight > 1+1e-9 {
			return Decision{}, adapters.E(op, adapters.KindInvalid, "vault %q: target weight %g of %s is not a fraction", v.cfg.Name, a.Weight, a.Market)
		}
		tw[i] = a.Weight
		if strings.Contains(a.Reason, "capped by") {
			flags[i] |= fCapped
		}
	}
	for _, id := range target.Exit {
		i, ok := v.byID[id]
		if !ok {
			return Decision{}, adapters.E(op, adapters.KindInvalid, "vault %q: target exits market %s the vault does not hold", v.cfg.Name, id)
		}
		flags[i] |= fExit
		tw[i] = 0
	}
	idleTarget := math.Max(target.Idle, v.cfg.IdleFloor)
	if trigger == TriggerShutdown {
		for i := range tw {
			tw[i] = 0
			flags[i] |= fExit
		}
		idleTarget = 1
	}
	if !(idleTarget >= 0) || idleTarget > 1 {
		return Decision{}, adapters.E(op, adapters.KindInvalid, "vault %q: target idle %g is not a fraction", v.cfg.Name, target.Idle)
	}

	nav := v.GrossAssets()
	transit := v.transit()
	navF := f64(nav)
	d := Decision{Time: now, Tick: tick, Trigger: trigger, Costs: zero}
	d.Inputs = Inputs{NAV: nav, Idle: v.idle, IdleTarget: idleTarget, GasPrice: v.gasPrice, Markets: make([]MarketInput, n), Transit: transit}
	if target.Reason != "" {
		d.Reasons = append(d.Reasons, "strategy: "+target.Reason)
	}
	minTrade := v.cfg.Rebalance.MinTrade
	bandAmt := zero
	if b := v.cfg.Rebalance.Band; b > 0 {
		bandAmt = floorScale(nav.Mul(weightDec(b)))
	}
	bandAmt = maxDec(bandAmt, minTrade)
	gated := v.cfg.Rebalance.MaxGasPrice > 0 && v.gasPrice > v.cfg.Rebalance.MaxGasPrice
	if gated {
		d.Rejected = append(d.Rejected, Rejection{Market: "*", Reason: fmt.Sprintf("gas %g gwei above the gate %g: only exits trade", v.gasPrice, v.cfg.Rebalance.MaxGasPrice)})
	}

	cands := make([]candidate, 0, n)
	var sumW, sumT float64
	for i, s := range v.markets {
		cur := zero
		if s.pos.Units.Sign() != 0 {
			cur = v.value(s)
		}
		in := &d.Inputs.Markets[i]
		*in = MarketInput{Market: s.id, Value: cur, Target: tw[i], Paused: s.pos.Paused}
		if navF > 0 {
			in.Weight = f64(cur) / navF
		}
		sumW += in.Weight
		sumT += tw[i]
		c := candidate{i: i}
		switch {
		case flags[i]&fExit != 0:
			if cur.Sign() > 0 {
				c.side, c.amount, c.all, c.urgent, c.why = Sell, cur, true, true, sellUrgent
				c.reason = "exit: sell everything"
				if trigger == TriggerShutdown {
					c.reason = "shutdown: unwind to idle"
				}
			}
		case trigger == TriggerExit:
			// An exit check touches only the markets it exits.
		default:
			want := floorScale(nav.Mul(weightDec(tw[i])))
			switch decfast.Cmp(want, cur) {
			case -1:
				over := decfast.Sub(cur, want)
				if v.cfg.Pricing == adapters.PriceMarket && cur.Sign() > 0 {
					// Sell orders are in value at the exchange rate.
					over = mulDivDown(over, s.ad.Value(&s.pos, &s.env, adapters.PriceRate), cur)
				}
				c.side, c.amount, c.over = Sell, over, over
				switch {
				case decfast.Cmp(want, minTrade) < 0 || want.Sign() == 0:
					c.amount, c.all, c.why = cur, true, sellZero
				case flags[i]&fCapped != 0:
					c.why = sellCap
				case decfast.Cmp(over, bandAmt) > 0 && v.cfg.Rebalance.Band > 0:
					c.why = sellBand
				}
				c.reason = weightReason(in.Weight, "above", tw[i])
			case 1:
				c.side, c.amount = Buy, decfast.Sub(want, cur)
				c.reason = weightReason(in.Weight, "below", tw[i])
			}
		}
		// One quote per market: at the trade's size, else at zero for its APY.
		c.qAmt = zero
		if c.side != "" {
			c.qAmt = c.amount
		}
		q, err := s.ad.Quote(&s.env, c.qAmt)
		if err != nil {
			if c.side != "" && !c.urgent {
				d.Rejected = append(d.Rejected, Rejection{Market: s.id, Reason: "quote failed: " + err.Error()})
				continue
			}
		} else {
			in.APY = q.APY
		}
		c.q, c.apy = q, in.APY
		if c.side == "" {
			continue
		}
		if !c.urgent {
			switch {
			case gated:
				continue
			case s.pos.Paused:
				d.Rejected = append(d.Rejected, Rejection{Market: s.id, Reason: fmt.Sprintf("paused: %s %s not possible", c.side, c.amount)})
				continue
			case decfast.Cmp(c.amount, minTrade) < 0:
				d.Rejected = append(d.Rejected, Rejection{Market: s.id, Reason: fmt.Sprintf("%s of %s below the minimum trade %s", c.side, c.amount, minTrade)})
				continue
			}
		}
		cands = append(cands, c)
	}

	// Weights, drift (transit as idle in transit) and the target's APY gain.
	var over, under, gain float64
	for i := range d.Inputs.Markets {
		in := &d.Inputs.Markets[i]
		if dw := in.Target - in.Weight; dw > 0 {
			under += dw
		} else {
			over -= dw
		}
		gain += (in.Target - in.Weight) * in.APY
	}
	tau := 0.0
	if navF > 0 {
		tau = f64(transit) / navF
	}
	d.Inputs.Drift, d.Inputs.GainAPY = transitDrift(over, under, sumW-sumT+tau, tau), gain

	p := planner{v: v, d: &d, minTrade: minTrade, k: v.cfg.Rebalance.MinGainOverCost, years: float64(v.cfg.horizon()) / float64(Year)}
	for k := range cands {
		if c := &cands[k]; c.side == Buy && c.apy > p.bestBuyAPY {
			p.bestBuyAPY = c.apy
		}
	}
	// cash is idle above the idle target (negative when below) plus the
	// instant sells' expected proceeds; future is what queued exits and
	// claims in transit will add.
	p.cash = decfast.Sub(v.idle, idleKeep(nav, idleTarget))
	p.future = transit

	// 1. Sells that must happen.
	for k := range cands {
		if c := &cands[k]; c.side == Sell && c.why != sellOptional {
			p.sell(c, c.amount)
		}
	}
	// 2. The idle target, from the lowest-APY over-weights.
	opts := p.optional(cands)
	if short := decfast.Add(p.cash, p.future).Neg(); short.Sign() > 0 && decfast.Cmp(short, minTrade) >= 0 {
		for _, c := range opts {
			if short.Sign() <= 0 {
				break
			}
			take := p.whole(c, minDec(c.over, short))
			if decfast.Cmp(take, minTrade) < 0 {
				continue
			}
			c.why = sellIdle
			if p.sell(c, take) {
				short = decfast.Sub(short, take)
			}
		}
	}
	// The rest of the over-weights may fund buys.
	k := 0
	for _, c := range opts {
		if c.why == sellOptional {
			opts[k] = c
			k++
		}
	}
	opts = opts[:k]
	// 3. Buys, each worth its entry cost when paid from idle.
	var buys []*candidate
	totalBuy := zero
	for k := range cands {
		c := &cands[k]
		if c.side != Buy {
			continue
		}
		if p.k > 0 {
			if g := c.apy * f64(c.amount) * p.years; g < p.k*f64(c.q.EntryCost) {
				d.Rejected = append(d.Rejected, Rejection{Market: v.markets[c.i].id, Reason: fmt.Sprintf("buy of %s: expected gain %.6g over %s below %g x entry cost %s (APY %.4f)",
					c.amount, g, v.cfg.horizon(), p.k, c.q.EntryCost, c.apy)})
				continue
			}
		}
		buys = append(buys, c)
		totalBuy = decfast.Add(totalBuy, c.amount)
	}
	if len(buys) > 0 {
		// 4. Over-weights fund what idle and transit cannot, when the move pays.
		if need := decfast.Sub(totalBuy, maxDec(zero, decfast.Add(p.cash, p.future))); decfast.Cmp(need, minTrade) >= 0 {
			p.fund(buys, opts, need)
		}
		// 5. Buys now, within the cash at hand.
		p.buy(buys, totalBuy)
	}
	var kept []string
	for _, c := range opts {
		if c.why == sellOptional {
			kept = append(kept, v.markets[c.i].id)
		}
	}
	if len(kept) > 0 {
		d.Reasons = append(d.Reasons, "over-weight kept (within the band, no cash needed, or no buy pays for the move): "+strings.Join(kept, ", "))
	}
	if navF > 0 && p.years > 0 {
		d.Inputs.CostAPY = f64(d.Costs) / navF / p.years
	}
	if len(d.Orders) == 0 && len(d.Rejected) == 0 {
		d.Reasons = append(d.Reasons, "on target: nothing to trade")
	}
	return d, nil
}

// transitDrift is the distance between a target and an allocation with
// claims in transit: over and under are the markets' total weight above
// and below their targets, idleShort the target's idle minus the idle
// weight (claims excluded), tau the claims' weight. The claims go first
// to the idle target, then to the markets below target (as the funding
// plan spends them), the rest stays idle:
//
//	a = min(tau, max(idleShort, 0)),  b = min(tau - a, under)
//	drift = (over + under - b + |idleShort - tau + b|) / 2
//
// With no claims this is (sum |target - weight| + |target idle - idle
// weight|) / 2; a queued sell whose claim will fund the buys that are
// waiting for it leaves no drift.
func transitDrift(over, under, idleShort, tau float64) float64 {
	a := math.Min(tau, math.Max(idleShort, 0))
	b := math.Min(tau-a, under)
	return (over + under - b + math.Abs(idleShort-tau+b)) / 2
}

// transit is the value of the queued withdrawals not yet claimed.
func (v *Vault) transit() decimal.Decimal {
	sum := zero
	for _, s := range v.markets {
		if len(s.pos.Claims) > 0 {
			v.value(s)
			sum = decfast.Add(sum, s.cv)
		}
	}
	return sum
}

// planner holds one decision's funding state.
type planner struct {
	v          *Vault
	d          *Decision
	minTrade   decimal.Decimal
	k          float64 // MinGainOverCost
	years      float64 // the horizon in years
	bestBuyAPY float64
	cash       decimal.Decimal // idle above its target plus instant proceeds
	future     decimal.Decimal // claims in transit plus queued sells
}

// optional returns the over-weight sells that no rule forces, lowest APY
// first (vault order among equals).
func (p *planner) optional(cands []candidate) []*candidate {
	var out []*candidate
	for k := range cands {
		if c := &cands[k]; c.side == Sell && c.why == sellOptional {
			out = append(out, c)
		}
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].apy < out[b].apy })
	return out
}

// exit is how a sell of amount would leave and what it would cost.
type exit struct {
	mode adapters.ExitMode
	cost decimal.Decimal
	note string
	ok   bool
}

// quoteAt returns c's quote at amount, quoting again when c's is at
// another amount.
func (p *planner) quoteAt(c *candidate, amount decimal.Decimal) (adapters.Quote, bool) {
	if amount.Equal(c.qAmt) {
		return c.q, true
	}
	s := p.v.markets[c.i]
	q, err := s.ad.Quote(&s.env, amount)
	if err != nil {
		return q, false
	}
	c.q, c.qAmt = q, amount
	return q, true
}

// exitFor prices a sell of amount from c: instant or queued, whichever
// costs less (the queue costs its gas and the yield the buys forgo while
// it waits); queued when the instant exit breaks MaxSlippage or the venue
// cannot take it. Urgent sells take what the venue can take now.
func (p *planner) exitFor(c *candidate, amount decimal.Decimal) exit {
	s := p.v.markets[c.i]
	q, ok := p.quoteAt(c, amount)
	if !ok && !c.urgent {
		return exit{note: "quote failed"}
	}
	e := exit{mode: adapters.ExitInstant, cost: q.ExitCost, ok: true}
	canInstant := q.MaxInstantExit.Sign() > 0
	if decfast.Cmp(q.MaxInstantExit, amount) < 0 {
		canInstant = canInstant && c.urgent // urgent exits take what they can now
	}
	if ms := p.v.cfg.Rebalance.MaxSlippage; !c.urgent && ms > 0 && amount.Sign() > 0 && f64(q.ExitCost)/f64(amount) > ms {
		canInstant = false
	}
	if s.ad.CanQueue() {
		gas := s.env.GasCost(s.ad.Profile().ParamOr("gas_withdraw", 0) + s.ad.Profile().ParamOr("gas_claim", 0))
		if c.urgent {
			if !canInstant {
				e.mode, e.cost, e.note = adapters.ExitQueue, gas, "; no instant exit liquidity: queued"
			}
			return e
		}
		delay := q.ExitDelay.Hours() / 24 / 365
		queueCost := decfast.Add(gas, adapters.FromFloat(f64(amount)*p.bestBuyAPY*delay))
		if !canInstant || decfast.Cmp(queueCost, q.ExitCost) < 0 {
			e.mode, e.cost = adapters.ExitQueue, queueCost
			e.note = fmt.Sprintf("; queued (%s) at est. cost %s vs instant %s", q.ExitDelay.Round(time.Hour), queueCost, q.ExitCost)
		}
		return e
	}
	if !canInstant && !c.urgent {
		return exit{note: "no instant exit within bounds and no queue"}
	}
	return e
}

// sell plans a sell of amount from c: an order, its cost, and its
// proceeds into cash (instant) or future (queued). It reports whether
// the sell was planned; a sell the venue cannot take is rejected.
func (p *planner) sell(c *candidate, amount decimal.Decimal) bool {
	_, ok := p.sellFor(c, amount)
	return ok
}

// sellFor is sell, returning also the expected proceeds available now
// (zero for a queued exit).
func (p *planner) sellFor(c *candidate, amount decimal.Decimal) (decimal.Decimal, bool) {
	s := p.v.markets[c.i]
	e := p.exitFor(c, amount)
	if !e.ok {
		p.d.Rejected = append(p.d.Rejected, Rejection{Market: s.id, Reason: fmt.Sprintf("sell of %s: %s", amount, e.note)})
		return zero, false
	}
	o := Order{Market: s.id, Side: Sell, Amount: amount, All: c.all, Urgent: c.urgent, Mode: e.mode, EstCost: e.cost, Reason: c.reason + c.why.note() + e.note}
	proceeds := maxDec(zero, decfast.Sub(amount, e.cost))
	p.d.Orders = append(p.d.Orders, o)
	p.d.Costs = decfast.Add(p.d.Costs, e.cost)
	c.over = maxDec(zero, decfast.Sub(c.over, amount))
	if e.mode != adapters.ExitInstant {
		p.future = decfast.Add(p.future, proceeds)
		return zero, true
	}
	p.cash = decfast.Add(p.cash, proceeds)
	return proceeds, true
}

// buy sizes the buys within the cash at hand (idle above its target plus
// the instant sells' proceeds): each buy first gets what the sells
// planned for it raise, then the rest is shared pro rata to what each
// still needs. A buy below the minimum trade, or (with a gain test) no
// longer worth its entry cost at its size, is rejected and its share
// goes to the others.
func (p *planner) buy(buys []*candidate, totalBuy decimal.Decimal) {
	v, d := p.v, p.d
	avail := maxDec(zero, p.cash)
	size := make([]decimal.Decimal, len(buys))
	for {
		funded, need := zero, zero
		for _, c := range buys {
			funded = decfast.Add(funded, c.funded)
			need = decfast.Add(need, decfast.Sub(c.amount, c.funded))
		}
		fa := minDec(funded, avail)
		rest := decfast.Sub(avail, fa)
		total := zero
		for j, c := range buys {
			f := c.funded
			if decfast.Cmp(funded, avail) > 0 {
				f = mulDivDown(f, avail, funded)
			}
			r := decfast.Sub(c.amount, c.funded)
			if decfast.Cmp(need, rest) > 0 {
				r = mulDivDown(r, rest, need)
			}
			size[j] = decfast.Add(f, r)
			total = decfast.Add(total, size[j])
		}
		k := 0
		for j, c := range buys {
			a := size[j]
			switch {
			case decfast.Cmp(a, p.minTrade) < 0 || a.Sign() == 0:
				d.Rejected = append(d.Rejected, Rejection{Market: v.markets[c.i].id, Reason: fmt.Sprintf("buy scaled to %s, below the minimum trade %s", a, p.minTrade)})
			case p.k > 0 && decfast.Cmp(a, c.amount) != 0 && c.apy*f64(a)*p.years < p.k*f64(c.q.EntryCost):
				d.Rejected = append(d.Rejected, Rejection{Market: v.markets[c.i].id, Reason: fmt.Sprintf("buy scaled to %s: expected gain %.6g over %s below %g x entry cost %s",
					a, c.apy*f64(a)*p.years, v.cfg.horizon(), p.k, c.q.EntryCost)})
			default:
				buys[k], size[k] = c, a
				k++
				continue
			}
		}
		if k < len(buys) {
			buys, size = buys[:k], size[:k]
			continue
		}
		if decfast.Cmp(total, totalBuy) < 0 {
			msg := fmt.Sprintf("buys of %s scaled to the %s available above the idle target", totalBuy, avail)
			if p.future.Sign() > 0 {
				msg += fmt.Sprintf("; %s in queued withdrawals funds the rest once claimed", p.future)
			}
			d.Reasons = append(d.Reasons, msg)
		}
		break
	}
	for j, c := range buys {
		d.Orders = append(d.Orders, Order{Market: v.markets[c.i].id, Side: Buy, Amount: size[j], EstCost: c.q.EntryCost, Reason: c.reason})
		d.Costs = decfast.Add(d.Costs, c.q.EntryCost)
	}
}

// whole returns take, or all of c's over-weight when what take would
// leave of it is below the minimum trade (it could not be sold later).
func (p *planner) whole(c *candidate, take decimal.Decimal) decimal.Decimal {
	if decfast.Sub(c.over, take).Cmp(p.minTrade) < 0 {
		return c.over
	}
	return take
}

// pair is a part of a buy funded by a part of an over-weight position.
type pair struct {
	b, s   int // indexes into the buys (best first) and the sources
	amount decimal.Decimal
}

// fund sells over-weight positions (srcs, lowest APY first) to fund need
// of the buys, the best buys first, when the move pays (Decide's rules).
func (p *planner) fund(buys, srcs []*candidate, need decimal.Decimal) {
	if len(srcs) == 0 {
		return
	}
	bs := make([]*candidate, len(buys))
	copy(bs, buys)
	sort.SliceStable(bs, func(a, b int) bool { return bs[a].apy > bs[b].apy })
	// What each buy still needs, the best first, up to need in all.
	left := make([]decimal.Decimal, len(bs))
	rest := need
	for j, b := range bs {
		left[j] = minDec(b.amount, rest)
		rest = decfast.Sub(rest, left[j])
	}
	capLeft := make([]decimal.Decimal, len(srcs))
	for m, s := range srcs {
		capLeft[m] = s.over
	}
	var pairs []pair
	for j, m := 0, 0; j < len(bs) && m < len(srcs); {
		if left[j].Sign() <= 0 {
			j++
			continue
		}
		if capLeft[m].Sign() <= 0 {
			m++
			continue
		}
		if p.k > 0 && bs[j].apy <= srcs[m].apy {
			break // every later pair has a smaller spread
		}
		amt := minDec(left[j], capLeft[m])
		pairs = append(pairs, pair{b: j, s: m, amount: amt})
		left[j] = decfast.Sub(left[j], amt)
		capLeft[m] = decfast.Sub(capLeft[m], amt)
	}
	// The longest prefix of pairs (by falling spread) whose sells are
	// each at least the minimum trade and whose move pays.
	ys := make([]decimal.Decimal, len(srcs))
	xs := make([]decimal.Decimal, len(bs))
	var last string
	for np := len(pairs); np > 0; np-- {
		for m := range ys {
			ys[m] = zero
		}
		for j := range xs {
			xs[j] = zero
		}
		for _, pr := range pairs[:np] {
			ys[pr.s] = decfast.Add(ys[pr.s], pr.amount)
			xs[pr.b] = decfast.Add(xs[pr.b], pr.amount)
		}
		small := false
		for m := range ys {
			if ys[m].Sign() > 0 && decfast.Cmp(ys[m], p.minTrade) < 0 {
				small = true
			}
		}
		if small {
			continue
		}
		if p.k > 0 {
			gain, cost := 0.0, 0.0
			for _, pr := range pairs[:np] {
				gain += f64(pr.amount) * (bs[pr.b].apy - srcs[pr.s].apy) * p.years
			}
			okQuotes := true
			for m, y := range ys {
				if y.Sign() > 0 {
					e := p.exitFor(srcs[m], y)
					if !e.ok {
						okQuotes = false
						break
					}
					cost += f64(e.cost)
				}
			}
			for j, x := range xs {
				if x.Sign() > 0 {
					cost += f64(bs[j].q.EntryCost) * f64(x) / f64(bs[j].amount)
				}
			}
			if !okQuotes || gain < p.k*cost {
				if last == "" {
					last = fmt.Sprintf("expected gain %.6g over %s below %g x cost %.6g", gain, p.v.cfg.horizon(), p.k, cost)
				}
				continue
			}
		}
		instant := make([]bool, len(srcs))
		for m, y := range ys {
			if y.Sign() > 0 {
				srcs[m].why = sellFund
				proceeds, ok := p.sellFor(srcs[m], p.whole(srcs[m], y))
				instant[m] = ok && proceeds.Sign() > 0
			}
		}
		// Each buy is credited its pairs' instant sells (before their
		// costs: buy scales the credits down to the cash at hand).
		for _, pr := range pairs[:np] {
			if instant[pr.s] {
				b := bs[pr.b]
				b.funded = minDec(b.amount, decfast.Add(b.funded, pr.amount))
			}
		}
		if np < len(pairs) && last != "" {
			p.d.Reasons = append(p.d.Reasons, "funding cut to the pairs that pay: the full move's "+last)
		}
		return
	}
	if last != "" {
		for m, c := range srcs {
			if decfast.Cmp(capLeft[m], c.over) != 0 { // considered as a source
				p.d.Rejected = append(p.d.Rejected, Rejection{Market: p.v.markets[c.i].id, Reason: fmt.Sprintf("sell of up to %s to fund buys: %s", decfast.Sub(c.over, capLeft[m]), last)})
			}
		}
	}
}
