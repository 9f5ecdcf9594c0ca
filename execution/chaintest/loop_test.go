package chaintest

import (
	"context"
	"crypto/ecdsa"
	"math/big"
	"testing"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/execution"
	"github.com/yieldvault/yieldvault/fixed"
	"github.com/yieldvault/yieldvault/vault"
)

// txAs sends a call with value from key's account and fails the test if
// it reverts.
func (c *chain) txAs(t *testing.T, key *ecdsa.PrivateKey, to common.Address, value *big.Int, a *artifact, method string, args ...any) {
	t.Helper()
	ctx := context.Background()
	var data []byte
	if a != nil {
		var err error
		if data, err = a.ABI.Pack(method, args...); err != nil {
			t.Fatalf("%s: %v", method, err)
		}
	}
	from := crypto.PubkeyToAddress(key.PublicKey)
	if _, err := c.client.CallContract(ctx, ethereum.CallMsg{From: from, To: &to, Value: value, Data: data}, nil); err != nil {
		t.Fatalf("%s reverts: %v", method, err)
	}
	if rc := c.send(t, from, types.DynamicFeeTx{Gas: 5_000_000, To: &to, Value: value, Data: data}, signWith(key)); rc.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("%s reverted on chain", method)
	}
}

// loopSpec is a loop chain's collateral and its Aave configuration.
type loopSpec struct {
	// weeth deploys ether.fi's contracts and the Curve weETH/WETH pool;
	// otherwise Lido's and the Curve stETH/ETH pool.
	weeth bool
	// ltv and threshold are the collateral reserve's own (basis points,
	// liquidation bonus 1%).
	ltv, threshold int64
	// emode, when set, is an e-mode category (liquidation bonus 1%) at
	// emodeLTV and emodeThreshold holding the collateral and WETH, as
	// Aave's ETH-correlated categories do.
	emode                    uint8
	emodeLTV, emodeThreshold int64
	// weth is the vault's WETH.
	weth string
}

// loopChain is a loop's contracts on a simulated chain: Aave v3 (its
// published artifacts) with the collateral reserve as loopSpec sets it
// and a borrowable WETH reserve a lender supplied 25 WETH to; WETH9, the
// collateral's contracts and venue, and the oracle from
// testdata/LoopMocks.sol: stETH at 1.15 ether a share, wstETH and the
// Curve stETH/ETH pool at 0.999 ether per stETH (holding 35 ether); or
// ether.fi's LiquidityPool at 1.05 ether an eETH share, eETH, weETH and
// the Curve weETH/WETH pool at 0.999 of weETH's rate (holding 35 WETH).
// The vault's account holds weth WETH.
type loopChain struct {
	c                *chain
	weth, curve      common.Address
	minter           common.Address // stETH (Lido's submit) or the LiquidityPool
	under, coll      common.Address // stETH and wstETH, or eETH and weETH
	a                *aaveV3
	aColl, vdWeth    common.Address
	collArt, erc20   artifact
	rateMethod       string // the collateral's rate view (lstValueABI's)
	market           string
	protocol         execution.Protocol
	collSym, underSy string
}

