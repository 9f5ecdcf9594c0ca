package execution

import (
	"context"
	"math/big"
	"sort"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
)

// A queued loop unwind on chain, as the model's (adapters/lending/
// loopqueue.go): a sell in ExitQueue mode withdraws what the LTV lets
// leave and requests its withdrawal from the collateral's queue (Lido's
// WithdrawalQueueERC721 for wstETH: requestWithdrawalsWstETH, split
// within the queue's bounds); when the requests are finalized, the claim
// (claimWithdrawals with checkpoint hints) pays ether, which repays the
// debt (wrapped to WETH) and leaves the rest as WETH, and the next round
// is withdrawn and requested, until the collateral to unwind has all
// been queued. The request ids are read from the receipts
// (Fill.RequestIDs, WithdrawalRequested) and their state from the queue
// (ReadLoopClaim: getWithdrawalStatus, findCheckpointHints,
// getClaimableEther); reconciliation counts the vault's unclaimed
// requests in the loop's equity.

// queueRound is one round of a queued unwind (adapters/lending/
// loopqueue.go, queueRound): it withdraws the collateral still to unwind
// (unwind, in the base asset at the rate), or less, so that the debt
// stays within the LTV of what remains (the model's bound, not the
// liquidation threshold the venue's withdraw checks: the margin between
// them covers the interest that accrues while the request waits), less
// borrowSlack as a borrow round keeps (a Morpho market's LTV is its
// LLTV, where a withdrawal to the bound would leave the position at its
// liquidation edge; the model withdraws to the LTV itself), and
// requests its withdrawal from the collateral's queue (RequestWithdrawal,
// Shares the stETH it unwraps to at the rate less rateSlack). all, when
// the round takes the last of the whole position's collateral with no
// debt left, withdraws everything the venue holds (Aave's sentinel,
// Morpho's units read on chain). It is false when nothing can leave (a
// request below the queue's minimum is refused when encoded).
func (p *loopPlan) queueRound(unwind decimal.Decimal, all bool) bool {
	dust := decimal.New(1, -12)
	w := decimal.Min(unwind, p.c)
	if p.b.Cmp(dust) > 0 {
		w = decimal.Min(w, p.c.Sub(p.b.Div(decimal.NewFromFloat(p.ltv*(1-borrowSlack)))))
	}
	if w.Cmp(dust) <= 0 {
		return false
	}
	last := all && p.b.Cmp(dust) <= 0 && unwind.Sub(w).Cmp(dust) <= 0
	amt := wei(w.Div(p.rate).Truncate(18))
	if v := p.venue; v != nil {
		if last || amt.Cmp(v.Collateral) > 0 {
			amt = new(big.Int).Set(v.Collateral)
		}
		v.Collateral.Sub(v.Collateral, amt)
	}
	st := decimal.NewFromBigInt(amt, 0).Mul(p.rate).Mul(oneLessSlack).Truncate(0).BigInt()
	p.reqs = append(p.reqs, Request{Market: p.d.Market, Op: RequestWithdrawal, Amount: amt, Shares: st, All: last})
	p.c = p.c.Sub(w)
	return true
}

// LoopClaim is a queued loop unwind's claim as the chain has it
// (Config.ReadLoopClaim): its finalized, unclaimed withdrawal requests in
// ascending order with their checkpoint hints (findCheckpointHints), the
// ether they pay (getClaimableEther), and its requests not finalized yet.
type LoopClaim struct {
	IDs, Hints []*big.Int
	Ether      *big.Int
	Pending    []*big.Int
}

