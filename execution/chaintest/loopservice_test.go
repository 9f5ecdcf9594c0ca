package chaintest

import (
	"context"
	"fmt"
	"maps"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
	"github.com/yieldvault/yieldvault/adapters/history/synth"
	"github.com/yieldvault/yieldvault/execution"
	"github.com/yieldvault/yieldvault/service"
)

// TestService_SendModeLoop: the service in send mode runs the example
// wstETH loop strategy (leverage 3, examples/strategies/aave-wsteth-loop.yaml)
// for a vault of 10 ETH whose address holds 10 WETH, on the loop's
// contracts on the simulated chain (newLoopChain: wstETH's own reserve
// lending up to 60%, threshold 65%, and Aave's ETH-correlated e-mode,
// category 1, at LTV 93% and threshold 95% of 2024-03, as the profile has
// them then), on the embedded history (testServiceLoop).
func TestService_SendModeLoop(t *testing.T) {
	lc := newLoopChain(t, loopSpec{ltv: 6000, threshold: 6500, emode: 1, emodeLTV: 9300, emodeThreshold: 9500, weth: "10"})
	strat, err := filepath.Abs("../../examples/strategies/aave-wsteth-loop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	testServiceLoop(t, lc.underTest(1), strat, time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), nil, "1.15")
}

// TestService_SendModeWeETHLoop is the same for the weETH loop: the
// example strategy with aave-v3/weeth-loop as its universe, on ether.fi's
// contracts and the Curve weETH/WETH pool (newLoopChain: weETH's own
// reserve lending up to 72.5%, threshold 75%, e-mode category 7 at 93% and
// 95%, the profile's from 2025-03-18), on a synthetic history of the
// loop's legs (aave-v3/weeth, aave-v3/weth, etherfi/weeth) for May and
// June 2025, the embedded one ending before the weETH loop's e-mode
// existed.
func TestService_SendModeWeETHLoop(t *testing.T) {
	lc := newLoopChain(t, loopSpec{weeth: true, ltv: 7250, threshold: 7500, emode: 7, emodeLTV: 9300, emodeThreshold: 9500, weth: "10"})
	strat := loopStrategy(t, "aave-weeth-loop", "aave-v3/weeth-loop")
	cat := adapters.Builtin()
	var legs []adapters.Market
	for _, id := range []string{"aave-v3/weeth", "aave-v3/weth", "etherfi/weeth"} {
		m, err := cat.Market(id)
		if err != nil {
			t.Fatal(err)
		}
		legs = append(legs, m)
	}
	start := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	b, err := synth.Generate(synth.Config{From: start.AddDate(0, -1, 0), To: start.AddDate(0, 1, 0), Step: 6 * time.Hour, Seed: 14, Markets: legs})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	hist, err := history.OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hist.Close() })
	if _, err := hist.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	testServiceLoop(t, lc.underTest(7), strat, start, hist, "1.05")
}