func newLoopChain(t *testing.T, spec loopSpec) *loopChain {
	t.Helper()
	wethArt, oracleArt := loadArtifact(t, "LoopWETH9"), loadArtifact(t, "LoopPriceOracle")
	provArt, confArt := loadArtifact(t, "AavePoolAddressesProvider"), loadArtifact(t, "AavePoolConfigurator")
	poolArt := loadArtifact(t, "AavePool")
	c := newChain(t)
	vaultKey := c.key
	lc := &loopChain{c: c, erc20: loadArtifact(t, "AaveAToken")}
	lc.weth = c.deploy(t, wethArt)
	var rateSel [4]byte
	if spec.weeth {
		lpArt := loadArtifact(t, "LoopEtherFiLiquidityPool")
		lc.collArt = loadArtifact(t, "LoopWeETH")
		lc.minter = c.deploy(t, lpArt, e18("1"), e18("1.05"))
		lc.under = c.address(t, lpArt, lc.minter, "eETH")
		lc.coll = c.deploy(t, lc.collArt, lc.minter)
		lc.curve = c.deploy(t, loadArtifact(t, "LoopCurveWeETHPool"), lc.weth, lc.coll, big.NewInt(9990))
		c.txAs(t, vaultKey, lc.weth, e18("35"), &wethArt, "deposit")
		c.txAs(t, vaultKey, lc.weth, nil, &wethArt, "transfer", lc.curve, e18("35"))
		copy(rateSel[:], lc.collArt.ABI.Methods["getRate"].ID)
		lc.rateMethod, lc.market, lc.protocol, lc.collSym, lc.underSy = "getEETHByWeETH", "aave-v3/weeth-loop", execution.AaveV3LoopWeETH, "weETH", "eETH"
	} else {
		stArt := loadArtifact(t, "LoopStETH")
		lc.collArt = loadArtifact(t, "LoopWstETH")
		lc.minter = c.deploy(t, stArt, e18("1"), e18("1.15"))
		lc.under = lc.minter
		lc.coll = c.deploy(t, lc.collArt, lc.under)
		lc.curve = c.deploy(t, loadArtifact(t, "LoopCurveStETHPool"), lc.under, big.NewInt(9990))
		c.txAs(t, vaultKey, lc.curve, e18("35"), nil, "")
		copy(rateSel[:], lc.collArt.ABI.Methods["stEthPerToken"].ID)
		lc.rateMethod, lc.market, lc.protocol, lc.collSym, lc.underSy = "getStETHByWstETH", "aave-v3/wsteth-loop", execution.AaveV3Loop, "wstETH", "stETH"
	}
	oracle := c.deploy(t, oracleArt, lc.weth, lc.coll, rateSel, big.NewInt(2000e8))

	a := aaveDeploy(t, c)
	lc.a = a
	lc.aColl = a.addReserve(t, c, lc.coll, lc.collSym)
	a.addReserve(t, c, lc.weth, "WETH")
	_, lc.vdWeth = a.reserve(t, c, lc.weth)
	c.transact(t, provArt, a.prov, "setPriceOracle", oracle)
	c.transact(t, confArt, a.conf, "configureReserveAsCollateral", lc.coll, big.NewInt(spec.ltv), big.NewInt(spec.threshold), big.NewInt(10100))
	c.transact(t, confArt, a.conf, "setReserveBorrowing", lc.weth, true)
	if spec.emode > 0 {
		// Aave v3.0's PoolConfigurator: the category, then its assets
		// (a borrower in e-mode may borrow only its category's assets).
		c.transact(t, confArt, a.conf, "setEModeCategory", spec.emode, uint16(spec.emodeLTV), uint16(spec.emodeThreshold), uint16(10100), common.Address{}, lc.collSym+"/ETH")
		c.transact(t, confArt, a.conf, "setAssetEModeCategory", lc.coll, spec.emode)
		c.transact(t, confArt, a.conf, "setAssetEModeCategory", lc.weth, spec.emode)
	}

	// A lender supplies 25 WETH for the loop to borrow.
	lender, _ := crypto.GenerateKey()
	lenderAddr := crypto.PubkeyToAddress(lender.PublicKey)
	c.txAs(t, vaultKey, lenderAddr, e18("27"), nil, "")
	c.txAs(t, lender, lc.weth, e18("25"), &wethArt, "deposit")
	c.txAs(t, lender, lc.weth, nil, &wethArt, "approve", a.pool, e18("25"))
	c.txAs(t, lender, a.pool, nil, &poolArt, "supply", lc.weth, e18("25"), lenderAddr, uint16(0))
	c.txAs(t, vaultKey, lc.weth, e18(spec.weth), &wethArt, "deposit")
	return lc
}

