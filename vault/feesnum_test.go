package vault

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// refFees is accrueFees as decimal arithmetic (the formulas the num code
// replaced): the management fee and its shares, the performance fee and
// its shares, and the new high-water mark, from total assets ta, supply,
// the virtual shares and the mark before the accrual.
func refFees(ta, supply, virtual, hwm decimal.Decimal, dt time.Duration, mf, pf float64) (mFee, mShares, pFee, pShares, mark decimal.Decimal) {
	mFee, mShares, pFee, pShares, mark = zero, zero, zero, zero, hwm
	mint := func(fee decimal.Decimal) decimal.Decimal {
		if fee.Sign() <= 0 || fee.Cmp(ta) >= 0 {
			return zero
		}
		q, _ := fee.Mul(supply.Add(virtual)).QuoRem(ta.Sub(fee).Add(unit), 18)
		if q.Sign() > 0 {
			supply = supply.Add(q)
		}
		return q
	}
	if mf > 0 {
		q, _ := ta.Mul(frac(mf)).Mul(nanos(dt)).QuoRem(yearNanos, 18)
		mFee, mShares = q, mint(q)
	}
	profit := floorScale(ta.Add(unit).Sub(hwm.Mul(supply.Add(virtual))))
	if profit.Sign() > 0 {
		if pf > 0 {
			pFee = floorScale(profit.Mul(frac(pf)))
			pShares = mint(pFee)
		}
		mark = ta.Add(unit).DivRound(supply.Add(virtual), ppsScale)
	}
	return mFee, mShares, pFee, pShares, mark
}

// TestVault_AccrueFees_MatchesDecimal checks the fee accrual on nums
// against the decimal formulas, coefficient and exponent, with fee rates
// that take the fast paths and rates that do not (a management fee with
// more than 18 places, a performance fee whose coefficient overflows an
// int64 or has more than 18 places).
func TestVault_AccrueFees_MatchesDecimal(t *testing.T) {
	same := func(a, b decimal.Decimal) bool {
		return a.Exponent() == b.Exponent() && a.Coefficient().Cmp(b.Coefficient()) == 0
	}
	tests := []struct {
		name   string
		mf, pf float64
		gain   string
	}{
		{"defaults", 0.02, 0.2, "12.5"},
		{"long rates", 0.0123456789012345, 0.1234567890123456, "0.000000000000000007"},
		{"tiny management rate", 1e-20, 0.2, "3"},
		{"tiny performance rate", 0.02, 1.5e-19, "1000"},
		{"whole performance", 0.5, 1, "0.1"},
		{"no gain", 0.02, 0.2, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := plainConfig()
			cfg.ManagementFee, cfg.PerformanceFee = tc.mf, tc.pf
			v := newTestVault(t, cfg, map[string]*fake{"f/a": {}})
			must(v.Deposit(t0, "u", d("1000.123456789")))(t)
			at := t0
			for step, dt := range []time.Duration{time.Hour, 24 * time.Hour, 7*time.Minute + 3*time.Nanosecond} {
				if tc.gain != "" {
					mustOK(t, v.Donate(at, "x", d(tc.gain)))
				}
				ta, supply, hwm := v.TotalAssets(), v.TotalSupply(), v.HighWaterMark()
				n := v.Ledger().Len()
				at = at.Add(dt)
				mustOK(t, v.Accrue(at))
				mFee, mShares, pFee, pShares, mark := refFees(ta, supply, v.VirtualShares(), hwm, dt, tc.mf, tc.pf)
				var got []Entry
				for _, e := range v.Ledger().Entries()[n:] {
					if e.Type == EntryFee {
						got = append(got, e)
					}
				}
				var want []Entry
				if mShares.Sign() > 0 {
					want = append(want, Entry{Amount: mFee, Shares: mShares, Reason: FeeManagement})
				}
				if pShares.Sign() > 0 {
					want = append(want, Entry{Amount: pFee, Shares: pShares, Reason: FeePerformance})
				}
				if len(got) != len(want) {
					t.Fatalf("step %d: %d fee entries, want %d (%+v)", step, len(got), len(want), want)
				}
				for i := range got {
					if got[i].Reason != want[i].Reason || !same(got[i].Amount, want[i].Amount) || !same(got[i].Shares, want[i].Shares) {
						t.Errorf("step %d: fee %s = %s (exp %d) for %s shares (exp %d), want %s %s (exp %d) for %s (exp %d)", step, got[i].Reason,
							got[i].Amount, got[i].Amount.Exponent(), got[i].Shares, got[i].Shares.Exponent(),
							want[i].Reason, want[i].Amount, want[i].Amount.Exponent(), want[i].Shares, want[i].Shares.Exponent())
					}
				}
				if !same(v.HighWaterMark(), mark) {
					t.Errorf("step %d: high-water mark %s (exp %d), want %s (exp %d)", step, v.HighWaterMark(), v.HighWaterMark().Exponent(), mark, mark.Exponent())
				}
			}
		})
	}
}
