package backtest

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/vault"
)

// growthTable is the run's growth of each market whose driver computes
// one (adapters.Grower) over each step: the factor one unit of the market
// grows by over (times[k-1], times[k]] at its row at times[k], and the
// rate it compounds. It is a column derived from those markets' series
// for the run's step times, read by the vault's accruals (through
// Vault.ObserveStep) and the benchmark holds' (on the track's
// goroutine). It is held step-major: a step's growths of every market
// side by side, as both read them, one step after the other, in blocks
// of steps computed when the first reader reaches them (reach) and let go
// once every reader has passed them: the run holds a few blocks at a
// time, not the whole table, and a block is read soon after it was
// written, while it is in cache.
type growthTable struct {
	times []int64
	n     int // the markets in the table
	// blocks[b][i*n+j] is step b*growthBlock+i of the table's market j
	// (step 0 has none); nil before block b is computed and once every
	// reader passed it.
	blocks [][]growthCell
	// left[b] is how many of the table's readers have not passed block b.
	left []atomic.Int32
	// mu guards the computing of blocks (fill) and the letting go of
	// them; a reader reaches a block (reach), which computes it if no
	// reader has, before it reads it.
	mu   sync.Mutex
	done int // the blocks computed: 0 to done-1
	fill *growthFill
	free [][]growthCell // blocks let go, for the next ones (a few)
}

// growthCell is a market's growth over a step (APY NaN: none): the
// vault's type, so that a step's cells are the vault's feed as they are
// (vault.StepFeed.Growth).
type growthCell = vault.GrowthCell

// growthBlock is how many steps the table computes market by market
// before moving to the next block (each market's rows are read in order,
// and the block's cells stay in cache while they are written), and the
// steps the table lets go of at once.
const growthBlock = 512

// growthFill is what computing the table's blocks, one after the other,
// carries from one block to the next: each market's place in its series,
// and room for a block's rates and factors.
type growthFill struct {
	srcs []*growthSrc
	// A block's rates to compound (a RateGrower's), their steps' lengths
	// and factors, and for each step of the block the one of them it
	// takes (-1: none).
	rates, fs [growthBlock]float64
	secs      [growthBlock]int64
	take      [growthBlock]int32
}

// growthSrc is one market of the table: its driver and its place in its
// series.
type growthSrc struct {
	m      *market
	g      adapters.Grower
	rg     adapters.RateGrower // g's, when it is one
	cols   []growthCol         // the series' columns
	obs    adapters.Observation
	r, at  int // the row walked to, and the row obs holds
	rate   float64
	rateOK bool // rg's rate at row at
}

// growthCol is a column of a market's series, and its field.
type growthCol struct {
	f adapters.Field
	v []float64
}

// newGrowthTable makes the table of the growth of the markets whose
// drivers are Growers over the step times and sets each market's grow to
// its column in the table (-1: none). It returns nil when no market has a
// growth. It computes the first blocks, up to the first that holds a
// growth (the rest is computed as the readers reach it).
//
// A driver that is an adapters.RateGrower gives its rate once a row
// (however many steps the row is the one of) and its factors a block of
// steps at a time, computed once for each run of steps at the same row
// and of the same length (the growth depends on nothing else).
func newGrowthTable(ms []*market, times []int64) *growthTable {
	var srcs []*growthSrc
	for _, m := range ms {
		m.grow = -1
		g, ok := m.ad.Driver().(adapters.Grower)
		if !ok || len(times) < 2 {
			continue
		}
		m.grow = len(srcs)
		s := &growthSrc{m: m, g: g, r: -1, at: -1}
		s.rg, _ = g.(adapters.RateGrower)
		for f, col := range m.ser.Cols {
			if col != nil {
				s.cols = append(s.cols, growthCol{adapters.Field(f), col})
			}
		}
		srcs = append(srcs, s)
	}
	if len(srcs) == 0 {
		return nil
	}
	nb := (len(times) + growthBlock - 1) / growthBlock
	t := &growthTable{times: times, n: len(srcs), blocks: make([][]growthCell, nb), left: make([]atomic.Int32, nb),
		fill: &growthFill{srcs: srcs}}
	for b := range t.left {
		t.left[b].Store(1) // the engine's loop
	}
	for t.done < nb {
		if t.compute() {
			return t
		}
	}
	for _, s := range srcs {
		s.m.grow = -1
	}
	return nil
}

