package backtest

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
	"github.com/yieldvault/yieldvault/vault"

	"github.com/yieldvault/yieldvault/fixed"
)

// Benchmark kinds.
const (
	BenchHold        = "hold"
	BenchEqualWeight = "equal_weight"
	BenchBestSingle  = "best_single"
)

// benchMarket is one market's benchmark holds, on a cursor of its own
// over the series: the track runs apart from the vault's feed. The cursor
// fills env.Obs, the holds' environment's observation, in place, and
// lazily: a hold valued from its series' columns (an observed index, the
// peg, the reward rate while reward_apy is unchanged) reads those columns
// at the row, and env.Obs is filled (sync) only before an adapter reads it.
type benchMarket struct {
	id string
	ad *adapters.Adapter
	cursor
	env adapters.Env // the holds' environment
	// benchmark hold of the whole capital
	hold     adapters.Position
	holdOK   bool
	holdCost decimal.Decimal
	holdNote string
	holdVal0 float64 // value right after entry
	curve    []float64
	// The hold's float64 path (see step): unit is a one-unit shadow of
	// hold that the adapter accrues (its index and per-unit rewards),
	// units the hold's units, rew its accrued rewards in base.
	unit  adapters.Position
	units float64
	rew   float64
	per   perUnit           // how a unit's value follows from unit.Index
	basis adapters.PegBasis // the peg's basis at perPeg
	// Staking and lending holds accrue their rewards in float64 from the
	// reward rate their adapter quotes (Quote.RewardAPY), cached while the
	// observed reward_apy stays the same; the shadow then holds no units.
	rewardF bool
	// ammSized: an AMM hold keeps its units in the shadow, as a lending
	// hold does: its fee share is its liquidity over the pool's plus its
	// own, so what a unit earns depends on the hold's size.
	ammSized bool
	rrOK     bool
	rrHas    bool
	rrObs    float64 // the observed reward_apy the rate was quoted at
	rr       float64
	// col, when set, is the series column that gives the unit's index at
	// every row from the start on (an observed exchange rate or liquidity
	// index, which the adapter takes as is): no Accrue is needed.
	col     []float64
	lending bool // the market's kind is lending
	// grow is the market's column in the run's growth table (the
	// engine's, shared with the vault; -1: none), given to the hold's
	// accrual in env.Growth.
	grow int
	// the equal-weight split: value after entry of capital/N
	ewVal0 float64
	ewOK   bool
	ewCost decimal.Decimal
	// ewIdle is the part of capital/N not deposited (a pool size limit
	// cut the deposit short, or the entry failed): held idle.
	ewIdle float64
	// inEW: the market is one of the N markets of the equal-weight split
	// (it has a row at or before the run's end).
	inEW bool
	// tried: the entry was attempted, at step k0 (the run's start, or the
	// first step at which the market has a row).
	tried bool
	k0    int
	// holdIdle is the part of the capital the hold could not deposit (the
	// strategy's pool size limit), held idle beside the position.
	holdIdle float64
	// notInv says why the hold could not be entered at all; note how it
	// differs from a plain hold from the start.
	notInv string
	notes  []string
}

// benchTrack computes a run's benchmarks: a hold of the whole capital in
// each market, equal weight and the best single market. It reads the
// data (series and events) and the run's settings, never the vault: the
// engine runs it on a goroutine of its own alongside the vault's loop,
// and a sweep runs it once for all its points. Its steps follow the
// engine's: at each step time the events due are applied to the holds at
// their own times (after that time's observations), the rows move to the
// step, and every hold is valued.
type benchTrack struct {
	ms       []*benchMarket
	times    []int64
	growth   *growthTable // the engine's
	events   []adapters.Event
	nextEv   int       // the first event after the start
	last     time.Time // the track's time: its last step's or event's
	capital  decimal.Decimal
	capitalF float64
	pricing  adapters.Pricing
	rf       float64
	exact    bool        // engine.exactBench
	stepwise bool        // engine.stepwiseBench
	stop     atomic.Bool // the run failed: stop early
	out      []Benchmark
	// held counts the steps stepHeld took (tests: that it took any).
	held int
	// part is capital / N, the equal-weight share of each of the N
	// markets with a row at or before the run's end.
	part  decimal.Decimal
	partF float64
	// maxShare is the strategy's max_share_of_tvl: a hold deposits at
	// most that share of its market's TVL at entry, as the strategy
	// could (0: no limit).
	maxShare float64
	base     adapters.Asset
	// gasAt is the gas price and gas asset price at a time, read from the
	// data as the engine reads them (for entries after the start).
	gasAt func(t int64) (gas, asset float64)
	// reasons say why a market without a row in the range cannot be held.
	reasons map[string]string
}

// sharedBench is a sweep's benchmarks, computed once for its points:
// valid for a run of the same spec over the same universe (key).
type sharedBench struct {
	key string
	out []Benchmark
}

