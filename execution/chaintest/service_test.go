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

	"github.com/ethereum/go-ethereum/common"
	"github.com/shopspring/decimal"

	_ "github.com/yieldvault/yieldvault/adapters/all" // every market kind
	"github.com/yieldvault/yieldvault/service"
)

const serviceToken = "test-token-0123456789abcdef"

// sendFixture is the service in send mode on the simulated chain: a USD
// vault (deposit 1000) over aave-v3/usdc and morpho/usdc, whose
// deployments (execution.deployments) are Aave v3 deployed from its
// published artifacts and OpenZeppelin's ERC-4626; the vault's account
// holds minted tUSD.
type sendFixture struct {
	addr                       common.Address // the vault's address: the keystore's account, or its Safe
	store                      *service.Store // the state database, which holds the execution journal
	c                          *chain
	token, vaultArt, aTokenArt artifact
	asset, aToken, v4626       common.Address
	do                         func(method, p, key string) (int, []byte)
	// post POSTs a JSON body with the token and an Idempotency-Key.
	post func(p, key, body string) (int, []byte)
}

func newSendFixture(t *testing.T, minted string) *sendFixture {
	t.Helper()
	return newSendFixtureWith(t, minted, "", "", false)
}

// newSendFixtureWith adds extra to the service's configuration (top-level
// keys after the execution section, or indented, keys of it); a gate
// (gwei) is the strategy's rebalance.max_gas_price.
// With safe the vault is a Safe (deployed from @gnosis.pm/safe-contracts
// through its proxy factory, the test's key its only owner, threshold 1)
// holding the minted tUSD, executed through.
func newSendFixtureWith(t *testing.T, minted, extra, gate string, safe bool) *sendFixture {
	t.Helper()
	token := loadArtifact(t, "ERC20PresetMinterPauser")
	vaultArt := loadArtifact(t, "OZVault")
	aTokenArt := loadArtifact(t, "AaveAToken")
	c := newChain(t)
	ctx := context.Background()
	me := c.signer.Address()
	asset := c.deploy(t, token, "Test USD", "tUSD")
	holder, safeLine := me, ""
	if safe {
		holder, safeLine = deploySafe(t, c, me), ", safe: true"
	}
	c.transact(t, token, asset, "mint", holder, e18(minted))
	pool, aToken := aaveMarket(t, c, asset)
	v4626 := c.deploy(t, vaultArt, asset)

	dir := t.TempDir()
	strat := `name: two-lending
description: equal weights over Aave and an ERC-4626 vault
base: USD
universe: [aave-v3/usdc, morpho/usdc]
rules:
  eligible: tvl > 0
  score: net_apy
  weight: "1.0"
allocation: { method: top_k, k: 2 }
constraints: { idle: 0.02, max_weight: 0.6 }
`
	if gate != "" {
		strat += "rebalance: { max_gas_price: " + gate + " }\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "two.yaml"), []byte(strat), 0o600); err != nil {
		t.Fatal(err)
	}
	src := "deployed by the test"
	cfg := fmt.Sprintf(`state_db: state.db
durability: normal
token: { env: YV_TEST_TOKEN }
vaults:
  - { id: usd, strategy: two.yaml, deposit: "1000" }
execution:
  mode: send
  chain_id: 1337
  rpc: http://127.0.0.1:8545
  keystore: %s
  password_env: YV_TEST_KEYSTORE_PASSWORD
  vaults:
    - { id: usd, address: "%s"%s }
  deployments:
    - market: aave-v3/usdc
      protocol: aave-v3
      asset: { address: "%s", symbol: tUSD, decimals: 18, source: %s }
      contracts: { pool: { name: Aave v3 Pool, address: "%s", source: "%s from @aave/core-v3" } }
    - market: morpho/usdc
      protocol: erc4626
      asset: { address: "%s", symbol: tUSD, decimals: 18, source: %s }
      contracts: { vault: { name: OZVault, address: "%s", source: %s } }
  allow:
    - { contract: "%s", functions: [approve] }
    - { contract: "%s", functions: [supply, withdraw] }
    - { contract: "%s", functions: [deposit, withdraw] }
%s`, c.keyfile, holder.Hex(), safeLine, asset.Hex(), src, pool.Hex(), src, asset.Hex(), src, v4626.Hex(), src, asset.Hex(), pool.Hex(), v4626.Hex(), extra)
	path := filepath.Join(dir, "service.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	// A wrong password stops the service at start, at the keystore's
	// line (the tenth), without the password in the error.
	const wrong = "not-the-password-42"
	t.Setenv("YV_TEST_KEYSTORE_PASSWORD", wrong)
	if _, err := service.LoadConfig(path); err == nil || !strings.Contains(err.Error(), "service.yaml:10:") || !strings.Contains(err.Error(), "password does not decrypt") || strings.Contains(err.Error(), wrong) {
		t.Errorf("wrong password: err = %v", err)
	}
	t.Setenv("YV_TEST_KEYSTORE_PASSWORD", c.password)
	conf, err := service.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	api := startChainService(t, ctx, conf, c, nil, nil)
	do := func(method, p, key string) (int, []byte) {
		t.Helper()
		return api.call(t, method, p, key, "")
	}
	post := func(p, key, body string) (int, []byte) {
		t.Helper()
		return api.call(t, "POST", p, key, body)
	}
	return &sendFixture{store: api.svc.Store(), addr: holder, c: c, token: token, vaultArt: vaultArt, aTokenArt: aTokenArt, asset: asset, aToken: aToken, v4626: v4626, do: do, post: post}
}

// TestService_SendMode: a rebalance through the API sends the
// transactions, and the chain's balances match the orders the decision
// journalled. The same request again sends nothing.
func TestService_SendMode(t *testing.T) {
	f := newSendFixture(t, "1000")
	c, token, vaultArt, aTokenArt, asset, aToken, v4626, do := f.c, f.token, f.vaultArt, f.aTokenArt, f.asset, f.aToken, f.v4626, f.do
	ctx := context.Background()
	me := c.signer.Address()
	if code, body := do("POST", "/v1/vaults/usd/rebalance", "rb-1"); code != 200 {
		t.Fatalf("rebalance: %d %s", code, body)
	}
	code, body := do("GET", "/v1/vaults/usd/decisions?limit=1&detail=1", "")
	var ds struct {
		Decisions []struct {
			Outcome string          `json:"outcome"`
			Detail  json.RawMessage `json:"detail"`
		} `json:"decisions"`
	}
	if err := json.Unmarshal(body, &ds); err != nil || code != 200 || len(ds.Decisions) != 1 {
		t.Fatalf("decisions: %d %s", code, body)
	}
	var detail struct {
		Decision struct {
			Orders []struct {
				Market string          `json:"market"`
				Side   string          `json:"side"`
				Amount decimal.Decimal `json:"amount"`
			} `json:"orders"`
		} `json:"decision"`
	}
	if err := json.Unmarshal(ds.Decisions[0].Detail, &detail); err != nil {
		t.Fatalf("detail: %v\n%s", err, ds.Decisions[0].Detail)
	}
	bought := map[string]*big.Int{}
	spent := new(big.Int)
	for _, o := range detail.Decision.Orders {
		if o.Side != "buy" {
			t.Fatalf("order %+v: a fresh vault only buys", o)
		}
		u := o.Amount.Shift(18).Truncate(0).BigInt()
		bought[o.Market] = u
		spent.Add(spent, u)
	}
	if len(bought) != 2 {
		t.Fatalf("orders %+v (outcome %s), want buys of both markets", detail.Decision.Orders, ds.Decisions[0].Outcome)
	}
	check := func(step string) {
		t.Helper()
		if got := c.uint(t, aTokenArt, aToken, "balanceOf", me); got.Cmp(bought["aave-v3/usdc"]) != 0 {
			t.Errorf("%s: aToken balance %s, want the Aave order's %s", step, got, bought["aave-v3/usdc"])
		}
		if got := c.uint(t, vaultArt, v4626, "balanceOf", me); got.Cmp(bought["morpho/usdc"]) != 0 {
			t.Errorf("%s: ERC-4626 shares %s, want the order's %s", step, got, bought["morpho/usdc"])
		}
		if got, want := c.uint(t, token, asset, "balanceOf", me), new(big.Int).Sub(e18("1000"), spent); got.Cmp(want) != 0 {
			t.Errorf("%s: tUSD balance %s, want %s", step, got, want)
		}
	}
	check("after the rebalance")
	nonce, _ := c.client.NonceAt(ctx, me, nil)
	if code, body := do("POST", "/v1/vaults/usd/rebalance", "rb-1"); code != 200 {
		t.Fatalf("replayed rebalance: %d %s", code, body)
	}
	if n, _ := c.client.NonceAt(ctx, me, nil); n != nonce {
		t.Errorf("the replayed request sent %d transactions", n-nonce)
	}
	check("after the replay")
}

// TestService_SendModeRevert: the token is paused, so the first supply
// reverts in simulation; the decision is journalled as failed with the
// token's revert reason, and no transaction spends anything.
func TestService_SendModeRevert(t *testing.T) {
	f := newSendFixture(t, "1000")
	me := f.c.signer.Address()
	f.c.transact(t, f.token, f.asset, "pause")
	code, body := f.do("POST", "/v1/vaults/usd/rebalance", "rb-1")
	if code == 200 {
		t.Fatalf("rebalance answered 200: %s", body)
	}
	const reason = "ERC20Pausable: token transfer while paused"
	if !strings.Contains(string(body), "reverts in simulation") || !strings.Contains(string(body), reason) {
		t.Errorf("answer %d %s, want the simulated revert with the token's reason", code, body)
	}
	_, body = f.do("GET", "/v1/vaults/usd/decisions?limit=1", "")
	if !strings.Contains(string(body), `"outcome":"failed"`) || !strings.Contains(string(body), reason) {
		t.Errorf("decision log %s, want the failure with its reason", body)
	}
	if got := f.c.uint(t, f.token, f.asset, "balanceOf", me); got.Cmp(e18("1000")) != 0 {
		t.Errorf("tUSD balance %s, want the 1000 minted: nothing spent", got)
	}
}
