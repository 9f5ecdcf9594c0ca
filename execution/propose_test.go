package execution

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
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
	"github.com/yieldvault/yieldvault/fixed"
	"github.com/yieldvault/yieldvault/vault"
)

const safeAddr = "0x00000000000000000000000000000000000000A1"

func pathPos(p string) string { return "cfg.yaml " + p }

// allowAll is an allowlist file entry for each of the calls a vault of
// these markets makes.
func allowFor(t *testing.T) []AllowFile {
	t.Helper()
	return []AllowFile{
		{Contract: tWETH.Address.Hex(), Functions: []string{"approve", "withdraw"}},
		{Contract: cAavePool.Address.Hex(), Functions: []string{"supply", "withdraw"}},
		{Contract: tStETH.Address.Hex(), Functions: []string{"submit", "approve"}},
		{Contract: cCurveStETH.Address.Hex(), Functions: []string{"exchange"}},
		{Contract: cLidoQueue.Address.Hex(), Functions: []string{"requestWithdrawals"}},
	}
}

func checkedConfig(t *testing.T, dir string) *Config {
	t.Helper()
	c, err := Check(&File{Mode: ModePropose, Proposals: dir, Vaults: []VaultFile{{ID: "eth", Address: mustAddr(safeAddr).Hex()}}, Allow: allowFor(t)},
		pathPos, func(s string) string { return s }, map[string][]string{"eth": {"aave-v3/weth", "lido/steth"}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCheck_Errors(t *testing.T) {
	vaults := []VaultFile{{ID: "eth", Address: mustAddr(safeAddr).Hex()}}
	u := map[string][]string{"eth": {"aave-v3/weth", "lido/steth"}}
	lower := strings.ToLower(cAavePool.Address.Hex())
	tests := []struct {
		name string
		f    File
		u    map[string][]string
		pos  string
		msg  string
	}{
		{"unknown mode", File{Mode: "yolo"}, u, "$.execution.mode", "not paper, propose or send"},
		{"send without rpc", File{Mode: "send"}, u, "$.execution.rpc", "needs rpc"},
		{"other chain without its deployments", File{Mode: ModePropose, ChainID: 10, Vaults: vaults}, u, "$.execution.vaults", "no on-chain deployment"},
		{"deployment of an unknown protocol", File{Deployments: []DeploymentFile{{Market: "x/y", Protocol: "lido"}}}, u, "$.execution.deployments[0].protocol", "aave-v3, aave-v3-loop, aave-v3-loop-weeth, morpho-blue-loop, compound-v3 or erc4626"},
		{"deployment with a bad checksum", File{Deployments: []DeploymentFile{{Market: "x/y", Protocol: "erc4626", Asset: TokenFile{Address: strings.ToLower(tUSDC.Address.Hex())}}}}, u, "$.execution.deployments[0].asset.address", "checksum"},
		{"deployment without its contract", File{Deployments: []DeploymentFile{{Market: "x/y", Protocol: "erc4626", Asset: TokenFile{Address: tUSDC.Address.Hex(), Symbol: "USDC", Decimals: 6, Source: "s"}}}}, u, "$.execution.deployments[0].contracts", "needs a vault contract"},
		{"bad checksum", File{Allow: []AllowFile{{Contract: lower, Functions: []string{"supply"}}}}, u, "$.execution.allow[0].contract", "checksum"},
		{"unknown contract", File{Allow: []AllowFile{{Contract: "0x000000000000000000000000000000000000dEaD", Functions: []string{"supply"}}}}, u, "$.execution.allow[0].contract", "unknown contract"},
		{"function never called", File{Allow: []AllowFile{{Contract: cAavePool.Address.Hex(), Functions: []string{"flashLoan"}}}}, u, "$.execution.allow[0].functions[0]", "never calls flashLoan"},
		{"vault address checksum", File{Vaults: []VaultFile{{ID: "eth", Address: "0x00000000000000000000000000000000000000a1"}}}, u, "$.execution.vaults[0].address", "checksum"},
		{"unknown vault", File{Vaults: []VaultFile{{ID: "btc", Address: mustAddr(safeAddr).Hex()}}}, u, "$.execution.vaults[0].id", "not one of the configured vaults"},
		{"vault without address", File{Mode: ModePropose, Allow: allowFor(t)}, u, "$.execution.vaults", "has no address"},
		{"missing allowlist entry", File{Mode: ModePropose, Vaults: vaults, Allow: allowFor(t)[:4]}, u, "$.execution.allow", "missing allowlist entry: vault eth trades lido/steth, whose sell orders call Lido WithdrawalQueueERC721.requestWithdrawals"},
		{"market without deployment", File{Mode: ModePropose, Vaults: vaults, Allow: allowFor(t)}, map[string][]string{"eth": {"morpho/weth"}}, "$.execution.vaults", "without naming one"},
		{"market not executable yet", File{Mode: ModePropose, Vaults: vaults, Allow: allowFor(t)}, map[string][]string{"eth": {"curve/steth-eth"}}, "$.execution.vaults", "LP token's price"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Check(&tt.f, pathPos, func(s string) string { return s }, tt.u)
			var e *adapters.Error
			if !errors.As(err, &e) || e.Kind != adapters.KindInvalid {
				t.Fatalf("err = %v, want an invalid-input error", err)
			}
			if e.Pos != pathPos(tt.pos) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %v (at %q), want at %q mentioning %q", err, e.Pos, pathPos(tt.pos), tt.msg)
			}
		})
	}
	// paper mode with no section at all is fine.
	if c, err := Check(&File{}, pathPos, func(s string) string { return s }, u); err != nil || c.Mode != ModePaper {
		t.Errorf("empty section: %v, %v", c, err)
	}
}

func TestAllowlist_Check(t *testing.T) {
	vaultA := mustAddr(safeAddr)
	other := common.HexToAddress("0x00000000000000000000000000000000000000B2")
	a := NewAllowlist()
	a.Allow(tWETH.Address, "approve")
	a.Allow(cAavePool.Address, "supply", "withdraw")
	good, err := (&Encoder{Vault: vaultA, Book: Builtin()}).Calls(Request{Market: "aave-v3/weth", Op: Supply, Amount: big.NewInt(5)})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Check(vaultA, good); err != nil {
		t.Errorf("allowed batch refused: %v", err)
	}
	toOther, _ := (&Encoder{Vault: other, Book: Builtin()}).Calls(Request{Market: "aave-v3/weth", Op: Withdraw, All: true})
	borrow, _ := (&Encoder{Vault: vaultA, Book: Builtin()}).Calls(Request{Market: "aave-v3/weth", Op: Borrow, Amount: big.NewInt(5)})
	badSpender, _ := approve(tWETH.Contract, other, big.NewInt(1))
	tests := []struct {
		name  string
		calls []Call
		msg   string
	}{
		{"recipient is not the vault", toOther, "to is " + other.Hex() + ", not the vault's own address"},
		{"function not allowed", borrow, "Aave v3 Pool.borrow at " + cAavePool.Address.Hex() + ", is not in the allowlist"},
		{"approval to an unknown spender", []Call{badSpender}, "approves " + other.Hex()},
	}
	for _, tt := range tests {
		err := a.Check(vaultA, tt.calls)
		if !errors.Is(err, adapters.ErrInvalid) || !strings.Contains(err.Error(), tt.msg) || !strings.Contains(err.Error(), "refused") {
			t.Errorf("%s: err = %v, want a refusal mentioning %q", tt.name, err, tt.msg)
		}
	}
}

func TestPropose_WritesSafeBatch(t *testing.T) {
	dir := t.TempDir()
	c := checkedConfig(t, dir)
	d := vault.Decision{Time: time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC), Trigger: vault.TriggerSchedule,
		Costs: decimal.RequireFromString("0.011"),
		Orders: []vault.Order{
			{Market: "lido/steth", Side: vault.Sell, Amount: fixed.RequireFromString("2"), Mode: adapters.ExitInstant, EstCost: fixed.RequireFromString("0.01"), Reason: "rebalance"},
			{Market: "aave-v3/weth", Side: vault.Buy, Amount: fixed.RequireFromString("1.5"), EstCost: fixed.RequireFromString("0.001"), Reason: "rebalance"},
		}}
	p, err := c.Propose("eth", "eth/rebalance/2024-03-01T12:00:00Z", d, 0.01)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "rebalance-2024-03-01T12-00-00Z" {
		t.Errorf("name = %s", p.Name)
	}
	js, err := os.ReadFile(filepath.Join(dir, "eth", p.Name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var b SafeBatch
	if err := json.Unmarshal(js, &b); err != nil {
		t.Fatal(err)
	}
	if b.ChainID != "1" || b.Version != "1.0" || b.CreatedAt != d.Time.UnixMilli() || b.Meta.CreatedFromSafeAddress != mustAddr(safeAddr).Hex() {
		t.Errorf("batch header = %+v", b)
	}
	sum, err := b.ComputeChecksum()
	if err != nil || sum != b.Meta.Checksum {
		t.Errorf("checksum %s, recomputed %s (%v)", b.Meta.Checksum, sum, err)
	}
	// stETH approve + Curve exchange, then WETH approve + Aave supply.
	if len(b.Transactions) != 4 {
		t.Fatalf("%d transactions, want 4", len(b.Transactions))
	}
	ex := b.Transactions[1]
	// min out: the quote 2 - 0.01 = 1.99 ETH less max_loss 1%: 1.9701 ETH.
	wantMin := "1970100000000000000"
	if ex.To != cCurveStETH.Address.Hex() || ex.ContractInputsValues["min_dy"] != wantMin || ex.ContractInputsValues["dx"] != "2000000000000000000" {
		t.Errorf("exchange = %+v, want dx 2e18 and min_dy %s", ex, wantMin)
	}
	n, _ := new(big.Int).SetString(wantMin, 10)
	if !strings.HasSuffix(ex.Data, hex.EncodeToString(common.LeftPadBytes(n.Bytes(), 32))) {
		t.Errorf("exchange data %s does not end with min_dy", ex.Data)
	}
	sup := b.Transactions[3]
	if sup.ContractMethod == nil || sup.ContractMethod.Name != "supply" || sup.ContractInputsValues["onBehalfOf"] != mustAddr(safeAddr).Hex() || sup.ContractInputsValues["amount"] != "1500000000000000000" {
		t.Errorf("supply = %+v", sup)
	}
	txt, err := os.ReadFile(filepath.Join(dir, "eth", p.Name+".txt"))
	if err != nil || !strings.Contains(string(txt), "Nothing was sent") || !strings.Contains(string(txt), "sell lido/steth 2.00000000 (instant)") {
		t.Errorf("summary:\n%s (%v)", txt, err)
	}
	// The re-run of the intent writes the same bytes.
	if _, err := c.Propose("eth", "eth/rebalance/2024-03-01T12:00:00Z", d, 0.01); err != nil {
		t.Fatal(err)
	}
	js2, _ := os.ReadFile(filepath.Join(dir, "eth", p.Name+".json"))
	if !bytes.Equal(js, js2) {
		t.Error("a re-run wrote a different batch")
	}
	list, err := c.ListProposals("eth")
	if err != nil || len(list) != 1 || list[0].Name != p.Name || list[0].Calls != 4 {
		t.Errorf("list = %+v, %v", list, err)
	}
	if got, err := c.ReadProposal("eth", p.Name, "json"); err != nil || !bytes.Equal(got, js) {
		t.Errorf("ReadProposal: %v", err)
	}
	for _, bad := range []string{"../eth/" + p.Name, "", ".hidden", "x/y"} {
		if _, err := c.ReadProposal("eth", bad, "json"); !errors.Is(err, adapters.ErrNotFound) {
			t.Errorf("ReadProposal(%q) = %v, want not found", bad, err)
		}
	}
}

func TestPropose_Refusals(t *testing.T) {
	c := checkedConfig(t, t.TempDir())
	at := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		o    vault.Order
		msg  string
	}{
		{"market outside the allowlist", vault.Order{Market: "compound-v3/weth", Side: vault.Buy, Amount: fixed.NewFromInt(1)}, "approves 0xA17581A9E3356d9A858b789D68B4d866e593aE94 to spend WETH, which is not an allowed contract"},
		{"function outside the allowlist", vault.Order{Market: "aave-v3/usdc", Side: vault.Buy, Amount: fixed.NewFromInt(1)}, "USDC.approve at 0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48, is not in the allowlist"},
		{"wrapped amount needs a rate", vault.Order{Market: "lido/wsteth", Side: vault.Sell, Amount: fixed.NewFromInt(1), Mode: adapters.ExitQueue}, "share rate"},
		{"quote not positive", vault.Order{Market: "lido/steth", Side: vault.Sell, Amount: fixed.NewFromInt(1), EstCost: fixed.NewFromInt(1), Mode: adapters.ExitInstant}, "not positive"},
		{"unknown market", vault.Order{Market: "kamino/usdc", Side: vault.Buy, Amount: fixed.NewFromInt(1)}, "Solana"},
		// A relever order (a loop's) on a market the book maps: refused in
		// words, before any call is encoded (issue 13).
		{"relever", vault.Order{Market: "aave-v3/weth", Side: vault.Relever, Leverage: 2.5}, "relevering a loop to 2.5 is not encoded"},
		{"loop open", vault.Order{Market: "aave-v3/weth", Side: vault.Buy, Leverage: 3, Amount: fixed.NewFromInt(1)}, "opening a loop at leverage 3"},
	}
	for _, tt := range tests {
		_, err := c.Propose("eth", "eth/api/x", vault.Decision{Time: at, Orders: []vault.Order{tt.o}}, 0.01)
		if !errors.Is(err, adapters.ErrInvalid) || !strings.Contains(err.Error(), "refused") || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: err = %v, want a refusal mentioning %q", tt.name, err, tt.msg)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(c.Proposals, "eth")); len(ents) != 0 {
		t.Errorf("a refused decision wrote %d files", len(ents))
	}
}

// TestPropose_WeETHLoopBatch: propose mode writes the built-in weETH
// loop's open as a Safe batch on its mainnet contracts, from a
// configuration whose allowlist names exactly the calls the docs list
// for it (Check refuses it without the Pool's setUserEMode): first the
// Pool's setUserEMode(7), then per mint WETH.withdraw, ether.fi's
// LiquidityPool.deposit with the ether as value, eETH approve and weETH
// wrap, weETH approve and Pool supply on behalf of the Safe, and WETH
// borrows between them.
func TestPropose_WeETHLoopBatch(t *testing.T) {
	dir := t.TempDir()
	safe := mustAddr(safeAddr)
	allow := []AllowFile{
		{Contract: tWETH.Address.Hex(), Functions: []string{"approve", "withdraw"}},
		{Contract: cEtherFiLP.Address.Hex(), Functions: []string{"deposit"}},
		{Contract: tEETH.Address.Hex(), Functions: []string{"approve"}},
		{Contract: tWeETH.Address.Hex(), Functions: []string{"approve", "wrap"}},
		{Contract: cAavePool.Address.Hex(), Functions: []string{"supply", "borrow", "withdraw", "repay"}},
		{Contract: cCurveWeETH.Address.Hex(), Functions: []string{"exchange"}},
	}
	file := func() *File {
		return &File{Mode: ModePropose, Proposals: dir, Vaults: []VaultFile{{ID: "eth", Address: safe.Hex()}}, Allow: allow}
	}
	u := map[string][]string{"eth": {"aave-v3/weeth-loop"}}
	if _, err := Check(file(), pathPos, func(s string) string { return s }, u); err == nil || !strings.Contains(err.Error(), "Aave v3 Pool.setUserEMode") {
		t.Fatalf("an allowlist without setUserEMode: error %v, want the missing entry", err)
	}
	allow[4].Functions = append(allow[4].Functions, "setUserEMode")
	c, err := Check(file(), pathPos, func(s string) string { return s }, u)
	if err != nil {
		t.Fatal(err)
	}
	d := vault.Decision{Time: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), Orders: []vault.Order{{Market: "aave-v3/weeth-loop", Side: vault.Buy, Amount: fixed.RequireFromString("10"), Leverage: 2}}}
	lb := LoopBook{Rate: decimal.RequireFromString("1.05"), Peg: 1, LTV: 0.93, LLTV: 0.95, EMode: 7}
	p, err := c.ProposeLoops("eth", "eth/rebalance/1", d, 0.01, map[string]LoopBook{"aave-v3/weeth-loop": lb})
	if err != nil {
		t.Fatal(err)
	}
	tx := p.Batch.Transactions
	if len(tx) < 8 {
		t.Fatalf("%d transactions", len(tx))
	}
	if tx[0].To != cAavePool.Address.Hex() || tx[0].ContractMethod.Name != "setUserEMode" || tx[0].ContractInputsValues["categoryId"] != "7" {
		t.Errorf("first transaction %+v, want the Pool's setUserEMode(7)", tx[0])
	}
	want := []struct{ to, method string }{
		{tWETH.Address.Hex(), "withdraw"}, {cEtherFiLP.Address.Hex(), "deposit"}, {tEETH.Address.Hex(), "approve"},
		{tWeETH.Address.Hex(), "wrap"}, {tWeETH.Address.Hex(), "approve"}, {cAavePool.Address.Hex(), "supply"}, {cAavePool.Address.Hex(), "borrow"},
	}
	for i, w := range want {
		if got := tx[1+i]; got.To != w.to || got.ContractMethod.Name != w.method {
			t.Errorf("transaction %d: %s.%s, want %s.%s", 1+i, got.To, got.ContractMethod.Name, w.to, w.method)
		}
	}
	if dep := tx[2]; dep.Value != "10000000000000000000" {
		t.Errorf("LiquidityPool.deposit value %s, want the 10 ether of equity", dep.Value)
	}
	if sup := tx[6]; sup.ContractInputsValues["onBehalfOf"] != safe.Hex() || sup.ContractInputsValues["asset"] != tWeETH.Address.Hex() {
		t.Errorf("supply %+v, want weETH on behalf of the Safe", sup.ContractInputsValues)
	}
}
