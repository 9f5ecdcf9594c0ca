package adapters

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/fixed"
)

// Scale is the number of decimal places every base-asset amount, share
// count and unit balance is quantized to after a multiplication or a
// division (18, as ERC-20 tokens with 18 decimals).
const Scale = 18

// Pricing selects how a position is valued.
type Pricing uint8

const (
	// PriceRate values tokens at the protocol's own exchange rate (NAV).
	PriceRate Pricing = iota
	// PriceMarket values tokens at what they sell for (shows depegs).
	PriceMarket
)

func (p Pricing) String() string {
	if p == PriceMarket {
		return "market"
	}
	return "rate"
}

// ParsePricing parses "rate" or "market".
func ParsePricing(s string) (Pricing, error) {
	switch s {
	case "rate", "nav", "exchange_rate", "":
		return PriceRate, nil
	case "market", "market_price", "price":
		return PriceMarket, nil
	}
	return 0, E("adapters.ParsePricing", KindInvalid, "unknown pricing %q (want rate or market)", s)
}

// Env is what an adapter sees at one instant: the time, the market's latest
// observation at or before that time, and the cost of gas. Adapters never
// read a clock or a network: everything comes in through Env.
type Env struct {
	Time time.Time
	Obs  Observation
	// GasPrice is the gas price in gwei. Zero means gas is free.
	GasPrice float64
	// GasAssetPrice is the value of one ETH (the gas token) in the vault's
	// base asset: 1 for ETH vaults, ETH/USD for USD vaults, ETH/BTC for BTC
	// vaults. Zero is read as 1.
	GasAssetPrice float64
	// Held is the caller's own position in this market, or nil. History
	// records a market without the vault in it, so drivers whose yield
	// depends on the market's size (a lending market's utilization)
	// quote on the market plus what Held holds plus the amount, as
	// Accrue earns on the market plus the position accrued. Drivers only
	// read it; the vault points it at its position.
	Held *Position
	// Growth is the market's growth over the step that ends at Time, as
	// its driver computed it ahead (Grower, GrowthColumn), or zero. The
	// driver's Accrue takes it instead of computing it again for a
	// position last accrued at the step's start at the same rate, and
	// ignores it otherwise.
	Growth Growth
}

// GasCost returns the base-asset cost of the given gas units at the Env's
// gas price, quantized to Scale.
func (e *Env) GasCost(units float64) fixed.Num {
	if units <= 0 || e.GasPrice <= 0 {
		return fixed.Num{}
	}
	px := e.GasAssetPrice
	if px <= 0 {
		px = 1
	}
	return gasMemo.Get(units * e.GasPrice * 1e-9 * px)
}

// FromFloat converts a float64 (a rate, a price, a float amount) to a
// decimal at Scale places without going through a string. Non-finite
// values give zero.
func FromFloat(v float64) decimal.Decimal {
	return fixed.FromFloat(v)
}

// Quantize rounds an amount to Scale places, half away from zero.
func Quantize(d decimal.Decimal) decimal.Decimal { return d.Round(Scale) }

