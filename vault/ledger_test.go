package vault

import (
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
)

func TestReplay(t *testing.T) {
	tests := []struct {
		name    string
		entries []Entry
		want    Books
		wantErr error
	}{
		{"deposits, fee, withdrawal", []Entry{
			{Seq: 1, Type: EntryDeposit, User: "a", Amount: d("10"), Shares: d("10")},
			{Seq: 2, Type: EntryBuy, Market: "m/x", Amount: d("6")},
			{Seq: 3, Type: EntryFee, User: "fees", Amount: d("0.1"), Shares: d("0.1")},
			{Seq: 4, Type: EntrySell, Market: "m/x", Amount: d("2.5")},
			{Seq: 5, Type: EntryWithdraw, User: "a", Amount: d("4"), Shares: d("4")},
			{Seq: 6, Type: EntryEvent, Market: "m/x", Amount: d("1")},
			{Seq: 7, Type: EntryHarvest, Market: "m/x", Amount: d("0.25")},
		}, Books{Idle: d("2.75"), Supply: d("6.1"), Shares: map[string]decimal.Decimal{"a": d("6"), "fees": d("0.1")}}, nil},
		{"sequence out of order", []Entry{{Seq: 2, Type: EntryDonation, Amount: d("1")}, {Seq: 2, Type: EntryDonation, Amount: d("1")}}, Books{}, adapters.ErrInvalid},
		{"negative shares", []Entry{{Seq: 1, Type: EntryWithdraw, User: "a", Shares: d("1")}}, Books{}, adapters.ErrInvalid},
		{"negative idle", []Entry{{Seq: 1, Type: EntryBuy, Amount: d("1")}}, Books{}, adapters.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Replay(Books{}, tc.entries)
			if !errors.Is(err, tc.wantErr) && !(tc.wantErr == nil && err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if diff := got.Diff(tc.want); len(diff) > 0 {
				t.Errorf("Replay differs: %v", diff)
			}
		})
	}
}

// TestVault_StateRestore: a vault persisted as State (through JSON) and
// restored continues exactly as the original, and its ledger replayed on
// top of the restored books reconciles.
func TestVault_StateRestore(t *testing.T) {
	fakes := map[string]*fake{"f/a": {apy: 0.04}, "f/q": {apy: 0.03, queue: true, delay: 48 * time.Hour, harvest: true, rewardAPY: 0.02}}
	cfg := plainConfig()
	cfg.ManagementFee, cfg.PerformanceFee, cfg.ProfitUnlock = 0.02, 0.1, 5*24*time.Hour
	v := newTestVault(t, cfg, fakes)
	must(v.Deposit(t0, "a", d("10")))(t)
	allocate(t, v, map[string]float64{"f/a": 0.4, "f/q": 0.5})
	at := t0.Add(30 * 24 * time.Hour)
	must(v.Harvest(at, at))(t)
	_, _, err := v.Rebalance(at, at, TriggerManual, target(map[string]float64{"f/a": 0.7}))
	mustOK(t, err)

	raw, err := json.Marshal(v.State())
	mustOK(t, err)
	var st State
	mustOK(t, json.Unmarshal(raw, &st))
	var ads []*adapters.Adapter
	for _, id := range v.Markets() {
		ads = append(ads, v.Adapter(id))
	}
	r, err := Restore(cfg, ads, st)
	mustOK(t, err)
	if diff := cmp.Diff(v.State(), r.State(), decCmp); diff != "" {
		t.Fatalf("restored state differs (-orig +restored):\n%s", diff)
	}
	later := at.Add(3 * 24 * time.Hour)
	for _, x := range []*Vault{v, r} {
		must(x.Claim(later))(t)
		must(x.Deposit(later, "b", d("2")))(t)
	}
	if diff := cmp.Diff(v.State(), r.State(), decCmp); diff != "" {
		t.Errorf("after the same operations the vaults differ (-orig +restored):\n%s", diff)
	}
	if got, want := r.Ledger().Entries()[0].Seq, st.NextSeq; got != want {
		t.Errorf("restored ledger starts at %d, want %d", got, want)
	}
	got, err := Replay(stBooks(st), r.Ledger().Entries())
	mustOK(t, err)
	if diff := got.Diff(r.Books()); len(diff) > 0 {
		t.Errorf("replay on the restored books: %v", diff)
	}
	for _, x := range []*Vault{v, r} {
		if err := Reconcile(x); err != nil {
			t.Error(err)
		}
	}
	// Mismatched markets are refused.
	if _, err := Restore(cfg, ads[:1], st); !errors.Is(err, adapters.ErrInvalid) {
		t.Errorf("Restore with a missing market: err = %v, want invalid", err)
	}
}

