package backtest

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
	"github.com/yieldvault/yieldvault/fixed"
	"github.com/yieldvault/yieldvault/internal/timefmt"
	"github.com/yieldvault/yieldvault/strategies"
	"github.com/yieldvault/yieldvault/vault"
	"github.com/yieldvault/yieldvault/vault/monitor"
)

// Users of the simulated vault.
const (
	// Investor is the user whose deposit of Spec.Capital at the start is
	// the run's capital; return metrics follow the value of its shares.
	Investor = "investor"
	// FeeRecipient receives the vault's fee shares.
	FeeRecipient = "fees"
)

// Defaults of a Spec's zero fields.
const (
	// DefaultLookback is the history loaded before the start for the
	// strategy's look-back windows when Spec.Lookback is zero.
	DefaultLookback = 30 * 24 * time.Hour
	// DefaultRebalance and DefaultHarvest are the keeper's schedules for
	// strategies that carry none (Go strategies).
	DefaultRebalance = "@daily"
	DefaultHarvest   = "@weekly"
	// DefaultGasPrice is the gas price in gwei where the data has none.
	DefaultGasPrice = 10.0
)

// DefaultGasAssetPrice is the value of one ETH (the gas token) in a vault's
// base asset when the data cannot tell and Spec.GasAssetPrice is zero:
// vault.DefaultGasAssetPrice (1 for ETH; for USD and BTC vaults the
// reference prices vault.RefETHUSD and vault.RefETHBTC), stated in the
// run's settings.
func DefaultGasAssetPrice(base adapters.Asset) float64 {
	return vault.DefaultGasAssetPrice(base)
}

// Loader loads the history of markets over [from, to]; *history.DB is
// one.
type Loader interface {
	Load(ctx context.Context, ids []string, from, to time.Time) (*adapters.Window, error)
}

// Spec is one backtest: a strategy, its data and the settings.
type Spec struct {
	// Strategy plans the vault (a rules strategy or a Go strategy). Its
	// parameters are already applied (Params records them).
	Strategy strategies.Strategy
	// Universe is the vault's markets in the strategy's order. Empty means
	// the strategy's own (rules strategies and anything with a
	// Universe() []string method).
	Universe []string
	// Catalog supplies the markets and protocol profiles; nil means
	// adapters.Builtin(). The adapters' kinds must be linked in
	// (adapters/all).
	Catalog *adapters.Catalog
	// Data is the history, already loaded (with its look-back). When nil,
	// Loader loads [From - Lookback, To].
	Data   *adapters.Window
	Loader Loader
	// Lookback is the history before From the strategy's windows may read
	// (used when loading; zero means DefaultLookback).
	Lookback time.Duration
	// From and To bound the run; zero means the first (last) row of the
	// universe in Data.
	From, To time.Time
	// Step is the simulated step; zero steps on the data's own timestamps
	// (the union of the universe's row times in [From, To], plus From).
	Step time.Duration
	// Capital is the investor's deposit at From, in base units (> 0).
	Capital decimal.Decimal
	// Pricing values positions (rate or market); it overrides Vault's.
	Pricing adapters.Pricing
	// ExactSteps brings the vault to every step and records each at its
	// exact figures. By default a step where the vault books nothing (no
	// task due, no event, no exit, no claim ready, no debt) is recorded
	// at the vault's mark: its positions valued from their last exact
	// values and their markets' moves since, in float64 (vault.MarkAt),
	// which is much faster and agrees with the exact figures to float64
	// precision (recorded to 15 significant digits). Fees are charged at the vault's operations
	// either way.
	ExactSteps bool
	// GasPrice (gwei) is used while no market's observation carries one;
	// zero means DefaultGasPrice. A negative value means free gas.
	GasPrice float64
	// GasAssetPrice is one ETH in the base asset where the data cannot
	// tell; zero means DefaultGasAssetPrice(base). The data tells when
	// Data holds an ETH market's base_usd next to one of the base's
	// (vault.GasAssetPriceAt): Data may hold such a market beyond the
	// universe (LoadUniverse with it), which is read, never traded.
	GasAssetPrice float64
	// Vault overrides the vault's configuration (fees, profit unlock,
	// thresholds). Nil means DefaultVaultConfig.
	Vault *vault.Config
	// MinGainOverCost, when set, overrides the rebalancer's
	// MinGainOverCost (the strategy's rebalance.min_gain_over_cost or the
	// vault's default): a buy must expect to earn this multiple of its
	// cost over the holding horizon; 0 turns the test off.
	MinGainOverCost *float64
	// Rebalance and Harvest are cron specs for strategies without their
	// own schedules; empty means DefaultRebalance and DefaultHarvest.
	Rebalance, Harvest string
	// RiskFree is the annual risk-free rate of Sharpe and Sortino.
	RiskFree float64
	// Params are the strategy's parameters (recorded in the settings).
	Params map[string]float64
	// Source describes the data, for the summary.
	Source string
	// DataRanges are the stored ranges of the universe's markets (all of
	// their rows, not only the loaded window), when known (StoredRanges):
	// a market with no row in the run's range is reported with its data's
	// range.
	DataRanges map[string]DataRange
	// Monitors are the vault's risk monitors (vault/monitor, compiled over
	// the universe), evaluated at every step as the service evaluates them
	// in every rebalance and exit check, with the same bindings: an
	// exit-bound monitor's markets join the strategy's exits for the step
	// (the exit check sells them through the Runner, a rebalance buys none
	// of them), a pause-bound one pauses the vault for the rest of the run.
	// Their firings are in Result.Monitors and MonitorEvents. Nil: none.
	Monitors []monitor.Monitor
	// Progress, when set, is called every ProgressEvery steps and after
	// the last one with the run's progress (for progress bars). It must
	// not keep the Progress's NAV beyond the call's needs; it cannot
	// change the run.
	Progress func(Progress)

	// shared, set by Sweep, holds the benchmarks its points have in common.
	shared *sharedBench
	// noBenchmarks, set by MonteCarlo, skips the benchmark track: a path
	// reads only the strategy's metrics, ledger and equity, and the track
	// (about a tenth of a path's CPU) would run on a goroutine of its own,
	// on the core a second worker needs. Result.Benchmarks is then empty.
	noBenchmarks bool
}

