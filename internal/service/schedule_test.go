package service

import (
	"context"
	"testing"
	"time"
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
