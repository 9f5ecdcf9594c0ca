package chaintest

import (
	"context"
	"math/big"
	"testing"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/lending"
	"github.com/yieldvault/yieldvault/execution"
	"github.com/yieldvault/yieldvault/fixed"
	"github.com/yieldvault/yieldvault/vault"
)

// wqStatus is WithdrawalQueue's WithdrawalRequestStatus.
type wqStatus struct {
	AmountOfStETH, AmountOfShares *big.Int
	Owner                         common.Address
	Timestamp                     *big.Int
	IsFinalized, IsClaimed        bool
}

// TestSend_AaveV3WstETHLoopQueue opens a 3x wstETH loop with 5 WETH on
// Aave v3's own Pool (LTV 90%, threshold 93%, as TestSend_AaveV3WstETHLoop)
// in send mode and unwinds it whole through Lido's withdrawal queue, as
// the model does (adapters/lending/loopqueue.go). The queue is
// testdata/LoopMocks.sol's LoopWithdrawalQueue, Lido's
// WithdrawalQueueERC721 ABI with the logic the unwind meets (the wstETH
// pulled and unwrapped, the request's bounds, its owner, finalization by
// checkpoint, claims by the owner with a hint; no discount); no package
// ships it compiled. Its finalization stands in for Lido's oracle report:
// an account of the test pays the requests' ether.
//
// Each round, read on chain: the requests the fills name are the vault's
// and unfinalized, and hold the stETH of the wstETH withdrawn at the
// rate; while debt is left, the debt is at the LTV of the collateral
// left; reconciliation with a book holding the round's collateral, debt
// and the requests' stETH is clean, and one without the requests differs
// on the loop. Finalized, the claim (ReadLoopClaim's ids, hints and
// ether) pays the requests' stETH, repays debt and requests the next
// round. At the end no aToken, no debt and no request is left, the WETH
// gained is the equity the unwind began with (the queue pays the rate,
// less the interest of the seconds between), the rounds are the model's
// (lending.QueueRounds), and reconciliation with the book holding it idle
// is clean.
func TestSend_AaveV3WstETHLoopQueue(t *testing.T) {
	lc := newLoopChain(t, loopSpec{ltv: 9000, threshold: 9300, weth: "5"})
	book := execution.NewBook()
	if err := book.Add(lc.deployment()); err != nil {
		t.Fatal(err)
	}
	allow := execution.NewAllowlist()
	for addr, fns := range lc.allowed() {
		allow.Allow(addr, fns...)
	}
	me := lc.c.signer.Address()
	testLoopQueue(t, queueRig{c: lc.c, market: lc.market, wst: lc.coll, weth: lc.weth, ltv: 0.9, lltv: 0.93,
		cfg:        &execution.Config{Mode: execution.ModeSend, ChainID: 1337, Vaults: map[string]common.Address{"v": me}, Allow: allow, Book: book},
		collateral: func() decimal.Decimal { return lc.collateral(t, me) },
		debt:       func() decimal.Decimal { return lc.debt(t, me) },
	})
}

// TestSend_MorphoWstETHLoopQueue is the same on the Morpho Blue loop
// (morphoLoopChain: Morpho Blue with its ABI, testdata/MorphoMocks.sol,
// at an LLTV of 94.5%, which is also its LTV): each round withdraws
// collateral (withdrawCollateral, its units exact in the last round) to
// 0.1% inside the LLTV, the borrow rounds' margin, and the whole debt is
// repaid by its borrow shares read on chain.
func TestSend_MorphoWstETHLoopQueue(t *testing.T) {
	mc := newMorphoLoopChain(t, "5")
	cfg := morphoLoopConfig(t, mc, execution.ModeSend)
	me := mc.c.signer.Address()
	testLoopQueue(t, queueRig{c: mc.c, market: "morpho/wsteth-weth-loop", wst: mc.wst, weth: mc.weth, ltv: 0.945, lltv: 0.945, cfg: cfg,
		collateral: func() decimal.Decimal {
			coll, _, _ := mc.position(t, me)
			return decimal.NewFromBigInt(mc.c.uint(t, mc.wstArt, mc.wst, "getStETHByWstETH", coll), -18)
		},
		debt: func() decimal.Decimal {
			_, debt, _ := mc.position(t, me)
			return decimal.NewFromBigInt(debt, -18)
		},
	})
}

