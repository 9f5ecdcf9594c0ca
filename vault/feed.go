package vault

import (
	"math"
	"sort"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
)

// Reference prices of one ETH (the gas token) used for the gas costs of
// USD and BTC vaults when neither the data nor a setting gives one.
const (
	RefETHUSD = 3000.0 // USD per ETH
	RefETHBTC = 0.05   // BTC per ETH
)

// DefaultGasAssetPrice is the value of one ETH in a base asset when the
// data cannot tell and no setting is given: 1 for ETH, RefETHUSD for
// USD, RefETHBTC for BTC.
func DefaultGasAssetPrice(base adapters.Asset) float64 {
	switch base {
	case adapters.USD:
		return RefETHUSD
	case adapters.BTC:
		return RefETHBTC
	}
	return 1
}

// GasAssetPriceAt returns the value of one ETH in base at unix time t as
// the window's data gives it: the base_usd of the first ETH market (in
// window order) whose latest observation at or before t carries one,
// divided by the base_usd of the first market of base that does (the
// same market for an ETH vault, so exactly 1). ok is false when the
// window has no such pair.
func GasAssetPriceAt(w *adapters.Window, base adapters.Asset, t int64) (float64, bool) {
	if w == nil {
		return 0, false
	}
	eth, own := 0.0, 0.0
	for _, s := range w.Series {
		if eth != 0 && own != 0 {
			break
		}
		isETH, isOwn := s.Market.Base == adapters.ETH && eth == 0, s.Market.Base == base && own == 0
		if !isETH && !isOwn || s.Cols[adapters.FieldBaseUSD] == nil {
			continue
		}
		r := s.Index(t)
		if r < 0 || !s.Set[r].Has(adapters.FieldBaseUSD) {
			continue
		}
		x := s.Cols[adapters.FieldBaseUSD][r]
		if !(x > 0) || math.IsInf(x, 0) {
			continue
		}
		if isETH {
			eth = x
		}
		if isOwn {
			own = x
		}
	}
	if eth == 0 || own == 0 {
		return 0, false
	}
	return eth / own, true
}

// Gas says how FeedWindow and ObserveWindow set a vault's gas costs.
type Gas struct {
	// Price is the gas price (gwei) while no market's observation
	// carries one.
	Price float64
	// AssetPrice is one ETH in the vault's base asset while the window
	// cannot tell (GasAssetPriceAt); zero means DefaultGasAssetPrice.
	AssetPrice float64
}

// assetPrice is the gas asset price at t.
func (g Gas) assetPrice(w *adapters.Window, base adapters.Asset, t int64) float64 {
	if x, ok := GasAssetPriceAt(w, base, t); ok {
		return x
	}
	if g.AssetPrice > 0 {
		return g.AssetPrice
	}
	return DefaultGasAssetPrice(base)
}

// GasAssetPrice is the value of one ETH in the base asset the vault's gas
// costs are priced at.
func (v *Vault) GasAssetPrice() float64 { return v.gasAssetPrice }

// FedEvent is one event FeedWindow met: applied with the loss it caused,
// or not applied with the domain error that refused it.
type FedEvent struct {
	adapters.Event
	Loss decimal.Decimal
	Err  error
}

// FeedReport is what FeedWindow did.
type FeedReport struct {
	// Events are the events in (the vault's time, t], in time order.
	Events []FedEvent
	// Age is the age at t of the stalest market's latest observation
	// (math.MaxInt64 when a market has none).
	Age time.Duration
}

// FeedWindow brings a window's market data to the vault up to t: the
// events of its markets in (the vault's time, t] are applied at their own
// times (in time order, universe order within an instant), each after the
// observations of that time; then every market's latest observation at
// or before t and the gas are set (ObserveWindow). An event the vault
// refuses (a domain error) is reported and skipped; any other error stops
// the feed.
//
// The backtest engine keeps its own monotonic row pointers for speed; its
// tests hold it to these semantics.
func (v *Vault) FeedWindow(w *adapters.Window, t time.Time, gas Gas) (FeedReport, error) {
	var rep FeedReport
	from := v.now
	for _, s := range v.markets {
		if ser := w.Get(s.id); ser != nil {
			for _, ev := range ser.Events {
				if ev.Time.After(from) && !ev.Time.After(t) {
					rep.Events = append(rep.Events, FedEvent{Event: ev, Loss: zero})
				}
			}
		}
	}
	sort.SliceStable(rep.Events, func(i, j int) bool { return rep.Events[i].Time.Before(rep.Events[j].Time) })
	for i := range rep.Events {
		fe := &rep.Events[i]
		if _, err := v.ObserveWindow(w, fe.Time, gas); err != nil {
			return rep, err
		}
		loss, err := v.ApplyEvent(fe.Time, fe.Event)
		if err != nil {
			if adapters.KindOf(err) == adapters.KindOther {
				return rep, err
			}
			fe.Err = err
			continue
		}
		fe.Loss = loss
	}
	age, err := v.ObserveWindow(w, t, gas)
	rep.Age = age
	return rep, err
}

