package service

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/execution"
)

// proposeAllow is the allowlist of a USD vault on Aave, Spark and Comet.
const proposeAllow = `
    - { contract: "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", functions: [approve], note: USDC }
    - { contract: "0xdAC17F958D2ee523a2206206994597C13D831ec7", functions: [approve], note: USDT }
    - { contract: "0x87870Bca3F3fD6335C3F4ce8392D69350B4fA4E2", functions: [supply, withdraw], note: Aave v3 Pool }
    - { contract: "0xC13e21B648A5Ee794902342038FF3aDAB66BE987", functions: [supply, withdraw], note: SparkLend Pool }
    - { contract: "0xc3d688B66703497DAA19211EEdff47f25384cdc3", functions: [supply, withdraw], note: Compound v3 cUSDCv3 }
`

const proposeSafe = "0x00000000000000000000000000000000000000A1"

// proposeConfig writes a propose-mode config of one USD vault whose
// universe is the lending markets with deployments, and returns its path.
func proposeConfig(t *testing.T, allow string) string {
	t.Helper()
	src, err := os.ReadFile("../examples/strategies/usd-lending.yaml")
	if err != nil {
		t.Fatal(err)
	}
	strat := strings.Replace(string(src), "morpho/usdc, ", "", 1)
	if strat == string(src) {
		t.Fatal("usd-lending.yaml's universe changed: update this test")
	}
	path := writeConfig(t, "durability: normal\ntoken: { env: YV_TEST_TOKEN }\nexecution:\n  mode: propose\n  vaults:\n    - { id: usd, address: \""+proposeSafe+"\" }\n  allow:"+allow,
		"  - { id: usd, strategy: usd.yaml, deposit: \"250000\" }\n")
	if err := os.WriteFile(filepath.Join(filepath.Dir(path), "usd.yaml"), []byte(strat), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPropose_RebalanceWritesBatchServedByAPI(t *testing.T) {
	path := proposeConfig(t, proposeAllow)
	f := newAPIFixtureAt(t, path)
	code, body := f.do(t, "POST", "/v1/vaults/usd/rebalance", testToken, "rb-1", "")
	if code != 200 {
		t.Fatalf("rebalance: %d %s", code, body)
	}
	code, body = f.do(t, "GET", "/v1/vaults/usd/proposals", "", "", "")
	var list struct {
		Mode      string                   `json:"mode"`
		Proposals []execution.ProposalInfo `json:"proposals"`
	}
	if err := json.Unmarshal(body, &list); err != nil || code != 200 {
		t.Fatalf("proposals: %d %s (%v)", code, body, err)
	}
	if list.Mode != "propose" || len(list.Proposals) != 1 || list.Proposals[0].Name != "api-rb-1" || list.Proposals[0].Calls < 2 {
		t.Fatalf("proposals = %+v", list)
	}
	code, body = f.do(t, "GET", "/v1/vaults/usd/proposals/api-rb-1", "", "", "")
	var b execution.SafeBatch
	if err := json.Unmarshal(body, &b); err != nil || code != 200 {
		t.Fatalf("proposal: %d %s (%v)", code, body, err)
	}
	if b.Meta.CreatedFromSafeAddress != proposeSafe || b.ChainID != "1" {
		t.Errorf("batch meta = %+v", b.Meta)
	}
	if sum, err := b.ComputeChecksum(); err != nil || sum != b.Meta.Checksum {
		t.Errorf("checksum %s, recomputed %s", b.Meta.Checksum, sum)
	}
	allowed := map[string]bool{}
	for _, line := range strings.Split(proposeAllow, "\n") {
		if i := strings.Index(line, `"0x`); i >= 0 {
			allowed[line[i+1:i+43]] = true
		}
	}
	for i, tx := range b.Transactions {
		if !allowed[tx.To] {
			t.Errorf("transaction %d goes to %s, outside the allowlist", i, tx.To)
		}
		for k, v := range tx.ContractInputsValues {
			if k == "onBehalfOf" && v != proposeSafe {
				t.Errorf("transaction %d supplies on behalf of %s", i, v)
			}
		}
	}
	code, body = f.do(t, "GET", "/v1/vaults/usd/proposals/api-rb-1?format=txt", "", "", "")
	if code != 200 || !strings.Contains(string(body), "Nothing was sent") {
		t.Errorf("summary: %d %s", code, body)
	}
	for _, p := range []string{"/v1/vaults/usd/proposals/nope", "/v1/vaults/usd/proposals/..%2Fx", "/v1/vaults/zzz/proposals"} {
		if code, body := f.do(t, "GET", p, "", "", ""); code != 404 {
			t.Errorf("GET %s = %d %s, want 404", p, code, body)
		}
	}
}

func TestPropose_BadConfigStopsAtStart(t *testing.T) {
	noComet := strings.Replace(proposeAllow, "    - { contract: \"0xc3d688B66703497DAA19211EEdff47f25384cdc3\", functions: [supply, withdraw], note: Compound v3 cUSDCv3 }\n", "", 1)
	badSum := strings.Replace(proposeAllow, "0x87870Bca3F3fD6335C3F4ce8392D69350B4fA4E2", "0x87870bca3F3fD6335C3F4ce8392D69350B4fA4E2", 1)
	unknown := proposeAllow + "    - { contract: \"0x000000000000000000000000000000000000dEaD\", functions: [approve] }\n"
	tests := []struct {
		name, allow, pos, msg string
	}{
		// state_db, durability, token, then execution: on line 4; allow:
		// on line 8, its entries (USDC, USDT, Aave, Spark, Comet, ...)
		// from line 9, each contract value at column 19.
		{"missing allowlist entry", noComet, "service.yaml:9:5", "missing allowlist entry: vault usd trades compound-v3/usdc"},
		{"bad checksum", badSum, "service.yaml:11:19", "bad EIP-55 checksum"},
		{"unknown contract", unknown, "service.yaml:14:19", "unknown contract 0x000000000000000000000000000000000000dEaD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadConfig(proposeConfig(t, tt.allow))
			var e *adapters.Error
			if !errors.As(err, &e) || e.Kind != adapters.KindInvalid || !strings.Contains(e.Pos, tt.pos) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %v, want an invalid-input error at %s mentioning %q", err, tt.pos, tt.msg)
			}
		})
	}
}

