package lending_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/internal/testenv"
	"github.com/yieldvault/yieldvault/fixed"
)

// TestLoop_BorrowCap: the Aave v3 WETH reserve's borrow cap is 1,400,000
// WETH from the 2023-10-31 snapshot until 2024-12-22, when the debt passed
// it (a raise whose value is not sourced: no cap after); Morpho Blue has
// none. A borrow that takes the market's borrows plus the vault's own debt
// past the cap is refused, on the open and on a relever up, and one just
// below it is not.
func TestLoop_BorrowCap(t *testing.T) {
	day := func(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }
	a, l := loopDriver(t, nil, "aave-v3/wsteth-loop")
	for _, tt := range []struct {
		at   string
		want float64
	}{{"2023-10-30", 0}, {"2024-07-05", 1_400_000}, {"2024-12-21", 1_400_000}, {"2024-12-22", 0}, {"2025-06-01", 0}} {
		if got := l.BorrowCap(day(tt.at)); got != tt.want {
			t.Errorf("BorrowCap(%s) = %g, want %g", tt.at, got, tt.want)
		}
	}
	if _, _, ok := l.UncappedFrom(day("2024-06-01"), day("2024-12-01")); ok {
		t.Errorf("UncappedFrom(2024-06..2024-12): a cap is in force throughout")
	}
	at, why, ok := l.UncappedFrom(day("2024-06-01"), day("2025-02-01"))
	if !ok || !at.Equal(day("2024-12-22")) || !strings.Contains(why, "not found") {
		t.Errorf("UncappedFrom(2024-06..2025-02) = %s, %q, %v; want 2024-12-22 with the raise's note", at, why, ok)
	}
	_, m := loopDriver(t, nil, "morpho/wsteth-weth-loop")
	if at, why, ok := m.UncappedFrom(day("2024-06-01"), day("2024-07-01")); !ok || !at.Equal(day("2024-06-01")) || !strings.Contains(why, "no borrow cap") {
		t.Errorf("Morpho UncappedFrom = %s, %q, %v; want from the start, no borrow cap", at, why, ok)
	}

	const capW = 1_400_000.0
	at0 := day("2024-07-01")
	env := func(borrows float64) *adapters.Env {
		return testenv.Env(at0, map[adapters.Field]float64{adapters.FieldAPY: 0, adapters.FieldBorrowAPY: 0, adapters.FieldBorrows: borrows})
	}
	// A 3x open of 100 borrows 200.
	pos := a.NewPosition()
	pos.Leverage = 3
	if _, _, err := a.Deposit(pos, env(capW-199), fixed.NewFromInt(100)); !errors.Is(err, adapters.ErrCapExceeded) {
		t.Errorf("open borrowing 200 with %g borrowed under a cap of %g: error = %v, want kind %v", capW-199, capW, err, adapters.KindCapExceeded)
	}
	if _, _, err := a.Deposit(pos, env(capW-201), fixed.NewFromInt(100)); err != nil {
		t.Errorf("open borrowing 200 with %g borrowed: error = %v, want none", capW-201, err)
	}
	// Open at 2x (100 of debt), then relever to 3x: 100 more. The vault's
	// own 100 counts against the cap with the market's borrows.
	pos.Leverage = 2
	open, _, err := a.Deposit(pos, env(0), fixed.NewFromInt(100))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Relever(open, env(capW-199), 3); !errors.Is(err, adapters.ErrCapExceeded) {
		t.Errorf("relever to 3x (100 more, 100 own) with %g borrowed: error = %v, want kind %v", capW-199, err, adapters.KindCapExceeded)
	}
	if _, _, err := a.Relever(open, env(capW-201), 3); err != nil {
		t.Errorf("relever to 3x with %g borrowed: error = %v, want none", capW-201, err)
	}
	// After 2024-12-22 no cap is known: nothing is refused for it.
	late := testenv.Env(day("2025-01-15"), map[adapters.Field]float64{adapters.FieldAPY: 0, adapters.FieldBorrowAPY: 0, adapters.FieldBorrows: 5e6})
	pos.Leverage = 3
	if _, _, err := a.Deposit(pos, late, fixed.NewFromInt(100)); err != nil {
		t.Errorf("open on 2025-01-15 with 5e6 borrowed: error = %v, want none (no cap known)", err)
	}
	if f := l.Figures(&open, env(0), 0); f.BorrowCap != capW {
		t.Errorf("Figures.BorrowCap = %g, want %g", f.BorrowCap, capW)
	}
}