// loopStrategy writes the example loop strategy
// (examples/strategies/aave-wsteth-loop.yaml) as strategy name with market
// as its universe, and returns its path.
func loopStrategy(t *testing.T, name, market string) string {
	t.Helper()
	ex, err := os.ReadFile("../../examples/strategies/aave-wsteth-loop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	body := strings.NewReplacer("name: aave-wsteth-loop", "name: "+name, "universe: [aave-v3/wsteth-loop]", "universe: ["+market+"]").Replace(string(ex))
	if !strings.Contains(body, "universe: ["+market+"]") {
		t.Fatal("the example strategy's universe line changed: adapt the test")
	}
	strat := filepath.Join(t.TempDir(), name+".yaml")
	if err := os.WriteFile(strat, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return strat
}

// loopUnderTest is what testServiceLoop needs of a loop on the simulated
// chain, whichever its venue.
type loopUnderTest struct {
	c      *chain
	market string
	weth   common.Address
	erc20  artifact
	// yaml is the service configuration's execution.deployments and
	// execution.allow entries for the loop, from "  deployments:" on.
	yaml string
	// position is the loop's collateral (in ether, at the collateral's
	// rate) and debt on chain.
	position func(t *testing.T, who common.Address) (coll, debt decimal.Decimal)
	// opened checks what the venue holds after the open besides the
	// leverage, and the rates journalled with the open's intent.
	opened func(t *testing.T, rates map[string]decimal.Decimal)
	// borrow borrows 1 WETH on the loop's venue outside the service.
	borrow func(t *testing.T)
}

// underTest is the Aave loop for testServiceLoop: the contracts file
// written from deployment and allowed, and after the open the vault in
// e-mode category emode on chain.
func (lc *loopChain) underTest(emode int64) loopUnderTest {
	c := lc.c
	var y strings.Builder
	d := lc.deployment()
	fmt.Fprintf(&y, "  deployments:\n    - market: %s\n      protocol: %s\n      asset: { address: \"%s\", symbol: WETH, decimals: 18, source: test }\n      contracts:\n", lc.market, d.Protocol, lc.weth.Hex())
	for _, r := range slices.Sorted(maps.Keys(d.Contracts)) {
		x := d.Contracts[r]
		fmt.Fprintf(&y, "        %s: { name: %s, address: \"%s\", source: %s }\n", r, x.Name, x.Address.Hex(), x.Source)
	}
	y.WriteString("  allow:\n")
	for addr, fns := range lc.allowed() {
		fmt.Fprintf(&y, "    - { contract: \"%s\", functions: [%s] }\n", addr.Hex(), strings.Join(fns, ", "))
	}
	me := c.signer.Address()
	return loopUnderTest{c: c, market: lc.market, weth: lc.weth, erc20: lc.erc20, yaml: y.String(),
		position: func(t *testing.T, who common.Address) (decimal.Decimal, decimal.Decimal) {
			return lc.collateral(t, who), lc.debt(t, who)
		},
		opened: func(t *testing.T, _ map[string]decimal.Decimal) {
			if got := c.uint(t, loadArtifact(t, "AavePool"), lc.a.pool, "getUserEMode", me); got.Cmp(big.NewInt(emode)) != 0 {
				t.Errorf("the vault's e-mode category on chain %s, want the profile's %d", got, emode)
			}
		},
		borrow: func(t *testing.T) {
			c.transact(t, loadArtifact(t, "AavePool"), lc.a.pool, "borrow", lc.weth, e18("1"), big.NewInt(2), uint16(0), me)
		},
	}
}

// testServiceLoop runs strategy strat (the example loop strategy on lt's
// market) for a vault of 10 ETH whose address holds 10 WETH from start
// on history hist (nil: the embedded one). One rebalance through the API
// opens the loop by borrow rounds: on chain the leverage (collateral at
// the rate over collateral less debt) is the strategy's 3, the vault's
// WETH is what the decision left idle, lt.opened holds, and the
// reconciliation the service runs after trading and before the next
// rebalance (equity, collateral and debt each against the book) leaves
// the vault unpaused; the rate the calls were encoded at (rate, the
// chain's) is journalled with the intent. A WETH borrow outside the
// service then pauses the vault at the next reconciliation, naming the
// loop's debt.
func testServiceLoop(t *testing.T, lt loopUnderTest, strat string, start time.Time, hist *history.DB, rate string) {
	t.Helper()
	c := lt.c
	ctx := context.Background()
	me := c.signer.Address()
	dir := t.TempDir()
	market := lt.market
	cfg := fmt.Sprintf(`state_db: state.db
durability: normal
token: { env: YV_TEST_TOKEN }
vaults:
  - { id: loop, strategy: %s, deposit: "10" }
execution:
  mode: send
  chain_id: 1337
  rpc: http://127.0.0.1:8545
  keystore: %s
  password_env: YV_TEST_KEYSTORE_PASSWORD
  vaults:
    - { id: loop, address: "%s" }
%s`, strat, c.keyfile, me.Hex(), lt.yaml)
	path := filepath.Join(dir, "service.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("YV_TEST_KEYSTORE_PASSWORD", c.password)
	conf, err := service.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	clock := service.NewManualClock(start)
	api := startChainService(t, ctx, conf, c, clock, hist)
	svc := api.svc
	do := func(method, p, key string) (int, []byte) {
		t.Helper()
		return api.call(t, method, p, key, "")
	}
	last := func() (string, string) { t.Helper(); return lastDecisionOf(t, do, "loop") }
	paused := func() bool { t.Helper(); return vaultOf(t, do, "loop").Paused }

	if code, body := do("POST", "/v1/vaults/loop/rebalance", "rb-1"); code != 200 {
		t.Fatalf("rebalance: %d %s", code, body)
	}
	out, sum := last()
	if out != "traded" || !strings.Contains(sum, "1 executed, 0 failed") {
		t.Fatalf("the opening decision: %s %q", out, sum)
	}
	coll, debt := lt.position(t, me)
	if coll.Sign() <= 0 || debt.Sign() <= 0 {
		t.Fatalf("on chain: collateral %s, debt %s: want a loop", coll, debt)
	}
	if lev := coll.Div(coll.Sub(debt)).InexactFloat64(); lev < 2.99 || lev > 3.01 {
		t.Errorf("leverage on chain %g (collateral %s, debt %s), want the strategy's 3", lev, coll, debt)
	}
	if wethLeft := c.uint(t, lt.erc20, lt.weth, "balanceOf", me); wethLeft.Cmp(e18("10")) >= 0 {
		t.Errorf("WETH left %s: want part of the 10 spent", wethLeft)
	}
	if paused() {
		t.Fatalf("vault paused after the open: %q", sum)
	}
	// The next rebalance reconciles first; within the band it trades
	// nothing, and the vault stays unpaused.
	clock.Set(start.Add(6 * time.Hour))
	if code, body := do("POST", "/v1/vaults/loop/rebalance", "rb-2"); code != 200 {
		t.Fatalf("second rebalance: %d %s", code, body)
	}
	if out, sum := last(); paused() || strings.Contains(sum, "chain-reconcile") {
		t.Errorf("after the second rebalance: %s %q, paused %v; want the book to match the chain", out, sum, paused())
	}
	// The open's intent journalled the rate its calls were encoded at (in
	// the state database, which holds the execution journal).
	rs, ok, err := (execution.StoreJournal{S: svc.Store()}).RatesOf("loop/api/rb-1")
	if err != nil || !ok || !rs[market].Equal(decimal.RequireFromString(rate)) {
		t.Errorf("journalled rates of the open: %v (ok %v, err %v), want the chain's %s", rs, ok, err, rate)
	}
	lt.opened(t, rs)
	// A debt the book does not show pauses the vault at the next
	// reconciliation: 1 WETH borrowed outside the service.
	lt.borrow(t)
	clock.Set(start.Add(12 * time.Hour))
	do("POST", "/v1/vaults/loop/rebalance", "rb-3")
	if out, sum := last(); !paused() || !strings.Contains(sum, "chain-reconcile") || !strings.Contains(sum, market+" debt") {
		t.Errorf("after a borrow outside the service: %s %q, paused %v; want paused by chain-reconcile naming the loop's debt", out, sum, paused())
	}
}

// TestService_SendModeMorphoLoop is TestService_SendModeLoop on the
// Morpho Blue wstETH loop: the service in send mode runs the example
// loop strategy (leverage 3) with its universe the Morpho loop, for a
// vault of 10 ETH whose address holds 10 WETH, on morphoLoopChain's
// contracts named by a contracts file's morpho-blue-loop deployment
// (its morpho_market the test market's MarketParams). One rebalance
// opens the loop by borrow rounds: on chain the leverage (the position's
// collateral at the rate over collateral less its borrow shares' assets)
// is the strategy's 3; the next rebalance reconciles (equity, collateral
// and debt read from Morpho's position and market) and leaves the vault
// unpaused; the open's rate and Morpho position are journalled with the
// intent. A WETH borrow on the market outside the service pauses the
// vault at the next reconciliation, naming the loop's debt.
func TestService_SendModeMorphoLoop(t *testing.T) {
	mc := newMorphoLoopChain(t, "10")
	strat := loopStrategy(t, "morpho-wsteth-loop", "morpho/wsteth-weth-loop")
	testServiceLoop(t, mc.underTest(), strat, time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC), nil, "1.15")
}

// underTest is the Morpho loop for testServiceLoop: a contracts file's
// morpho-blue-loop deployment with the test market's MarketParams; the
// open's intent journals the position it was encoded at (an empty one).
func (mc *morphoLoopChain) underTest() loopUnderTest {
	c := mc.c
	src := "deployed by the test"
	y := fmt.Sprintf(`  deployments:
    - market: morpho/wsteth-weth-loop
      protocol: morpho-blue-loop
      asset: { address: "%s", symbol: WETH, decimals: 18, source: %s }
      contracts:
        morpho: { name: Morpho Blue, address: "%s", source: "%s (testdata/MorphoMocks.sol)" }
        weth: { name: WETH, address: "%s", source: %s }
        lido: { name: stETH, address: "%s", source: %s }
        wsteth: { name: wstETH, address: "%s", source: %s }
        curve: { name: Curve stETH/ETH, address: "%s", source: %s }
      morpho_market: { loan_token: "%s", collateral_token: "%s", oracle: "%s", irm: "%s", lltv: "945000000000000000", source: %s }
  allow:
    - { contract: "%s", functions: [approve, withdraw, deposit] }
    - { contract: "%s", functions: [approve, submit] }
    - { contract: "%s", functions: [approve, wrap, unwrap] }
    - { contract: "%s", functions: [supplyCollateral, borrow, withdrawCollateral, repay] }
    - { contract: "%s", functions: [exchange] }
`, mc.weth.Hex(), src, mc.blue.Hex(), src, mc.weth.Hex(), src, mc.steth.Hex(), src, mc.wst.Hex(), src, mc.curve.Hex(), src,
		mc.weth.Hex(), mc.wst.Hex(), mc.mp.Oracle.Hex(), mc.mp.Irm.Hex(), src,
		mc.weth.Hex(), mc.steth.Hex(), mc.wst.Hex(), mc.blue.Hex(), mc.curve.Hex())
	me := c.signer.Address()
	return loopUnderTest{c: c, market: "morpho/wsteth-weth-loop", weth: mc.weth, erc20: mc.erc20, yaml: y,
		position: func(t *testing.T, who common.Address) (decimal.Decimal, decimal.Decimal) {
			collW, debtW, _ := mc.position(t, who)
			return decimal.NewFromBigInt(c.uint(t, mc.wstArt, mc.wst, "getStETHByWstETH", collW), -18), decimal.NewFromBigInt(debtW, -18)
		},
		opened: func(t *testing.T, rs map[string]decimal.Decimal) {
			if v, ok := rs["morpho/wsteth-weth-loop borrow_shares"]; !ok || !v.IsZero() {
				t.Errorf("journalled borrow shares of the open: %v (%v), want the empty position's 0", v, ok)
			}
		},
		borrow: func(t *testing.T) {
			c.transact(t, mc.blueArt, mc.blue, "borrow", mc.mp, e18("1"), new(big.Int), me, me)
		},
	}
}
