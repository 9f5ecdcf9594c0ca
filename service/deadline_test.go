package service

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/internal/sqlitex"
)

// holdWriteLock opens its own connection to the database at path and
// keeps its write lock (SQLite's, or the store's advisory lock on
// PostgreSQL) in an open transaction, as a leader stopped (SIGSTOP)
// inside a write does, until the returned function is called.
func holdWriteLock(t *testing.T, path string) (release func()) {
	t.Helper()
	if IsPostgresURL(path) {
		db, err := sql.Open("pgx", path)
		if err != nil {
			t.Fatal(err)
		}
		tx, err := pgDriver{}.beginWrite(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		return func() { tx.Rollback(); db.Close() }
	}
	db, err := sql.Open(sqlitex.DriverName, sqlitex.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(context.Background(), nil) // _txlock=immediate: takes the write lock
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("UPDATE lease SET expires_at = expires_at"); err != nil {
		t.Fatal(err)
	}
	return func() { tx.Rollback(); db.Close() }
}

// TestStore_WriteDeadline: a write that cannot take the write lock fails
// within the write deadline with ErrWriteBlocked (it waited SQLite's
// five-second busy timeout), and is counted.
func TestStore_WriteDeadline(t *testing.T) {
	forEachStore(t, testStoreWriteDeadline)
}

func testStoreWriteDeadline(t *testing.T, path string) {
	ctx := context.Background()
	var exceeded atomic.Int32
	st, err := OpenStore(ctx, path, true, WithWriteDeadline(200*time.Millisecond, time.Now, func() { exceeded.Add(1) }))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if ok, _, err := st.AcquireLease(ctx, "one", "n1", time.Now().UnixMilli(), time.Second); !ok || err != nil {
		t.Fatalf("lease: %t, %v", ok, err)
	}
	release := holdWriteLock(t, path)
	defer release()
	began := time.Now()
	_, _, err = st.AcquireLease(ctx, "one", "n1", time.Now().UnixMilli(), time.Second)
	took := time.Since(began)
	if !errors.Is(err, ErrWriteBlocked) {
		t.Errorf("renewal under another process's write lock = %v, want ErrWriteBlocked", err)
	}
	if took > 1500*time.Millisecond {
		t.Errorf("the blocked write took %s, want about the 200ms deadline", took)
	}
	if exceeded.Load() != 1 {
		t.Errorf("%d writes counted over the deadline, want 1", exceeded.Load())
	}
	if d := st.WriteOpenFor(time.Now()); d != 0 {
		t.Errorf("WriteOpenFor = %s with no write open", d)
	}
}

// TestService_HungLeaderReported: a standby whose leader's lease expired
// while the leader keeps the write lock (stopped inside a write) reports
// it within the write deadline: /readyz 503 with write_blocked, the
// store_write_blocked gauge at 1, an error log line naming the holder.
// Once the lock is released the standby takes the lease and clears it.
func TestService_HungLeaderReported(t *testing.T) {
	path := writeConfig(t, "durability: normal\ntoken: { env: T }\nwrite_deadline: 300ms\nlease: { holder: standby, ttl: 1h }", "  - { id: eth, strategy: $STRAT/lst-lrt-balanced.yaml, deposit: \"100\" }\n")
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// The leader created the vault, then hung; its lease has expired.
	cfgA := *cfg
	cfgA.LeaseHolder = "leader"
	a, err := New(ctx, &cfgA, Options{Wall: time.Now, Clock: NewManualClock(t0), History: sharedHistory(t), Manual: true,
		Getenv: func(string) string { return testToken }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.store.db.Exec("UPDATE lease SET expires_at = ?", time.Now().Add(-time.Second).UnixMilli()); err != nil {
		t.Fatal(err)
	}
	a.Close()
	release := holdWriteLock(t, cfg.StateDB)
	var logs syncBuf
	var exitCode atomic.Int32
	// A standby starts while the leader hangs: it starts, and its first
	// lease attempt reports the hang within the write deadline.
	began := time.Now()
	b, err := New(ctx, cfg, Options{Wall: time.Now, Clock: NewManualClock(t0), History: sharedHistory(t), Manual: true,
		Logger: slogTo(&logs), Exit: func(code int) { exitCode.Store(int32(code)) }, Getenv: func(string) string { return testToken }})
	if err != nil {
		t.Fatalf("New under a hung leader's lock: %v", err)
	}
	defer b.Close()
	if b.blocked.Load() == nil {
		t.Fatalf("the standby started under the hung leader's lock (in %s) without reporting it", time.Since(began))
	}
	// The lease loop's next turn finds it still blocked, within the
	// deadline (the busy timeout is the deadline, not five seconds).
	b.blocked.Store(nil)
	began = time.Now()
	b.leaseTick(ctx)
	if d := time.Since(began); d > 1500*time.Millisecond {
		t.Errorf("detecting the hung leader took %s, want about the 300ms write deadline", d)
	}
	rec := httptest.NewRecorder()
	b.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	var ready struct {
		Ready   bool `json:"ready"`
		Blocked *struct {
			Holder       string `json:"holder"`
			LeaseExpired bool   `json:"lease_expired"`
			Message      string `json:"message"`
		} `json:"write_blocked"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &ready); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusServiceUnavailable || ready.Ready || ready.Blocked == nil || ready.Blocked.Holder != "leader" || !ready.Blocked.LeaseExpired || !strings.Contains(ready.Blocked.Message, "hung") {
		t.Errorf("/readyz while blocked: %d %s", rec.Code, rec.Body)
	}
	if got := metricValue(t, b.metrics.WriteBlocked); got != 1 {
		t.Errorf("store_write_blocked = %g, want 1", got)
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "lease holder leader looks hung") {
		t.Errorf("no error log line naming the hung holder:\n%s", logs.String())
	}
	// A request meanwhile answers 503 write_blocked (retry with the key).
	wrec := httptest.NewRecorder()
	wreq := httptest.NewRequest("POST", "/v1/vaults/eth/pause", nil)
	wreq.Header.Set("Authorization", "Bearer "+testToken)
	wreq.Header.Set(IdempotencyHeader, "p1")
	b.Handler().ServeHTTP(wrec, wreq)
	if wrec.Code != http.StatusServiceUnavailable || !strings.Contains(wrec.Body.String(), "write_blocked") {
		t.Errorf("POST while blocked: %d %s, want 503 write_blocked", wrec.Code, wrec.Body)
	}
	if exitCode.Load() != 0 {
		t.Errorf("the standby's watchdog exited with %d: only a process whose own write is open exits", exitCode.Load())
	}
	release()
	b.leaseTick(ctx)
	if !b.isLeader() || b.blocked.Load() != nil || metricValue(t, b.metrics.WriteBlocked) != 0 {
		t.Errorf("after the lock was released: leader %t, blocked %v, gauge %g", b.isLeader(), b.blocked.Load(), metricValue(t, b.metrics.WriteBlocked))
	}
}

// TestService_Watchdog: a process whose write transaction stays open past
// 1.5 times the write deadline (stopped and resumed, or stuck in fsync)
// exits with ExitWatchdog and logs why; one within it does not.
func TestService_Watchdog(t *testing.T) {
	path := writeConfig(t, "durability: normal\nwrite_deadline: 1s", "  - { id: eth, strategy: $STRAT/lst-lrt-balanced.yaml, deposit: \"100\" }\n")
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuf
	var code atomic.Int32
	s, err := New(context.Background(), cfg, Options{Wall: time.Now, Clock: NewManualClock(t0), History: sharedHistory(t), Manual: true,
		Logger: slogTo(&logs), Exit: func(c int) { code.Store(int32(c)) }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.store.txSince.Store(time.Now().Add(-time.Second).UnixNano())
	if s.watchdogCheck(time.Second) || code.Load() != 0 {
		t.Errorf("a write open 1s of a 1s deadline ended the process (code %d)", code.Load())
	}
	s.store.txSince.Store(time.Now().Add(-2 * time.Second).UnixNano())
	if !s.watchdogCheck(time.Second) || code.Load() != ExitWatchdog {
		t.Errorf("a write open 2s of a 1s deadline: exit code %d, want %d", code.Load(), ExitWatchdog)
	}
	s.store.txSince.Store(0)
	if !strings.Contains(logs.String(), "watchdog") || !strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("no error log line from the watchdog:\n%s", logs.String())
	}
}