// deployment is the loop's deployment at the chain's addresses, and
// allow the allowlist of every call its orders make.
func (lc *loopChain) deployment() execution.Deployment {
	src := "deployed by the test"
	tokenOf := func(name string, addr common.Address) execution.Token {
		return execution.Token{Contract: execution.Contract{Name: name, Address: addr, Source: src}, Symbol: name, Decimals: 18}
	}
	coll := tokenOf(lc.collSym, lc.coll)
	d := execution.Deployment{Market: lc.market, Protocol: lc.protocol, Asset: tokenOf("WETH", lc.weth), Position: &coll,
		Contracts: map[string]execution.Contract{
			"pool":  {Name: "Aave v3 Pool", Address: lc.a.pool, Source: "deployed by the test from @aave/core-v3"},
			"weth":  {Name: "WETH", Address: lc.weth, Source: src},
			"curve": {Name: "Curve " + lc.collSym + " pool", Address: lc.curve, Source: src},
		}}
	if lc.protocol == execution.AaveV3LoopWeETH {
		d.Contracts["liquidity_pool"] = execution.Contract{Name: "ether.fi LiquidityPool", Address: lc.minter, Source: src}
		d.Contracts["eeth"] = execution.Contract{Name: "eETH", Address: lc.under, Source: src}
		d.Contracts["weeth"] = execution.Contract{Name: "weETH", Address: lc.coll, Source: src}
	} else {
		d.Contracts["lido"] = execution.Contract{Name: "stETH", Address: lc.under, Source: src}
		d.Contracts["wsteth"] = execution.Contract{Name: "wstETH", Address: lc.coll, Source: src}
	}
	return d
}

// allowed are the (contract, functions) pairs the loop's calls make.
func (lc *loopChain) allowed() map[common.Address][]string {
	out := map[common.Address][]string{
		lc.a.pool: {"supply", "borrow", "withdraw", "repay", "setUserEMode"},
		lc.curve:  {"exchange"},
	}
	if lc.protocol == execution.AaveV3LoopWeETH {
		// The venue takes weETH and pays WETH: no unwrap, no wrap of ether.
		out[lc.weth] = []string{"approve", "withdraw"}
		out[lc.coll] = []string{"approve", "wrap"}
		out[lc.minter] = []string{"deposit"}
		out[lc.under] = []string{"approve"}
	} else {
		out[lc.weth] = []string{"approve", "withdraw", "deposit"}
		out[lc.coll] = []string{"approve", "wrap", "unwrap"}
		out[lc.under] = []string{"approve", "submit"}
	}
	return out
}

// collateral and debt are the loop's on chain: the aToken balance at the
// collateral's rate, and the variable debt of WETH.
func (lc *loopChain) collateral(t *testing.T, who common.Address) decimal.Decimal {
	t.Helper()
	return decimal.NewFromBigInt(lc.c.uint(t, lc.collArt, lc.coll, lc.rateMethod, lc.c.uint(t, lc.erc20, lc.aColl, "balanceOf", who)), -18)
}

func (lc *loopChain) debt(t *testing.T, who common.Address) decimal.Decimal {
	t.Helper()
	return decimal.NewFromBigInt(lc.c.uint(t, lc.erc20, lc.vdWeth, "balanceOf", who), -18)
}

// TestSend_AaveV3WstETHLoop opens a 2x wstETH loop on Aave v3's own Pool
// (deployed from @aave/core-v3's published artifacts, wstETH as
// collateral at an LTV of 90% and a liquidation threshold of 93%, WETH
// borrowable) in send mode, through the executor's calls, relevers it to
// 3 and to 1.5, then unwinds it whole (testSendLoop). WETH9, Lido's stETH
// and wstETH, the Curve stETH/ETH pool (a fixed price of 0.999 ether per
// stETH) and the price oracle are the small contracts of
// testdata/LoopMocks.sol with the mainnet contracts' ABIs; no npm package
// ships them compiled. stETH's rate is 1.15 ether per share. The unwind
// sells the stETH unwrapped (the collateral at the rate less the basis
// point of unwrap slack) at 0.999.
func TestSend_AaveV3WstETHLoop(t *testing.T) {
	lc := newLoopChain(t, loopSpec{ltv: 9000, threshold: 9300, weth: "10"})
	testSendLoop(t, lc, execution.LoopBook{LTV: 0.9, LLTV: 0.93, Peg: 1}, "1.15", decimal.RequireFromString("0.9999").Mul(decimal.RequireFromString("0.999")))
}

