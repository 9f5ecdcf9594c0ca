package backtest

import (
	"context"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
	"github.com/yieldvault/yieldvault/adapters/history/synth"
	"github.com/yieldvault/yieldvault/strategies/rules"
	"github.com/yieldvault/yieldvault/vault"
)

// TestScenario_Ezeth2024NoQueue runs the ezeth-2024 scenario (the ezETH
// depeg of 2024-04-24) with a strategy that holds ezETH and must leave it
// when it trades 3% below its rate. Renzo's withdrawals opened only with
// its contract upgrade of 2024-06-10/11: before that no ezETH exit may use
// a queue, so the strategy cannot escape the depeg at par. After it the
// same strategy may queue.
func TestScenario_Ezeth2024NoQueue(t *testing.T) {
	ctx := context.Background()
	from, to := time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 7, 31, 0, 0, 0, 0, time.UTC)
	m, err := adapters.Builtin().Market("renzo/ezeth")
	if err != nil {
		t.Fatal(err)
	}
	b, err := synth.Generate(synth.Config{Scenario: "ezeth-2024", From: from, To: to, Step: time.Hour, Seed: 1, Markets: []adapters.Market{m}})
	if err != nil {
		t.Fatal(err)
	}
	db, err := history.OpenMemory(ctx, history.WithClock(func() time.Time { return time.Unix(0, 0) }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Write(ctx, b); err != nil {
		t.Fatal(err)
	}
	src := `name: ezeth-hold
base: ETH
universe: [renzo/ezeth]
rules:
  score: 1.0
constraints: { idle: 0.5 }
rebalance: { every: "@daily" }
exit: { when: 'peg < 0.97' }
`
	s, err := rules.Load("ezeth-hold.yaml", []byte(src), adapters.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	w, err := Load(ctx, db, s, from, to, 0)
	if err != nil {
		t.Fatal(err)
	}
	capital := decimal.NewFromInt(100)
	cfg := DefaultVaultConfig(s, adapters.ETH, capital)
	cfg.Rebalance.MinGainOverCost = 0
	res, err := Run(ctx, Spec{Strategy: s, Data: w, From: from, To: to, Capital: capital, Pricing: adapters.PriceMarket, Vault: &cfg})
	if err != nil {
		t.Fatal(err)
	}
	opened := time.Date(2024, 6, 11, 0, 0, 0, 0, time.UTC)
	sellsBefore := 0
	for _, e := range res.Ledger {
		if e.Market != "renzo/ezeth" || e.Time.After(opened) {
			continue
		}
		switch e.Type {
		case vault.EntryQueue:
			t.Errorf("%s: ezETH queued before Renzo's withdrawals opened (2024-06-11): %s", e.Time.Format(time.RFC3339), e.Reason)
		case vault.EntrySell:
			sellsBefore++
		}
	}
	if res.Metrics.Exits == 0 || sellsBefore == 0 {
		t.Errorf("exits %d, ezETH sales before 2024-06-11 %d: the depeg of 2024-04-24 should force an exit through the venue", res.Metrics.Exits, sellsBefore)
	}
}
