package vault

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/fixed"
	"github.com/yieldvault/yieldvault/strategies"
)

// Trigger says why a rebalance decision was taken.
type Trigger string

// Triggers.
const (
	TriggerSchedule Trigger = "schedule" // a keeper rebalance tick
	TriggerExit     Trigger = "exit"     // the strategy's exit rule fired (urgent)
	TriggerManual   Trigger = "manual"   // asked for by an operator or a test
	TriggerShutdown Trigger = "shutdown" // the vault is shut down: unwind to idle (urgent)
)

// Urgent reports whether the trigger forces exits whatever their cost and
// the gas price.
func (t Trigger) Urgent() bool { return t == TriggerExit || t == TriggerShutdown }

// Side is an order's direction.
type Side string

// Order sides.
const (
	Buy  Side = "buy"
	Sell Side = "sell"
	// Relever moves a loop position to Order.Leverage at constant
	// equity (adapters.Leverer): no base asset moves.
	Relever Side = "relever"
)

// MarketInput is what the rebalancer read about one market.
type MarketInput struct {
	Market string    `json:"market"`
	Value  fixed.Num `json:"value"`  // position value at the vault's pricing, claims excluded
	Weight float64   `json:"weight"` // Value / NAV
	Target float64   `json:"target"` // the target's weight
	APY    float64   `json:"apy"`    // quoted net APY (after a buy's own rate impact; a sell's: the yield it gives up per unit, Adapter.QuoteSell)
	Paused bool      `json:"paused,omitempty"`
}

// Inputs are the quantities a decision was taken on.
type Inputs struct {
	NAV        decimal.Decimal `json:"nav"` // GrossAssets
	Idle       decimal.Decimal `json:"idle"`
	IdleTarget float64         `json:"idle_target"` // max(target idle, idle floor)
	GasPrice   float64         `json:"gas_price"`
	Markets    []MarketInput   `json:"markets"`
	// Transit is the value of the queued withdrawals not yet claimed:
	// idle in transit. It counts as idle for the weights and the drift,
	// and funds buys only once claimed (from the claims' ReadyAt).
	Transit decimal.Decimal `json:"transit"`
	// Drift is the distance between the target and the allocation: (sum
	// over markets |target - weight| + |target idle - idle weight|) / 2,
	// the target's idle being 1 - the sum of its weights, so that both
	// sides add up to 1. Claims in transit count as already where the
	// funding plan spends them: first the idle target, then the markets
	// below target, the rest idle (transitDrift). GainAPY is the target's
	// APY minus the current one (idle earns 0); CostAPY the estimated
	// costs over NAV, annualised over the horizon.
	Drift   float64 `json:"drift"`
	GainAPY float64 `json:"gain_apy"`
	CostAPY float64 `json:"cost_apy"`
	// Preview marks a decision a rebalance condition turned down before
	// its orders were planned (Vault.Preview): the condition reads
	// neither gain_apy nor cost_apy, so the markets' APYs, GainAPY and
	// CostAPY were not computed (they are zero) and there are no orders
	// or rejections.
	Preview bool `json:"preview,omitempty"`
}

// Order is one trade the rebalancer decided.
type Order struct {
	Market string `json:"market"`
	Side   Side   `json:"side"`
	// Amount is the base asset to spend (buy) or the position value to
	// take out at rate pricing (sell). All sells the whole position.
	Amount fixed.Num         `json:"amount"`
	All    bool              `json:"all,omitempty"`
	Mode   adapters.ExitMode `json:"mode"` // sells: instant or queue
	Urgent bool              `json:"urgent,omitempty"`
	// EstCost is the quoted cost (entry cost for a buy; exit cost, or the
	// queue's gas and forgone yield, for a sell).
	EstCost fixed.Num `json:"est_cost"`
	Reason  string    `json:"reason"`
	// Leverage is, for a loop market, the leverage a buy opens at or a
	// relever moves to (0: none).
	Leverage float64 `json:"leverage,omitempty"`
}

