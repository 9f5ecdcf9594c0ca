package service

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// countIntents counts the done scheduled intents of the state database.
func countIntents(t testing.TB, s *Service) int {
	t.Helper()
	var n int
	if err := s.store.db.QueryRow("SELECT count(*) FROM intents WHERE source = 'schedule' AND status = 'done'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestService_LeaseLostMidCatchUp: a catch-up whose lease is taken by
// another process returns at the next tick with ErrNotLeader instead of
// retrying the same tick up to 10,000 times.
func TestService_LeaseLostMidCatchUp(t *testing.T) {
	path := writeConfig(t, "durability: normal\nlease: { holder: one, ttl: 1h }", "  - { id: eth, strategy: $STRAT/lst-lrt-balanced.yaml, deposit: \"100\", rebalance: \"@hourly\" }\n")
	s := newTestService(t, path, NewManualClock(t0))
	ctx := context.Background()
	// Another process holds the lease in the database; this one still
	// believes it holds it (its renewal has not run yet).
	if _, err := s.store.db.Exec("UPDATE lease SET holder = 'two', expires_at = ?", time.Now().Add(time.Hour).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	if !s.isLeader() {
		t.Fatal("the service should still believe it holds the lease")
	}
	began := time.Now()
	err := s.vaults["eth"].runDue(ctx, ActRebalance, t0.Add(365*24*time.Hour))
	if !errors.Is(err, ErrNotLeader) {
		t.Errorf("runDue after losing the lease = %v, want ErrNotLeader", err)
	}
	t.Logf("runDue returned after %s", time.Since(began))
	if d := time.Since(began); d > 2*time.Second {
		t.Errorf("runDue took %s to notice the lease was lost", d)
	}
	if n := countIntents(t, s); n != 0 {
		t.Errorf("%d scheduled intents done without the lease", n)
	}
}

// TestService_StopBetweenTicks: a shutdown during a long catch-up stops
// at the next tick, not after every missed tick; the next start runs the
// rest, each tick exactly once.
func TestService_StopBetweenTicks(t *testing.T) {
	path := writeConfig(t, "durability: normal\nlease: { holder: one, ttl: 1h }", "  - { id: eth, strategy: $STRAT/lst-lrt-balanced.yaml, deposit: \"100\", rebalance: \"@hourly\", exit_check: \"@hourly\", harvest: \"@daily\" }\n")
	ctx := context.Background()
	until := t0.Add(30 * 24 * time.Hour) // 720 rebalances, 720 exit checks, 30 harvests
	const want = 720 + 720 + 30
	a := newTestService(t, path, NewManualClock(t0))
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := a.Advance(ctx, until); err != nil {
			t.Error(err)
		}
	}()
	for countIntents(t, a) < 10 {
		time.Sleep(5 * time.Millisecond)
	}
	asked := time.Now()
	a.stopping.Store(true) // what Run does first on SIGTERM
	at := countIntents(t, a)
	<-done
	stopped := time.Since(asked)
	after := countIntents(t, a) - at
	if after > 3 {
		t.Errorf("%d intents ran after the stop was asked (at most the one in flight per job)", after)
	}
	if stopped > 2*time.Second {
		t.Errorf("the catch-up took %s to stop", stopped)
	}
	if n := countIntents(t, a); n >= want {
		t.Fatalf("all %d ticks ran despite the stop", n)
	}
	if err := a.store.ReleaseLease(ctx, "one", a.nonce); err != nil { // as Run does at shutdown
		t.Fatal(err)
	}
	a.Close()
	b := newTestService(t, path, NewManualClock(t0))
	if _, err := b.Advance(ctx, until); err != nil {
		t.Fatal(err)
	}
	if n := countIntents(t, b); n != want {
		t.Errorf("%d scheduled intents done after the restart, want %d (one per tick)", n, want)
	}
}

// TestService_StandbyWaitsForVaults: a process that loses the lease race
// before the vaults exist starts (not ready, API 503) instead of failing,
// and creates the vaults once it takes the lease.
func TestService_StandbyWaitsForVaults(t *testing.T) {
	path := writeConfig(t, "durability: normal\ntoken: { env: T }\nlease: { holder: two, ttl: 1h }", "  - { id: eth, strategy: $STRAT/lst-lrt-balanced.yaml, deposit: \"100\" }\n")
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := OpenStore(ctx, cfg.StateDB, true)
	if err != nil {
		t.Fatal(err)
	}
	// Another process took the lease and has not created the vaults yet.
	if ok, _, err := st.AcquireLease(ctx, "one", "nonce-one", time.Now().UnixMilli(), time.Hour); err != nil || !ok {
		t.Fatalf("lease for one: %t, %v", ok, err)
	}
	s, err := New(ctx, cfg, Options{Wall: time.Now, Clock: NewManualClock(t0), History: sharedHistory(t), Manual: true,
		Getenv: func(string) string { return testToken }})
	if err != nil {
		t.Fatalf("New on a standby before the vaults exist: %v", err)
	}
	defer s.Close()
	if s.isLeader() || s.ready.Load() {
		t.Fatalf("standby: leader %t, ready %t; want neither", s.isLeader(), s.ready.Load())
	}
	h := s.Handler()
	for _, tc := range []struct{ method, path string }{{"GET", "/readyz"}, {"GET", "/v1/vaults"}, {"POST", "/v1/vaults/eth/deposit"}} {
		req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(`{"user":"a","amount":"1"}`))
		req.Header.Set("Authorization", "Bearer "+testToken)
		req.Header.Set(IdempotencyHeader, "k1")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("%s %s on the waiting standby: %d %s, want 503", tc.method, tc.path, rec.Code, rec.Body)
		}
	}
	var pending int
	if err := st.DB().QueryRow("SELECT count(*) FROM intents").Scan(&pending); err != nil || pending != 0 {
		t.Errorf("%d intents journalled on the waiting standby (%v)", pending, err)
	}
	// The other process goes away; the standby's lease loop takes over.
	if err := st.ReleaseLease(ctx, "one", "nonce-one"); err != nil {
		t.Fatal(err)
	}
	st.Close()
	s.leaseTick(ctx)
	if !s.isLeader() || !s.ready.Load() {
		t.Fatalf("after the lease was freed: leader %t, ready %t", s.isLeader(), s.ready.Load())
	}
	if _, err := s.store.Vault(ctx, "eth"); err != nil {
		t.Errorf("vault not created by the new holder: %v", err)
	}
}

