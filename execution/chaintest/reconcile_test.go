package chaintest

import (
	"context"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/execution"
)

// hookRecorder is a webhook receiver that keeps the alerts posted to it
// (the service's generic format).
type hookRecorder struct {
	mu     sync.Mutex
	alerts []map[string]any
}

func (h *hookRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var a map[string]any
	if json.Unmarshal(b, &a) == nil {
		h.mu.Lock()
		h.alerts = append(h.alerts, a)
		h.mu.Unlock()
	}
}

// waitFor waits for an alert of monitor with status.
func (h *hookRecorder) waitFor(t *testing.T, monitor, status string) map[string]any {
	t.Helper()
	for i := 0; i < 500; i++ {
		h.mu.Lock()
		for _, a := range h.alerts {
			if a["monitor"] == monitor && a["status"] == status {
				h.mu.Unlock()
				return a
			}
		}
		h.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %s alert of %s; got %v", status, monitor, h.alerts)
	return nil
}

type vaultJSON struct {
	Paused    bool            `json:"paused"`
	Idle      decimal.Decimal `json:"idle"`
	Positions []struct {
		Market string          `json:"market"`
		Value  decimal.Decimal `json:"value"`
	} `json:"positions"`
	Alerts []struct {
		Monitor string   `json:"monitor"`
		Markets []string `json:"markets"`
	} `json:"alerts"`
}

func (f *sendFixture) vault(t *testing.T) vaultJSON { return vaultOf(t, f.do, "usd") }

func (f *sendFixture) lastDecision(t *testing.T) (outcome, summary string) {
	return lastDecisionOf(t, f.do, "usd")
}

// vaultOf is GET /v1/vaults/{id} through do.
func vaultOf(t *testing.T, do func(method, p, key string) (int, []byte), id string) vaultJSON {
	t.Helper()
	code, body := do("GET", "/v1/vaults/"+id, "")
	var v vaultJSON
	if err := json.Unmarshal(body, &v); err != nil || code != 200 {
		t.Fatalf("GET vault: %d %s", code, body)
	}
	return v
}

// lastDecisionOf is the outcome and summary of vault id's last decision,
// read through do.
func lastDecisionOf(t *testing.T, do func(method, p, key string) (int, []byte), id string) (outcome, summary string) {
	t.Helper()
	_, body := do("GET", "/v1/vaults/"+id+"/decisions?limit=1", "")
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

// TestService_SendModeReconcile: after a rebalance in send mode the
// book (moved by the fills the receipts show) equals what the chain
// holds, read back independently here (the token's balanceOf, the
// aToken's, the ERC-4626's convertToAssets). Then 10 tUSD leave the
// vault's address by a transfer the service did not make: the next
// rebalance reads the chain first, pauses the vault instead of trading,
// journals the difference and sends the chain-reconcile alert to the
// webhook. Resumed while the difference holds, the vault pauses again;
// once the 10 are back it trades and the alert resolves.
func TestService_SendModeReconcile(t *testing.T) {
	hook := &hookRecorder{}
	hs := httptest.NewServer(hook)
	t.Cleanup(hs.Close)
	f := newSendFixtureWith(t, "1000", "alerts: { webhooks: [ { url: "+hs.URL+"/hook, format: generic } ] }\n", "", false)
	ctx := context.Background()
	me := f.c.signer.Address()
	if code, body := f.do("POST", "/v1/vaults/usd/rebalance", "rb-1"); code != 200 {
		t.Fatalf("rebalance: %d %s", code, body)
	}
	if out, sum := f.lastDecision(t); out != "traded" || strings.Contains(sum, "paused") {
		t.Fatalf("first rebalance: %s %s", out, sum)
	}
	// Each executed order names its transactions and their gas.
	if _, body := f.do("GET", "/v1/vaults/usd/decisions?limit=1&detail=1", ""); strings.Count(string(body), "on chain: 0x") != 2 || !strings.Contains(string(body), "ETH by the sending account (not charged to the book)") {
		t.Errorf("the executed orders do not name their transactions: %s", body)
	}
	v := f.vault(t)
	chain := map[string]decimal.Decimal{
		"idle":         decimal.NewFromBigInt(f.c.uint(t, f.token, f.asset, "balanceOf", me), -18),
		"aave-v3/usdc": decimal.NewFromBigInt(f.c.uint(t, f.aTokenArt, f.aToken, "balanceOf", me), -18),
		"morpho/usdc":  decimal.NewFromBigInt(f.c.uint(t, f.vaultArt, f.v4626, "convertToAssets", f.c.uint(t, f.vaultArt, f.v4626, "balanceOf", me)), -18),
	}
	book := map[string]decimal.Decimal{"idle": v.Idle}
	for _, p := range v.Positions {
		book[p.Market] = p.Value
	}
	// The book's lending positions are scaled units times the history's
	// index (rounded at the adapters' scale): equal to a billionth.
	within := decimal.New(1, -9)
	for k, want := range chain {
		if got := book[k]; got.Sub(want).Abs().Cmp(within) > 0 {
			t.Errorf("%s: book %s, chain %s", k, got, want)
		}
	}
	if chain["aave-v3/usdc"].Sign() <= 0 || chain["morpho/usdc"].Sign() <= 0 {
		t.Fatalf("nothing bought: %v", chain)
	}
	if v.Paused {
		t.Fatal("paused after a clean rebalance")
	}

	// 10 tUSD leave the vault's address outside the service.
	f.c.transact(t, f.token, f.asset, "transfer", common.HexToAddress("0x000000000000000000000000000000000000dEaD"), e18("10"))
	nonce, _ := f.c.client.NonceAt(ctx, me, nil)
	f.do("POST", "/v1/vaults/usd/rebalance", "rb-2")
	out, sum := f.lastDecision(t)
	if out != "paused" || !strings.Contains(sum, "chain-reconcile") || !strings.Contains(sum, "idle: book ") || !strings.Contains(sum, "(-10.000000)") {
		t.Errorf("after the transfer: outcome %s, summary %q; want paused by chain-reconcile on idle, -10", out, sum)
	}
	if n, _ := f.c.client.NonceAt(ctx, me, nil); n != nonce {
		t.Errorf("the paused vault sent %d transactions", n-nonce)
	}
	v = f.vault(t)
	if !v.Paused || len(v.Alerts) != 1 || v.Alerts[0].Monitor != "chain-reconcile" || strings.Join(v.Alerts[0].Markets, ",") != "idle" {
		t.Errorf("vault paused %v alerts %+v, want paused with chain-reconcile on idle", v.Paused, v.Alerts)
	}
	a := hook.waitFor(t, "chain-reconcile", "firing")
	if a["severity"] != "critical" || a["action"] != "pause" || !strings.Contains(a["when"].(string), "-10.000000") {
		t.Errorf("alert %v", a)
	}

	// Resumed with the difference still there: paused again.
	if code, body := f.do("POST", "/v1/vaults/usd/resume", "resume-1"); code != 200 {
		t.Fatalf("resume: %d %s", code, body)
	}
	f.do("POST", "/v1/vaults/usd/rebalance", "rb-3")
	if out, _ := f.lastDecision(t); out != "paused" || !f.vault(t).Paused {
		t.Errorf("resumed with the difference: outcome %s, want paused again", out)
	}

	// The 10 come back: resumed, it trades and the alert resolves.
	f.c.transact(t, f.token, f.asset, "mint", me, e18("10"))
	if code, body := f.do("POST", "/v1/vaults/usd/resume", "resume-2"); code != 200 {
		t.Fatalf("resume: %d %s", code, body)
	}
	f.do("POST", "/v1/vaults/usd/rebalance", "rb-4")
	if out, sum := f.lastDecision(t); out == "paused" || out == "failed" {
		t.Errorf("after the funds came back: %s %s", out, sum)
	}
	if v := f.vault(t); v.Paused || len(v.Alerts) != 0 {
		t.Errorf("paused %v alerts %+v after the funds came back", v.Paused, v.Alerts)
	}
	hook.waitFor(t, "chain-reconcile", "resolved")
}

// TestService_SendModeGasGate: in send mode the vault decides at the
// chain's gas price (the latest base fee plus the suggested tip; about
// 0.001 gwei on the simulated chain after its empty blocks), not the
// history's (22 gwei at that time). With the strategy's gate
// (rebalance.max_gas_price) at 0.0001 gwei the rebalancer rejects every
// non-urgent trade at that price; with no strategy gate and
// execution.gas_gate_gwei at 0.0001 the executor holds the orders. Either
// way nothing is sent, and the decision says why.
func TestService_SendModeGasGate(t *testing.T) {
	for _, tc := range []struct {
		name, extra, gate, outcome, why string
	}{
		{"strategy gate", "", "0.0001", "rejected", "gwei above the gate 0.0001: only exits trade"},
		{"execution gate", "  gas_gate_gwei: 0.0001\n", "", "failed", "gwei (base fee plus tip) is above the gas gate 0.0001 gwei: nothing sent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSendFixtureWith(t, "1000", tc.extra, tc.gate, false)
			ctx := context.Background()
			me := f.c.signer.Address()
			nonce, _ := f.c.client.NonceAt(ctx, me, nil)
			f.do("POST", "/v1/vaults/usd/rebalance", "rb-1")
			if out, sum := f.lastDecision(t); out != tc.outcome || !strings.Contains(sum, tc.why) || strings.Contains(sum, "gas 22") {
				t.Errorf("decision %s %q, want %s: ...%s", out, sum, tc.outcome, tc.why)
			}
			if n, _ := f.c.client.NonceAt(ctx, me, nil); n != nonce {
				t.Errorf("%d transactions sent above the gas gate", n-nonce)
			}
			if got := f.c.uint(t, f.token, f.asset, "balanceOf", me); got.Cmp(e18("1000")) != 0 {
				t.Errorf("tUSD balance %s, want 1000: nothing spent", got)
			}
		})
	}
}

// TestService_SendModeOrphanPauses: an intent whose key already has a
// transaction in the execution journal (an earlier run sent it) but
// whose run decides no trade pauses the vault with the chain-reconcile
// monitor instead of completing as if nothing had been sent.
func TestService_SendModeOrphanPauses(t *testing.T) {
	f := newSendFixture(t, "1000")
	if code, body := f.do("POST", "/v1/vaults/usd/rebalance", "rb-1"); code != 200 {
		t.Fatalf("rebalance: %d %s", code, body)
	}
	// A transaction journalled under the next request's intent key.
	tx := signedTestTx(t, f.c)
	if err := (execution.StoreJournal{S: f.store}).Record("usd/api/rb-2", 0, tx); err != nil {
		t.Fatal(err)
	}
	f.do("POST", "/v1/vaults/usd/rebalance", "rb-2")
	out, sum := f.lastDecision(t)
	if !strings.Contains(sum, "chain-reconcile") || !strings.Contains(sum, "sent transactions in an earlier run") || !f.vault(t).Paused {
		t.Errorf("decision %s %q: want the vault paused by chain-reconcile", out, sum)
	}
}

// signedTestTx is a transaction signed by the vault's key (a transfer of
// nothing to itself), never sent.
func signedTestTx(t *testing.T, c *chain) *types.Transaction {
	t.Helper()
	me := c.signer.Address()
	tx, err := c.signer.SignTx(types.NewTx(&types.DynamicFeeTx{ChainID: big.NewInt(1337), Nonce: 999, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(2), Gas: 21000, To: &me}), big.NewInt(1337))
	if err != nil {
		t.Fatal(err)
	}
	return tx
}
