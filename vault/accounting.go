package vault

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/fixed"
)

// Rounding direction of a conversion.
type rounding bool

const (
	down rounding = false
	up   rounding = true
)

// toShares converts assets to shares at total assets ta:
// assets x (supply + virtual) / (ta + 1 unit).
func (v *Vault) toShares(assets decimal.Decimal, ta num, r rounding) decimal.Decimal {
	if r == up {
		return mulDivUp(assets, v.supply.Add(v.virtualShares).Dec(), ta.Add(unitN).Dec())
	}
	return nm(assets).MulDivDown(v.supply.Add(v.virtualShares), ta.Add(unitN)).Dec()
}

// toAssets converts shares to assets: shares x (ta + 1 unit) / (supply + virtual).
func (v *Vault) toAssets(shares decimal.Decimal, ta num, r rounding) decimal.Decimal {
	if r == up {
		return mulDivUp(shares, ta.Add(unitN).Dec(), v.supply.Add(v.virtualShares).Dec())
	}
	return nm(shares).MulDivDown(ta.Add(unitN), v.supply.Add(v.virtualShares)).Dec()
}

// ConvertToAssetsNum is ConvertToAssets on a fixed.Num, whose Dec is
// ConvertToAssets(shares.Dec()), coefficient and exponent: the decimal is
// not made (for a caller that records the figure at every step and reads
// few of them as decimals, a backtest's steps).
func (v *Vault) ConvertToAssetsNum(shares fixed.Num) fixed.Num {
	return shares.MulDivDown(v.totalAssetsN().Add(unitN), v.supply.Add(v.virtualShares))
}

// GrossAssetsNum is GrossAssets as a fixed.Num, whose Dec is
// GrossAssets(): the decimal is not made (as ConvertToAssetsNum).
func (v *Vault) GrossAssetsNum() fixed.Num { return v.grossN() }

// ConvertToShares is the shares assets buy now, rounded down.
func (v *Vault) ConvertToShares(assets decimal.Decimal) decimal.Decimal {
	return v.toShares(assets, v.totalAssetsN(), down)
}

// ConvertToAssets is the assets shares are worth now, rounded down.
func (v *Vault) ConvertToAssets(shares decimal.Decimal) decimal.Decimal {
	return v.toAssets(shares, v.totalAssetsN(), down)
}

// PreviewDeposit is the shares Deposit(assets) would mint now (down).
func (v *Vault) PreviewDeposit(assets decimal.Decimal) decimal.Decimal {
	return v.toShares(assets, v.totalAssetsN(), down)
}

// PreviewMint is the assets Mint(shares) would charge now (up).
func (v *Vault) PreviewMint(shares decimal.Decimal) decimal.Decimal {
	return v.toAssets(shares, v.totalAssetsN(), up)
}

// PreviewWithdraw is the shares Withdraw(assets) would burn now (up).
func (v *Vault) PreviewWithdraw(assets decimal.Decimal) decimal.Decimal {
	return v.toShares(assets, v.totalAssetsN(), up)
}

// PreviewRedeem is the assets Redeem(shares) would be worth now (down),
// before any exit costs.
func (v *Vault) PreviewRedeem(shares decimal.Decimal) decimal.Decimal {
	return v.toAssets(shares, v.totalAssetsN(), down)
}

// MaxDeposit is the most a deposit may add now: zero after shutdown, the
// room under the deposit limit, or -1 when there is no limit.
func (v *Vault) MaxDeposit() decimal.Decimal {
	if v.shutdown {
		return zero
	}
	if v.cfg.DepositLimit.Sign() == 0 {
		return decimal.NewFromInt(-1)
	}
	return maxDec(zero, v.cfg.DepositLimit.Sub(v.TotalAssets()))
}

// MaxWithdraw is what a user's shares are worth now, rounded down (before
// exit costs and liquidity).
func (v *Vault) MaxWithdraw(user string) decimal.Decimal {
	return v.toAssets(v.balances[user].Dec(), v.totalAssetsN(), down)
}

func (v *Vault) checkUser(op, user string) error {
	if user == "" {
		return adapters.E(op, adapters.KindInvalid, "vault %q: empty user", v.cfg.Name)
	}
	return nil
}

func (v *Vault) checkAmount(op, what string, d decimal.Decimal) error {
	if d.Sign() <= 0 || !onScale(d) {
		return adapters.E(op, adapters.KindInvalid, "vault %q: %s %s must be > 0 with at most %d decimals", v.cfg.Name, what, d, adapters.Scale)
	}
	return nil
}

