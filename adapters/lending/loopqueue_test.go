package lending_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/internal/testenv"
	"github.com/yieldvault/yieldvault/adapters/lending"
	"github.com/yieldvault/yieldvault/fixed"
)

// TestLoop_QueuedUnwind: a 3x wstETH loop that the venue cannot take
// (exit liquidity 1) unwinds through Lido's queue in rounds. The rounds
// are computed here by hand from the protocol's rule: each withdraws what
// leaves the debt at the LTV of the rest, the claim pays that value 3 days
// later, the debt has grown at the borrow rate meanwhile and is repaid out
// of the claim, the rest reaching idle; the last round takes what is left
// once the debt is repaid.
func TestLoop_QueuedUnwind(t *testing.T) {
	const (
		apy, bapy = 0.03, 0.05
		lev       = 3.0
	)
	a, l := loopDriver(t, nil, "aave-v3/wsteth-loop")
	t0 := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	ltv := l.LTV(t0)
	env := func(at time.Time, liq float64) *adapters.Env {
		e := testenv.Env(at, map[adapters.Field]float64{adapters.FieldAPY: apy, adapters.FieldBorrowAPY: bapy, adapters.FieldExitLiquidity: liq})
		return e
	}
	pos := a.NewPosition()
	pos.Leverage = lev
	pos, _, err := a.Deposit(pos, env(t0, 1e9), fixed.NewFromInt(10))
	if err != nil {
		t.Fatal(err)
	}
	t1 := t0.Add(24 * time.Hour)
	// The venue takes 1: the sale of 30 of collateral is refused, and
	// the automatic exit queues instead.
	if _, _, err := a.Withdraw(pos, env(t1, 1), adapters.Withdrawal{All: true, Mode: adapters.ExitInstant}); !errors.Is(err, adapters.ErrInsufficientLiquidity) {
		t.Fatalf("instant unwind beyond the venue: error = %v, want kind %v", err, adapters.KindInsufficientLiquidity)
	}
	q, err := a.Quote(withHeld(env(t1, 1), &pos), fixed.Num{})
	if err != nil {
		t.Fatal(err)
	}

	// By hand: collateral C and debt D in ETH, from the deposit's 30/20.
	years := func(d time.Duration) float64 { return d.Hours() / 24 / 365 }
	C := 30 * math.Pow(1+apy, years(t1.Sub(t0)))
	D := 20 * math.Pow(1+bapy, years(t1.Sub(t0)))
	const delay = 3 * 24 * time.Hour
	type round struct{ claim, repaid, idle float64 }
	var want []round
	for now, c, d := t1, C, D; ; now = now.Add(delay) {
		x := c
		if d > 0 {
			x = c - d/ltv
		}
		c -= x
		// Three days on: the rest of the collateral grows, the debt too.
		c *= math.Pow(1+apy, years(delay))
		d *= math.Pow(1+bapy, years(delay))
		r := math.Min(x, d)
		d -= r
		want = append(want, round{claim: x, repaid: r, idle: x - r})
		if c <= 1e-12 {
			break
		}
	}
	if got, w := q.ExitDelay, time.Duration(len(want))*delay; got != w {
		t.Errorf("Quote.ExitDelay = %v, want %d rounds of 3 days = %v", got, len(want), w)
	}

	np, f, err := a.Withdraw(pos, env(t1, 1), adapters.Withdrawal{All: true, Mode: adapters.ExitAuto})
	if err != nil {
		t.Fatalf("automatic unwind: %v", err)
	}
	if f.Queued == nil || len(np.Claims) != 1 || !np.Unwinding() {
		t.Fatalf("automatic unwind: Queued %v, %d claims, unwinding %v: want round 1 queued", f.Queued, len(np.Claims), np.Unwinding())
	}
	if got := f.Queued.Amount().InexactFloat64(); math.Abs(got-want[0].claim) > 1e-9*want[0].claim {
		t.Errorf("round 1 claim = %.12g, want %.12g", got, want[0].claim)
	}
	if _, _, err := a.Relever(np, env(t1, 1e9), 2); !errors.Is(err, adapters.ErrInvalid) {
		t.Errorf("Relever while unwinding: error = %v, want kind %v", err, adapters.KindInvalid)
	}
	if _, _, err := a.Withdraw(np, env(t1, 1), adapters.Withdrawal{All: true, Mode: adapters.ExitQueue}); !errors.Is(err, adapters.ErrInvalid) {
		t.Errorf("a second queued unwind: error = %v, want kind %v", err, adapters.KindInvalid)
	}
	// The health factor while the claim waits: at the LTV, LLTV / LTV.
	if got, w := l.Health(&np, env(t1, 1)), l.LLTV(t1)/ltv; math.Abs(got-w) > 1e-9 {
		t.Errorf("health factor after round 1 = %.12g, want LLTV/LTV = %.12g", got, w)
	}
	idle := 0.0
	now := t1
	for k, w := range want {
		now = now.Add(delay)
		if _, _, err := a.Claim(np, env(now.Add(-time.Second), 1)); !errors.Is(err, adapters.ErrNotReady) {
			t.Fatalf("round %d claimed before its delay: error = %v", k+1, err)
		}
		next, f, err := a.Claim(np, env(now, 1))
		if err != nil {
			t.Fatalf("round %d claim: %v", k+1, err)
		}
		if got := f.Amount.InexactFloat64(); math.Abs(got-w.idle) > 1e-9*math.Max(1, w.idle) {
			t.Errorf("round %d: %.12g to idle, want claim %.12g - debt repaid %.12g = %.12g (%s)", k+1, got, w.claim, w.repaid, w.idle, f.Route)
		}
		if !f.Value.Equal(f.Amount.Add(f.Gas)) {
			t.Errorf("round %d: Fill.Value %s, want Amount + Gas %s", k+1, f.Value, f.Amount.Add(f.Gas))
		}
		idle += f.Amount.InexactFloat64()
		np = next
		if k+1 < len(want) {
			if len(np.Claims) != 1 {
				t.Fatalf("round %d: %d claims queued after it, want the next round's", k+1, len(np.Claims))
			}
			if got := np.Claims[0].Amount().InexactFloat64(); math.Abs(got-want[k+1].claim) > 1e-9*want[k+1].claim {
				t.Errorf("round %d claim = %.12g, want %.12g", k+2, got, want[k+1].claim)
			}
		}
	}
	if !np.IsZero() || np.Unwinding() {
		t.Errorf("after %d rounds the position holds units %s debt %s claims %d unwinding %v, want nothing", len(want), np.Units, np.Debt, len(np.Claims), np.Unwinding())
	}
	wantIdle := 0.0
	for _, w := range want {
		wantIdle += w.idle
	}
	if math.Abs(idle-wantIdle) > 1e-9*wantIdle {
		t.Errorf("unwound to idle %.12g, want %.12g", idle, wantIdle)
	}
	t.Logf("%d rounds, %.6f to idle from equity %.6f at the request", len(want), idle, C-D)
}

