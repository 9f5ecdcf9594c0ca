package execution

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"slices"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/vault"
)

// AaveV3Loop is a leveraged loop on Aave v3: wstETH supplied as
// collateral, WETH borrowed at the variable rate (aave-v3/wsteth-loop).
// Its deployment's Asset is WETH (what the vault spends and the debt),
// its Position wstETH (the collateral token), and its contracts the Pool,
// WETH, Lido (stETH), wstETH and the Curve stETH/ETH pool.
const AaveV3Loop Protocol = "aave-v3-loop"

// AaveV3LoopWeETH is the same loop on weETH (aave-v3/weeth-loop): ether.fi's
// LiquidityPool mints eETH for ether, weETH wraps it and is supplied, and
// the exit sells weETH itself for WETH on the Curve weETH/WETH pool. Its
// contracts are the Pool, WETH, the LiquidityPool, eETH, weETH and that
// pool.
const AaveV3LoopWeETH Protocol = "aave-v3-loop-weeth"

// loopRoute is how a loop's collateral is entered and left, the part of
// a loop's calls that differs between collaterals (the lending venue's
// is loopVenue). The collateral token (role collateral) wraps a rebasing
// token (role underlying) that a payable call mints for ether; the exit
// sells on the venue (role "curve") either the underlying after an
// unwrap, paid in ether (wstETH: stETH on Curve's stETH/ETH pool), or the
// collateral itself, paid in WETH (weETH on Curve's weETH/WETH pool).
type loopRoute struct {
	// collateral and underlying are the tokens' roles and symbols.
	collateral, underlying       string
	collateralSym, underlyingSym string
	// minter is the role of the contract whose payable mint turns ether
	// into the underlying (Lido's stETH, ether.fi's LiquidityPool), and
	// mintABI and mintMethod its call (mintArgs its arguments).
	minter     string
	mintABI    *abi.ABI
	mintMethod string
	mintArgs   []any
	// wrapABI is the collateral's wrap and unwrap.
	wrapABI *abi.ABI
	// rateMethod is the collateral's view of the underlying per token
	// (lstValueABI), at 1e18.
	rateMethod string
	// sellsUnderlying: the venue takes the underlying (after an unwrap),
	// not the collateral; paysEther: it pays ether, not WETH; from and
	// to are the sold and bought coins' indexes; venueABI its exchange.
	sellsUnderlying, paysEther bool
	from, to                   int64
	venueABI                   *abi.ABI
	// queue names the collateral's withdrawal queue; queueRole is the
	// deployment's role of the queue contract when a queued unwind is
	// encoded for the route (Lido's WithdrawalQueueERC721 and its
	// requestWithdrawalsWstETH), empty when it is not (ether.fi's).
	queue, queueRole string
}

var (
	wstETHRoute = &loopRoute{collateral: "wsteth", underlying: "lido", collateralSym: "wstETH", underlyingSym: "stETH",
		minter: "lido", mintABI: lidoABI, mintMethod: "submit", mintArgs: []any{common.Address{}},
		wrapABI: wstETHABI, rateMethod: "getStETHByWstETH",
		sellsUnderlying: true, paysEther: true, from: 1, to: 0, venueABI: curve2ABI,
		queue: "Lido's withdrawal queue (requestWithdrawalsWstETH)", queueRole: "queue"}
	weETHRoute = &loopRoute{collateral: "weeth", underlying: "eeth", collateralSym: "weETH", underlyingSym: "eETH",
		minter: "liquidity_pool", mintABI: etherfiPoolABI, mintMethod: "deposit",
		wrapABI: weETHABI, rateMethod: "getEETHByWeETH",
		from: 1, to: 0, venueABI: curveNGABI,
		queue: "ether.fi's withdrawal queue (LiquidityPool.requestWithdraw, a WithdrawRequestNFT claimed once finalized)"}
)

