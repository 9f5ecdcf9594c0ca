package service

import (
	"context"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/execution"
	"github.com/yieldvault/yieldvault/fixed"
	"github.com/yieldvault/yieldvault/vault"
)

// TestService_LoopStrategy: the service runs the example wstETH/WETH loop
// with the paper executor and the same vault code as the backtest: a week
// on the embedded history opens the loop at the strategy's leverage (3),
// with debt, and its persisted position keeps the leverage, its indexes
// and its scaled debt.
func TestService_LoopStrategy(t *testing.T) {
	path := writeConfig(t, "", "  - { id: loop, strategy: $STRAT/aave-wsteth-loop.yaml, deposit: \"100\" }\n")
	s := newTestService(t, path, NewManualClock(t0))
	ctx := context.Background()
	if _, err := s.Advance(ctx, t0.Add(7*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	row, err := s.store.Vault(ctx, "loop")
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, p := range row.State.Positions {
		if p.Market != "aave-v3/wsteth-loop" || p.Units.Sign() == 0 {
			continue
		}
		found = true
		if p.Leverage != 3 || p.Debt.Sign() <= 0 || p.DebtIndex <= 0 || p.Rate <= 1 {
			t.Errorf("loop position %+v: want leverage 3, debt > 0 and its indexes", p)
		}
		coll := p.Units.Float() * p.Index * p.Rate
		debt := p.Debt.Float() * p.DebtIndex
		if lev := coll / (coll - debt); lev < 2.9 || lev > 3.1 {
			t.Errorf("the persisted loop's leverage is %g, want about 3", lev)
		}
	}
	if !found {
		t.Fatalf("no loop position after a week: %+v", row.State.Positions)
	}
}

// TestLoadConfig_LoopRefusedOnChain: propose and send modes encode only
// the built-in loops (execution.IsLoop): with one the allowlist must hold
// every call its orders make (a missing entry is an error naming it,
// Pool.setUserEMode included, as the Aave loop's profile has it in an
// e-mode category, and with them all the configuration loads); a loop a
// contracts file maps to a plain lending deployment, whose supply would
// not borrow, is refused in words rather than have every rebalance's
// relever or leveraged buy refused.
func TestLoadConfig_LoopRefusedOnChain(t *testing.T) {
	const safe = "0x00000000000000000000000000000000000000A1"
	vaults := "  - { id: loop, strategy: $STRAT/aave-wsteth-loop.yaml, deposit: \"100\" }\n"
	exec := "execution:\n  mode: propose\n  vaults:\n    - { id: loop, address: \"" + safe + "\" }\n"
	if _, err := LoadConfig(writeConfig(t, exec, vaults)); err == nil || !strings.Contains(err.Error(), "missing allowlist entry: vault loop trades aave-v3/wsteth-loop") {
		t.Errorf("propose mode with the built-in loop and no allowlist: error = %v, want the missing entry", err)
	}
	allow := `  allow:
    - { contract: "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", functions: [approve, withdraw, deposit] }
    - { contract: "0xae7ab96520DE3A18E5e111B5EaAb095312D7fE84", functions: [approve, submit] }
    - { contract: "0x7f39C581F595B53c5cb19bD0b3f8dA6c935E2Ca0", functions: [approve, wrap, unwrap] }
    - { contract: "0x87870Bca3F3fD6335C3F4ce8392D69350B4fA4E2", functions: [supply, borrow, withdraw, repay] }
    - { contract: "0xDC24316b9AE028F1497c275EB9192a3Ea0f67022", functions: [exchange] }
`
	if _, err := LoadConfig(writeConfig(t, exec+allow, vaults)); err == nil || !strings.Contains(err.Error(), "Pool.setUserEMode") {
		t.Errorf("propose mode with the built-in loop and no setUserEMode allowed: error = %v, want the missing entry", err)
	}
	allow = strings.Replace(allow, "repay]", "repay, setUserEMode]", 1)
	if _, err := LoadConfig(writeConfig(t, exec+allow, vaults)); err != nil {
		t.Errorf("propose mode with the built-in loop and its allowlist: error = %v, want none", err)
	}
	// A contracts file's own loop deployment (a fork's or a test chain's
	// contracts): protocol aave-v3-loop with its five contracts, the asset
	// its weth.
	own := func(asset string) string {
		return exec + `  deployments:
    - market: aave-v3/wsteth-loop
      protocol: aave-v3-loop
      asset: { address: "` + asset + `", symbol: WETH, decimals: 18, source: test }
      contracts:
        pool: { name: Pool, address: "0x0000000000000000000000000000000000000101", source: test }
        weth: { name: WETH, address: "0x0000000000000000000000000000000000000102", source: test }
        lido: { name: stETH, address: "0x0000000000000000000000000000000000000103", source: test }
        wsteth: { name: wstETH, address: "0x0000000000000000000000000000000000000104", source: test }
        curve: { name: Curve, address: "0x0000000000000000000000000000000000000105", source: test }
  allow:
    - { contract: "0x0000000000000000000000000000000000000102", functions: [approve, withdraw, deposit] }
    - { contract: "0x0000000000000000000000000000000000000103", functions: [approve, submit] }
    - { contract: "0x0000000000000000000000000000000000000104", functions: [approve, wrap, unwrap] }
    - { contract: "0x0000000000000000000000000000000000000101", functions: [supply, borrow, withdraw, repay, setUserEMode] }
    - { contract: "0x0000000000000000000000000000000000000105", functions: [exchange] }
`
	}
	if _, err := LoadConfig(writeConfig(t, own("0x0000000000000000000000000000000000000102"), vaults)); err != nil {
		t.Errorf("propose mode with the loop deployed at a contracts file's addresses: error = %v, want none", err)
	}
	if _, err := LoadConfig(writeConfig(t, own("0x0000000000000000000000000000000000000101"), vaults)); err == nil || !strings.Contains(err.Error(), "an aave-v3-loop's asset is its weth contract") {
		t.Errorf("a loop deployment whose asset is not its weth: error = %v, want one saying so", err)
	}
	mapped := exec + `  deployments:
    - market: aave-v3/wsteth-loop
      protocol: aave-v3
      asset: { address: "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", symbol: WETH, decimals: 18, source: test }
      contracts: { pool: { name: Aave v3 Pool, address: "0x87870Bca3F3fD6335C3F4ce8392D69350B4fA4E2", source: test } }
  allow:
    - { contract: "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", functions: [approve] }
    - { contract: "0x87870Bca3F3fD6335C3F4ce8392D69350B4fA4E2", functions: [supply, withdraw] }
`
	_, err := LoadConfig(writeConfig(t, mapped, vaults))
	if !errors.Is(err, adapters.ErrInvalid) || !strings.Contains(err.Error(), "trades aave-v3/wsteth-loop, a leveraged loop: propose mode encodes only the wstETH loops on Aave v3 and Morpho Blue and the weETH loop on Aave v3") {
		t.Errorf("propose mode with a mapped loop: error = %v, want a refusal naming the loop", err)
	}
	if _, err := LoadConfig(writeConfig(t, "", vaults)); err != nil {
		t.Errorf("paper mode with the loop: error = %v, want none", err)
	}
}

// TestFilledDecision_Loop: in send mode a loop's buy is booked at the
// equity it spent on chain, the ether staked (WETH unwrapped) less the
// WETH borrowed back, and a relever keeps its leverage (the adapter
// relevers the book at constant equity) with its transactions in the
// reason.
func TestFilledDecision_Loop(t *testing.T) {
	cfg := &execution.Config{Book: execution.Builtin()}
	const m = "aave-v3/wsteth-loop"
	d := vault.Decision{Orders: []vault.Order{
		{Market: m, Side: vault.Buy, Amount: fixed.RequireFromString("10"), Leverage: 2},
		{Market: m, Side: vault.Relever, Leverage: 3},
	}}
	wei := func(s string) *big.Int { return decimal.RequireFromString(s).Shift(18).BigInt() }
	h := common.HexToHash("0x01")
	fills := []execution.Fill{
		{Order: 0, Spent: wei("19.999"), Received: wei("9.999"), Queued: new(big.Int), GasPaid: new(big.Int), Hashes: []common.Hash{h}},
		{Order: 1, Spent: wei("5"), Received: wei("5"), Queued: new(big.Int), GasPaid: new(big.Int), Hashes: []common.Hash{h}},
	}
	got, err := filledDecision(cfg, d, fills)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Orders) != 2 {
		t.Fatalf("orders %+v, want both", got.Orders)
	}
	if buy := got.Orders[0]; !buy.Amount.Dec().Equal(decimal.NewFromInt(10)) || buy.Leverage != 2 {
		t.Errorf("buy %+v: want 10 (19.999 staked less 9.999 borrowed) at leverage 2", buy)
	}
	if rel := got.Orders[1]; rel.Side != vault.Relever || rel.Leverage != 3 || !strings.Contains(rel.Reason, h.Hex()) {
		t.Errorf("relever %+v: want leverage 3 with its transaction in the reason", rel)
	}
}

// TestLoadConfig_MorphoLoop: the built-in Morpho Blue wstETH loop loads
// in propose mode once the allowlist holds its calls (without, the error
// names the missing entry on Morpho Blue), and a contracts file's
// morpho-blue-loop deployment is checked where it is written: its market
// must lend the deployment's WETH against its wstETH, with an LLTV below
// 100% and checksummed addresses, and it must name the market at all.
func TestLoadConfig_MorphoLoop(t *testing.T) {
	example, err := os.ReadFile("../examples/strategies/aave-wsteth-loop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	strat := filepath.Join(t.TempDir(), "morpho-loop.yaml")
	body := strings.Replace(string(example), "universe: [aave-v3/wsteth-loop]", "universe: [morpho/wsteth-weth-loop]", 1)
	if err := os.WriteFile(strat, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	vaults := "  - { id: loop, strategy: " + strat + ", deposit: \"100\" }\n"
	exec := "execution:\n  mode: propose\n  vaults:\n    - { id: loop, address: \"0x00000000000000000000000000000000000000A1\" }\n"
	allow := `  allow:
    - { contract: "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", functions: [approve, withdraw, deposit] }
    - { contract: "0xae7ab96520DE3A18E5e111B5EaAb095312D7fE84", functions: [approve, submit] }
    - { contract: "0x7f39C581F595B53c5cb19bD0b3f8dA6c935E2Ca0", functions: [approve, wrap, unwrap] }
    - { contract: "0xBBBBBbbBBb9cC5e90e3b3Af64bdAF62C37EEFFCb", functions: [supplyCollateral, borrow, withdrawCollateral, repay] }
    - { contract: "0xDC24316b9AE028F1497c275EB9192a3Ea0f67022", functions: [exchange] }
`
	noMorpho := strings.Replace(allow, "    - { contract: \"0xBBBBBbbBBb9cC5e90e3b3Af64bdAF62C37EEFFCb\", functions: [supplyCollateral, borrow, withdrawCollateral, repay] }\n", "", 1)
	if _, err := LoadConfig(writeConfig(t, exec+noMorpho, vaults)); err == nil || !strings.Contains(err.Error(), "missing allowlist entry: vault loop trades morpho/wsteth-weth-loop") || !strings.Contains(err.Error(), "Morpho Blue.supplyCollateral") {
		t.Errorf("the built-in Morpho loop without Morpho in the allowlist: error = %v, want the missing entry naming Morpho Blue's supplyCollateral", err)
	}
	if _, err := LoadConfig(writeConfig(t, exec+allow, vaults)); err != nil {
		t.Errorf("the built-in Morpho loop with its allowlist: error = %v, want none", err)
	}
	dep := func(market string) string {
		return exec + `  deployments:
    - market: morpho/wsteth-weth-loop
      protocol: morpho-blue-loop
      asset: { address: "0x0000000000000000000000000000000000000102", symbol: WETH, decimals: 18, source: test }
      contracts:
        morpho: { name: Morpho, address: "0x0000000000000000000000000000000000000101", source: test }
        weth: { name: WETH, address: "0x0000000000000000000000000000000000000102", source: test }
        lido: { name: stETH, address: "0x0000000000000000000000000000000000000103", source: test }
        wsteth: { name: wstETH, address: "0x0000000000000000000000000000000000000104", source: test }
        curve: { name: Curve, address: "0x0000000000000000000000000000000000000105", source: test }
` + market + `  allow:
    - { contract: "0x0000000000000000000000000000000000000102", functions: [approve, withdraw, deposit] }
    - { contract: "0x0000000000000000000000000000000000000103", functions: [approve, submit] }
    - { contract: "0x0000000000000000000000000000000000000104", functions: [approve, wrap, unwrap] }
    - { contract: "0x0000000000000000000000000000000000000101", functions: [supplyCollateral, borrow, withdrawCollateral, repay] }
    - { contract: "0x0000000000000000000000000000000000000105", functions: [exchange] }
`
	}
	market := func(loan, lltv string) string {
		return `      morpho_market: { loan_token: "` + loan + `", collateral_token: "0x0000000000000000000000000000000000000104", oracle: "0x0000000000000000000000000000000000000106", irm: "0x0000000000000000000000000000000000000107", lltv: "` + lltv + `", source: test }
`
	}
	if _, err := LoadConfig(writeConfig(t, dep(market("0x0000000000000000000000000000000000000102", "945000000000000000")), vaults)); err != nil {
		t.Errorf("a contracts file's morpho-blue-loop: error = %v, want none", err)
	}
	for _, c := range []struct{ name, market, want string }{
		{"no market", "", "service.yaml:7:13: execution.Check: a morpho-blue-loop needs morpho_market"},
		{"another loan token", market("0x0000000000000000000000000000000000000103", "945000000000000000"), "service.yaml:16:36: execution.Check: the market's loan token must be the loop's weth contract"},
		{"an LLTV of 100%", market("0x0000000000000000000000000000000000000102", "1000000000000000000"), "service.yaml:16:257: execution.Check: lltv \"1000000000000000000\" must be an integer in (0, 1e18)"},
		{"a bad checksum", market("0xc02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", "945000000000000000"), "service.yaml:16:36: execution.Check: address 0xc02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2 has a bad EIP-55 checksum"},
	} {
		_, err := LoadConfig(writeConfig(t, dep(c.market), vaults))
		if !errors.Is(err, adapters.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error = %v, want %q", c.name, err, c.want)
		}
	}
}

// TestQueuedLoops: a queued sell of a loop is refused by the on-chain
// executors (the service does not follow its claims on chain yet), with
// the reason; a queued sell of Lido's stETH and an instant sell of the
// loop are not.
func TestQueuedLoops(t *testing.T) {
	cfg := &execution.Config{Book: execution.Builtin()}
	for _, tc := range []struct {
		o      vault.Order
		refuse bool
	}{
		{vault.Order{Market: "aave-v3/wsteth-loop", Side: vault.Sell, All: true, Mode: adapters.ExitQueue}, true},
		{vault.Order{Market: "morpho/wsteth-weth-loop", Side: vault.Sell, Amount: fixed.RequireFromString("1"), Mode: adapters.ExitQueue}, true},
		{vault.Order{Market: "aave-v3/wsteth-loop", Side: vault.Sell, All: true, Mode: adapters.ExitInstant}, false},
		{vault.Order{Market: "lido/steth", Side: vault.Sell, Amount: fixed.RequireFromString("1"), Mode: adapters.ExitQueue}, false},
	} {
		err := queuedLoops(cfg, vault.Decision{Orders: []vault.Order{tc.o}})
		if tc.refuse != (err != nil) || (err != nil && (!errors.Is(err, adapters.ErrInvalid) || !strings.Contains(err.Error(), "queued unwind of a loop"))) {
			t.Errorf("%s %s in %s mode: error %v, want refused %v", tc.o.Side, tc.o.Market, tc.o.Mode, err, tc.refuse)
		}
	}
}
