package lending

import (
	"fmt"
	"math"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/fixed"
)

// Unwinding a loop through the collateral's withdrawal queue.
//
// Debt is repaid in the base asset, and the queue pays the base asset only
// after its delay, so a loop cannot hand its collateral to the queue and
// repay at once. The protocol route is a deleverage in rounds: withdraw
// the collateral the loan allows to leave (the debt must stay within the
// LTV of what remains, as a borrow must), request its withdrawal from the
// token's queue (Lido's for wstETH, ether.fi's for weETH), and when the
// claim pays, repay debt with it and withdraw the next round, which the
// repayment has made room for; the debt accrues interest while each round
// waits. A loop at leverage L with LTV l takes about as many rounds as
// borrow rounds opened it, plus one for the collateral left once the debt
// is repaid, each a queue's delay: 3x wstETH at 93% takes 4 rounds, 12
// days at Lido's 3-day queue (QueueRounds).
//
// The bound is the LTV, not the liquidation threshold Aave's and Morpho's
// withdraw checks use (a health factor of 1 after the withdrawal), so the
// position keeps the margin LLTV / LTV (1.02 for wstETH at 93%/95%) for the
// interest that accrues while the claim waits. A rate spike or a depeg
// under a market-price oracle during the wait can still liquidate it, as
// on chain.
//
// The state of an unwind is in the position (UnwindUnits, UnwindDebt):
// Withdraw(ExitQueue) sets it and queues the first round; Claim pays the
// ready claims, repays debt out of them (what is left goes to the vault),
// and queues the next round, until the collateral to unwind has all been
// queued. An unwind that cannot continue (the position at its LTV with
// nothing in the queue to repay from) stops, and what is left stays in the
// loop: the strategy's next exit asks again.

// QueueOpen reports whether the collateral token's withdrawal queue
// exists at t (the profile's withdrawal_days is in force then).
func (d *Loop) QueueOpen(t time.Time) bool {
	_, ok := d.withdrawalDays.At(t)
	return ok
}

// Delay is a queue round's delay at env: the token's observed
// withdrawal_days, else the profile's.
func (d *Loop) Delay(env *adapters.Env) time.Duration {
	def := d.withdrawalDays.Or(env.Time, 0)
	days := env.Obs.Value(adapters.FieldWithdrawalDays, def)
	if !(days >= 0) || math.IsInf(days, 0) {
		days = def
	}
	return time.Duration(math.Round(days * 24 * float64(time.Hour)))
}

// QueueRounds is the number of queue rounds that unwind collateral coll
// against debt debt (both in base units at the oracle's price) when each
// round may withdraw what leaves the debt within ltv of the rest and its
// payout repays debt: at least 1, at most 1000.
func QueueRounds(coll, debt, ltv float64) int {
	n := 0
	for n < 1000 && coll > 0 {
		n++
		if debt <= 0 {
			break
		}
		x := coll - debt/ltv
		if !(x > 0) {
			return 1000
		}
		coll -= x
		debt -= x
	}
	return max(n, 1)
}

// clampUnwind keeps a position's unwind within what it holds.
func clampUnwind(pos *adapters.Position) {
	if pos.UnwindUnits.Cmp(pos.Units) > 0 {
		pos.UnwindUnits = pos.Units
	}
	if pos.UnwindDebt.Cmp(pos.Debt) > 0 {
		pos.UnwindDebt = pos.Debt
	}
	if pos.UnwindUnits.Sign() <= 0 && len(pos.Claims) == 0 {
		// Nothing left to queue and no claim to repay from: the debt
		// still to repay stays the position's own.
		pos.UnwindUnits, pos.UnwindDebt = fixed.Num{}, fixed.Num{}
	}
}