// benchKey is the universe (and the pool size limit) a benchmark set was
// computed for.
func (e *engine) benchKey() string {
	var b strings.Builder
	for _, m := range e.markets {
		b.WriteString(m.id)
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "max_share_of_tvl=%g", maxShareOfTVL(e.spec.Strategy))
	return b.String()
}

// maxShareOfTVL is a strategy's max_share_of_tvl constraint (0 when it
// has none).
func maxShareOfTVL(s strategies.Strategy) float64 {
	if c, ok := s.(interface{ Constraints() strategies.Constraints }); ok {
		return c.Constraints().MaxShareOfTVL
	}
	return 0
}

// newBenchTrack returns the track of a run that has reached from (the
// events at or before from applied to the vault, its rows and gas at
// from).
func (e *engine) newBenchTrack(from time.Time) *benchTrack {
	sp := &e.spec
	b := &benchTrack{times: e.times, growth: e.growth, events: e.events, nextEv: e.nextEv, last: from, capital: sp.Capital,
		capitalF: toFloat(sp.Capital), pricing: sp.Pricing, rf: sp.RiskFree, exact: e.exactBench, stepwise: e.stepwiseBench,
		maxShare: maxShareOfTVL(sp.Strategy), base: e.v.Config().Base, reasons: map[string]string{}}
	to := e.times[len(e.times)-1]
	n := 0
	for _, m := range e.markets {
		bm := &benchMarket{id: m.id, ad: m.ad, grow: m.grow}
		bm.cursor = newCursor(m.ser, &bm.env.Obs)
		bm.lazy = true
		bm.aligned, bm.base = m.aligned, m.base // as the engine's cursor, aligned to the same times
		bm.seek(from.Unix())
		bm.inEW = m.ser.Len() > 0 && m.ser.Times[0] <= to
		if bm.inEW {
			n++
		}
		b.ms = append(b.ms, bm)
	}
	if n > 0 {
		b.part = sp.Capital.DivRound(decimal.NewFromInt(int64(n)), adapters.Scale)
		b.partF = toFloat(b.part)
	}
	for _, r := range e.res.Data.Ranges {
		if !r.Investable {
			why := "no data in the run's range"
			if r.Stored != nil {
				why += fmt.Sprintf(" (its data covers %s .. %s)", fmtDate(r.Stored.From), fmtDate(r.Stored.To))
			}
			b.reasons[r.Market] = why
		}
	}
	// Gas at a later entry, from the data alone (the track runs beside the
	// vault and never reads it): as engine.advance and gasAssetPrice.
	gasMs := make([]*adapters.Series, len(e.gasMs))
	for i, m := range e.gasMs {
		gasMs[i] = m.ser
	}
	defGas, gasData, data, asst := e.gas, e.gasData, e.data, e.gasAsst
	b.gasAt = func(t int64) (float64, float64) {
		g := defGas
		for _, s := range gasMs {
			if r := s.Index(t); r >= 0 && s.Set[r].Has(adapters.FieldGasPrice) {
				g = s.Cols[adapters.FieldGasPrice][r]
				break
			}
		}
		a := asst
		if gasData {
			if x, ok := vault.GasAssetPriceAt(data, b.base, t); ok {
				a = x
			}
		}
		return g, a
	}
	return b
}

// startBenchmarks starts the run's benchmark track on a goroutine, unless
// the run skips benchmarks (a Monte Carlo path) or the sweep computed the
// benchmarks of this universe already.
func (e *engine) startBenchmarks(from time.Time) {
	if e.spec.noBenchmarks {
		return
	}
	if sh := e.spec.shared; sh != nil && sh.key == e.benchKey() {
		return
	}
	b := e.newBenchTrack(from)
	if e.growth != nil {
		e.growth.addReader()
	}
	gas, gasAsset := e.v.GasPrice(), e.v.GasAssetPrice()
	e.bench, e.benchDone = b, make(chan struct{})
	go func() {
		defer close(e.benchDone)
		b.run(from, gas, gasAsset)
	}()
}

// stopBenchmarks stops the track, if any, and waits for it.
func (e *engine) stopBenchmarks() {
	if e.bench == nil {
		return
	}
	e.bench.stop.Store(true)
	<-e.benchDone
}

// benchmarks returns the run's benchmarks: its track's, once done, or the
// sweep's.
func (e *engine) benchmarks() ([]Benchmark, error) {
	if e.bench == nil {
		if e.spec.noBenchmarks {
			return []Benchmark{}, nil
		}
		if sh := e.spec.shared; sh != nil {
			return sh.out, nil
		}
		return nil, adapters.E(e.op, adapters.KindOther, "no benchmarks were computed")
	}
	<-e.benchDone
	if e.bench.out == nil {
		return nil, adapters.E(e.op, adapters.KindOther, "the benchmark track stopped early")
	}
	return e.bench.out, nil
}

