package backtest

import (
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/fixed"

	"github.com/yieldvault/yieldvault/vault"
)

// Result is everything one backtest produced. It is a pure function of
// the strategy, its parameters, the data and the Settings: the same inputs
// give the same Result, field for field.
//
// json.Marshal of a Result is the run's summary (summary.json): settings,
// data range, metrics, per-market statistics, attribution, benchmark
// headlines, data issues and the events applied. The per-step curve, the
// ledger, the decisions and the benchmark curves are tagged `json:"-"`:
// they are written as CSV files and charts.
type Result struct {
	Settings    Settings      `json:"settings"`
	Data        DataInfo      `json:"data"`
	Metrics     Metrics       `json:"metrics"`
	Markets     []MarketStats `json:"markets"`
	Attribution Attribution   `json:"attribution"`
	Benchmarks  []Benchmark   `json:"benchmarks"`
	DataIssues  []DataIssue   `json:"data_issues"`
	Events      []EventRecord `json:"events"`
	// Warnings are what a reader must know before trusting the figures:
	// a range clipped to the data, markets not investable in the range or
	// observable only part of it. The console, summary.json and
	// report.html each show them.
	Warnings []string `json:"warnings"`
	// Monitors are the risk monitors the run evaluated (Spec.Monitors)
	// and how often each fired; Paused says when a pause-bound one paused
	// the vault. Absent when the run evaluated none.
	Monitors []MonitorStat `json:"monitors,omitempty"`
	Paused   *MonitorPause `json:"paused,omitempty"`

	// Steps is the equity curve: one record per simulated step, in time
	// order. Step.Values are in Data.Markets order.
	Steps []Step `json:"-"`
	// Ledger is every ledger entry of the vault (orders with gas and
	// slippage, harvests, fees, events, rounding), in sequence order.
	Ledger []vault.Entry `json:"-"`
	// Decisions is every rebalance decision (scheduled and exits), with
	// its inputs, orders, reasons and rejections, in time order.
	Decisions []vault.Decision `json:"-"`
	// Harvests is every harvest the keeper ran, in time order.
	Harvests []vault.HarvestResult `json:"-"`
	// MarketCurves are each market's observed APY and peg over the run,
	// sampled for the report's charts.
	MarketCurves []MarketCurve `json:"-"`
	// MonitorEvents are the monitors' changes per market (monitors.csv),
	// in time order.
	MonitorEvents []MonitorEvent `json:"-"`
	// LoopMarkets are the universe's loop markets (markets that borrow),
	// whose figures Step.Loops holds.
	LoopMarkets []string `json:"loop_markets,omitempty"`
	// Notes are the keeper's notes per step (conditions that did not hold,
	// ticks coalesced), prefixed with the step's time, in time order.
	Notes []string `json:"-"`
}

// Settings are the inputs of a run other than the strategy's rules and
// the data: what summary.json records so that a run can be repeated.
type Settings struct {
	Strategy     string             `json:"strategy"`
	StrategyFile string             `json:"strategy_file,omitempty"`
	Universe     []string           `json:"universe"`
	Params       map[string]float64 `json:"params"` // encoding/json writes map keys sorted
	From         time.Time          `json:"from"`
	To           time.Time          `json:"to"`
	// RequestedFrom and RequestedTo are the range asked for when it
	// reached beyond the data and the run was clipped to From and To
	// (zero otherwise).
	RequestedFrom time.Time `json:"requested_from,omitzero"`
	RequestedTo   time.Time `json:"requested_to,omitzero"`
	// Step is the simulated step as users write it ("1h", "30d",
	// timefmt.Duration), or "data" when the run steps on the data's own
	// timestamps; Lookback likewise ("30d").
	Step     string          `json:"step"`
	Lookback string          `json:"lookback"`
	Capital  decimal.Decimal `json:"capital"`
	Pricing  string          `json:"pricing"` // "rate" or "market"
	// ExactSteps is set when every step was recorded at the vault's exact
	// figures (Spec.ExactSteps); otherwise the steps where the vault
	// booked nothing were recorded at its mark (Data.MarkedSteps).
	ExactSteps bool `json:"exact_steps,omitempty"`
	// GasPrice is the gas price in gwei used where the data has none.
	GasPrice float64 `json:"gas_price"`
	// GasAssetPrice is one ETH in the base asset used for gas costs where
	// the data has no ETH price (vault.GasAssetPriceAt).
	GasAssetPrice float64 `json:"gas_asset_price,omitempty"`
	// RiskFree is the annual risk-free rate (a fraction) of Sharpe and
	// Sortino.
	RiskFree float64 `json:"risk_free"`
	// Source describes the data (a database path, "embedded default
	// history", a scenario file).
	Source string       `json:"source"`
	Vault  vault.Config `json:"vault"`
}

