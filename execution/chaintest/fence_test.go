package chaintest

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ethereum "github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/yieldvault/yieldvault/execution"
	"github.com/yieldvault/yieldvault/internal/pgtest"
	"github.com/yieldvault/yieldvault/service"
)

// instance is one send-mode process of TestSend_TwoSendersRace: its own
// connection to the shared state database, the lease as it took it, and
// a Sender whose journal is the store fenced by that lease.
type instance struct {
	name   string
	calls  []execution.Call // an intent's calls: a mint
	st     *service.Store
	gen    atomic.Int64
	lost   atomic.Int32 // records the fence refused
	sender *execution.Sender
	// hold, when set, is called with each transaction just before
	// (recorded false) and just after (recorded true) the journal's
	// Record: the test parks the instance there, as a GC pause or a
	// partition would.
	hold func(tx *types.Transaction, recorded bool)
}

// hookJournal is the fenced journal with the instance's hold around
// Record.
type hookJournal struct {
	execution.StoreJournal
	in *instance
}

func (j hookJournal) Record(key string, i int, tx *types.Transaction) error {
	if h := j.in.hold; h != nil {
		h(tx, false)
	}
	err := j.StoreJournal.Record(key, i, tx)
	if h := j.in.hold; h != nil && err == nil {
		h(tx, true)
	}
	return err
}

// TestSend_TwoSendersRace: two send-mode instances on one state database
// (SQLite and PostgreSQL) with one sending account, the lease passing
// between them as if each were paused past its lease in turn. Sending is
// fenced by the lease and the nonce comes from the journal as well as
// the node, so no nonce is used twice and no transaction is orphaned:
//
//   - parked after signing, before the record: the other instance takes
//     the lease and sends on the same nonce; the parked one, resumed, is
//     refused by the fence and broadcasts nothing;
//   - parked after signing, the lease lost and taken back: the other
//     instance sent on the nonce meanwhile, so the record is refused for
//     the nonce and the call signed again at the next one;
//   - parked after the record, before the broadcast: the other instance
//     takes the lease and sends on the next nonce (the node does not know
//     the journalled one yet); both are mined once the first resumes;
//   - a free race: both send 12 intents each while the lease changes
//     hands every 15 ms; every intent's mint is mined exactly once, the
//     journal's nonces are the account's, each once, all mined.
func TestSend_TwoSendersRace(t *testing.T) {
	pgtest.EachStore(t, testTwoSendersRace)
}

