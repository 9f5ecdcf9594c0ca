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
