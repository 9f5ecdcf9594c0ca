package chaintest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/yieldvault/yieldvault/service"
)

// TestService_ProposeModeDeposit: in propose mode, with execution.rpc's
// connection (Options.ChainClient), an API deposit reads its transfer on
// chain as in send mode: tUSD minted to the vault's address (a Safe's
// address, here one with no code: propose mode sends nothing) is booked
// once confirmed (deposit_confirmations 1), once; an amount the transfer
// does not carry is refused.
func TestService_ProposeModeDeposit(t *testing.T) {
	token := loadArtifact(t, "ERC20PresetMinterPauser")
	vaultArt := loadArtifact(t, "OZVault")
	c := newChain(t)
	ctx := context.Background()
	asset := c.deploy(t, token, "Test USD", "tUSD")
	v4626 := c.deploy(t, vaultArt, asset)
	safe := common.HexToAddress("0x00000000000000000000000000000000000000A1")
	dir := t.TempDir()
	strat := "name: one-vault\nbase: USD\nuniverse: [morpho/usdc]\nrules:\n  eligible: tvl > 0\n  score: net_apy\n  weight: \"1.0\"\nallocation: { method: top_k, k: 1 }\nconstraints: { idle: 0.02, max_weight: 1 }\n"
	if err := os.WriteFile(filepath.Join(dir, "one.yaml"), []byte(strat), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`state_db: state.db
durability: normal
token: { env: YV_TEST_TOKEN }
vaults:
  - { id: usd, strategy: one.yaml }
execution:
  mode: propose
  chain_id: 1337
  rpc: http://127.0.0.1:8545
  deposit_confirmations: 1
  vaults:
    - { id: usd, address: "%s" }
  deployments:
    - market: morpho/usdc
      protocol: erc4626
      asset: { address: "%s", symbol: tUSD, decimals: 18, source: deployed by the test }
      contracts: { vault: { name: OZVault, address: "%s", source: deployed by the test } }
  allow:
    - { contract: "%s", functions: [approve] }
    - { contract: "%s", functions: [deposit, withdraw] }
`, safe.Hex(), asset.Hex(), v4626.Hex(), asset.Hex(), v4626.Hex())
	path := filepath.Join(dir, "service.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	conf, err := service.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	api := startChainService(t, ctx, conf, c, nil, nil)
	post := func(key, body string) (int, string) {
		t.Helper()
		code, b := api.call(t, "POST", "/v1/vaults/usd/deposit", key, body)
		return code, string(b)
	}
	rc := c.transact(t, token, asset, "mint", safe, e18("40"))
	c.wait(t, rc.TxHash)
	body := func(amount string) string {
		return fmt.Sprintf(`{"user":"alice","amount":%q,"tx":%q}`, amount, rc.TxHash.Hex())
	}
	if code, s := post("d-41", body("41")); code != 422 || !strings.Contains(s, "transferred 40 tUSD") {
		t.Errorf("deposit of 41 on a transfer of 40: %d %s", code, s)
	}
	if code, s := post("d-40", body("40")); code != 200 || !strings.Contains(s, "alice deposited 40") {
		t.Fatalf("deposit of 40: %d %s", code, s)
	}
	if code, s := post("d-40-again", body("40")); code != 422 || !strings.Contains(s, "already booked") {
		t.Errorf("the same transfer again: %d %s", code, s)
	}
}