// Position is a vault's holding in one market. It is a plain value: the
// vault stores and copies it, the service persists it. Adapters return
// new Positions rather than keeping state; Claims must be copied, not
// appended to in place, by any code that changes them.
type Position struct {
	Market string `json:"market"`
	// Units is what the vault holds: LST/LRT tokens (or shares of a
	// rebasing token), a lending market's scaled balance (amount / index),
	// or an AMM pool's LP units.
	Units fixed.Num `json:"units"`
	// Index is the value of one unit in the base asset at Last, by the
	// protocol's own accounting: the exchange rate, the liquidity index, the
	// LP unit value. It moves on Accrue.
	Index float64 `json:"index"`
	// Entry is a reference the kind keeps with the position: for AMM, the
	// pool price ratio when the position was opened (impermanent loss and
	// concentrated ranges); for lending, the position's index over the
	// market's observed liquidity index at Last (below 1 once the vault's
	// own supply has lowered the rate it earns; 0 is read as 1).
	Entry float64 `json:"entry,omitempty"`
	// Adapt is a lending position's log ratio of the market's rate at
	// target with the vault's own supply in it to the observed one, for
	// rate models whose rate at target adapts to utilization (Morpho's
	// AdaptiveCurveIRM); 0 otherwise.
	Adapt float64 `json:"adapt,omitempty"`
	// Principal is the base asset put in minus the base asset taken out at
	// cost: the denominator of the position's yield attribution.
	Principal fixed.Num `json:"principal"`
	// Rewards are accrued, unharvested rewards valued in the base asset
	// after the profile's haircut.
	Rewards fixed.Num `json:"rewards"`
	// Last is the time the position was last accrued.
	Last time.Time `json:"last"`
	// APY is the last growth rate (a fraction a year) Accrue saw in an
	// observation. Drivers that compound an APY fall back to it when an
	// observation carries none, so the last known rate carries forward.
	APY float64 `json:"apy,omitempty"`
	// Claims are queued withdrawals not yet paid out.
	Claims []Claim `json:"claims,omitempty"`
	// Debt is a borrowing position's scaled debt (amount / borrow index,
	// as Aave's variable debt token keeps it): the debt is Debt x
	// DebtIndex in the base asset. Zero for supply-only markets.
	Debt fixed.Num `json:"debt,omitzero"`
	// DebtIndex is the value of one scaled debt unit at Last: the
	// observed borrow index, or the borrow rate compounded where the
	// history has none.
	DebtIndex float64 `json:"debt_index,omitempty"`
	// Rate is a borrowing position's collateral token in the base asset at
	// Last by the exchange rate (the collateral's oracle rate); Index is
	// then the collateral's liquidity index, in tokens.
	Rate float64 `json:"rate,omitempty"`
	// Leverage is the collateral over the equity a borrowing position aims
	// at when it is opened or re-levered (0: the market's default).
	Leverage float64 `json:"leverage,omitempty"`
	// UnwindUnits and UnwindDebt are what remains of a borrowing
	// position's unwind through its collateral's withdrawal queue: the
	// scaled collateral still to withdraw and queue, and the scaled debt
	// still to repay out of the claims as they pay (a loop's Withdraw
	// with ExitQueue; its Claim repays and queues the next round). Both
	// zero when no such unwind is under way.
	UnwindUnits fixed.Num `json:"unwind_units,omitzero"`
	UnwindDebt  fixed.Num `json:"unwind_debt,omitzero"`
	// Paused is set by Driver.Apply on an EventPause and cleared on an
	// EventUnpause. While it is set, drivers that honour pauses (lending,
	// amm) refuse deposits and withdrawals with KindPaused. It is part of
	// the position so that the state stays a plain, persisted value.
	Paused bool `json:"paused,omitempty"`
}

// IsZero reports whether the position holds nothing: no units, no claims
// and no rewards.
func (p *Position) IsZero() bool {
	return p.Units.Sign() == 0 && p.Debt.Sign() == 0 && len(p.Claims) == 0 && p.Rewards.Sign() == 0
}

// Unwinding reports whether a borrowing position is being unwound
// through its collateral's withdrawal queue (UnwindUnits or UnwindDebt
// left).
func (p *Position) Unwinding() bool {
	return p.UnwindUnits.Sign() > 0 || p.UnwindDebt.Sign() > 0
}

// Claim is a queued withdrawal: units taken out of the position that the
// protocol pays out at ReadyAt. Until paid the claim stays exposed to
// slashing (Driver.Apply cuts its units too).
type Claim struct {
	Units     fixed.Num `json:"units"`
	Index     float64   `json:"index"` // value of one unit when requested: the payout per unit, unless cut
	Requested time.Time `json:"requested"`
	ReadyAt   time.Time `json:"ready_at"`
}

// Amount is the base-asset payout of the claim.
func (c *Claim) Amount() decimal.Decimal {
	return Quantize(c.Units.Dec().Mul(FromFloat(c.Index)))
}

// ExitMode chooses how a withdrawal leaves a market.
type ExitMode uint8

const (
	// ExitAuto lets the adapter pick the cheaper of an instant exit and the
	// queue, preferring instant when the costs are equal.
	ExitAuto ExitMode = iota
	// ExitInstant sells or withdraws now, at a slippage.
	ExitInstant
	// ExitQueue requests a withdrawal from the protocol's queue.
	ExitQueue
)