func (v *Vault) checkDeposit(op string, taN num, assets decimal.Decimal) error {
	ta := taN.Dec()
	if v.shutdown {
		return adapters.E(op, adapters.KindPaused, "vault %q is shut down: no deposits", v.cfg.Name)
	}
	if lim := v.cfg.DepositLimit; lim.Sign() > 0 && ta.Add(assets).Cmp(lim) > 0 {
		return adapters.E(op, adapters.KindCapExceeded, "vault %q: deposit of %s would take total assets %s over the limit %s", v.cfg.Name, assets, ta.Add(assets), lim)
	}
	return nil
}

// Deposit takes assets from user into idle and mints shares, rounded down:
// shares = assets x (supply + virtual) / (totalAssets + 1 unit). A deposit
// too small to mint one share unit fails (KindInvalid).
func (v *Vault) Deposit(now time.Time, user string, assets decimal.Decimal) (decimal.Decimal, error) {
	const op = "vault.Deposit"
	if err := v.checkUser(op, user); err != nil {
		return zero, err
	}
	if err := v.checkAmount(op, "deposit", assets); err != nil {
		return zero, err
	}
	if err := v.advance(op, now); err != nil {
		return zero, err
	}
	ta := v.totalAssetsN()
	if err := v.checkDeposit(op, ta, assets); err != nil {
		return zero, err
	}
	shares := v.toShares(assets, ta, down)
	if shares.Sign() <= 0 {
		return zero, adapters.E(op, adapters.KindInvalid, "vault %q: deposit of %s mints no shares", v.cfg.Name, assets)
	}
	v.credit(now, user, assets, shares, "deposit")
	return shares, nil
}

// Mint mints exactly shares to user and takes the assets they cost,
// rounded up: assets = shares x (totalAssets + 1 unit) / (supply + virtual).
func (v *Vault) Mint(now time.Time, user string, shares decimal.Decimal) (decimal.Decimal, error) {
	const op = "vault.Mint"
	if err := v.checkUser(op, user); err != nil {
		return zero, err
	}
	if err := v.checkAmount(op, "mint", shares); err != nil {
		return zero, err
	}
	if err := v.advance(op, now); err != nil {
		return zero, err
	}
	ta := v.totalAssetsN()
	assets := v.toAssets(shares, ta, up)
	if err := v.checkDeposit(op, ta, assets); err != nil {
		return zero, err
	}
	v.credit(now, user, assets, shares, "mint")
	return assets, nil
}

func (v *Vault) credit(now time.Time, user string, assets, shares decimal.Decimal, reason string) {
	v.idle = v.idle.Add(nm(assets))
	v.balances[user] = v.balances[user].Add(nm(shares))
	v.supply = v.supply.Add(nm(shares))
	v.ledger.add(Entry{Time: now, Type: EntryDeposit, User: user, Amount: assets, Shares: shares, Reason: reason})
}

// Donate adds assets to idle without minting shares (an airdrop, or the
// first-depositor attack's donation). A donation raises the share price at
// once: it is not locked profit.
func (v *Vault) Donate(now time.Time, from string, assets decimal.Decimal) error {
	const op = "vault.Donate"
	if err := v.checkAmount(op, "donation", assets); err != nil {
		return err
	}
	if err := v.advance(op, now); err != nil {
		return err
	}
	v.idle = v.idle.Add(nm(assets))
	v.ledger.add(Entry{Time: now, Type: EntryDonation, User: from, Amount: assets})
	return nil
}

// Withdrawn is the outcome of a withdrawal or redemption.
type Withdrawn struct {
	// Assets is what the shares burned were worth (rounded in the vault's
	// favour); Paid is what the user received: Assets minus Loss.
	Assets decimal.Decimal `json:"assets"`
	Paid   decimal.Decimal `json:"paid"`
	// Loss is the exit cost of the positions unwound to pay, borne by the
	// withdrawer (bounded by Config.MaxLoss).
	Loss   decimal.Decimal `json:"loss"`
	Shares decimal.Decimal `json:"shares"`
}