// DefaultVaultConfig is the vault a backtest runs when Spec.Vault is nil:
// vault.DefaultConfig without management and performance fees, profit
// unlocking or idle floor, so that the strategy's own allocation (and its
// idle constraint) decides and its returns compare with the benchmarks'.
// The strategy's rebalance thresholds (strategies.Thresholder: a rules file's, a Go strategy's) apply: min_trade (a fraction of
// NAV) becomes MinTrade at the capital, max_gas_price the gas gate.
func DefaultVaultConfig(s strategies.Strategy, base adapters.Asset, capital decimal.Decimal) vault.Config {
	name := "backtest"
	if s != nil {
		name = s.Name()
	}
	cfg := vault.DefaultConfig(name, base)
	cfg.ManagementFee, cfg.PerformanceFee, cfg.ProfitUnlock, cfg.IdleFloor = 0, 0, 0, 0
	cfg.FeeRecipient = FeeRecipient
	if th, ok := s.(strategies.Thresholder); ok {
		t := th.Thresholds()
		if t.MinTrade > 0 {
			cfg.Rebalance.MinTrade = adapters.Quantize(capital.Mul(adapters.FromFloat(t.MinTrade)))
		}
		cfg.Rebalance.MaxGasPrice = t.MaxGasPrice
		if t.HasMinGainOverCost {
			cfg.Rebalance.MinGainOverCost = t.MinGainOverCost
		}
	}
	return cfg
}

// UniverseOf returns a strategy's universe when it has one (a
// Universe() []string method), else nil.
func UniverseOf(s strategies.Strategy) []string {
	if u, ok := s.(interface{ Universe() []string }); ok {
		return u.Universe()
	}
	return nil
}

// Load loads a strategy's universe once over [from - lookback, to]: the
// run's range plus the warm-up its look-back windows read. Zero lookback
// means DefaultLookback. An unknown market is KindNotFound; an empty
// range, or a range with no data, is KindInvalid naming the data's range
// when the loader can tell it (*history.DB can).
func Load(ctx context.Context, db Loader, s strategies.Strategy, from, to time.Time, lookback time.Duration) (*adapters.Window, error) {
	return LoadUniverse(ctx, db, UniverseOf(s), from, to, lookback)
}

// LoadUniverse is Load for an explicit universe.
func LoadUniverse(ctx context.Context, db Loader, universe []string, from, to time.Time, lookback time.Duration) (*adapters.Window, error) {
	const op = "backtest.Load"
	if db == nil {
		return nil, adapters.E(op, adapters.KindInvalid, "no history to load from")
	}
	if len(universe) == 0 {
		return nil, adapters.E(op, adapters.KindInvalid, "empty universe")
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return nil, adapters.E(op, adapters.KindInvalid, "empty range: from %s is not before to %s", fmtTime(from), fmtTime(to))
	}
	if lookback == 0 {
		lookback = DefaultLookback
	}
	if lookback < 0 {
		return nil, adapters.E(op, adapters.KindInvalid, "negative look-back %s", lookback)
	}
	lo := from
	if !from.IsZero() {
		lo = from.Add(-lookback)
	}
	w, err := db.Load(ctx, universe, lo, to)
	if err != nil {
		return nil, err
	}
	if w.Rows() == 0 {
		return nil, adapters.E(op, adapters.KindInvalid, "no data for %v in %s .. %s%s", universe, fmtTime(lo), fmtTime(to), dataRange(ctx, db, universe))
	}
	return w, nil
}

// dataRange describes the stored range of the universe, when the loader
// can list its markets.
func dataRange(ctx context.Context, db Loader, universe []string) string {
	h, ok := db.(interface {
		Markets(ctx context.Context) ([]history.MarketInfo, error)
	})
	if !ok {
		return ""
	}
	infos, err := h.Markets(ctx)
	if err != nil {
		return ""
	}
	want := map[string]bool{}
	for _, id := range universe {
		want[id] = true
	}
	var first, last time.Time
	for _, in := range infos {
		if !want[in.Market.ID] || in.Rows == 0 {
			continue
		}
		if first.IsZero() || in.First.Before(first) {
			first = in.First
		}
		if in.Last.After(last) {
			last = in.Last
		}
	}
	if first.IsZero() {
		return " (the database has no rows for these markets)"
	}
	return fmt.Sprintf(" (the data covers %s .. %s)", fmtTime(first), fmtTime(last))
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "(unbounded)"
	}
	return t.UTC().Format(time.RFC3339)
}

// cursor walks a market's series forward: row is the latest row at or
// before the time it was last moved to (-1 before the first), *obs that
// row's observation, written where its reader keeps it (a benchmark
// hold's environment), so that no copy is made; a cursor with a nil obs
// only moves its row (the engine's feed, which the vault reads itself:
// Vault.ObserveStep).
type cursor struct {
	ser *adapters.Series
	row int
	obs *adapters.Observation
	// fields are the series' columns (the fields fill copies; the others
	// stay zero in obs).
	fields []adapters.Field
	// lazy: seek only moves the row and marks obs stale; sync fills it
	// when it is read (a benchmark hold whose steps read a few columns of
	// the row directly).
	lazy, stale bool
	// aligned: the series has exactly one row at each of the run's step
	// times and none between them, row base at the first step (align):
	// the row at step k is base + k, with no look at the series' times.
	aligned bool
	base    int
}

// align records whether the series' rows are the run's step times (see
// cursor.aligned).
func (c *cursor) align(times []int64) {
	c.aligned = false
	if len(times) == 0 {
		return
	}
	b := c.ser.Index(times[0])
	if b < 0 || b+len(times) > c.ser.Len() {
		return
	}
	c.aligned, c.base = slices.Equal(c.ser.Times[b:b+len(times)], times), b
}

// seekStep is seek to the run's step k at time t: the row is base + k when
// the cursor is aligned (the rows only move forward: an event between
// two steps moved them at most to base + k).
func (c *cursor) seekStep(k int, t int64) bool {
	if !c.aligned {
		return c.seek(t)
	}
	return c.moveTo(c.base + k)
}

// newCursor returns a cursor over ser that fills obs, which must be zero
// (or nil: none).
func newCursor(ser *adapters.Series, obs *adapters.Observation) cursor {
	c := cursor{ser: ser, row: -1, obs: obs}
	for f := range ser.Cols {
		if ser.Cols[f] != nil {
			c.fields = append(c.fields, adapters.Field(f))
		}
	}
	return c
}

// seek moves the row to the latest at or before t and fills obs when it
// changed, which it reports.
func (c *cursor) seek(t int64) bool {
	r := c.row
	n := len(c.ser.Times)
	for r+1 < n && c.ser.Times[r+1] <= t {
		r++
	}
	return c.moveTo(r)
}