// Rejection is a trade the rebalancer considered and did not make.
type Rejection struct {
	Market string `json:"market"` // "*" for the whole decision
	Reason string `json:"reason"`
}

// Decision is one rebalance decision as a plain value: its inputs, the
// orders, their estimated costs, the reasons, and the trades rejected.
type Decision struct {
	Time     time.Time       `json:"time"`
	Tick     time.Time       `json:"tick,omitzero"`
	Trigger  Trigger         `json:"trigger"`
	Inputs   Inputs          `json:"inputs"`
	Orders   []Order         `json:"orders"`
	Costs    decimal.Decimal `json:"costs"` // estimated
	Reasons  []string        `json:"reasons,omitempty"`
	Rejected []Rejection     `json:"rejected,omitempty"`
}

// Vars returns the vault-level variables a strategy's rebalance condition
// reads, from the decision's inputs and the vault's pending rewards.
func (d *Decision) Vars(v *Vault) strategies.VaultVars { return d.varsFor(v, strategies.AllVars) }

// varsFor is Vars computing of the vault's variables only those in reads
// that cost more than a field read (pending rewards, harvest cost).
func (d *Decision) varsFor(v *Vault, reads strategies.VarSet) strategies.VaultVars {
	vars := v.varsAt(v.navFloat(d.Inputs.NAV), reads)
	vars.Now = d.Time
	vars.Drift, vars.GainAPY, vars.CostAPY = d.Inputs.Drift, d.Inputs.GainAPY, d.Inputs.CostAPY
	return vars
}

// navFloat is f64(nav). When nav is the vault's NAV (GrossAssets: the
// same coefficient and exponent), as for the decision a check has just
// taken, it is the NAV num's float, without copying the decimal's
// coefficient (which f64 does for a NAV beyond a 64-bit coefficient,
// about 9.2 base units at 18 places).
func (v *Vault) navFloat(nav decimal.Decimal) float64 {
	if g := v.GrossAssets(); g.Exponent() == nav.Exponent() && g.Equal(nav) {
		return v.grossN().ToFloat()
	}
	return f64(nav)
}

// varsFor is Vars computing pending rewards and the harvest cost only
// when reads has them.
func (v *Vault) varsFor(reads strategies.VarSet) strategies.VaultVars {
	return v.varsAt(v.grossN().ToFloat(), reads) // f64(GrossAssets()) without the decimal
}

// varsAt is varsFor with nav as the NAV.
func (v *Vault) varsAt(nav float64, reads strategies.VarSet) strategies.VaultVars {
	vars := strategies.VaultVars{NAV: nav, Idle: v.idle.ToFloat(), GasPrice: v.gasPrice, Now: v.now}
	if reads&strategies.VarPendingRewards != 0 {
		vars.PendingRewards = f64(v.PendingRewards())
	}
	if reads&strategies.VarHarvestCost != 0 {
		vars.HarvestCost = f64(v.HarvestCost())
	}
	return vars
}

// Vars returns the vault-level variables for a strategy's conditions, with
// Drift, GainAPY and CostAPY zero (Decision.Vars fills them).
func (v *Vault) Vars() strategies.VaultVars { return v.varsFor(strategies.AllVars) }

// Executed is one order as carried out.
type Executed struct {
	Order Order         `json:"order"`
	Fill  adapters.Fill `json:"fill"`
	// Mode is how a sell actually left (instant, queue); Err why an order
	// failed or was cut.
	Mode adapters.ExitMode `json:"mode"`
	Err  string            `json:"err,omitempty"`
	// Depeg is the mark-to-market part of the fill's cost under market
	// pricing (zero under rate pricing): the units bought or sold valued
	// at the exchange rate minus at the market price. A buy that mints at
	// the rate while the token trades below peg costs the depeg at entry;
	// a sell's slippage already includes a depeg that NAV had marked, so
	// its Depeg is negative. The ledger entry's Slippage is the fill's
	// plus Depeg, the NAV the order cost.
	Depeg decimal.Decimal `json:"depeg,omitzero"`
}

