// Package vault is yieldvault's vault: ERC-4626-style share accounting
// over one base asset, fees, profit unlocking, the rebalancer that turns a
// strategy's Target into orders, the harvester, the keeper that decides
// when each runs, and the ledger that records everything. The backtest
// engine drives it on simulated time and the service on wall time: every
// operation takes its time as an argument and the package never reads a
// clock. It imports adapters and strategies only.
//
// # Accounting
//
// Amounts and shares are decimals at adapters.Scale (18) places; one unit
// is 1e-18. With S the share supply, V = 10^DecimalsOffset units of
// virtual shares and TA the total assets:
//
//	TA          = idle + Σ position value (Config.Pricing) + Σ queued claims − locked profit
//	toShares(a) = a × (S + V) / (TA + 1 unit)
//	toAssets(s) = s × (TA + 1 unit) / (S + V)
//
// Pending rewards are not in TA until harvested. Rounding always favours
// the vault, with exact floor and ceiling (decimal QuoRem at 18 places):
// Deposit mints toShares rounded down, Mint charges toAssets rounded up,
// Withdraw burns toShares rounded up, Redeem pays toAssets rounded down.
// The virtual shares (OpenZeppelin's decimals offset) defeat the
// first-depositor donation attack: a donation is shared with V shares
// nobody can redeem, so inflating the price costs the attacker about
// 10^DecimalsOffset times what the victim can lose.
//
// PricePerShare is (TA + 1 unit) / (S + V) at 36 places, so S × pps equals
// TA to within one unit while the price stays within a factor two of its
// start (the virtual shares hold V × pps).
//
// # Fees
//
// Fees are paid by minting shares to Config.FeeRecipient at every
// operation (Accrue):
//
//	management  = TA × rate × Δt / year            (year = 365 days, rounded down)
//	performance = rate × ((TA + 1 unit) − HWM × (S + V))   when positive
//	fee shares  = fee × (S + V) / (TA − fee + 1 unit)      (rounded down)
//
// HWM, the high-water mark, is the price per share fees were last charged
// at: after a loss nothing is charged until the price is back above it.
// With no shares outstanding no fee accrues and the mark follows the price.
//
// # Profit unlocking and losses
//
// A harvest's proceeds (net of costs) are locked and unlock linearly over
// Config.ProfitUnlock (Yearn v2): locked(t) = L × (end − t)/(end − anchor).
// A new harvest adds to what is still locked and restarts the period. A
// deposit just before a harvest therefore buys at the pre-harvest price
// and earns the harvest only as it unlocks. Losses (slashing, bad debt,
// harvest costs above rewards) are recognised at once and eat locked
// profit first; the share price bears only the rest. Yield that accrues in
// exchange rates or indexes is not locked: it raises TA continuously.
//
// # Withdrawals
//
// Withdrawals are paid from idle, then by instant exits in the withdraw
// queue (Config.WithdrawQueue, then the vault's order). The exits' costs
// are the withdrawer's loss (Yearn v3): Paid = assets − loss, the full
// shares are burned, and a loss above MaxLoss × assets fails with
// KindCapExceeded. User withdrawals never wait on queued exits: when
// instant liquidity is short the withdrawal fails with
// KindInsufficientLiquidity and changes nothing; the rebalancer's queued
// exits become idle when their claims mature (Claim, Runner.Step).
//
// # Rebalancer, harvester, keeper, ledger
//
// Decide turns a Target into a Decision (inputs read, orders, estimated
// costs, reasons, rejected trades) without side effects; Execute carries
// it out and records NAVBefore − NAVAfter = Costs + Rounding exactly. An
// over-weight position is sold only when it must be (zero or capped
// target, beyond Rebalance.Band, idle target) or when its proceeds fund
// buys and the whole move's expected gain covers MinGainOverCost times its
// cost; queued claims are idle in transit.
// Harvest claims and swaps rewards. Keeper.Due fires each cron tick of the
// strategy's schedules exactly once on the caller's clock, and an exit
// check at every step. Runner's Harvest, Rebalance and ExitCheck run one
// task each with a strategy (the code the backtest, the service and plan
// share) and Runner.Step runs the keeper's due tasks with them;
// Vault.FeedWindow feeds a vault from a history window.
// Every deposit, withdrawal, order, fee, harvest, claim and event is an
// Entry in the Ledger; Replay and Reconcile recompute share balances and
// idle from it. docs/vault.md is the long form of this page.
package vault
