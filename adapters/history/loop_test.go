package history_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
)

// TestDB_Load_Loop: a loop market the database does not store is composed
// from its legs: the collateral's index, APY and oracle rate, the debt's
// borrow index, borrow APY and size, the token's price scaled to the
// collateral's rate; legs not asked for stay out of the window, and a
// slash of the token reaches the loop once.
func TestDB_Load_Loop(t *testing.T) {
	db := openMem(t)
	cat := adapters.Builtin()
	m := func(id string) adapters.Market {
		mk, err := cat.Market(id)
		if err != nil {
			t.Fatal(err)
		}
		return mk
	}
	b := &history.Batch{Source: "loop-test", Format: "test",
		Markets: []adapters.Market{m("aave-v3/wsteth"), m("aave-v3/weth"), m("lido/wsteth")},
		Rows: []history.Row{
			row("aave-v3/wsteth", 2, obs(hour(0), adapters.FieldIndex, 1.0005, adapters.FieldAPY, 0.0001, adapters.FieldExchangeRate, 1.17)),
			row("aave-v3/wsteth", 3, obs(hour(2), adapters.FieldIndex, 1.0006, adapters.FieldAPY, 0.0001, adapters.FieldExchangeRate, 1.171)),
			row("aave-v3/weth", 2, obs(hour(0), adapters.FieldBorrowIndex, 1.04, adapters.FieldBorrowAPY, 0.03, adapters.FieldUtilization, 0.9, adapters.FieldSupply, 1e6, adapters.FieldIndex, 1.02)),
			row("aave-v3/weth", 3, obs(hour(1), adapters.FieldBorrowIndex, 1.041, adapters.FieldBorrowAPY, 0.2, adapters.FieldUtilization, 0.93, adapters.FieldSupply, 1e6, adapters.FieldIndex, 1.021)),
			row("lido/wsteth", 2, obs(hour(0), adapters.FieldExchangeRate, 1.1699, adapters.FieldPrice, 1.1640, adapters.FieldExitLiquidity, 5000.0)),
		},
		Events: []adapters.Event{
			{Market: "lido/wsteth", Time: hour(1), Type: adapters.EventSlash, Size: 0.01},
			{Market: "aave-v3/wsteth", Time: hour(1), Type: adapters.EventSlash, Size: 0.01},
		},
	}
	mustWrite(t, db, b)
	w, err := db.Load(context.Background(), []string{"aave-v3/wsteth-loop"}, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Series) != 1 || w.Series[0].Market.ID != "aave-v3/wsteth-loop" {
		t.Fatalf("window holds %d series (%v), want the loop alone", len(w.Series), w.Series)
	}
	s := w.Series[0]
	if got, want := s.Times, []int64{hour(0).Unix(), hour(1).Unix(), hour(2).Unix()}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("times = %v, want %v", got, want)
	}
	tests := []struct {
		row  int
		f    adapters.Field
		want float64
	}{
		{0, adapters.FieldIndex, 1.0005}, {0, adapters.FieldExchangeRate, 1.17}, {0, adapters.FieldBorrowIndex, 1.04},
		{1, adapters.FieldIndex, 1.0005}, {1, adapters.FieldBorrowIndex, 1.041}, {1, adapters.FieldBorrowAPY, 0.2}, {1, adapters.FieldUtilization, 0.93},
		{2, adapters.FieldIndex, 1.0006}, {2, adapters.FieldExchangeRate, 1.171},
		// The token's peg (1.1640 / 1.1699) at the collateral's rate.
		{0, adapters.FieldPrice, 1.1640 / 1.1699 * 1.17}, {2, adapters.FieldPrice, 1.1640 / 1.1699 * 1.171},
		{0, adapters.FieldExitLiquidity, 5000}, {0, adapters.FieldSupply, 1e6},
	}
	for _, tt := range tests {
		o := s.At(tt.row)
		if got, ok := o.Get(tt.f); !ok || got != tt.want {
			t.Errorf("row %d %s = %g (set %v), want %g", tt.row, tt.f, got, ok, tt.want)
		}
	}
	if o := s.At(0); o.Set.Has(adapters.FieldAPY) && o.Values[adapters.FieldAPY] != 0.0001 {
		t.Errorf("apy = %g, want the collateral's supply APY 0.0001 (not the debt's)", o.Values[adapters.FieldAPY])
	}
	if len(s.Events) != 1 || s.Events[0].Market != "aave-v3/wsteth-loop" {
		t.Errorf("events = %+v, want the one slash, on the loop", s.Events)
	}
	// A missing leg is named.
	db2 := openMem(t)
	b.Rows, b.Events, b.Markets = b.Rows[:2], nil, b.Markets[:1]
	mustWrite(t, db2, b)
	if _, err := db2.Load(context.Background(), []string{"aave-v3/wsteth-loop"}, time.Time{}, time.Time{}); !errors.Is(err, adapters.ErrNotFound) {
		t.Errorf("Load without the debt leg: error = %v, want kind %v", err, adapters.KindNotFound)
	}
}
