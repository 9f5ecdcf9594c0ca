package backtest

import (
	"math"
	"testing"

	"github.com/yieldvault/yieldvault/adapters"
	_ "github.com/yieldvault/yieldvault/adapters/all"
)

// The run's growth table holds, for each lending market whose size the
// data does not give, the compounding of its observed APY over each step,
// (1+apy)^(dt / 365 days) computed here, at the row observed at the
// step's end: rows between steps, a gap, steps before the first row (none)
// and steps across more blocks than one. Markets without a growth (a
// staking market) have no column.
func TestGrowthTable(t *testing.T) {
	cat := adapters.Builtin()
	open := func(id string) *adapters.Adapter {
		a, err := adapters.Open(cat, id)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	const h = 3600
	var rows []int64
	for r := int64(3); r < 2000; r++ {
		if r < 700 || r > 710 {
			rows = append(rows, r*h+h/2) // half past each hour, a gap of 11 hours
		}
	}
	lend := &adapters.Series{Times: rows, Set: make([]adapters.FieldSet, len(rows))}
	lend.Cols[adapters.FieldAPY] = make([]float64, len(rows))
	for i := range rows {
		lend.Cols[adapters.FieldAPY][i] = 0.02 + 0.03*math.Sin(float64(i)/50)
		lend.Set[i] = adapters.FieldSet(0).With(adapters.FieldAPY)
	}
	stake := &adapters.Series{Times: rows, Set: lend.Set, Cols: lend.Cols}
	times := make([]int64, 2100)
	for k := range times {
		times[k] = int64(k) * h
		if k%3 == 1 {
			times[k] += 600 // uneven steps
		}
	}
	ms := []*market{
		{id: "lido/steth", ad: open("lido/steth"), cursor: cursor{ser: stake}},
		{id: "aave-v3/weth", ad: open("aave-v3/weth"), cursor: cursor{ser: lend}},
	}
	g := newGrowthTable(ms, times)
	if g == nil || ms[0].grow != -1 || ms[1].grow != 0 || g.n != 1 {
		t.Fatalf("table %v, columns %d and %d; want one column, the lending market's", g != nil, ms[0].grow, ms[1].grow)
	}
	if g.blocks[1] != nil {
		t.Fatal("block 1 computed before a reader reached it")
	}
	n := 0
	for k := 1; k < len(times); k++ {
		g.reach(k) // as a reader: before the first step of each block
		if k%growthBlock == 0 && (g.blocks[k/growthBlock-1] != nil || g.blocks[k/growthBlock] == nil) {
			t.Fatalf("step %d: the block before kept %v, the block computed %v", k, g.blocks[k/growthBlock-1] != nil, g.blocks[k/growthBlock] != nil)
		}
		got := g.at(k, 0)
		r := lend.Index(times[k])
		if r < 0 {
			if got != (adapters.Growth{}) {
				t.Errorf("step %d before the first row: growth %+v, want none", k, got)
			}
			continue
		}
		apy := lend.Cols[adapters.FieldAPY][r]
		want := math.Pow(1+apy, float64(times[k]-times[k-1])/(365*24*3600))
		if got.From != times[k-1] || got.To != times[k] || got.APY != apy || math.Abs(got.Factor/want-1) > 1e-14 {
			t.Fatalf("step %d: growth %+v, want (%d, %d] at %g by %.17g", k, got, times[k-1], times[k], apy, want)
		}
		n++
	}
	if n < 2000 {
		t.Errorf("%d steps with a growth, want over 2000", n)
	}
	// A block is computed when the first reader reaches it, and let go
	// once both readers (the engine's loop and a benchmark track) have
	// passed it, and not before; its room is the next block's.
	g = newGrowthTable(ms, times)
	g.addReader()
	g.reach(growthBlock + 1) // within block 1: block 0 is still read
	if g.blocks[0] == nil || g.blocks[1] != nil {
		t.Fatal("block 0 let go, or block 1 computed, before any reader reached block 1")
	}
	g.reach(growthBlock) // one reader passed block 0
	if g.blocks[0] == nil || g.blocks[1] == nil {
		t.Fatalf("one reader reached block 1: block 0 kept %v (want it), block 1 computed %v (want it)", g.blocks[0] != nil, g.blocks[1] != nil)
	}
	b1 := &g.blocks[1][0]
	g.reach(growthBlock) // the other
	if g.blocks[0] != nil || g.blocks[1] == nil || &g.blocks[1][0] != b1 {
		t.Errorf("after both readers passed block 0: block 0 kept %v, block 1 let go %v or computed again", g.blocks[0] != nil, g.blocks[1] == nil)
	}
	if got, want := g.at(growthBlock, 0), lend.Cols[adapters.FieldAPY][lend.Index(times[growthBlock])]; got.To != times[growthBlock] || got.APY != want {
		t.Errorf("step %d after block 0 was let go: %+v", growthBlock, got)
	}
	b0 := g.free[0]
	g.reach(2 * growthBlock) // one reader reaches block 2: computed in block 0's room
	if &g.blocks[2][0] != &b0[0] {
		t.Errorf("block 2 not computed in the room of block 0, let go")
	}
	if got := g.at(2*growthBlock, 0); got.To != times[2*growthBlock] || got.APY != lend.Cols[adapters.FieldAPY][lend.Index(times[2*growthBlock])] {
		t.Errorf("step %d in block 0's room: %+v", 2*growthBlock, got)
	}
	// No market with a growth: no table.
	ms = ms[:1]
	if g := newGrowthTable(ms, times); g != nil || ms[0].grow != -1 {
		t.Errorf("a run of a staking market alone has a growth table")
	}
}

// TestGrowthTable_Bits holds every cell of the table to the lending
// driver's Growth at the step's row, to the bit, where the driver's rates
// and factors are taken apart (adapters.RateGrower): steps finer than the
// rows (a row is the one of several steps, of the same length or not),
// coarser ones, a gap, rows with no rate (a zero APY) and steps across
// blocks.
func TestGrowthTable_Bits(t *testing.T) {
	a, err := adapters.Open(adapters.Builtin(), "aave-v3/weth")
	if err != nil {
		t.Fatal(err)
	}
	const h = 3600
	var rows []int64
	for r := int64(0); r < 900; r++ {
		if r < 300 || r > 320 {
			rows = append(rows, r*h)
		}
	}
	s := &adapters.Series{Times: rows, Set: make([]adapters.FieldSet, len(rows))}
	s.Cols[adapters.FieldAPY] = make([]float64, len(rows))
	for i := range rows {
		s.Cols[adapters.FieldAPY][i] = 0.02 + 0.03*math.Sin(float64(i)/7)
		if i%97 == 5 {
			s.Cols[adapters.FieldAPY][i] = 0 // no growth at a rate of zero
		}
		s.Set[i] = adapters.FieldSet(0).With(adapters.FieldAPY)
	}
	var times []int64
	for t := int64(-2 * h); t < 950*h; {
		times = append(times, t)
		switch {
		case t < 200*h:
			t += 20 * 60 // three steps a row
		case t < 400*h:
			t += []int64{600, 1200, 1800}[len(times)%3] // uneven, finer than the rows
		default:
			t += 3 * h // coarser
		}
	}
	ms := []*market{{id: "aave-v3/weth", ad: a, cursor: cursor{ser: s}}}
	g := newGrowthTable(ms, times)
	if g == nil {
		t.Fatal("no growth table")
	}
	grower := a.Driver().(adapters.Grower)
	n := 0
	for k := 1; k < len(times); k++ {
		g.reach(k)
		var want adapters.Growth
		if r := s.Index(times[k]); r >= 0 {
			o := s.At(r)
			if apy, f, ok := grower.Growth(&o, times[k-1], times[k]); ok {
				want = adapters.Growth{From: times[k-1], To: times[k], APY: apy, Factor: f}
				n++
			}
		}
		if got := g.at(k, 0); got.From != want.From || got.To != want.To || math.Float64bits(got.APY) != math.Float64bits(want.APY) ||
			math.Float64bits(got.Factor) != math.Float64bits(want.Factor) {
			t.Fatalf("step %d (%d): table %+v, Growth %+v", k, times[k], got, want)
		}
	}
	if n < len(times)*9/10 {
		t.Errorf("%d of %d steps with a growth", n, len(times))
	}
}

// BenchmarkGrowthTable is the growth table of W1's markets and steps (19
// lending markets of 50, 26,280 hourly steps) read through by one
// reader, with the process's CPU time per table (cpu-ms/op).
func BenchmarkGrowthTable(b *testing.B) {
	f := w1Data(b)
	var ms []*market
	for _, s := range f.window.Series {
		a, err := adapters.Open(f.cat, s.Market.ID)
		if err != nil {
			b.Fatal(err)
		}
		ms = append(ms, &market{id: s.Market.ID, ad: a, cursor: cursor{ser: s}})
	}
	times := f.window.Series[0].Times
	cpu0 := cpuTime()
	b.ResetTimer()
	for range b.N {
		g := newGrowthTable(ms, times)
		if g == nil {
			b.Fatal("no growth table")
		}
		for k := growthBlock; k < len(times); k += growthBlock {
			g.reach(k) // the engine's loop, the table's one reader
		}
	}
	b.StopTimer()
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
	}
}
