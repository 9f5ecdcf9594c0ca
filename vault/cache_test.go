package vault

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/fixed"
)

// TestDecMemo_Of checks that the memo gives Num.Dec's decimal (the same
// coefficient and exponent) for values seen lately, evicted and never
// seen, and that a hit builds nothing.
func TestDecMemo_Of(t *testing.T) {
	var c decMemo
	var xs []num
	for i := range 3 * decMemoSize {
		xs = append(xs, fixed.FromDec(decimal.New(int64(1000+37*i), -int32(i%19))))
	}
	// The same value at another exponent is another key.
	xs = append(xs, fixed.FromDec(decimal.New(10000, -1)), fixed.FromDec(decimal.New(1000, 0)))
	for round := range 3 {
		for k, x := range xs {
			// Each value twice in a row (a hit), then again after others.
			for range 2 {
				got, want := c.of(x), x.Dec()
				if got.Exponent() != want.Exponent() || got.Cmp(want) != 0 {
					t.Fatalf("round %d, value %d: of(%s) = %s (exp %d), want exp %d", round, k, x, got, got.Exponent(), want.Exponent())
				}
			}
		}
	}
	x := xs[len(xs)-1]
	c.of(x)
	if n := testing.AllocsPerRun(100, func() { c.of(x) }); n != 0 {
		t.Errorf("a hit allocates %v times, want 0", n)
	}
	if got := fmt.Sprint(c.of(num{})); got != "0" {
		t.Errorf("of(0) = %s, want 0", got)
	}
}

// TestVault_AccrueAgainAtSameTime: bringing the vault to the time it was
// last brought to does nothing while no slot changed (broughtMark), and
// the full work once one did: a position set at that time with an
// earlier accrual time is accrued to it, as the first bringing would.
func TestVault_AccrueAgainAtSameTime(t *testing.T) {
	v := newTestVault(t, plainConfig(), map[string]*fake{"a": {apy: 0.05}, "b": {apy: 0.03}})
	t1 := t0.Add(24 * time.Hour)
	mustOK(t, v.Accrue(t1))
	if !v.brought.still(t1, v.slotsVersion()) {
		t.Fatal("the vault brought to t1 is not marked as such")
	}
	mustOK(t, v.Accrue(t1))
	if !v.brought.still(t1, v.slotsVersion()) {
		t.Fatal("bringing it to t1 again dropped the mark")
	}
	s := v.markets[v.byID["a"]]
	s.set(adapters.Position{Market: "a", Units: fixed.NewFromInt(10), Index: 1, Last: t0})
	if v.brought.still(t1, v.slotsVersion()) {
		t.Fatal("a position set after the mark does not drop it")
	}
	mustOK(t, v.Accrue(t1))
	if !s.pos.Last.Equal(t1) {
		t.Fatalf("the position set at t1 with last accrual %s was not accrued: last %s", t0, s.pos.Last)
	}
	if want := math.Pow(1.05, float64(24*time.Hour)/float64(Year)); s.pos.Index != want {
		t.Errorf("index %v after a day at 5%%, want %v", s.pos.Index, want)
	}
	// An observation at t1 drops the mark too (the rows are read again).
	mustOK(t, v.Observe("b", adapters.Observation{Time: t1}))
	if v.brought.still(t1, v.slotsVersion()) {
		t.Fatal("an observation after the mark does not drop it")
	}
}

// TestVault_QuietMark: a vault found quiet with no debt and no claims
// stays so without a look at its markets until a position changes; a
// position set with a ready claim, or with debt, makes it not quiet.
func TestVault_QuietMark(t *testing.T) {
	v := newTestVault(t, plainConfig(), map[string]*fake{"a": {apy: 0.05, queue: true, delay: time.Hour}, "b": {apy: 0.03}})
	t1 := t0.Add(24 * time.Hour)
	if !v.Quiet(t1) {
		t.Fatal("an empty vault is not quiet")
	}
	if !v.quiet.still(v.slotVer.pos) {
		t.Fatal("an empty vault found quiet is not marked so")
	}
	mustOK(t, v.Observe("b", adapters.Observation{Time: t1}))
	if !v.quiet.still(v.slotVer.pos) {
		t.Fatal("an observation dropped the quiet mark")
	}
	s := v.markets[v.byID["a"]]
	claim := adapters.Claim{Units: fixed.NewFromInt(1), Index: 1, Requested: t0, ReadyAt: t0.Add(time.Hour)}
	s.set(adapters.Position{Market: "a", Index: 1, Last: t0, Claims: []adapters.Claim{claim}})
	if v.Quiet(t1) {
		t.Fatal("a vault with a ready claim is quiet")
	}
	if !v.Quiet(t0) {
		t.Fatal("a vault whose only claim is not ready yet is not quiet")
	}
	if v.quiet.still(v.slotVer.pos) {
		t.Fatal("a vault with a claim is marked quiet at any time")
	}
	s.set(adapters.Position{Market: "a", Index: 1, Last: t0})
	if !v.Quiet(t1) || !v.quiet.still(v.slotVer.pos) {
		t.Fatal("the claim paid: the vault is not quiet again")
	}
	s.set(adapters.Position{Market: "a", Index: 1, Last: t0, Debt: fixed.NewFromInt(1)})
	if v.Quiet(t1) {
		t.Fatal("a vault with debt is quiet")
	}
}
