package service

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/execution"
)

func journalTx(t *testing.T, nonce uint64) *types.Transaction {
	t.Helper()
	return journalTxGas(t, nonce, 21000)
}

// journalTxGas is journalTx with its gas limit: another transaction on
// the same nonce.
func journalTxGas(t *testing.T, nonce, gas uint64) *types.Transaction {
	t.Helper()
	key, err := crypto.HexToECDSA("8a1f9a8f95be41cd7ccb6168179afb4504aefe388d1e14474d32c45c72ce7b7a")
	if err != nil {
		t.Fatal(err)
	}
	to := common.HexToAddress("0x00000000000000000000000000000000000000A1")
	tx, err := types.SignTx(types.NewTx(&types.DynamicFeeTx{ChainID: big.NewInt(1), Nonce: nonce, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(2), Gas: gas, To: &to}), types.LatestSignerForChainID(big.NewInt(1)), key)
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

// TestStore_ExecutionJournal: send mode's journal in the state database
// (execution.StoreJournal over the Store), on SQLite and PostgreSQL:
// what one instance records, another on the same database reads (the
// process that takes the lease resolves the previous holder's
// transactions); a call's transaction is recorded once, a different one
// under the same call refused; the gas price an intent decided at is
// kept as first recorded; a journal file of an earlier version is
// imported at start, twice without harm.
func TestStore_ExecutionJournal(t *testing.T) {
	forEachStore(t, func(t *testing.T, dsn string) {
		a, b := openTestStore(t, dsn), openTestStore(t, dsn)
		ja, jb := execution.StoreJournal{S: a}, execution.StoreJournal{S: b}
		tx0, tx1 := journalTx(t, 7), journalTx(t, 8)
		if err := ja.Record("v/rebalance/1", 0, tx0); err != nil {
			t.Fatal(err)
		}
		if got, err := jb.Lookup("v/rebalance/1", 0); err != nil || got == nil || got.Hash() != tx0.Hash() || got.Nonce() != 7 {
			t.Fatalf("the other instance reads %v, %v; want %s", got, err, tx0.Hash().Hex())
		}
		if err := ja.Record("v/rebalance/1", 0, tx0); err != nil {
			t.Errorf("the same record again: %v", err)
		}
		if err := jb.Record("v/rebalance/1", 0, tx1); err == nil || !strings.Contains(err.Error(), tx0.Hash().Hex()) {
			t.Errorf("another transaction for the same call: %v, want a refusal naming the first", err)
		}
		if got, _ := jb.Lookup("v/rebalance/1", 1); got != nil {
			t.Errorf("call 2 was never recorded, read %s", got.Hash().Hex())
		}
		for key, want := range map[string]bool{"v/rebalance/1": true, "v/rebalance/2": false} {
			if got, err := jb.Started(key); err != nil || got != want {
				t.Errorf("Started(%s) = %t, %v; want %t", key, got, err, want)
			}
		}
		if _, ok, err := jb.GasOf("v/rebalance/1"); ok || err != nil {
			t.Errorf("gas before it was recorded: %t %v", ok, err)
		}
		if err := ja.RecordGas("v/rebalance/1", decimal.RequireFromString("12.5")); err != nil {
			t.Fatal(err)
		}
		if err := jb.RecordGas("v/rebalance/1", decimal.RequireFromString("99")); err != nil {
			t.Fatal(err)
		}
		if g, ok, err := jb.GasOf("v/rebalance/1"); !ok || err != nil || !g.Equal(decimal.RequireFromString("12.5")) {
			t.Errorf("gas %s %t %v, want the first, 12.5", g, ok, err)
		}
		// A journal file of an earlier version: its records join the
		// store's; the one the store holds already is kept.
		path := filepath.Join(t.TempDir(), "execution-journal.jsonl")
		fj, err := execution.OpenFileJournal(path)
		if err != nil {
			t.Fatal(err)
		}
		tx2 := journalTx(t, 9)
		for _, rec := range []struct {
			key string
			i   int
			tx  *types.Transaction
		}{{"v/rebalance/1", 0, tx0}, {"v/rebalance/3", 0, tx1}, {"v/rebalance/3", 1, tx2}} {
			if err := fj.Record(rec.key, rec.i, rec.tx); err != nil {
				t.Fatal(err)
			}
		}
		if err := fj.RecordGas("v/rebalance/3", decimal.RequireFromString("7")); err != nil {
			t.Fatal(err)
		}
		if err := fj.RecordRates("v/rebalance/3", map[string]decimal.Decimal{"aave-v3/wsteth-loop": decimal.RequireFromString("1.2214")}); err != nil {
			t.Fatal(err)
		}
		fj.Close()
		for range 2 {
			if n, err := execution.Import(path, a); err != nil || n != 5 {
				t.Fatalf("import: %d records, %v; want 5", n, err)
			}
		}
		txs, err := b.JournalTxs(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, x := range txs {
			got = append(got, x.Key+"#"+string(rune('0'+x.Index))+" "+x.Hash)
		}
		want := []string{"v/rebalance/1#0 " + tx0.Hash().Hex(), "v/rebalance/3#0 " + tx1.Hash().Hex(), "v/rebalance/3#1 " + tx2.Hash().Hex()}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("journal after the import:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if g, ok, _ := jb.GasOf("v/rebalance/3"); !ok || !g.Equal(decimal.RequireFromString("7")) {
			t.Errorf("imported gas %s %t, want 7", g, ok)
		}
		if rs, ok, err := jb.RatesOf("v/rebalance/3"); !ok || err != nil || !rs["aave-v3/wsteth-loop"].Equal(decimal.RequireFromString("1.2214")) {
			t.Errorf("imported loop rates %v %t %v, want aave-v3/wsteth-loop 1.2214", rs, ok, err)
		}
		if err := ja.RecordRates("v/rebalance/3", map[string]decimal.Decimal{"aave-v3/wsteth-loop": decimal.RequireFromString("9")}); err != nil {
			t.Fatal(err)
		}
		if rs, _, _ := jb.RatesOf("v/rebalance/3"); !rs["aave-v3/wsteth-loop"].Equal(decimal.RequireFromString("1.2214")) {
			t.Errorf("loop rates after a second record %v, want the first kept", rs)
		}
		if n, err := execution.Import(filepath.Join(t.TempDir(), "none.jsonl"), a); err != nil || n != 0 {
			t.Errorf("no journal file: %d, %v; want nothing imported", n, err)
		}
	})
}

// TestStore_JournalFencedByLease: the record of a signed transaction
// (before its broadcast) is fenced by the lease, on SQLite and
// PostgreSQL: it succeeds only while the lease still has the generation
// the process took it at, checked in the transaction that writes the
// record. A holder whose lease lapsed, or was taken over, records
// nothing (so broadcasts nothing) and is told so (execution.ErrFenced,
// ErrNotLeader, its lost callback); one that took the lease back since is
// still refused for what it began under the old generation. One nonce of
// an account is journalled for one transaction only, and the highest
// journalled nonce is read per account.
func TestStore_JournalFencedByLease(t *testing.T) {
	forEachStore(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		a, b := openTestStore(t, dsn), openTestStore(t, dsn)
		now := int64(1_700_000_000_000)
		ttl := 10 * time.Second
		clock := now
		type proc struct {
			holder, nonce string
			gen           int64
			lost          []error
		}
		pa, pb := &proc{holder: "one", nonce: "na"}, &proc{holder: "two", nonce: "nb"}
		fenced := func(st *Store, p *proc) execution.StoreJournal {
			return execution.StoreJournal{S: st.Fenced(func() *LeaseCheck {
				return &LeaseCheck{Holder: p.holder, Nonce: p.nonce, Gen: p.gen, NowMs: clock}
			}, func(err error) { p.lost = append(p.lost, err) })}
		}
		take := func(st *Store, p *proc, at int64) {
			t.Helper()
			ok, l, err := st.AcquireLease(ctx, p.holder, p.nonce, at, ttl)
			if !ok || err != nil {
				t.Fatalf("%s takes the lease at +%d ms: %t, %v", p.holder, at-now, ok, err)
			}
			p.gen = l.Generation
		}
		refused := func(step string, j execution.StoreJournal, p *proc, key string, tx *types.Transaction) {
			t.Helper()
			lost := len(p.lost)
			err := j.Record(key, 0, tx)
			if !errors.Is(err, execution.ErrFenced) || !errors.Is(err, ErrNotLeader) {
				t.Errorf("%s: Record = %v, want refused (ErrFenced, ErrNotLeader)", step, err)
			}
			if len(p.lost) != lost+1 {
				t.Errorf("%s: the lost callback ran %d times, want once", step, len(p.lost)-lost)
			}
			if got, err := j.Lookup(key, 0); got != nil || err != nil {
				t.Errorf("%s: the refused transaction is journalled (%v, %v)", step, got, err)
			}
		}
		ja, jb := fenced(a, pa), fenced(b, pb)
		from := journalTx(t, 0).To() // any account but the signer's
		signer, err := types.Sender(types.LatestSignerForChainID(big.NewInt(1)), journalTx(t, 0))
		if err != nil {
			t.Fatal(err)
		}

		take(a, pa, now)
		if err := ja.Record("v/rebalance/1", 0, journalTx(t, 7)); err != nil {
			t.Fatalf("the holder records: %v", err)
		}
		if n, ok, err := jb.MaxNonce(signer); n != 7 || !ok || err != nil {
			t.Errorf("MaxNonce = %d, %t, %v; want 7", n, ok, err)
		}
		if _, ok, err := jb.MaxNonce(*from); ok || err != nil {
			t.Errorf("MaxNonce of an account with no transaction: ok %t, %v", ok, err)
		}
		// a's lease lapses, no one has taken it yet: refused all the same.
		clock = now + 10_000
		refused("lapsed lease", ja, pa, "v/rebalance/2", journalTx(t, 8))
		// b takes over; a, paused meanwhile, comes back mid-send.
		take(b, pb, now+15_000)
		clock = now + 15_001
		refused("taken over", ja, pa, "v/rebalance/2", journalTx(t, 8))
		if err := jb.Record("v/rebalance/2", 0, journalTx(t, 8)); err != nil {
			t.Fatalf("the new holder records: %v", err)
		}
		// b's lease lapses, a takes it back (a new generation): what a
		// began under its old generation is refused though its holder
		// name and process nonce are the lease's again.
		old := pa.gen
		take(a, pa, now+30_000)
		clock = now + 30_001
		if pa.gen != old+2 {
			t.Errorf("generation %d after two changes of hands, want %d", pa.gen, old+2)
		}
		fresh := pa.gen
		pa.gen = old
		refused("stale generation", ja, pa, "v/rebalance/3", journalTx(t, 9))
		pa.gen = fresh
		if err := ja.Record("v/rebalance/3", 0, journalTx(t, 9)); err != nil {
			t.Fatalf("the holder at its new generation records: %v", err)
		}
		// Another transaction on a journalled nonce is refused, naming
		// the call that holds the nonce.
		err = ja.Record("v/rebalance/4", 0, journalTxGas(t, 8, 30000))
		if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "v/rebalance/2") {
			t.Errorf("a second transaction on nonce 8: %v, want a conflict naming v/rebalance/2", err)
		}
		if got, _ := ja.Lookup("v/rebalance/4", 0); got != nil {
			t.Errorf("the transaction on a journalled nonce is journalled: %s", got.Hash().Hex())
		}
		if n, ok, err := ja.MaxNonce(signer); n != 9 || !ok || err != nil {
			t.Errorf("MaxNonce = %d, %t, %v; want 9", n, ok, err)
		}
		txs, err := a.JournalTxs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, x := range txs {
			got = append(got, fmt.Sprintf("%s#%d nonce %d", x.Key, x.Index, x.Nonce))
		}
		want := "v/rebalance/1#0 nonce 7\nv/rebalance/2#0 nonce 8\nv/rebalance/3#0 nonce 9"
		if strings.Join(got, "\n") != want {
			t.Errorf("journal:\n%s\nwant\n%s", strings.Join(got, "\n"), want)
		}
	})
}