// queueUnwind starts an unwind of w's share of the position through the
// queue (see the package comment above) and queues its first round.
func (d *Loop) queueUnwind(op string, pos adapters.Position, env *adapters.Env, w adapters.Withdrawal) (adapters.Position, adapters.Fill, error) {
	t := env.Time
	if !d.QueueOpen(t) {
		if since, ok := d.withdrawalDays.Since(); ok {
			return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "%s: the collateral's withdrawal queue opened only on %s: before, a loop unwinds through the venue alone", d.market.ID, since.Format(time.DateOnly))
		}
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "%s: the profile names no withdrawal queue for the collateral (withdrawal_days): a loop unwinds through the venue alone", d.market.ID)
	}
	if pos.Unwinding() {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "%s: an unwind through the withdrawal queue is under way (%s); it goes on as its claims pay", d.market.ID, nextClaim(&pos))
	}
	d.Accrue(&pos, env)
	s := d.project(&pos, env)
	a := d.amounts(&pos, s)
	eqv := a.coll.Sub(a.debt)
	if eqv.Sign() <= 0 || pos.Units.Sign() <= 0 {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "%s: the position has no equity to withdraw", d.market.ID)
	}
	all := w.All
	share := 1.0
	if !all {
		if w.Amount.Dec().Cmp(eqv) > 0 {
			return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "%s: withdrawal of %s is more than the position's equity %s", d.market.ID, w.Amount, eqv)
		}
		share = w.Amount.Float() / adapters.Float(eqv)
		all = share >= 1
	}
	if all {
		pos.UnwindUnits, pos.UnwindDebt = pos.Units, pos.Debt
	} else {
		pos.UnwindUnits, pos.UnwindDebt = pos.Units.MulRate(share), pos.Debt.MulRate(share)
	}
	np, c, gas, ok := d.queueRound(pos, env, s)
	if !ok {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInsufficientLiquidity, "%s: at its LTV of %g no collateral can leave for the withdrawal queue before debt is repaid", d.market.ID, d.LTV(t))
	}
	if all {
		np.Principal = fixed.Num{}
	} else {
		np.Principal = np.Principal.Sub(np.Principal.MulRate(share))
	}
	rounds := QueueRounds(adapters.Float(a.collOracle)*share, adapters.Float(a.debt)*share, d.LTV(t))
	value := fixed.FromDec(c.Amount()).Add(gas)
	return np, adapters.Fill{Value: value, Gas: gas, Queued: &c,
		Route: fmt.Sprintf("queue: unwind in about %d rounds of %.3g days, round 1 withdraws %s", rounds, d.Delay(env).Hours()/24, value.StringFixed(6))}, nil
}

// queueRound withdraws the next round of an unwind and queues it: the
// collateral still to unwind, or less so that the debt stays within the
// LTV of what remains at the oracle's price. The request's gas (the
// reserve's withdraw and the queue's request) comes out of the claim. ok
// is false when nothing can leave (or it does not cover its gas).
func (d *Loop) queueRound(pos adapters.Position, env *adapters.Env, s loopState) (adapters.Position, adapters.Claim, fixed.Num, bool) {
	t := env.Time
	units := pos.UnwindUnits
	if pos.Debt.Sign() > 0 {
		// Units - debt / (ltv x idx x oracle) may leave.
		keep := pos.Debt.MulRate(s.didx).DivRoundRate(d.LTV(t) * s.idx * s.oracle)
		units = units.Min(pos.Units.Sub(keep))
	}
	if units.Sign() <= 0 {
		return pos, adapters.Claim{}, fixed.Num{}, false
	}
	unit := s.idx * s.rate
	value := units.MulRate(unit)
	gas := env.GasCost(d.params.GasWithdraw + d.gasQueue.Or(t, 0))
	if gas.Cmp(value) >= 0 {
		return pos, adapters.Claim{}, fixed.Num{}, false
	}
	c := adapters.Claim{
		Units:     value.Sub(gas).DivRoundRate(unit),
		Index:     unit,
		Requested: t,
		ReadyAt:   t.Add(d.Delay(env)),
	}
	pos.Units = pos.Units.Sub(units)
	pos.UnwindUnits = pos.UnwindUnits.Sub(units)
	claims := make([]adapters.Claim, len(pos.Claims), len(pos.Claims)+1)
	copy(claims, pos.Claims)
	pos.Claims = append(claims, c)
	return pos, c, gas, true
}

// nextClaim names when the next claim of pos is ready.
func nextClaim(pos *adapters.Position) string {
	var next time.Time
	for _, c := range pos.Claims {
		if next.IsZero() || c.ReadyAt.Before(next) {
			next = c.ReadyAt
		}
	}
	if next.IsZero() {
		return "no claim queued"
	}
	return "next claim ready " + next.UTC().Format(time.RFC3339)
}