// moveTo makes r the cursor's row and fills obs (or marks a lazy cursor
// stale) when it changed, which it reports.
func (c *cursor) moveTo(r int) bool {
	if r == c.row {
		return false
	}
	c.row = r
	switch {
	case c.lazy:
		c.stale = true
	case c.obs != nil:
		c.fill(r)
	}
	return true
}

// sync fills a lazy cursor's obs with its row, if it is stale.
func (c *cursor) sync() {
	if c.stale {
		c.fill(c.row)
		c.stale = false
	}
}

// value is field f at the cursor's row (>= 0) as fill writes it into obs:
// the column's value, 0 where the series has no such column.
func (c *cursor) value(f adapters.Field) float64 {
	if col := c.ser.Cols[f]; col != nil {
		return col[c.row]
	}
	return 0
}

// fill writes row r of the series into obs: Series.Fill for the series'
// own columns only (obs starts zero and no other field is ever written).
func (c *cursor) fill(r int) {
	o, s := c.obs, c.ser
	o.Time = time.Unix(s.Times[r], 0).UTC()
	o.Set = s.Set[r]
	o.Derived = s.Derived & s.Set[r]
	for _, f := range c.fields {
		o.Values[f] = s.Cols[f][r]
	}
}

// market is one market of a run: its adapter and its cursor over the
// series (the vault's feed: the vault reads the row, Vault.ObserveStep).
type market struct {
	id string
	ad *adapters.Adapter
	cursor
	// grow is the market's column in the run's growth table (-1: none).
	grow int
}

// engine is one run's state.
type engine struct {
	warnedExp map[string]bool // market + scope pairs warnExposure has warned of
	spec      Spec
	op        string
	v         *vault.Vault
	runner    *vault.Runner
	markets   []*market
	gasM      int       // first market whose series carries gas prices, or -1
	gasMs     []*market // the markets whose series carry gas prices, in universe order
	gas       float64
	gasAsst   float64 // one ETH in the base where the data cannot tell
	// data is the window, read for the gas asset price when gasData.
	data    *adapters.Window
	gasData bool
	exitAll bool // the strategy may exit: run the exit check at every step
	mon     monitorRun
	next    time.Time

	times []int64 // step times
	// growth is the markets' growth over each step (nil: no market's
	// driver computes one), read by the vault's accruals and the
	// benchmark holds'.
	growth *growthTable
	// feed is the vault's feed of a step (Vault.ObserveStep): each
	// market's series and its growth column, set once, and the step's
	// rows and growths, which advanceStep writes.
	feed vault.StepFeed
	// book values the positions at the steps recorded at the vault's
	// mark (recordMark).
	book     *markBook
	claimBuf []float64 // the queued claims per market at the last exact step
	// touched is set when an event was applied at the current step: the
	// step is then recorded at the vault's exact figures.
	touched bool
	events  []adapters.Event
	nextEv  int
	shares  decimal.Decimal
	// sharesN is shares as a fixed.Num (the investor's equity at an exact
	// step); sharesF as a float64 (at a mark).
	sharesN fixed.Num
	sharesF float64
	// startEquity is the investor's equity right after the deposit,
	// before the initial allocation's costs.
	startEquity decimal.Decimal
	ledgerAt    int

	res  *Result
	slab []float64
	// curve is the recorded steps' NAV and equity in float64.
	curve stepCurve
	// loopSlab holds the steps' loop figures still to record (Step.Loops).
	loopSlab []LoopPoint
	// costs is the cumulative cost of the ledger's entries (booked), a
	// fixed.Num, whose Add is decimal's without its allocation per entry;
	// costsDec is it as the decimal the steps record, built when it
	// changes.
	costs    fixed.Num
	costsDec decimal.Decimal
	issues   []DataIssue

	// bench computes the benchmarks (benchTrack) on a goroutine of its
	// own, or is nil when another run of a sweep computes them (shared).
	bench     *benchTrack
	benchDone chan struct{}
	// exactBench computes the benchmark holds with a decimal Accrue and
	// Value per market and step instead of the float64 path (the
	// reference the tests compare the float64 path with).
	exactBench bool
	// stepwiseBench takes every benchmark step with stepMarket, never
	// benchTrack.stepHeld (the reference the tests compare stepHeld with).
	stepwiseBench bool
	// noExiter plans at every step for the exit check even when the
	// strategy is a strategies.Exiter (vault.Runner.PlanExits: the
	// reference the tests compare the exit-check path with).
	noExiter bool
}

// Run runs one backtest. It steps through the times of the range: at each
// step every market's latest observation at or before the time is fed to
// the vault (each series' row pointer only moves forward), events whose
// time has come are applied through vault.ApplyEvent at their own time,
// and the vault's Runner runs the keeper's due tasks (harvest, rebalance,
// exit check) on the simulated clock. The vault starts with Capital
// deposited by Investor at From and an initial rebalance to the
// strategy's first target (the rebalance condition is not consulted for
// it). Strategies see the history through State.Series and Row (rows
// after the step's time are beyond Row).
//
// A strategy without an exit rule (HasExitRule() false) is planned only
// on rebalance ticks. Between ticks the engine runs the keeper's exit
// check alone (vault.Runner.ExitCheck): a strategies.Exiter has its exit
// rule evaluated alone and is planned in full only when it lists a market
// the vault holds; any other strategy is planned at every step. Both give
// the same Result.
//
// The gas price is the first market's (in universe order) whose latest
// observation carries one, else Spec.GasPrice; the gas asset price comes
// from the data when Data holds an ETH market's base_usd (see
// Spec.GasAssetPrice), else Spec.GasAssetPrice: as vault.ObserveWindow
// sets them. Events are applied at their own times after that time's
// observations, as vault.FeedWindow applies them (and the events at
// exactly From too, before the deposit).
//
// Errors: a market of the universe missing from the data is KindNotFound
// naming it; an empty range, a range outside the data (naming the data's
// range), a non-positive capital or a step that yields no times is
// KindInvalid. Gaps in a market's history are forward filled (the latest
// row carries on) and reported in Result.DataIssues.
func Run(ctx context.Context, spec Spec) (*Result, error) {
	return runEngine(ctx, &engine{spec: spec, op: "backtest.Run", gasM: -1})
}

