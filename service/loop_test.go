package service

import (
	"context"
	"testing"
	"time"
)

// TestService_LoopStrategy: the service runs the example wstETH/WETH loop
// with the paper executor and the same vault code as the backtest: a week
// on the embedded history opens the loop at the strategy's leverage (3),
// with debt, and its persisted position keeps the leverage, its indexes
// and its scaled debt.
func TestService_LoopStrategy(t *testing.T) {
	path := writeConfig(t, "", "  - { id: loop, strategy: $STRAT/aave-wsteth-loop.yaml, deposit: \"100\" }\n")
	s := newTestService(t, path, NewManualClock(t0))
	ctx := context.Background()
	if _, err := s.Advance(ctx, t0.Add(7*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	row, err := s.store.Vault(ctx, "loop")
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, p := range row.State.Positions {
		if p.Market != "aave-v3/wsteth-loop" || p.Units.Sign() == 0 {
			continue
		}
		found = true
		if p.Leverage != 3 || p.Debt.Sign() <= 0 || p.DebtIndex <= 0 || p.Rate <= 1 {
			t.Errorf("loop position %+v: want leverage 3, debt > 0 and its indexes", p)
		}
		coll := p.Units.Float() * p.Index * p.Rate
		debt := p.Debt.Float() * p.DebtIndex
		if lev := coll / (coll - debt); lev < 2.9 || lev > 3.1 {
			t.Errorf("the persisted loop's leverage is %g, want about 3", lev)
		}
	}
	if !found {
		t.Fatalf("no loop position after a week: %+v", row.State.Positions)
	}
}