// run opens the holds at from (entry at the gas prices given), steps
// through the times and builds the benchmarks.
//
// The steps are taken in segments, market by market within each: a
// hold's steps depend on its own market alone, so each market walks the
// segment's rows in order (its columns read one after the other) before
// the next. A segment starts at a step whose due events were applied to
// every hold, ends before the next step with an event due, and stays
// within one block of the growth table, which is let go of after it.
func (b *benchTrack) run(from time.Time, gas, gasAsset float64) {
	b.open(from, gas, gasAsset)
	b.step(0, from)
	n := len(b.times)
	now := make([]time.Time, min(n, growthBlock))
	for k := 1; k < n; {
		if b.stop.Load() {
			return
		}
		b.applyEvents(b.times[k])
		end := b.segmentEnd(k)
		now := now[:end-k]
		for j := range now {
			now[j] = time.Unix(b.times[k+j], 0).UTC()
		}
		for _, m := range b.ms {
			for j := k; j < end; j++ {
				if m.tried {
					// The steps a held column or growth hold takes on its
					// own, up to the first it cannot (taken below).
					if j = b.stepHeld(m, j, end, now[j-k:]); j == end {
						break
					}
				}
				t := b.times[j]
				m.seekStep(j, t)
				if !m.tried && m.row >= 0 {
					g, a := b.gasAt(t)
					b.enter(m, j, now[j-k], g, a)
				}
				b.stepMarket(m, j, now[j-k])
			}
		}
		b.last = now[len(now)-1]
		if b.growth != nil {
			b.growth.reach(end) // the segment's steps are the last the track reads of their block
		}
		k = end
	}
	b.out = b.results()
}

// segmentEnd is the end (exclusive) of the segment of steps from k: the
// first later step at which an event is due, the end of k's block of
// the growth table, or the last step's end.
func (b *benchTrack) segmentEnd(k int) int {
	end := min(len(b.times), (k/growthBlock+1)*growthBlock)
	if b.nextEv < len(b.events) {
		at := dueStep(b.events[b.nextEv].Time)
		if j, _ := slices.BinarySearch(b.times[k+1:end], at); k+1+j < end {
			end = k + 1 + j
		}
	}
	return end
}

// applyEvents applies the events due by t to the holds, each at its own
// time (not before the track's) after that time's observations, as the
// engine applies them to the vault. An event the hold's adapter refuses
// (a type that does not apply to its kind) is skipped, as the vault
// skips it.
func (b *benchTrack) applyEvents(t int64) {
	for b.nextEv < len(b.events) && dueBy(b.events[b.nextEv].Time, t) {
		ev := b.events[b.nextEv]
		b.nextEv++
		at := ev.Time.UTC()
		if at.Before(b.last) {
			at = b.last
		}
		for _, m := range b.ms {
			m.seek(at.Unix())
		}
		b.last = at
		for _, m := range b.ms {
			if m.id == ev.Market && m.holdOK {
				b.applyHoldEvent(m, at, ev)
			}
		}
	}
}

// open opens the passive positions of the markets observed at from
// (entry at the gas prices given); a market whose data starts later is
// entered at its first row (run).
//
// The benchmarks' curves are computed from these hold positions alone,
// one Accrue and Value per market and step, never a vault run: a hold
// position's value is proportional to its units (accrual, rewards and
// events scale with them), so the equal-weight curve is
//
//	EW(t) = sum_j (hold_j(t) - idle_j) x ew0_j / hold0_j + ewIdle_j
//
// after market j's entry (capital / N held idle before it), where hold0_j
// and ew0_j are the values right after entry of the hold's deposit and of
// the equal-weight share's: each market's share carries its own entry
// cost at its own size. Values include accrued, unharvested rewards.
func (b *benchTrack) open(from time.Time, gas, gasAsset float64) {
	n := len(b.times)
	slab := make([]float64, n*len(b.ms))
	for i, m := range b.ms {
		m.curve = slab[i*n : (i+1)*n : (i+1)*n]
		m.holdCost = decimal.Zero
		m.ewCost = decimal.Zero
		m.ewIdle = b.partF
		if m.row >= 0 {
			b.enter(m, 0, from, gas, gasAsset)
		}
	}
}

// capped is what a hold may deposit of amt into m at its current
// observation: at most the strategy's max_share_of_tvl of the market's
// TVL (in the base, at the observed base_usd; a USD market's TVL is its
// base), as strategies.Constraints.TVLCap caps the strategy. Without a
// TVL or a USD price the limit does not apply, as for the strategy. note
// says what the limit did, "" when it did not cut.
func (b *benchTrack) capped(m *benchMarket, amt decimal.Decimal) (decimal.Decimal, string) {
	if b.maxShare <= 0 {
		return amt, ""
	}
	tvl, ok := m.obs.Get(adapters.FieldTVL)
	if !ok || math.IsNaN(tvl) || math.IsInf(tvl, 0) || tvl < 0 {
		return amt, "tvl unknown: max_share_of_tvl not applied (as for the strategy)"
	}
	usd := 1.0
	if b.base != adapters.USD {
		usd = m.obs.Value(adapters.FieldBaseUSD, 0)
	}
	if !(usd > 0) || math.IsInf(usd, 0) {
		return amt, "base USD price unknown: max_share_of_tvl not applied (as for the strategy)"
	}
	lim := b.maxShare * tvl / usd
	if lim >= toFloat(amt) {
		return amt, ""
	}
	c := adapters.Quantize(adapters.FromFloat(lim))
	if c.Sign() < 0 {
		c = decimal.Zero
	}
	return c, fmt.Sprintf("max_share_of_tvl %g of its TVL at entry (%s %s) allows %s of %s %s",
		b.maxShare, formatAmount(tvl/usd), b.base, formatAmount(toFloat(c)), formatAmount(toFloat(amt)), b.base)
}