// compute computes block t.done and moves done past it; it reports
// whether the block holds a growth. The caller holds mu or is the only
// user of t.
func (t *growthTable) compute() bool {
	b, n, times, fl := t.done, t.n, t.times, t.fill
	t.done++
	k0 := b * growthBlock
	k1 := min(k0+growthBlock, len(times))
	var cells []growthCell
	if i := len(t.free) - 1; i >= 0 && cap(t.free[i]) >= (k1-k0)*n {
		cells, t.free = t.free[i][:(k1-k0)*n], t.free[:i]
	} else {
		cells = make([]growthCell, (k1-k0)*n)
	}
	t.blocks[b] = cells
	found := false
	rates, secs, fs, take := &fl.rates, &fl.secs, &fl.fs, &fl.take
	for j, s := range fl.srcs {
		ser := s.m.ser
		nr, lastRow, lastDt := 0, -1, int64(0)
		for k := k0; k < k1; k++ {
			c := &cells[(k-k0)*n+j]
			c.APY = math.NaN()
			take[k-k0] = -1
			if k == 0 {
				continue
			}
			for s.r+1 < len(ser.Times) && ser.Times[s.r+1] <= times[k] {
				s.r++
			}
			if s.r < 0 {
				continue
			}
			if s.r != s.at {
				// The row as the vault's feed writes it (the series'
				// own columns; the others stay zero).
				o, r := &s.obs, s.r
				o.Time = time.Unix(ser.Times[r], 0).UTC()
				o.Set = ser.Set[r]
				o.Derived = ser.Derived & ser.Set[r]
				for _, c := range s.cols {
					o.Values[c.f] = c.v[r]
				}
				s.at = r
				if s.rg != nil {
					s.rate, s.rateOK = s.rg.GrowthRate(o)
				}
			}
			if s.rg == nil {
				if apy, f, ok := s.g.Growth(&s.obs, times[k-1], times[k]); ok {
					c.APY, c.Factor, found = apy, f, true
				}
				continue
			}
			dt := times[k] - times[k-1]
			if !s.rateOK || dt <= 0 {
				continue
			}
			c.APY, found = s.rate, true
			if s.r != lastRow || dt != lastDt {
				rates[nr], secs[nr] = s.rate, dt
				nr++
				lastRow, lastDt = s.r, dt
			}
			take[k-k0] = int32(nr - 1)
		}
		if nr == 0 {
			continue
		}
		s.rg.GrowthFactors(rates[:nr], secs[:nr], fs[:nr])
		for k := k0; k < k1; k++ {
			if i := take[k-k0]; i >= 0 {
				cells[(k-k0)*n+j].Factor = fs[i]
			}
		}
	}
	return found
}

// at is the growth of the table's market j over step k (zero for none),
// for a reader that has not passed k's block.
func (t *growthTable) at(k, j int) adapters.Growth {
	c := &t.blocks[k/growthBlock][(k%growthBlock)*t.n+j]
	if c.APY != c.APY {
		return adapters.Growth{}
	}
	return adapters.Growth{From: t.times[k-1], To: t.times[k], APY: c.APY, Factor: c.Factor}
}

// step is step k's cells, market j's at j (APY NaN: none), for a reader
// that has not passed k's block: the vault's feed of the step's growths
// (vault.StepFeed).
func (t *growthTable) step(k int) []growthCell {
	i := (k % growthBlock) * t.n
	return t.blocks[k/growthBlock][i : i+t.n]
}

// from is market j's cells from step k to the end of k's block, one a
// step every t.n (cells[i*t.n] is step k+i's; apy NaN: none, as at), for
// a reader that has reached k's block and not passed it.
func (t *growthTable) from(k, j int) []growthCell {
	return t.blocks[k/growthBlock][(k%growthBlock)*t.n+j:]
}

// addReader counts one more reader of every block (the benchmark track),
// before it starts.
func (t *growthTable) addReader() {
	for b := range t.left {
		t.left[b].Add(1)
	}
}

// reach tells the table that a reader reads no step before k and reads
// the steps of k's block next: a reader calls it at the first step of
// each block (k a multiple of growthBlock), before reading that step.
// The block before k's is let go when it was that block's last reader,
// and k's block is computed (with any before it) if no reader has.
func (t *growthTable) reach(k int) {
	if k%growthBlock != 0 || k == 0 {
		return
	}
	b := k / growthBlock
	last := t.left[b-1].Add(-1) == 0
	if !last && b >= len(t.blocks) {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if last {
		if len(t.free) < growthFree {
			t.free = append(t.free, t.blocks[b-1])
		}
		t.blocks[b-1] = nil
	}
	for t.done <= b && t.done < len(t.blocks) {
		t.compute()
	}
}

// growthFree is how many blocks let go the table keeps for the next.
const growthFree = 2