// Result is what executing a decision did.
type Result struct {
	Time      time.Time       `json:"time"`
	Executed  []Executed      `json:"executed"`
	Costs     decimal.Decimal `json:"costs"`    // gas + slippage + fees of the fills
	Rounding  decimal.Decimal `json:"rounding"` // NAV change not carried by a fill (adapter unit rounding)
	NAVBefore decimal.Decimal `json:"nav_before"`
	NAVAfter  decimal.Decimal `json:"nav_after"`
	Failed    []Rejection     `json:"failed,omitempty"`
}

// Execute carries out a decision: sells first, then buys from what idle
// holds above the idle target (scaled down pro rata when sells returned
// less than expected). An order that fails is recorded in Result.Failed
// and the rest go on. Every fill is a ledger entry with its costs; any
// difference between the NAV change and the fills' costs (unit rounding in
// the adapters) is a "rounding" cost entry, so that
//
//	NAVBefore - NAVAfter = Costs + Rounding
//
// holds to the last unit (NAV is GrossAssets).
func (v *Vault) Execute(now time.Time, d Decision) (Result, error) {
	const op = "vault.Execute"
	if err := v.advance(op, now); err != nil {
		return Result{}, err
	}
	before := v.grossN() // nm(r.NAVBefore), on a num without converting the decimal back
	r := Result{Time: now, Costs: zero, Rounding: zero, NAVBefore: v.GrossAssets()}
	tick := d.Tick
	var costs num // r.Costs, on a num
	// idle carries v.idle through the fills, on a num (decimal's sums
	// step by step), and is built as a decimal once, before anything
	// reads v.idle.
	x := execution{idle: v.idle}
	defer x.commit(v)
	v.execHint = len(d.Orders) + 1
	for k, o := range d.Orders {
		if o.Side != Sell {
			continue
		}
		i, ok := v.orderMarket(k, o.Market)
		if !ok {
			return r, adapters.E(op, adapters.KindInvalid, "vault %q: order for unknown market %s", v.cfg.Name, o.Market)
		}
		v.sell(&r, &x, &costs, v.markets[i], o, tick)
	}
	for k, o := range d.Orders {
		if o.Side != Relever {
			continue
		}
		i, ok := v.orderMarket(k, o.Market)
		if !ok {
			return r, adapters.E(op, adapters.KindInvalid, "vault %q: order for unknown market %s", v.cfg.Name, o.Market)
		}
		s := v.markets[i]
		np, f, err := s.ad.Relever(s.pos, s.env(), o.Leverage)
		if err != nil {
			r.Failed = append(r.Failed, Rejection{Market: o.Market, Reason: "relever failed: " + err.Error()})
			continue
		}
		s.set(np)
		reason := o.Reason
		if f.Route != "" {
			reason += "; via " + f.Route
		}
		r.executed(Executed{Order: o, Fill: f}, v.execHint)
		costs = costs.Add(f.Cost())
		v.ledger.add(v.fillEntry(Entry{Time: now, Type: EntryRelever, Market: o.Market, Reason: reason, Tick: tick}, num{}, &f, f.Slippage))
	}
	buys := v.work.xbuys[:0] // indexes into d.Orders
	var total num
	for k := range d.Orders {
		if o := &d.Orders[k]; o.Side == Buy {
			if _, ok := v.orderMarket(k, o.Market); !ok {
				return r, adapters.E(op, adapters.KindInvalid, "vault %q: order for unknown market %s", v.cfg.Name, o.Market)
			}
			buys = append(buys, k)
			total = total.Add(o.Amount)
		}
	}
	v.work.xbuys = buys[:0]
	if len(buys) > 0 {
		keep := idleKeepN(before, d.Inputs.IdleTarget)
		avail := num{}.Max(x.idle.Sub(keep))
		scale := total.Cmp(avail) > 0
		minTrade := nm(v.cfg.Rebalance.MinTrade)
		for _, k := range buys {
			o := d.Orders[k]
			i, _ := v.orderMarket(k, o.Market)
			s := v.markets[i]
			amt := o.Amount
			if scale || amt.Cmp(x.idle) > 0 {
				a := o.Amount
				if scale {
					a = a.MulDivDown(avail, total)
				}
				amt = a.Min(x.idle)
			}
			if amt.Sign() <= 0 || amt.Cmp(minTrade) < 0 {
				r.Failed = append(r.Failed, Rejection{Market: o.Market, Reason: fmt.Sprintf("buy of %s cut to %s by available idle: below the minimum trade", o.Amount, amt)})
				continue
			}
			pos := s.pos
			if o.Leverage >= 1 {
				pos.Leverage = o.Leverage
			}
			np, f, err := s.ad.Deposit(pos, s.env(), amt)
			if err != nil {
				r.Failed = append(r.Failed, Rejection{Market: o.Market, Reason: "buy failed: " + err.Error()})
				continue
			}
			dp := zero
			if v.cfg.Pricing == adapters.PriceMarket {
				after := new(adapters.Position) // np stays on the stack
				*after = np
				dp = v.depeg(s, &s.pos, after)
			}
			s.set(np)
			x.sub(f.Amount)
			ex := Executed{Order: o, Fill: f, Depeg: dp}
			reason := o.Reason
			if !amt.Equal(o.Amount) {
				ex.Err = fmt.Sprintf("partial: %s of %s (idle ran out)", amt, o.Amount)
				reason += "; " + ex.Err
			}
			if f.Route != "" {
				reason += "; via " + f.Route
			}
			slip := f.Slippage
			if dp.Sign() != 0 {
				slip = slip.Add(nm(dp))
				reason += "; depeg at entry " + dp.String() + " (bought at the rate's value, valued at the market price)"
			}
			r.executed(ex, v.execHint)
			costs = costs.Add(f.Cost()).Add(nm(dp))
			v.ledger.add(v.fillEntry(Entry{Time: now, Type: EntryBuy, Market: o.Market, Reason: reason, Tick: tick}, f.Amount, &f, slip))
		}
	}
	r.Costs = costs.Dec()
	x.commit(v)
	after := v.grossN()
	r.NAVAfter = v.GrossAssets()
	r.Rounding = before.Sub(after).Sub(costs).Dec()
	if r.Rounding.Sign() != 0 {
		v.ledger.add(Entry{Time: now, Type: EntryCost, Amount: r.Rounding, Reason: "rounding", Tick: tick})
	}
	return r, nil
}

