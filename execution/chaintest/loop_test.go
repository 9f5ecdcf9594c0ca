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
	id, _ := c.client.ChainID(ctx)
	nonce, err := c.client.PendingNonceAt(ctx, from)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := types.SignTx(types.NewTx(&types.DynamicFeeTx{ChainID: id, Nonce: nonce, GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(10e9), Gas: 5_000_000, To: &to, Value: value, Data: data}), types.LatestSignerForChainID(id), key)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.client.SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if rc := c.wait(t, tx.Hash()); rc.Status != types.ReceiptStatusSuccessful {
		t.Fatalf("%s reverted on chain", method)
	}
}

// loopChain is the wstETH loop's contracts on a simulated chain: Aave v3
// (its published artifacts) with a wstETH reserve as collateral at ltv
// and threshold (basis points, liquidation bonus 1%) and a borrowable
// WETH reserve a lender supplied 25 WETH to; WETH9, stETH at 1.15 ether a
// share, wstETH, the Curve pool at 0.999 ether per stETH (holding 35
// ether) and the oracle from testdata/LoopMocks.sol. The vault's account
// holds weth WETH.
type loopChain struct {
	c                       *chain
	weth, steth, wst, curve common.Address
	a                       *aaveV3
	aWst, vdWeth            common.Address
	wstArt, erc20           artifact
}

func newLoopChain(t *testing.T, ltv, threshold int64, weth string) *loopChain {
	t.Helper()
	wethArt, stArt, wstArt := loadArtifact(t, "LoopWETH9"), loadArtifact(t, "LoopStETH"), loadArtifact(t, "LoopWstETH")
	curveArt, oracleArt := loadArtifact(t, "LoopCurveStETHPool"), loadArtifact(t, "LoopPriceOracle")
	provArt, confArt := loadArtifact(t, "AavePoolAddressesProvider"), loadArtifact(t, "AavePoolConfigurator")
	poolArt := loadArtifact(t, "AavePool")
	c := newChain(t)
	vaultKey, err := crypto.HexToECDSA("8a1f9a8f95be41cd7ccb6168179afb4504aefe388d1e14474d32c45c72ce7b7a")
	if err != nil {
		t.Fatal(err)
	}
	lc := &loopChain{c: c, wstArt: wstArt, erc20: loadArtifact(t, "AaveAToken")}
	lc.weth = c.deploy(t, wethArt)
	lc.steth = c.deploy(t, stArt, e18("1"), e18("1.15"))
	lc.wst = c.deploy(t, wstArt, lc.steth)
	lc.curve = c.deploy(t, curveArt, lc.steth, big.NewInt(9990))
	c.txAs(t, vaultKey, lc.curve, e18("35"), nil, "")
	oracle := c.deploy(t, oracleArt, lc.weth, lc.wst, big.NewInt(2000e8))

	a := aaveDeploy(t, c)
	lc.a = a
	lc.aWst = a.addReserve(t, c, lc.wst, "wstETH")
	a.addReserve(t, c, lc.weth, "WETH")
	_, lc.vdWeth = a.reserve(t, c, lc.weth)
	c.transact(t, provArt, a.prov, "setPriceOracle", oracle)
	c.transact(t, confArt, a.conf, "configureReserveAsCollateral", lc.wst, big.NewInt(ltv), big.NewInt(threshold), big.NewInt(10100))
	c.transact(t, confArt, a.conf, "setReserveBorrowing", lc.weth, true)

	// A lender supplies 25 WETH for the loop to borrow.
	lender, _ := crypto.GenerateKey()
	lenderAddr := crypto.PubkeyToAddress(lender.PublicKey)
	c.txAs(t, vaultKey, lenderAddr, e18("27"), nil, "")
	c.txAs(t, lender, lc.weth, e18("25"), &wethArt, "deposit")
	c.txAs(t, lender, lc.weth, nil, &wethArt, "approve", a.pool, e18("25"))
	c.txAs(t, lender, a.pool, nil, &poolArt, "supply", lc.weth, e18("25"), lenderAddr, uint16(0))
	c.txAs(t, vaultKey, lc.weth, e18(weth), &wethArt, "deposit")
	return lc
}