// enter opens m's hold at step k, time now: a deposit of the capital (or
// what the pool size limit allows; the rest is held idle) through its
// adapter at the gas prices given, and the value after entry of its
// equal-weight share.
func (b *benchTrack) enter(m *benchMarket, k int, now time.Time, gas, gasAsset float64) {
	m.sync()
	m.tried, m.k0 = true, k
	m.env.Time, m.env.GasPrice, m.env.GasAssetPrice = now, gas, gasAsset
	if k > 0 {
		m.notes = append(m.notes, "entered "+fmtDate(now)+" when its data starts; metrics from then")
	}
	amt, note := b.capped(m, b.capital)
	if amt.Sign() <= 0 {
		m.notInv = note + ": the pool is too small for any deposit"
		return
	}
	pos, f, err := m.ad.Deposit(m.ad.NewPosition(), &m.env, fixed.FromDec(amt))
	if err != nil {
		m.notInv = "entry failed: " + err.Error()
		return
	}
	switch {
	case amt.LessThan(b.capital):
		m.notes = append(m.notes, note+"; the rest is held idle")
	case note != "":
		m.notes = append(m.notes, note)
	}
	m.hold, m.holdOK, m.holdCost = pos, true, f.Cost().Dec()
	m.holdIdle = b.capitalF - toFloat(amt)
	m.holdVal0 = b.holdValue(m)
	m.openUnit(b.pricing)
	if !m.inEW || !(m.holdVal0 > 0) {
		return
	}
	ea, _ := b.capped(m, b.part)
	if ea.Sign() <= 0 {
		return
	}
	ep, ef, err := m.ad.Deposit(m.ad.NewPosition(), &m.env, fixed.FromDec(ea))
	if err != nil {
		return
	}
	v := m.ad.Value(&ep, &m.env, b.pricing).Add(ep.Rewards.Dec())
	m.ewVal0, m.ewOK, m.ewCost = toFloat(v), true, ef.Cost().Dec()
	m.ewIdle = b.partF - toFloat(ea)
}

// holdValue is the hold position's value now: units at the run's pricing
// plus accrued rewards.
func (b *benchTrack) holdValue(m *benchMarket) float64 {
	v := toFloat(m.ad.Value(&m.hold, &m.env, b.pricing))
	if m.hold.Rewards.Sign() != 0 {
		v += m.hold.Rewards.ToFloat()
	}
	return v
}

// perUnit says how the value of one unit of a hold follows from its
// accrued shadow position.
type perUnit uint8

const (
	// perValue asks the adapter: Value of the one-unit shadow (any kind).
	perValue perUnit = iota
	// perIndex is the accrued index itself: lending markets, and LSTs and
	// LRTs at rate pricing (their Value is Units x Index once accrued).
	perIndex
	// perPeg is the index times the peg (adapters.Peg at the market's
	// basis): LSTs and LRTs at market pricing.
	perPeg
)

// openUnit starts the hold's float64 path from the hold position just
// opened: a shadow position of exactly one unit in the same state (index,
// entry, accrual time), the hold's units and rewards as float64, and how
// a unit's value is read.
func (m *benchMarket) openUnit(pricing adapters.Pricing) {
	m.unit = m.hold
	m.unit.Units = fixed.NewFromInt(1)
	m.unit.Rewards = fixed.Num{}
	m.unit.Claims = nil
	m.units = m.hold.Units.ToFloat()
	m.rew = m.hold.Rewards.ToFloat()
	m.per = perValue
	m.rewardF, m.rrOK = false, false
	m.lending = m.ad.Market().Kind == adapters.Lending
	switch m.ad.Market().Kind {
	case adapters.Lending:
		m.per = perIndex
		m.rewardF = true
	case adapters.LST, adapters.LRT:
		m.rewardF = true
		m.per = perPeg
		if pricing == adapters.PriceRate {
			m.per = perIndex
		}
		m.basis = adapters.PegBasisOf(m.ad.Market().Kind, m.ad.Profile() != nil && m.ad.Profile().IsRebasing())
	}
	loop := m.ad.CanBorrow() // a loop's value is collateral less debt, not its index
	if loop {
		m.per, m.rewardF, m.lending = perValue, false, false
	}
	if m.rewardF && !m.lending {
		m.unit.Units = fixed.Num{} // the index moves the same; rewards are ours
	}
	m.ammSized = (m.ad.Market().Kind == adapters.AMM || loop) && m.hold.Units.Sign() > 0
	if m.ammSized {
		m.unit.Units = m.hold.Units
	}
	m.col = nil
	if m.lending {
		// A lending hold keeps its units in the shadow: what it earns
		// depends on its size (the utilization after its own supply),
		// so the index is the observed one only while the series cannot
		// say how large the market is.
		m.unit.Units = m.hold.Units
		if !sized(m.ser) {
			m.col = observedColumn(m.ser, m.row, adapters.FieldIndex)
		}
	} else if m.rewardF {
		m.col = observedColumn(m.ser, m.row, adapters.FieldExchangeRate)
	}
}

