package adapters

import "time"

// Grower is the optional capability of drivers whose positions grow over
// an interval by a factor that depends on the market's observation at the
// interval's end and the interval's length alone, not on the position (a
// lending market whose data does not give its size: a position earns the
// observed supply rate whatever its size). Growth is that factor over
// (from, to] (unix seconds) at o, and the rate it compounds, exactly as
// the driver's Accrue computes them; ok is false where the observation
// does not fix them. Where ok, Accrue over the interval at o multiplies
// the position's Index by the factor, sets its APY to the rate and its
// Last to the interval's end, and changes nothing else of it but the
// rewards it accrues from o's reward rate (Growth.Apply).
type Grower interface {
	Growth(o *Observation, from, to int64) (apy, factor float64, ok bool)
}

// RateGrower is the optional capability of a Grower whose growth is a
// rate read from the observation alone, compounded over the interval's
// length: Growth(o, from, to) is, to the bit, (a, f, true) where a, ok :=
// GrowthRate(o) is ok, to > from and f is GrowthFactors' factor of a over
// to-from seconds, and not ok otherwise. A backtest computing the growth
// of every step reads a row's rate once, however many steps it is the
// row of, and compounds many steps' rates in one call.
type RateGrower interface {
	Grower
	GrowthRate(o *Observation) (apy float64, ok bool)
	// GrowthFactors sets f[i] to the factor rate apy[i] (one GrowthRate
	// gave) compounds to over secs[i] > 0 seconds, for every i of apy
	// (secs and f at least as long).
	GrowthFactors(apy []float64, secs []int64, f []float64)
}

// Growth is a factor a market's driver computed ahead (Grower): one unit
// of the market grows by Factor over (From, To] (unix seconds) at the
// rate APY. An Env carries it so that the driver's Accrue takes it
// instead of computing it again; the driver uses it only for a position
// last accrued at From, brought to To at the rate APY, so a Growth that
// is not for the position's interval and rate is ignored, never wrong.
// The zero Growth is for no interval.
type Growth struct {
	From, To    int64
	APY, Factor float64
}

// Upto returns g's factor and end when g is for an interval (from, end]
// that ends at or before to (whole seconds): the position takes g up to
// end, and its driver's own growth from end to to (a vault brought to an
// event's time, between two steps or on a step whose growth it has not
// been given yet); ok is false otherwise. Where g ends at to it must be
// at rate apy, the rate the driver computes at to (the same to the bit);
// where it ends before, its rates were those of earlier observations,
// which the driver's observation at to cannot check.
func (g *Growth) Upto(from, to time.Time, apy float64) (factor float64, end time.Time, ok bool) {
	if g.To <= g.From || from.Nanosecond() != 0 || to.Nanosecond() != 0 ||
		from.Unix() != g.From || to.Unix() < g.To || (to.Unix() == g.To && apy != g.APY) {
		return 0, time.Time{}, false
	}
	return g.Factor, time.Unix(g.To, 0).UTC(), true
}

// Apply brings pos over g as its market's driver's Accrue does at the
// observation g was computed from (Grower): its Index times Factor, its
// APY g's, its Last to. The rewards Accrue would add from the
// observation's reward rate are not added: they are the caller's (a
// benchmark hold accrues them from its quoted reward rate). It reports
// false, leaving pos alone, when g is not for pos's interval (pos last
// accrued at From, to at To) or pos has no index yet (Accrue's to set).
// The caller answers for g having been
// computed from the market's observation at To, which Apply cannot see.
func (g *Growth) Apply(pos *Position, to time.Time) bool {
	if g.To <= g.From || !(pos.Index > 0) || pos.Last.Nanosecond() != 0 || to.Nanosecond() != 0 ||
		pos.Last.Unix() != g.From || to.Unix() != g.To {
		return false
	}
	pos.Index *= g.Factor
	pos.APY, pos.Last = g.APY, to
	return true
}
