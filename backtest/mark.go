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
type markBook struct {
	col    [][]float64 // the basis column of each market, nil: none
	growth []bool      // the basis is the market's growth
	scale  []float64   // each position's units' value at the last exact step over its basis then
	claims []float64   // its queued claims' payout then
	now    []float64   // the basis at the current step
	known  []bool      // now is known (no step since the last exact one lacked a growth)
}

// newMarkBook reads each market's mark basis at pricing.
func newMarkBook(ms []*market, pricing adapters.Pricing) *markBook {
	n := len(ms)
	b := &markBook{col: make([][]float64, n), growth: make([]bool, n), scale: make([]float64, n), claims: make([]float64, n),
		now: make([]float64, n), known: make([]bool, n)}
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

// step moves market i's basis to its row r (a column basis) or by the
// growth g of the step (a growth basis; a zero growth, where the market's
// driver gave none, leaves the basis unknown until the next exact step).
func (b *markBook) step(i, r int, g adapters.Growth) {
	switch {
	case b.col[i] != nil:
		if r >= 0 {
			b.now[i] = b.col[i][r]
		} else {
			b.known[i] = false
		}
	case b.growth[i]:
		if g.To > g.From && g.Factor > 0 {
			b.now[i] *= g.Factor
		} else {
			b.known[i] = false
		}
	}
}

// exact records the positions' exact values at a step the vault was
// valued at (vals, queued claims included, and claims, in market order):
// the bases the next marks start from.
func (b *markBook) exact(vals, claims []float64) {
	for i, v := range vals {
		b.claims[i] = claims[i]
		if b.growth[i] {
			b.now[i] = 1
		}
		b.known[i] = b.col[i] != nil || b.growth[i]
		b.scale[i] = 0
		if units := v - claims[i]; units != 0 {
			if b.known[i] && b.now[i] > 0 {
				b.scale[i] = units / b.now[i]
			} else {
				b.scale[i], b.known[i] = math.NaN(), false // held, without a basis
			}
		}
	}
}

// mark appends the positions' marks to dst and returns their sum; ok is
// false when a held position's basis is unknown at the step.
func (b *markBook) mark(dst []float64) (_ []float64, sum float64, ok bool) {
	for i, sc := range b.scale {
		v := 0.0
		if sc != 0 {
			if !b.known[i] {
				return dst, 0, false
			}
			v = sc * b.now[i]
		}
		v += b.claims[i]
		dst = append(dst, v)
		sum += v
	}
	return dst, sum, true
}