// syncBuf is a log sink safe for concurrent writes.
type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestService_SameHolderName: two processes started with the same
// lease.holder are not both leaders: the second waits for the first's
// lease to expire, and the first, finding the lease renewed under another
// nonce, steps down and logs an error. No tick is journalled twice.
func TestService_SameHolderName(t *testing.T) {
	path := writeConfig(t, "durability: normal\nlease: { holder: same, ttl: 1h }", "  - { id: eth, strategy: $STRAT/lst-lrt-balanced.yaml, deposit: \"100\", rebalance: \"@hourly\" }\n")
	ctx := context.Background()
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	var logA, logB syncBuf
	open := func(buf *syncBuf) *Service {
		s, err := New(ctx, cfg, Options{Wall: time.Now, Clock: NewManualClock(t0), History: sharedHistory(t), Manual: true,
			Logger: slog.New(slog.NewTextHandler(buf, nil))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open(&logA), open(&logB)
	if !a.isLeader() || b.isLeader() {
		t.Fatalf("leaders under one holder name: a %t, b %t; want only a", a.isLeader(), b.isLeader())
	}
	if !strings.Contains(logB.String(), "same holder name: waiting") {
		t.Errorf("b did not log why it waits:\n%s", logB.String())
	}
	if _, err := a.Advance(ctx, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Advance(ctx, t0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	// a stalls past its lease's expiry; b takes the lease.
	if _, err := a.store.db.Exec("UPDATE lease SET expires_at = 0"); err != nil {
		t.Fatal(err)
	}
	if err := b.renewLease(ctx); err != nil || !b.isLeader() {
		t.Fatalf("b after a's lease expired: leader %t, %v", b.isLeader(), err)
	}
	// a's next renewal finds b's nonce under its own name.
	if err := a.renewLease(ctx); err != nil {
		t.Fatal(err)
	}
	if a.isLeader() {
		t.Error("a still leads after finding another process's nonce in the lease")
	}
	if !strings.Contains(logA.String(), "level=ERROR") || !strings.Contains(logA.String(), "stepping down") {
		t.Errorf("a did not log an error on stepping down:\n%s", logA.String())
	}
	if _, err := b.Advance(ctx, t0.Add(4*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Advance(ctx, t0.Add(4*time.Hour)); err != nil {
		t.Fatal(err)
	}
	var n, distinct int
	if err := a.store.db.QueryRow("SELECT count(*), count(DISTINCT key) FROM intents WHERE source = 'schedule' AND action = 'rebalance'").Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	if n != 4 || distinct != 4 {
		t.Errorf("%d rebalance intents (%d keys), want 4: one per tick", n, distinct)
	}
}

// slogTo is a text logger into w at debug level.
func slogTo(w *syncBuf) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// TestService_RunStoppedAtOnce: a service whose context is cancelled as
// Run begins (a SIGTERM during start-up) shuts down cleanly: Run returns
// nil, and the lease is released.
func TestService_RunStoppedAtOnce(t *testing.T) {
	path := writeConfig(t, "durability: normal\nlease: { holder: one, ttl: 1h }", "  - { id: eth, strategy: $STRAT/lst-lrt-balanced.yaml, deposit: \"100\" }\n")
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	clock := NewManualClock(t0)
	cfg.Replay = &Replay{Start: t0, Speed: 1}
	s, err := New(context.Background(), cfg, Options{Wall: time.Now, Clock: clock, History: sharedHistory(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Run(ctx, ln); err != nil {
		t.Errorf("Run on a cancelled context = %v, want nil (a clean stop)", err)
	}
	var n int
	if err := s.store.db.QueryRow("SELECT count(*) FROM lease WHERE holder != ''").Scan(&n); err != nil || n != 0 {
		t.Errorf("%d leases held after the stop (%v)", n, err)
	}
}