func runEngine(ctx context.Context, e *engine) (*Result, error) {
	if err := e.setup(ctx); err != nil {
		return nil, err
	}
	defer e.stopBenchmarks()
	if err := e.run(ctx); err != nil {
		return nil, err
	}
	if err := e.finish(); err != nil {
		return nil, err
	}
	return e.res, nil
}

func (e *engine) errf(kind adapters.ErrorKind, format string, args ...any) error {
	return adapters.E(e.op, kind, format, args...)
}

func (e *engine) setup(ctx context.Context) error {
	sp := &e.spec
	if sp.Strategy == nil {
		return e.errf(adapters.KindInvalid, "no strategy")
	}
	if sp.Capital.Sign() <= 0 {
		return e.errf(adapters.KindInvalid, "capital %s must be > 0", sp.Capital)
	}
	if sp.Step < 0 {
		return e.errf(adapters.KindInvalid, "negative step %s", sp.Step)
	}
	if math.IsNaN(sp.RiskFree) || math.IsInf(sp.RiskFree, 0) || sp.RiskFree <= -1 {
		return e.errf(adapters.KindInvalid, "risk-free rate %g is not a finite rate above -100%%", sp.RiskFree)
	}
	universe := sp.Universe
	if len(universe) == 0 {
		universe = UniverseOf(sp.Strategy)
	}
	if len(universe) == 0 {
		return e.errf(adapters.KindInvalid, "strategy %s has no universe: set Spec.Universe", sp.Strategy.Name())
	}
	cat := sp.Catalog
	if cat == nil {
		cat = adapters.Builtin()
	}
	w := sp.Data
	if w == nil {
		if sp.Loader == nil {
			return e.errf(adapters.KindInvalid, "no data: set Spec.Data or Spec.Loader")
		}
		var err error
		if w, err = LoadUniverse(ctx, sp.Loader, universe, sp.From, sp.To, sp.Lookback); err != nil {
			return err
		}
	}
	// Markets, adapters and series.
	var base adapters.Asset
	ads := make([]*adapters.Adapter, len(universe))
	seen := map[string]bool{}
	for i, id := range universe {
		if seen[id] {
			return e.errf(adapters.KindInvalid, "market %s is in the universe twice", id)
		}
		seen[id] = true
		ser := w.Get(id)
		if ser == nil {
			return e.errf(adapters.KindNotFound, "market %s is not in the data (it holds %s)", id, windowIDs(w))
		}
		ad, err := adapters.Open(cat, id)
		if err != nil {
			return adapters.Wrap(e.op, adapters.KindOf(err), fmt.Errorf("market %s: %w", id, err))
		}
		if i == 0 {
			base = ad.Market().Base
		}
		ads[i] = ad
		m := &market{id: id, ad: ad, cursor: newCursor(ser, nil)}
		e.markets = append(e.markets, m)
		if ser.Cols[adapters.FieldGasPrice] != nil {
			if e.gasM < 0 {
				e.gasM = i
			}
			e.gasMs = append(e.gasMs, m)
		}
	}
	// Range.
	first, last := int64(math.MaxInt64), int64(math.MinInt64)
	for _, m := range e.markets {
		if n := m.ser.Len(); n > 0 {
			first, last = min(first, m.ser.Times[0]), max(last, m.ser.Times[n-1])
		}
	}
	if first > last {
		return e.errf(adapters.KindInvalid, "the data has no rows for %v", universe)
	}
	from, to := sp.From, sp.To
	if from.IsZero() {
		from = time.Unix(first, 0).UTC()
	}
	if to.IsZero() {
		to = time.Unix(last, 0).UTC()
	}
	from, to = from.UTC(), to.UTC()
	if !from.Before(to) {
		return e.errf(adapters.KindInvalid, "empty range: from %s is not before to %s", fmtTime(from), fmtTime(to))
	}
	if from.Unix() > last || to.Unix() < first {
		return e.errf(adapters.KindInvalid, "range %s .. %s is outside the data, which covers %s .. %s",
			fmtTime(from), fmtTime(to), fmtTime(time.Unix(first, 0)), fmtTime(time.Unix(last, 0)))
	}
	// A range that reaches beyond the data is clipped to it, loudly: years
	// without a row would average the APY over time nobody could invest.
	var warns []string
	reqFrom, reqTo := from, to
	if from.Unix() < first {
		from = unixUTC(first)
		warns = append(warns, fmt.Sprintf("range clipped: the start %s is before the data, which starts %s; the run starts there",
			fmtDate(reqFrom), fmtDate(from)))
	}
	if to.Unix() > last {
		to = unixUTC(last)
		warns = append(warns, fmt.Sprintf("range clipped: the end %s is after the data, which ends %s; the run ends there",
			fmtDate(reqTo), fmtDate(to)))
	}
	if !from.Before(to) {
		return e.errf(adapters.KindInvalid, "range %s .. %s holds a single instant of the data (%s)", fmtTime(reqFrom), fmtTime(reqTo), fmtTime(from))
	}
	sp.From, sp.To = from, to
	e.times = stepTimes(e.markets, from.Unix(), to.Unix(), sp.Step)
	for _, m := range e.markets {
		m.align(e.times)
	}
	e.growth = newGrowthTable(e.markets, e.times)
	if len(e.times) < 2 {
		return e.errf(adapters.KindInvalid, "range %s .. %s with step %s gives fewer than 2 steps", fmtTime(from), fmtTime(to), sp.Step)
	}
	// Vault.
	var cfg vault.Config
	if sp.Vault != nil {
		cfg = *sp.Vault
		if cfg.Base == "" {
			cfg.Base = base
		}
		if cfg.Name == "" {
			cfg.Name = sp.Strategy.Name()
		}
	} else {
		cfg = DefaultVaultConfig(sp.Strategy, base, sp.Capital)
	}
	cfg.Pricing = sp.Pricing
	if p := sp.MinGainOverCost; p != nil {
		if math.IsNaN(*p) || math.IsInf(*p, 0) || *p < 0 {
			return e.errf(adapters.KindInvalid, "min gain over cost %g must be a finite number >= 0", *p)
		}
		cfg.Rebalance.MinGainOverCost = *p
	}
	if (cfg.ManagementFee > 0 || cfg.PerformanceFee > 0) && cfg.FeeRecipient == "" {
		cfg.FeeRecipient = FeeRecipient
	}
	v, err := vault.New(cfg, ads, from)
	if err != nil {
		return err
	}
	for i, id := range v.Markets() { // advance feeds the vault by index
		if id != e.markets[i].id {
			return e.errf(adapters.KindOther, "the vault's market #%d is %s, the run's %s", i, id, e.markets[i].id)
		}
	}
	e.v = v
	nm := len(e.markets)
	e.feed = vault.StepFeed{Series: make([]*adapters.Series, nm), Rows: make([]int, nm), Cols: make([]int, nm)}
	for i, m := range e.markets {
		e.feed.Series[i], e.feed.Cols[i] = m.ser, m.grow
	}
	e.book = newMarkBook(e.markets, cfg.Pricing)
	e.gas = sp.GasPrice
	if e.gas == 0 {
		e.gas = DefaultGasPrice
	} else if e.gas < 0 {
		e.gas = 0
	}
	e.gasAsst = sp.GasAssetPrice
	if e.gasAsst == 0 {
		e.gasAsst = DefaultGasAssetPrice(base)
	}
	e.data = w
	e.gasData = gasData(w, base)
	if err := v.SetGas(e.gas, e.gasAssetPrice(from.Unix())); err != nil {
		return err
	}
	// Keeper and runner.
	rs, hs := sp.Rebalance, sp.Harvest
	if rs == "" {
		rs = DefaultRebalance
	}
	if hs == "" {
		hs = DefaultHarvest
	}
	var rsch, hsch cron.Schedule
	if rsch, err = strategies.ParseSchedule(rs); err != nil {
		return adapters.Wrap(e.op, adapters.KindInvalid, err)
	}
	if hsch, err = strategies.ParseSchedule(hs); err != nil {
		return adapters.Wrap(e.op, adapters.KindInvalid, err)
	}
	rsch, hsch = vault.KeeperSchedules(sp.Strategy, rsch, hsch) // tickRoom reads them too
	e.runner = &vault.Runner{Vault: v, Strategy: sp.Strategy, Keeper: vault.NewKeeper(rsch, hsch, from), Prepare: e.prepare,
		PlanExits: e.noExiter}
	e.exitAll = true
	if x, ok := sp.Strategy.(strategies.ExitRuler); ok {
		e.exitAll = x.HasExitRule()
	}
	// Events in the range, by time then universe order.
	for _, m := range e.markets {
		for _, ev := range m.ser.Events {
			if !ev.Time.Before(from) && !ev.Time.After(to) {
				e.events = append(e.events, ev)
			}
		}
	}
	order := map[string]int{}
	for i, m := range e.markets {
		order[m.id] = i
	}
	sort.SliceStable(e.events, func(i, j int) bool {
		a, b := e.events[i], e.events[j]
		if !a.Time.Equal(b.Time) {
			return a.Time.Before(b.Time)
		}
		return order[a.Market] < order[b.Market]
	})
	e.issues = dataIssues(e.markets, e.times, from.Unix(), to.Unix())
	ranges := marketRanges(e.markets, from, to, sp.DataRanges)
	warns = append(warns, rangeWarnings(ranges, from, to)...)
	for _, m := range e.markets {
		if bc, ok := m.ad.Driver().(adapters.BorrowCapper); ok {
			if at, why, ok := bc.UncappedFrom(from, to); ok {
				warns = append(warns, fmt.Sprintf("%s: no borrow cap bounds the loop's borrowing from %s (%s): its size is bounded by the vault's capital alone, which flatters a large loop",
					m.id, fmtTime(at), why))
			}
		}
	}
	for _, m := range e.markets {
		if m.ser.Derived.Has(adapters.FieldExchangeRate) {
			warns = append(warns, history.PriceValuedNote(m.id))
		}
	}
	// Result skeleton.
	params := map[string]float64{}
	if sp.Params == nil {
		if ps, ok := sp.Strategy.(interface{ Params() map[string]float64 }); ok {
			sp.Params = ps.Params()
		}
	}
	for k, v := range sp.Params {
		params[k] = v
	}
	step := "data"
	if sp.Step > 0 {
		step = timefmt.Duration(sp.Step)
	}
	lb := sp.Lookback
	if lb == 0 {
		lb = DefaultLookback
	}
	file := ""
	if f, ok := sp.Strategy.(interface{ File() string }); ok {
		file = f.File()
	}
	n := len(e.markets)
	e.res = &Result{
		Settings: Settings{
			Strategy: sp.Strategy.Name(), StrategyFile: file, Universe: append([]string(nil), universe...), Params: params,
			From: from, To: to, Step: step, Lookback: timefmt.Duration(lb), Capital: sp.Capital, Pricing: sp.Pricing.String(),
			ExactSteps: sp.ExactSteps, GasPrice: e.gas, GasAssetPrice: e.gasAsst, RiskFree: sp.RiskFree, Source: sp.Source, Vault: cfg,
		},
		Data: DataInfo{From: w.From.UTC(), To: w.To.UTC(), Markets: append([]string(nil), universe...), Rows: w.Rows(),
			Steps: len(e.times), MarketSteps: len(e.times) * n, Ranges: ranges},
		Warnings: append([]string{}, warns...),
		Steps:    make([]Step, 0, len(e.times)),
		// Room for the records of the keeper's ticks (a decision per
		// rebalance tick, the initial allocation's too, a harvest per
		// harvest tick), so that addStep does not copy them again and
		// again as they grow (4 MB of a W1 run's allocations); finish
		// drops the room when nothing was recorded.
		Decisions: make([]vault.Decision, 0, tickRoom(rsch, from, to, len(e.times))+1),
		Harvests:  make([]vault.HarvestResult, 0, tickRoom(hsch, from, to, len(e.times))),
	}
	if !reqFrom.Equal(from) {
		e.res.Settings.RequestedFrom = reqFrom
	}
	if !reqTo.Equal(to) {
		e.res.Settings.RequestedTo = reqTo
	}
	e.slab = make([]float64, len(e.times)*n)
	e.curve = stepCurve{nav: make([]float64, 0, len(e.times)), equity: make([]float64, 0, len(e.times))}
	for _, ad := range ads {
		if ad.CanBorrow() {
			e.res.LoopMarkets = append(e.res.LoopMarkets, ad.Market().ID)
		}
	}
	e.costsDec = decimal.Zero
	e.setupMonitors()
	return nil
}

