package adapters

import (
	"sort"
	"time"
)

// Series is one market's history in the columnar in-memory form the
// backtest engine and strategy windows read. Times are unix seconds,
// ascending and unique. Cols[f] is nil when field f was never observed in
// the range; otherwise it has one value per row, and Set[i] says which
// fields row i observed (a value not in Set[i] is zero).
//
// A Series is immutable once loaded: code that changes a history builds a
// new Series. Strategies may keep what they derive from one (the rules
// strategies cache window columns per series, recognising a series by its
// address and length).
type Series struct {
	Market Market
	Times  []int64
	Cols   [NumFields][]float64
	Set    []FieldSet
	Events []Event // events in the range, by time
	// Derived are the fields that some rows carry derived from other
	// fields rather than observed: FieldAPY from the trailing growth of
	// the exchange rate (or liquidity index) where the source has no APY
	// (history.RateAPYWindow); FieldExchangeRate (every row's) from the
	// market price of a value-accruing staking token whose source has no
	// rate (cbETH's Compound feed), with its APY from the price's growth
	// (history.PriceAPYWindow): its peg is then unknown. Plans, backtest
	// warnings and reports say so.
	Derived FieldSet
}

// Len is the number of rows.
func (s *Series) Len() int { return len(s.Times) }

// At returns row i as an Observation (a copy; no allocation).
func (s *Series) At(i int) Observation {
	o := Observation{Time: time.Unix(s.Times[i], 0).UTC(), Set: s.Set[i], Derived: s.Derived & s.Set[i]}
	for f := range s.Cols {
		if c := s.Cols[f]; c != nil {
			o.Values[f] = c[i]
		}
	}
	return o
}

// Fill writes row i into o, reusing it (the hot-path form of At).
func (s *Series) Fill(i int, o *Observation) {
	o.Time = time.Unix(s.Times[i], 0).UTC()
	o.Set = s.Set[i]
	o.Derived = s.Derived & s.Set[i]
	for f := range s.Cols {
		if c := s.Cols[f]; c != nil {
			o.Values[f] = c[i]
		} else {
			o.Values[f] = 0
		}
	}
}

// Index returns the last row at or before unix time t, or -1 when every
// row is after t.
func (s *Series) Index(t int64) int {
	return sort.Search(len(s.Times), func(i int) bool { return s.Times[i] > t }) - 1
}

// Window is the history of a set of markets over a time range, as loaded
// by DB.Load. Series are in the order the markets were asked for.
type Window struct {
	From, To time.Time
	Series   []*Series
}

// Get returns the series of a market, or nil.
func (w *Window) Get(id string) *Series {
	for _, s := range w.Series {
		if s.Market.ID == id {
			return s
		}
	}
	return nil
}

// Rows is the total number of observations in the window.
func (w *Window) Rows() int {
	n := 0
	for _, s := range w.Series {
		n += s.Len()
	}
	return n
}