// DataInfo describes the data a run read.
type DataInfo struct {
	// From and To are the loaded window (including the look-back before
	// the run's start).
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Markets is the universe in the strategy's order; Step.Values and
	// Result.Markets follow it.
	Markets []string `json:"markets"`
	// Rows is the number of observations loaded (all markets, look-back
	// included); Steps the number of simulated steps.
	Rows  int `json:"rows"`
	Steps int `json:"steps"`
	// MarketSteps is Steps x len(Markets): the unit of engine throughput.
	MarketSteps int `json:"market_steps"`
	// MarkedSteps is how many steps were recorded at the vault's mark
	// (Spec.ExactSteps): steps where the vault booked nothing, their
	// figures to float64 precision.
	MarkedSteps int `json:"marked_steps"`
	// Gaps is the number of gaps found (see DataIssue); forward filled.
	Gaps int `json:"gaps"`
	// Ranges is each market's rows against the run's range, in Markets
	// order: what was loaded, what is stored and from when the market
	// could be held.
	Ranges []MarketRange `json:"market_ranges"`
}

// Step is one simulated step of the equity curve.
type Step struct {
	Time time.Time `json:"time"`
	// NAV is the vault's gross assets: idle plus every position and
	// queued claim at the vault's pricing (pending rewards excluded).
	NAV Figure `json:"nav"`
	// Equity is what the investor's shares are worth: their part of the
	// vault's total assets (gross assets less locked profit), after the
	// fee shares' dilution. Return metrics are computed on Equity.
	Equity Figure `json:"equity"`
	// PricePerShare is the vault's share price (36 places).
	PricePerShare Figure          `json:"price_per_share"`
	Idle          decimal.Decimal `json:"idle"`
	// Costs is the cumulative gas + slippage + protocol fees of every
	// fill up to and including this step.
	Costs decimal.Decimal `json:"costs"`
	// Values are the position values (units at the vault's pricing plus
	// queued claims) per market, in Data.Markets order, as float64 for
	// charts and allocation statistics.
	Values []float64 `json:"values"`
	// Loops are the loop markets' figures (Result.LoopMarkets order),
	// nil when the universe has none.
	Loops []LoopPoint `json:"loops,omitempty"`
}

// Figure is a step's NAV, equity or share price, as the engine's
// fixed.Num: the vault's exact figure, or at a step recorded at the
// vault's mark (DataInfo.MarkedSteps) its float64 figure to 15
// significant digits (fixed.FromFloatSig's decimal, made into a Num
// without the decimal: fixed.FromFloatSigNum). The decimal is made when
// read (Decimal, String, JSON; Float needs none): a run records tens of
// thousands of steps and reads few of them as decimals (its metrics read
// its float64 curve), and making a decimal allocates its coefficient.
// The zero Figure is the zero decimal. Compare figures with Equal or Cmp
// (go-cmp uses Equal), not ==, which tells apart equal values of other
// exponents, as it does decimals.
type Figure struct{ n fixed.Num }

// ExactFigure is the figure of the decimal d.
func ExactFigure(d decimal.Decimal) Figure { return Figure{fixed.FromDec(d)} }

// markFigure is the figure of fixed.FromFloatSig(x).
func markFigure(x float64) Figure {
	n, _ := fixed.FromFloatSigNum(x)
	return Figure{n}
}

// markFigureFloat is markFigure(x) and the float64 of its decimal
// (fixed.ToFloat), which a marked step's curve records.
func markFigureFloat(x float64) (Figure, float64) {
	n, f := fixed.FromFloatSigNum(x)
	return Figure{n}, f
}

// Decimal is the figure as a decimal (made at each call): the same
// coefficient and exponent as the vault's decimal or fixed.FromFloatSig's.
func (f Figure) Decimal() decimal.Decimal { return f.n.Dec() }

// String is the decimal's String.
func (f Figure) String() string { return f.Decimal().String() }

// Float is the decimal's InexactFloat64 (the nearest float64), to the
// bit, without making the decimal (fixed.Num.Float).
func (f Figure) Float() float64 { return f.n.Float() }

// MarshalJSON is the decimal's (a JSON string, as decimal.Decimal's).
func (f Figure) MarshalJSON() ([]byte, error) { return f.Decimal().MarshalJSON() }