func (m ExitMode) String() string {
	switch m {
	case ExitInstant:
		return "instant"
	case ExitQueue:
		return "queue"
	}
	return "auto"
}

// Withdrawal asks an adapter to take value out of a position.
type Withdrawal struct {
	// Amount is the base-asset value to remove, at rate pricing, before
	// costs. Ignored when All is set.
	Amount fixed.Num
	// All removes the whole position.
	All  bool
	Mode ExitMode
	// MaxSlippage bounds an instant exit's slippage as a fraction of the
	// amount; zero means no bound. A larger slippage fails with
	// KindCapExceeded.
	MaxSlippage float64
	// AllowPartial lets an instant exit fill only what the exit liquidity
	// allows instead of failing with KindInsufficientLiquidity.
	AllowPartial bool
}

// Fill is what an operation did, in base-asset units.
type Fill struct {
	// Amount is the base asset that moved: spent from idle on a deposit,
	// received into idle on a withdrawal, claim or harvest (after costs).
	Amount fixed.Num `json:"amount"`
	// Value is the position value (at rate pricing) added or removed.
	Value    fixed.Num `json:"value"`
	Gas      fixed.Num `json:"gas"`
	Slippage fixed.Num `json:"slippage"`
	Fee      fixed.Num `json:"fee"` // protocol fees (instant-exit fees, swap fees on rewards)
	// Queued is set when the withdrawal went to the protocol's queue.
	Queued *Claim `json:"queued,omitempty"`
	// Partial is set when an instant exit filled less than asked.
	Partial bool `json:"partial,omitempty"`
	// Route names where the order was priced, when the market offers
	// several: "mint" (at the protocol's rate), "swap <venue>" (on the
	// named pool), "queue" (the protocol's withdrawal queue). Empty for
	// markets with one route (lending, AMM).
	Route string `json:"route,omitempty"`
}

// Cost is the fill's total cost: gas + slippage + fee.
func (f *Fill) Cost() fixed.Num { return f.Gas.Add(f.Slippage).Add(f.Fee) }

// Quote is what depositing a given amount would earn and cost.
type Quote struct {
	// APY is the net APY of the position after the deposit: after protocol
	// fees, the deposit's own rate impact, and rewards after haircut.
	APY float64
	// RewardAPY is the part of APY paid as rewards that must be harvested.
	RewardAPY float64
	// EntryCost is the base asset lost on entry (gas, slippage, fees).
	EntryCost fixed.Num
	// ExitCost is the base asset lost on an instant exit of the same amount
	// now; ExitDelay the queue's delay when exiting that way instead.
	// Neither is ever negative, in Quote, QuoteSell or a part quote, at
	// any amount: an exit costs at least nothing (the built-in adapters'
	// is gas plus a slippage and fee clamped at zero; a sale pays at most
	// the rate, never a premium). A vault's funding walk counts an exit it
	// has not priced as costing at least nothing, and refuses a quote that
	// breaks this (vault.Decide's error names the market); the
	// conformance suite (adaptertest, ExitCostNotNegative) checks it.
	ExitCost  fixed.Num
	ExitDelay time.Duration
	// QueueClosed is set when the market's withdrawal queue does not exist
	// at the quote's time (it opened later), although the market has one
	// (Adapter.CanQueue): exits then go through the venue only.
	QueueClosed bool
	// MaxInstantExit is the most base asset an instant exit can take now.
	MaxInstantExit fixed.Num
	// Unknown, when not empty, says why part of the yield cannot be known
	// from the data (an AMM pool with volume but no pool size): APY then
	// counts that part as zero, and the decision log says why.
	Unknown string
}

