package vault

import (
	"time"

	"github.com/shopspring/decimal"
)

// Fee kinds, as the Reason of EntryFee ledger entries.
const (
	FeeManagement  = "management"
	FeePerformance = "performance"
)

var yearNanos = nanos(Year)

// accrueFees mints the management fee for the time since fees were last
// accrued and the performance fee on any rise of the price per share above
// the high-water mark. With no shares outstanding nobody can be charged:
// the fee clock and the high-water mark just move to now.
func (v *Vault) accrueFees(now time.Time) {
	ta := v.TotalAssets()
	if v.supply.Sign() == 0 {
		v.feesAt = now
		v.hwm = v.pps(ta)
		return
	}
	if dt := now.Sub(v.feesAt); dt > 0 {
		v.feesAt = now
		if v.cfg.ManagementFee > 0 {
			// fee = floor(TA x rate x dt / year)
			fee := mulDivDown(ta.Mul(frac(v.cfg.ManagementFee)), nanos(dt), yearNanos)
			v.mintFee(now, ta, fee, FeeManagement)
		}
	}
	// profit above the mark: (TA + 1 unit) - hwm x (supply + virtual)
	profit := floorScale(ta.Add(unit).Sub(v.hwm.Mul(v.supply.Add(v.virtualShares))))
	if profit.Sign() > 0 {
		if v.cfg.PerformanceFee > 0 {
			fee := floorScale(profit.Mul(frac(v.cfg.PerformanceFee)))
			v.mintFee(now, ta, fee, FeePerformance)
		}
		v.hwm = v.pps(ta)
	}
}

// mintFee mints shares worth fee out of total assets ta to the fee
// recipient: shares = fee x (supply + virtual) / (ta - fee + 1 unit),
// rounded down, so that after the mint the new shares are worth fee (less
// rounding) and everyone else's are diluted by exactly that.
func (v *Vault) mintFee(now time.Time, ta, fee decimal.Decimal, kind string) {
	if fee.Sign() <= 0 || fee.Cmp(ta) >= 0 {
		return
	}
	shares := mulDivDown(fee, v.supply.Add(v.virtualShares), ta.Sub(fee).Add(unit))
	if shares.Sign() <= 0 {
		return
	}
	r := v.cfg.FeeRecipient
	v.balances[r] = v.balances[r].Add(shares)
	v.supply = v.supply.Add(shares)
	v.ledger.add(Entry{Time: now, Type: EntryFee, User: r, Amount: fee, Shares: shares, Reason: kind})
}

// lockProfit adds gain to the locked profit: the amount still locked at
// now plus gain unlocks linearly over the next ProfitUnlock (Yearn v2's
// rule: a new report restarts the period for everything still locked).
func (v *Vault) lockProfit(now time.Time, gain decimal.Decimal) {
	if gain.Sign() <= 0 || v.cfg.ProfitUnlock <= 0 {
		return
	}
	v.locked = Locked{Amount: v.locked.At(now).Add(gain), Anchor: now, End: now.Add(v.cfg.ProfitUnlock)}
}

// recognizeLoss takes a loss out of the locked profit first: what is still
// locked shrinks by up to the loss (and keeps unlocking by the same end
// time), so the share price falls only by the part of the loss that
// exceeds it. It returns the part the share price bears.
func (v *Vault) recognizeLoss(now time.Time, loss decimal.Decimal) decimal.Decimal {
	if loss.Sign() <= 0 {
		return zero
	}
	cur := v.locked.At(now)
	cut := minDec(cur, loss)
	if cur.Sign() > 0 {
		v.locked = Locked{Amount: cur.Sub(cut), Anchor: now, End: v.locked.End}
	}
	return loss.Sub(cut)
}
