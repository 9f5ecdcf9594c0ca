package backtest

import (
	"math"

	"github.com/yieldvault/yieldvault/adapters"
)

// markBook values the vault's positions at the steps where the vault
// books nothing (engine.recordMark): each market's position is worth its
// value at the last step the vault valued it exactly times the move since
// of its market's mark basis (adapters.Marker): a column of its series (a
// staking token's exchange rate) or its growth (a lending market's, the
// run's growth table), in float64; its queued claims are worth what
// they pay.
//
// Only the positions held at the last exact step are marked, so the book
// follows only those between exact steps: a column basis is read at the
// market's row when a mark or an exact value needs it (not written at
// every step for every market), and a growth basis is multiplied by the
// step's growth only for the markets in grown.
type markBook struct {
	ms      []*market // the run's markets (their cursors' rows)
	pricing adapters.Pricing
	// resolved: the market's basis was asked of its driver (resolve),
	// which it is when the market is first held at an exact step: a
	// staking market's driver scans its whole rate column for a gap, so
	// the markets never held are never scanned.
	resolved []bool
	col      [][]float64 // the basis column of each resolved market, nil: none
	growth   []bool      // the basis is the market's growth
	scale    []float64   // each position's units' value at the last exact step over its basis then
	claims   []float64   // its queued claims' payout then
	grown    []float64   // a growth basis's product of the steps' growths since the last exact step
	known    []bool      // the basis is known (no step since the last exact one lacked a growth)
	// stepped are the growth markets held (with a known basis) at the
	// last exact step: the ones step multiplies.
	stepped []int
	// marked are the markets with a position or queued claims at the
	// last exact step, in market order: the others' marks are zero.
	marked []int
}

// newMarkBook returns the book of markets ms at pricing; each market's
// mark basis is read when it is first needed (resolve).
func newMarkBook(ms []*market, pricing adapters.Pricing) *markBook {
	n := len(ms)
	return &markBook{ms: ms, pricing: pricing, resolved: make([]bool, n), col: make([][]float64, n), growth: make([]bool, n),
		scale: make([]float64, n), claims: make([]float64, n), grown: make([]float64, n), known: make([]bool, n)}
}

// resolve reads market i's mark basis at the book's pricing, once.
func (b *markBook) resolve(i int) {
	if b.resolved[i] {
		return
	}
	b.resolved[i] = true
	m := b.ms[i]
	if mk, ok := m.ad.Driver().(adapters.Marker); ok {
		if col, growth, ok := mk.MarkBasis(m.ser, b.pricing); ok {
			b.col[i], b.growth[i] = col, growth && m.grow >= 0
		}
	}
}

// now is market i's basis at the current step: its column at its row (0
// before its first row), or the growth since the last exact step.
func (b *markBook) now(i int) float64 {
	if c := b.col[i]; c != nil {
		if r := b.ms[i].row; r >= 0 {
			return c[r]
		}
		return 0
	}
	return b.grown[i]
}

// step moves the growth bases of the held markets by step k's growths in
// t (a zero growth, where the market's driver gave none, leaves the basis
// unknown until the next exact step). A column basis needs no step: it
// is read at the market's row, and a held market's row is known (its
// basis was positive at the last exact step) for the rest of the run.
func (b *markBook) step(k int, t *growthTable) {
	for _, i := range b.stepped {
		g := t.at(k, b.ms[i].grow)
		if g.To > g.From && g.Factor > 0 {
			b.grown[i] *= g.Factor
		} else {
			b.known[i] = false
		}
	}
}

// exact records the positions' exact values at a step the vault was
// valued at (vals, queued claims included, and claims, in market order):
// the bases the next marks start from. Only a held market's basis is
// read (mark multiplies it; a market not held is marked by its claims).
func (b *markBook) exact(vals, claims []float64) {
	b.stepped, b.marked = b.stepped[:0], b.marked[:0]
	for i, v := range vals {
		b.claims[i] = claims[i]
		if v != 0 || claims[i] != 0 {
			b.marked = append(b.marked, i)
		}
		b.scale[i], b.known[i] = 0, false
		units := v - claims[i]
		if units == 0 {
			continue
		}
		b.resolve(i)
		if b.growth[i] {
			b.grown[i] = 1
		}
		b.known[i] = b.col[i] != nil || b.growth[i]
		if now := b.now(i); b.known[i] && now > 0 {
			b.scale[i] = units / now
			if b.growth[i] {
				b.stepped = append(b.stepped, i)
			}
		} else {
			b.scale[i], b.known[i] = math.NaN(), false // held, without a basis
		}
	}
}

// mark writes the positions' marks into vals, one per market in market
// order, and returns their sum; ok is false when a held position's basis
// is unknown at the step (vals then holds some of the marks: the caller
// records the step at its exact values over them). A market with neither
// a position nor claims at the last exact step is marked 0 (which adds
// nothing to the sum), so only the marked markets are looked at and
// written: vals must be zero (the run's slab gives each step a slot of
// its own, zero until the step is recorded).
func (b *markBook) mark(vals []float64) (sum float64, ok bool) {
	for _, i := range b.marked {
		v := 0.0
		if sc := b.scale[i]; sc != 0 {
			if !b.known[i] {
				return 0, false
			}
			v = sc * b.now(i)
		}
		v += b.claims[i]
		vals[i] = v
		sum += v
	}
	return sum, true
}