// queueRig is a wstETH loop on a simulated chain for testLoopQueue: its
// send-mode configuration (the queue is added), its market, wstETH and
// WETH, the book's LTV and threshold, and its collateral (at the rate)
// and debt read on chain.
type queueRig struct {
	c                *chain
	market           string
	wst, weth        common.Address
	ltv, lltv        float64
	cfg              *execution.Config
	collateral, debt func() decimal.Decimal
}

// testLoopQueue opens a 3x loop with 5 WETH on r and unwinds it whole
// through a LoopWithdrawalQueue (TestSend_AaveV3WstETHLoopQueue says
// what is checked).
func testLoopQueue(t *testing.T, r queueRig) {
	c, market, cfg := r.c, r.market, r.cfg
	ctx := context.Background()
	me := c.signer.Address()
	qArt, wethArt := loadArtifact(t, "LoopWithdrawalQueue"), loadArtifact(t, "LoopWETH9")
	q := c.deploy(t, qArt, r.wst)
	dep, err := cfg.Book.Deployment(market)
	if err != nil {
		t.Fatal(err)
	}
	dep.Contracts["queue"] = execution.Contract{Name: "Lido WithdrawalQueueERC721", Address: q, Source: "deployed by the test (testdata/LoopMocks.sol)"}
	cfg.Allow.Allow(q, "requestWithdrawalsWstETH", "claimWithdrawals")
	s := &execution.Sender{Client: c.client, Signer: c.signer, Journal: newJournal(t, ""), Poll: 10 * time.Millisecond}
	at := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	rate := decimal.RequireFromString("1.15")

	// read is the loop's book from the chain: collateral at the rate and
	// debt, the rate read by ChainRates.
	read := func() execution.LoopBook {
		t.Helper()
		lb := execution.LoopBook{LTV: r.ltv, LLTV: r.lltv, Peg: 1, Collateral: r.collateral(), Debt: r.debt()}
		loops := map[string]execution.LoopBook{market: lb}
		if err := cfg.ChainRates(ctx, c.client, "v", loops); err != nil {
			t.Fatal(err)
		}
		return loops[market]
	}
	wethOf := func() decimal.Decimal {
		return decimal.NewFromBigInt(c.uint(t, wethArt, r.weth, "balanceOf", me), -18)
	}
	statuses := func(ids []*big.Int) []wqStatus {
		t.Helper()
		data, err := qArt.ABI.Pack("getWithdrawalStatus", ids)
		if err != nil {
			t.Fatal(err)
		}
		out, err := c.client.CallContract(ctx, ethereum.CallMsg{To: &q, Data: data}, nil)
		if err != nil {
			t.Fatal(err)
		}
		vals, err := qArt.ABI.Unpack("getWithdrawalStatus", out)
		if err != nil {
			t.Fatal(err)
		}
		return *abi.ConvertType(vals[0], new([]wqStatus)).(*[]wqStatus)
	}
	reconcile := func(idle, coll, debt, queued decimal.Decimal) []execution.Holding {
		t.Helper()
		lb := read()
		lb.Collateral, lb.Debt = coll, debt
		rec, err := cfg.ReconcileLoops(ctx, c.client, "v", idle, []string{market}, []decimal.Decimal{coll.Sub(debt).Add(queued)}, decimal.Zero, map[string]execution.LoopBook{market: lb})
		if err != nil {
			t.Fatal(err)
		}
		return rec.Differences()
	}

	open := vault.Decision{Time: at, Orders: []vault.Order{{Market: market, Side: vault.Buy, Amount: fixed.RequireFromString("5"), Leverage: 3}}}
	calls, err := cfg.PlanLoops("v", open, 0.01, map[string]execution.LoopBook{market: read()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Send(ctx, "v/rebalance/1", calls); err != nil {
		t.Fatal(err)
	}
	lb := read()
	if lev := lb.Collateral.Div(lb.Collateral.Sub(lb.Debt)).InexactFloat64(); lev < 2.99 || lev > 3.001 {
		t.Fatalf("leverage after the open %g, want 3", lev)
	}
	idle0 := wethOf()
	equity := lb.Collateral.Sub(lb.Debt)
	coll0, debt0 := lb.Collateral.InexactFloat64(), lb.Debt.InexactFloat64()

	// Round 1: the queued sell of the whole position.
	sell := vault.Decision{Time: at, Orders: []vault.Order{{Market: market, Side: vault.Sell, All: true, Amount: fixed.FromDec(equity), Mode: adapters.ExitQueue}}}
	calls, err = cfg.PlanLoops("v", sell, 0.01, map[string]execution.LoopBook{market: lb})
	if err != nil {
		t.Fatal(err)
	}
	sent, err := s.Send(ctx, "v/exit/1", calls)
	if err != nil {
		t.Fatal(err)
	}
	fills, err := cfg.Fills(me, sell, sent)
	if err != nil {
		t.Fatal(err)
	}
	claimDecision := vault.Decision{Time: at, Orders: []vault.Order{{Market: market, Side: vault.Sell, Mode: adapters.ExitQueue}}}
	oracle, oracleKey := c.newUser(t)
	rounds := 1
	before := lb
	for n := 1; ; n++ {
		if n > 10 {
			t.Fatal("more than 10 rounds")
		}
		ids := fills[0].RequestIDs
		if len(ids) == 0 {
			t.Fatalf("round %d: the fills name no withdrawal request", rounds)
		}
		now := read()
		withdrawn := before.Collateral.Sub(now.Collateral)
		queued := decimal.Zero
		for i, st := range statuses(ids) {
			if st.Owner != me || st.IsFinalized || st.IsClaimed {
				t.Errorf("round %d: request %s owner %s finalized %v claimed %v, want the vault's, waiting", rounds, ids[i], st.Owner.Hex(), st.IsFinalized, st.IsClaimed)
			}
			queued = queued.Add(decimal.NewFromBigInt(st.AmountOfStETH, -18))
		}
		// The queue holds the stETH of the wstETH withdrawn (its unwrap at
		// the rate), fills' Queued the wstETH sent to it.
		if want := decimal.NewFromBigInt(fills[0].Queued, -18).Mul(rate); queued.Sub(want).Abs().Cmp(decimal.New(1, -15)) > 0 {
			t.Errorf("round %d: the requests hold %s stETH, want the %s wstETH queued at 1.15 (%s)", rounds, queued, decimal.NewFromBigInt(fills[0].Queued, -18), want)
		}
		if queued.Sub(withdrawn).Abs().Cmp(decimal.New(1, -12)) > 0 {
			t.Errorf("round %d: the requests hold %s stETH, want the collateral withdrawn %s", rounds, queued, withdrawn)
		}
		if now.Debt.Sign() > 0 {
			// At the LTV less the borrow rounds' 0.1% (above it by the
			// interest accrued since the book was read).
			want := r.ltv * 0.999
			if got := now.Debt.Div(now.Collateral).InexactFloat64(); got > want*(1+1e-6) || got < want*(1-1e-3) {
				t.Errorf("round %d: debt / collateral %g on chain, want %g", rounds, got, want)
			}
		}
		if d := reconcile(wethOf(), now.Collateral, now.Debt, queued); len(d) != 0 {
			t.Errorf("round %d: reconciliation with the requests in the book: %s", rounds, execution.Describe(d))
		}
		if n == 1 {
			d := reconcile(wethOf(), now.Collateral, now.Debt, decimal.Zero)
			// The loop differs by the requests' stETH and the wrap slack the
			// open left at the vault's address (a basis point of the
			// collateral supplied, counted on chain only; two allowed).
			slack := lb.Collateral.Mul(decimal.New(2, -4))
			if len(d) == 0 || d[0].Market != market || d[0].Diff().Sub(queued).Abs().Cmp(slack) > 0 {
				t.Errorf("round 1: a book without the requests: differences %s, want the loop's by the requests' %s", execution.Describe(d), queued)
			}
		}
		// Not finalized: nothing to claim.
		cl, err := cfg.ReadLoopClaim(ctx, c.client, "v", market, ids)
		if err != nil {
			t.Fatal(err)
		}
		if len(cl.IDs) != 0 || len(cl.Pending) != len(ids) {
			t.Errorf("round %d before finalization: claim %v pending %v, want none and %v", rounds, cl.IDs, cl.Pending, ids)
		}
		// The oracle's report finalizes them with their ether.
		eth := queued.Shift(18).BigInt()
		c.sendRaw(t, c.key, oracle, new(big.Int).Add(eth, e18("0.1")), nil) // and its gas
		last := ids[len(ids)-1]
		c.txAs(t, oracleKey, q, eth, &qArt, "finalize", last, big.NewInt(0))
		if cl, err = cfg.ReadLoopClaim(ctx, c.client, "v", market, ids); err != nil {
			t.Fatal(err)
		}
		if len(cl.IDs) != len(ids) || len(cl.Pending) != 0 || cl.Ether.Cmp(eth) != 0 {
			t.Fatalf("round %d finalized: claim %v (%s wei) pending %v, want %v paying %s", rounds, cl.IDs, cl.Ether, cl.Pending, ids, eth)
		}
		// The claim: repay, wrap the rest, request the next round.
		cur := read()
		idleBefore := wethOf()
		t0 := c.headTime(t)
		calls, err := cfg.PlanLoopClaim("v", market, cur, cl, cur.Debt, cur.Collateral, true)
		if err != nil {
			t.Fatal(err)
		}
		sent, err := s.Send(ctx, "v/claim/"+last.String(), calls)
		if err != nil {
			t.Fatal(err)
		}
		if fills, err = cfg.Fills(me, claimDecision, sent); err != nil {
			t.Fatal(err)
		}
		if fills[0].Claimed.Cmp(eth) != 0 {
			t.Errorf("round %d: the fills' claimed ether %s, want %s", rounds, fills[0].Claimed, eth)
		}
		for _, st := range statuses(ids) {
			if !st.IsClaimed {
				t.Errorf("round %d: a request is not claimed after the claim", rounds)
			}
		}
		after := read()
		repaid := cur.Debt.Sub(after.Debt)
		// The ether claimed is the debt repaid and the WETH gained, to
		// the interest accrued between the reading and the repayment: at
		// most 20% a year (Morpho's IRM charges 10%, Aave's reserve less)
		// over the chain's seconds between, and a wei.
		gained := wethOf().Sub(idleBefore)
		bound := cur.Debt.Mul(decimal.NewFromFloat(0.2 * float64(c.headTime(t)-t0+1) / (365 * 24 * 3600))).Add(decimal.New(1, -18))
		if diff := queued.Sub(repaid).Sub(gained).Abs(); diff.Cmp(bound) > 0 {
			t.Errorf("round %d: claimed %s, repaid %s and gained %s WETH (off by %s, above the interest's bound %s)", rounds, queued, repaid, gained, diff, bound)
		}
		if len(fills[0].RequestIDs) == 0 {
			break
		}
		rounds++
		before = cur
	}
	if got := r.collateral(); got.Sign() != 0 {
		t.Errorf("collateral %s after the unwind, want 0", got)
	}
	if got := r.debt(); got.Sign() != 0 {
		t.Errorf("debt %s after the unwind, want 0", got)
	}
	data, _ := qArt.ABI.Pack("getWithdrawalRequests", me)
	out, err := c.client.CallContract(ctx, ethereum.CallMsg{To: &q, Data: data}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if vals, err := qArt.ABI.Unpack("getWithdrawalRequests", out); err != nil || len(vals[0].([]*big.Int)) != 0 {
		t.Errorf("requests left %v (%v), want none", vals, err)
	}
	gained := wethOf().Sub(idle0)
	if gained.Sub(equity).Abs().Cmp(decimal.New(1, -4)) > 0 {
		t.Errorf("WETH gained %s, want the equity %s", gained, equity)
	}
	if want := lending.QueueRounds(coll0, debt0, r.ltv); rounds != want {
		t.Errorf("%d rounds, want the model's %d", rounds, want)
	}
	if d := reconcile(wethOf(), decimal.Zero, decimal.Zero, decimal.Zero); len(d) != 0 {
		t.Errorf("reconciliation after the unwind: %s", execution.Describe(d))
	}
}

// headTime is the latest block's timestamp.
func (c *chain) headTime(t *testing.T) uint64 {
	t.Helper()
	h, err := c.client.HeaderByNumber(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return h.Time
}