func testTwoSendersRace(t *testing.T, dsn string) {
	if dsn == "state.db" {
		dsn = filepath.Join(t.TempDir(), dsn)
	}
	token := loadArtifact(t, "ERC20PresetMinterPauser")
	c := newChain(t)
	ctx := context.Background()
	me := c.signer.Address()
	asset := c.deploy(t, token, "Test USD", "tUSD")
	// a mints 1 token an intent, b 2: their transactions differ even on
	// one nonce, and the supply counts each instance's mints.
	mintOf := func(amount string) []execution.Call {
		data, err := token.ABI.Pack("mint", me, e18(amount))
		if err != nil {
			t.Fatal(err)
		}
		return []execution.Call{{To: asset, Data: data, Contract: "tUSD", Method: token.ABI.Methods["mint"], Args: []any{me, e18(amount)}}}
	}

	const ttl = 10 * time.Second
	var clock atomic.Int64 // the wall clock both instances read, ms
	clock.Store(1_700_000_000_000)
	var leaseMu sync.Mutex // one change of hands at a time
	open := func(name string, calls []execution.Call) *instance {
		st, err := service.OpenStore(ctx, dsn, false)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		in := &instance{name: name, calls: calls, st: st}
		fenced := st.Fenced(func() *service.LeaseCheck {
			return &service.LeaseCheck{Holder: name, Nonce: name, Gen: in.gen.Load(), NowMs: clock.Load()}
		}, func(error) { in.lost.Add(1) })
		in.sender = &execution.Sender{Client: c.client, Signer: c.signer, Journal: hookJournal{execution.StoreJournal{S: fenced}, in}, Poll: 5 * time.Millisecond, Timeout: time.Minute}
		return in
	}
	// take moves the clock past the lease's expiry and gives it to in.
	take := func(in *instance) {
		t.Helper()
		leaseMu.Lock()
		defer leaseMu.Unlock()
		now := clock.Add(ttl.Milliseconds() + 1)
		ok, l, err := in.st.AcquireLease(ctx, in.name, in.name, now, ttl)
		if !ok || err != nil {
			t.Errorf("%s takes the lease: %t, %v", in.name, ok, err)
			return
		}
		in.gen.Store(l.Generation)
	}
	a, b := open("a", mintOf("1")), open("b", mintOf("2"))
	nonce0, err := c.client.NonceAt(ctx, me, nil)
	if err != nil {
		t.Fatal(err)
	}

	// 1. a is parked after signing, before its record.
	take(a)
	parked, release := make(chan *types.Transaction, 1), make(chan struct{})
	a.hold = func(tx *types.Transaction, recorded bool) {
		if !recorded {
			parked <- tx
			<-release
		}
	}
	aDone := make(chan error, 1)
	go func() {
		sent, err := a.sender.Send(ctx, "a/1", a.calls)
		if len(sent) > 0 {
			err = fmt.Errorf("%d transactions sent (error: %v)", len(sent), err)
		}
		aDone <- err
	}()
	aTx := recv(t, parked, "a parked before its record")
	a.hold = nil
	take(b)
	sent, err := b.sender.Send(ctx, "b/1", b.calls)
	if err != nil {
		t.Fatalf("b sends with the lease: %v", err)
	}
	if sent[0].Tx.Nonce() != aTx.Nonce() || aTx.Nonce() != nonce0 {
		t.Errorf("nonces: a signed %d, b sent %d; want both %d (the race this case is about)", aTx.Nonce(), sent[0].Tx.Nonce(), nonce0)
	}
	close(release)
	if err := <-aDone; !errors.Is(err, execution.ErrFenced) {
		t.Errorf("a resumed after b took the lease: %v, want fenced out", err)
	}
	if a.lost.Load() != 1 {
		t.Errorf("a's fence refusals: %d, want 1", a.lost.Load())
	}
	if _, _, err := c.client.TransactionByHash(ctx, aTx.Hash()); !errors.Is(err, ethereum.NotFound) {
		t.Errorf("a's fenced transaction %s reached the node (%v)", aTx.Hash().Hex(), err)
	}
	if tx, _ := a.sender.Journal.Lookup("a/1", 0); tx != nil {
		t.Errorf("a's fenced transaction is journalled: %s", tx.Hash().Hex())
	}

	// 1b. b is parked after signing; a takes the lease and sends on the
	// same nonce; b takes the lease back and resumes: its record passes
	// the fence (b holds the lease now) but the nonce is journalled for
	// a's transaction, so b signs again at the next nonce.
	parked, release = make(chan *types.Transaction, 1), make(chan struct{})
	b.hold = func(tx *types.Transaction, recorded bool) {
		if !recorded {
			b.hold = nil
			parked <- tx
			<-release
		}
	}
	bDone := make(chan error, 1)
	var bSent []execution.Sent
	go func() {
		var err error
		bSent, err = b.sender.Send(ctx, "b/1b", b.calls)
		bDone <- err
	}()
	bTx := recv(t, parked, "b parked before its record")
	take(a)
	if sent, err = a.sender.Send(ctx, "a/1b", a.calls); err != nil {
		t.Fatalf("a sends with the lease: %v", err)
	}
	take(b)
	close(release)
	if err := <-bDone; err != nil {
		t.Errorf("b resumed with the lease back: %v, want its call signed again and sent", err)
	} else if bSent[0].Tx.Nonce() != bTx.Nonce()+1 || sent[0].Tx.Nonce() != bTx.Nonce() {
		t.Errorf("nonces: b first signed %d, a sent %d, b then sent %d; want b's second one above a's", bTx.Nonce(), sent[0].Tx.Nonce(), bSent[0].Tx.Nonce())
	}

	// 2. a (holding the lease again) is parked after its record, before
	// its broadcast.
	take(a)
	parked, release = make(chan *types.Transaction, 1), make(chan struct{})
	a.hold = func(tx *types.Transaction, recorded bool) {
		if recorded {
			parked <- tx
			<-release
		}
	}
	go func() {
		_, err := a.sender.Send(ctx, "a/2", a.calls)
		aDone <- err
	}()
	aTx = recv(t, parked, "a parked after its record")
	a.hold = nil
	take(b)
	bRecorded := make(chan *types.Transaction, 1)
	b.hold = func(tx *types.Transaction, recorded bool) {
		if recorded {
			bRecorded <- tx
		}
	}
	go func() {
		_, err := b.sender.Send(ctx, "b/2", b.calls)
		bDone <- err
	}()
	select {
	case bTx = <-bRecorded:
	case err := <-bDone:
		t.Fatalf("b, a's transaction journalled and not broadcast: %v, want its own sent on the next nonce", err)
	}
	b.hold = nil
	if pending, _ := c.client.PendingNonceAt(ctx, me); pending != aTx.Nonce() {
		t.Errorf("the node's pending nonce %d, want a's journalled and unbroadcast %d (else this case tests nothing)", pending, aTx.Nonce())
	}
	if bTx.Nonce() != aTx.Nonce()+1 {
		t.Errorf("b signed nonce %d, want %d: one above a's journalled transaction", bTx.Nonce(), aTx.Nonce()+1)
	}
	close(release)
	if err := <-aDone; err != nil {
		t.Errorf("a's recorded transaction, broadcast late: %v", err)
	}
	if err := <-bDone; err != nil {
		t.Errorf("b's transaction behind a's: %v", err)
	}
	if err := errors.Join(wantMined(ctx, c, aTx), wantMined(ctx, c, bTx)); err != nil {
		t.Error(err)
	}

	// 3. A free race: each sends its intents, retrying a fenced one
	// until it holds the lease again; the lease changes hands every
	// 15 ms meanwhile.
	const n = 12
	stop := make(chan struct{})
	var flips sync.WaitGroup
	flips.Add(1)
	go func() {
		defer flips.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(15 * time.Millisecond):
			}
			take([]*instance{a, b}[i%2])
		}
	}()
	var senders sync.WaitGroup
	for _, in := range []*instance{a, b} {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for k := range n {
				key := fmt.Sprintf("%s/race/%d", in.name, k)
				for tries := 0; ; tries++ {
					_, err := in.sender.Send(ctx, key, in.calls)
					if err == nil {
						break
					}
					if !errors.Is(err, execution.ErrFenced) || tries > 2000 {
						t.Errorf("%s: %v", key, err)
						return
					}
					time.Sleep(2 * time.Millisecond)
				}
			}
		}()
	}
	senders.Wait()
	close(stop)
	flips.Wait()

	// Every journalled transaction is mined, each nonce once, and they
	// are the account's nonces from the first on: nothing orphaned,
	// nothing skipped.
	txs, err := a.st.JournalTxs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := 5 + 2*n; len(txs) != want {
		t.Errorf("%d journalled transactions, want %d (one per intent sent, a/1 fenced out)", len(txs), want)
	}
	var nonces []int
	minted := new(big.Int)
	for _, x := range txs {
		minted.Add(minted, map[byte]*big.Int{'a': e18("1"), 'b': e18("2")}[x.Key[0]])
		tx, err := a.sender.Journal.Lookup(x.Key, x.Index)
		if err != nil || tx == nil {
			t.Fatalf("%s: %v", x.Key, err)
		}
		if err := wantMined(ctx, c, tx); err != nil {
			t.Errorf("%s: %v", x.Key, err)
		}
		nonces = append(nonces, int(x.Nonce))
	}
	sort.Ints(nonces)
	for i, got := range nonces {
		if got != int(nonce0)+i {
			t.Fatalf("journalled nonces %v: want each of %d.. once", nonces, nonce0)
		}
	}
	if got, _ := c.client.NonceAt(ctx, me, nil); got != nonce0+uint64(len(txs)) {
		t.Errorf("the account's nonce %d, want %d: a transaction on chain is not in the journal", got, nonce0+uint64(len(txs)))
	}
	if got := c.uint(t, token, asset, "totalSupply"); got.Cmp(minted) != 0 {
		t.Errorf("%s minted, want %s: one mint per journalled intent", got, minted)
	}
	t.Logf("free race: %d fence refusals for a, %d for b (each retried under the lease)", a.lost.Load()-1, b.lost.Load())
}

