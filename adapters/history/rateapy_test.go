package history_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
)

// TestLoad_RateAPY: a market whose history has an exchange rate but no
// APY gets the rate's trailing growth over history.RateAPYWindow,
// annualised, computed here from the rows independently; rows with less
// than a day of history stay unknown; an observed APY is kept.
func TestLoad_RateAPY(t *testing.T) {
	const day = 24 * time.Hour
	rate := func(i int) float64 { return 1.1 * math.Pow(1.04, float64(i)/365) * (1 + 1e-4*math.Sin(float64(i))) }
	var rows []history.Row
	for i := 0; i < 30; i++ {
		o := obs(t0.Add(time.Duration(i)*day), adapters.FieldExchangeRate, rate(i))
		if i == 20 {
			o.Put(adapters.FieldAPY, 0.5) // observed: kept, and carried forward
		}
		rows = append(rows, row("rocketpool/reth", i+2, o))
	}
	// A row half a day after the first: too little history.
	rows = append(rows, row("rocketpool/reth", 40, obs(t0.Add(12*time.Hour), adapters.FieldExchangeRate, rate(0))))
	db := openMem(t)
	mustWrite(t, db, &history.Batch{Source: "rate.csv", Format: "test", Markets: []adapters.Market{reth}, Rows: rows})
	w, err := db.Load(context.Background(), []string{"rocketpool/reth"}, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	s := w.Get("rocketpool/reth")
	if !s.Derived.Has(adapters.FieldAPY) {
		t.Errorf("Derived = %b, want FieldAPY", s.Derived)
	}
	for i, ts := range s.Times {
		o := s.At(i)
		got, ok := o.Get(adapters.FieldAPY)
		at := time.Unix(ts, 0).UTC()
		elapsed := at.Sub(t0)
		switch {
		case elapsed < day:
			if ok {
				t.Errorf("%s: apy %g derived from less than a day of history", at, got)
			}
		case elapsed >= 20*day:
			if !ok || got != 0.5 {
				t.Errorf("%s: apy %g, %v; want the observed 0.5 carried forward", at, got, ok)
			}
		default:
			d := int(elapsed / day)
			k := max(d-7, 0) // the row at the window's start, else the first
			want := math.Pow(rate(d)/rate(k), 365/float64(d-k)) - 1
			if !ok || math.Abs(got-want) > 1e-12 {
				t.Errorf("%s: apy %.15g, %v; want the %d-day growth annualised %.15g", at, got, ok, d-k, want)
			}
		}
	}
}

// TestLoad_PriceAsRate: a value-accruing staking token whose history has
// a market price and no exchange rate (cbETH's Compound feed) gets the
// price as its exchange rate, marked derived (so its peg is unknown), and
// an APY from the price's growth over history.PriceAPYWindow, computed
// here independently; none before a week of history. A rebasing token
// (stETH, price only) is left alone: its price is its peg, not its value.
func TestLoad_PriceAsRate(t *testing.T) {
	const day = 24 * time.Hour
	cbeth := adapters.Market{ID: "coinbase/cbeth", Kind: adapters.LST, Base: adapters.ETH, Protocol: "coinbase"}
	price := func(i int) float64 { return 1.01 * math.Pow(1.035, float64(i)/365) * (1 + 2e-3*math.Sin(float64(i))) }
	var rows []history.Row
	for i := 0; i < 60; i++ {
		rows = append(rows, row("coinbase/cbeth", i+2, obs(t0.Add(time.Duration(i)*day), adapters.FieldPrice, price(i))),
			row("lido/steth", i+100, obs(t0.Add(time.Duration(i)*day), adapters.FieldPrice, 0.99)))
	}
	db := openMem(t)
	mustWrite(t, db, &history.Batch{Source: "price.csv", Format: "test", Markets: []adapters.Market{cbeth, steth}, Rows: rows})
	w, err := db.Load(context.Background(), []string{"coinbase/cbeth", "lido/steth"}, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if s := w.Get("lido/steth"); s.Derived != 0 || s.Cols[adapters.FieldExchangeRate] != nil || s.Cols[adapters.FieldAPY] != nil {
		t.Errorf("rebasing stETH: derived %b, rate column %v, apy column %v; want nothing derived", s.Derived,
			s.Cols[adapters.FieldExchangeRate] != nil, s.Cols[adapters.FieldAPY] != nil)
	}
	s := w.Get("coinbase/cbeth")
	if !s.Derived.Has(adapters.FieldExchangeRate) || !s.Derived.Has(adapters.FieldAPY) {
		t.Fatalf("cbETH: Derived = %b, want the exchange rate and the APY", s.Derived)
	}
	for i := range s.Times {
		o := s.At(i)
		if r, ok := o.Get(adapters.FieldExchangeRate); !ok || r != price(i) {
			t.Errorf("day %d: exchange rate %g, %v; want the price %g", i, r, ok, price(i))
		}
		if p, known := o.Peg(adapters.PegRate); known || p != 1 {
			t.Errorf("day %d: peg %g, %v; want unknown (1, false)", i, p, known)
		}
		got, ok := o.Get(adapters.FieldAPY)
		if i < 7 {
			if ok {
				t.Errorf("day %d: apy %g from less than a week of prices", i, got)
			}
			continue
		}
		k := max(i-30, 0)
		want := math.Pow(price(i)/price(k), 365/float64(i-k)) - 1
		if !ok || math.Abs(got-want) > 1e-12 {
			t.Errorf("day %d: apy %.15g, %v; want the %d-day price growth annualised %.15g", i, got, ok, i-k, want)
		}
	}
}