// TestSend_AaveV3WeETHLoop is the same on the weETH loop: ether.fi's
// LiquidityPool (1.05 ether per eETH share), eETH and weETH, and the
// Curve weETH/WETH pool (a fixed 0.999 of weETH's rate, paid in WETH)
// from testdata/LoopMocks.sol, weETH a collateral whose own reserve lends
// only up to 72.5% (threshold 75%) and whose e-mode category 7 (weETH/ETH,
// with WETH) lends up to 93% (threshold 95%), the figures of Aave's
// 2025-03-18 AIP (the profile's). The book is in category 7: the open
// enters it first (Pool.setUserEMode(7), read back by getUserEMode), and
// the 3x relever borrows past the reserve's own 72.5%, which only the
// e-mode allows. The unwind sells weETH itself, at 0.999 of its rate.
func TestSend_AaveV3WeETHLoop(t *testing.T) {
	lc := newLoopChain(t, loopSpec{weeth: true, ltv: 7250, threshold: 7500, emode: 7, emodeLTV: 9300, emodeThreshold: 9500, weth: "10"})
	testSendLoop(t, lc, execution.LoopBook{LTV: 0.93, LLTV: 0.95, Peg: 1, EMode: 7}, "1.05", decimal.RequireFromString("0.999"))
	if got := lc.c.uint(t, loadArtifact(t, "AavePool"), lc.a.pool, "getUserEMode", lc.c.signer.Address()); got.Cmp(big.NewInt(7)) != 0 {
		t.Errorf("the vault's e-mode category on chain %s, want 7", got)
	}
}

// testSendLoop opens a 2x loop with 10 WETH in send mode on lc, checks it
// on chain, relevers it to 3 and to 1.5, and unwinds it whole; lb is the
// loop's book before the open (its LTV, threshold and e-mode), rate the
// collateral's rate the chain reports, and sold what the unwind's venue
// pays per unit of collateral at its rate.
//
// After the open, read on chain: the aToken balance is exactly the
// collateral the requests supplied, and the variable debt of WETH the
// WETH they borrowed (with the interest of the seconds between, below a
// millionth); valued at the rate, the collateral is 20 ether less the
// basis point of wrap slack and the debt 10, as the book of a 2x loop
// opened with 10 has them; reconciliation finds no difference with a
// book holding 10 of equity and both differences with a book 1 too high
// in each. Relevered to 3 and then to 1.5, the leverage read back is the
// target. After the unwind, no aToken and no debt, and the WETH received
// net of the repayment is the venue's price of the collateral sold less
// the debt.
func testSendLoop(t *testing.T, lc *loopChain, lb execution.LoopBook, rate string, sold decimal.Decimal) {
	t.Helper()
	c, aColl, vdWeth, erc20 := lc.c, lc.aColl, lc.vdWeth, lc.erc20
	ctx := context.Background()
	me := c.signer.Address()
	market := lc.market
	book := execution.NewBook()
	if err := book.Add(lc.deployment()); err != nil {
		t.Fatal(err)
	}
	allow := execution.NewAllowlist()
	for addr, fns := range lc.allowed() {
		allow.Allow(addr, fns...)
	}
	cfg := &execution.Config{Mode: execution.ModeSend, ChainID: 1337, Vaults: map[string]common.Address{"v": me}, Allow: allow, Book: book}
	s := &execution.Sender{Client: c.client, Signer: c.signer, Journal: newJournal(t, ""), Poll: 10 * time.Millisecond}
	at := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

	loops := map[string]execution.LoopBook{market: lb}
	if err := cfg.ChainRates(ctx, c.client, "v", loops); err != nil {
		t.Fatal(err)
	}
	if r := loops[market].Rate; !r.Equal(decimal.RequireFromString(rate)) {
		t.Fatalf("rate read on chain %s, want %s", r, rate)
	}
	supplied, borrowed := sendOpen(t, cfg, s, loops, market, at)
	if got := c.uint(t, erc20, aColl, "balanceOf", me); got.Cmp(supplied) != 0 {
		t.Errorf("aToken of %s %s, want the %s supplied", lc.collSym, got, supplied)
	}
	debt := c.uint(t, erc20, vdWeth, "balanceOf", me)
	if debt.Cmp(borrowed) < 0 || new(big.Int).Sub(debt, borrowed).Cmp(new(big.Int).Div(borrowed, big.NewInt(1e6))) > 0 {
		t.Errorf("variable debt of WETH %s, want the %s borrowed (and under a millionth of interest)", debt, borrowed)
	}
	coll := lc.collateral(t, me)
	if lo, hi := decimal.RequireFromString("19.997"), decimal.NewFromInt(20); coll.Cmp(lo) < 0 || coll.Cmp(hi) > 0 {
		t.Errorf("collateral %s ether at the rate, want 20 less the wrap slack (at least %s)", coll, lo)
	}
	checkReconcileLoop(t, cfg, c.client, loops, market, nil)

	// readBack sets the loop's book from the chain (collateral at the
	// rate, debt) and returns the leverage.
	readBack := func() float64 {
		lb := loops[market]
		lb.Collateral, lb.Debt = lc.collateral(t, me), lc.debt(t, me)
		loops[market] = lb
		return lb.Collateral.Div(lb.Collateral.Sub(lb.Debt)).InexactFloat64()
	}
	sendRelevers(t, cfg, s, loops, market, at, readBack)

	// Unwind it all: the book is read back from the chain.
	lbk := loops[market]
	coll = lbk.Collateral
	sell := vault.Decision{Time: at, Orders: []vault.Order{{Market: market, Side: vault.Sell, All: true, Amount: fixed.FromDec(coll.Sub(lbk.Debt)), EstCost: fixed.RequireFromString("0.05"), Mode: adapters.ExitInstant}}}
	calls, err := cfg.PlanLoops("v", sell, 0.01, loops)
	if err != nil {
		t.Fatal(err)
	}
	sent, err := s.Send(ctx, "v/rebalance/2", calls)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.uint(t, erc20, aColl, "balanceOf", me); got.Sign() != 0 {
		t.Errorf("aToken of %s %s after the unwind, want 0", lc.collSym, got)
	}
	if got := c.uint(t, erc20, vdWeth, "balanceOf", me); got.Sign() != 0 {
		t.Errorf("variable debt %s after the unwind, want 0", got)
	}
	fills, err := cfg.Fills(me, sell, sent)
	if err != nil {
		t.Fatal(err)
	}
	// Out: the venue's price of the collateral sold less the debt repaid.
	out := decimal.NewFromBigInt(new(big.Int).Sub(fills[0].Received, fills[0].Spent), -18)
	want := coll.Mul(sold).Sub(lbk.Debt)
	if out.Sub(want).Abs().Cmp(decimal.RequireFromString("0.0001")) > 0 {
		t.Errorf("unwind received %s ether net of the repayment, want %s", out, want)
	}
}

