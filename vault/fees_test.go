package vault

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
)

func feeSums(v *Vault) (mgmt, perf decimal.Decimal) {
	mgmt, perf = zero, zero
	for _, e := range v.Ledger().Entries() {
		if e.Type != EntryFee {
			continue
		}
		if e.Reason == FeeManagement {
			mgmt = mgmt.Add(e.Amount)
		} else {
			perf = perf.Add(e.Amount)
		}
	}
	return mgmt, perf
}

// TestVault_ManagementFee: over a year at constant NAV the management fees
// charged add up to the configured rate of NAV (less at most one unit of
// rounding per accrual), and no performance fee is charged.
func TestVault_ManagementFee(t *testing.T) {
	tests := []struct {
		name  string
		rate  float64
		steps []time.Duration // accrual times after the deposit; the last is one year
	}{
		{"one accrual", 0.02, []time.Duration{Year}},
		{"daily", 0.02, nil},
		{"irregular", 0.015, []time.Duration{time.Hour, 3 * time.Hour, 40 * 24 * time.Hour, 41*24*time.Hour + 7*time.Minute, 200 * 24 * time.Hour, Year}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := plainConfig()
			cfg.ManagementFee, cfg.PerformanceFee = tc.rate, 0.2
			v := newTestVault(t, cfg, map[string]*fake{"f/a": {}})
			must(v.Deposit(t0, "u", d("100")))(t)
			steps := tc.steps
			if steps == nil {
				for i := 1; i <= 365; i++ {
					steps = append(steps, time.Duration(i)*24*time.Hour)
				}
			}
			for _, s := range steps {
				mustOK(t, v.Accrue(t0.Add(s)))
			}
			mgmt, perf := feeSums(v)
			want := d("100").Mul(decimal.NewFromFloat(tc.rate))
			if diff := want.Sub(mgmt); diff.Sign() < 0 || diff.Cmp(unit.Mul(decimal.NewFromInt(int64(len(steps))))) > 0 {
				t.Errorf("management fees over a year = %s, want %s (within %d units, rounded down)", mgmt, want, len(steps))
			}
			if perf.Sign() != 0 {
				t.Errorf("performance fees at constant NAV = %s, want 0", perf)
			}
			if !v.TotalAssets().Equal(d("100")) {
				t.Errorf("total assets = %s, want 100: fees are paid in shares", v.TotalAssets())
			}
			// The fee shares were worth what was charged when minted: after a
			// single accrual the recipient holds the fee exactly (less rounding).
			if len(steps) == 1 {
				got := v.MaxWithdraw(cfg.FeeRecipient)
				if diff := want.Sub(got); diff.Sign() < 0 || diff.Cmp(d("0.000000000000000002")) > 0 {
					t.Errorf("fee recipient holds %s, want %s", got, want)
				}
			}
			if err := Reconcile(v); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestVault_PerformanceFee: profit above the high-water mark is charged
// once; after a loss nothing is charged until the price is back above the
// mark, and then only on the excess.
func TestVault_PerformanceFee(t *testing.T) {
	cfg := plainConfig()
	cfg.PerformanceFee = 0.2
	v := newTestVault(t, cfg, map[string]*fake{"f/a": {}})
	must(v.Deposit(t0, "u", d("100")))(t)
	at := t0
	step := func() time.Time { at = at.Add(time.Hour); return at }

	mustOK(t, v.Donate(step(), "x", d("10")))
	mustOK(t, v.Accrue(step()))
	_, perf := feeSums(v)
	if !perf.Equal(d("2")) {
		t.Fatalf("fee on a profit of 10 = %s, want 2", perf)
	}
	hwm := v.HighWaterMark()
	if got := v.PricePerShare(); !got.Equal(hwm) {
		t.Errorf("after charging, price %s != high-water mark %s", got, hwm)
	}
	// Accruing again charges nothing more.
	mustOK(t, v.Accrue(step()))
	if _, p := feeSums(v); !p.Equal(perf) {
		t.Errorf("second accrual charged %s more", p.Sub(perf))
	}

	// A loss: deploy everything and slash 10%.
	_, _, err := v.Rebalance(step(), time.Time{}, TriggerManual, target(map[string]float64{"f/a": 1}))
	mustOK(t, err)
	must(v.ApplyEvent(step(), adapters.Event{Time: at, Market: "f/a", Type: adapters.EventSlash, Size: 0.1}))(t)
	if v.PricePerShare().Cmp(hwm) >= 0 {
		t.Fatalf("price %s after a 10%% slash is not below the mark %s", v.PricePerShare(), hwm)
	}
	// Recover to 3 above the mark: the fee is 20% of 3.
	markAssets := hwm.Mul(v.TotalSupply().Add(v.VirtualShares())).Sub(unit)
	mustOK(t, v.Donate(step(), "x", ceilScale(markAssets.Sub(v.TotalAssets()).Add(d("3")))))
	mustOK(t, v.Accrue(step()))
	_, perf2 := feeSums(v)
	fee := perf2.Sub(perf)
	if diff := fee.Sub(d("0.6")).Abs(); diff.Cmp(unit) > 0 {
		t.Errorf("fee on recovering 3 above the mark = %s, want 0.6", fee)
	}
	if err := Reconcile(v); err != nil {
		t.Error(err)
	}
}

func ceilScale(x decimal.Decimal) decimal.Decimal {
	q := x.Truncate(adapters.Scale)
	if !q.Equal(x) {
		q = q.Add(unit)
	}
	return q
}

// TestVault_ProfitUnlock: harvested profit raises total assets linearly
// over the unlock period; a deposit just before the harvest cannot capture
// it; a loss eats the locked profit first.
func TestVault_ProfitUnlock(t *testing.T) {
	cfg := plainConfig()
	cfg.ProfitUnlock = 10 * 24 * time.Hour
	v := newTestVault(t, cfg, map[string]*fake{"f/r": {rewardAPY: 0.1, harvest: true}})
	must(v.Deposit(t0, "alice", d("100")))(t)
	_, _, err := v.Rebalance(t0, time.Time{}, TriggerManual, target(map[string]float64{"f/r": 1}))
	mustOK(t, err)
	t1 := t0.Add(Year)
	mustOK(t, v.Accrue(t1))
	pending := v.PendingRewards()
	if pending.Sub(d("10")).Abs().Cmp(d("0.000001")) > 0 {
		t.Fatalf("pending rewards after a year at 10%% = %s, want about 10", pending)
	}
	if !v.TotalAssets().Equal(d("100")) {
		t.Fatalf("total assets with pending rewards = %s, want 100 (rewards count once harvested)", v.TotalAssets())
	}
	// Bob deposits right before the harvest and leaves right after it.
	must(v.Deposit(t1, "bob", d("50")))(t)
	h := must(v.Harvest(t1, time.Time{}))(t)
	if !h.Proceeds.Equal(pending) || !h.Locked.Equal(pending) {
		t.Fatalf("harvest proceeds %s locked %s, want %s both", h.Proceeds, h.Locked, pending)
	}
	w := must(v.Redeem(t1, "bob", v.BalanceOf("bob")))(t)
	if w.Paid.Cmp(d("50")) > 0 {
		t.Errorf("bob deposited 50 before the harvest and took %s out after it", w.Paid)
	}
	tests := []struct {
		after time.Duration
		want  decimal.Decimal // total assets
	}{
		{0, d("100")},
		{24 * time.Hour, d("100").Add(pending.DivRound(d("10"), adapters.Scale))},
		{5 * 24 * time.Hour, d("100").Add(pending.DivRound(d("2"), adapters.Scale))},
		{10 * 24 * time.Hour, d("100").Add(pending)},
		{20 * 24 * time.Hour, d("100").Add(pending)},
	}
	for _, tc := range tests {
		mustOK(t, v.Accrue(t1.Add(tc.after)))
		got := v.TotalAssets()
		if diff := tc.want.Sub(got).Abs(); diff.Cmp(d("0.00000000000001")) > 0 {
			t.Errorf("total assets %s after the harvest = %s, want %s", tc.after, got, tc.want)
		}
	}
}

func TestVault_LossEatsLockedProfit(t *testing.T) {
	cfg := plainConfig()
	cfg.ProfitUnlock = 10 * 24 * time.Hour
	v := newTestVault(t, cfg, map[string]*fake{"f/a": {}})
	must(v.Deposit(t0, "alice", d("100")))(t)
	_, _, err := v.Rebalance(t0, time.Time{}, TriggerManual, target(map[string]float64{"f/a": 0.9}))
	mustOK(t, err)
	// Lock 10 of profit as a harvest would.
	v.idle = v.idle.Add(nm(d("10")))
	v.ledger.add(Entry{Time: t0, Type: EntryHarvest, Amount: d("10")})
	v.lockProfit(t0, d("10"))
	if !v.TotalAssets().Equal(d("100")) {
		t.Fatalf("total assets with 10 locked = %s, want 100", v.TotalAssets())
	}
	// 90 deployed; a 5% slash loses 4.5: all from the locked profit.
	loss := must(v.ApplyEvent(t0, adapters.Event{Time: t0, Market: "f/a", Type: adapters.EventSlash, Size: 0.05}))(t)
	if !loss.Equal(d("4.5")) {
		t.Fatalf("loss = %s, want 4.5", loss)
	}
	if got := v.TotalAssets(); !got.Equal(d("100")) {
		t.Errorf("total assets after a loss smaller than the locked profit = %s, want 100", got)
	}
	if got := v.LockedProfit(); !got.Equal(d("5.5")) {
		t.Errorf("locked profit = %s, want 5.5", got)
	}
	// The rest unlocks by the same end: half-way there, half of 5.5.
	mustOK(t, v.Accrue(t0.Add(5*24*time.Hour)))
	if got := v.LockedProfit(); !got.Equal(d("2.75")) {
		t.Errorf("locked profit half-way = %s, want 2.75", got)
	}
	// A loss larger than what is locked: the share price bears the excess.
	ta := v.TotalAssets()
	loss = must(v.ApplyEvent(t0.Add(5*24*time.Hour), adapters.Event{Time: t0, Market: "f/a", Type: adapters.EventSlash, Size: 0.1}))(t)
	if got, want := v.TotalAssets(), ta.Sub(loss.Sub(d("2.75"))); !got.Equal(want) {
		t.Errorf("total assets = %s, want %s (loss %s minus 2.75 locked)", got, want, loss)
	}
	if err := Reconcile(v); err != nil {
		t.Error(err)
	}
}