// ClaimRequests are the requests of a queued loop unwind's claim, as the
// model's Claim (adapters/lending/loopqueue.go): the claim of c's
// requests; out of its ether, a repayment of the debt the unwind still
// repays (repay, in the asset; with all, the whole debt of lb: with a
// basis point more for the interest when the ether covers it, else all
// the ether), the
// rest wrapped to WETH, the vault's idle; then, with collateral still to
// unwind (unwind, in the base asset at the rate; all for the whole
// position), the next round (queueRound), for which the repayment made
// room. lb is the loop's book before the claim (its Venue, for a Morpho
// loop, read on chain). No next round (no RequestWithdrawal in the
// requests) with collateral to unwind and nothing pending means the
// unwind stops: at the LTV nothing more can leave, and the rest stays in
// the loop, as the model's unwind stops.
func ClaimRequests(d *Deployment, lb *LoopBook, c LoopClaim, repay, unwind decimal.Decimal, all bool) ([]Request, error) {
	const op = "execution.ClaimRequests"
	rt := loopRoutes[d.Protocol]
	if rt == nil || rt.queueRole == "" {
		return nil, adapters.E(op, adapters.KindInvalid, "market %s (%s): no queued unwind is encoded for it", d.Market, d.Protocol)
	}
	if lb == nil || lb.Rate.Sign() <= 0 || !(lb.LTV > 0 && lb.LTV < 1) {
		return nil, adapters.E(op, adapters.KindInvalid, "market %s: a claim's next round needs the loop's book (rate and LTV)", d.Market)
	}
	if len(c.IDs) == 0 || len(c.IDs) != len(c.Hints) || c.Ether == nil || c.Ether.Sign() <= 0 {
		return nil, adapters.E(op, adapters.KindNotReady, "market %s: no finalized withdrawal request to claim (%d pending)", d.Market, len(c.Pending))
	}
	p := loopPlan{d: d, rt: rt, rate: lb.Rate, c: lb.Collateral, b: lb.Debt, ltv: lb.LTV, lltv: lb.LLTV}
	if lb.Venue != nil {
		p.exact(lb.Venue)
	}
	dust := decimal.New(1, -12)
	claim := Request{Market: d.Market, Op: ClaimWithdrawal, RequestIDs: c.IDs, Hints: c.Hints, Amount: new(big.Int).Set(c.Ether)}
	p.reqs = append(p.reqs, claim)
	eth := decimal.NewFromBigInt(c.Ether, -18)
	owed := decimal.Min(repay, p.b)
	if all {
		// The whole position's unwind repays the whole debt as the book
		// read it (with the interest accrued to the reading, which a
		// repay read earlier lacks).
		owed = p.b
	}
	if owed.Cmp(dust) > 0 {
		whole := p.b.Sub(owed).Cmp(dust) <= 0 && eth.Cmp(owed.Mul(decimal.NewFromFloat(1+rateSlack))) >= 0
		p.repay(decimal.Min(owed, eth), whole, eth)
		// The claim wraps what the repayment does not (the repayment
		// wraps its own).
		claim.Amount.Sub(claim.Amount, p.reqs[len(p.reqs)-1].Amount)
		p.reqs[0] = claim
	}
	if unwind.Cmp(dust) > 0 {
		p.queueRound(unwind, all)
	}
	return p.reqs, nil
}

// loopQueue encodes a queued unwind's requests on a loop whose route
// has a queue (Lido's WithdrawalQueueERC721, role "queue"):
// RequestWithdrawal withdraws Amount of the collateral from the venue
// (everything with All) and requests its withdrawal for the vault
// (lidoRequest: requestWithdrawalsWstETH, split within the queue's
// bounds by Shares, the stETH it unwraps to); ClaimWithdrawal claims
// RequestIDs with their Hints (lidoClaim) and wraps Amount of the ether
// received to WETH (the part no Repay wraps).
func (e *Encoder) loopQueue(d *Deployment, rt *loopRoute, venue loopVenue, coll, wethC Contract, r Request, add adder) error {
	const op = "execution.Encoder.Calls"
	if rt.queueRole == "" {
		return adapters.E(op, adapters.KindInvalid, "market %s: %s is not encoded", d.Market, rt.queue)
	}
	queue, err := d.Contract(rt.queueRole)
	if err != nil {
		return err
	}
	if r.Op == ClaimWithdrawal {
		if err := lidoClaim(d, add, queue, r); err != nil {
			return err
		}
		if r.Amount == nil || r.Amount.Sign() == 0 {
			return nil
		}
		return add(newCall(weth9ABI, wethC, r.Amount, "deposit"))
	}
	if r.Amount == nil || r.Amount.Sign() <= 0 || r.Shares == nil || r.Shares.Sign() <= 0 {
		return adapters.E(op, adapters.KindInvalid, "market %s: a withdrawal request needs a positive amount of %s and the %s it unwraps to (Shares)", d.Market, rt.collateralSym, rt.underlyingSym)
	}
	if err := add(venue.withdrawCollateral(coll.Address, r.Amount, r.All)); err != nil {
		return err
	}
	return lidoRequest(d, add, coll, queue, true, r.Amount, r.Shares, e.Vault)
}