// tickRoom is the room to make for the records of schedule s's ticks in
// (from, to], at most steps (a step runs the ticks due by it at once): the
// range over the interval between its first two ticks, plus one. It is a
// capacity, not a count: a calendar schedule with uneven ticks (weekdays
// only) gets a little more or less room than it uses, and two Next calls
// cost nothing beside walking the schedule through the range.
func tickRoom(s cron.Schedule, from, to time.Time, steps int) int {
	if s == nil {
		return 0
	}
	t1 := s.Next(from)
	if t1.IsZero() || t1.After(to) {
		return 0
	}
	t2 := s.Next(t1)
	if !t2.After(t1) {
		return 1
	}
	return int(min(int64(steps), int64(to.Sub(from)/t2.Sub(t1))+1))
}

func windowIDs(w *adapters.Window) string {
	ids := make([]string, len(w.Series))
	for i, s := range w.Series {
		ids[i] = s.Market.ID
	}
	if len(ids) == 0 {
		return "no markets"
	}
	return fmt.Sprint(ids)
}

// stepTimes returns the run's step times: From, From+step, ... up to To;
// or, with step 0, From and the union of the markets' row times in
// (From, To], merged with one forward pointer per series.
func stepTimes(ms []*market, from, to int64, step time.Duration) []int64 {
	if step > 0 {
		s := int64(step / time.Second)
		if s <= 0 {
			s = 1
		}
		out := make([]int64, 0, (to-from)/s+1)
		for t := from; t <= to; t += s {
			out = append(out, t)
		}
		return out
	}
	ptr := make([]int, len(ms))
	maxN := 0
	for i, m := range ms {
		ptr[i] = m.ser.Index(from) + 1 // first row after from
		maxN = max(maxN, m.ser.Len()-ptr[i])
	}
	out := make([]int64, 0, maxN+1)
	out = append(out, from)
	if ts, ok := sharedTimes(ms, ptr, to); ok {
		return append(out, ts...) // the union of equal sets
	}
	cur := from
	for {
		next := int64(math.MaxInt64)
		for i, m := range ms {
			for ptr[i] < m.ser.Len() && m.ser.Times[ptr[i]] <= cur {
				ptr[i]++
			}
			if ptr[i] < m.ser.Len() && m.ser.Times[ptr[i]] < next {
				next = m.ser.Times[ptr[i]]
			}
		}
		if next > to {
			return out
		}
		out = append(out, next)
		cur = next
	}
}