// UnmarshalJSON reads what MarshalJSON writes (and a JSON number, as
// decimal.Decimal does; null leaves the figure as it is, as it leaves a
// decimal): a step read back from a run's JSON holds the value it was
// written from, as a decimal field would (the text drops trailing zeros,
// so the exponent is the text's).
func (f *Figure) UnmarshalJSON(b []byte) error { return f.n.UnmarshalJSON(b) }

// MarshalText is the decimal's text (encoders of text: YAML, CSV, keys).
func (f Figure) MarshalText() ([]byte, error) { return f.Decimal().MarshalText() }

// UnmarshalText reads what MarshalText writes.
func (f *Figure) UnmarshalText(b []byte) error {
	var d decimal.Decimal
	if err := d.UnmarshalText(b); err != nil {
		return err
	}
	*f = ExactFigure(d)
	return nil
}

// Equal reports whether f and g are the same value (of any exponents).
func (f Figure) Equal(g Figure) bool { return f.n.Equal(g.n) }

// Cmp is -1, 0 or +1 as f is less than, equal to or greater than g.
func (f Figure) Cmp(g Figure) int { return f.n.Cmp(g.n) }

// LoopPoint is a loop position's leverage, health factor and distance to
// liquidation (the fall of the collateral's oracle price that liquidates
// it) at a step; all zero while the vault holds none of it, and a health
// factor of 0 (and a drop of 1) without debt.
type LoopPoint struct {
	Leverage        float64 `json:"leverage"`
	HealthFactor    float64 `json:"health_factor"`
	LiquidationDrop float64 `json:"liquidation_drop"`
}

// Headline are the metrics every equity curve gets, the strategy's and
// each benchmark's. All are float64 analytics computed from the curve's
// values V_0..V_n at times t_0..t_n (n steps):
//
//   - TotalReturn = V_n / V_0 - 1.
//   - Years = (t_n - t_0) / 365 days, the exact elapsed time.
//   - APY = (V_n / V_0)^(1 / Years) - 1: annualised with 365-day years; 0
//     when Years is 0, -1 when V_n is 0.
//   - StepsPerYear = n / Years: the number of steps a year holds at the
//     run's average step.
//   - Volatility = stdev(r) x sqrt(StepsPerYear), where r_i = ln(V_i /
//     V_(i-1)) are the per-step log returns and stdev is the sample
//     standard deviation (n - 1 denominator); 0 with fewer than 2 returns.
//   - Sharpe = (mean(r) x StepsPerYear - ln(1 + RiskFree)) / Volatility:
//     the annualised mean log return over the continuously compounded
//     risk-free rate, per unit of annualised volatility; undefined (0)
//     when Volatility is below RatioFloor (0.1%).
//   - Sortino = the same excess return / DownsideDeviation, where
//     DownsideDeviation = sqrt(sum(min(0, r_i - rf_step)^2) / (n - 1)) x
//     sqrt(StepsPerYear), with rf_step = ln(1 + RiskFree) /
//     StepsPerYear; undefined (0) when DownsideDeviation is below
//     RatioFloor.
//   - MaxDrawdown = max over i of 1 - V_i / max(V_0..V_i), a fraction >=
//     0. DrawdownPeak is the time of the running maximum before the
//     deepest trough, DrawdownTrough the time of that trough, and
//     DrawdownRecovery the first time after the trough the curve is back
//     at or above the peak's value (zero when it never recovers; zero
//     times are omitted from JSON).
//   - Calmar = APY / MaxDrawdown; undefined (0) when MaxDrawdown is below
//     RatioFloor.
//
// Every figure is finite (undefined ratios are 0, never NaN), so a
// Result always encodes as JSON.
type Headline struct {
	StartValue        float64   `json:"start_value"`
	EndValue          float64   `json:"end_value"`
	TotalReturn       float64   `json:"total_return"`
	Years             float64   `json:"years"`
	APY               float64   `json:"apy"`
	StepsPerYear      float64   `json:"steps_per_year"`
	Volatility        float64   `json:"volatility"`
	Sharpe            float64   `json:"sharpe"`
	DownsideDeviation float64   `json:"downside_deviation"`
	Sortino           float64   `json:"sortino"`
	MaxDrawdown       float64   `json:"max_drawdown"`
	DrawdownPeak      time.Time `json:"drawdown_peak,omitzero"`
	DrawdownTrough    time.Time `json:"drawdown_trough,omitzero"`
	DrawdownRecovery  time.Time `json:"drawdown_recovery,omitzero"`
	Calmar            float64   `json:"calmar"`
}

