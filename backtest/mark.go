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
	// marked are the markets with a position or queued claims at the
	// last exact step, in market order, each with what its marks read
	// (markEntry): the others' marks are zero. A mark reads these
	// entries one after the other, where a market's figures spread over
	// the book's per-market slices and its cursor were a few cache lines
	// each.
	marked []markEntry
	// stepped are the entries (indexes into marked) of the growth
	// markets held with a known basis at the last exact step: the ones
	// step multiplies.
	stepped []int
}

// markEntry is a marked market's figures since the last exact step.
type markEntry struct {
	i      int       // the market
	scale  float64   // its position's units' value then over its basis then (0: none; NaN: held without a basis)
	claims float64   // its queued claims' payout then
	col    []float64 // its basis column (nil: its basis is its growth)
	row    *int      // its cursor's row, where col is read
	grown  float64   // a growth basis's product of the steps' growths since
	grow   int       // its column in the growth table
	known  bool      // the basis is known (no step since lacked a growth)
}

// newMarkBook returns the book of markets ms at pricing; each market's
// mark basis is read when it is first needed (resolve).
func newMarkBook(ms []*market, pricing adapters.Pricing) *markBook {
	n := len(ms)
	return &markBook{ms: ms, pricing: pricing, resolved: make([]bool, n), col: make([][]float64, n), growth: make([]bool, n)}
}

// resolve reads market i's mark basis at the book's pricing, once.
func (b *markBook) resolve(i int) {
	b.resolved[i] = true
	m := b.ms[i]
	if mk, ok := m.ad.Driver().(adapters.Marker); ok {
		if col, growth, ok := mk.MarkBasis(m.ser, b.pricing); ok {
			b.col[i], b.growth[i] = col, growth && m.grow >= 0
		}
	}
}

// now is the entry's basis at the current step: its column at its
// market's row (0 before its first row), or the growth since the last
// exact step.
func (h *markEntry) now() float64 {
	if c := h.col; c != nil {
		if r := *h.row; r >= 0 {
			return c[r]
		}
		return 0
	}
	return h.grown
}

// step moves the growth bases of the held markets by step k's growths in
// t (a zero growth, where the market's driver gave none, leaves the basis
// unknown until the next exact step). A column basis needs no step: it
// is read at the market's row, and a held market's row is known (its
// basis was positive at the last exact step) for the rest of the run.
func (b *markBook) step(k int, t *growthTable) {
	// The step's cells as the vault's feed reads them (growthTable.at's
	// growth, without building it per market: a NaN rate is none).
	cells, grows := t.step(k), t.times[k] > t.times[k-1]
	for _, j := range b.stepped {
		h := &b.marked[j]
		if c := &cells[h.grow]; grows && c.APY == c.APY && c.Factor > 0 {
			h.grown *= c.Factor
		} else {
			h.known = false
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
		if v == 0 && claims[i] == 0 {
			continue
		}
		h := markEntry{i: i, claims: claims[i]}
		if units := v - claims[i]; units != 0 {
			if !b.resolved[i] {
				b.resolve(i)
			}
			m := b.ms[i]
			h.col, h.row, h.grow = b.col[i], &m.row, m.grow
			growth := b.growth[i]
			if growth {
				h.grown = 1
			}
			h.known = h.col != nil || growth
			if now := h.now(); h.known && now > 0 {
				h.scale = units / now
				if growth {
					b.stepped = append(b.stepped, len(b.marked))
				}
			} else {
				h.scale, h.known = math.NaN(), false // held, without a basis
			}
		}
		b.marked = append(b.marked, h)
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
	for j := range b.marked {
		h := &b.marked[j]
		v := 0.0
		if h.scale != 0 {
			if !h.known {
				return 0, false
			}
			v = h.scale * h.now()
		}
		v += h.claims
		vals[h.i] = v
		sum += v
	}
	return sum, true
}