// Driver is the small contract one market kind implements. Drivers are
// pure: no clock, no network, no state outside the Position values passed
// in and out. A Driver is built for one market by a Factory and is safe
// for concurrent use.
//
// The Adapter type wraps a Driver, validates arguments and adds the
// operation names to errors; users call Adapter, not Driver.
type Driver interface {
	// Quote prices a deposit of amount (which may be zero for the current APY).
	Quote(env *Env, amount fixed.Num) (Quote, error)
	// Deposit puts amount of base asset into the position.
	Deposit(pos Position, env *Env, amount fixed.Num) (Position, Fill, error)
	// Withdraw takes value out, instantly or through the queue.
	Withdraw(pos Position, env *Env, w Withdrawal) (Position, Fill, error)
	// Accrue brings pos from pos.Last to env.Time. Accruing to pos.Last
	// changes nothing. It is the hot path of a backtest: it must not
	// allocate when the position has no rewards to accrue.
	Accrue(pos *Position, env *Env)
	// Value is the position's worth in the base asset, excluding queued
	// claims and pending rewards (see Adapter.TotalValue).
	Value(pos *Position, env *Env, pricing Pricing) decimal.Decimal
	// Apply applies an event (slash, bad debt, depeg, pause) and returns
	// the base-asset value lost by the position and its claims.
	Apply(pos Position, env *Env, ev Event) (Position, decimal.Decimal, error)
}

// RateValuer is the optional capability of drivers whose Value is the
// position's units times a rate: Value(pos, env, pricing) is pos.Units x
// r rounded half away from zero to Scale places (mech.MulRate) for the r
// ValueRate returns with ok. Callers that add up many values (a vault's
// NAV at every step of a backtest) multiply on their own fixed-point
// numbers instead of building a decimal per position. ok false means the
// value is not of that form at env: ask Value.
type RateValuer interface {
	ValueRate(pos *Position, env *Env, pricing Pricing) (r float64, ok bool)
}

// SellQuoter is the optional capability of drivers whose yield depends on
// the holder's own size (a lending market's utilization after its supply,
// a pool's fee share). QuoteSell prices a sale of amount from the caller's
// position (Env.Held): its APY is the yield the sale gives up per unit
// sold, (H·r(H) − (H−X)·r(H−X)) / X for a position of value H, a sale X
// and r(h) the rate a position of h earns, not the rate after adding
// amount; its MaxInstantExit is what the position can take out now. Other
// drivers' sales are priced by Quote (Adapter.QuoteSell).
type SellQuoter interface {
	QuoteSell(env *Env, amount fixed.Num) (Quote, error)
}

// QuotePart says which of a Quote's prices a PartQuoter computes beside
// its yield (APY, RewardAPY and Unknown, always computed).
type QuotePart uint8

const (
	// QuoteYield is the yield alone.
	QuoteYield QuotePart = 0
	// QuoteEntry adds EntryCost.
	QuoteEntry QuotePart = 1
	// QuoteExit adds the exit: ExitCost, ExitDelay, QueueClosed and
	// MaxInstantExit.
	QuoteExit QuotePart = 2
	// QuoteAll is the whole quote.
	QuoteAll = QuoteEntry | QuoteExit
)

// PartQuoter is the optional capability of drivers that price part of a
// quote: QuotePart(env, amount, sell, part) is Quote(env, amount) (with
// sell, QuoteSell's when the driver is a SellQuoter) with the fields of
// part set and no other, and the same error, without pricing the rest.
// A rebalance reads only the yield of most markets (those it does not
// trade, those below its minimum trade, the over-weights it may sell),
// the entry of its buys and the exit of its sells: Adapter.QuoteYield,
// QuoteSellYield, QuoteEntry and QuoteSellExit let it skip the rest.
type PartQuoter interface {
	QuotePart(env *Env, amount fixed.Num, sell bool, part QuotePart) (Quote, error)
}

// Harvester is the optional capability of markets that pay rewards that
// must be claimed and swapped.
type Harvester interface {
	// Harvest claims pos.Rewards and swaps them to base at a cost. The
	// Fill's Amount is what reaches idle.
	Harvest(pos Position, env *Env) (Position, Fill, error)
}

// Claimer is the optional capability of markets with a withdrawal queue.
type Claimer interface {
	// Claim pays out every claim whose ReadyAt is at or before env.Time.
	// With nothing ready it fails with KindNotReady.
	Claim(pos Position, env *Env) (Position, Fill, error)
}