// Claim pays out every claim whose ReadyAt is at or before env.Time (units
// x the value at request, as cut by slashes since), less the gas of the
// claim and, when it repays, of the repayment; repays the debt still to
// repay of an unwind out of it; and queues the unwind's next round. What
// is left reaches idle: the Fill's Amount. Its Value is what left the
// market: the payout less the debt repaid, plus the next round's request
// gas (which comes out of that round's claim); Route says what it did.
// With nothing ready it fails with KindNotReady.
func (d *Loop) Claim(pos adapters.Position, env *adapters.Env) (adapters.Position, adapters.Fill, error) {
	const op = "lending.Loop.Claim"
	if pos.Paused {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindPaused, "%s is paused: its claims and repayments wait", d.market.ID)
	}
	payout := decimal.Zero
	var keep []adapters.Claim
	n := 0
	for _, c := range pos.Claims {
		if !c.ReadyAt.After(env.Time) {
			payout = payout.Add(c.Amount())
			n++
			continue
		}
		keep = append(keep, c)
	}
	if n == 0 {
		if len(pos.Claims) == 0 {
			return pos, adapters.Fill{}, adapters.E(op, adapters.KindNotReady, "%s: no queued withdrawal", d.market.ID)
		}
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindNotReady, "%s: no queued withdrawal is ready (%s)", d.market.ID, nextClaim(&pos))
	}
	t := env.Time
	d.Accrue(&pos, env)
	s := d.project(&pos, env)
	pos.Claims = keep
	repaying := pos.UnwindDebt.Sign() > 0 && pos.Debt.Sign() > 0
	units := d.gasClaim.Or(t, 0)
	if repaying {
		units += d.gasRepay.Or(t, 0)
	}
	gas, pn := env.GasCost(units), fixed.FromDec(payout)
	if pn.Cmp(gas) < 0 {
		gas = pn // decimal.Min(gas, payout)
	}
	avail := pn.Sub(gas)
	repaid := fixed.Num{}
	if repaying {
		owed := pos.UnwindDebt.MulRate(s.didx)
		repaid = avail.Min(owed)
		if debt := pos.Debt.MulRate(s.didx); repaid.Cmp(debt) >= 0 {
			repaid, pos.Debt, pos.UnwindDebt = debt, fixed.Num{}, fixed.Num{}
		} else {
			scaled := repaid.DivRoundRate(s.didx)
			pos.Debt = pos.Debt.Sub(scaled)
			if repaid.Cmp(owed) >= 0 {
				pos.UnwindDebt = fixed.Num{}
			} else {
				pos.UnwindDebt = pos.UnwindDebt.Sub(scaled).Max(fixed.Num{})
			}
		}
	}
	out := avail.Sub(repaid)
	what := fmt.Sprintf("claim of %s", payout.StringFixed(6))
	if repaid.Sign() > 0 {
		what += fmt.Sprintf(" repaid %s of debt", repaid.StringFixed(6))
	}
	fill := adapters.Fill{Amount: out, Gas: gas}
	if pos.UnwindUnits.Sign() > 0 {
		np, c, g, ok := d.queueRound(pos, env, s)
		if ok {
			pos = np
			fill.Gas = fill.Gas.Add(g)
			what += fmt.Sprintf("; next unwind round of %s queued, ready %s", fixed.FromDec(c.Amount()).Add(g).StringFixed(6), c.ReadyAt.UTC().Format(time.RFC3339))
		} else if len(pos.Claims) == 0 {
			pos.UnwindUnits, pos.UnwindDebt = fixed.Num{}, fixed.Num{}
			what += "; unwind stopped: at its LTV no more collateral can leave, the rest stays in the loop"
		}
	}
	clampUnwind(&pos)
	if pos.Units.Sign() == 0 && pos.Debt.Sign() == 0 {
		pos.Principal = fixed.Num{}
	}
	fill.Value = fill.Amount.Add(fill.Gas)
	fill.Route = what
	return pos, fill, nil
}
