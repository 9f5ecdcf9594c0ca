package chaintest

import (
	"context"
	"math/big"
	"testing"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/execution"
	"github.com/yieldvault/yieldvault/fixed"
	"github.com/yieldvault/yieldvault/vault"
)

// morphoParams is Morpho Blue's MarketParams as go-ethereum's abi packs
// the tuple (its fields named as the components, capitalised).
type morphoParams struct {
	LoanToken       common.Address
	CollateralToken common.Address
	Oracle          common.Address
	Irm             common.Address
	Lltv            *big.Int
}

// morphoLoopChain is the Morpho wstETH loop's contracts on a simulated
// chain: WETH9, stETH at 1.15 ether a share, wstETH and the Curve pool at
// 0.999 ether per stETH (holding 35 ether) from testdata/LoopMocks.sol,
// as the Aave loop's; and from testdata/MorphoMocks.sol Morpho Blue (a
// small contract with its ABI and the logic the test depends on: no npm
// package ships it compiled), an IRM at a fixed 10% a year and the
// wstETH/WETH exchange-rate oracle, with a market at an LLTV of 94.5% a
// lender supplied 25 WETH to. The vault's account holds weth WETH.
type morphoLoopChain struct {
	c                       *chain
	weth, steth, wst, curve common.Address
	blue                    common.Address
	mp                      morphoParams
	id                      common.Hash
	blueArt, wstArt, erc20  artifact
}

// morphoRatePerSecond is the IRM's borrow rate: 10% a year, per second,
// scaled by 1e18.
var morphoRatePerSecond = big.NewInt(int64(1e17) / (365 * 24 * 3600))

func newMorphoLoopChain(t *testing.T, weth string) *morphoLoopChain {
	t.Helper()
	wethArt, stArt, wstArt := loadArtifact(t, "LoopWETH9"), loadArtifact(t, "LoopStETH"), loadArtifact(t, "LoopWstETH")
	curveArt := loadArtifact(t, "LoopCurveStETHPool")
	blueArt, irmArt, oracleArt := loadArtifact(t, "MorphoBlueMock"), loadArtifact(t, "MorphoFixedRateIrm"), loadArtifact(t, "MorphoWstETHOracle")
	c := newChain(t)
	mc := &morphoLoopChain{c: c, blueArt: blueArt, wstArt: wstArt, erc20: wethArt}
	mc.weth = c.deploy(t, wethArt)
	mc.steth = c.deploy(t, stArt, e18("1"), e18("1.15"))
	mc.wst = c.deploy(t, wstArt, mc.steth)
	mc.curve = c.deploy(t, curveArt, mc.steth, big.NewInt(9990))
	c.txAs(t, c.key, mc.curve, e18("35"), nil, "")
	oracle := c.deploy(t, oracleArt, mc.wst)
	irm := c.deploy(t, irmArt, morphoRatePerSecond)
	mc.blue = c.deploy(t, blueArt)
	mc.mp = morphoParams{LoanToken: mc.weth, CollateralToken: mc.wst, Oracle: oracle, Irm: irm, Lltv: e18("0.945")}
	c.transact(t, blueArt, mc.blue, "createMarket", mc.mp)
	id, err := execution.MorphoMarketID(execution.MorphoMarketParams{LoanToken: mc.weth, CollateralToken: mc.wst, Oracle: oracle, IRM: irm, LLTV: mc.mp.Lltv.String()})
	if err != nil {
		t.Fatal(err)
	}
	mc.id = id
	// The market the contract registered under keccak256(abi.encode(params)) is the one the executor names.
	if got := c.address(t, blueArt, mc.blue, "idToMarketParams", id); got != mc.weth {
		t.Fatalf("Morpho has no market %s (its loan token %s): the executor's market id is not Morpho's", id.Hex(), got.Hex())
	}

	// A lender supplies 25 WETH for the loop to borrow.
	lender, _ := crypto.GenerateKey()
	lenderAddr := crypto.PubkeyToAddress(lender.PublicKey)
	c.txAs(t, c.key, lenderAddr, e18("27"), nil, "")
	c.txAs(t, lender, mc.weth, e18("25"), &wethArt, "deposit")
	c.txAs(t, lender, mc.weth, nil, &wethArt, "approve", mc.blue, e18("25"))
	c.txAs(t, lender, mc.blue, nil, &blueArt, "supply", mc.mp, e18("25"), new(big.Int), lenderAddr, []byte{})
	c.txAs(t, c.key, mc.weth, e18(weth), &wethArt, "deposit")
	return mc
}