// sharedTimes returns the row times in (from, to] when every market has
// the same ones (ptr: each series' first row after from): their union
// then needs no merge.
func sharedTimes(ms []*market, ptr []int, to int64) ([]int64, bool) {
	if len(ms) == 0 {
		return nil, false
	}
	in := func(i int) []int64 {
		t := ms[i].ser.Times[ptr[i]:]
		return t[:sort.Search(len(t), func(j int) bool { return t[j] > to })] // rows <= to
	}
	first := in(0)
	for i := 1; i < len(ms); i++ {
		if !slices.Equal(in(i), first) {
			return nil, false
		}
	}
	return first, true
}

// prepare completes the strategy's State with the history: each market's
// series and its row at the engine's time (the strategy's windows read
// rows up to Row only).
func (e *engine) prepare(st *strategies.State) {
	for i := range st.Markets {
		if i >= len(e.markets) {
			return
		}
		m := e.markets[i]
		st.Markets[i].Series = m.ser
		st.Markets[i].Row = m.row
		if m.row < 0 {
			st.Markets[i].Obs = adapters.Observation{}
		}
	}
}

// advance moves every market's row pointer to the latest row at or before
// t and feeds the rows that changed to the vault.
func (e *engine) advance(t int64) error { return e.advanceStep(-1, t) }

// advanceStep is advance to step k's time t (k < 0: a time between steps),
// where aligned cursors need no search. The vault is fed every market's
// row (those that moved) and step k's growths in one call
// (Vault.ObserveStep): the growths are the table's cells of the step as
// they are.
func (e *engine) advanceStep(k int, t int64) error {
	f := &e.feed
	rows := f.Rows[:len(e.markets)]
	for i, m := range e.markets {
		moved := false
		if k >= 0 {
			moved = m.seekStep(k, t)
		} else {
			moved = m.seek(t)
		}
		r := -1
		if moved {
			r = m.row
		}
		rows[i] = r
	}
	f.Growth = nil
	if k > 0 && e.growth != nil {
		f.From, f.To, f.Growth = e.times[k-1], e.times[k], e.growth.step(k)
	}
	if err := e.v.ObserveStep(f); err != nil {
		return err
	}
	if k > 0 && e.growth != nil {
		e.book.step(k, e.growth)
		e.growth.reach(k + 1) // step k is the last this reader reads of its block
	}
	if e.gasM >= 0 || e.gasData {
		g := e.gas
		for _, m := range e.gasMs {
			if m.row >= 0 && m.ser.Set[m.row].Has(adapters.FieldGasPrice) {
				g = m.ser.Cols[adapters.FieldGasPrice][m.row]
				break
			}
		}
		a := e.v.GasAssetPrice()
		if e.gasData {
			a = e.gasAssetPrice(t)
		}
		if g != e.v.GasPrice() || a != e.v.GasAssetPrice() {
			if err := e.v.SetGas(g, a); err != nil {
				return err
			}
		}
	}
	return nil
}

// gasData reports whether a window can give the gas asset price of a base
// (vault.GasAssetPriceAt): it holds an ETH market and a market of base
// with base_usd columns.
func gasData(w *adapters.Window, base adapters.Asset) bool {
	eth, own := false, false
	for _, s := range w.Series {
		if s.Cols[adapters.FieldBaseUSD] != nil {
			eth = eth || s.Market.Base == adapters.ETH
			own = own || s.Market.Base == base
		}
	}
	return eth && own
}

// gasAssetPrice is one ETH in the base at t: from the data
// (vault.GasAssetPriceAt, as vault.ObserveWindow), else the setting.
func (e *engine) gasAssetPrice(t int64) float64 {
	if e.gasData {
		if x, ok := vault.GasAssetPriceAt(e.data, e.v.Config().Base, t); ok {
			return x
		}
	}
	return e.gasAsst
}

// applyEvents applies the events with time <= t that have not been
// applied, each at its own time, to the vault and the benchmarks.
func (e *engine) applyEvents(t int64) error {
	for e.nextEv < len(e.events) && dueBy(e.events[e.nextEv].Time, t) {
		ev := e.events[e.nextEv]
		e.nextEv++
		e.touched = true
		at := ev.Time.UTC()
		if at.Before(e.v.Time()) {
			at = e.v.Time()
		}
		if err := e.advance(at.Unix()); err != nil {
			return err
		}
		rec := EventRecord{Time: at, Market: ev.Market, Type: string(ev.Type), Size: ev.Size, Scope: ev.Scope, Note: ev.Note, Loss: decimal.Zero}
		loss, err := e.v.ApplyEvent(at, ev)
		if err != nil {
			if adapters.KindOf(err) == adapters.KindOther {
				return err
			}
			e.issues = append(e.issues, DataIssue{Kind: IssueSkipEvent, Market: ev.Market, From: at, Note: "event not applied: " + err.Error()})
			continue
		}
		rec.Loss = loss
		e.res.Events = append(e.res.Events, rec)
		e.warnExposure(ev)
	}
	return nil
}