// Metrics are the strategy's analytics: the Headline on its Equity curve
// plus trading, cost and allocation statistics.
//
//   - Traded is the sum of the base amounts of every buy, sell and queued
//     exit (Entry.Amount; harvest compounding deposits included).
//     Turnover = Traded / average Equity over the steps; TurnoverAnnual =
//     Turnover / Years (0 when Years is 0).
//   - Gas, Slippage and ProtocolFees are summed over every fill of the
//     ledger (orders, claims, harvests): decimal, in base units.
//     VaultFees is the value at the end of the fee shares minted to the
//     fee recipient (management and performance fees). Rounding is the
//     adapters' unit rounding the vault booked as "rounding" costs.
//   - Rebalances counts executed rebalance decisions with at least one
//     fill (scheduled or exits); Decisions every decision taken; Exits the
//     decisions taken by the exit rule; Harvests the harvests that
//     claimed at least one market; Orders the fills.
//   - HHI is the time average over steps of sum_m w_m^2, with w_m =
//     Values_m / NAV (idle excluded; a fully idle step counts 0).
type Metrics struct {
	Headline
	StartNAV       decimal.Decimal `json:"start_nav"`
	EndNAV         decimal.Decimal `json:"end_nav"`
	StartEquity    decimal.Decimal `json:"start_equity"`
	EndEquity      decimal.Decimal `json:"end_equity"`
	PnL            decimal.Decimal `json:"pnl"` // EndEquity - StartEquity
	Traded         decimal.Decimal `json:"traded"`
	Turnover       float64         `json:"turnover"`
	TurnoverAnnual float64         `json:"turnover_annual"`
	Gas            decimal.Decimal `json:"gas"`
	Slippage       decimal.Decimal `json:"slippage"`
	ProtocolFees   decimal.Decimal `json:"protocol_fees"`
	VaultFees      decimal.Decimal `json:"vault_fees"`
	Rounding       decimal.Decimal `json:"rounding"`
	Decisions      int             `json:"decisions"`
	Rebalances     int             `json:"rebalances"`
	Exits          int             `json:"exits"`
	Harvests       int             `json:"harvests"`
	Orders         int             `json:"orders"`
	HHI            float64         `json:"hhi"`
	// Relevers counts the loop relevers (and deleverages) executed;
	// Liquidations the protocol liquidations of loops, LiquidationLoss
	// the equity they cost.
	Relevers        int             `json:"relevers"`
	Liquidations    int             `json:"liquidations"`
	LiquidationLoss decimal.Decimal `json:"liquidation_loss"`
}

// MarketStats are one market's statistics over the run.
//
//   - TimeInMarket is the share of steps at which the market's value
//     (Step.Values) is > 0; AvgWeight the time average of its weight
//     (value / NAV); MaxWeight the largest.
//   - PnL is the market's yield attribution (see Attribution).
//   - Gas, Slippage and Fees are the costs of the market's fills; Bought
//     and Sold the base amounts that went in and came out (sells, claims
//     and harvest proceeds); EventLoss the value lost to events.
type MarketStats struct {
	Market       string          `json:"market"`
	TimeInMarket float64         `json:"time_in_market"`
	AvgWeight    float64         `json:"avg_weight"`
	MaxWeight    float64         `json:"max_weight"`
	EndValue     decimal.Decimal `json:"end_value"`
	PnL          decimal.Decimal `json:"pnl"`
	Bought       decimal.Decimal `json:"bought"`
	Sold         decimal.Decimal `json:"sold"`
	Harvested    decimal.Decimal `json:"harvested"`
	Gas          decimal.Decimal `json:"gas"`
	Slippage     decimal.Decimal `json:"slippage"`
	Fees         decimal.Decimal `json:"fees"`
	EventLoss    decimal.Decimal `json:"event_loss"`
}

// Attribution splits the investor's profit by source, exactly (decimal):
//
//	Total = sum(Markets) + Idle - VaultFees - Locked - Dust
//
// A market's PnL is its end value (units at the vault's pricing plus
// queued claims) plus every base amount it returned to idle (sells,
// claims, harvest proceeds) minus every base amount idle spent on it
// (buys): the value it gained net of its own entry, exit and harvest
// costs and event losses. Idle is what idle gained other than through the
// markets (0 in a backtest: idle earns nothing). Their sum is the change
// in NAV, EndNAV - StartNAV, and the engine checks that identity to the
// last unit. VaultFees is the end value of the fee shares, Locked the
// harvested profit still locking at the end, and Dust the share of the
// virtual-share offset and conversion rounding (a few units at most).
type Attribution struct {
	Markets   []MarketPnL     `json:"markets"`
	Idle      decimal.Decimal `json:"idle"`
	VaultFees decimal.Decimal `json:"vault_fees"`
	Locked    decimal.Decimal `json:"locked"`
	Dust      decimal.Decimal `json:"dust"`
	// NAVChange is EndNAV - StartNAV = sum(Markets) + Idle.
	NAVChange decimal.Decimal `json:"nav_change"`
	// Total is EndEquity - StartEquity, the investor's profit.
	Total decimal.Decimal `json:"total"`
}