// sized reports whether a series observes a lending market's size (its
// supply, borrows or tvl), with which the adapter prices the hold's own
// supply into the utilization.
func sized(s *adapters.Series) bool {
	return s.Cols[adapters.FieldSupply] != nil || s.Cols[adapters.FieldBorrows] != nil || s.Cols[adapters.FieldTVL] != nil
}

// observedColumn returns the series' column of field f when every row
// from row on observes it with a usable value (finite, > 0): the index the
// staking and lending adapters then take as observed, whatever the time
// and the APY. Otherwise nil.
func observedColumn(s *adapters.Series, row int, f adapters.Field) []float64 {
	col := s.Cols[f]
	if col == nil || row < 0 {
		return nil
	}
	row = min(row, s.Len())
	// The rows' sets and values from row on in locals, which the loop
	// reads alone: a row fails when f is not in its set or its value is
	// not in (0, +Inf) (NaN is not).
	set, vals := s.Set[row:s.Len()], col[row:s.Len()]
	bit, inf := adapters.FieldSet(0).With(f), math.Inf(1)
	for i, v := range vals {
		if set[i]&bit == 0 || !(v > 0 && v < inf) {
			return nil
		}
	}
	return col
}

// accrueUnit accrues the one-unit shadow to m.env's time and adds the
// rewards it earned, scaled to the hold's units, to m.rew. The shadow's
// rewards are zeroed before each accrual, so what the adapter adds is
// exactly one step's rewards per unit.
//
// Staking and lending holds (rewardF) whose series observes the index on
// every row (col) take it from the column, as their adapters would;
// others are accrued by the adapter. Both accrue their rewards here,
// as their adapters do, from the quoted reward rate rr (after fees and
// haircut): units x index x rr x years, the index being the one at the
// start of the step for LSTs and LRTs and the one at its end for lending
// markets.
func (m *benchMarket) accrueUnit() {
	last := m.unit.Last
	if !last.IsZero() && !m.env.Time.After(last) {
		return
	}
	if !m.rewardF {
		m.sync()
		m.unit.Rewards = fixed.Num{}
		m.ad.Accrue(&m.unit, &m.env)
		if m.unit.Rewards.Sign() != 0 {
			if m.ammSized {
				m.rew += m.unit.Rewards.ToFloat() // the shadow holds the hold's units
			} else {
				m.rew += m.units * m.unit.Rewards.ToFloat()
			}
		}
		return
	}
	rr, ok := m.rewardRate()
	if !ok {
		// No quote: let the adapter accrue one unit's rewards (a
		// lending hold's shadow holds the hold's units: its own).
		m.sync()
		held, scale := m.unit.Units, 1.0
		if held.Sign() == 0 {
			m.unit.Units, scale = fixed.NewFromInt(1), m.units
		}
		m.unit.Rewards = fixed.Num{}
		m.ad.Accrue(&m.unit, &m.env)
		if m.unit.Rewards.Sign() != 0 {
			m.rew += scale * m.unit.Rewards.ToFloat()
		}
		m.unit.Units, m.unit.Rewards = held, fixed.Num{}
		return
	}
	prev := m.unit.Index
	switch {
	case m.col != nil:
		m.unit.Index, m.unit.Last = m.col[m.row], m.env.Time
	case m.lending && m.env.Growth.Apply(&m.unit, m.env.Time):
		// The step's growth, as the vault's accrual reads it: the
		// adapter would compute the same from the row (the rewards are
		// accrued below).
	default:
		m.sync()
		m.ad.Accrue(&m.unit, &m.env)
	}
	if last.IsZero() || !(rr > 0) {
		return
	}
	m.rew += m.stepReward(prev, m.unit.Index, rr, yearsBetween(last, m.env.Time))
}

// stepReward is the hold's rewards over a step of yrs years at the reward
// rate rr, where its unit's index moved from prev to idx: on the index at
// the start of the step (LSTs, LRTs), at its end (lending).
func (m *benchMarket) stepReward(prev, idx, rr, yrs float64) float64 {
	basis := prev
	if m.lending {
		basis = idx
	}
	return m.units * basis * rr * yrs
}

// yearsBetween is the time from u to t in years: float64(t.Sub(u)) /
// float64(time.Second) / yearSeconds for times of the track (no
// monotonic reading, less than 290 years apart), without Sub's checks
// of its range.
func yearsBetween(u, t time.Time) float64 {
	return years(time.Duration(t.Unix()-u.Unix())*time.Second + time.Duration(t.Nanosecond()-u.Nanosecond()))
}

