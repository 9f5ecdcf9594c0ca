package lending_test

import (
	"math"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/internal/testenv"
	"github.com/yieldvault/yieldvault/fixed"
)

// growthSeries is an hourly series of a lending market with the fields
// given at every row (rates varying by row) and a gap of three hours
// after row 5.
func growthSeries(m adapters.Market, fields ...adapters.Field) *adapters.Series {
	s := &adapters.Series{Market: m}
	for _, f := range fields {
		s.Cols[f] = []float64{}
	}
	at := t0
	for r := 0; r < 12; r++ {
		var set adapters.FieldSet
		for _, f := range fields {
			v := 0.0
			switch f {
			case adapters.FieldAPY:
				v = 0.03 + 0.001*float64(r)
			case adapters.FieldUtilization:
				v = 0.5 + 0.02*float64(r)
			case adapters.FieldTVL:
				v = 1e8
			}
			s.Cols[f] = append(s.Cols[f], v)
			set = set.With(f)
		}
		s.Times = append(s.Times, at.Unix())
		s.Set = append(s.Set, set)
		at = at.Add(time.Hour)
		if r == 5 {
			at = at.Add(3 * time.Hour)
		}
	}
	return s
}

// growthOf is the driver's growth over step k of times (Grower) at the
// row observed at its end.
func growthOf(t *testing.T, a *adapters.Adapter, s *adapters.Series, times []int64, k int) (adapters.Growth, bool) {
	t.Helper()
	g, ok := a.Driver().(adapters.Grower)
	if !ok {
		t.Fatalf("the driver of %s is not a Grower", a.Market().ID)
	}
	o := s.At(s.Index(times[k]))
	apy, f, ok := g.Growth(&o, times[k-1], times[k])
	return adapters.Growth{From: times[k-1], To: times[k], APY: apy, Factor: f}, ok
}

// TestDriver_Growth checks the lending driver's growth over each step
// with the compounding formula computed here, (1+apy)^(dt / 365 days) at
// the row observed at the step's end (the steps are half-hourly, so rows
// repeat, and a gap holds the last row), and that a position accrued
// with that growth in its environment (Env.Growth), or brought over it by
// Growth.Apply, ends with the same index, rate and time, to the bit, as
// one accrued without it.
func TestDriver_Growth(t *testing.T) {
	a := testenv.Open(t, nil, "aave-v3/weth")
	s := growthSeries(a.Market(), adapters.FieldAPY)
	var times []int64
	for at := t0; !at.After(t0.Add(14 * time.Hour)); at = at.Add(30 * time.Minute) {
		times = append(times, at.Unix())
	}
	env := func(k int, g adapters.Growth) *adapters.Env {
		return &adapters.Env{Time: time.Unix(times[k], 0).UTC(), Obs: s.At(s.Index(times[k])), Growth: g}
	}
	with, _, err := a.Deposit(a.NewPosition(), env(0, adapters.Growth{}), fixed.NewFromInt(100))
	if err != nil {
		t.Fatal(err)
	}
	without, applied := with, with
	for k := 1; k < len(times); k++ {
		g, ok := growthOf(t, a, s, times, k)
		apy := s.Cols[adapters.FieldAPY][s.Index(times[k])]
		want := math.Pow(1+apy, float64(times[k]-times[k-1])/(365*24*3600))
		if !ok || g.APY != apy || math.Abs(g.Factor/want-1) > 1e-14 {
			t.Fatalf("step %d: growth %+v (ok %v), want at %g by %.17g", k, g, ok, apy, want)
		}
		a.Accrue(&with, env(k, g))
		a.Accrue(&without, env(k, adapters.Growth{}))
		if with.Index != without.Index || with.APY != without.APY || with.Last != without.Last {
			t.Fatalf("step %d: index %.17g, APY %g with the growth; %.17g, %g without", k, with.Index, with.APY, without.Index, without.APY)
		}
		// Growth.Apply is Accrue at the row the growth was computed from.
		e := env(k, g)
		if !g.Apply(&applied, e.Time) {
			t.Fatalf("step %d: Apply refused the step's growth", k)
		}
		if applied.Index != without.Index || applied.APY != without.APY || !applied.Last.Equal(without.Last) || applied.Entry != without.Entry || applied.Adapt != without.Adapt {
			t.Fatalf("step %d: Apply gave index %.17g, APY %g, last %s; Accrue %.17g, %g, %s", k, applied.Index, applied.APY, applied.Last, without.Index, without.APY, without.Last)
		}
		if g.Apply(&applied, e.Time) {
			t.Fatalf("step %d: Apply took the step's growth twice", k)
		}
	}
	// A growth for another interval or rate is ignored, never applied.
	p := without
	next := env(len(times)-1, adapters.Growth{})
	next.Time = next.Time.Add(time.Hour)
	for _, g := range []adapters.Growth{
		{From: p.Last.Unix() - 1, To: next.Time.Unix(), APY: next.Obs.Values[adapters.FieldAPY], Factor: 2},
		{From: p.Last.Unix(), To: next.Time.Unix(), APY: 0.5, Factor: 2},
	} {
		q, r := p, p
		next.Growth = g
		a.Accrue(&q, next)
		next.Growth = adapters.Growth{}
		a.Accrue(&r, next)
		if q.Index != r.Index {
			t.Errorf("growth %+v not for the position changed its index: %.17g, want %.17g", g, q.Index, r.Index)
		}
	}
	// One for its interval and rate is taken as it is (the factor is
	// what Accrue would compute, so nothing is computed again).
	q := p
	next.Growth = adapters.Growth{From: p.Last.Unix(), To: next.Time.Unix(), APY: next.Obs.Values[adapters.FieldAPY], Factor: 2}
	a.Accrue(&q, next)
	if q.Index != 2*p.Index {
		t.Errorf("growth for the position's interval and rate: index %.17g, want the factor's %.17g", q.Index, 2*p.Index)
	}
}

