package rules

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
)

// randomSeries is a series of n rows at irregular times (5 minutes to 3
// hours apart) where each field is missing from about one row in five.
func randomSeries(rng *rand.Rand, n int) *adapters.Series {
	s := &adapters.Series{Times: make([]int64, n), Set: make([]adapters.FieldSet, n)}
	fields := []adapters.Field{adapters.FieldAPY, adapters.FieldRewardAPY, adapters.FieldExchangeRate, adapters.FieldPrice, adapters.FieldTVL}
	for _, f := range fields {
		s.Cols[f] = make([]float64, n)
	}
	t := planTime.Unix() - int64(n)*3600
	for r := range n {
		t += 300 + rng.Int64N(3*3600)
		s.Times[r] = t
		for _, f := range fields {
			if rng.IntN(5) == 0 {
				continue
			}
			v := 0.03 + 0.01*rng.NormFloat64()
			switch f {
			case adapters.FieldTVL:
				v = 1e9 * rng.Float64()
				if rng.IntN(10) == 0 {
					v = 0
				}
			case adapters.FieldExchangeRate:
				v = 1.1
			case adapters.FieldPrice:
				v = 1.1 * (0.98 + 0.02*rng.Float64())
			}
			s.Cols[f][r] = v
			s.Set[r] = s.Set[r].With(f)
		}
	}
	return s
}

// TestWindowCache_MatchesRows compares windows read from the cache with
// windows computed from the rows: equal, except averages of more than
// avgExactRows values, which may differ by a few ulps.
func TestWindowCache_MatchesRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	consts := []profileConsts{{rewardKeep: 1}, {rewardKeep: 0.5, restakingAPY: 0.02}}
	var windows []window
	for op := winAvg; op <= winChange; op++ {
		for _, name := range []string{"apy", "net_apy", "peg", "tvl", "reward_apy", "utilization"} {
			for _, secs := range []int64{1800, 86400, 7 * 86400, 60 * 86400} {
				f, _ := windowField(name)
				windows = append(windows, window{Op: op, Name: name, Secs: secs, field: f})
			}
		}
	}
	var buf []float64
	for trial := range 20 {
		s := randomSeries(rng, 50+rng.IntN(2000))
		sw := newWindowCache(1, len(windows)).get(0, s, len(windows))
		for range 40 {
			c := &consts[rng.IntN(len(consts))]
			// Plan times on, between and beyond rows; Row at or before.
			tt := s.Times[rng.IntN(len(s.Times))] + rng.Int64N(7200) - 3600
			row := s.Index(tt)
			if row > 0 && rng.IntN(4) == 0 {
				row -= rng.IntN(row)
			}
			ms := &strategies.MarketState{Series: s, Row: row}
			for wi := range windows {
				w := &windows[wi]
				var want float64
				want, buf = w.compute(ms, c, tt, 0.5, buf)
				got := w.computeCached(ms, sw.col(wi, w, c), tt, 0.5)
				if got == want || (math.IsNaN(got) && math.IsNaN(want)) {
					continue
				}
				if w.Op == winAvg && len(buf) > avgExactRows {
					// The left-to-right sum errs by up to n ulps of the
					// values; the prefix sums by a few ulps of the mean.
					exact := exactMean(buf)
					if d := math.Abs(got - exact); d > 4*ulp(exact) {
						t.Fatalf("%s(%s): cached %.17g is %g from the exact mean %.17g (%d values)", w.Op, w.Name, got, d, exact, len(buf))
					}
					abs := 0.0
					for _, v := range buf {
						abs += math.Abs(v)
					}
					if d := math.Abs(want - exact); d > float64(len(buf))*1.2e-16*abs/float64(len(buf))+ulp(exact) {
						t.Fatalf("%s(%s): rows %.17g is %g from the exact mean %.17g", w.Op, w.Name, want, d, exact)
					}
					continue
				}
				if tol := 0.0; math.Abs(got-want) > tol {
					t.Fatalf("trial %d: %s(%s, %ds) at %d row %d (%d values): cached %.17g, rows %.17g",
						trial, w.Op, w.Name, w.Secs, tt, row, len(buf), got, want)
				}
			}
		}
	}
}

// exactMean is the mean of vals rounded once (the sum in big.Float).
func exactMean(vals []float64) float64 {
	sum := new(big.Float).SetPrec(2000)
	for _, v := range vals {
		sum.Add(sum, new(big.Float).SetPrec(2000).SetFloat64(v))
	}
	sum.Quo(sum, new(big.Float).SetPrec(2000).SetInt64(int64(len(vals))))
	f, _ := sum.Float64()
	return f
}

