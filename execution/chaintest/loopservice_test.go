package chaintest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/execution"
	"github.com/yieldvault/yieldvault/service"
)

// TestService_SendModeLoop: the service in send mode runs the example
// wstETH loop strategy (leverage 3, examples/strategies/aave-wsteth-loop.yaml)
// for a vault of 10 ETH whose address holds 10 WETH, on the loop's
// contracts on the simulated chain (newLoopChain, Aave's e-mode LTV 93%
// and threshold 95% of 2024-03, as the profile has them then). One
// rebalance through the API opens the loop by borrow rounds: on chain the
// leverage (collateral at the rate over collateral less debt) is the
// strategy's 3, the vault's WETH is what the decision left idle, and the
// reconciliation the service runs after trading and before the next
// rebalance (equity, collateral and debt each against the book) leaves
// the vault unpaused; the rate the calls were encoded at is journalled
// with the intent. A WETH borrow outside the service then pauses the
// vault at the next reconciliation, naming the loop's debt.
func TestService_SendModeLoop(t *testing.T) {
	lc := newLoopChain(t, 9300, 9500, "10")
	c := lc.c
	ctx := context.Background()
	me := c.signer.Address()
	strat, err := filepath.Abs("../../examples/strategies/aave-wsteth-loop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src := "deployed by the test"
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
  deployments:
    - market: aave-v3/wsteth-loop
      protocol: aave-v3-loop
      asset: { address: "%s", symbol: WETH, decimals: 18, source: %s }
      contracts:
        pool: { name: Aave v3 Pool, address: "%s", source: "%s from @aave/core-v3" }
        weth: { name: WETH, address: "%s", source: %s }
        lido: { name: stETH, address: "%s", source: %s }
        wsteth: { name: wstETH, address: "%s", source: %s }
        curve: { name: Curve stETH/ETH, address: "%s", source: %s }
  allow:
    - { contract: "%s", functions: [approve, withdraw, deposit] }
    - { contract: "%s", functions: [approve, submit] }
    - { contract: "%s", functions: [approve, wrap, unwrap] }
    - { contract: "%s", functions: [supply, borrow, withdraw, repay] }
    - { contract: "%s", functions: [exchange] }
`, strat, c.keyfile, me.Hex(), lc.weth.Hex(), src, lc.a.pool.Hex(), src, lc.weth.Hex(), src, lc.steth.Hex(), src, lc.wst.Hex(), src, lc.curve.Hex(), src,
		lc.weth.Hex(), lc.steth.Hex(), lc.wst.Hex(), lc.a.pool.Hex(), lc.curve.Hex())
	path := filepath.Join(dir, "service.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("YV_TEST_KEYSTORE_PASSWORD", c.password)
	conf, err := service.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	clock := service.NewManualClock(time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC))
	api := startChainService(t, ctx, conf, c, clock)
	svc := api.svc
	do := func(method, p, key string) (int, []byte) {
		t.Helper()
		return api.call(t, method, p, key, "")
	}
	last := func() (string, string) {
		t.Helper()
		_, body := do("GET", "/v1/vaults/loop/decisions?limit=1", "")
		var ds struct {
			Decisions []struct {
				Outcome string `json:"outcome"`
				Summary string `json:"summary"`
			} `json:"decisions"`
		}
		if err := json.Unmarshal(body, &ds); err != nil || len(ds.Decisions) != 1 {
			t.Fatalf("decisions: %s", body)
		}
		return ds.Decisions[0].Outcome, ds.Decisions[0].Summary
	}
	paused := func() bool {
		t.Helper()
		code, body := do("GET", "/v1/vaults/loop", "")
		var v vaultJSON
		if err := json.Unmarshal(body, &v); err != nil || code != 200 {
			t.Fatalf("GET vault: %d %s", code, body)
		}
		return v.Paused
	}

	if code, body := do("POST", "/v1/vaults/loop/rebalance", "rb-1"); code != 200 {
		t.Fatalf("rebalance: %d %s", code, body)
	}
	out, sum := last()
	if out != "traded" || !strings.Contains(sum, "1 executed, 0 failed") {
		t.Fatalf("the opening decision: %s %q", out, sum)
	}
	coll := decimal.NewFromBigInt(c.uint(t, lc.wstArt, lc.wst, "getStETHByWstETH", c.uint(t, lc.erc20, lc.aWst, "balanceOf", me)), -18)
	debt := decimal.NewFromBigInt(c.uint(t, lc.erc20, lc.vdWeth, "balanceOf", me), -18)
	if coll.Sign() <= 0 || debt.Sign() <= 0 {
		t.Fatalf("on chain: collateral %s, debt %s: want a loop", coll, debt)
	}
	if lev := coll.Div(coll.Sub(debt)).InexactFloat64(); lev < 2.99 || lev > 3.01 {
		t.Errorf("leverage on chain %g (collateral %s, debt %s), want the strategy's 3", lev, coll, debt)
	}
	wethLeft := c.uint(t, lc.erc20, lc.weth, "balanceOf", me)
	if wethLeft.Cmp(e18("10")) >= 0 || wethLeft.Cmp(new(big.Int)) < 0 {
		t.Errorf("WETH left %s: want part of the 10 spent", wethLeft)
	}
	if paused() {
		t.Fatalf("vault paused after the open: %q", sum)
	}
	// The next rebalance reconciles first; within the band it trades
	// nothing, and the vault stays unpaused.
	clock.Set(time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC))
	if code, body := do("POST", "/v1/vaults/loop/rebalance", "rb-2"); code != 200 {
		t.Fatalf("second rebalance: %d %s", code, body)
	}
	if out, sum := last(); paused() || strings.Contains(sum, "chain-reconcile") {
		t.Errorf("after the second rebalance: %s %q, paused %v; want the book to match the chain", out, sum, paused())
	}
	// The open's intent journalled the rate its calls were encoded at (in
	// the state database, which holds the execution journal).
	if rs, ok, err := (execution.StoreJournal{S: svc.Store()}).RatesOf("loop/api/rb-1"); err != nil || !ok || !rs["aave-v3/wsteth-loop"].Equal(decimal.RequireFromString("1.15")) {
		t.Errorf("journalled rates of the open: %v (ok %v, err %v), want the chain's 1.15", rs, ok, err)
	}
	// A debt the book does not show pauses the vault at the next
	// reconciliation: 1 WETH borrowed outside the service.
	c.transact(t, loadArtifact(t, "AavePool"), lc.a.pool, "borrow", lc.weth, e18("1"), big.NewInt(2), uint16(0), me)
	clock.Set(time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC))
	do("POST", "/v1/vaults/loop/rebalance", "rb-3")
	if out, sum := last(); !paused() || !strings.Contains(sum, "chain-reconcile") || !strings.Contains(sum, "aave-v3/wsteth-loop debt") {
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
	c := mc.c
	ctx := context.Background()
	me := c.signer.Address()
	example, err := os.ReadFile("../../examples/strategies/aave-wsteth-loop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	strat := filepath.Join(dir, "morpho-wsteth-loop.yaml")
	body := strings.Replace(strings.Replace(string(example), "name: aave-wsteth-loop", "name: morpho-wsteth-loop", 1), "universe: [aave-v3/wsteth-loop]", "universe: [morpho/wsteth-weth-loop]", 1)
	if !strings.Contains(body, "universe: [morpho/wsteth-weth-loop]") {
		t.Fatal("the example strategy's universe line moved")
	}
	if err := os.WriteFile(strat, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	src := "deployed by the test"
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
  deployments:
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
`, strat, c.keyfile, me.Hex(), mc.weth.Hex(), src, mc.blue.Hex(), src, mc.weth.Hex(), src, mc.steth.Hex(), src, mc.wst.Hex(), src, mc.curve.Hex(), src,
		mc.weth.Hex(), mc.wst.Hex(), mc.mp.Oracle.Hex(), mc.mp.Irm.Hex(), src,
		mc.weth.Hex(), mc.steth.Hex(), mc.wst.Hex(), mc.blue.Hex(), mc.curve.Hex())
	path := filepath.Join(dir, "service.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("YV_TEST_KEYSTORE_PASSWORD", c.password)
	conf, err := service.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	clock := service.NewManualClock(time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC))
	api := startChainService(t, ctx, conf, c, clock)
	svc := api.svc
	do := func(method, p, key string) (int, []byte) {
		t.Helper()
		return api.call(t, method, p, key, "")
	}
	last := func() (string, string) {
		t.Helper()
		_, body := do("GET", "/v1/vaults/loop/decisions?limit=1", "")
		var ds struct {
			Decisions []struct {
				Outcome string `json:"outcome"`
				Summary string `json:"summary"`
			} `json:"decisions"`
		}
		if err := json.Unmarshal(body, &ds); err != nil || len(ds.Decisions) != 1 {
			t.Fatalf("decisions: %s", body)
		}
		return ds.Decisions[0].Outcome, ds.Decisions[0].Summary
	}
	paused := func() bool {
		t.Helper()
		code, body := do("GET", "/v1/vaults/loop", "")
		var v vaultJSON
		if err := json.Unmarshal(body, &v); err != nil || code != 200 {
			t.Fatalf("GET vault: %d %s", code, body)
		}
		return v.Paused
	}

	if code, body := do("POST", "/v1/vaults/loop/rebalance", "rb-1"); code != 200 {
		t.Fatalf("rebalance: %d %s", code, body)
	}
	out, sum := last()
	if out != "traded" || !strings.Contains(sum, "1 executed, 0 failed") {
		t.Fatalf("the opening decision: %s %q", out, sum)
	}
	collW, debtW, _ := mc.position(t, me)
	coll := decimal.NewFromBigInt(c.uint(t, mc.wstArt, mc.wst, "getStETHByWstETH", collW), -18)
	debt := decimal.NewFromBigInt(debtW, -18)
	if coll.Sign() <= 0 || debt.Sign() <= 0 {
		t.Fatalf("on chain: collateral %s, debt %s: want a loop", coll, debt)
	}
	if lev := coll.Div(coll.Sub(debt)).InexactFloat64(); lev < 2.99 || lev > 3.01 {
		t.Errorf("leverage on chain %g (collateral %s, debt %s), want the strategy's 3", lev, coll, debt)
	}
	if wethLeft := c.uint(t, mc.erc20, mc.weth, "balanceOf", me); wethLeft.Cmp(e18("10")) >= 0 {
		t.Errorf("WETH left %s: want part of the 10 spent", wethLeft)
	}
	if paused() {
		t.Fatalf("vault paused after the open: %q", sum)
	}
	clock.Set(time.Date(2024, 7, 1, 6, 0, 0, 0, time.UTC))
	if code, body := do("POST", "/v1/vaults/loop/rebalance", "rb-2"); code != 200 {
		t.Fatalf("second rebalance: %d %s", code, body)
	}
	if out, sum := last(); paused() || strings.Contains(sum, "chain-reconcile") {
		t.Errorf("after the second rebalance: %s %q, paused %v; want the book to match the chain", out, sum, paused())
	}
	// The open's intent journalled the rate and the position its calls
	// were encoded at (an empty position before the open).
	rs, ok, err := (execution.StoreJournal{S: svc.Store()}).RatesOf("loop/api/rb-1")
	if err != nil || !ok || !rs["morpho/wsteth-weth-loop"].Equal(decimal.RequireFromString("1.15")) {
		t.Errorf("journalled rates of the open: %v (ok %v, err %v), want the chain's 1.15", rs, ok, err)
	}
	if v, ok := rs["morpho/wsteth-weth-loop borrow_shares"]; !ok || !v.IsZero() {
		t.Errorf("journalled borrow shares of the open: %v (%v), want the empty position's 0", v, ok)
	}
	// 1 WETH borrowed outside the service pauses the vault.
	c.transact(t, mc.blueArt, mc.blue, "borrow", mc.mp, e18("1"), new(big.Int), me, me)
	clock.Set(time.Date(2024, 7, 1, 12, 0, 0, 0, time.UTC))
	do("POST", "/v1/vaults/loop/rebalance", "rb-3")
	if out, sum := last(); !paused() || !strings.Contains(sum, "chain-reconcile") || !strings.Contains(sum, "morpho/wsteth-weth-loop debt") {
		t.Errorf("after a borrow outside the service: %s %q, paused %v; want paused by chain-reconcile naming the loop's debt", out, sum, paused())
	}
}