// orderMarket returns the index of order k's market id: the market the
// last decision recorded for its order k when that is id's (the same
// string: no hashing), else byID's.
func (v *Vault) orderMarket(k int, id string) (int, bool) {
	if x := v.work.orderIdx; k < len(x) && v.markets[x[k]].id == id {
		return x[k], true
	}
	i, ok := v.byID[id]
	return i, ok
}

// execution is the vault's idle during one Execute, on a num.
type execution struct {
	idle    num
	changed bool // idle differs from v.idle
}

// add adds a fill's amount to idle; sub takes it out.
func (x *execution) add(a num) { x.idle, x.changed = x.idle.Add(a), true }
func (x *execution) sub(a num) { x.idle, x.changed = x.idle.Sub(a), true }

// commit writes idle to v.idle (once: later calls do nothing until the
// next add).
func (x *execution) commit(v *Vault) {
	if x.changed {
		v.idle, x.changed = x.idle, false
	}
}

// executed records an executed order; the list is made at the first with
// room for n (nil when nothing executed).
func (r *Result) executed(ex Executed, n int) {
	if r.Executed == nil {
		r.Executed = make([]Executed, 0, n)
	}
	r.Executed = append(r.Executed, ex)
}

// sell carries out one sell order. Instant exits may fill partially; an
// urgent one queues what the venue could not take, and any instant exit
// the venue refuses (no liquidity, slippage bound; for urgent orders also
// one that does not cover its own costs) falls back to the queue where
// there is one.
func (v *Vault) sell(r *Result, x *execution, costs *num, s *slot, o Order, tick time.Time) {
	now := v.now
	w := adapters.Withdrawal{Amount: o.Amount, All: o.All, Mode: o.Mode}
	if o.Mode == adapters.ExitInstant {
		w.AllowPartial = true
		if !o.Urgent {
			w.MaxSlippage = v.cfg.Rebalance.MaxSlippage
		}
	}
	if s.pos.Units.Sign() == 0 {
		r.Failed = append(r.Failed, Rejection{Market: o.Market, Reason: "sell: position is empty"})
		return
	}
	if !w.All {
		// Never ask for more than the position holds at rate pricing (the
		// cached value when the vault prices at the rate).
		var held num
		if v.cfg.Pricing == adapters.PriceRate {
			held = v.fill(s).units
		} else {
			held = nm(s.ad.Value(&s.pos, s.env(), adapters.PriceRate))
		}
		if w.Amount.Cmp(held) >= 0 {
			w.Amount, w.All = num{}, true
		}
	}
	np, f, err := s.ad.Withdraw(s.pos, s.env(), w)
	if err != nil && o.Mode == adapters.ExitInstant && s.ad.CanQueue() {
		k := adapters.KindOf(err)
		if k == adapters.KindInsufficientLiquidity || k == adapters.KindCapExceeded || (o.Urgent && k == adapters.KindInvalid) {
			w.Mode, w.AllowPartial, w.MaxSlippage = adapters.ExitQueue, false, 0
			np, f, err = s.ad.Withdraw(s.pos, s.env(), w)
		}
	}
	if err != nil {
		r.Failed = append(r.Failed, Rejection{Market: o.Market, Reason: "sell failed: " + err.Error()})
		return
	}
	v.recordSell(r, x, costs, s, o, np, f, tick, now)
	if o.Urgent && f.Partial && s.ad.CanQueue() && s.pos.Units.Sign() > 0 {
		np, f, err = s.ad.Withdraw(s.pos, s.env(), adapters.Withdrawal{All: true, Mode: adapters.ExitQueue})
		if err != nil {
			r.Failed = append(r.Failed, Rejection{Market: o.Market, Reason: "queueing the rest failed: " + err.Error()})
			return
		}
		o.Reason += "; rest queued"
		v.recordSell(r, x, costs, s, o, np, f, tick, now)
	}
}