// dueBy reports whether an event at at is due by the step at unix time t:
// at or before it, to the nanosecond (an event a fraction of a second
// after a step is applied at the next one, at its own time).
func dueBy(at time.Time, t int64) bool {
	s := at.Unix()
	return s < t || s == t && at.Nanosecond() == 0
}

// dueStep is the first step time (unix seconds) an event at at is due
// by (dueBy): its second, or the next when it has a fraction.
func dueStep(at time.Time) int64 {
	if at.Nanosecond() != 0 {
		return at.Unix() + 1
	}
	return at.Unix()
}

// warnExposure warns, once per market and scope, when a slash scoped to a
// tag hit a staking market whose exposure to the tag is unknown
// (adapters.Market.ExposureTo): it was applied by its full size.
func (e *engine) warnExposure(ev adapters.Event) {
	if ev.Type != adapters.EventSlash || ev.Scope == "" {
		return
	}
	for _, m := range e.markets {
		if m.id != ev.Market {
			continue
		}
		mk := m.ad.Market()
		if mk.Kind != adapters.LST && mk.Kind != adapters.LRT {
			return
		}
		if _, known := mk.ExposureTo(ev.Scope); known {
			return
		}
		key := ev.Market + " " + ev.Scope
		if e.warnedExp[key] {
			return
		}
		if e.warnedExp == nil {
			e.warnedExp = map[string]bool{}
		}
		e.warnedExp[key] = true
		e.res.Warnings = append(e.res.Warnings, fmt.Sprintf("%s: a slash scoped to %s (%s, size %g) hit it by its full size: the share of its backing exposed to %s is not known (no exposure in its catalog entry)",
			ev.Market, ev.Scope, ev.Time.UTC().Format(time.DateOnly), ev.Size, ev.Scope))
		return
	}
}

// start brings the run to From: the events at or before it applied,
// every market's row and the gas price at From.
func (e *engine) start() error {
	from := e.spec.From.Unix()
	if err := e.applyEvents(from); err != nil {
		return err
	}
	return e.advance(from)
}

func (e *engine) run(ctx context.Context) error {
	sp := &e.spec
	from := sp.From
	if err := e.start(); err != nil {
		return err
	}
	shares, err := e.v.Deposit(from, Investor, sp.Capital)
	if err != nil {
		return err
	}
	e.shares, e.sharesN, e.sharesF = shares, fixed.FromDec(shares), shares.InexactFloat64()
	e.startEquity = e.v.ConvertToAssets(shares)
	e.startBenchmarks(from)
	// The risk monitors, then the initial allocation (none while a
	// pause-bound monitor fires; without the markets exit-bound ones
	// fire on).
	exits, paused, err := e.monitorStep(ctx, from)
	if err != nil {
		return err
	}
	if !paused {
		e.breach(exits)
		tr, err := e.runner.Rebalance(ctx, from, from, vault.TriggerManual)
		e.runner.Strategy = sp.Strategy
		if err != nil {
			return adapters.Wrap(e.op, adapters.KindOf(err), fmt.Errorf("initial allocation at %s: %w", fmtTime(from), err))
		}
		d := *tr.Decision
		d.Reasons = append(d.Reasons, "initial allocation")
		e.res.Decisions = append(e.res.Decisions, d)
		e.countResult(*tr.Result)
	}
	e.next = e.runner.Keeper.Next(from)
	e.record(0, from)
	for k := 1; k < len(e.times); k++ {
		if k&63 == 0 {
			if err := ctx.Err(); err != nil {
				return adapters.Wrap(e.op, adapters.KindOther, err)
			}
			e.progress(k)
		}
		t := e.times[k]
		e.touched = false
		if err := e.applyEvents(t); err != nil {
			return err
		}
		if err := e.advanceStep(k, t); err != nil {
			return err
		}
		now := time.Unix(t, 0).UTC()
		exits, paused, err := e.monitorStep(ctx, now)
		if err != nil {
			return err
		}
		if paused {
			if err := e.recordExact(k, now); err != nil {
				return err
			}
			continue
		}
		e.breach(exits)
		if !e.next.IsZero() && !e.next.After(now) {
			rep, err := e.runner.Step(ctx, now)
			if err != nil {
				return adapters.Wrap(e.op, adapters.KindOf(err), fmt.Errorf("step %s: %w", fmtTime(now), err))
			}
			if len(exits) > 0 && !exitCheckDone(rep) {
				tr, err := e.runner.ExitCheck(ctx, now, now)
				if err != nil {
					return adapters.Wrap(e.op, adapters.KindOf(err), fmt.Errorf("exit check at %s: %w", fmtTime(now), err))
				}
				rep.Add(tr)
			}
			e.addStep(now, rep)
			e.next = e.runner.Keeper.Next(now)
		} else {
			// No tick due: bring the vault to now (paying ready claims;
			// its fees are charged at its operations, and at the run's
			// end) and run the exit check alone (the keeper's step would
			// run nothing else). Without an exit to check the step books
			// nothing, and is recorded at the vault's mark unless
			// Spec.ExactSteps (recordMark says when it cannot be).
			if !e.exitAll && len(exits) == 0 && k < len(e.times)-1 && !sp.ExactSteps {
				if e.recordMark(k, now) {
					e.runner.Strategy = sp.Strategy
					continue
				}
			}
			if _, err := e.v.Bring(now); err != nil {
				return err
			}
			if e.exitAll || len(exits) > 0 {
				tr, err := e.runner.ExitCheck(ctx, now, now)
				if err != nil {
					return adapters.Wrap(e.op, adapters.KindOf(err), fmt.Errorf("exit check at %s: %w", fmtTime(now), err))
				}
				if tr.Skip == "" {
					var rep vault.StepReport
					rep.Add(tr)
					e.addStep(now, rep)
				}
			}
		}
		e.runner.Strategy = sp.Strategy
		if err := e.recordExact(k, now); err != nil {
			return err
		}
	}
	e.progress(len(e.times))
	return nil
}

