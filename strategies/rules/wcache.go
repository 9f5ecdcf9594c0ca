package rules

import (
	"sync/atomic"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
)

// Window columns.
//
// A backtest plans the same series at every step, one row further each
// time, so the rows a window reads are gathered again and again. The
// window cache keeps, per market of the strategy and per window, the
// window's values over the whole series (the rows that observed the
// window's field, computed as gather computes them) with their ranks and
// prefix sums, built once per series. A window is then the slice of
// values between two ranks: min, max, stddev and change scan it with the
// same arithmetic as before; avg over more than avgExactRows values is
// the difference of two double-double prefix sums over the count, within
// a few ulps of the left-to-right sum it replaces (and nearer the exact
// mean); shorter averages add the values left to right as before.
//
// Series are immutable once loaded: the cache recognises a series by
// its pointer, its length and its first time's address, so a series that
// grows or is replaced is rebuilt, but one changed in place is not seen.
// The cache is shared by the copies WithParams makes (a sweep plans one
// history with many parameter sets) and holds, per market, the slotWays
// series planned most recently: workers that plan different histories at
// once (Monte Carlo paths, walk-forward windows) each find their own
// series instead of evicting each other's at every step, which rebuilt a
// whole-series column per plan (two Monte Carlo workers ran 3x slower
// than one).

// avgExactRows is the longest average summed left to right.
const avgExactRows = 64

// slotWays is how many series a market's slot keeps: at least the
// workers that plan at once on this machine type (2 cores), with room.
const slotWays = 4

// windowCache holds a slot per market of the universe.
type windowCache struct {
	slots []atomic.Pointer[slot]
}

// slot is a market's cached series, most recently planned first. A slot
// is never changed once stored: a miss stores a new one (two misses at
// once may lose one entry, which is only rebuilt later).
type slot [slotWays]*seriesWindows

func newWindowCache(markets, windows int) *windowCache {
	if windows == 0 {
		return nil
	}
	return &windowCache{slots: make([]atomic.Pointer[slot], markets)}
}

// seriesWindows are the window columns of one series, built lazily per
// window.
type seriesWindows struct {
	s     *adapters.Series
	n     int
	first *int64
	cols  []atomic.Pointer[winCol] // by window id
}

// winCol is one window's column over a series.
type winCol struct {
	keep, def float64   // the profile constants net_apy was computed with
	rank      []int32   // rank[i]: values before row i; nil when every row counts
	vals      []float64 // the values of the rows that count, in row order
	hi, lo    []float64 // double-double prefix sums of vals (avg only)
	// next is the first row after the window's start found last
	// (window.rowsNear's hint): a step later it is the same row or one
	// just after. Planners of the same series at once may overwrite each
	// other's; a wrong hint only costs the search.
	next atomic.Int32
}

// get returns the window columns of market i's series s, building an
// empty entry when s is not the one cached. nil when s cannot be cached.
func (c *windowCache) get(i int, s *adapters.Series, nw int) *seriesWindows {
	if c == nil || s == nil || i >= len(c.slots) || len(s.Times) == 0 || len(s.Set) != len(s.Times) {
		return nil
	}
	old := c.slots[i].Load()
	if old != nil {
		for _, sw := range old {
			if sw != nil && sw.of(s) {
				return sw
			}
		}
	}
	sw := &seriesWindows{s: s, n: len(s.Times), first: &s.Times[0], cols: make([]atomic.Pointer[winCol], nw)}
	next := &slot{sw}
	if old != nil {
		copy(next[1:], old[:slotWays-1])
	}
	c.slots[i].Store(next)
	return sw
}

// col returns window w's column (id wi) built with the constants c.
func (sw *seriesWindows) col(wi int, w *window, c *profileConsts) *winCol {
	col := sw.cols[wi].Load()
	if col != nil && col.keep == c.rewardKeep && col.def == c.restakingAPY {
		return col
	}
	s := sw.s
	n := len(s.Times)
	col = &winCol{keep: c.rewardKeep, def: c.restakingAPY}
	col.vals = gather(nil, w.Name, w.field, s, c, 0, n-1)
	if len(col.vals) < n {
		mask := adapters.FieldSet(0).With(w.field)
		col.rank = make([]int32, n+1)
		k := int32(0)
		for r := 0; r < n; r++ {
			col.rank[r] = k
			if s.Set[r]&mask != 0 {
				k++
			}
		}
		col.rank[n] = k
	}
	if w.Op == winAvg {
		m := len(col.vals)
		col.hi, col.lo = make([]float64, m+1), make([]float64, m+1)
		var hi, lo float64
		for j, v := range col.vals {
			// TwoSum: hi + v = t + e exactly.
			t := hi + v
			bp := t - hi
			e := (hi - (t - bp)) + (v - bp)
			hi, lo = t, lo+e
			col.hi[j+1], col.lo[j+1] = hi, lo
		}
	}
	sw.cols[wi].Store(col)
	return col
}

// span returns the ranks [a, b) of the values of rows start..end.
func (col *winCol) span(start, end int) (a, b int) {
	if col.rank == nil {
		return start, end + 1
	}
	return int(col.rank[start]), int(col.rank[end+1])
}

// computeCached is compute reading the window's column.
func (w *window) computeCached(ms *strategies.MarketState, col *winCol, t int64, cur float64) float64 {
	hint := int(col.next.Load())
	start, end, after, ok := w.rowsNear(ms, t, hint)
	if !ok {
		return w.empty(cur)
	}
	if after != hint {
		col.next.Store(int32(after))
	}
	a, b := col.span(start, end)
	if n := b - a; n > avgExactRows && w.Op == winAvg {
		sum := (col.hi[b] - col.hi[a]) + (col.lo[b] - col.lo[a])
		return sum / float64(n)
	}
	return w.reduce(col.vals[a:b], cur)
}

// of reports whether sw are the window columns of s.
func (sw *seriesWindows) of(s *adapters.Series) bool {
	return s != nil && sw.s == s && sw.n == len(s.Times) && sw.n > 0 && len(s.Set) == sw.n && sw.first == &s.Times[0]
}