// sendOpen opens a 2x loop of 10 WETH of equity on market in send mode
// (intent v/rebalance/1) and checks its fill: the 10 WETH spent, ether
// minted less WETH borrowed; and that the rounds borrowed 10 WETH less a
// wei a round at most (each round's borrow is truncated to a wei). It
// returns the collateral the requests supplied (wei of the collateral
// token) and the WETH they borrowed.
func sendOpen(t *testing.T, cfg *execution.Config, s *execution.Sender, loops map[string]execution.LoopBook, market string, at time.Time) (supplied, borrowed *big.Int) {
	t.Helper()
	open := vault.Decision{Time: at, Orders: []vault.Order{{Market: market, Side: vault.Buy, Amount: fixed.RequireFromString("10"), Leverage: 2}}}
	dep, err := cfg.Book.Deployment(market)
	if err != nil {
		t.Fatal(err)
	}
	reqs, err := execution.LoopRequests(dep, open.Orders[0], 0.01, ptr(loops[market]))
	if err != nil {
		t.Fatal(err)
	}
	supplied, borrowed = new(big.Int), new(big.Int)
	for _, r := range reqs {
		switch r.Op {
		case execution.Supply:
			supplied.Add(supplied, r.Shares)
		case execution.Borrow:
			borrowed.Add(borrowed, r.Amount)
		}
	}
	calls, err := cfg.PlanLoops("v", open, 0.01, loops)
	if err != nil {
		t.Fatal(err)
	}
	sent, err := s.Send(context.Background(), "v/rebalance/1", calls)
	if err != nil {
		t.Fatal(err)
	}
	fills, err := cfg.Fills(cfg.Vaults["v"], open, sent)
	if err != nil {
		t.Fatal(err)
	}
	if len(fills) != 1 || new(big.Int).Sub(fills[0].Spent, fills[0].Received).Cmp(e18("10")) != 0 {
		t.Errorf("fills %+v: want the 10 WETH of equity spent (ether minted less WETH borrowed)", fills)
	}
	if d := new(big.Int).Sub(e18("10"), borrowed); d.Sign() < 0 || d.Cmp(big.NewInt(int64(len(reqs)))) > 0 {
		t.Errorf("borrowed %s, want 10 WETH ((2 - 1) x 10) less a wei a round at most", borrowed)
	}
	return supplied, borrowed
}