// breach puts the markets exit-bound monitors fire on in the Runner's
// strategy for the step (monitor.Breach, as the service's action does);
// the caller restores the strategy after it.
func (e *engine) breach(exits []string) {
	if len(exits) > 0 {
		e.runner.Strategy = monitor.Breach{Strategy: e.spec.Strategy, Exits: exits}
	}
}

// addStep records what a step of the runner did.
func (e *engine) addStep(now time.Time, rep vault.StepReport) {
	e.res.Decisions = append(e.res.Decisions, rep.Decisions...)
	e.res.Harvests = append(e.res.Harvests, rep.Harvests...)
	for _, r := range rep.Results {
		e.countResult(r)
	}
	for _, n := range rep.Notes {
		e.res.Notes = append(e.res.Notes, now.Format(time.RFC3339)+" "+n)
	}
}

// progress reports the steps done (the last recorded step's time and NAV)
// to Spec.Progress.
func (e *engine) progress(done int) {
	if e.spec.Progress == nil || len(e.res.Steps) == 0 {
		return
	}
	last := &e.res.Steps[len(e.res.Steps)-1]
	e.spec.Progress(Progress{Step: done, Steps: len(e.times), Markets: len(e.markets), Time: last.Time, NAV: last.NAV.Decimal()})
}

// countResult notes an executed rebalance.
func (e *engine) countResult(r vault.Result) {
	if len(r.Executed) > 0 {
		e.res.Metrics.Rebalances++
	}
}

// record appends the step's record.
func (e *engine) record(k int, now time.Time) {
	v := e.v
	n := len(e.markets)
	vals := v.MarketValuesFloat(e.slab[k*n : k*n : (k+1)*n])
	e.claimBuf = v.MarketClaimsFloat(e.claimBuf[:0])
	e.book.exact(vals, e.claimBuf)
	// NAV and equity as nums (their decimals made only where read: Figure),
	// their floats toFloat of those decimals, bit for bit.
	nav, equity := v.GrossAssetsNum(), v.ConvertToAssetsNum(e.sharesN)
	e.curve.add(nav.ToFloat(), equity.ToFloat())
	e.res.Steps = append(e.res.Steps, Step{
		Time: now, NAV: Figure{nav}, Equity: Figure{equity}, PricePerShare: ExactFigure(v.PricePerShare()),
		Idle: v.Idle(), Costs: e.booked(), Values: vals, Loops: e.loopPoints(k),
	})
}

// stepCurve is each recorded step's NAV and equity as float64, toFloat
// of the step's record, kept as the steps are recorded for the run's
// finish (its return metrics and allocation statistics): a marked step
// has them from its float64 figures (fixed.FromFloatSigNum) without a
// decimal.
type stepCurve struct{ nav, equity []float64 }

func (c *stepCurve) add(nav, equity float64) {
	c.nav, c.equity = append(c.nav, nav), append(c.equity, equity)
}

// recordExact records step k at now at the vault's exact figures; at the
// run's last step it charges the vault's fees first (Vault.Accrue: the
// run's end is an operation, as a report is; charging again at the same
// time charges nothing).
func (e *engine) recordExact(k int, now time.Time) error {
	if k == len(e.times)-1 {
		if err := e.v.Accrue(now); err != nil {
			return err
		}
	}
	e.record(k, now)
	return nil
}

// recordMark records step k at now at the vault's mark (vault.MarkAt),
// where the vault books nothing: no event was applied at the step and the
// vault is quiet (vault.Vault.Quiet). Its positions are not brought to
// the step: each is valued at its last exact value times its market's
// move since (markBook), and the step's NAV, equity and share price are
// recorded to float64 precision (15 significant digits, FromFloatSig); idle and
// costs are the last step's, which nothing changed. ok is false, with
// nothing recorded, when the step cannot be marked: the vault has to book
// something, or a held position's market gives no mark.
func (e *engine) recordMark(k int, now time.Time) bool {
	v := e.v
	if e.touched || v.Ledger().Len() != e.ledgerAt || !v.Quiet(now) {
		return false // an event, a claim paid or a loop liquidated at the step
	}
	n := len(e.markets)
	vals := e.slab[k*n : (k+1)*n : (k+1)*n]
	pos, ok := e.book.mark(vals)
	if !ok {
		return false
	}
	m := v.MarkAt(now, pos)
	prev := &e.res.Steps[len(e.res.Steps)-1]
	nav, navF := markFigureFloat(m.NAV)
	equity, equityF := markFigureFloat(m.Assets(e.sharesF))
	e.curve.add(navF, equityF)
	e.res.Steps = append(e.res.Steps, Step{
		Time: now, NAV: nav, Equity: equity,
		PricePerShare: markFigure(m.PricePerShare), Idle: prev.Idle, Costs: prev.Costs, Values: vals, Loops: e.loopPoints(k),
	})
	e.res.Data.MarkedSteps++
	return true
}

// booked is the cumulative cost of the ledger's entries up to now (the
// entries booked since the last call added).
func (e *engine) booked() decimal.Decimal {
	if l := e.v.Ledger(); l.Len() != e.ledgerAt {
		ens := l.Since(l.Next() - uint64(l.Len()-e.ledgerAt))
		for i := range ens {
			en := &ens[i] // the sum of en.Cost() (gas + slippage + fee), as decimal's Adds give it
			e.costs = e.costs.Add(fixed.FromDec(en.Gas)).Add(fixed.FromDec(en.Slippage)).Add(fixed.FromDec(en.Fee))
		}
		e.ledgerAt = l.Len()
		e.costsDec = e.costs.Dec()
	}
	return e.costsDec
}

// loopPoints are the loop markets' figures at step k (nil without loop
// markets), from a slab allocated for the steps left.
func (e *engine) loopPoints(k int) []LoopPoint {
	v := e.v
	var loops []LoopPoint
	if nl := len(e.res.LoopMarkets); nl > 0 {
		if len(e.loopSlab) < nl {
			e.loopSlab = make([]LoopPoint, nl*(len(e.times)-k))
		}
		loops, e.loopSlab = e.loopSlab[:nl:nl], e.loopSlab[nl:]
		for j, id := range e.res.LoopMarkets {
			if f, ok := v.LoopFigures(id); ok {
				loops[j] = LoopPoint{Leverage: f.Leverage, HealthFactor: f.HealthFactor, LiquidationDrop: f.LiquidationDrop}
			}
		}
	}
	return loops
}
