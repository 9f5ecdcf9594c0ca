package vault

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/fixed"
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

// candidate is one market's possible trade. Amounts are fixed.Nums:
// the decision's arithmetic gives the decimals decimal's would, built
// only for what leaves the decision (orders, quotes, messages).
type candidate struct {
	i      int
	side   Side
	amount num // buy: the deficit; sell: what to sell
	over   num // sell: the over-weight, what funding may take
	all    bool
	urgent bool
	why    sellWhy
	apy    float64
	q      adapters.Quote
	qAmt   num    // the amount q was quoted at
	quoted bool   // a sell's q has its exit at qAmt (else its yield alone); a buy's has its yield and entry cost
	funded num    // buy: the part instant sells fund for it
	reason string // exits only; other orders' reasons compare the weights (planner.reason)
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
//     is below MinTrade, its target is a cap (Allocation.IsCapped: the
//     projection's flag, or a reason that says "capped by"), it is more than max(Band, MinTrade/NAV) above
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
	d, err := v.decision(op, now, tick, trigger, target)
	if err != nil {
		return Decision{}, err
	}
	return v.decide(d, target)
}

// decideFrom is Decide completing the decision of a Preview p on target
// at now, the vault unchanged since: Decide's own decision, without
// taking the inputs a second time (a scheduled rebalance whose condition
// held on the preview). p's market inputs become the decision's (they
// are completed in place).
func (v *Vault) decideFrom(now time.Time, p Decision, target strategies.Target) (Decision, error) {
	if !p.Time.Equal(now) {
		// decide reads the vault's NAV as the preview's inputs': a
		// preview of another time cannot be completed.
		return Decision{}, adapters.E("vault.Decide", adapters.KindInvalid, "vault %q: a preview of %s completed at %s", v.cfg.Name, p.Time.Format(time.RFC3339Nano), now.Format(time.RFC3339Nano))
	}
	if err := v.advance("vault.Decide", now); err != nil {
		return Decision{}, err
	}
	p.Inputs.Preview = false
	p.Inputs.Drift, p.Inputs.GainAPY, p.Inputs.CostAPY = 0, 0, 0
	return v.decide(p, target)
}