// sendRelevers relevers the loop on market up to 3 (borrow rounds at
// constant equity), then down to 1.5 (withdraw, swap at the minimum out,
// repay what it guarantees), in send mode (intents v/relever/1 and 2);
// after each, readBack sets the loop's book from the chain and returns
// the leverage, which must be the target's. Down, the swap pays 0.999
// of the value, above the minimum of 0.99 the calls repay with, so the
// equity grows and the leverage lands a little under 1.5.
func sendRelevers(t *testing.T, cfg *execution.Config, s *execution.Sender, loops map[string]execution.LoopBook, market string, at time.Time, readBack func() float64) {
	t.Helper()
	readBack()
	for i, want := range []float64{3, 1.5} {
		d := vault.Decision{Time: at, Orders: []vault.Order{{Market: market, Side: vault.Relever, Leverage: want}}}
		calls, err := cfg.PlanLoops("v", d, 0.01, loops)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Send(context.Background(), "v/relever/"+string(rune('1'+i)), calls); err != nil {
			t.Fatal(err)
		}
		if got := readBack(); got > want*1.001 || got < want*0.995 {
			t.Errorf("relever to %g: leverage on chain %g", want, got)
		}
	}
}

// checkReconcileLoop reconciles the loop on market against the book of a
// 2x loop opened with 10, collateral 20 and debt 10: no difference, the
// chain's collateral the book's to a few wei (it counts the wrap slack
// left at the vault's address), and check, when given, holds for each of
// that reconciliation's holdings; then against a book whose collateral
// and debt are both 1 too high, which has the same equity and is caught
// by the two lines of its own.
func checkReconcileLoop(t *testing.T, cfg *execution.Config, client execution.Client, loops map[string]execution.LoopBook, market string, check func(h execution.Holding)) {
	t.Helper()
	reconcile := func(c, b int64) []execution.Holding {
		t.Helper()
		lbk := loops[market]
		lbk.Collateral, lbk.Debt = decimal.NewFromInt(c), decimal.NewFromInt(b)
		rec, err := cfg.ReconcileLoops(context.Background(), client, "v", decimal.Zero, []string{market}, []decimal.Decimal{decimal.NewFromInt(c - b)}, decimal.Zero, map[string]execution.LoopBook{market: lbk})
		if err != nil {
			t.Fatal(err)
		}
		if len(rec.Holdings) != 4 {
			t.Errorf("holdings %+v: want idle, the loop, its collateral and its debt", rec.Holdings)
		}
		for _, h := range rec.Holdings {
			t.Logf("%s: book %s chain %s (%s)", h.Market, h.Book, h.Chain, h.Read)
			if c != 20 {
				continue
			}
			if h.Market == market+" collateral" && h.Diff().Abs().Cmp(decimal.New(1, -15)) > 0 {
				t.Errorf("collateral on chain %s, want the book's 20 to a few wei (the slack is counted where it stays)", h.Chain)
			}
			if check != nil {
				check(h)
			}
		}
		return rec.Differences()
	}
	if d := reconcile(20, 10); len(d) != 0 {
		t.Errorf("reconciliation after the open: %s", execution.Describe(d))
	}
	if d := reconcile(21, 11); len(d) != 2 || d[0].Market != market+" collateral" || d[1].Market != market+" debt" {
		t.Errorf("a book 1 too high in collateral and debt: differences %s, want the collateral and the debt", execution.Describe(d))
	}
}

func ptr[T any](v T) *T { return &v }