// TestLoop_QueuedUnwindPartial: a queued unwind of a small share of the
// loop leaves in one round (the LTV allows it), repays that share of the
// debt out of the claim and leaves the rest at its leverage.
func TestLoop_QueuedUnwindPartial(t *testing.T) {
	a, l := loopDriver(t, nil, "aave-v3/wsteth-loop")
	t0 := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	e := testenv.Env(t0, map[adapters.Field]float64{adapters.FieldAPY: 0, adapters.FieldBorrowAPY: 0})
	pos, _ := openLoop(t, a, e, 3, fixed.NewFromInt(10))
	np, f, err := a.Withdraw(pos, e, adapters.Withdrawal{Amount: fixed.FromDec(decimal.NewFromInt(1)), Mode: adapters.ExitQueue})
	if err != nil {
		t.Fatal(err)
	}
	// A tenth of the equity: 3 of collateral queued, 2 of debt to repay.
	if got := f.Queued.Amount(); !got.Equal(decimal.NewFromInt(3)) {
		t.Errorf("claim = %s, want 3", got)
	}
	later := testenv.Env(t0.Add(3*24*time.Hour), map[adapters.Field]float64{adapters.FieldAPY: 0, adapters.FieldBorrowAPY: 0})
	np, f, err = a.Claim(np, later)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Amount.Equal(fixed.FromDec(decimal.NewFromInt(1))) || np.Unwinding() || len(np.Claims) != 0 {
		t.Errorf("claim: %s to idle, unwinding %v, %d claims; want 1, false, 0", f.Amount, np.Unwinding(), len(np.Claims))
	}
	if fig := l.Figures(&np, later, 0); math.Abs(fig.Leverage-3) > 1e-12 {
		t.Errorf("leverage after the partial unwind = %.15g, want 3", fig.Leverage)
	}
}

// TestLoop_QueueClosed: before Lido's queue opened (2023-05-15) a loop
// unwinds through the venue alone.
func TestLoop_QueueClosed(t *testing.T) {
	_, l := loopDriver(t, nil, "morpho/wsteth-weth-loop")
	if l.QueueOpen(time.Date(2023, 5, 14, 0, 0, 0, 0, time.UTC)) || !l.QueueOpen(time.Date(2023, 5, 15, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("QueueOpen: want closed on 2023-05-14 and open on 2023-05-15 (Lido V2)")
	}
	if got := lending.QueueRounds(3, 2, 0.93); got != 4 {
		t.Errorf("QueueRounds(3x at 93%%) = %d, want 4", got)
	}
}

func withHeld(e *adapters.Env, pos *adapters.Position) *adapters.Env {
	e.Held = pos
	return e
}
