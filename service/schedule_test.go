package service

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
)

func TestService_AdvanceHourlyWeek(t *testing.T) {
	path := writeConfig(t, "durability: normal", `
  - { id: eth-a, strategy: $STRAT/lst-lrt-balanced.yaml, deposit: "100", rebalance: "@hourly", exit_check: "@hourly" }
  - { id: usd-b, strategy: $STRAT/usd-lending.yaml, deposit: "250000", rebalance: "@hourly" }
`)
	clock := NewManualClock(t0)
	s := newTestService(t, path, clock)
	ctx := context.Background()
	if _, err := s.Advance(ctx, t0.Add(7*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"eth-a", "usd-b"} {
		var n int
		if err := s.store.db.QueryRow("SELECT count(*) FROM intents WHERE vault_id = ? AND action = 'rebalance' AND status = 'done'", id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 168 {
			t.Errorf("vault %s: %d rebalance intents done over a simulated week, want 168", id, n)
		}
	}
}

func TestLoopScheduler_PanicIsCountedAndOthersGoOn(t *testing.T) {
	s := newTestService(t, writeConfig(t, "durability: normal", "  - { id: v, strategy: $STRAT/usd-lending.yaml, deposit: \"1\" }\n"), NewManualClock(t0))
	hourly, err := parseSched("@hourly", "")
	if err != nil {
		t.Fatal(err)
	}
	loop := NewLoopScheduler(NewManualClock(t0), s.log, 1, s.onPanic)
	var calls []time.Time
	loop.Add(Job{Name: "boom", Sched: hourly.Sched, From: t0, Run: func(context.Context, time.Time) { panic("boom") }})
	loop.Add(Job{Name: "ok", Sched: hourly.Sched, From: t0, Order: 1, Run: func(_ context.Context, now time.Time) { calls = append(calls, now) }})
	if n := loop.RunUntil(context.Background(), t0.Add(3*time.Hour)); n != 6 {
		t.Errorf("RunUntil made %d calls, want 6", n)
	}
	if len(calls) != 3 || !calls[2].Equal(t0.Add(3*time.Hour)) {
		t.Errorf("the healthy job ran at %v, want the 3 hourly ticks", calls)
	}
	if got := metricValue(t, s.metrics.JobPanics.WithLabelValues("boom")); got != 3 {
		t.Errorf("panic metric %g, want 3", got)
	}
}

func TestCronScheduler_PanicIsCountedAndOthersGoOn(t *testing.T) {
	s := newTestService(t, writeConfig(t, "durability: normal", "  - { id: v, strategy: $STRAT/usd-lending.yaml, deposit: \"1\" }\n"), NewManualClock(t0))
	every, err := parseSched("@every 1s", "")
	if err != nil {
		t.Fatal(err)
	}
	c := NewCronScheduler(s.log, NewManualClock(t0), s.onPanic)
	ran := make(chan time.Time, 10)
	c.Add(Job{Name: "boom", Sched: every.Sched, Run: func(context.Context, time.Time) { panic("boom") }})
	c.Add(Job{Name: "ok", Sched: every.Sched, Run: func(_ context.Context, now time.Time) { ran <- now }})
	c.Start(context.Background())
	select {
	case now := <-ran:
		if !now.Equal(t0) {
			t.Errorf("job called with %s, want the scheduler's clock %s", now, t0)
		}
	case <-time.After(3 * time.Second):
		t.Error("the healthy job did not run")
	}
	c.Stop()
	if got := metricValue(t, s.metrics.JobPanics.WithLabelValues("boom")); got < 1 {
		t.Errorf("panic metric %g, want >= 1", got)
	}
}

func TestService_RecoverPendingIntent(t *testing.T) {
	path := writeConfig(t, "durability: normal\nlease: { holder: one, ttl: 2s }", `
  - { id: eth, strategy: $STRAT/lst-lrt-balanced.yaml, deposit: "100", rebalance: "@hourly", exit_check: "@hourly", harvest: "@daily" }
`)
	ctx := context.Background()
	a := newTestService(t, path, NewManualClock(t0))
	if _, err := a.Advance(ctx, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// A crash after journalling the 02:00 rebalance, before its commit.
	tick := t0.Add(2 * time.Hour)
	in := Intent{Key: TickKey("eth", ActRebalance, tick), VaultID: "eth", Action: ActRebalance, Tick: tick, Source: SourceSchedule, Created: time.Now()}
	if _, created, err := a.store.BeginIntent(ctx, in, a.leaseCheck()); err != nil || !created {
		t.Fatalf("journalling: created %t, %v", created, err)
	}
	// The restarted process has a new nonce: it takes the lease once the
	// crashed one's expires (2 s).
	if _, err := a.store.db.Exec("UPDATE lease SET expires_at = 0"); err != nil {
		t.Fatal(err)
	}
	a.Close()

	b := newTestService(t, path, NewManualClock(t0.Add(time.Hour)))
	got, err := b.store.Intent(ctx, in.Key)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "done" {
		t.Fatalf("after restart the intent is %s, want done", got.Status)
	}
	if n := metricValue(t, b.metrics.Recovered); n != 1 {
		t.Errorf("recovered metric %g, want 1", n)
	}
	row, err := b.store.Vault(ctx, "eth")
	if err != nil {
		t.Fatal(err)
	}
	if !row.Ticks.Rebalance.Equal(tick) {
		t.Errorf("rebalance tick %s after recovery, want %s", row.Ticks.Rebalance, tick)
	}
	if _, err := b.Advance(ctx, t0.Add(4*time.Hour)); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := b.store.db.QueryRow("SELECT count(*) FROM intents WHERE action = 'rebalance' AND status = 'done'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Errorf("%d rebalance intents done up to 04:00, want 4", n)
	}
}

// TestService_LeaseSingleActor: two instances on one state database
// (a SQLite file, a PostgreSQL schema): only the lease holder journals
// scheduled ticks; when it leaves, the other takes over.
func TestService_LeaseSingleActor(t *testing.T) {
	forEachStore(t, testServiceLeaseSingleActor)
}

func testServiceLeaseSingleActor(t *testing.T, dsn string) {
	vaults := "  - { id: eth, strategy: $STRAT/lst-lrt-balanced.yaml, deposit: \"100\", rebalance: \"@hourly\" }\n"
	path := writeConfig(t, "durability: normal\nlease: { holder: one, ttl: 1m }", vaults)
	ctx := context.Background()
	a := newTestServiceOn(t, path, NewManualClock(t0), dsn)
	// A second process on the same database with another holder.
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg.LeaseHolder, cfg.StateDB = "two", dsn
	b, err := New(ctx, cfg, Options{Wall: time.Now, Clock: NewManualClock(t0), History: sharedHistory(t), Manual: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.isLeader() || !a.isLeader() {
		t.Fatalf("leaders: a %t, b %t; want only a", a.isLeader(), b.isLeader())
	}
	if n, err := b.Advance(ctx, t0.Add(3*time.Hour)); err != nil || n == 0 {
		t.Fatalf("b.Advance: %d calls, %v", n, err)
	}
	var done int
	if err := a.store.db.QueryRow(a.store.Rebind("SELECT count(*) FROM intents WHERE source = 'schedule'")).Scan(&done); err != nil {
		t.Fatal(err)
	}
	if done != 0 {
		t.Errorf("the process without the lease journalled %d scheduled intents", done)
	}
	in := Intent{Key: TickKey("eth", ActRebalance, t0.Add(time.Hour)), VaultID: "eth", Action: ActRebalance, Tick: t0.Add(time.Hour), Source: SourceSchedule, Created: time.Now()}
	if _, _, err := b.store.BeginIntent(ctx, in, b.leaseCheck()); !errors.Is(err, adapters.ErrPaused) {
		t.Errorf("journalling without the lease: %v, want KindPaused", err)
	}
	if _, err := a.Advance(ctx, t0.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := a.store.db.QueryRow(a.store.Rebind("SELECT count(*) FROM intents WHERE source = 'schedule' AND action = 'rebalance'")).Scan(&done); err != nil {
		t.Fatal(err)
	}
	if done != 3 {
		t.Errorf("the holder did %d rebalance ticks, want 3", done)
	}
	// The holder leaves; the other takes over.
	if err := a.store.ReleaseLease(ctx, "one", a.nonce); err != nil {
		t.Fatal(err)
	}
	if err := b.renewLease(ctx); err != nil || !b.isLeader() {
		t.Fatalf("b after release: leader %t, %v", b.isLeader(), err)
	}
}