// MarketPnL is one market's share of the profit.
type MarketPnL struct {
	Market string          `json:"market"`
	PnL    decimal.Decimal `json:"pnl"`
}

// Benchmark is a passive alternative computed in the same run on the same
// data: holding one market, an equal-weight buy and hold, or the best
// single market in hindsight.
type Benchmark struct {
	// Name is "hold <market>", "equal_weight" or "best_single".
	Name string `json:"name"`
	// Kind is "hold", "equal_weight" or "best_single".
	Kind string `json:"kind"`
	// Markets are the markets held (one for hold and best_single).
	Markets []string `json:"markets"`
	// EntryCost is the base asset lost on entry (gas, slippage, fees).
	EntryCost decimal.Decimal `json:"entry_cost"`
	Metrics   Headline        `json:"metrics"`
	// Note says how the benchmark differs from a plain hold from the
	// start: an entry after the start (its market's data starts later;
	// its metrics then run from the entry), a deposit the strategy's pool
	// size limit (max_share_of_tvl) cut short, markets held idle.
	Note string `json:"note,omitempty"`
	// NotInvestable, when set, is why the benchmark could not be held at
	// all (no data in the range, a pool too small for any deposit, a
	// failed entry): its curve is flat at the capital and its metrics mean
	// nothing; reports show the reason instead of figures.
	NotInvestable string `json:"not_investable,omitempty"`
	// From is when the benchmark entered (omitted when at the run's
	// start).
	From time.Time `json:"from,omitzero"`
	// Curve is the benchmark's value at each step: Curve[k] at the time of
	// Result.Steps[k] (one value per step; plain float64s, so that the
	// curves of a long run cost the garbage collector nothing to scan).
	Curve []float64 `json:"-"`
}

// Data issue kinds.
const (
	IssueGap       = "gap"        // a market's rows are further apart than GapFactor median steps: forward filled
	IssueLate      = "late_start" // a market's first row is after the run's start: it is not observable before
	IssueEarlyEnd  = "early_end"  // a market's last row is before the run's end: its last row is carried to the end
	IssueNoData    = "no_data"    // a market has no row in the window at all
	IssueSkipEvent = "event"      // an event could not be applied (the reason is in Note)
)

// DataIssue is a problem in the data a run read, and how the engine
// handled it.
type DataIssue struct {
	Kind   string    `json:"kind"`
	Market string    `json:"market"`
	From   time.Time `json:"from,omitzero"`
	To     time.Time `json:"to,omitzero"`
	// Steps is the number of simulated steps the issue covers (steps at
	// which the market's observation was carried forward, for gaps).
	Steps int    `json:"steps"`
	Note  string `json:"note"`
}

// EventRecord is a market event the run applied.
type EventRecord struct {
	Time   time.Time       `json:"time"`
	Market string          `json:"market"`
	Type   string          `json:"type"`
	Size   float64         `json:"size"`
	Scope  string          `json:"scope,omitempty"`
	Note   string          `json:"note,omitempty"`
	Loss   decimal.Decimal `json:"loss"` // value the vault lost
}

// Param is one swept parameter and the values it takes.
type Param struct {
	Name   string    `json:"name"`
	Values []float64 `json:"values"`
}

// SweepRun is one point of a sweep's grid and what became of it.
type SweepRun struct {
	// Index is the point's position in the grid's deterministic order
	// (see Grid); Key names it ("max_lrt=0.3,min_peg=0.99", names sorted).
	Index  int                `json:"index"`
	Key    string             `json:"key"`
	Params map[string]float64 `json:"params"`
	// Skipped is set when the finished-marker predicate said the point
	// had already run: Result is nil and Metrics zero.
	Skipped bool `json:"skipped,omitempty"`
	// Err is the run's error message ("" on success); a failed point does
	// not stop the sweep.
	Err     string  `json:"error,omitempty"`
	Metrics Metrics `json:"metrics"`
	// Objective is the value of the sweep's objective metric; Undefined
	// is set when that metric is an undefined ratio (ObjectiveDefined):
	// Objective is then 0 and the run ranks after every defined one.
	Objective float64 `json:"objective"`
	Undefined bool    `json:"objective_undefined,omitempty"`
	// Result is the run's full result; the sweep drops it after the write
	// callback unless SweepSpec.KeepResults is set.
	Result *Result `json:"-"`
}