func (v *Vault) recordSell(r *Result, x *execution, costs *num, s *slot, o Order, np adapters.Position, f adapters.Fill, tick, now time.Time) {
	dp := zero
	if v.cfg.Pricing == adapters.PriceMarket {
		after := new(adapters.Position) // np stays on the stack
		*after = np
		dp = v.depeg(s, &s.pos, after)
	}
	s.set(np)
	x.add(f.Amount)
	mode := adapters.ExitInstant
	typ := EntrySell
	reason := o.Reason
	if f.Route != "" {
		reason += "; via " + f.Route
	}
	if f.Queued != nil {
		mode, typ = adapters.ExitQueue, EntryQueue
		reason += fmt.Sprintf("; claim of %s ready %s", f.Queued.Amount(), f.Queued.ReadyAt.Format(time.RFC3339))
	}
	ex := Executed{Order: o, Fill: f, Mode: mode, Depeg: dp}
	if f.Partial {
		ex.Err = fmt.Sprintf("partial: %s of %s (exit liquidity ran out)", f.Value, o.Amount)
		reason += "; " + ex.Err
	}
	slip := f.Slippage
	if dp.Sign() != 0 {
		slip = slip.Add(nm(dp))
		reason += "; slippage net of the depeg NAV had marked: " + dp.String()
	}
	r.executed(ex, v.execHint)
	*costs = costs.Add(f.Cost()).Add(nm(dp))
	v.ledger.add(v.fillEntry(Entry{Time: now, Type: typ, Market: o.Market, Reason: reason, Tick: tick}, f.Amount, &f, slip))
}