func stBooks(st State) Books { return Books{Idle: st.Idle, Supply: st.Supply, Shares: st.Balances} }

// TestLedger_Blocks checks Len, Entries and Since across block
// boundaries.
func TestLedger_Blocks(t *testing.T) {
	l := NewLedger(7)
	const n = 3*ledgerBlock + 5
	for i := range n {
		l.add(Entry{Type: EntryBuy, Reason: strconv.Itoa(i)})
	}
	if l.Len() != n || l.Next() != 7+n {
		t.Fatalf("Len %d Next %d, want %d and %d", l.Len(), l.Next(), n, 7+n)
	}
	all := l.Entries()
	for i, e := range all {
		if e.Seq != uint64(7+i) || e.Reason != strconv.Itoa(i) {
			t.Fatalf("entry %d: seq %d reason %q", i, e.Seq, e.Reason)
		}
	}
	for _, seq := range []uint64{0, 7, 8, 7 + ledgerBlock - 1, 7 + ledgerBlock, 7 + ledgerBlock + 1, 7 + n - 1, 7 + n, 7 + n + 10} {
		got := l.Since(seq)
		first := max(int(seq)-7, 0)
		want := len(all) - first
		if want < 0 {
			want = 0
		}
		if len(got) != want || (want > 0 && got[0].Seq != all[first].Seq) {
			t.Errorf("Since(%d): %d entries, want %d", seq, len(got), want)
		}
	}
	got := l.Entries()
	got[0].Reason = "changed"
	if l.Entries()[0].Reason != "0" {
		t.Errorf("Entries returned the ledger's own storage")
	}
	if NewLedger(1).Entries() != nil || NewLedger(1).Since(1) != nil {
		t.Errorf("an empty ledger's copies are not nil")
	}
}

// TestVault_RestoreKeepsGas: a restored vault trades at the state's gas
// price, as the original does. Restore set the vault's gas price but not
// its markets', and ObserveWindow sets them again only when the data's
// price changed, so the service's paper fills charged no gas between two
// changes of the price (every hourly rebalance on 6-hourly rows).
func TestVault_RestoreKeepsGas(t *testing.T) {
	fakes := map[string]*fake{"f/a": {apy: 0.04, gas: 150000}}
	cfg := plainConfig()
	v := newTestVault(t, cfg, fakes)
	mustOK(t, v.SetGas(20, 1))
	must(v.Deposit(t0, "a", d("10")))(t)
	raw, err := json.Marshal(v.State())
	mustOK(t, err)
	var st State
	mustOK(t, json.Unmarshal(raw, &st))
	r, err := Restore(cfg, []*adapters.Adapter{v.Adapter("f/a")}, st)
	mustOK(t, err)
	want := d("0.003") // 150,000 gas x 20 gwei x 1e-9 ETH per gwei, at 1 base unit per ETH
	for name, x := range map[string]*Vault{"original": v, "restored": r} {
		_, res, err := x.Rebalance(t0, t0, TriggerManual, target(map[string]float64{"f/a": 0.5}))
		mustOK(t, err)
		if len(res.Executed) != 1 || !res.Executed[0].Fill.Gas.Dec().Equal(want) {
			t.Errorf("%s vault: fills %+v, want one buy paying %s of gas", name, res.Executed, want)
		}
	}
}
