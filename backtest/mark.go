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
	ms     []*market   // the run's markets (their cursors' rows)
	col    [][]float64 // the basis column of each market, nil: none
	growth []bool      // the basis is the market's growth
	scale  []float64   // each position's units' value at the last exact step over its basis then
	claims []float64   // its queued claims' payout then
	grown  []float64   // a growth basis's product of the steps' growths since the last exact step
	known  []bool      // the basis is known (no step since the last exact one lacked a growth)
	// stepped are the growth markets held (with a known basis) at the
	// last exact step: the ones step multiplies.
	stepped []int
	// marked are the markets with a position or queued claims at the
	// last exact step, in market order: the others' marks are zero.
	marked []int
}

// newMarkBook reads each market's mark basis at pricing.
func newMarkBook(ms []*market, pricing adapters.Pricing) *markBook {
	n := len(ms)
	b := &markBook{ms: ms, col: make([][]float64, n), growth: make([]bool, n), scale: make([]float64, n), claims: make([]float64, n),
		grown: make([]float64, n), known: make([]bool, n)}
	for i, m := range ms {
		mk, ok := m.ad.Driver().(adapters.Marker)
		if !ok {
			continue
		}
		if col, growth, ok := mk.MarkBasis(m.ser, pricing); ok {
			b.col[i], b.growth[i] = col, growth && m.grow >= 0
		}
	}
	return b
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
// the bases the next marks start from.
func (b *markBook) exact(vals, claims []float64) {
	b.stepped, b.marked = b.stepped[:0], b.marked[:0]
	for i, v := range vals {
		b.claims[i] = claims[i]
		if v != 0 || claims[i] != 0 {
			b.marked = append(b.marked, i)
		}
		if b.growth[i] {
			b.grown[i] = 1
		}
		b.known[i] = b.col[i] != nil || b.growth[i]
		b.scale[i] = 0
		if units := v - claims[i]; units != 0 {
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