// recv receives from ch, failing after a minute.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(time.Minute):
		t.Fatalf("%s: not within a minute", what)
	}
	var zero T
	return zero
}

// wantMined says what is wrong unless tx has a successful receipt.
func wantMined(ctx context.Context, c *chain, tx *types.Transaction) error {
	for range 500 {
		rc, err := c.client.TransactionReceipt(ctx, tx.Hash())
		if err == nil {
			if rc.Status != types.ReceiptStatusSuccessful {
				return fmt.Errorf("transaction %s (nonce %d) reverted", tx.Hash().Hex(), tx.Nonce())
			}
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("transaction %s (nonce %d) is not mined: orphaned", tx.Hash().Hex(), tx.Nonce())
}

// TestService_SendModeFencedOut: the service in send mode whose lease
// another process took over (the row's holder and generation changed, as
// a takeover after this process stalled past its lease writes them) is
// asked to rebalance: the transaction it signs is not recorded and not
// broadcast, the request answers 503 not_ready, the process steps down
// (lease_held 0) and counts each refusal (send_fenced_total); the intent stays
// pending for the lease holder, and asked again it still sends nothing.
func TestService_SendModeFencedOut(t *testing.T) {
	f := newSendFixture(t, "1000")
	ctx := context.Background()
	me := f.c.signer.Address()
	nonce0, err := f.c.client.PendingNonceAt(ctx, me)
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.store.DB().ExecContext(ctx, f.store.Rebind("UPDATE lease SET holder = 'other-host:1', nonce = 'other', generation = generation + 1, expires_at = ? WHERE name = 'scheduler'"), time.Now().Add(time.Hour).UnixMilli())
	if n, _ := res.RowsAffected(); err != nil || n != 1 {
		t.Fatalf("the takeover: %d rows, %v", n, err)
	}
	for _, try := range []string{"first", "again"} {
		code, body := f.do("POST", "/v1/vaults/usd/rebalance", "rb-1")
		if code != 503 || !strings.Contains(string(body), `"not_ready"`) || !strings.Contains(string(body), "nothing was sent") {
			t.Errorf("%s: rebalance answered %d %s; want 503 not_ready, nothing sent", try, code, body)
		}
	}
	if n, _ := f.c.client.PendingNonceAt(ctx, me); n != nonce0 {
		t.Errorf("the account's pending nonce went from %d to %d: a fenced-out process broadcast", nonce0, n)
	}
	if txs, err := f.store.JournalTxs(ctx); err != nil || len(txs) != 0 {
		t.Errorf("journal after the fence: %v, %v; want nothing recorded", txs, err)
	}
	if in, err := f.store.Intent(ctx, "usd/api/rb-1"); err != nil || in.Status != "pending" {
		t.Errorf("the intent: %+v, %v; want pending, for the lease holder", in, err)
	}
	_, metrics := f.do("GET", "/metrics", "")
	for _, want := range []string{"yieldvault_send_fenced_total 2\n", "yieldvault_lease_held 0\n"} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %q", strings.TrimSpace(want))
		}
	}
}