// Liquidation is what a lending protocol's liquidation did to a borrowing
// position: the debt a liquidator repaid, the collateral it seized for it
// (at the oracle's price, bonus included), and the equity the position
// lost (the seized collateral valued at rate pricing, less the debt
// repaid). Cause names what brought the health factor below 1.
type Liquidation struct {
	Repaid decimal.Decimal `json:"repaid"`
	Seized decimal.Decimal `json:"seized"`
	Loss   decimal.Decimal `json:"loss"`
	// HealthBefore and HealthAfter are the health factors before and
	// after (HealthAfter 0 once no debt is left).
	HealthBefore float64 `json:"health_before"`
	HealthAfter  float64 `json:"health_after"`
	// Calls is the number of liquidation calls it took (an Aave call
	// repays at most the close factor of the debt).
	Calls int    `json:"calls"`
	Cause string `json:"cause"`
}

// Liquidator is the optional capability of markets where a position can
// borrow: the protocol liquidates it when its health factor falls below 1.
// Liquidate accrues pos to env.Time and, when it is unhealthy, applies the
// liquidations the protocol allows until it is healthy or empty; ok is
// false when nothing was liquidated.
type Liquidator interface {
	Liquidate(pos Position, env *Env) (Position, Liquidation, bool)
}

// LoopFigures are a borrowing position's (or a prospective one's) risk and
// yield figures at one instant (Leverer.Figures).
type LoopFigures struct {
	// Leverage is collateral over equity (1 without debt).
	Leverage float64
	// HealthFactor is collateral at the oracle's price x LLTV / debt;
	// 0 without debt (it is then unbounded).
	HealthFactor float64
	// LTV is debt over collateral at the oracle's price.
	LTV float64
	// MaxLTV and LLTV are the market's at the time; MaxLeverage is
	// 1 / (1 - MaxLTV).
	MaxLTV, LLTV, MaxLeverage float64
	// SupplyAPY is the collateral reserve's supply APY (without the
	// token's own exchange-rate growth); BorrowAPY the debt's rate after
	// the position's own borrowing.
	SupplyAPY, BorrowAPY float64
	// LiquidationDrop is the fall of the collateral's oracle price (a
	// fraction) at which the health factor reaches 1: 1 - 1/HealthFactor;
	// 1 without debt.
	LiquidationDrop float64
	// OracleMarket is set when the oracle prices the collateral at its
	// market price (a depeg moves the health factor).
	OracleMarket bool
	// OracleGap is the collateral's market price over the oracle's price
	// of it, less 1: 0 under a market-price oracle or without an observed
	// price; below 0 when the collateral trades under an exchange-rate
	// oracle, which then liquidates nothing while an unwind sells at the
	// market.
	OracleGap float64
	// BorrowCap is the debt reserve's borrow cap in force, in base units:
	// the market's total borrows a borrow may not take past it. 0 when no
	// cap is known to bound the borrowing then (BorrowCapper says why).
	BorrowCap float64
	// EMode is the Aave e-mode category whose ltv and lltv the market's
	// figures are (the profile's emode in force); 0 for none. An executor
	// enters it (Pool.setUserEMode) before borrowing at those figures.
	EMode int
}

// BorrowCapper is the optional capability of markets whose borrowing a
// borrow cap may bound (loops): where none does, a loop's size is bounded
// only by the vault's capital, which flatters a large loop, and reports
// say so.
type BorrowCapper interface {
	// UncappedFrom returns the first time in [from, to] at which no borrow
	// cap bounds the market's borrowing, and why (the profile's source
	// note, or that it sets none); ok is false when a cap is in force
	// throughout.
	UncappedFrom(from, to time.Time) (at time.Time, why string, ok bool)
}

// Leverer is the optional capability of markets whose positions borrow
// against their collateral (leveraged loops).
type Leverer interface {
	// Figures are pos's loop figures at env; for a position that holds
	// nothing, those of a loop opened now at leverage.
	Figures(pos *Position, env *Env, leverage float64) LoopFigures
	// Relever moves pos to leverage at constant equity, less the costs:
	// borrowing more and adding collateral, or selling collateral to repay
	// debt, on the cheaper route. The Fill's Amount is zero (no base asset
	// moves to or from idle); its costs are what the equity lost.
	Relever(pos Position, env *Env, leverage float64) (Position, Fill, error)
}

