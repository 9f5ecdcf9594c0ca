package backtest

import (
	"context"
	"math"
	"testing"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history/importers"
)

// dailyLogSD is the sd of the log changes between values one day apart
// (ts in unix seconds; pairs not exactly a day apart are skipped).
func dailyLogSD(ts []int64, vs []float64) (sd float64, n int) {
	j := 0
	var xs []float64
	for i := range ts {
		for j < i && ts[j] < ts[i]-86400 {
			j++
		}
		if j < i && ts[j] == ts[i]-86400 && vs[j] > 0 && vs[i] > 0 {
			xs = append(xs, math.Log(vs[i]/vs[j]))
		}
	}
	var m float64
	for _, x := range xs {
		m += x
	}
	m /= float64(len(xs))
	var v float64
	for _, x := range xs {
		v += (x - m) * (x - m)
	}
	return math.Sqrt(v / float64(len(xs)-1)), len(xs)
}

// TestW1_TVL keeps the W1 benchmark's TVL realistic: the sd of its
// day-over-day log changes is within 10% of the real Lido stETH TVL's
// (DefiLlama, shared/data/lido-steth-apy-defillama-daily, computed here),
// and, as in the real file, no market's TVL falls 20% within 24 hours, the
// built-in tvl-drop's threshold (change(tvl, "24h") < -0.2), which fired
// at every step of W1 on the former uniform draws.
func TestW1_TVL(t *testing.T) {
	dir := sharedData(t, "lido-steth-apy-defillama-daily")
	bs, err := importers.ImportDir(context.Background(), dir, importers.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ts []int64
	var vs []float64
	for _, b := range bs {
		for _, r := range b.Rows {
			if v, ok := r.Obs.Get(adapters.FieldTVL); ok {
				ts, vs = append(ts, r.Obs.Time.Unix()), append(vs, v)
			}
		}
	}
	real, n := dailyLogSD(ts, vs)
	if n < 1000 {
		t.Fatalf("the real file has %d daily changes, want over 1000", n)
	}
	realWorst := 0.0
	for i := 1; i < len(ts); i++ {
		if ts[i]-ts[i-1] == 86400 {
			realWorst = math.Min(realWorst, vs[i]/vs[i-1]-1)
		}
	}
	f := w1Data(t)
	var sds []float64
	worst := 0.0
	for _, s := range f.window.Series {
		tvl := s.Cols[adapters.FieldTVL]
		sd, _ := dailyLogSD(s.Times, tvl)
		sds = append(sds, sd)
		for r := 24; r < len(tvl); r++ {
			worst = math.Min(worst, math.Min(tvl[r]/tvl[r-24], tvl[r]/tvl[r-23])-1)
		}
	}
	var mean float64
	for _, sd := range sds {
		mean += sd
	}
	mean /= float64(len(sds))
	t.Logf("TVL day-over-day log sd: real %.4f (%d days, worst day %.3f), W1 mean %.4f over %d markets (worst 24 hours %.3f)", real, n, realWorst, mean, len(sds), worst)
	if r := mean / real; r < 0.9 || r > 1.1 {
		t.Errorf("W1's TVL day-over-day sd %.4f is %.3g times the real %.4f, want 0.9 to 1.1", mean, r, real)
	}
	if realWorst <= -0.2 || worst <= -0.2 {
		t.Errorf("a 24-hour TVL fall of 20%%: real worst day %.3f, W1 worst %.3f; want neither (tvl-drop's threshold)", realWorst, worst)
	}
}