// depeg is the mark-to-market part of the move from position before to
// after under market pricing: the change in the units' value at the
// exchange rate minus the change at the market price. Zero under rate
// pricing. Fills are priced at the rate (a deposit mints at it, an exit's
// slippage is measured from it); NAV values units at the market price.
func (v *Vault) depeg(s *slot, before, after *adapters.Position) decimal.Decimal {
	if v.cfg.Pricing != adapters.PriceMarket {
		return zero
	}
	atRate := s.ad.Value(after, s.env(), adapters.PriceRate).Sub(s.ad.Value(before, s.env(), adapters.PriceRate))
	atMarket := s.ad.Value(after, s.env(), adapters.PriceMarket).Sub(s.ad.Value(before, s.env(), adapters.PriceMarket))
	return fixed.Sub(atRate, atMarket)
}

// Rebalance decides and executes in one call, for callers that do not
// consult a strategy condition in between.
func (v *Vault) Rebalance(now, tick time.Time, trigger Trigger, target strategies.Target) (Decision, Result, error) {
	d, err := v.Decide(now, tick, trigger, target)
	if err != nil {
		return d, Result{}, err
	}
	r, err := v.Execute(now, d)
	return d, r, err
}

// Shutdown stops deposits for good and unwinds every position to idle:
// instant exits where the venue takes them, the rest queued (claims are
// collected as they mature). Withdrawals keep working.
func (v *Vault) Shutdown(now time.Time) (Decision, Result, error) {
	if err := v.advance("vault.Shutdown", now); err != nil {
		return Decision{}, Result{}, err
	}
	if !v.shutdown {
		v.shutdown = true
		v.ledger.add(Entry{Time: now, Type: EntryShutdown, Reason: "shutdown: no deposits, unwind to idle"})
	}
	return v.Rebalance(now, time.Time{}, TriggerShutdown, strategies.Target{Idle: 1})
}

// Weights returns each market's current weight of NAV, in vault order.
func (v *Vault) Weights() map[string]float64 {
	out := make(map[string]float64, len(v.markets))
	nav := f64(v.GrossAssets())
	for _, s := range v.markets {
		w := 0.0
		if nav > 0 && s.pos.Units.Sign() != 0 {
			w = v.fill(s).units.ToFloat() / nav
		}
		out[s.id] = w
	}
	return out
}

// String summarises a decision in one line per order and rejection.
func (d *Decision) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: NAV %s drift %.4f gain %.4f cost %.4f\n", d.Time.Format(time.RFC3339), d.Trigger, d.Inputs.NAV.StringFixed(6), d.Inputs.Drift, d.Inputs.GainAPY, d.Inputs.CostAPY)
	for _, o := range d.Orders {
		fmt.Fprintf(&b, "  %s %s %s (%s) est. cost %s: %s\n", o.Side, o.Market, o.Amount.StringFixed(6), o.Mode, o.EstCost.StringFixed(6), o.Reason)
	}
	rej := append([]Rejection(nil), d.Rejected...)
	sort.SliceStable(rej, func(i, j int) bool { return rej[i].Market < rej[j].Market })
	for _, r := range rej {
		fmt.Fprintf(&b, "  rejected %s: %s\n", r.Market, r.Reason)
	}
	return b.String()
}

// weightReason is fmt.Sprintf("weight %.4f <rel> target %.4f", w, t)
// without fmt: one per market and decision.
func weightReason(w float64, rel string, t float64) string {
	var buf [64]byte
	return string(appendWeightReason(buf[:0], w, rel, t))
}

// weightSlack is the tolerance of float weights: a target's weights and
// idle sum to 1 within 1e-12, so the idle kept back gives up to that much
// of NAV rather than scale every buy down by float noise.
const weightSlack = 1e-12

// idleKeep is the idle the rebalancer keeps back: NAV x idle target, less
// the weight slack, rounded down.
func idleKeep(nav decimal.Decimal, idleTarget float64) decimal.Decimal {
	return floorScale(nav.Mul(weightDec(math.Max(0, idleTarget-weightSlack))))
}

// idleKeepN is idleKeep on a num.
func idleKeepN(nav num, idleTarget float64) num {
	return floorWeight(nav, math.Max(0, idleTarget-weightSlack))
}
