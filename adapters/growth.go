package adapters

import "time"

// Grower is the optional capability of drivers whose positions grow over
// an interval by a factor that depends on the market's observation at the
// interval's end and the interval's length alone, not on the position (a
// lending market whose data does not give its size: a position earns the
// observed supply rate whatever its size). Growth is that factor over
// (from, to] (unix seconds) at o, and the rate it compounds, exactly as
// the driver's Accrue computes them; ok is false where the observation
// does not fix them.
type Grower interface {
	Growth(o *Observation, from, to int64) (apy, factor float64, ok bool)
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

// For returns g's factor when g is for the interval (from, to] at rate
// apy (whole seconds, the same rate to the bit); ok is false otherwise.
func (g *Growth) For(from, to time.Time, apy float64) (float64, bool) {
	if g.To <= g.From || apy != g.APY || from.Nanosecond() != 0 || to.Nanosecond() != 0 ||
		from.Unix() != g.From || to.Unix() != g.To {
		return 0, false
	}
	return g.Factor, true
}