// loopRoutes are the loop protocols' collateral routes; loopLenders their
// lending venue's role (an Aave v3 Pool, a Morpho Blue market).
var (
	loopRoutes  = map[Protocol]*loopRoute{AaveV3Loop: wstETHRoute, MorphoBlueLoop: wstETHRoute, AaveV3LoopWeETH: weETHRoute}
	loopLenders = map[Protocol]string{AaveV3Loop: "pool", MorphoBlueLoop: "morpho", AaveV3LoopWeETH: "pool"}
)

// IsLoop reports whether p is a leveraged loop's protocol, whose orders
// become rounds of requests (LoopRequests) on a lending venue.
func IsLoop(p Protocol) bool { return loopRoutes[p] != nil }

// loopRoles are the contracts a loop deployment of protocol p names: its
// lending venue, WETH, the route's minter and tokens, and the exit venue.
func loopRoles(p Protocol) []string {
	rt := loopRoutes[p]
	out := []string{loopLenders[p], "weth"}
	for _, r := range []string{rt.minter, rt.underlying, rt.collateral, "curve"} {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// position and coins are a loop deployment's collateral token and its
// exit venue's coins in pool order, from its contracts.
func (rt *loopRoute) position(d *Deployment) *Token {
	return &Token{Contract: d.Contracts[rt.collateral], Symbol: rt.collateralSym, Decimals: 18}
}

func (rt *loopRoute) coins(d *Deployment) []Token {
	if rt.paysEther {
		return []Token{ethToken, {Contract: d.Contracts[rt.underlying], Symbol: rt.underlyingSym, Decimals: 18}}
	}
	return []Token{{Contract: d.Contracts["weth"], Symbol: "WETH", Decimals: 18}, *rt.position(d)}
}

// LoopBook is what a loop order's calls need besides the order: the
// position as the book holds it, the market's parameters at the
// decision's time, and the collateral token's exchange rate.
type LoopBook struct {
	// Collateral and Debt are the position's in the base asset: the
	// collateral at its exchange rate (as Aave's wstETH and weETH
	// oracles price it), the debt with its interest; zero for a loop not
	// held.
	Collateral, Debt decimal.Decimal
	// Rate is the underlying per collateral token, stETH per wstETH
	// (wstETH.getStETHByWstETH(1e18)) or eETH per weETH
	// (weETH.getEETHByWeETH(1e18)): read on chain in send mode
	// (ChainRates), the book's in propose mode.
	Rate decimal.Decimal
	// Peg is the collateral's market price over its exchange rate (on
	// the venue); 0 or unset counts as 1.
	Peg float64
	// LTV and LLTV are the market's loan-to-value and liquidation
	// threshold (the profile's ltv and lltv in force).
	LTV, LLTV float64
	// EMode is the Aave e-mode category LTV and LLTV are of (the
	// profile's emode in force; 0 for none): an open and a relever up
	// enter it first (Pool.setUserEMode), since outside it the Pool
	// lends only up to the reserve's own, lower, LTV.
	EMode int
	// Venue is the position as a Morpho Blue loop's market holds it,
	// read on chain in send mode (ChainRates); nil elsewhere. A whole
	// unwind on Morpho needs it (its collateral exactly, its debt by
	// shares).
	Venue *VenueState
}

// The margins of a loop's calls. Each is a judgement, named here once.
const (
	// rateSlack: wrap and unwrap amounts are computed at the rate less
	// one basis point, so that a rate that moved since it was read
	// (stETH's daily rebase is about 0.01%; eETH's rate moves at
	// ether.fi's oracle reports) cannot make a supply or a swap ask for
	// more than the wrap or unwrap gave; what is left stays at the
	// vault's address (wstETH and stETH, or weETH and eETH, dust).
	rateSlack = 1e-4
	// borrowSlack: a round borrows up to LTV x (1 - borrowSlack) of the
	// collateral, not the LTV itself, which the Pool's oracle rounding
	// could refuse.
	borrowSlack = 1e-3
	// unwindHF: an unwind round withdraws at most what leaves the
	// health factor (at the liquidation threshold) at 1.01.
	unwindHF = 1.01
	// maxLoopRounds bounds the rounds of one order.
	maxLoopRounds = 60
)

// LoopRounds is the number of borrow rounds a loop's model prices
// (adapters/lending/loop.go, rounds): the k at which one unit of equity,
// each round borrowing ltv of the collateral the last added, reaches
// leverage lev: 1 + ltv + ... + ltv^k >= lev.
func LoopRounds(lev, ltv float64) int {
	n, l := 0, 1.0
	for l < lev-1e-12 && n < 1000 {
		l = 1 + ltv*l
		n++
	}
	return n
}

// loopRequests turns a loop order into rounds of requests on the loop's
// deployment. Opening (a buy at a leverage) and relevering up use the
// borrow rounds route: the e-mode category is entered (lb.EMode, when
// set), the equity is minted (Lido's submit, ether.fi's deposit),
// wrapped and supplied, then each round borrows WETH up to LTV x (1 -
// borrowSlack) of the collateral, mints, wraps and supplies it, until
// the debt reaches (leverage - 1) x equity. The flash-loan route the
// model may price (one flash loan, cheaper at high gas) needs a contract
// of the vault's own to receive the loan: the executor always takes the
// rounds route. Unwinding (a sell) and relevering down withdraw the
// collateral and sell it on the route's exit venue at a minimum out of
// the quote less max_loss (wstETH: unwrapped, its stETH sold on the Curve
// stETH/ETH pool, the ether wrapped to WETH; weETH: sold as it is on the
// Curve weETH/WETH pool), and repay what the minimum guarantees, round by
// round (each withdrawal leaves the health factor at unwindHF). What the
// venue pays above the minimum stays at the vault's address.
func loopRequests(d *Deployment, o vault.Order, maxLoss float64, lb *LoopBook) ([]Request, error) {
	const op = "execution.Requests"
	refuse := func(format string, args ...any) ([]Request, error) {
		return nil, adapters.E(op, adapters.KindInvalid, "market %s: a %s order cannot be executed on chain: %s", d.Market, o.Side, fmt.Sprintf(format, args...))
	}
	if lb == nil {
		return refuse("the loop's calls need its position and rate from the book (no loop book was given)")
	}
	rt := loopRoutes[d.Protocol]
	if rt == nil {
		return refuse("protocol %s is not a loop's", d.Protocol)
	}
	if lb.Rate.Sign() <= 0 {
		return refuse("no exchange rate of the collateral (%s per %s)", rt.underlyingSym, rt.collateralSym)
	}
	if lb.EMode < 0 || lb.EMode > 255 {
		return refuse("e-mode category %d is not within 0..255", lb.EMode)
	}
	if !(lb.LTV > 0 && lb.LTV < 1 && lb.LLTV >= lb.LTV && lb.LLTV < 1) {
		return refuse("ltv %g and lltv %g must satisfy 0 < ltv <= lltv < 1", lb.LTV, lb.LLTV)
	}
	if maxLoss < 0 || maxLoss >= 1 {
		return nil, adapters.E(op, adapters.KindInvalid, "max_loss %v is not within [0, 1)", maxLoss)
	}
	peg := lb.Peg
	if !(peg > 0) || math.IsInf(peg, 0) {
		peg = 1
	}
	p := loopPlan{d: d, rt: rt, rate: lb.Rate, c: lb.Collateral, b: lb.Debt, ltv: lb.LTV, lltv: lb.LLTV}
	emode := func() {
		if lb.EMode > 0 {
			p.reqs = append(p.reqs, Request{Market: d.Market, Op: SetEMode, EMode: uint8(lb.EMode)})
		}
	}
	if o.Side == vault.Sell && o.All && d.Protocol == MorphoBlueLoop {
		if lb.Venue == nil {
			return refuse("a whole unwind on Morpho Blue withdraws the collateral exactly and repays the debt by its borrow shares, which are read on chain (send mode reads them): sell an amount below the equity, or unwind by hand")
		}
		p.exact(lb.Venue)
	}
	lev := o.Leverage
	switch o.Side {
	case vault.Buy:
		e := o.Amount.Dec()
		if e.Sign() <= 0 {
			return refuse("the amount %s is not positive", e)
		}
		if lev < 1 {
			lev = 1
		}
		emode()
		if err := p.stake(e); err != nil {
			return nil, err
		}
		if err := p.up(e.Mul(decimal.NewFromFloat(lev - 1))); err != nil {
			return nil, err
		}
		return p.reqs, nil
	case vault.Relever:
		eq := p.c.Sub(p.b)
		if eq.Sign() <= 0 {
			return refuse("the position has no equity to relever")
		}
		if lev < 1 {
			return refuse("leverage %g is below 1", lev)
		}
		target := eq.Mul(decimal.NewFromFloat(lev))
		switch p.c.Cmp(target) {
		case -1:
			emode()
			if err := p.up(target.Sub(p.c)); err != nil {
				return nil, err
			}
		case 1:
			// Selling dC of collateral repays dC x q (the minimum the swap
			// guarantees, less the unwrap's rateSlack where the venue takes
			// the unwrapped token): (C - dC) / (C - dC - B + q dC) = L gives
			// dC = (C - L E) / (1 - L (1 - q)).
			qSwap := peg * (1 - maxLoss)
			q := qSwap
			if rt.sellsUnderlying {
				q *= 1 - rateSlack
			}
			den := 1 - lev*(1-q)
			if den <= 0 {
				return refuse("leverage %g cannot be reached by selling at %g of the rate", lev, q)
			}
			dC := p.c.Sub(target).Div(decimal.NewFromFloat(den))
			dB := dC.Mul(decimal.NewFromFloat(q))
			if lev <= 1 || dB.Cmp(p.b) > 0 {
				dB = p.b
				dC = dB.Div(decimal.NewFromFloat(q))
			}
			if err := p.down(dC, dB, qSwap, false); err != nil {
				return nil, err
			}
		}
		return p.reqs, nil
	case vault.Sell:
		if o.Mode == adapters.ExitQueue && rt.queueRole == "" {
			return refuse("an unwind through %s (request, claim, repay in rounds) is not encoded: its withdrawal NFT's address is not sourced here; sell instantly through the %s, or unwind by hand", rt.queue, d.Contracts["curve"].Name)
		}
		eq := p.c.Sub(p.b)
		if eq.Sign() <= 0 {
			return refuse("the position has no equity to withdraw")
		}
		share := decimal.NewFromInt(1)
		if !o.All {
			if o.Amount.Dec().Cmp(eq) > 0 {
				return refuse("the amount %s is more than the position's equity %s", o.Amount, eq)
			}
			share = o.Amount.Dec().DivRound(eq, 18)
		}
		dC, dB := p.c.Mul(share), p.b.Mul(share)
		if o.Mode == adapters.ExitQueue {
			// The first round of the queued unwind; ClaimRequests
			// carries on with the next when its claim pays.
			if !p.queueRound(dC, o.All) {
				return nil, adapters.E(op, adapters.KindInsufficientLiquidity, "market %s: at its LTV of %g no collateral can leave for %s before debt is repaid (collateral %s, debt %s): sell instantly, or repay first", d.Market, lb.LTV, rt.queue, p.c.StringFixed(6), p.b.StringFixed(6))
			}
			return p.reqs, nil
		}
		// The minimum out: the quote (the collateral sold less the
		// order's estimated exit cost) less max_loss.
		q := (1 - o.EstCost.Float()/dC.InexactFloat64()) * (1 - maxLoss)
		if !(q > 0) {
			return refuse("the quote (collateral %s less cost %s) is not positive", dC, o.EstCost)
		}
		if err := p.down(dC, dB, q, o.All); err != nil {
			return nil, err
		}
		return p.reqs, nil
	}
	return nil, adapters.E(op, adapters.KindInvalid, "order side %q is not buy, sell or relever", o.Side)
}

// loopPlan accumulates a loop order's requests while tracking the
// position (collateral c and debt b, in the base asset) they leave.
type loopPlan struct {
	d         *Deployment
	rt        *loopRoute
	rate      decimal.Decimal
	c, b      decimal.Decimal
	ltv, lltv float64
	reqs      []Request
	// venue, for a whole unwind with the position read on chain
	// (exact): the collateral units and borrow shares left, which the
	// last withdrawal and the repayments take exactly.
	venue *VenueState
}

// exact sets the plan's position from the venue's (a Morpho Blue loop
// read on chain): the collateral its units at the rate, the debt its
// borrow shares' assets rounded up; the rounds then withdraw the units
// and repay the shares exactly.
func (p *loopPlan) exact(v *VenueState) {
	p.venue = &VenueState{Collateral: new(big.Int).Set(v.Collateral), BorrowShares: new(big.Int).Set(v.BorrowShares),
		TotalBorrowAssets: v.TotalBorrowAssets, TotalBorrowShares: v.TotalBorrowShares}
	p.c = decimal.NewFromBigInt(v.Collateral, -18).Mul(p.rate)
	p.b = decimal.NewFromBigInt(morphoToAssetsUp(v.BorrowShares, v.TotalBorrowAssets, v.TotalBorrowShares), -int32(p.d.Asset.Decimals))
}

func wei(v decimal.Decimal) *big.Int {
	if v.Sign() <= 0 {
		return new(big.Int)
	}
	return v.Shift(18).Truncate(0).BigInt()
}

var oneLessSlack = decimal.NewFromFloat(1 - rateSlack)

// stake is one Supply request: amount of WETH unwrapped, minted, wrapped
// and supplied. The collateral supplied is the underlying wrapped (two
// wei below the ether minted) over the rate, less rateSlack.
func (p *loopPlan) stake(amount decimal.Decimal) error {
	eth := wei(amount)
	st := new(big.Int).Sub(eth, big.NewInt(2))
	if st.Sign() <= 0 {
		return adapters.E("execution.Requests", adapters.KindInvalid, "market %s: amount %s wei too small to stake and wrap", p.d.Market, eth)
	}
	wst := decimal.NewFromBigInt(st, 0).Mul(oneLessSlack).Div(p.rate).Truncate(0).BigInt()
	p.reqs = append(p.reqs, Request{Market: p.d.Market, Op: Supply, Amount: eth, Shares: wst})
	p.c = p.c.Add(decimal.NewFromBigInt(wst, -18).Mul(p.rate))
	return nil
}

// up borrows total more in rounds, each staked and supplied.
func (p *loopPlan) up(total decimal.Decimal) error {
	limit := decimal.NewFromFloat(p.ltv * (1 - borrowSlack))
	rest := total
	dust := decimal.New(1, -12)
	for n := 0; rest.Cmp(dust) > 0; n++ {
		if n == maxLoopRounds {
			return adapters.E("execution.Requests", adapters.KindInvalid, "market %s: borrowing %s takes more than %d rounds", p.d.Market, total, maxLoopRounds)
		}
		room := p.c.Mul(limit).Sub(p.b)
		if room.Cmp(dust) <= 0 {
			return adapters.E("execution.Requests", adapters.KindCapExceeded, "market %s: the position (collateral %s, debt %s) has no room to borrow below an LTV of %g", p.d.Market, p.c.StringFixed(6), p.b.StringFixed(6), p.ltv)
		}
		b := decimal.Min(rest, room)
		p.reqs = append(p.reqs, Request{Market: p.d.Market, Op: Borrow, Amount: wei(b)})
		p.b = p.b.Add(b)
		rest = rest.Sub(b)
		if err := p.stake(b); err != nil {
			return err
		}
	}
	return nil
}

// down sells dC of collateral and repays dB of debt in rounds; q is the
// least the swap returns per unit of collateral (the minimum out). all
// withdraws and repays everything the Pool holds for the vault in the
// last round (type(uint256).max).
func (p *loopPlan) down(dC, dB decimal.Decimal, q float64, all bool) error {
	const op = "execution.Requests"
	qd := decimal.NewFromFloat(q)
	lltv := decimal.NewFromFloat(p.lltv)
	hf := decimal.NewFromFloat(unwindHF)
	dust := decimal.New(1, -12)
	restC, restB := dC, dB
	for n := 0; restC.Cmp(dust) > 0; n++ {
		if n == maxLoopRounds {
			return adapters.E(op, adapters.KindInvalid, "market %s: unwinding takes more than %d rounds", p.d.Market, maxLoopRounds)
		}
		w := restC
		if p.b.Sign() > 0 {
			room := p.c.Sub(p.b.Mul(hf).Div(lltv))
			if room.Cmp(dust) <= 0 {
				return adapters.E(op, adapters.KindInvalid, "market %s: the position (collateral %s, debt %s) is too close to its liquidation threshold %g to withdraw collateral before repaying: unwinding it needs a flash loan, which is not encoded", p.d.Market, p.c.StringFixed(6), p.b.StringFixed(6), p.lltv)
			}
			w = decimal.Min(w, room)
		}
		last := restC.Sub(w).Cmp(dust) <= 0
		wst := decimal.Min(w, p.c).Div(p.rate).Truncate(18)
		wstWei := wei(wst)
		if v := p.venue; v != nil {
			if (all && last) || wstWei.Cmp(v.Collateral) > 0 {
				wstWei = new(big.Int).Set(v.Collateral)
			}
			v.Collateral.Sub(v.Collateral, wstWei)
		}
		// sold is what the exit venue takes (Shares) and value its worth
		// in ether: the unwrapped token (at the rate less rateSlack, two
		// wei less for the share rounding) at par, or the collateral
		// itself at the rate.
		var sold *big.Int
		value := decimal.NewFromBigInt(wstWei, 0).Mul(p.rate)
		if p.rt.sellsUnderlying {
			sold = value.Mul(oneLessSlack).Truncate(0).BigInt()
			sold.Sub(sold, big.NewInt(2))
			value = decimal.NewFromBigInt(sold, 0)
		} else {
			sold = new(big.Int).Set(wstWei)
		}
		if sold.Sign() <= 0 {
			return adapters.E(op, adapters.KindInvalid, "market %s: a round's withdrawal of %s %s is too small to swap", p.d.Market, wst, p.rt.collateralSym)
		}
		min := value.Mul(qd).Truncate(0).BigInt()
		if min.Sign() <= 0 {
			return adapters.E(op, adapters.KindInvalid, "market %s: the swap's minimum out is not positive", p.d.Market)
		}
		r := Request{Market: p.d.Market, Op: Withdraw, Amount: wstWei, Shares: sold, MinOut: min}
		if all && last && restB.Cmp(dust) <= 0 {
			r.All = true // the whole aToken balance; the unwrap and swap take the booked amount
		}
		p.reqs = append(p.reqs, r)
		got := decimal.NewFromBigInt(min, -18)
		p.c = p.c.Sub(w)
		restC = restC.Sub(w)
		if restB.Cmp(dust) > 0 {
			pay := p.repay(decimal.Min(restB, got), all && restB.Cmp(got) <= 0, got)
			restB = restB.Sub(pay)
		}
	}
	if restB.Cmp(dust) > 0 {
		return adapters.E(op, adapters.KindInvalid, "market %s: selling %s of collateral at its minimum out repays %s less than the %s to repay", p.d.Market, dC, restB, dB)
	}
	return nil
}

// repay appends a Repay of pay (in the asset) and returns the debt it
// takes off the plan's. whole repays the whole debt, with the interest
// accrued since the book: the venue takes what is owed, at most what is
// approved (pay and one basis point more, within limit, the ether or
// WETH at hand). On a venue read on chain (Morpho), by shares: a whole
// repayment all those left, another what a basis point less than its
// assets buys (the interest accrued since the reading costs more), and
// the debt falls by what the shares are worth.
func (p *loopPlan) repay(pay decimal.Decimal, whole bool, limit decimal.Decimal) decimal.Decimal {
	rr := Request{Market: p.d.Market, Op: Repay, Amount: wei(pay)}
	if whole {
		rr.Amount = wei(decimal.Min(limit, pay.Mul(decimal.NewFromFloat(1+rateSlack))))
		rr.All = true
	}
	if v := p.venue; v != nil {
		if rr.All {
			rr.Shares = new(big.Int).Set(v.BorrowShares)
		} else {
			rr.Shares = morphoToSharesDown(wei(pay.Mul(oneLessSlack)), v.TotalBorrowAssets, v.TotalBorrowShares)
			pay = decimal.NewFromBigInt(morphoToAssetsUp(rr.Shares, v.TotalBorrowAssets, v.TotalBorrowShares), -int32(p.d.Asset.Decimals))
		}
		v.BorrowShares.Sub(v.BorrowShares, rr.Shares)
	}
	p.reqs = append(p.reqs, rr)
	p.b = p.b.Sub(pay)
	return pay
}

// loop encodes a loop deployment's requests, the lending calls on its
// venue (venueOf: an Aave v3 Pool or a Morpho Blue market) around its
// collateral's route (loopRoute): SetEMode enters the Pool's e-mode
// category EMode (Aave only); Supply mints Amount of WETH's ether into the
// underlying (WETH.withdraw, the route's payable mint, an approval and
// the collateral's wrap of two wei less) and supplies Shares of the
// collateral to the venue; Borrow borrows Amount of WETH (Aave: at the
// variable rate); Withdraw withdraws Amount of the collateral
// (everything with All, where the venue takes a sentinel) and sells
// Shares on the exit venue for at least MinOut (wstETH: unwrapped, its
// stETH sold for ether; weETH: sold for WETH); Repay repays Amount of
// WETH, wrapping ether first where the exit venue paid ether (the whole
// debt with All, at most Amount; Morpho: Shares of the debt when given).
func (e *Encoder) loop(d *Deployment, r Request, add adder, need func() error) error {
	const op = "execution.Encoder.Calls"
	venue, err := venueOf(d, e.Vault)
	if err != nil {
		return err
	}
	rt := loopRoutes[d.Protocol]
	c := map[string]Contract{}
	for _, role := range loopRoles(d.Protocol)[1:] {
		x, err := d.Contract(role)
		if err != nil {
			return err
		}
		c[role] = x
	}
	wethC, coll, under, exit := c["weth"], c[rt.collateral], c[rt.underlying], c["curve"]
	if r.Op == SetEMode {
		ev, ok := venue.(aaveVenue)
		if !ok || r.EMode == 0 {
			return adapters.E(op, adapters.KindInvalid, "market %s: set_emode needs an Aave v3 Pool and a category (leaving e-mode is not a loop's call)", d.Market)
		}
		return add(newCall(aavePoolABI, ev.pool, nil, "setUserEMode", r.EMode))
	}
	if r.Op == ClaimWithdrawal || r.Op == RequestWithdrawal {
		return e.loopQueue(d, rt, venue, coll, wethC, r, add)
	}
	if err := need(); err != nil {
		return err
	}
	positive := func(v *big.Int, what string) error {
		if v == nil || v.Sign() <= 0 {
			return adapters.E(op, adapters.KindInvalid, "market %s: %s needs a positive %s", d.Market, r.Op, what)
		}
		return nil
	}
	switch r.Op {
	case Supply:
		if err := positive(r.Shares, rt.collateralSym+" amount to supply (Shares)"); err != nil {
			return err
		}
		if err := unwrapWETH(d, r.Amount, add); err != nil {
			return err
		}
		if err := add(newCall(rt.mintABI, c[rt.minter], r.Amount, rt.mintMethod, rt.mintArgs...)); err != nil {
			return err
		}
		if err := wrapMinted(d, r.Amount, under, coll, rt.wrapABI, "mint", add); err != nil {
			return err
		}
		if err := add(approve(coll, venue.spender(), r.Shares)); err != nil {
			return err
		}
		return add(venue.supplyCollateral(coll.Address, r.Shares))
	case Borrow:
		return add(venue.borrow(r.Amount))
	case Withdraw:
		if err := positive(r.Shares, "amount to sell (Shares)"); err != nil {
			return err
		}
		if err := positive(r.MinOut, "min out (slippage limit)"); err != nil {
			return err
		}
		if err := add(venue.withdrawCollateral(coll.Address, r.Amount, r.All)); err != nil {
			return err
		}
		sold := coll
		if rt.sellsUnderlying {
			if err := add(newCall(rt.wrapABI, coll, nil, "unwrap", r.Amount)); err != nil {
				return err
			}
			sold = under
		}
		if err := add(approve(sold, exit.Address, r.Shares)); err != nil {
			return err
		}
		return add(newCall(rt.venueABI, exit, nil, "exchange", big.NewInt(rt.from), big.NewInt(rt.to), r.Shares, r.MinOut))
	case Repay:
		if rt.paysEther {
			if err := add(newCall(weth9ABI, wethC, r.Amount, "deposit")); err != nil {
				return err
			}
		}
		if err := add(approve(wethC, venue.spender(), r.Amount)); err != nil {
			return err
		}
		return add(venue.repay(r.Amount, r.Shares, r.All))
	}
	return errOp(d, r)
}

// ChainRates sets each loop book's Rate to the collateral's exchange
// rate read on chain now (wstETH.getStETHByWstETH(1e18),
// weETH.getEETHByWeETH(1e18)): send mode
// encodes the wrap and supply amounts with the rate the transactions
// will meet, not the book's. A Morpho Blue loop's Venue is read too
// (the vault's position and the market's borrow totals), for a whole
// unwind's exact amounts; vaultID names the vault's address.
func (c *Config) ChainRates(ctx context.Context, cl ethereum.ContractCaller, vaultID string, loops map[string]LoopBook) error {
	rd := reader{ctx: ctx, cl: cl, vault: c.Vaults[vaultID]}
	for m, lb := range loops {
		d, err := c.Book.Deployment(m)
		if err != nil || !IsLoop(d.Protocol) {
			continue
		}
		if d.Protocol == MorphoBlueLoop {
			if rd.vault == (common.Address{}) {
				return adapters.E("execution.ChainRates", adapters.KindInvalid, "vault %s has no on-chain address", vaultID)
			}
			blue, err := d.Contract("morpho")
			if err != nil {
				return err
			}
			mp, err := morphoParamsOf(d)
			if err != nil {
				return err
			}
			if lb.Venue, err = readMorpho(rd, blue.Address, mp); err != nil {
				return err
			}
		}
		rt := loopRoutes[d.Protocol]
		coll, err := d.Contract(rt.collateral)
		if err != nil {
			return err
		}
		r, err := rd.uint(lstValueABI, coll.Address, rt.rateMethod, big.NewInt(1e18))
		if err != nil {
			return err
		}
		if r.Sign() <= 0 {
			return adapters.E("execution.ChainRates", adapters.KindOther, "market %s: %s %s reports a zero rate", m, rt.collateralSym, coll.Address.Hex())
		}
		lb.Rate = decimal.NewFromBigInt(r, -18)
		loops[m] = lb
	}
	return nil
}
