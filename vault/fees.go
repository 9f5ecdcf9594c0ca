package vault

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/fixed"
)

// Fee kinds, as the Reason of EntryFee ledger entries.
const (
	FeeManagement  = "management"
	FeePerformance = "performance"
)

var (
	yearNanos = nanos(Year)
	yearN     = nm(yearNanos)
	unitN     = nm(unit)
)

// feeRates are the configured fee fractions as decimals, converted once
// (frac) when the vault is made.
type feeRates struct {
	mgmt   num  // frac(ManagementFee)
	mgmtOK bool // mgmt has Scale places or fewer: its product with a duration is exact on a num
	perf   decimal.Decimal
	perfM  int64 // perf = decimal.New(perfM, -perfK) when perfOK
	perfK  int
	perfOK bool
}

func newFeeRates(c *Config) feeRates {
	f := feeRates{mgmt: nm(frac(c.ManagementFee)), perf: frac(c.PerformanceFee)}
	f.mgmtOK = f.mgmt.Exponent() >= -adapters.Scale
	if e, co := f.perf.Exponent(), f.perf.Coefficient(); e <= 0 && e >= -adapters.Scale && co.IsInt64() && co.Sign() >= 0 {
		f.perfM, f.perfK, f.perfOK = co.Int64(), int(-e), true
	}
	return f
}

// accrueFees mints the management fee for the time since fees were last
// accrued and the performance fee on any rise of the price per share above
// the high-water mark. With no shares outstanding nobody can be charged:
// the fee clock and the high-water mark just move to now.
func (v *Vault) accrueFees(now time.Time) {
	taN := v.totalAssetsN()
	if v.supply.Sign() == 0 {
		v.feesAt = now
		v.hwm = v.pps(taN)
		return
	}
	if dt := now.Sub(v.feesAt); dt > 0 {
		v.feesAt = now
		if v.cfg.ManagementFee > 0 {
			// fee = floor(TA x rate x dt / year): mulDivDown(ta.Mul(rate),
			// nanos(dt), yearNanos), the same exact product grouped as
			// TA x (rate x dt) on nums.
			var fee num
			if v.fees.mgmtOK {
				fee = taN.MulDivDown(v.fees.mgmt.MulNewFloor(int64(dt), 0), yearN)
			} else {
				fee = nm(mulDivDown(taN.Dec().Mul(v.fees.mgmt.Dec()), nanos(dt), yearNanos))
			}
			v.mintFee(now, taN, fee, FeeManagement)
		}
	}
	// profit above the mark: (TA + 1 unit) - hwm x (supply + virtual),
	// rounded down (floorScale).
	profit := fixed.SubMulFloorWide(taN.Add(unitN), v.hwm, v.supply.Add(v.virtualShares))
	if profit.Sign() > 0 {
		if v.cfg.PerformanceFee > 0 {
			// floorScale(profit.Mul(rate))
			var fee num
			if v.fees.perfOK {
				fee = profit.MulNewFloor(v.fees.perfM, v.fees.perfK)
			} else {
				fee = nm(floorScale(profit.Dec().Mul(v.fees.perf)))
			}
			v.mintFee(now, taN, fee, FeePerformance)
		}
		v.hwm = v.pps(taN)
	}
}

// mintFee mints shares worth fee out of total assets ta to the fee
// recipient: shares = fee x (supply + virtual) / (ta - fee + 1 unit),
// rounded down, so that after the mint the new shares are worth fee (less
// rounding) and everyone else's are diluted by exactly that.
func (v *Vault) mintFee(now time.Time, ta, fee num, kind string) {
	if fee.Sign() <= 0 || fee.Cmp(ta) >= 0 {
		return
	}
	sharesN := fee.MulDivDown(v.supply.Add(v.virtualShares), ta.Sub(fee).Add(unitN))
	if sharesN.Sign() <= 0 {
		return
	}
	shares := sharesN.Dec()
	r := v.cfg.FeeRecipient
	v.balances[r] = v.balances[r].Add(sharesN)
	v.supply = v.supply.Add(sharesN)
	v.ledger.add(Entry{Time: now, Type: EntryFee, User: r, Amount: fee.Dec(), Shares: shares, Reason: kind})
}

// lockProfit adds gain to the locked profit: the amount still locked at
// now plus gain unlocks linearly over the next ProfitUnlock (Yearn v2's
// rule: a new report restarts the period for everything still locked).
func (v *Vault) lockProfit(now time.Time, gain decimal.Decimal) {
	if gain.Sign() <= 0 || v.cfg.ProfitUnlock <= 0 {
		return
	}
	v.locked = Locked{Amount: v.locked.at(now).Add(nm(gain)), Anchor: now, End: now.Add(v.cfg.ProfitUnlock)}
}

// recognizeLoss takes a loss out of the locked profit first: what is still
// locked shrinks by up to the loss (and keeps unlocking by the same end
// time), so the share price falls only by the part of the loss that
// exceeds it. It returns the part the share price bears.
func (v *Vault) recognizeLoss(now time.Time, loss decimal.Decimal) decimal.Decimal {
	if loss.Sign() <= 0 {
		return zero
	}
	curN := v.locked.at(now)
	cur := curN.Dec()
	cut := minDec(cur, loss)
	if cur.Sign() > 0 {
		v.locked = Locked{Amount: curN.Sub(nm(cut)), Anchor: now, End: v.locked.End}
	}
	return loss.Sub(cut)
}