// years is d in years, as yearsBetween computes it.
func years(d time.Duration) float64 { return float64(d) / float64(time.Second) / yearSeconds }

// rewardRate is the hold's reward rate at m.env (Quote.RewardAPY at a
// zero amount), quoted again only when the observed reward_apy (read at
// the cursor's row) changes. ok is false when the adapter cannot quote.
func (m *benchMarket) rewardRate() (float64, bool) {
	// A series without the column observes it at no row (Series.Cols):
	// its rows' sets need no look.
	has, v := m.rewardObs(m.ser.Cols[adapters.FieldRewardAPY], m.row)
	if m.rrOK && m.quotedAt(has, v) {
		return m.rr, true
	}
	m.sync()
	q, err := m.ad.Quote(&m.env, fixed.Num{})
	if err != nil {
		m.rrOK = false
		return 0, false
	}
	m.rr, m.rrOK, m.rrHas, m.rrObs = q.RewardAPY, true, has, v
	return m.rr, true
}

// rewardObs is the observed reward_apy at row r of the hold's series
// (col, its column: nil when it has none); has is false where the row
// does not observe it.
func (m *benchMarket) rewardObs(col []float64, r int) (has bool, v float64) {
	if col != nil && m.ser.Set[r].Has(adapters.FieldRewardAPY) {
		return true, col[r]
	}
	return false, 0
}

// quotedAt reports whether the observed reward_apy (has, v) is the one
// the cached rate rr was quoted at (NaN equal to NaN).
func (m *benchMarket) quotedAt(has bool, v float64) bool {
	return has == m.rrHas && (v == m.rrObs || (v != v && m.rrObs != m.rrObs))
}

// unitValue is the value of one unit of the hold at m.env.
func (m *benchMarket) unitValue(pricing adapters.Pricing) float64 {
	if m.per != perValue {
		return m.indexValue(m.unit.Index, m.row)
	}
	m.sync()
	v := toFloat(m.ad.Value(&m.unit, &m.env, pricing))
	if m.ammSized && m.units > 0 {
		return v / m.units // the shadow holds the hold's units
	}
	return v
}

// indexValue is the value of one unit of a perIndex or perPeg hold whose
// shadow's index is idx, at row r of its series. (Small enough to be
// inlined into stepHeld's loop; the peg's look-up is pegAt's call.)
func (m *benchMarket) indexValue(idx float64, r int) float64 {
	if m.per == perPeg {
		return idx * m.pegAt(r)
	}
	if m.lending && idx <= 0 {
		return 1 // lending values an unset index at par
	}
	return idx
}

// pegAt is env.Obs.Peg at row r of the hold's series, read from the
// columns.
func (m *benchMarket) pegAt(r int) float64 {
	set := m.ser.Set[r]
	peg, _ := adapters.Peg(colValue(m.ser, adapters.FieldPrice, r), set.Has(adapters.FieldPrice),
		colValue(m.ser, adapters.FieldExchangeRate, r),
		set.Has(adapters.FieldExchangeRate) && !(m.ser.Derived&set).Has(adapters.FieldExchangeRate), m.basis)
	return peg
}

// colValue is field f at row r of s as an observation holds it: the
// column's value, 0 where the series has no such column.
func colValue(s *adapters.Series, f adapters.Field, r int) float64 {
	if col := s.Cols[f]; col != nil {
		return col[r]
	}
	return 0
}

// step accrues the holds to now and records their values at
// step k.
//
// A hold's value is linear in its units (accrual, rewards and events
// scale with them), so it is computed in float64 as units x the value of
// one unit + accrued rewards, where the adapter accrues a one-unit shadow
// of the hold (its index, and the rewards of each step) and the unit's
// value is its index (lending; LSTs and LRTs at rate pricing), the index
// times the peg (LSTs and LRTs at market pricing), or the adapter's Value
// of the shadow (other kinds). This avoids a decimal Accrue and Value of
// every hold at every step; the curves agree with that exact computation
// to a relative 1e-9 (the float64 products and the per-step rewards'
// rounding at 18 places; TestBenchmarks_FloatPathMatchesDecimal checks
// it on every kind, both pricings and events).
func (b *benchTrack) step(k int, now time.Time) {
	for _, m := range b.ms {
		b.stepMarket(m, k, now)
	}
}

// stepMarket is step for market m alone.
func (b *benchTrack) stepMarket(m *benchMarket, k int, now time.Time) {
	if !m.holdOK {
		m.curve[k] = b.capitalF
		return
	}
	m.env.Time = now
	if k > 0 && b.growth != nil && m.grow >= 0 {
		m.env.Growth = b.growth.at(k, m.grow)
	}
	if b.exact {
		m.sync()
		m.ad.Accrue(&m.hold, &m.env)
		m.curve[k] = b.holdValue(m) + m.holdIdle
		return
	}
	m.accrueUnit()
	m.curve[k] = m.units*m.unitValue(b.pricing) + m.rew + m.holdIdle
}

