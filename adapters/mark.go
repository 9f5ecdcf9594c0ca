package adapters

import "math"

// Marker is the optional capability of RateValuer drivers whose rate
// (the value of one unit of a position) moves, between two accruals of
// the position, as a quantity of the market's data alone, not of the
// position: a column of its series, or its growth (Grower). A backtest
// values a held position at a step where its vault books nothing from its
// exact value at the last step it was valued and that quantity's move
// since (a mark, in float64), instead of bringing the position to the
// step.
//
// MarkBasis reports the quantity for series s at pricing: col, when the
// rate is col's value at every row of s; growth, when it is the
// position's index times the market's growth since (the factors of
// Grower.Growth, step by step); ok is false when neither holds (a row
// without the column, a price that multiplies the rate).
type Marker interface {
	MarkBasis(s *Series, pricing Pricing) (col []float64, growth, ok bool)
}

// CompleteColumn returns s's column f when every row of s carries it
// (set, finite and above zero), else nil.
func CompleteColumn(s *Series, f Field) []float64 {
	c := s.Cols[f]
	if c == nil {
		return nil
	}
	for r, v := range c {
		if !s.Set[r].Has(f) || !(v > 0) || math.IsInf(v, 0) {
			return nil
		}
	}
	return c
}