// ReadLoopClaim reads a queued unwind's requests on the market's queue:
// ids are the unwind's (its fills' RequestIDs); nil reads every request
// the vault's address owns (getWithdrawalRequests). Finalized, unclaimed
// ones are the claim's, in ascending order with their checkpoint hints
// (findCheckpointHints over [1, getLastCheckpointIndex]) and the ether
// they pay (getClaimableEther); the others not claimed are Pending.
func (c *Config) ReadLoopClaim(ctx context.Context, cl ethereum.ContractCaller, vaultID, market string, ids []*big.Int) (LoopClaim, error) {
	const op = "execution.ReadLoopClaim"
	var out LoopClaim
	d, err := c.Book.Deployment(market)
	if err != nil {
		return out, err
	}
	rt := loopRoutes[d.Protocol]
	if rt == nil || rt.queueRole == "" {
		return out, adapters.E(op, adapters.KindInvalid, "market %s (%s): no queued unwind is encoded for it", market, d.Protocol)
	}
	q, err := d.Contract(rt.queueRole)
	if err != nil {
		return out, err
	}
	addr, ok := c.Vaults[vaultID]
	if !ok {
		return out, adapters.E(op, adapters.KindInvalid, "vault %s has no on-chain address", vaultID)
	}
	rd := reader{ctx: ctx, cl: cl, vault: addr}
	if ids == nil {
		vals, err := rd.call(lidoQueueViewABI, q.Address, "getWithdrawalRequests", addr)
		if err != nil {
			return out, err
		}
		ids, _ = vals[0].([]*big.Int)
	}
	ids = append([]*big.Int(nil), ids...)
	sort.Slice(ids, func(i, j int) bool { return ids[i].Cmp(ids[j]) < 0 })
	if len(ids) == 0 {
		return out, nil
	}
	vals, err := rd.call(lidoQueueViewABI, q.Address, "getWithdrawalStatus", ids)
	if err != nil {
		return out, err
	}
	for i, st := range reflectSlice(vals[0]) {
		f := reflectFields(st)
		if claimed, _ := f["IsClaimed"].(bool); claimed {
			continue
		}
		if owner, _ := f["Owner"].(common.Address); owner != addr {
			return out, adapters.E(op, adapters.KindOther, "market %s: withdrawal request %s is owned by %s, not the vault's address %s", market, ids[i], owner.Hex(), addr.Hex())
		}
		if fin, _ := f["IsFinalized"].(bool); fin {
			out.IDs = append(out.IDs, ids[i])
		} else {
			out.Pending = append(out.Pending, ids[i])
		}
	}
	out.Ether = new(big.Int)
	if len(out.IDs) == 0 {
		return out, nil
	}
	last, err := rd.uint(lidoQueueABI, q.Address, "getLastCheckpointIndex")
	if err != nil {
		return out, err
	}
	if vals, err = rd.call(lidoQueueABI, q.Address, "findCheckpointHints", out.IDs, big.NewInt(1), last); err != nil {
		return out, err
	}
	out.Hints, _ = vals[0].([]*big.Int)
	if len(out.Hints) != len(out.IDs) {
		return out, adapters.E(op, adapters.KindOther, "market %s: %d checkpoint hints for %d requests", market, len(out.Hints), len(out.IDs))
	}
	if vals, err = rd.call(lidoQueueViewABI, q.Address, "getClaimableEther", out.IDs, out.Hints); err != nil {
		return out, err
	}
	eths, _ := vals[0].([]*big.Int)
	for _, e := range eths {
		out.Ether.Add(out.Ether, e)
	}
	return out, nil
}

// PlanLoopClaim is a queued unwind's claim as calls (ClaimRequests, lb
// the loop's book read before it; repay, unwind and all as there),
// checked against the allowlist. Every call carries order 0, for the
// fills (Fills with a decision of one order on market).
func (c *Config) PlanLoopClaim(vaultID, market string, lb LoopBook, cl LoopClaim, repay, unwind decimal.Decimal, all bool) ([]Call, error) {
	const op = "execution.Plan"
	addr, ok := c.Vaults[vaultID]
	if !ok {
		return nil, adapters.E(op, adapters.KindInvalid, "refused: vault %s has no on-chain address", vaultID)
	}
	d, err := c.Book.Deployment(market)
	if err != nil {
		return nil, adapters.E(op, adapters.KindInvalid, "refused: %s", trimOp(err))
	}
	reqs, err := ClaimRequests(d, &lb, cl, repay, unwind, all)
	if err != nil {
		return nil, err
	}
	enc := &Encoder{Vault: addr, Book: c.Book}
	var calls []Call
	for _, r := range reqs {
		cs, err := enc.Calls(r)
		if err != nil {
			return nil, adapters.E(op, adapters.KindInvalid, "refused: %s", trimOp(err))
		}
		calls = append(calls, cs...)
	}
	if err := c.Allow.Check(addr, calls); err != nil {
		return nil, err
	}
	return calls, nil
}
