package vault

import (
	"time"

	"github.com/shopspring/decimal"
)

// Mark is the vault at a time between its operations, in float64: what a
// backtest records at a step where the vault books nothing (MarkAt). Its
// positions are valued by the caller at the step's data, and the fees
// due since they were last charged are counted as if charged now (as an
// ERC-4626 vault's previews count them: MetaMorpho's _accruedFeeShares),
// so that the share price does not jump when they are. A Mark is not
// money: the vault's exact figures are those of its operations.
type Mark struct {
	// NAV is the gross assets: idle plus every position and queued claim.
	NAV float64
	// Idle is the idle base asset.
	Idle float64
	// TotalAssets is NAV less the profit still locked.
	TotalAssets float64
	// Supply is the shares outstanding, with the fee shares due.
	Supply float64
	// PricePerShare is (TotalAssets + 1 unit) / (Supply + virtual shares).
	PricePerShare float64
}

// Assets is what shares are worth at the mark.
func (m Mark) Assets(shares float64) float64 { return shares * m.PricePerShare }

// Quiet reports whether the vault has nothing to book at now, so that a
// step at now may be recorded at a mark (MarkAt) without bringing the
// vault to it: no queued claim is ready (Claim pays it) and no position
// carries debt (its health is checked, and a loop liquidated, at every
// step).
func (v *Vault) Quiet(now time.Time) bool {
	if v.quiet.still(v.slotVer.pos) {
		return true // no position changed since none carried debt or claims
	}
	none := true // no debt, no claims at all: quiet at any time
	for _, s := range v.markets {
		if s.pos.Debt.Sign() > 0 || (hasReadyClaim(&s.pos, now) && s.ad.CanQueue()) {
			return false
		}
		none = none && len(s.pos.Claims) == 0
	}
	if none {
		v.quiet.set(v.slotVer.pos)
	}
	return true
}

// Bring brings the vault to now as Accrue does and pays the queued claims
// that are ready, as Claim does, but charges no fees: what a backtest
// does at a step where the risk monitors read the vault. Fees are
// charged at the vault's operations (see MarkAt).
func (v *Vault) Bring(now time.Time) (decimal.Decimal, error) {
	if err := v.accrueTo("vault.Bring", now); err != nil {
		return zero, err
	}
	return v.claimReady(now, time.Time{}), nil
}

// MarkAt is the vault's mark at now with its positions and queued claims
// worth positions in all (their values at the step's data, as the
// caller valued them): nothing is accrued or booked, and the fees due
// since they were last charged are counted as if charged at now.
//
// Fees are charged at the vault's operations (Accrue, Deposit, Execute,
// Harvest...), over the whole time since they were last charged and on
// the total assets then: an ERC-4626 vault charges its fees when it is
// touched (MetaMorpho's _accrueFee runs in deposit, withdraw and setFee;
// Yearn v3 charges at process_report), not at every block.
func (v *Vault) MarkAt(now time.Time, positions float64) Mark {
	var m Mark
	m.Idle = v.marks.idle.of(v.idle)
	m.NAV = m.Idle + positions
	m.TotalAssets = m.NAV
	if v.locked.Amount.Sign() > 0 {
		m.TotalAssets = max(0, m.NAV-v.locked.at(now).ToFloat())
	}
	m.Supply = v.marks.supply.of(v.supply)
	virtual := v.marks.virtual.of(v.virtualShares)
	if m.Supply > 0 {
		m.Supply += v.feeSharesDue(now, m.TotalAssets, m.Supply, virtual)
	}
	m.PricePerShare = (m.TotalAssets + unitF) / (m.Supply + virtual)
	return m
}

// unitF is one unit of the base asset (10^-Scale) as a float64.
const unitF = 1e-18

// feeSharesDue is the fee shares accrueFees would mint at now on total
// assets ta over supply shares (virtual the virtual shares), in float64:
// the management fee since the fees were last charged, then the
// performance fee on the price per share above the high-water mark.
func (v *Vault) feeSharesDue(now time.Time, ta, supply, virtual float64) float64 {
	minted := 0.0
	mint := func(fee float64) {
		if fee > 0 && fee < ta {
			minted += fee * (supply + minted + virtual) / (ta - fee + unitF)
		}
	}
	if dt := now.Sub(v.feesAt); dt > 0 && v.cfg.ManagementFee > 0 {
		mint(ta * v.fees.mgmt.ToFloat() * float64(dt) / float64(Year))
	}
	if v.cfg.PerformanceFee > 0 {
		hwm := v.hwm.Dec().InexactFloat64()
		if profit := (ta + unitF) - hwm*(supply+minted+virtual); profit > 0 {
			mint(profit * v.fees.perf.InexactFloat64())
		}
	}
	return minted
}