// ObserveWindow sets every market's latest observation at or before t
// from the window, and the gas: the gas price of the first market (in
// vault order) whose observation carries one, else gas.Price; the gas
// asset price from the data (GasAssetPriceAt), else gas.AssetPrice, else
// DefaultGasAssetPrice. It returns the age at t of the stalest market's
// observation (math.MaxInt64 when a market has none).
func (v *Vault) ObserveWindow(w *adapters.Window, t time.Time, gas Gas) (time.Duration, error) {
	age := time.Duration(0)
	price, haveGas := 0.0, false
	var obs adapters.Observation
	for _, s := range v.markets {
		ser := w.Get(s.id)
		r := -1
		if ser != nil {
			r = ser.Index(t.Unix())
		}
		if r < 0 {
			age = time.Duration(math.MaxInt64)
			continue
		}
		ser.Fill(r, &obs)
		if err := v.Observe(s.id, obs); err != nil {
			return 0, err
		}
		if a := t.Sub(time.Unix(ser.Times[r], 0)); a > age {
			age = a
		}
		if g, ok := obs.Get(adapters.FieldGasPrice); ok && !haveGas {
			price, haveGas = g, true
		}
	}
	if !haveGas {
		price = gas.Price
	}
	asset := gas.assetPrice(w, v.cfg.Base, t.Unix())
	if price != v.gasPrice || asset != v.gasAssetPrice || v.gasPrice == 0 {
		if err := v.SetGas(price, asset); err != nil {
			return 0, err
		}
	}
	return age, nil
}

// PrepareState completes a State (Vault.StrategyState) with a window's
// history at the State's time: each market's Series, its Row (the latest
// at or before the time, -1 when none) and that row's observation (zero
// when none), and the parameters (nil leaves them unset: the strategy's
// own).
func PrepareState(st *strategies.State, w *adapters.Window, params map[string]float64) {
	t := st.Time.Unix()
	for i := range st.Markets {
		ms := &st.Markets[i]
		ser := w.Get(ms.Market.ID)
		ms.Series, ms.Row, ms.Obs = ser, -1, adapters.Observation{}
		if ser != nil {
			if r := ser.Index(t); r >= 0 {
				ms.Row, ms.Obs = r, ser.At(r)
			}
		}
	}
	if params != nil {
		st.Params = params
	}
}

// ObserveRow is ObserveIndex with row r of series s as the observation:
// the market's environment reads it from the series (Series.Fill) when
// it is first read, not when it is fed (a backtest feeds every market at
// every step, and reads between its decisions only the markets held).
//
// ObserveStep is it for every market at once (a backtest's step).
func (v *Vault) ObserveRow(i int, s *adapters.Series, r int) error {
	if uint(i) < uint(len(v.markets)) && uint(r) < uint(len(s.Times)) {
		v.markets[i].point(s, r)
		return nil
	}
	return v.rowErr(i, s, r)
}

// rowErr is ObserveRow's (and ObserveStep's) error for market i and row
// r of s out of range.
func (v *Vault) rowErr(i int, s *adapters.Series, r int) error {
	if i < 0 || i >= len(v.markets) {
		return adapters.E("vault.Observe", adapters.KindNotFound, "vault %q has no market #%d", v.cfg.Name, i)
	}
	return adapters.E("vault.Observe", adapters.KindInvalid, "vault %q: market #%d has no row %d in its series of %d", v.cfg.Name, i, r, s.Len())
}

// ObserveGrowth gives market #i's environment the market's growth over
// the step that ends at the vault's next time (adapters.Env.Growth): the
// factor its driver computed ahead for the row ObserveRow names, which
// the driver's Accrue takes instead of computing it again when it is for
// the position's interval and rate. While the position is not brought to
// the steps (a backtest's steps where the vault books nothing), the
// steps' growths are multiplied into one (chainGrowth), which the
// position takes when it is. ObserveStep is it for every market at once.
func (v *Vault) ObserveGrowth(i int, g adapters.Growth) error {
	if i < 0 || i >= len(v.markets) {
		return adapters.E("vault.Observe", adapters.KindNotFound, "vault %q has no market #%d", v.cfg.Name, i)
	}
	sl := v.markets[i]
	sl.en.Growth = chainGrowth(sl.en.Growth, g, sl.pos.Last)
	return nil
}

// GrowthCell is one market's growth over a step as a step's feed carries
// it (StepFeed.Growth): the rate it compounds, NaN for none, and the
// factor one unit of the market grows by.
type GrowthCell struct{ APY, Factor float64 }

