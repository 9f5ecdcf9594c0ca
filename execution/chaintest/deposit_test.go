package chaintest

import (
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/shopspring/decimal"
)

// sendRaw signs and sends a call from key with a fixed gas limit, with no
// simulation first (so a call that reverts is mined, reverted), and
// returns its receipt.
func (c *chain) sendRaw(t *testing.T, key *ecdsa.PrivateKey, to common.Address, value *big.Int, data []byte) *types.Receipt {
	t.Helper()
	return c.send(t, crypto.PubkeyToAddress(key.PublicKey), types.DynamicFeeTx{Gas: 200_000, To: &to, Value: value, Data: data}, signWith(key))
}

// TestService_SendModeDeposit: in send mode an API deposit books only a
// transfer the chain shows. A user (another account, funded with ether
// for gas by the vault's account) holds minted tUSD and transfers 250 to
// the vault's address. Asked at once, the deposit is refused: the
// transfer has fewer than execution.deposit_confirmations (200 here, the
// simulated chain mining a block every 10 ms). Once confirmed it is
// booked (the vault's NAV 1000 + 250), and the next rebalance
// reconciles clean and trades. The same transfer again is refused (a
// new request) or replayed (the same Idempotency-Key), booked once. A
// transfer to another address, a transfer of another token to the
// vault, a different amount than the transfer's, a reverted transfer
// and a hash the chain does not know are refused, each with what failed;
// a deposit without tx and a withdrawal are refused before anything is
// journalled.
func TestService_SendModeDeposit(t *testing.T) {
	f := newSendFixtureWith(t, "1000", "  deposit_confirmations: 200\n", "", false)
	c := f.c
	me := c.signer.Address()
	user, userKey := c.newUser(t)
	c.transact(t, f.token, f.asset, "mint", user, e18("300"))
	transfer := func(to common.Address, amount string) *types.Receipt {
		t.Helper()
		data, err := f.token.ABI.Pack("transfer", to, e18(amount))
		if err != nil {
			t.Fatal(err)
		}
		return c.sendRaw(t, userKey, f.asset, nil, data)
	}
	confirmed := func(rc *types.Receipt) { t.Helper(); c.confirmed(t, rc, 200) }
	deposit := func(key, amount string, tx common.Hash) (int, string) {
		t.Helper()
		code, body := f.post("/v1/vaults/usd/deposit", key, fmt.Sprintf(`{"user": "alice", "amount": %q, "tx": %q}`, amount, tx.Hex()))
		return code, string(body)
	}
	refused := func(name string, code int, body string, want ...string) {
		t.Helper()
		if code < 400 || code >= 500 || !strings.Contains(body, `"error"`) {
			t.Errorf("%s: %d %s, want a 4xx error", name, code, body)
			return
		}
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: %s does not say %q", name, body, w)
			}
		}
	}
	total := func() decimal.Decimal {
		t.Helper()
		_, body := f.do("GET", "/v1/vaults/usd", "")
		var v struct {
			NAV decimal.Decimal `json:"nav"`
		}
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatalf("GET vault: %s", body)
		}
		return v.NAV
	}
	start := total()
	if !start.Equal(decimal.NewFromInt(1000)) {
		t.Fatalf("NAV at start %s, want the 1000 deposited", start)
	}

	// Before anything is journalled: no tx, a withdrawal.
	code, body := f.post("/v1/vaults/usd/deposit", "no-tx", `{"user": "alice", "amount": "250"}`)
	refused("deposit without tx", code, string(body), "must name the on-chain transfer", me.Hex())
	code, body = f.post("/v1/vaults/usd/withdraw", "wd", `{"user": "treasury", "amount": "10"}`)
	refused("withdrawal", code, string(body), "does not pay withdrawals", "Safe's owners")

	// 250 tUSD to the vault: too fresh, then booked.
	good := transfer(me, "250")
	code, s := deposit("dep-early", "250", good.TxHash)
	refused("unconfirmed", code, s, "confirmations, 200 are needed")
	confirmed(good)
	code, s = deposit("dep-1", "250", good.TxHash)
	if code != 200 || !strings.Contains(s, good.TxHash.Hex()[2:10]) {
		t.Fatalf("deposit of a confirmed transfer: %d %s", code, s)
	}
	if got, want := total(), start.Add(decimal.NewFromInt(250)); !got.Equal(want) {
		t.Errorf("NAV %s after the deposit, want %s", got, want)
	}
	code, s = deposit("dep-2", "250", good.TxHash)
	refused("the same transfer again", code, s, "already booked", "dep-1")
	if code, s = deposit("dep-1", "250", good.TxHash); code != 200 {
		t.Errorf("replayed request: %d %s", code, s)
	}
	if got, want := total(), start.Add(decimal.NewFromInt(250)); !got.Equal(want) {
		t.Errorf("NAV %s after the same transfer twice, want %s (booked once)", got, want)
	}

	// Book and chain agree: the rebalance reconciles clean and trades.
	if code, body := f.do("POST", "/v1/vaults/usd/rebalance", "rb-1"); code != 200 {
		t.Fatalf("rebalance: %d %s", code, body)
	}
	if out, sum := f.lastDecision(t); out != "traded" || strings.Contains(sum, "chain-reconcile") {
		t.Errorf("rebalance after the deposit: %s %s, want traded without a reconciliation difference", out, sum)
	}
	if v := f.vault(t); v.Paused || len(v.Alerts) != 0 {
		t.Errorf("paused %v alerts %+v after the deposit and rebalance", v.Paused, v.Alerts)
	}

	// Transfers that do not check out.
	dead := common.HexToAddress("0x000000000000000000000000000000000000dEaD")
	elsewhere := transfer(dead, "5")
	other := c.deploy(t, f.token, "Other USD", "oUSD")
	otherToken := c.transact(t, f.token, other, "mint", me, e18("5"))
	wrongAmount := transfer(me, "5")
	reverted := transfer(me, "1000") // the user holds 45
	if reverted.Status != types.ReceiptStatusFailed {
		t.Fatalf("the transfer over the balance did not revert")
	}
	confirmed(reverted)
	before := total()
	for _, tc := range []struct {
		name, amount string
		tx           common.Hash
		want         []string
	}{
		{"to another address", "5", elsewhere.TxHash, []string{"transferred none of the vault's tokens", "tUSD"}},
		{"of another token", "5", otherToken.TxHash, []string{"transferred none of the vault's tokens"}},
		{"of another amount", "6", wrongAmount.TxHash, []string{"transferred 5 tUSD", "not the 6"}},
		{"reverted", "1000", reverted.TxHash, []string{"reverted on chain"}},
		{"unknown", "5", common.HexToHash("0x01"), []string{"not mined"}},
	} {
		code, s := deposit("bad-"+strings.ReplaceAll(tc.name, " ", "-"), tc.amount, tc.tx)
		refused(tc.name, code, s, tc.want...)
	}
	if got := total(); !got.Equal(before) {
		t.Errorf("NAV %s after the refusals, want %s as before them", got, before)
	}
	// The 5 that did come to the vault are booked at their amount, and
	// the chain still agrees with the book.
	if code, s := deposit("dep-5", "5", wrongAmount.TxHash); code != 200 {
		t.Fatalf("deposit of the 5: %d %s", code, s)
	}
	if code, body := f.do("POST", "/v1/vaults/usd/rebalance", "rb-2"); code != 200 {
		t.Fatalf("rebalance: %d %s", code, body)
	}
	if out, sum := f.lastDecision(t); strings.Contains(sum, "chain-reconcile") || out == "paused" || out == "failed" {
		t.Errorf("rebalance after the second deposit: %s %s", out, sum)
	}
}
