package chaintest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/shopspring/decimal"
)

// TestService_SendModeWithdrawal: in send mode the service pays no
// withdrawal, but books one the vault's owner paid, naming the transfer
// out of the vault's address. The owner (the keystore's account, the
// vault's address here) transfers 100 tUSD to a user's address: asked at
// once the withdrawal is refused (fewer than deposit_confirmations, 200);
// once confirmed it is booked, burning the shares the vault's withdraw
// gives for 100 (rounded up, computed here from the supply and NAV the
// API shows), once: the same transfer again, or named as a deposit, is
// refused, and the same request replays. A redemption of shares names a
// transfer of exactly what they are worth (rounded down). The next
// rebalance reconciles clean and trades. A withdrawal over the book's
// idle (after the rebalance: the vault's max loss refuses it), a transfer into the vault, of another
// token, of another amount than the shares are worth, and an unconfirmed
// one are refused with what failed, and move nothing.
func TestService_SendModeWithdrawal(t *testing.T) {
	f := newSendFixtureWith(t, "1000", "  deposit_confirmations: 200\n", "", false)
	c := f.c
	me := c.signer.Address()
	user, userKey := c.newUser(t)
	pay := func(to common.Address, amount decimal.Decimal) *types.Receipt {
		t.Helper()
		return c.transact(t, f.token, f.asset, "transfer", to, amount.Shift(18).BigInt())
	}
	confirmed := func(rc *types.Receipt) { t.Helper(); c.confirmed(t, rc, 200) }
	withdraw := func(key, field string, v decimal.Decimal, tx common.Hash) (int, string) {
		t.Helper()
		code, body := f.post("/v1/vaults/usd/withdraw", key, fmt.Sprintf(`{"user": "treasury", %q: %q, "tx": %q}`, field, v.String(), tx.Hex()))
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
	type book struct {
		NAV, Idle, Supply decimal.Decimal
		Offset            int `json:"decimals_offset"`
	}
	state := func() book {
		t.Helper()
		_, body := f.do("GET", "/v1/vaults/usd", "")
		var b book
		if err := json.Unmarshal(body, &b); err != nil {
			t.Fatalf("GET vault: %s", body)
		}
		return b
	}
	// The vault's conversions (OpenZeppelin's ERC-4626 with a decimals
	// offset, at 18 decimals): shares = assets x (supply + 10^(offset-18))
	// / (NAV + 1e-18) rounded up for a withdrawal, assets = shares x
	// (NAV + 1e-18) / (supply + 10^(offset-18)) rounded down for a
	// redemption.
	unit := decimal.New(1, -18)
	sharesFor := func(b book, assets decimal.Decimal) decimal.Decimal {
		return assets.Mul(b.Supply.Add(decimal.New(1, int32(b.Offset-18)))).DivRound(b.NAV.Add(unit), 40).RoundCeil(18)
	}
	assetsFor := func(b book, shares decimal.Decimal) decimal.Decimal {
		return shares.Mul(b.NAV.Add(unit)).DivRound(b.Supply.Add(decimal.New(1, int32(b.Offset-18))), 40).RoundFloor(18)
	}

	// No tx: refused, saying how to name the transfer.
	code, body := f.post("/v1/vaults/usd/withdraw", "no-tx", `{"user": "treasury", "amount": "10"}`)
	refused("withdrawal without tx", code, string(body), "does not pay withdrawals", "then name that transfer", me.Hex())

	// 100 tUSD out to the user: too fresh, then booked.
	start := state()
	if !start.NAV.Equal(decimal.NewFromInt(1000)) || !start.Idle.Equal(start.NAV) {
		t.Fatalf("at start NAV %s idle %s, want the 1000 deposited, idle", start.NAV, start.Idle)
	}
	hundred := decimal.NewFromInt(100)
	out := pay(user, hundred)
	code, s := withdraw("wd-early", "amount", hundred, out.TxHash)
	refused("unconfirmed", code, s, "confirmations, 200 are needed")
	confirmed(out)
	before := state()
	code, s = withdraw("wd-1", "amount", hundred, out.TxHash)
	if code != 200 || !strings.Contains(s, out.TxHash.Hex()[2:10]) {
		t.Fatalf("withdrawal of a confirmed transfer out: %d %s", code, s)
	}
	after := state()
	if !after.NAV.Equal(before.NAV.Sub(hundred)) {
		t.Errorf("NAV %s after paying 100, want %s", after.NAV, before.NAV.Sub(hundred))
	}
	if burned, want := before.Supply.Sub(after.Supply), sharesFor(before, hundred); !burned.Equal(want) {
		t.Errorf("burned %s shares for 100, want %s (rounded up)", burned, want)
	}
	code, s = withdraw("wd-2", "amount", hundred, out.TxHash)
	refused("the same transfer again", code, s, "already booked", "withdrawal", "wd-1")
	code, body = f.post("/v1/vaults/usd/deposit", "dep-out", fmt.Sprintf(`{"user": "alice", "amount": "100", "tx": %q}`, out.TxHash.Hex()))
	refused("the transfer out named as a deposit", code, string(body), "already booked", "withdrawal")
	if code, s = withdraw("wd-1", "amount", hundred, out.TxHash); code != 200 {
		t.Errorf("replayed request: %d %s", code, s)
	}
	if got := state(); !got.NAV.Equal(after.NAV) || !got.Supply.Equal(after.Supply) {
		t.Errorf("NAV %s supply %s after the same transfer twice, want %s %s (booked once)", got.NAV, got.Supply, after.NAV, after.Supply)
	}

	// A redemption: the owner pays exactly what 40 shares' worth is.
	b := state()
	shares := decimal.NewFromInt(40).Shift(int32(b.Offset))
	worth := assetsFor(b, shares)
	red := pay(user, worth)
	offBy := pay(user, worth.Add(unit)) // one wei more than they are worth
	confirmed(offBy)
	code, s = withdraw("rd-bad", "shares", shares, offBy.TxHash)
	refused("redeem for a transfer of another amount", code, s, "from the vault's address", "not the "+worth.String())
	if code, s := withdraw("rd-1", "shares", shares, red.TxHash); code != 200 {
		t.Fatalf("redemption of 40 shares: %d %s", code, s)
	}
	if got := state(); !got.Supply.Equal(b.Supply.Sub(shares)) || !got.NAV.Equal(b.NAV.Sub(worth)) {
		t.Errorf("after the redemption supply %s NAV %s, want %s %s", got.Supply, got.NAV, b.Supply.Sub(shares), b.NAV.Sub(worth))
	}
	// The extra transfer is what it is: booked as a withdrawal of its
	// amount, the chain and the book agree again.
	if code, s := withdraw("wd-extra", "amount", worth.Add(unit), offBy.TxHash); code != 200 {
		t.Fatalf("withdrawal of the second transfer: %d %s", code, s)
	}

	// Book and chain agree: the rebalance reconciles clean and trades.
	if code, body := f.do("POST", "/v1/vaults/usd/rebalance", "rb-1"); code != 200 {
		t.Fatalf("rebalance: %d %s", code, body)
	}
	if out, sum := f.lastDecision(t); out != "traded" || strings.Contains(sum, "chain-reconcile") {
		t.Errorf("rebalance after the withdrawals: %s %s, want traded without a reconciliation difference", out, sum)
	}
	if v := f.vault(t); v.Paused || len(v.Alerts) != 0 {
		t.Errorf("paused %v alerts %+v after the withdrawals and rebalance", v.Paused, v.Alerts)
	}

	// Transfers that do not check out.
	in := func() *types.Receipt { // the user sends 5 back: into the vault
		data, err := f.token.ABI.Pack("transfer", me, e18("5"))
		if err != nil {
			t.Fatal(err)
		}
		return c.sendRaw(t, userKey, f.asset, nil, data)
	}()
	other := c.deploy(t, f.token, "Other USD", "oUSD")
	c.transact(t, f.token, other, "mint", me, e18("5"))
	otherOut := c.transact(t, f.token, other, "transfer", user, e18("5"))
	confirmed(otherOut)
	mid := state()
	if mid.Idle.GreaterThanOrEqual(hundred) {
		t.Fatalf("idle %s after the rebalance, want under 100", mid.Idle)
	}
	// More than the book holds idle: paying it would unwind positions the
	// owners' transfer did not touch; refused before reading the chain.
	// Here the vault's own max loss refuses it first (the unwinding's
	// exit costs are over 1% of 100); the service's idle rule stands
	// behind it for an unwinding within the max loss.
	code, s = withdraw("bad-over-idle", "amount", hundred, in.TxHash)
	refused("over the book's idle", code, s, "paying 100")
	five := decimal.NewFromInt(5)
	for _, tc := range []struct {
		name string
		v    decimal.Decimal
		tx   common.Hash
		want []string
	}{
		{"into the vault", five, in.TxHash, []string{"transferred none of the vault's tokens", "from the vault's address"}},
		{"of another token", five, otherOut.TxHash, []string{"transferred none of the vault's tokens", "tUSD"}},
		{"unknown", five, common.HexToHash("0x01"), []string{"not mined"}},
	} {
		code, s := withdraw("bad-"+strings.ReplaceAll(tc.name, " ", "-"), "amount", tc.v, tc.tx)
		refused(tc.name, code, s, tc.want...)
	}
	fresh := pay(user, decimal.NewFromInt(3))
	code, s = withdraw("bad-fresh", "amount", decimal.NewFromInt(3), fresh.TxHash)
	refused("unconfirmed", code, s, "confirmations, 200 are needed")
	confirmed(fresh)
	code, s = withdraw("bad-amount", "amount", decimal.NewFromInt(4), fresh.TxHash)
	refused("of another amount", code, s, "transferred 3 tUSD from the vault's address", "not the 4")
	if got := state(); !got.Supply.Equal(mid.Supply) {
		t.Errorf("supply %s after the refusals, want %s as before them", got.Supply, mid.Supply)
	}
}