// Withdraw burns the shares assets are worth, rounded up: shares = assets x
// (supply + virtual) / (totalAssets + 1 unit), and pays assets. When idle
// does not cover it, positions are unwound by instant exits in withdraw
// queue order; their exit costs are the withdrawer's loss (Paid = assets -
// Loss), which may not exceed MaxLoss x assets (KindCapExceeded). When
// instant exit liquidity cannot raise enough the withdrawal fails with
// KindInsufficientLiquidity and changes nothing: user withdrawals never
// wait on queued exits.
func (v *Vault) Withdraw(now time.Time, user string, assets decimal.Decimal) (Withdrawn, error) {
	const op = "vault.Withdraw"
	if err := v.checkUser(op, user); err != nil {
		return Withdrawn{}, err
	}
	if err := v.checkAmount(op, "withdrawal", assets); err != nil {
		return Withdrawn{}, err
	}
	if err := v.advance(op, now); err != nil {
		return Withdrawn{}, err
	}
	shares := v.toShares(assets, v.totalAssetsN(), up)
	if bal := v.balances[user].Dec(); shares.Cmp(bal) > 0 {
		return Withdrawn{}, adapters.E(op, adapters.KindCapExceeded, "vault %q: withdrawing %s needs %s shares; %q holds %s", v.cfg.Name, assets, shares, user, bal)
	}
	return v.pay(op, now, user, shares, assets)
}

// Redeem burns exactly shares and pays what they are worth, rounded down:
// assets = shares x (totalAssets + 1 unit) / (supply + virtual), less exit
// costs as for Withdraw.
func (v *Vault) Redeem(now time.Time, user string, shares decimal.Decimal) (Withdrawn, error) {
	const op = "vault.Redeem"
	if err := v.checkUser(op, user); err != nil {
		return Withdrawn{}, err
	}
	if err := v.checkAmount(op, "redemption", shares); err != nil {
		return Withdrawn{}, err
	}
	if err := v.advance(op, now); err != nil {
		return Withdrawn{}, err
	}
	if bal := v.balances[user].Dec(); shares.Cmp(bal) > 0 {
		return Withdrawn{}, adapters.E(op, adapters.KindCapExceeded, "vault %q: redeeming %s shares; %q holds %s", v.cfg.Name, shares, user, bal)
	}
	assets := v.toAssets(shares, v.totalAssetsN(), down)
	if assets.Sign() <= 0 {
		return Withdrawn{}, adapters.E(op, adapters.KindInvalid, "vault %q: %s shares are worth nothing", v.cfg.Name, shares)
	}
	return v.pay(op, now, user, shares, assets)
}

// pay burns shares and pays assets less exit costs, unwinding positions if
// idle is short. It changes nothing unless it succeeds.
func (v *Vault) pay(op string, now time.Time, user string, shares, assets decimal.Decimal) (Withdrawn, error) {
	w := Withdrawn{Assets: assets, Paid: assets, Loss: zero, Shares: shares}
	if v.idle.Cmp(nm(assets)) < 0 {
		v.claimReady(now, time.Time{})
	}
	var ex *exits
	if short := assets.Sub(v.idle.Dec()); short.Sign() > 0 {
		var err error
		ex, err = v.raise(op, short, "withdrawal by "+user)
		if err != nil {
			return Withdrawn{}, err
		}
		// The withdrawer bears the exit costs: what the unwound positions
		// were worth minus what they returned.
		loss := maxDec(zero, ex.valueOut.Sub(ex.received))
		paid := minDec(assets.Sub(loss), v.idle.Dec().Add(ex.received))
		loss = assets.Sub(paid)
		if max := floorScale(assets.Mul(frac(v.cfg.MaxLoss))); loss.Cmp(max) > 0 {
			return Withdrawn{}, adapters.E(op, adapters.KindCapExceeded, "vault %q: paying %s to %q would cost %s in exit losses, over the max loss %s (%g)", v.cfg.Name, assets, user, loss, max, v.cfg.MaxLoss)
		}
		w.Paid, w.Loss = paid, loss
	}
	if ex != nil {
		ex.commit(v, now)
	}
	v.idle = v.idle.Sub(nm(w.Paid))
	bal := v.balances[user].Sub(nm(shares))
	if bal.Sign() == 0 {
		delete(v.balances, user)
	} else {
		v.balances[user] = bal
	}
	v.supply = v.supply.Sub(nm(shares))
	reason := "withdraw"
	if w.Loss.Sign() > 0 {
		reason = "withdraw: exit costs " + w.Loss.String() + " borne by the withdrawer"
	}
	v.ledger.add(Entry{Time: now, Type: EntryWithdraw, User: user, Amount: w.Paid, Shares: shares, Reason: reason})
	return w, nil
}