// StepFeed is a backtest's feed of every market at one step, indexed by
// the vault's markets (ObserveStep). The engine keeps one for the run and
// rewrites its Rows and growths at each step.
type StepFeed struct {
	// Series[i] is market i's series, Rows[i] its row at the step (-1:
	// the row has not moved since the market was last fed).
	Series []*adapters.Series
	Rows   []int
	// Growth is the markets' growths over the step (From, To] (nil: none
	// is fed at this step); market i's is Growth[Cols[i]], none when
	// Cols[i] < 0 or the cell's APY is NaN.
	From, To int64
	Growth   []GrowthCell
	Cols     []int
}

// ObserveStep feeds every market one step at once: ObserveRow for each
// market whose row moved, then, when the feed carries growths,
// ObserveGrowth for each market with a growth column (a NaN cell is the
// zero Growth). It is what the engine calls at every step, where calling
// the two for each of its markets cost a call, the vault's bounds checks
// and a Growth built from the growth table per market and step.
func (v *Vault) ObserveStep(f *StepFeed) error {
	ms := v.markets
	n := len(ms)
	if len(f.Series) != n || len(f.Rows) != n || (f.Growth != nil && len(f.Cols) != n) {
		return adapters.E("vault.Observe", adapters.KindInvalid, "vault %q: a step's feed of %d series, %d rows and %d growth columns for %d markets",
			v.cfg.Name, len(f.Series), len(f.Rows), len(f.Cols), n)
	}
	sers, rows := f.Series[:n], f.Rows[:n]
	for i, sl := range ms {
		if r := rows[i]; r >= 0 {
			s := sers[i]
			if r >= len(s.Times) {
				return v.rowErr(i, s, r)
			}
			sl.point(s, r)
		}
	}
	if f.Growth == nil {
		return nil
	}
	cols, cells := f.Cols[:n], f.Growth
	for i, sl := range ms {
		j := cols[i]
		if j < 0 {
			continue
		}
		if j >= len(cells) {
			return adapters.E("vault.Observe", adapters.KindInvalid, "vault %q: market #%d's growth column %d is not in a step's %d", v.cfg.Name, i, j, len(cells))
		}
		g := adapters.Growth{}
		if c := &cells[j]; c.APY == c.APY {
			g = adapters.Growth{From: f.From, To: f.To, APY: c.APY, Factor: c.Factor}
		}
		sl.en.Growth = chainGrowth(sl.en.Growth, g, sl.pos.Last)
	}
	return nil
}

// chainGrowth is the growth a slot's environment carries after the
// growth g of the next step, where cur is the one it carried and last
// the time its position was last accrued: g and cur multiplied into one
// growth over both steps when cur ended where g starts and the position
// has not been accrued since cur's start (a backtest brings a position to
// a step only where its vault acts: between, the market's growths are
// kept step by step, as a lending market's liquidity index compounds each
// block's rate, and the position takes them all at once), else g.
func chainGrowth(cur, g adapters.Growth, last time.Time) adapters.Growth {
	if g.To <= g.From || cur.To <= cur.From || cur.To != g.From ||
		last.Nanosecond() != 0 || last.Unix() != cur.From {
		return g
	}
	return adapters.Growth{From: cur.From, To: g.To, APY: g.APY, Factor: cur.Factor * g.Factor}
}

// rowFeed is the row of a series a slot's observation is to be read from
// (ObserveRow) while stale: the observation is written from it when the
// slot's environment is first read. Once an observation was written
// whole from a series (Series.Fill), later rows of the same series write
// only its columns (fields): the others are zero already.
type rowFeed struct {
	ser   *adapters.Series
	row   int
	stale bool

	// from is the series the observation was last written from whole
	// (nil: written from elsewhere, Observe); fields are its columns.
	from   *adapters.Series
	fields []adapters.Field
}

// point makes row r of ser the feed's row, to be read. The series is
// stored only when it changed (a feed is pointed at every step, nearly
// always into the same series: no pointer write, no write barrier).
func (f *rowFeed) point(ser *adapters.Series, r int) {
	if f.ser != ser {
		f.ser = ser
	}
	f.row, f.stale = r, true
}

// forget records that the observation was written from elsewhere.
func (f *rowFeed) forget() { f.stale, f.from = false, nil }

// fill writes the feed's row into o (last written by this feed, or
// forgotten) and marks the feed read.
func (f *rowFeed) fill(o *adapters.Observation) {
	s, r := f.ser, f.row
	f.stale = false
	if f.from != s {
		s.Fill(r, o)
		f.from, f.fields = s, f.fields[:0]
		for c := range s.Cols {
			if s.Cols[c] != nil {
				f.fields = append(f.fields, adapters.Field(c))
			}
		}
		return
	}
	o.Time = time.Unix(s.Times[r], 0).UTC()
	o.Set = s.Set[r]
	o.Derived = s.Derived & s.Set[r]
	for _, c := range f.fields {
		o.Values[c] = s.Cols[c][r]
	}
}