// position reads the vault's collateral (wstETH wei) and debt: its
// borrow shares' assets at the market's totals, rounded up as
// SharesMathLib.toAssetsUp, the total borrowed with the interest of the
// IRM's fixed rate over the seconds from the market's last update to
// the latest block, compounded as MathLib.wTaylorCompounded (three
// terms): both computed here with the formulas written out.
func (mc *morphoLoopChain) position(t *testing.T, who common.Address) (coll, debt, shares *big.Int) {
	t.Helper()
	call := func(method string, args ...any) []any {
		data, err := mc.blueArt.ABI.Pack(method, args...)
		if err != nil {
			t.Fatal(err)
		}
		out, err := mc.c.client.CallContract(context.Background(), ethereum.CallMsg{To: &mc.blue, Data: data}, nil)
		if err != nil {
			t.Fatal(err)
		}
		vals, err := mc.blueArt.ABI.Unpack(method, out)
		if err != nil {
			t.Fatal(err)
		}
		return vals
	}
	pos := call("position", mc.id, who)
	mk := call("market", mc.id)
	shares, coll = pos[1].(*big.Int), pos[2].(*big.Int)
	ta, ts := new(big.Int).Set(mk[2].(*big.Int)), mk[3].(*big.Int)
	head, err := mc.c.client.HeaderByNumber(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if el := int64(head.Time) - mk[4].(*big.Int).Int64(); el > 0 && ta.Sign() > 0 {
		x := decimal.NewFromBigInt(new(big.Int).Mul(morphoRatePerSecond, big.NewInt(el)), 0)
		w := decimal.New(1, 18)
		x2 := x.Mul(x).Div(w.Mul(decimal.NewFromInt(2))).Floor()
		x3 := x2.Mul(x).Div(w.Mul(decimal.NewFromInt(3))).Floor()
		ta.Add(ta, decimal.NewFromBigInt(ta, 0).Mul(x.Add(x2).Add(x3)).Div(w).Floor().BigInt())
	}
	num := new(big.Int).Mul(shares, new(big.Int).Add(ta, big.NewInt(1)))
	den := new(big.Int).Add(ts, big.NewInt(1e6))
	debt = new(big.Int).Div(new(big.Int).Add(num, new(big.Int).Sub(den, big.NewInt(1))), den)
	return coll, debt, shares
}

// checkOpened checks whose position (at who) on Morpho after a loop's
// open: the wstETH supplied as collateral, a debt of what was borrowed
// (and under a millionth of interest), no WETH left at who (every
// borrow staked). It returns the collateral and the debt.
func (mc *morphoLoopChain) checkOpened(t *testing.T, who common.Address, whose string, supplied, borrowed *big.Int) (coll, debt *big.Int) {
	t.Helper()
	coll, debt, _ = mc.position(t, who)
	if coll.Cmp(supplied) != 0 {
		t.Errorf("%s collateral on Morpho %s, want the %s wstETH supplied", whose, coll, supplied)
	}
	if debt.Cmp(borrowed) < 0 || new(big.Int).Sub(debt, borrowed).Cmp(new(big.Int).Div(borrowed, big.NewInt(1e6))) > 0 {
		t.Errorf("%s debt on Morpho %s, want the %s borrowed (and under a millionth of interest)", whose, debt, borrowed)
	}
	if got := mc.c.uint(t, mc.erc20, mc.weth, "balanceOf", who); got.Sign() != 0 {
		t.Errorf("WETH left at %s address %s, want the 10 spent and every borrow staked", whose, got)
	}
	return coll, debt
}

// morphoLoopConfig is the send-mode configuration of the loop on mc: the
// deployment (the built-in's protocol and roles at the test's addresses)
// and the allowlist of exactly its calls.
func morphoLoopConfig(t *testing.T, mc *morphoLoopChain, mode string) *execution.Config {
	t.Helper()
	src := "deployed by the test"
	tokenOf := func(name string, addr common.Address) execution.Token {
		return execution.Token{Contract: execution.Contract{Name: name, Address: addr, Source: src}, Symbol: name, Decimals: 18}
	}
	wstTok := tokenOf("wstETH", mc.wst)
	book := execution.NewBook()
	if err := book.Add(execution.Deployment{Market: "morpho/wsteth-weth-loop", Protocol: execution.MorphoBlueLoop, Asset: tokenOf("WETH", mc.weth), Position: &wstTok,
		Contracts: map[string]execution.Contract{
			"morpho": {Name: "Morpho Blue", Address: mc.blue, Source: src + " (testdata/MorphoMocks.sol)"},
			"weth":   {Name: "WETH", Address: mc.weth, Source: src}, "lido": {Name: "stETH", Address: mc.steth, Source: src},
			"wsteth": {Name: "wstETH", Address: mc.wst, Source: src}, "curve": {Name: "Curve stETH/ETH", Address: mc.curve, Source: src},
		},
		MorphoMarket: &execution.MorphoMarketParams{LoanToken: mc.weth, CollateralToken: mc.wst, Oracle: mc.mp.Oracle, IRM: mc.mp.Irm, LLTV: mc.mp.Lltv.String(), Source: src},
	}); err != nil {
		t.Fatal(err)
	}
	allow := execution.NewAllowlist()
	allow.Allow(mc.weth, "withdraw", "deposit", "approve")
	allow.Allow(mc.steth, "submit", "approve")
	allow.Allow(mc.wst, "wrap", "unwrap", "approve")
	allow.Allow(mc.blue, "supplyCollateral", "borrow", "withdrawCollateral", "repay")
	allow.Allow(mc.curve, "exchange")
	return &execution.Config{Mode: mode, ChainID: 1337, Vaults: map[string]common.Address{"v": mc.c.signer.Address()}, Allow: allow, Book: book}
}

// TestSend_MorphoWstETHLoop opens a 2x wstETH loop on a Morpho Blue
// market in send mode through the executor's calls, relevers it to 3
// and 1.5, and unwinds it whole; the contracts are those of
// morphoLoopChain (Morpho Blue a small contract with its ABI, see
// testdata/MorphoMocks.sol).
//
// After the open, read on chain: the position's collateral is exactly
// the wstETH the requests supplied, and its debt (borrow shares at the
// market's totals, rounded up) the WETH they borrowed, with the interest
// of the seconds between (below a millionth); valued at the rate, the
// collateral is 20 ether less the wrap slack and the debt 10;
// reconciliation, which reads Morpho's position and market, finds no
// difference with a book of 20 and 10, and names both lines of a book 1
// too high in each. Relevered, the leverage read back is the target's.
// The whole unwind leaves no collateral and no borrow shares, and the
// ether received net of the repayment is the pool's price of the stETH
// sold less the debt.
func TestSend_MorphoWstETHLoop(t *testing.T) {
	mc := newMorphoLoopChain(t, "10")
	c := mc.c
	ctx := context.Background()
	me := c.signer.Address()
	const market = "morpho/wsteth-weth-loop"
	cfg := morphoLoopConfig(t, mc, execution.ModeSend)
	s := &execution.Sender{Client: c.client, Signer: c.signer, Journal: newJournal(t, ""), Poll: 10 * time.Millisecond}
	at := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)

	loops := map[string]execution.LoopBook{market: {LTV: 0.945, LLTV: 0.945, Peg: 1}}
	if err := cfg.ChainRates(ctx, c.client, "v", loops); err != nil {
		t.Fatal(err)
	}
	if r := loops[market].Rate; !r.Equal(decimal.RequireFromString("1.15")) {
		t.Fatalf("rate read on chain %s, want 1.15", r)
	}
	if v := loops[market].Venue; v == nil || v.Collateral.Sign() != 0 || v.BorrowShares.Sign() != 0 {
		t.Fatalf("the position read before the open: %+v, want an empty one", v)
	}
	supplied, borrowed := sendOpen(t, cfg, s, loops, market, at)
	coll, debt := mc.checkOpened(t, me, "the vault's", supplied, borrowed)
	collEth := decimal.NewFromBigInt(c.uint(t, mc.wstArt, mc.wst, "getStETHByWstETH", coll), -18)
	if lo, hi := decimal.RequireFromString("19.997"), decimal.NewFromInt(20); collEth.Cmp(lo) < 0 || collEth.Cmp(hi) > 0 {
		t.Errorf("collateral %s ether at the rate, want 20 less the wrap slack (at least %s)", collEth, lo)
	}

	checkReconcileLoop(t, cfg, c.client, loops, market, func(h execution.Holding) {
		if h.Market != market+" debt" {
			return
		}
		// With the interest to the latest block: the block reconciliation
		// read and this one may differ by a few (1 second of interest is
		// 3e-8 ether here).
		_, now, _ := mc.position(t, me)
		if h.Chain.Neg().Cmp(decimal.NewFromBigInt(debt, -18)) < 0 || h.Chain.Neg().Cmp(decimal.NewFromBigInt(now, -18)) > 0 {
			t.Errorf("debt reconciled %s, want the position's with its interest, between %s and %s", h.Chain.Neg(), decimal.NewFromBigInt(debt, -18), decimal.NewFromBigInt(now, -18))
		}
	})

	// readBack sets the loop's book from the chain and returns the
	// leverage.
	readBack := func() float64 {
		coll, debt, _ := mc.position(t, me)
		lb := loops[market]
		lb.Collateral = decimal.NewFromBigInt(c.uint(t, mc.wstArt, mc.wst, "getStETHByWstETH", coll), -18)
		lb.Debt = decimal.NewFromBigInt(debt, -18)
		loops[market] = lb
		return lb.Collateral.Div(lb.Collateral.Sub(lb.Debt)).InexactFloat64()
	}
	sendRelevers(t, cfg, s, loops, market, at, readBack)

	// Unwind it all: the rate and the position read on chain again.
	if err := cfg.ChainRates(ctx, c.client, "v", loops); err != nil {
		t.Fatal(err)
	}
	lb := loops[market]
	ethBefore, _ := c.client.BalanceAt(ctx, me, nil)
	sell := vault.Decision{Time: at, Orders: []vault.Order{{Market: market, Side: vault.Sell, All: true, Amount: fixed.FromDec(lb.Collateral.Sub(lb.Debt)), EstCost: fixed.RequireFromString("0.05"), Mode: adapters.ExitInstant}}}
	calls, err := cfg.PlanLoops("v", sell, 0.01, loops)
	if err != nil {
		t.Fatal(err)
	}
	sent, err := s.Send(ctx, "v/rebalance/2", calls)
	if err != nil {
		t.Fatal(err)
	}
	if coll, _, shares := mc.position(t, me); coll.Sign() != 0 || shares.Sign() != 0 {
		t.Errorf("after the unwind: collateral %s, borrow shares %s; want none", coll, shares)
	}
	fills, err := cfg.Fills(me, sell, sent)
	if err != nil {
		t.Fatal(err)
	}
	// Out: the Curve pool's 0.999 of the stETH sold (the collateral at the
	// rate, less the unwrap's basis point of slack) less the debt repaid.
	out := decimal.NewFromBigInt(new(big.Int).Sub(fills[0].Received, fills[0].Spent), -18)
	want := lb.Collateral.Mul(decimal.RequireFromString("0.9999")).Mul(decimal.RequireFromString("0.999")).Sub(lb.Debt)
	if out.Sub(want).Abs().Cmp(decimal.RequireFromString("0.0001")) > 0 {
		t.Errorf("unwind received %s ether net of the repayment, want %s", out, want)
	}
	// What was received is at the vault's address: ether (the swaps'
	// surplus over the repayments) and WETH (the repayments' slack).
	ethAfter, _ := c.client.BalanceAt(ctx, me, nil)
	wethAfter := c.uint(t, mc.erc20, mc.weth, "balanceOf", me)
	gas := new(big.Int)
	for _, x := range sent {
		gas.Add(gas, new(big.Int).Mul(new(big.Int).SetUint64(x.Receipt.GasUsed), x.Receipt.EffectiveGasPrice))
	}
	held := decimal.NewFromBigInt(new(big.Int).Add(new(big.Int).Sub(new(big.Int).Add(ethAfter, gas), ethBefore), wethAfter), -18)
	if held.Sub(out).Abs().Cmp(decimal.New(1, -12)) > 0 {
		t.Errorf("the vault's address gained %s ether and WETH (gas added back), the fills say %s", held, out)
	}
}