// stepHeld takes market m's steps from k (at times now[0:], at most up to
// end) that stepMarket would take with the float64 path of a staking or
// lending hold at a cached reward rate whose unit's index is read from
// its column (col) or grown by the step's growth (lending), and returns
// the first step it did not take (end when it took them all): the
// caller takes that one with stepMarket. It computes what stepMarket
// computes, in the same operations, with the shadow's accrual time held
// as unix seconds instead of a time.Time at each step (a step whose
// time, accrual time or reward_apy asks for more is left to
// stepMarket). It moves the cursor as the steps it takes.
func (b *benchTrack) stepHeld(m *benchMarket, k, end int, now []time.Time) int {
	if b.exact || b.stepwise || !m.holdOK || !m.rewardF || !m.rrOK || m.per == perValue || m.unit.Last.IsZero() || m.unit.Last.Nanosecond() != 0 {
		return k
	}
	grows := m.col == nil
	if grows && (!m.lending || b.growth == nil || m.grow < 0) {
		return k
	}
	// The hold's state in locals (written back below), the constants of
	// its steps read once.
	rrCol, curve := m.ser.Cols[adapters.FieldRewardAPY], m.curve
	units, idle, rr := m.units, m.holdIdle, m.rr
	idx, apy, rew := m.unit.Index, m.unit.APY, m.rew
	last := m.unit.Last.Unix()
	dt, yrs := int64(-1), 0.0
	// A growing hold's cells of the growth table from step k on, one a
	// step every n (the steps up to end are in k's block).
	var cells []growthCell
	n := 0
	if grows {
		cells, n = b.growth.from(k, m.grow), b.growth.n
	}
	j := k
	for ; j < end; j++ {
		t := b.times[j]
		if t <= last || (grows && j == 0) {
			break // no accrual (stepMarket values it as it is), or no step's growth
		}
		// The step's row: an aligned cursor's is base + j (moved to the
		// last step's below).
		r := m.base + j
		if !m.aligned {
			m.seekStep(j, t)
			r = m.row
		}
		// The reward rate is rr while the observed reward_apy is the one
		// it was quoted at (rewardRate).
		if !m.quotedAt(m.rewardObs(rrCol, r)) {
			break
		}
		prev := idx
		if grows {
			// Growth.Apply's conditions on the step's growth (the
			// table's at), the shadow's accrual time being the last
			// step's: a growth (none where its rate is NaN) over
			// (times[j-1], t], which is after the accrual time (t > last,
			// above).
			c := &cells[(j-k)*n]
			if c.APY != c.APY || !(prev > 0) || last != b.times[j-1] {
				break
			}
			idx *= c.Factor
			apy = c.APY
		} else {
			idx = m.col[r]
		}
		if rr > 0 {
			if t-last != dt { // yearsBetween for whole seconds
				dt = t - last
				yrs = years(time.Duration(dt) * time.Second)
			}
			rew += m.stepReward(prev, idx, rr, yrs)
		}
		last = t
		curve[j] = units*m.indexValue(idx, r) + rew + idle
	}
	b.held += j - k
	if j > k { // the state stepMarket leaves at the last step taken
		if m.aligned {
			m.moveTo(m.base + j - 1)
		}
		at := now[j-1-k]
		m.unit.Index, m.unit.APY, m.rew = idx, apy, rew
		m.unit.Last, m.env.Time = at, at
		if b.growth != nil && m.grow >= 0 {
			m.env.Growth = b.growth.at(j-1, m.grow)
		}
	}
	return j
}

// applyHoldEvent applies an event to market m's hold at time at: the
// shadow is accrued to at, and the event is applied to a position of the
// hold's units in the shadow's state; the units it leaves become the
// hold's.
func (b *benchTrack) applyHoldEvent(m *benchMarket, at time.Time, ev adapters.Event) {
	m.env.Time = at
	m.sync()
	if b.exact {
		if np, _, err := m.ad.Apply(m.hold, &m.env, ev); err == nil {
			m.hold = np
		}
		return
	}
	m.accrueUnit()
	p := m.unit
	p.Units, p.Rewards = m.hold.Units, fixed.Num{}
	np, _, err := m.ad.Apply(p, &m.env, ev)
	if err != nil {
		return
	}
	m.hold.Units = np.Units
	m.units = np.Units.ToFloat()
	if !m.lending && !m.ammSized {
		np.Units = m.unit.Units
	}
	np.Rewards, np.Claims = fixed.Num{}, nil
	m.unit = np
}