func ulp(x float64) float64 { return math.Nextafter(math.Abs(x), math.Inf(1)) - math.Abs(x) }

// TestWindowCache_Get checks that a cache entry follows its series: the
// same series hits, a grown or different one rebuilds.
func TestWindowCache_Get(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	c := newWindowCache(2, 1)
	s := randomSeries(rng, 10)
	a := c.get(1, s, 1)
	if b := c.get(1, s, 1); b != a {
		t.Errorf("same series: new entry")
	}
	s2 := randomSeries(rng, 10)
	if b := c.get(1, s2, 1); b == a || b.s != s2 {
		t.Errorf("other series: entry not rebuilt")
	}
	grown := *s2
	grown.Times = append(grown.Times[:len(grown.Times):len(grown.Times)], grown.Times[9]+60)
	grown.Set = append(grown.Set, 0)
	if b := c.get(1, &grown, 1); b.n != 11 {
		t.Errorf("grown series: entry has %d rows, want 11", b.n)
	}
	if c.get(5, s, 1) != nil || c.get(0, &adapters.Series{}, 1) != nil || (*windowCache)(nil).get(0, s, 1) != nil {
		t.Errorf("uncachable inputs gave an entry")
	}
	if newWindowCache(3, 0) != nil {
		t.Errorf("a strategy without windows has a cache")
	}
}

// TestWindowCache_Interleaved: workers planning different histories at
// once (Monte Carlo paths) alternate their series in one market's slot;
// each keeps its entry while no more than slotWays series alternate, and
// the least recently planned one is dropped beyond that.
func TestWindowCache_Interleaved(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	c := newWindowCache(1, 1)
	var series []*adapters.Series
	var entries []*seriesWindows
	for k := 0; k < slotWays; k++ {
		series = append(series, randomSeries(rng, 10))
		entries = append(entries, c.get(0, series[k], 1))
	}
	for round := 0; round < 3; round++ {
		for k, s := range series {
			if got := c.get(0, s, 1); got != entries[k] {
				t.Fatalf("round %d: series %d of %d alternating lost its entry", round, k, slotWays)
			}
		}
	}
	extra := randomSeries(rng, 10)
	c.get(0, extra, 1) // evicts the least recently planned: series[0]
	if got := c.get(0, series[slotWays-1], 1); got != entries[slotWays-1] {
		t.Errorf("the most recent series lost its entry to one more")
	}
	if got := c.get(0, series[0], 1); got == entries[0] {
		t.Errorf("the least recently planned series kept its entry past %d others", slotWays)
	}
}

// TestWindow_CurrentField checks that every name a window can read has a
// float field in the market environment (window.current reads it).
func TestWindow_CurrentField(t *testing.T) {
	for _, d := range Names {
		if !d.Window {
			continue
		}
		if _, ok := envFloatOffsets[d.Name]; !ok {
			t.Errorf("window name %s has no float64 field in marketEnv", d.Name)
		}
	}
}

// TestWindow_RowsNear checks that rowsNear finds the rows rows finds
// from every hint (the right one, one before it, others before and after,
// out of range) on irregular times, for every look-back and time.
func TestWindow_RowsNear(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var times []int64
	for h := int64(0); len(times) < 60; h += 1 + rng.Int64N(5) {
		times = append(times, h*3600)
	}
	s := &adapters.Series{Times: times, Set: make([]adapters.FieldSet, len(times))}
	for _, op := range []winOp{winAvg, winChange} {
		for _, secs := range []int64{1800, 3600, 6 * 3600, 24 * 3600, 1000 * 3600} {
			w := &window{Op: op, Secs: secs}
			for r := range times {
				ms := &strategies.MarketState{Series: s, Row: r}
				for _, t0 := range []int64{times[r], times[r] + 1800} {
					ws, we, wok := w.rows(ms, t0)
					for hint := -1; hint <= len(times)+1; hint++ {
						gs, ge, after, gok := w.rowsNear(ms, t0, hint)
						if gs != ws || ge != we || gok != wok {
							t.Fatalf("%s %ds, row %d, t %d, hint %d: rowsNear %d..%d %v, rows %d..%d %v", op, secs, r, t0, hint, gs, ge, gok, ws, we, wok)
						}
						if gok && (after > ge+1 || (after <= ge && times[after] <= t0-secs) || (after > 0 && times[after-1] > t0-secs)) {
							t.Fatalf("%s %ds, row %d, t %d, hint %d: after %d is not the first row after the start", op, secs, r, t0, hint, after)
						}
					}
				}
			}
		}
	}
}