// decide is Decide after its decision's start (decision): the quotes,
// the orders and the rejections. A quote that breaks the adapters'
// contract (a negative exit cost or delay: negativeExit) is an error.
func (v *Vault) decide(d Decision, target strategies.Target) (Decision, error) {
	trigger := d.Trigger
	v.capped(target)
	n := len(v.markets)
	w := &v.work
	tw, flags := w.tw, w.flags
	t := &w.txt // the decision's rejections and reasons, made strings at the end
	t.reset()
	transit := d.Inputs.Transit
	navN := v.grossN() // nm(d.Inputs.NAV): the vault is as its inputs were taken
	navF := navN.ToFloat()
	minTrade := nm(v.cfg.Rebalance.MinTrade)
	var bandAmt num
	if b := v.cfg.Rebalance.Band; b > 0 {
		bandAmt = floorWeight(navN, b)
	}
	bandAmt = bandAmt.Max(minTrade)
	gated := v.cfg.Rebalance.MaxGasPrice > 0 && v.gasPrice > v.cfg.Rebalance.MaxGasPrice
	if gated {
		t.rejectString("*", fmt.Sprintf("gas %g gwei above the gate %g: only exits trade", v.gasPrice, v.cfg.Rebalance.MaxGasPrice))
	}

	// Each market's candidate is built in place in the next free slot of
	// the reused list and kept by extending the list past it.
	if cap(w.cands) < n {
		w.cands = make([]candidate, 0, n)
	}
	cands := w.cands[:0]
	minTradeStr := "" // MinTrade's text, made once (minTradeText)
	for i, s := range v.markets {
		in := &d.Inputs.Markets[i]
		cur := in.Value
		c := &cands[:len(cands)+1][len(cands)]
		*c = candidate{i: i}
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
			curN := cur
			want := floorWeight(navN, tw[i])
			switch want.Cmp(curN) {
			case -1:
				over := curN.Sub(want)
				if v.cfg.Pricing == adapters.PriceMarket && cur.Sign() > 0 {
					// Sell orders are in value at the exchange rate.
					over = over.MulDivDown(nm(s.ad.Value(&s.pos, s.env(), adapters.PriceRate)), curN)
				}
				c.side, c.amount, c.over = Sell, over, over
				switch {
				case want.Cmp(minTrade) < 0 || want.Sign() == 0:
					c.amount, c.all, c.why = curN, true, sellZero
				case flags[i]&fCapped != 0:
					c.why = sellCap
				case over.Cmp(bandAmt) > 0 && v.cfg.Rebalance.Band > 0:
					c.why = sellBand
				}
			case 1:
				c.side, c.amount = Buy, want.Sub(curN)
			}
		}
		// One quote per market: at the trade's size, else at zero for its APY.
		c.qAmt = num{}
		if c.side != "" {
			c.qAmt = c.amount
		}
		// A sell's APY is the yield it gives up (QuoteSell): where the
		// vault's own size moves the rate, not the rate after adding it.
		// Of most markets the decision reads the yield alone (the same
		// APY, Unknown and error as the full quote, at less cost): those
		// it does not trade, those it rejects below (gas gate, pause,
		// unwind, minimum trade), and the non-urgent sells, priced in
		// full at the amount a rule sells (quoteAt) and most of them never
		// sold (QuoteSellExit: never the entry). The buys that go on to
		// the gain test read the entry cost too (never the exit); exits
		// take the full quote now (a failed one still sells).
		// (Called directly, not through a method value: the quote is
		// written into the candidate in place.)
		var err error
		q := &c.q
		switch env := s.env(); {
		case c.urgent:
			c.quoted = true
			*q, err = s.ad.QuoteSell(env, c.qAmt)
		case c.side == Sell:
			*q, err = s.ad.QuoteSellYield(env, c.qAmt)
		case c.side == Buy && !gated && !s.pos.Paused && !s.pos.Unwinding() && c.amount.Cmp(minTrade) >= 0:
			*q, err = s.ad.QuoteEntry(env, c.qAmt)
		default:
			*q, err = s.ad.QuoteYield(env, c.qAmt)
		}
		if err != nil {
			if c.side != "" && !c.urgent {
				t.reject(s.id, append(append(t.open(), "quote failed: "...), err.Error()...))
				continue
			}
		} else {
			if c.urgent {
				if err := v.negativeExit(s, c.qAmt, *q); err != nil {
					return Decision{}, err
				}
			}
			in.APY = q.APY
			if q.Unknown != "" {
				r := append(append(append(t.open(), s.id...), ": "...), q.Unknown...)
				t.reason(append(r, " (counted as 0 in the gain test)"...))
			}
		}
		c.apy = in.APY
		if c.side == "" {
			continue
		}
		if s.pos.Unwinding() {
			// Its exit is already in the queue, urgent or not.
			t.rejectString(s.id, fmt.Sprintf("unwinding through the withdrawal queue: %s %s waits until the unwind ends", c.side, c.amount))
			continue
		}
		if !c.urgent {
			switch {
			case gated:
				continue
			case s.pos.Paused:
				t.rejectString(s.id, fmt.Sprintf("paused: %s %s not possible", c.side, c.amount))
				continue

			case c.amount.Cmp(minTrade) < 0:
				// fmt.Sprintf("%s of %s below the minimum trade %s", ...) without fmt: one per market
				// within the minimum trade of its target, most markets of a typical decision.
				r := append(t.open(), c.side...)
				r = append(r, " of "...)
				r = c.amount.AppendString(r)
				r = append(r, " below the minimum trade "...)
				r = append(r, minTradeText(&minTradeStr, minTrade)...)
				t.reject(s.id, r)
				continue
			}
		}
		cands = cands[:len(cands)+1]
	}

	// Weights, drift (transit as idle in transit) and the target's APY gain.
	d.Inputs.setDrift(navF, f64(transit))

	w.orderIdx = w.orderIdx[:0]
	p := planner{v: v, d: &d, w: w, room: len(cands), minTrade: minTrade, minTradeText: minTradeStr, k: v.cfg.Rebalance.MinGainOverCost, years: float64(v.cfg.horizon()) / float64(Year), costs: nm(d.Costs)}
	for k := range cands {
		if c := &cands[k]; c.side == Buy && c.apy > p.bestBuyAPY {
			p.bestBuyAPY = c.apy
		}
	}
	// cash is idle above the idle target (negative when below) plus the
	// instant sells' expected proceeds; future is what queued exits and
	// claims in transit will add.
	p.cash = v.idle.Sub(idleKeepN(navN, d.Inputs.IdleTarget))
	p.future = nm(transit)

	// 1. Sells that must happen.
	for k := range cands {
		if c := &cands[k]; c.side == Sell && c.why != sellOptional {
			p.sell(c, c.amount)
		}
	}
	// 2. The idle target, from the lowest-APY over-weights.
	opts := p.optional(cands)
	if short := p.cash.Add(p.future).Neg(); short.Sign() > 0 && short.Cmp(minTrade) >= 0 {
		for _, c := range opts {
			if short.Sign() <= 0 {
				break
			}
			take := p.whole(c, c.over.Min(short))
			if take.Cmp(minTrade) < 0 {
				continue
			}
			c.why = sellIdle
			if p.sell(c, take) {
				short = short.Sub(take)
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
	buys := w.buys[:0]
	var totalBuy num
	for k := range cands {
		c := &cands[k]
		if c.side != Buy {
			continue
		}
		if p.k > 0 {
			if g := c.apy * c.amount.ToFloat() * p.years; g < p.k*c.q.EntryCost.ToFloat() {
				// fmt.Sprintf("buy of %s: expected gain %.6g over %s below %g x
				// entry cost %s (APY %.4f)", ...) without fmt: most buys of a
				// decision that does not trade.
				r := append(t.open(), "buy of "...)
				r = c.amount.AppendString(r)
				r = p.appendGainTest(r, g, "entry cost ")
				r = c.q.EntryCost.AppendString(r)
				r = append(r, " (APY "...)
				r = appendFixed4(r, c.apy)
				r = append(r, ')')
				t.reject(v.markets[c.i].id, r)
				continue
			}
		}
		buys = append(buys, c)
		totalBuy = totalBuy.Add(c.amount)
	}
	if len(buys) > 0 {
		// 4. Over-weights fund what idle and transit cannot, when the move pays.
		if need := totalBuy.Sub(num{}.Max(p.cash.Add(p.future))); need.Cmp(minTrade) >= 0 {
			p.fund(buys, opts, need)
		}
		// 5. Buys now, within the cash at hand.
		p.buy(buys, totalBuy)
	}
	w.buys = buys[:0]
	if p.err != nil {
		return Decision{}, p.err
	}
	// "over-weight kept (...): " + strings.Join(ids, ", ") (a decision
	// that does not trade keeps most of them).
	const keptHead = "over-weight kept (within the band, no cash needed, or no buy pays for the move): "
	kept, nKept := append(t.open(), keptHead...), 0
	for _, c := range opts {
		if c.why == sellOptional {
			if nKept > 0 {
				kept = append(kept, ", "...)
			}
			kept = append(kept, v.markets[c.i].id...)
			nKept++
		}
	}
	if nKept > 0 {
		t.reason(kept)
	}
	d.Rejected, d.Reasons = t.finish(d.Rejected, d.Reasons)
	v.leverOrders(&d, target)
	d.Costs = p.costs.Dec()
	if navF > 0 && p.years > 0 {
		d.Inputs.CostAPY = p.costs.ToFloat() / navF / p.years
	}
	if len(d.Orders) == 0 && len(d.Rejected) == 0 {
		d.Reasons = append(d.Reasons, "on target: nothing to trade")
	}
	return d, nil
}

// negativeExit is the error for a quote of a sale of amount from s whose
// exit cost or queue delay is negative, nil for the others. The adapters'
// quote contract promises neither is (adapters.Quote; the conformance
// suite checks every adapter): the funding walk (planner.fund) counts an
// exit it has not priced as costing at least nothing, so the vault
// refuses a quote that breaks the promise rather than decide on it.
func (v *Vault) negativeExit(s *slot, amount num, q adapters.Quote) error {
	if q.ExitCost.Sign() >= 0 && q.ExitDelay >= 0 {
		return nil
	}
	what := fmt.Sprintf("exit cost %s", q.ExitCost)
	if q.ExitCost.Sign() >= 0 {
		what = fmt.Sprintf("withdrawal queue delay %s", q.ExitDelay)
	}
	return adapters.E("vault.Decide", adapters.KindInvalid, "vault %q: market %s quotes a sale of %s at a negative %s: an adapter's exit cost and delay are never negative", v.cfg.Name, s.id, amount, what)
}

// Target flags (work.flags).
const (
	fExit   = 1 // the target exits the market
	fCapped = 2 // the target weight is a cap
)

// targets checks a target against the vault and fills the work's target
// weights (tw) and flags per market; it returns the trigger (shutdown
// when the vault is shut down) and the idle target.
func (v *Vault) targets(op string, trigger Trigger, target strategies.Target) (Trigger, float64, error) {
	if v.shutdown {
		trigger = TriggerShutdown
	}
	n := len(v.markets)
	w := &v.work
	tw := scratch(&w.tw, n)
	flags := scratch(&w.flags, n)
	for k := range target.Allocations {
		a := &target.Allocations[k] // not a copy of each allocation
		i, ok := v.indexOf(k, a.Market)
		if !ok {
			return trigger, 0, adapters.E(op, adapters.KindInvalid, "vault %q: target weights market %s the vault does not hold", v.cfg.Name, a.Market)
		}
		if !(a.Weight >= 0 && a.Weight <= 1+1e-9) { // NaN and the infinities too
			return trigger, 0, adapters.E(op, adapters.KindInvalid, "vault %q: target weight %g of %s is not a fraction", v.cfg.Name, a.Weight, a.Market)
		}
		tw[i] = a.Weight
	}
	for _, id := range target.Exit {
		i, ok := v.byID[id]
		if !ok {
			return trigger, 0, adapters.E(op, adapters.KindInvalid, "vault %q: target exits market %s the vault does not hold", v.cfg.Name, id)
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
		return trigger, 0, adapters.E(op, adapters.KindInvalid, "vault %q: target idle %g is not a fraction", v.cfg.Name, target.Idle)
	}
	return trigger, idleTarget, nil
}

// capped flags the markets whose target weight is a cap (the allocation
// is capped, strategies.Allocation.IsCapped), for the decision's sells (decide); the target
// is one targets accepted. A Preview, which plans no order, does without.
func (v *Vault) capped(target strategies.Target) {
	flags := v.work.flags
	for k := range target.Allocations {
		a := &target.Allocations[k]
		if i, ok := v.indexOf(k, a.Market); ok && a.IsCapped() {
			flags[i] |= fCapped
		}
	}
}

// indexOf is the index of market id in the vault, trying k first (a
// target lists the markets in the vault's order).
func (v *Vault) indexOf(k int, id string) (int, bool) {
	if k < len(v.markets) && v.markets[k].id == id {
		return k, true
	}
	i, ok := v.byID[id]
	return i, ok
}

// Preview is the first part of Decide, when the rebalance condition reads
// neither gain_apy nor cost_apy: the decision's inputs (every market's
// value, weight and target; NAV, idle, transit) and drift, and no quotes,
// orders or rejections. Inputs.Preview is set; APY, GainAPY and CostAPY
// are zero. The inputs and drift are Decide's own, to the last bit.
func (v *Vault) Preview(now, tick time.Time, trigger Trigger, target strategies.Target) (Decision, error) {
	const op = "vault.Preview"
	if err := v.advance(op, now); err != nil {
		return Decision{}, err
	}
	d, err := v.decision(op, now, tick, trigger, target)
	if err != nil {
		return Decision{}, err
	}
	d.Inputs.Preview = true
	d.Inputs.setDrift(v.grossN().ToFloat(), f64(d.Inputs.Transit)) // the NAV's float, as decision's
	return d, nil
}

// decision starts Decide's (and Preview's) decision at the vault's time:
// the target checked (targets), the inputs (NAV, idle, transit, and each
// market's value, weight and target) and the strategy's reason.
func (v *Vault) decision(op string, now, tick time.Time, trigger Trigger, target strategies.Target) (Decision, error) {
	trigger, idleTarget, err := v.targets(op, trigger, target)
	if err != nil {
		return Decision{}, err
	}
	nav := v.GrossAssets()
	navF := v.grossN().ToFloat() // f64(nav) without reading the decimal
	d := Decision{Time: now, Tick: tick, Trigger: trigger, Costs: zero}
	d.Inputs = Inputs{NAV: nav, Idle: v.Idle(), IdleTarget: idleTarget, GasPrice: v.gasPrice, Markets: v.work.inputs.take(len(v.markets)), Transit: v.transit()}
	if target.Reason != "" {
		// With room for the rebalance condition's reason, which most
		// decisions add (Runner.decide).
		d.Reasons = append(make([]string, 0, 2), "strategy: "+target.Reason)
	}
	// The inputs are zeroed (inputBlock.take): only the fields of a
	// market that may not be zero are written.
	tw, ins := v.work.tw[:len(v.markets)], d.Inputs.Markets[:len(v.markets)]
	for i, s := range v.markets {
		in := &ins[i]
		in.Market, in.Target, in.Paused = s.id, tw[i], s.pos.Paused
		if s.pos.Units.Sign() != 0 {
			in.Value = v.fill(s).units
			if navF > 0 {
				in.Weight = v.weight(s, navF)
			}
		}
	}
	return d, nil
}

// inputBlock hands out the market inputs of a vault's decisions from
// blocks made for several decisions at once. A check's inputs are its
// caller's to keep (the backtest records every decision, the previews
// its condition turned down too), so they are never reused; but one
// allocation for many decisions' inputs costs less than one each (a
// W1 run takes 4,380). A block is made for twice the decisions of the
// last, up to inputBlockMax: a vault keeps the unused rest of its
// current block for as long as it lives (at most inputBlockMax
// decisions' inputs, ~256 KB for 50 markets, even once its callers drop
// every decision), and a caller that keeps one decision keeps at most
// its block.
type inputBlock struct {
	free []MarketInput // the rest of the current block
	n    int           // the decisions the current block was made for
}

// inputBlockMax is the most decisions a block of inputs is made for.
const inputBlockMax = 64

// take returns n zeroed market inputs, with no room to append into the
// next decision's.
func (b *inputBlock) take(n int) []MarketInput {
	// b.free == nil too for n == 0: a vault of no markets still hands out
	// an empty, non-nil slice (its decision's inputs encode as [], as
	// they did when each was made on its own).
	if b.free == nil || len(b.free) < n {
		b.n = min(max(2*b.n, 1), inputBlockMax)
		b.free = make([]MarketInput, b.n*n)
	}
	in := b.free[:n:n]
	b.free = b.free[n:]
	return in
}

// setDrift sets Drift and GainAPY from the market inputs (weights,
// targets, APYs), with the claims in transit (tau, base units) counted
// as idle in transit.
func (in *Inputs) setDrift(navF, transitF float64) {
	var sumW, sumT, over, under, gain float64
	for i := range in.Markets {
		m := &in.Markets[i]
		sumW += m.Weight
		sumT += m.Target
		if dw := m.Target - m.Weight; dw > 0 {
			under += dw
		} else {
			over -= dw
		}
		gain += (m.Target - m.Weight) * m.APY
	}
	tau := 0.0
	if navF > 0 {
		tau = transitF / navF
	}
	in.Drift, in.GainAPY = transitDrift(over, under, sumW-sumT+tau, tau), gain
}

// order records an order; the list is made at the first with room for
// room (one per candidate: a candidate makes one order at most), and
// stays nil when there is none.
func (d *Decision) order(o Order, room int) {
	if d.Orders == nil {
		d.Orders = make([]Order, 0, room)
	}
	d.Orders = append(d.Orders, o)
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
	var sum num
	n := 0
	for _, s := range v.markets {
		if len(s.pos.Claims) > 0 {
			v.fill(s)
			sum = sum.Add(s.value.claims)
			n++
		}
	}
	if n == 0 {
		return zero
	}
	return sum.Dec()
}

// planner holds one decision's funding state.
type planner struct {
	v            *Vault
	d            *Decision
	w            *work // the vault's reused working memory
	room         int   // the orders' room: the number of candidates
	minTrade     num
	k            float64 // MinGainOverCost
	years        float64 // the horizon in years
	bestBuyAPY   float64
	cash         num    // idle above its target plus instant proceeds
	future       num    // claims in transit plus queued sells
	costs        num    // the orders' estimated costs (Decision.Costs)
	minTradeText string // minTrade's text in rejections (minTradeText), made once a decision
	err          error  // the first quote that broke the adapters' contract
}

// optional returns the over-weight sells that no rule forces, lowest APY
// first (vault order among equals).
func (p *planner) optional(cands []candidate) []*candidate {
	out := p.w.opts[:0]
	for k := range cands {
		if c := &cands[k]; c.side == Sell && c.why == sellOptional {
			out = append(out, c)
		}
	}
	p.w.opts = out[:0]
	p.w.sortByAPY(out, false)
	return out
}

// exit is how a sell of amount would leave and what it would cost.
type exit struct {
	mode adapters.ExitMode
	cost num
	note string
	ok   bool
	// A queue chosen for its cost: text builds the note from these only
	// for the exit an order or rejection takes (pricing the funding
	// moves compares many exits it never prints).
	byCost  bool
	delay   time.Duration
	instant num
}

// text returns the exit's note, building it for a queue chosen for its
// cost: fmt.Sprintf("; queued (%s) at est. cost %s vs instant %s", ...)
// without fmt.
func (e *exit) text() string {
	if !e.byCost || e.note != "" {
		return e.note
	}
	var buf [160]byte
	b := append(buf[:0], "; queued ("...)
	b = append(b, e.delay.Round(time.Hour).String()...)
	b = append(b, ") at est. cost "...)
	b = e.cost.AppendString(b)
	b = append(b, " vs instant "...)
	b = e.instant.AppendString(b)
	e.note = string(b)
	return e.note
}

// quoteAt returns c's quote at amount (a sell's, QuoteSell: its yield and
// exit, all exitFor reads), quoting again when c's is at another amount
// or its yield alone.
func (p *planner) quoteAt(c *candidate, amount num) (adapters.Quote, bool) {
	if c.quoted && amount.Equal(c.qAmt) {
		return c.q, true
	}
	s := p.v.markets[c.i]
	q, err := s.ad.QuoteSellExit(s.env(), amount)
	if err != nil {
		return q, false
	}
	if err := p.v.negativeExit(s, amount, q); err != nil {
		if p.err == nil {
			p.err = err
		}
		return adapters.Quote{}, false
	}
	c.q, c.qAmt, c.quoted = q, amount, true
	return q, true
}

// exitFor prices a sell of amount from c: instant or queued, whichever
// costs less (the queue costs its gas and the yield the buys forgo while
// it waits); queued when the instant exit breaks MaxSlippage or the venue
// cannot take it. Urgent sells take what the venue can take now.
func (p *planner) exitFor(c *candidate, amount num) exit {
	s := p.v.markets[c.i]
	q, ok := p.quoteAt(c, amount)
	if !ok && !c.urgent {
		return exit{note: "quote failed"}
	}
	exitCost := q.ExitCost
	e := exit{mode: adapters.ExitInstant, cost: exitCost, ok: true}
	canInstant := q.MaxInstantExit.Sign() > 0
	if q.MaxInstantExit.Cmp(amount) < 0 {
		canInstant = canInstant && c.urgent // urgent exits take what they can now
	}
	if ms := p.v.cfg.Rebalance.MaxSlippage; !c.urgent && ms > 0 && amount.Sign() > 0 && exitCost.ToFloat()/amount.ToFloat() > ms {
		canInstant = false
	}
	if s.ad.CanQueue() && !q.QueueClosed {
		gas := s.env().GasCost(s.gasQueue)
		if c.urgent {
			if !canInstant {
				e.mode, e.cost, e.note = adapters.ExitQueue, gas, "; no instant exit liquidity: queued"
			}
			return e
		}
		delay := q.ExitDelay.Hours() / 24 / 365
		forgone := amount.ToFloat() * p.bestBuyAPY * delay
		// The queue costs gas + NumFromFloat(forgone), within a few ulps
		// and 1e-18 of the float sum: when that sum is clearly above the
		// instant exit's cost, the instant exit is the cheaper without
		// the exact conversion (NaNs take the exact path).
		if x := exitCost.ToFloat(); canInstant && gas.ToFloat()+forgone > x+math.Abs(x)*1e-9+1e-12 {
			return e
		}
		queueCost := gas.Add(fixed.NumFromFloat(forgone))
		if !canInstant || queueCost.Cmp(exitCost) < 0 {
			e.mode, e.cost = adapters.ExitQueue, queueCost
			e.byCost, e.delay, e.instant = true, q.ExitDelay, q.ExitCost
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
func (p *planner) sell(c *candidate, amount num) bool {
	_, ok := p.sellFor(c, amount)
	return ok
}

// sellFor is sell, returning also the expected proceeds available now
// (zero for a queued exit).
func (p *planner) sellFor(c *candidate, amount num) (num, bool) {
	s := p.v.markets[c.i]
	e := p.exitFor(c, amount)
	if !e.ok {
		r := amount.AppendString(append(p.w.txt.open(), "sell of "...))
		p.w.txt.reject(s.id, append(append(r, ": "...), e.text()...))
		return num{}, false
	}
	note := e.text()
	o := Order{Market: s.id, Side: Sell, Amount: amount, All: c.all, Urgent: c.urgent, Mode: e.mode, EstCost: e.cost, Reason: p.reason(c, c.why.note(), note)}
	proceeds := num{}.Max(amount.Sub(e.cost))
	p.order(o, c.i)
	p.costs = p.costs.Add(e.cost)
	c.over = num{}.Max(c.over.Sub(amount))
	if e.mode != adapters.ExitInstant {
		p.future = p.future.Add(proceeds)
		return num{}, true
	}
	p.cash = p.cash.Add(proceeds)
	return proceeds, true
}

// buy sizes the buys within the cash at hand (idle above its target plus
// the instant sells' proceeds): each buy first gets what the sells
// planned for it raise, then the rest is shared pro rata to what each
// still needs. A buy below the minimum trade, or (with a gain test) no
// longer worth its entry cost at its size, is rejected and its share
// goes to the others.
func (p *planner) buy(buys []*candidate, totalBuy num) {
	v, t := p.v, &p.w.txt
	avail := num{}.Max(p.cash)
	size := scratch(&p.w.size, len(buys))
	for {
		var funded, need num
		for _, c := range buys {
			funded = funded.Add(c.funded)
			need = need.Add(c.amount.Sub(c.funded))
		}
		fa := funded.Min(avail)
		rest := avail.Sub(fa)
		var total num
		for j, c := range buys {
			f := c.funded
			if funded.Cmp(avail) > 0 {
				f = f.MulDivDown(avail, funded)
			}
			r := c.amount.Sub(c.funded)
			if need.Cmp(rest) > 0 {
				r = r.MulDivDown(rest, need)
			}
			size[j] = f.Add(r)
			total = total.Add(size[j])
		}
		k := 0
		for j, c := range buys {
			a := size[j]
			switch {
			case a.Cmp(p.minTrade) < 0 || a.Sign() == 0:
				r := append(t.open(), "buy scaled to "...)
				r = a.AppendString(r)
				r = append(r, ", below the minimum trade "...)
				r = append(r, minTradeText(&p.minTradeText, p.minTrade)...)
				t.reject(v.markets[c.i].id, r)
			case p.k > 0 && a.Cmp(c.amount) != 0 && c.apy*a.ToFloat()*p.years < p.k*c.q.EntryCost.ToFloat():
				r := append(t.open(), "buy scaled to "...)
				r = a.AppendString(r)
				r = p.appendGainTest(r, c.apy*a.ToFloat()*p.years, "entry cost ")
				r = c.q.EntryCost.AppendString(r)
				t.reject(v.markets[c.i].id, r)
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
		if total.Cmp(totalBuy) < 0 {
			// fmt.Sprintf("buys of %s scaled to the %s available above the
			// idle target", ...) and "; %s in queued withdrawals funds the
			// rest once claimed", without fmt.
			msg := append(t.open(), "buys of "...)
			msg = totalBuy.AppendString(msg)
			msg = append(msg, " scaled to the "...)
			msg = avail.AppendString(msg)
			msg = append(msg, " available above the idle target"...)
			if p.future.Sign() > 0 {
				msg = append(msg, "; "...)
				msg = p.future.AppendString(msg)
				msg = append(msg, " in queued withdrawals funds the rest once claimed"...)
			}
			t.reason(msg)
		}
		break
	}
	for j, c := range buys {
		p.order(Order{Market: v.markets[c.i].id, Side: Buy, Amount: size[j], EstCost: c.q.EntryCost, Reason: p.reason(c, "", "")}, c.i)
		p.costs = p.costs.Add(c.q.EntryCost)
	}
}

// reason is the reason of an order from c followed by a and b: an exit's
// own, else the weight comparison fmt.Sprintf("weight %.4f above target
// %.4f", ...) ("below" for a buy), built with the notes in one string.
func (p *planner) reason(c *candidate, a, b string) string {
	if c.reason != "" {
		return c.reason + a + b
	}
	in := &p.d.Inputs.Markets[c.i]
	rel := "below"
	if c.side == Sell {
		rel = "above"
	}
	var buf [192]byte
	r := appendWeightReason(buf[:0], in.Weight, rel, in.Target)
	r = append(r, a...)
	r = append(r, b...)
	return string(r)
}

// appendGainTest appends fmt.Sprintf(": expected gain %.6g over %s below
// %g x %s", gain, horizon, k, what) to b (the cost follows).
func (p *planner) appendGainTest(b []byte, gain float64, what string) []byte {
	b = append(b, ": expected gain "...)
	b = strconv.AppendFloat(b, gain, 'g', 6, 64)
	b = append(b, p.w.gainMid.of(p.v.cfg.horizon(), p.k)...) // " over %s below %g x "
	return append(b, what...)
}

// order records an order in market i, and i for Execute's lookup.
func (p *planner) order(o Order, i int) {
	p.d.order(o, p.room)
	p.w.orderIdx = append(p.w.orderIdx, i)
}

// whole returns take, or all of c's over-weight when what take would
// leave of it is below the minimum trade (it could not be sold later).
func (p *planner) whole(c *candidate, take num) num {
	if c.over.Sub(take).Cmp(p.minTrade) < 0 {
		return c.over
	}
	return take
}

// pair is a part of a buy funded by a part of an over-weight position.
type pair struct {
	b, s   int // indexes into the buys (best first) and the sources
	amount num
}

// srcExit is a funding source's exit as last priced: its amount, cost
// and state (0 not priced, 1 priced, 2 the venue cannot take it).
type srcExit struct {
	amount num
	cost   float64
	state  uint8
}

// fund sells over-weight positions (srcs, lowest APY first) to fund need
// of the buys, the best buys first, when the move pays (Decide's rules).
func (p *planner) fund(buys, srcs []*candidate, need num) {
	if len(srcs) == 0 {
		return
	}
	w := p.w
	bs := append(w.bs[:0], buys...)
	w.bs = bs[:0]
	w.sortByAPY(bs, true)
	// What each buy still needs, the best first, up to need in all.
	left := scratch(&w.left, len(bs))
	rest := need
	for j, b := range bs {
		left[j] = b.amount.Min(rest)
		rest = rest.Sub(left[j])
	}
	capLeft := scratch(&w.capLeft, len(srcs))
	for m, s := range srcs {
		capLeft[m] = s.over
	}
	pairs := w.pairs[:0]
	defer func() { w.pairs = pairs[:0] }()
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
		amt := left[j].Min(capLeft[m])
		pairs = append(pairs, pair{b: j, s: m, amount: amt})
		left[j] = left[j].Sub(amt)
		capLeft[m] = capLeft[m].Sub(amt)
	}
	// The longest prefix of pairs (by falling spread) whose sells are
	// each at least the minimum trade and whose move pays.
	ys := scratch(&w.ys, len(srcs))
	xs := scratch(&w.xs, len(bs))
	exits := scratch(&w.exits, len(srcs))
	var last []byte // the full move's gain test, made at its first failure
	// gains[np] is the gain of pairs[:np], summed in pair order.
	gains := scratch(&w.gains, len(pairs)+1)
	if p.k > 0 {
		g := 0.0
		for i, pr := range pairs {
			g += pr.amount.ToFloat() * (bs[pr.b].apy - srcs[pr.s].apy) * p.years
			gains[i+1] = g
		}
	}
	// ys and xs are what each source sells and each buy gets from
	// pairs[:np]: every pair's at first, then less the pair dropped.
	for _, pr := range pairs {
		ys[pr.s] = ys[pr.s].Add(pr.amount)
		xs[pr.b] = xs[pr.b].Add(pr.amount)
	}
	// small counts the sources whose sell is below the minimum trade;
	// entry[j] is buy j's entry cost pro rata to xs[j] (its term of the
	// move's cost), for the xs[j] > 0 (hasX); both follow ys and xs.
	small := 0
	isSmall := func(y num) bool { return y.Sign() > 0 && y.Cmp(p.minTrade) < 0 }
	for _, y := range ys {
		if isSmall(y) {
			small++
		}
	}
	entry := scratch(&w.entry, len(bs))
	hasX := scratch(&w.hasX, len(bs))
	setEntry := func(j int) {
		if hasX[j] = xs[j].Sign() > 0; hasX[j] {
			entry[j] = bs[j].q.EntryCost.ToFloat() * xs[j].ToFloat() / bs[j].amount.ToFloat()
		}
	}
	if p.k > 0 {
		for j := range xs {
			setEntry(j)
		}
	}
	// withEntries is c plus the entry costs of the buys funded, added in
	// the buys' order after the sources' exit costs, as the test sums.
	withEntries := func(c float64) float64 {
		for j, e := range entry {
			if hasX[j] {
				c += e
			}
		}
		return c
	}
	// pre[m] is the sources' exit costs before source m summed in their
	// order, as the gain test sums them, for m up to valid: dropping a
	// pair changes one source's sell, and the sum before it is the same
	// additions as in the longer prefix (the walk drops the pairs of the
	// last sources first), so the test adds from there on.
	pre := scratch(&w.pre, len(srcs)+1)
	valid := 0
	for np := len(pairs); np > 0; np-- {
		if np < len(pairs) {
			pr := pairs[np]
			if isSmall(ys[pr.s]) {
				small--
			}
			ys[pr.s] = ys[pr.s].Sub(pr.amount)
			if isSmall(ys[pr.s]) {
				small++
			}
			valid = min(valid, pr.s)
			xs[pr.b] = xs[pr.b].Sub(pr.amount)
			if p.k > 0 {
				setEntry(pr.b)
			}
		}
		if small > 0 {
			continue
		}
		if p.k > 0 {
			gain, cost := gains[np], pre[valid]
			okQuotes, pruned := true, false // pruned: fails unpriced
			m := valid
			for ; m < len(ys); m++ {
				if y := ys[m]; y.Sign() > 0 {
					// Dropping a pair changes one source's sell: the
					// others' exits are priced at the same amounts as
					// in the longer prefix (exitFor is a function of
					// the source and the amount).
					x := &exits[m]
					if x.state == 0 || !y.Equal(x.amount) {
						// An exit costs at least nothing (the adapters'
						// contract, which quoteAt enforces; a queue's
						// gas and forgone yield are not negative): the
						// test's cost is then at least cost with the
						// entries added, rounded float addition and
						// product being monotone, and a gain below k
						// times that fails whatever the exits left cost
						// (or fails at one the venue cannot take). The
						// first failure prices them all: its text gives
						// the cost in full.
						if last != nil && gain < p.k*withEntries(cost) {
							pruned = true
							break // source m is priced when a prefix needs it
						}
						e := p.exitFor(srcs[m], y)
						x.amount, x.cost, x.state = y, e.cost.ToFloat(), 1
						if !e.ok {
							x.state = 2
						}
					}
					if x.state == 2 {
						okQuotes = false
						break // source m is tested again next time
					}
					cost += x.cost
				}
				pre[m+1] = cost
			}
			valid = m
			if pruned {
				continue // failed, and last is made
			}
			cost = withEntries(cost)
			if !okQuotes || gain < p.k*cost {
				if last == nil {
					b := strconv.AppendFloat(p.appendGainTest(w.last[:0], gain, "cost "), cost, 'g', 6, 64)
					w.last, last = b[:0], b[2:] // without ": "
				}
				continue
			}
		}
		instant := scratch(&w.instant, len(srcs))
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
				b.funded = b.amount.Min(b.funded.Add(pr.amount))
			}
		}
		if np < len(pairs) && last != nil {
			p.w.txt.reason(append(append(p.w.txt.open(), "funding cut to the pairs that pay: the full move's "...), last...))
		}
		return
	}
	if last != nil {
		for m, c := range srcs {
			if capLeft[m].Cmp(c.over) != 0 { // considered as a source
				r := append(p.w.txt.open(), "sell of up to "...)
				r = c.over.Sub(capLeft[m]).AppendString(r)
				r = append(r, " to fund buys: "...)
				r = append(r, last...)
				p.w.txt.reject(p.v.markets[c.i].id, r)
			}
		}
	}
}

// ReleverBand is the relative distance between a loop's leverage and the
// strategy's target beyond which a rebalance relevers it (5%).
const ReleverBand = 0.05

// leverOrders carries the target's leverage onto the buys of loop markets
// and adds a relever order for each held loop whose leverage is more than
// ReleverBand away from its target (and which no order sells whole).
func (v *Vault) leverOrders(d *Decision, target strategies.Target) {
	for i, s := range v.markets {
		l := s.ad.Leverer()
		if l == nil {
			continue
		}
		lev := 0.0
		for _, a := range target.Allocations {
			if a.Market == s.id {
				lev = a.Leverage
			}
		}
		if lev < 1 {
			continue
		}
		sold := false
		for k := range d.Orders {
			o := &d.Orders[k]
			if o.Market != s.id {
				continue
			}
			if o.Side == Buy {
				o.Leverage = lev
			}
			sold = sold || o.Side == Sell && o.All
		}
		if sold || s.pos.Units.Sign() == 0 || s.pos.Paused || s.pos.Unwinding() {
			continue
		}
		f := l.Figures(&s.pos, s.env(), s.pos.Leverage)
		if math.Abs(f.Leverage-lev) <= ReleverBand*lev {
			continue
		}
		what := "relever"
		if lev < f.Leverage {
			what = "deleverage"
		}
		d.Orders = append(d.Orders, Order{Market: s.id, Side: Relever, Leverage: lev,
			Reason: fmt.Sprintf("%s from %.4g to %.4g (health factor %.4g, liquidation at a %.2f%% price drop)", what, f.Leverage, lev, f.HealthFactor, 100*f.LiquidationDrop)})
		_ = i
	}
}

// minTradeText is the minimum trade m's text (m.Dec().String()) for a
// rejection, made into *s at its first use in a decision.
func minTradeText(s *string, m num) string {
	if *s == "" {
		var mb [64]byte
		*s = string(m.AppendString(mb[:0]))
	}
	return *s
}
