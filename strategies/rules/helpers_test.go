package rules

import (
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"

	"github.com/yieldvault/yieldvault/fixed"
)

// planTime is the State time of the hand-built test states.
var planTime = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)

// row is one observation of a test series, hours relative to planTime.
type row struct {
	hours float64
	vals  map[adapters.Field]float64
}

// obs builds a row.
func obs(hours float64, kv ...float64) row {
	r := row{hours: hours, vals: map[adapters.Field]float64{}}
	for i := 0; i+1 < len(kv); i += 2 {
		r.vals[adapters.Field(kv[i])] = kv[i+1]
	}
	return r
}

// Shorthands for obs keys.
const (
	fAPY   = float64(adapters.FieldAPY)
	fRew   = float64(adapters.FieldRewardAPY)
	fRate  = float64(adapters.FieldExchangeRate)
	fPrice = float64(adapters.FieldPrice)
	fTVL   = float64(adapters.FieldTVL)
	fUtil  = float64(adapters.FieldUtilization)
	fUSD   = float64(adapters.FieldBaseUSD)
)

// marketState builds the state of a catalog market from rows (sorted by
// time); rows after planTime are in the series but not visible.
func marketState(t testing.TB, cat *adapters.Catalog, id string, rows ...row) strategies.MarketState {
	t.Helper()
	m, err := cat.Market(id)
	if err != nil {
		t.Fatal(err)
	}
	p, err := cat.ProfileFor(m)
	if err != nil {
		t.Fatal(err)
	}
	s := &adapters.Series{Market: m}
	for _, r := range rows {
		s.Times = append(s.Times, planTime.Add(time.Duration(r.hours*float64(time.Hour))).Unix())
	}
	for f := adapters.Field(0); f < adapters.NumFields; f++ {
		used := false
		for _, r := range rows {
			if _, ok := r.vals[f]; ok {
				used = true
			}
		}
		if !used {
			continue
		}
		s.Cols[f] = make([]float64, len(rows))
		for i, r := range rows {
			s.Cols[f][i] = r.vals[f]
		}
	}
	s.Set = make([]adapters.FieldSet, len(rows))
	for i, r := range rows {
		for f := range r.vals {
			s.Set[i] = s.Set[i].With(f)
		}
	}
	ms := strategies.MarketState{Market: m, Profile: p, Series: s, Row: s.Index(planTime.Unix())}
	if ms.Row >= 0 {
		ms.Obs = s.At(ms.Row)
	}
	return ms
}

// newState builds a State at planTime over markets with a NAV of 1000.
func newState(base adapters.Asset, ms ...strategies.MarketState) *strategies.State {
	return &strategies.State{Time: planTime, Base: base, NAV: fixed.NewFromInt(1000), Idle: fixed.NewFromInt(1000),
		Markets: ms, BaseUSD: 1}
}

// mustLoad loads a strategy from YAML text or fails the test.
func mustLoad(t testing.TB, src string) *Strategy {
	t.Helper()
	s, err := Load("test.yaml", []byte(src), nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return s
}