// TestSend_AaveV3WstETHLoop opens a 2x wstETH loop on Aave v3's own Pool
// (deployed from @aave/core-v3's published artifacts, wstETH as
// collateral at an LTV of 90% and a liquidation threshold of 93%, WETH
// borrowable) in send mode, through the executor's calls, then unwinds it
// whole. WETH9, Lido's stETH and wstETH, the Curve stETH/ETH pool (a
// fixed price of 0.999 ether per stETH) and the price oracle are the small
// contracts of testdata/LoopMocks.sol with the mainnet contracts' ABIs; no
// npm package ships them compiled. stETH's rate is 1.15 ether per share.
//
// After the open, read on chain: the aToken balance of wstETH is exactly
// the wstETH the requests supplied, and the variable debt of WETH the WETH
// they borrowed (with the interest of the seconds between, below a
// millionth); valued at the rate, the collateral is 20 ether less the
// basis point of wrap slack and the debt 10, as the book of a 2x loop
// opened with 10 has them; reconciliation finds no difference with a
// book holding 10 of equity. Relevered to 3 and then to 1.5, the
// leverage read back is the target. After the unwind, no aToken and no
// debt, and the ether received net of the repayment is the pool's price
// of the stETH sold less the debt.
func TestSend_AaveV3WstETHLoop(t *testing.T) {
	lc := newLoopChain(t, 9000, 9300, "10")
	c, weth, steth, wst, curve, a, aWst, vdWeth := lc.c, lc.weth, lc.steth, lc.wst, lc.curve, lc.a, lc.aWst, lc.vdWeth
	wstArt, erc20 := lc.wstArt, lc.erc20
	ctx := context.Background()
	me := c.signer.Address()

	const market = "aave-v3/wsteth-loop"
	src := "deployed by the test"
	tokenOf := func(name string, addr common.Address) execution.Token {
		return execution.Token{Contract: execution.Contract{Name: name, Address: addr, Source: src}, Symbol: name, Decimals: 18}
	}
	wstTok := tokenOf("wstETH", wst)
	book := execution.NewBook()
	if err := book.Add(execution.Deployment{Market: market, Protocol: execution.AaveV3Loop, Asset: tokenOf("WETH", weth), Position: &wstTok,
		Contracts: map[string]execution.Contract{
			"pool": {Name: "Aave v3 Pool", Address: a.pool, Source: "deployed by the test from @aave/core-v3"},
			"weth": {Name: "WETH", Address: weth, Source: src}, "lido": {Name: "stETH", Address: steth, Source: src},
			"wsteth": {Name: "wstETH", Address: wst, Source: src}, "curve": {Name: "Curve stETH/ETH", Address: curve, Source: src},
		}}); err != nil {
		t.Fatal(err)
	}
	allow := execution.NewAllowlist()
	allow.Allow(weth, "withdraw", "deposit", "approve")
	allow.Allow(steth, "submit", "approve")
	allow.Allow(wst, "wrap", "unwrap", "approve")
	allow.Allow(a.pool, "supply", "borrow", "withdraw", "repay")
	allow.Allow(curve, "exchange")
	cfg := &execution.Config{Mode: execution.ModeSend, ChainID: 1337, Vaults: map[string]common.Address{"v": me}, Allow: allow, Book: book}
	s := &execution.Sender{Client: c.client, Signer: c.signer, Journal: newJournal(t, ""), Poll: 10 * time.Millisecond}
	at := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)

	loops := map[string]execution.LoopBook{market: {LTV: 0.9, LLTV: 0.93, Peg: 1}}
	if err := cfg.ChainRates(ctx, c.client, "v", loops); err != nil {
		t.Fatal(err)
	}
	if r := loops[market].Rate; !r.Equal(decimal.RequireFromString("1.15")) {
		t.Fatalf("rate read on chain %s, want 1.15", r)
	}
	open := vault.Decision{Time: at, Orders: []vault.Order{{Market: market, Side: vault.Buy, Amount: fixed.RequireFromString("10"), Leverage: 2}}}
	dep, err := book.Deployment(market)
	if err != nil {
		t.Fatal(err)
	}
	reqs, err := execution.LoopRequests(dep, open.Orders[0], 0.01, ptr(loops[market]))
	if err != nil {
		t.Fatal(err)
	}
	supplied, borrowed := new(big.Int), new(big.Int)
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
	sent, err := s.Send(ctx, "v/rebalance/1", calls)
	if err != nil {
		t.Fatal(err)
	}
	fills, err := cfg.Fills(me, open, sent)
	if err != nil {
		t.Fatal(err)
	}
	if len(fills) != 1 || new(big.Int).Sub(fills[0].Spent, fills[0].Received).Cmp(e18("10")) != 0 {
		t.Errorf("fills %+v: want the 10 WETH of equity spent (ether staked less WETH borrowed)", fills)
	}
	if got := c.uint(t, erc20, aWst, "balanceOf", me); got.Cmp(supplied) != 0 {
		t.Errorf("aToken of wstETH %s, want the %s supplied", got, supplied)
	}
	debt := c.uint(t, erc20, vdWeth, "balanceOf", me)
	if debt.Cmp(borrowed) < 0 || new(big.Int).Sub(debt, borrowed).Cmp(new(big.Int).Div(borrowed, big.NewInt(1e6))) > 0 {
		t.Errorf("variable debt of WETH %s, want the %s borrowed (and under a millionth of interest)", debt, borrowed)
	}
	if d := new(big.Int).Sub(e18("10"), borrowed); d.Sign() < 0 || d.Cmp(big.NewInt(int64(len(reqs)))) > 0 {
		// Each round's borrow is truncated to a wei.
		t.Errorf("borrowed %s, want 10 WETH ((2 - 1) x 10) less a wei a round at most", borrowed)
	}
	coll := decimal.NewFromBigInt(c.uint(t, wstArt, wst, "getStETHByWstETH", c.uint(t, erc20, aWst, "balanceOf", me)), -18)
	if lo, hi := decimal.RequireFromString("19.997"), decimal.NewFromInt(20); coll.Cmp(lo) < 0 || coll.Cmp(hi) > 0 {
		t.Errorf("collateral %s ether at the rate, want 20 less the wrap slack (at least %s)", coll, lo)
	}
	// The book of a 2x loop opened with 10: collateral 20, debt 10. The
	// chain's collateral counts the wrap slack left at the vault's address,
	// so it matches to a few wei; a book whose collateral and debt
	// are both 1 too high has the same equity and is caught by the two
	// lines of its own.
	chainClient := c.client
	reconcile := func(c, b int64) []execution.Holding {
		t.Helper()
		lbk := loops[market]
		lbk.Collateral, lbk.Debt = decimal.NewFromInt(c), decimal.NewFromInt(b)
		rec, err := cfg.ReconcileLoops(ctx, chainClient, "v", decimal.Zero, []string{market}, []decimal.Decimal{decimal.NewFromInt(c - b)}, decimal.Zero, map[string]execution.LoopBook{market: lbk})
		if err != nil {
			t.Fatal(err)
		}
		if len(rec.Holdings) != 4 {
			t.Errorf("holdings %+v: want idle, the loop, its collateral and its debt", rec.Holdings)
		}
		for _, h := range rec.Holdings {
			t.Logf("%s: book %s chain %s", h.Market, h.Book, h.Chain)
			if h.Market == market+" collateral" && c == 20 && h.Diff().Abs().Cmp(decimal.New(1, -15)) > 0 {
				t.Errorf("collateral on chain %s, want the book's 20 to a few wei (the slack is counted where it stays)", h.Chain)
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

	// readBack sets the loop's book from the chain (collateral at the
	// rate, debt) and returns the leverage.
	readBack := func() float64 {
		lb := loops[market]
		lb.Collateral = decimal.NewFromBigInt(c.uint(t, wstArt, wst, "getStETHByWstETH", c.uint(t, erc20, aWst, "balanceOf", me)), -18)
		lb.Debt = decimal.NewFromBigInt(c.uint(t, erc20, vdWeth, "balanceOf", me), -18)
		loops[market] = lb
		return lb.Collateral.Div(lb.Collateral.Sub(lb.Debt)).InexactFloat64()
	}
	readBack()
	// Relever up to 3 (borrow rounds at constant equity), then down to
	// 1.5 (withdraw, swap at the minimum out, repay what it guarantees):
	// the leverage read back is the target's. Down, the swap pays 0.999
	// per stETH, above the minimum of 0.99 the calls repay with, so the
	// equity grows and the leverage lands a little under 1.5.
	for i, want := range []float64{3, 1.5} {
		d := vault.Decision{Time: at, Orders: []vault.Order{{Market: market, Side: vault.Relever, Leverage: want}}}
		calls, err := cfg.PlanLoops("v", d, 0.01, loops)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Send(ctx, "v/relever/"+string(rune('1'+i)), calls); err != nil {
			t.Fatal(err)
		}
		if got := readBack(); got > want*1.001 || got < want*0.995 {
			t.Errorf("relever to %g: leverage on chain %g", want, got)
		}
	}

	// Unwind it all: the book is read back from the chain.
	lb := loops[market]
	coll = lb.Collateral
	sell := vault.Decision{Time: at, Orders: []vault.Order{{Market: market, Side: vault.Sell, All: true, Amount: fixed.FromDec(coll.Sub(lb.Debt)), EstCost: fixed.RequireFromString("0.05"), Mode: adapters.ExitInstant}}}
	calls, err = cfg.PlanLoops("v", sell, 0.01, loops)
	if err != nil {
		t.Fatal(err)
	}
	sent, err = s.Send(ctx, "v/rebalance/2", calls)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.uint(t, erc20, aWst, "balanceOf", me); got.Sign() != 0 {
		t.Errorf("aToken of wstETH %s after the unwind, want 0", got)
	}
	if got := c.uint(t, erc20, vdWeth, "balanceOf", me); got.Sign() != 0 {
		t.Errorf("variable debt %s after the unwind, want 0", got)
	}
	fills, err = cfg.Fills(me, sell, sent)
	if err != nil {
		t.Fatal(err)
	}
	// Out: the Curve pool's 0.999 of the stETH sold (the collateral at the
	// rate, less the unwrap's basis point of slack) less the debt repaid.
	out := decimal.NewFromBigInt(new(big.Int).Sub(fills[0].Received, fills[0].Spent), -18)
	want := coll.Mul(decimal.RequireFromString("0.9999")).Mul(decimal.RequireFromString("0.999")).Sub(lb.Debt)
	if out.Sub(want).Abs().Cmp(decimal.RequireFromString("0.0001")) > 0 {
		t.Errorf("unwind received %s ether net of the repayment, want %s", out, want)
	}
}

func ptr[T any](v T) *T { return &v }
