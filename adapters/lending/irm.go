package lending

import (
	"math"

	"github.com/yieldvault/yieldvault/adapters"
)

// IRM is a kinked ("jump rate") interest-rate model, the shape Aave,
// Compound v3, Spark and Kamino use and that Morpho's AdaptiveCurveIRM
// approximates at a fixed rate at target:
//
//	borrow(u) = Base + Slope1*u/Optimal                       for u <= Optimal
//	borrow(u) = Base + Slope1 + Slope2*(u-Optimal)/(1-Optimal) for u >  Optimal
//	supply(u) = borrow(u) * u * (1 - ReserveFactor)
//
// Rates are annual fractions. The model treats them as APYs; the
// difference from per-second compounded APRs is absorbed by the
// calibration to the observed rate (see Calibrate).
type IRM struct {
	Base          float64 // borrow rate at zero utilization
	Slope1        float64 // borrow-rate increase from zero to Optimal
	Slope2        float64 // borrow-rate increase from Optimal to full utilization
	Optimal       float64 // the kink, in (0, 1)
	ReserveFactor float64 // share of borrow interest kept by the protocol, in [0, 1)
}

// Defaults used for parameters a lending profile leaves out: Aave v3's
// typical stablecoin reserve settings.
var defaultIRM = IRM{Base: 0, Slope1: 0.04, Slope2: 0.60, Optimal: 0.80, ReserveFactor: 0.10}

// IRMFromProfile reads irm_base, irm_slope1, irm_slope2, irm_optimal and
// reserve_factor from a profile, with defaultIRM for missing ones, and
// validates them.
func IRMFromProfile(p *adapters.Profile) (IRM, error) {
	m := IRM{
		Base:          p.ParamOr("irm_base", defaultIRM.Base),
		Slope1:        p.ParamOr("irm_slope1", defaultIRM.Slope1),
		Slope2:        p.ParamOr("irm_slope2", defaultIRM.Slope2),
		Optimal:       p.ParamOr("irm_optimal", defaultIRM.Optimal),
		ReserveFactor: p.ParamOr("reserve_factor", defaultIRM.ReserveFactor),
	}
	return m, m.Validate()
}

// Validate checks the model's parameters.
func (m IRM) Validate() error {
	const op = "lending.IRM.Validate"
	for _, v := range []float64{m.Base, m.Slope1, m.Slope2, m.Optimal, m.ReserveFactor} {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return adapters.E(op, adapters.KindInvalid, "interest-rate model %+v: parameters must be finite and >= 0", m)
		}
	}
	if m.Optimal <= 0 || m.Optimal >= 1 {
		return adapters.E(op, adapters.KindInvalid, "interest-rate model: irm_optimal %g must be within (0, 1)", m.Optimal)
	}
	if m.ReserveFactor >= 1 {
		return adapters.E(op, adapters.KindInvalid, "interest-rate model: reserve_factor %g must be within [0, 1)", m.ReserveFactor)
	}
	return nil
}

// Borrow is the borrow rate at utilization u (clamped to [0, 1]).
func (m IRM) Borrow(u float64) float64 {
	u = clamp01(u)
	if u <= m.Optimal {
		return m.Base + m.Slope1*u/m.Optimal
	}
	return m.Base + m.Slope1 + m.Slope2*(u-m.Optimal)/(1-m.Optimal)
}

// Supply is the supply rate at utilization u (clamped to [0, 1]).
func (m IRM) Supply(u float64) float64 {
	u = clamp01(u)
	return m.Borrow(u) * u * (1 - m.ReserveFactor)
}

// Calibrate returns the factor k that makes k*Supply(u) equal the observed
// supply rate at the observed utilization u: observed / Supply(u). When
// the model gives zero at u (no borrows, or an all-zero model) the factor
// is 0 and ok is false: the model carries no information about the rate
// there and callers keep the observed rate unchanged.
//
// Scaling the whole curve by one factor keeps its shape (the kink stays at
// Optimal, relative rate impact is the model's) while matching the market
// where it was observed, which absorbs parameter drift (governance
// changes, APR-versus-APY, incentives paid through the rate).
func (m IRM) Calibrate(u, observed float64) (k float64, ok bool) {
	s := m.Supply(u)
	if s <= 0 || math.IsNaN(observed) {
		return 0, false
	}
	return observed / s, true
}

func clamp01(u float64) float64 {
	switch {
	case u < 0 || math.IsNaN(u):
		return 0
	case u > 1:
		return 1
	}
	return u
}