// results builds the benchmark results from the hold curves. A hold
// entered after the start has its metrics from its entry; one that could
// not be entered is marked not investable (and is never best_single).
func (b *benchTrack) results() []Benchmark {
	ts, rf := b.times, b.rf
	out := make([]Benchmark, 0, len(b.ms)+2)
	capital := b.capitalF
	// The headlines of the holds (each from its entry) and of equal
	// weight, computed together (computeHeadlines: side by side), each
	// held curve's first value the capital (entry costs count), restored
	// after.
	ew := b.equalWeight()
	cs := make([]headlineCurve, 0, len(b.ms)+1)
	for _, m := range b.ms {
		k0 := 0
		if m.holdOK {
			k0 = m.k0
		}
		cs = append(cs, headlineCurve{ts[k0:], m.curve[k0:]})
	}
	cs = append(cs, headlineCurve{ts, ew})
	entered := func(i int) bool { return i == len(b.ms) || b.ms[i].holdOK }
	first := make([]float64, len(cs))
	for i, c := range cs {
		if entered(i) {
			first[i], c.v[0] = c.v[0], capital
		}
	}
	hs := make([]Headline, len(cs))
	computeHeadlines(cs, rf, hs)
	for i, c := range cs {
		if entered(i) {
			c.v[0] = first[i]
		}
	}
	best := -1
	for i, m := range b.ms {
		hb := Benchmark{Name: BenchHold + " " + m.id, Kind: BenchHold, Markets: []string{m.id}, EntryCost: m.holdCost,
			Note: strings.Join(m.notes, "; "), Curve: m.curve}
		if !m.holdOK {
			hb.NotInvestable = m.notInv
			if hb.NotInvestable == "" {
				hb.NotInvestable = b.reasons[m.id]
			}
			if hb.NotInvestable == "" {
				hb.NotInvestable = "no observation in the run's range"
			}
			hb.Metrics = hs[i]
		} else {
			hb.Metrics = hs[i] // from entry, entry costs counted
			if m.k0 > 0 {
				hb.From = unixUTC(ts[m.k0])
			}
		}
		out = append(out, hb)
		if m.holdOK && (best < 0 || hb.Metrics.EndValue > out[best].Metrics.EndValue) {
			best = i
		}
	}
	// Equal weight: capital / N in each of the N markets with data in the
	// range, each entered when its data starts (idle until then).
	var held, late, idle []string
	cost := decimal.Zero
	nEW := 0
	for _, m := range b.ms {
		if !m.inEW {
			continue
		}
		nEW++
		if m.ewOK {
			held = append(held, m.id)
			cost = cost.Add(m.ewCost)
			if m.k0 > 0 {
				late = append(late, m.id+" from "+fmtDate(unixUTC(ts[m.k0])))
			}
		} else {
			idle = append(idle, m.id)
		}
	}
	ewb := Benchmark{Name: BenchEqualWeight, Kind: BenchEqualWeight, Markets: held, EntryCost: cost,
		Metrics: hs[len(b.ms)], Curve: ew}
	var notes []string
	if nEW < len(b.ms) {
		notes = append(notes, fmt.Sprintf("capital / %d: %d of %d markets have data in the range", nEW, nEW, len(b.ms)))
	}
	if len(late) > 0 {
		notes = append(notes, "entered when their data starts, their share idle until then: "+strings.Join(late, ", "))
	}
	if len(idle) > 0 {
		notes = append(notes, "could not be bought, their share held idle: "+strings.Join(idle, ", "))
	}
	ewb.Note = strings.Join(notes, "; ")
	if len(held) == 0 {
		ewb.NotInvestable = "no market could be held"
	}
	out = append(out, ewb)
	if best >= 0 {
		bb := out[best]
		bb.Name, bb.Kind = BenchBestSingle, BenchBestSingle
		note := "the market whose hold ended highest: " + b.ms[best].id
		if bb.Note != "" {
			note += " (" + bb.Note + ")"
		}
		bb.Note = note
		out = append(out, bb)
	} else {
		out = append(out, Benchmark{Name: BenchBestSingle, Kind: BenchBestSingle, EntryCost: decimal.Zero,
			Metrics: out[len(out)-1].Metrics, Curve: ew, NotInvestable: "no market could be held"})
	}
	return out
}

// equalWeight is the equal-weight curve: capital / N in each of the N
// markets with data in the range, each entered when its data starts
// (idle until then), the capital when there are none. It is summed
// market by market (each curve read in order), each step's sum in
// universe order.
func (b *benchTrack) equalWeight() []float64 {
	n := len(b.times)
	ew := make([]float64, n)
	nEW := 0
	for _, m := range b.ms {
		switch {
		case !m.inEW:
			continue
		case m.ewOK:
			for k := range m.k0 {
				ew[k] += b.partF
			}
			// The market's constants and both curves' ranges in locals:
			// one load and one store a step.
			scale, idle, ewIdle := m.ewVal0/m.holdVal0, m.holdIdle, m.ewIdle
			sum := ew[m.k0:n]
			for k, v := range m.curve[m.k0:n] {
				sum[k] += (v-idle)*scale + ewIdle
			}
		default:
			for k := range ew {
				ew[k] += b.partF
			}
		}
		nEW++
	}
	if nEW == 0 {
		for k := range ew {
			ew[k] = b.capitalF
		}
	}
	return ew
}