// TestDriver_GrowthNone: no growth where a position's own size moves its
// rate (the market's supply is observed), the index is observed, or the
// rate is zero.
func TestDriver_GrowthNone(t *testing.T) {
	a := testenv.Open(t, nil, "aave-v3/weth")
	times := []int64{t0.Unix(), t0.Add(time.Hour).Unix()}
	for _, tc := range []struct {
		name   string
		fields []adapters.Field
	}{
		{"supply observed", []adapters.Field{adapters.FieldAPY, adapters.FieldUtilization, adapters.FieldSupply}},
		{"index observed", []adapters.Field{adapters.FieldAPY, adapters.FieldIndex}},
		{"no rate", []adapters.Field{adapters.FieldTVL}},
	} {
		s := growthSeries(a.Market(), tc.fields...)
		if s.Cols[adapters.FieldIndex] != nil {
			for r := range s.Cols[adapters.FieldIndex] {
				s.Cols[adapters.FieldIndex][r] = 1.01
			}
		}
		if g, ok := growthOf(t, a, s, times, 1); ok {
			t.Errorf("%s: growth %+v, want none", tc.name, g)
		}
	}
	if _, ok := testenv.Open(t, nil, "aave-v3/wsteth-loop").Driver().(adapters.Grower); ok {
		t.Errorf("a loop's driver is a Grower")
	}
}

// TestDriver_GrowthRate holds the lending driver to adapters.RateGrower's
// contract: Growth over any interval at any row is, to the bit, the
// rate GrowthRate reads from the row compounded by GrowthFactors over the
// interval's length, and none where GrowthRate has no rate or the
// interval is empty; on rows of observed rates, rates from the
// utilization, observed supply or index (none), and rates of zero.
func TestDriver_GrowthRate(t *testing.T) {
	a := testenv.Open(t, nil, "aave-v3/weth")
	rg, ok := a.Driver().(adapters.RateGrower)
	if !ok {
		t.Fatalf("the lending driver is not a RateGrower")
	}
	for i, fields := range [][]adapters.Field{ // the first three grow
		{adapters.FieldAPY},
		{adapters.FieldUtilization},
		{adapters.FieldAPY, adapters.FieldTVL},
		{adapters.FieldAPY, adapters.FieldUtilization, adapters.FieldSupply},
		{adapters.FieldAPY, adapters.FieldIndex},
		{adapters.FieldTVL},
	} {
		s := growthSeries(a.Market(), fields...)
		if col := s.Cols[adapters.FieldIndex]; col != nil {
			for r := range col {
				col[r] = 1.01
			}
		}
		if col := s.Cols[adapters.FieldAPY]; col != nil {
			col[3] = 0 // a rate of zero: no growth
		}
		var rates, want []float64
		var secs []int64
		for r := range s.Len() {
			o := s.At(r)
			rate, okR := rg.GrowthRate(&o)
			for _, dt := range []int64{3600, 1, 0, -5, 86400, 7 * 86400, 365 * 86400} {
				from, to := s.Times[r]-dt, s.Times[r]
				apy, f, okG := rg.Growth(&o, from, to)
				if okG != (okR && dt > 0) || okG && apy != rate {
					t.Fatalf("%v, row %d, %ds: Growth rate %v (%v), GrowthRate %v (%v)", fields, r, dt, apy, okG, rate, okR)
				}
				if okG {
					rates, secs, want = append(rates, rate), append(secs, dt), append(want, f)
				}
			}
		}
		got := make([]float64, len(rates))
		rg.GrowthFactors(rates, secs, got)
		for i := range got {
			if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
				t.Fatalf("%v: rate %v over %ds: GrowthFactors %.17g, Growth %.17g", fields, rates[i], secs[i], got[i], want[i])
			}
		}
		if grows := i < 3; grows != (len(rates) > 0) {
			t.Errorf("%v: %d growths, want some: %v", fields, len(rates), grows)
		}
	}
}