func TestLoadConfig_ProposeExample(t *testing.T) {
	c, err := LoadConfig("../examples/service/propose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Execution.Mode != execution.ModePropose || len(c.Execution.Vaults) != 1 || !strings.HasSuffix(c.Execution.Proposals, filepath.Join("examples", "service", "proposals")) {
		t.Errorf("execution = %+v", c.Execution)
	}
}

// TestPropose_DepositAndWithdrawRules: in propose mode a deposit must
// name its on-chain transfer, and without execution.rpc it cannot be
// checked; a withdrawal without tx is refused in words (the service's
// calls pay only the vault's own address) with how to name the owners'
// transfer, and with tx but without execution.rpc it cannot be checked.
// Nothing is journalled: the vault's NAV is unchanged. In paper mode tx
// is refused (on a deposit and on a withdrawal) and a deposit without it
// books as before.
func TestPropose_DepositAndWithdrawRules(t *testing.T) {
	f := newAPIFixtureAt(t, proposeConfig(t, proposeAllow))
	const tx = "0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060"
	for _, tc := range []struct {
		name, path, body string
		code             int
		want             []string
	}{
		{"deposit without tx", "deposit", `{"user":"alice","amount":"10"}`, 422, []string{"must name the on-chain transfer", proposeSafe}},
		{"deposit without rpc", "deposit", `{"user":"alice","amount":"10","tx":"` + tx + `"}`, 422, []string{"execution.rpc, which is not set"}},
		{"malformed tx", "deposit", `{"user":"alice","amount":"10","tx":"0x12"}`, 400, []string{"0x and 64 hex digits"}},
		{"withdrawal", "withdraw", `{"user":"treasury","amount":"10"}`, 422, []string{"does not pay withdrawals", "Safe's owners", "then name that transfer"}},
		{"withdrawal without rpc", "withdraw", `{"user":"treasury","shares":"10","tx":"` + tx + `"}`, 422, []string{"withdrawal's transfer", "execution.rpc, which is not set"}},
		{"withdrawal with a malformed tx", "withdraw", `{"user":"treasury","amount":"10","tx":"0x12"}`, 400, []string{"0x and 64 hex digits"}},
	} {
		code, body := f.do(t, "POST", "/v1/vaults/usd/"+tc.path, testToken, strings.ReplaceAll(tc.name, " ", "-"), tc.body)
		if code != tc.code {
			t.Errorf("%s: %d %s, want %d", tc.name, code, body, tc.code)
		}
		for _, w := range tc.want {
			if !strings.Contains(string(body), w) {
				t.Errorf("%s: %s does not say %q", tc.name, body, w)
			}
		}
	}
	if _, err := f.s.store.Intent(context.Background(), "usd/api/withdrawal"); err == nil {
		t.Error("the refused withdrawal was journalled")
	}

	p := newAPIFixture(t)
	if code, body := p.do(t, "POST", "/v1/vaults/eth/deposit", testToken, "dep-tx", `{"user":"alice","amount":"1","tx":"`+tx+`"}`); code != 422 || !strings.Contains(string(body), "propose and send modes only") {
		t.Errorf("paper deposit with tx: %d %s", code, body)
	}
	if code, body := p.do(t, "POST", "/v1/vaults/eth/withdraw", testToken, "wd-tx", `{"user":"alice","amount":"1","tx":"`+tx+`"}`); code != 422 || !strings.Contains(string(body), "propose and send modes only") {
		t.Errorf("paper withdrawal with tx: %d %s", code, body)
	}
}
