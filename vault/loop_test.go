package vault

import (
	"math"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
)

// TestVault_LoopYearConstantRate: a vault that opens a 3x wstETH loop and
// holds it a year, its collateral growing at 3.5% and its debt at 2.5%,
// observed daily. The vault's gross assets are then, from the loop's
// collateral C0 and debt B0 at the open (its own fields), idle + C0 x
// 1.035 - B0 x 1.025 to 1e-12: the debt accrues exactly at the constant
// rate through the vault's daily steps, the scaled debt never moves, and
// no fee, cost or liquidation touches it.
func TestVault_LoopYearConstantRate(t *testing.T) {
	const apy, bapy, lev = 0.035, 0.025, 3.0
	cfg := DefaultConfig("loop-year", adapters.ETH)
	cfg.ManagementFee, cfg.PerformanceFee, cfg.IdleFloor = 0, 0, 0
	cfg.Rebalance.MinGainOverCost = 0
	v, err := New(cfg, openBuiltin(t, []string{propLoop}), t0)
	mustOK(t, err)
	obs := func(at time.Time) {
		var o adapters.Observation
		o.Time = at
		o.Put(adapters.FieldAPY, apy)
		o.Put(adapters.FieldBorrowAPY, bapy)
		o.Put(adapters.FieldExitLiquidity, 1e9)
		mustOK(t, v.Observe(propLoop, o))
	}
	obs(t0)
	mustOK(t, v.SetGas(0, 1))
	must(v.Deposit(t0, "ann", d("100")))(t)
	tg := target(map[string]float64{propLoop: 1})
	tg.Allocations[0].Leverage = lev
	dec, err := v.Decide(t0, t0, TriggerSchedule, tg)
	mustOK(t, err)
	must(v.Execute(t0, dec))(t)
	p0, _ := v.Position(propLoop)
	if p0.Debt.Sign() <= 0 {
		t.Fatalf("no debt after opening at leverage %g: %+v", lev, p0)
	}
	c0 := p0.Units.Dec().Mul(adapters.FromFloat(p0.Index * p0.Rate))
	b0 := p0.Debt.Dec().Mul(adapters.FromFloat(p0.DebtIndex))
	if got := c0.Div(c0.Sub(b0)).InexactFloat64(); math.Abs(got-lev) > 1e-12 {
		t.Fatalf("opened at leverage %.15g, want %g", got, lev)
	}
	idle := v.Idle()
	at := t0
	for day := 1; day <= 365; day++ {
		at = t0.Add(time.Duration(day) * 24 * time.Hour)
		obs(at)
		mustOK(t, v.Accrue(at))
	}
	p, _ := v.Position(propLoop)
	if !p.Debt.Equal(p0.Debt) || !p.Units.Equal(p0.Units) {
		t.Errorf("a year of accrual moved the scaled balances: units %s -> %s, debt %s -> %s", p0.Units, p.Units, p0.Debt, p.Debt)
	}
	debt := p.Debt.Dec().Mul(adapters.FromFloat(p.DebtIndex))
	if want := b0.Mul(adapters.FromFloat(1 + bapy)); relDiffDec(debt, want) > 1e-12 {
		t.Errorf("debt after a year = %s, want B0 x 1.025 = %s", debt, want)
	}
	want := idle.Add(c0.Mul(adapters.FromFloat(1 + apy))).Sub(b0.Mul(adapters.FromFloat(1 + bapy)))
	if got := v.GrossAssets(); relDiffDec(got, want) > 1e-12 {
		t.Errorf("gross assets after a year = %s, want idle + C0 x 1.035 - B0 x 1.025 = %s (rel %.3g)", got, want, relDiffDec(got, want))
	}
	if n := len(v.Ledger().Entries()); n == 0 {
		t.Fatal("empty ledger")
	}
	for _, e := range v.Ledger().Entries() {
		if e.Type == EntryLiquidation {
			t.Errorf("liquidated at a constant rate: %s", e.Reason)
		}
	}
}

func relDiffDec(got, want decimal.Decimal) float64 {
	return math.Abs(got.Sub(want).InexactFloat64()) / math.Max(math.Abs(want.InexactFloat64()), 1e-18)
}