// Factory builds the Driver of one market from its profile.
type Factory func(m Market, p *Profile) (Driver, error)

var (
	factoriesMu sync.RWMutex
	factories   = map[Kind]Factory{}
	// drivers are the named drivers per kind (RegisterDriver).
	drivers = map[Kind]map[string]Factory{}
)

// Register makes a driver factory available for a market kind: the
// kind's default driver, for every market of the kind that names no
// driver. A kind that is not built in (lst, lrt, lending, amm) becomes a
// kind catalogs may use (ParseKind accepts it). It panics if f is nil, the
// kind is empty or not lower-case letters, digits, '_' or '-', or the kind
// already has a factory, as database/sql.Register does. Call it from an
// init function.
func Register(kind Kind, f Factory) {
	factoriesMu.Lock()
	defer factoriesMu.Unlock()
	if f == nil {
		panic("adapters: Register factory is nil")
	}
	if kind == "" {
		panic("adapters: Register kind is empty")
	}
	if !nameRE.MatchString(string(kind)) {
		panic("adapters: Register kind " + strconv.Quote(string(kind)) + " is not lower-case letters, digits, '_' or '-'")
	}
	if _, dup := factories[kind]; dup {
		panic("adapters: Register called twice for kind " + string(kind))
	}
	factories[kind] = f
}

// nameRE is the form of a registered kind or driver name.
var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// RegisterDriver makes another driver available for an existing or a new
// market kind, under a name: a catalog profile or market chooses it with
// driver: NAME (a market's choice over its profile's). It panics if f is
// nil, the name is not lower-case letters, digits, '_' or '-', or the kind
// already has a driver of that name. Call it from an init function.
func RegisterDriver(kind Kind, name string, f Factory) {
	factoriesMu.Lock()
	defer factoriesMu.Unlock()
	if f == nil {
		panic("adapters: RegisterDriver factory is nil")
	}
	if !nameRE.MatchString(string(kind)) || !nameRE.MatchString(name) {
		panic("adapters: RegisterDriver kind " + strconv.Quote(string(kind)) + " or name " + strconv.Quote(name) + " is not lower-case letters, digits, '_' or '-'")
	}
	if _, dup := drivers[kind][name]; dup {
		panic("adapters: RegisterDriver called twice for " + string(kind) + " driver " + name)
	}
	if drivers[kind] == nil {
		drivers[kind] = map[string]Factory{}
	}
	drivers[kind][name] = f
}

// Drivers returns the names of the drivers registered for a kind with
// RegisterDriver, sorted (the default driver, Register's, has no name).
func Drivers(kind Kind) []string {
	factoriesMu.RLock()
	defer factoriesMu.RUnlock()
	out := make([]string, 0, len(drivers[kind]))
	for n := range drivers[kind] {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// checkDriver reports whether a driver name is registered for a kind ("" is
// the default driver, which need not be linked in yet when a catalog loads).
func checkDriver(kind Kind, name string) error {
	if name == "" {
		return nil
	}
	factoriesMu.RLock()
	_, ok := drivers[kind][name]
	factoriesMu.RUnlock()
	if ok {
		return nil
	}
	if names := Drivers(kind); len(names) > 0 {
		return fmt.Errorf("driver %q is not registered for kind %s (registered: %s)", name, kind, strings.Join(names, ", "))
	}
	return fmt.Errorf("driver %q is not registered for kind %s (this binary has no named drivers for it)", name, kind)
}

// factoryFor returns the factory of a kind's named driver, or its default
// one for "".
func factoryFor(kind Kind, driver string) Factory {
	factoriesMu.RLock()
	defer factoriesMu.RUnlock()
	if driver == "" {
		return factories[kind]
	}
	return drivers[kind][driver]
}

// RegisteredKinds returns the kinds with a registered factory or named
// driver, sorted.
func RegisteredKinds() []Kind {
	factoriesMu.RLock()
	defer factoriesMu.RUnlock()
	out := make([]Kind, 0, len(factories)+len(drivers))
	for k := range drivers {
		if _, ok := factories[k]; !ok {
			out = append(out, k)
		}
	}
	for k := range factories {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
