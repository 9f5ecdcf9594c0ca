package lending

import (
	"math"

	"github.com/yieldvault/yieldvault/adapters"
)

// AdaptiveCurve is Morpho Blue's AdaptiveCurveIRM
// (morpho-org/morpho-blue-irm, src/adaptive-curve-irm/AdaptiveCurveIrm.sol
// and libraries/ConstantsLib.sol). The borrow rate is a curve around a
// rate at target r_T that itself adapts over time:
//
//	err(u)      = (u - Target) / Target        u <= Target
//	            = (u - Target) / (1 - Target)  u >  Target
//	curve(r, u) = ((1 - 1/C) * err + 1) * r    err < 0  (r/C at u = 0)
//	            = ((C - 1) * err + 1) * r      err >= 0 (C*r at u = 1)
//	r_T(t + dt) = clamp(r_T(t) * exp(Speed * err(u) * dt), MinRate, MaxRate)
//
// with C = Steepness. Over an interval the contract charges the curve at
// the trapezoidal average of the rate at target (start + end + 2 * middle)
// / 4 (Advance). Suppliers earn borrow * u * (1 - Fee).
//
// Borrow and Supply (the Model methods) are the curve at the initial rate
// at target; the driver scales them to the observed rate (Calibrate), so
// only the curve's shape and the adaptation matter there.
type AdaptiveCurve struct {
	Target    float64 // target utilization, in (0, 1): 0.9
	Steepness float64 // curve steepness C > 1: 4
	Speed     float64 // adjustment speed per year: 50
	Initial   float64 // rate at target of a new market, per year: 0.04
	MinRate   float64 // lower bound of the rate at target: 0.001
	MaxRate   float64 // upper bound of the rate at target: 2.0
	Fee       float64 // the market's fee on interest, in [0, 1)
}

// AdaptiveCurveFromProfile reads irm_optimal (the target utilization),
// irm_curve_steepness, irm_adjustment_speed, irm_rate_at_target,
// irm_min_rate_at_target, irm_max_rate_at_target (all required) and
// reserve_factor (the market fee, 0 when absent), and validates them.
func AdaptiveCurveFromProfile(p *adapters.Profile) (AdaptiveCurve, error) {
	var a AdaptiveCurve
	for _, f := range []struct {
		name string
		v    *float64
	}{
		{"irm_optimal", &a.Target}, {"irm_curve_steepness", &a.Steepness}, {"irm_adjustment_speed", &a.Speed},
		{"irm_rate_at_target", &a.Initial}, {"irm_min_rate_at_target", &a.MinRate}, {"irm_max_rate_at_target", &a.MaxRate},
	} {
		v, ok := p.Param(f.name)
		if !ok {
			return AdaptiveCurve{}, adapters.E("lending.AdaptiveCurveFromProfile", adapters.KindInvalid, "profile %s: an adaptive-curve rate model needs %s", p.Name, f.name)
		}
		*f.v = v
	}
	a.Fee = p.ParamOr("reserve_factor", 0)
	return a, a.Validate()
}

// Validate checks the model's parameters.
func (a AdaptiveCurve) Validate() error {
	const op = "lending.AdaptiveCurve.Validate"
	for _, v := range []float64{a.Target, a.Steepness, a.Speed, a.Initial, a.MinRate, a.MaxRate, a.Fee} {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return adapters.E(op, adapters.KindInvalid, "adaptive-curve rate model %+v: parameters must be finite and >= 0", a)
		}
	}
	switch {
	case a.Target <= 0 || a.Target >= 1:
		return adapters.E(op, adapters.KindInvalid, "adaptive-curve rate model: target utilization %g must be within (0, 1)", a.Target)
	case a.Steepness <= 1:
		return adapters.E(op, adapters.KindInvalid, "adaptive-curve rate model: curve steepness %g must be above 1", a.Steepness)
	case a.MinRate <= 0 || a.MinRate > a.MaxRate || a.Initial < a.MinRate || a.Initial > a.MaxRate:
		return adapters.E(op, adapters.KindInvalid, "adaptive-curve rate model: rates at target must satisfy 0 < min %g <= initial %g <= max %g", a.MinRate, a.Initial, a.MaxRate)
	case a.Fee >= 1:
		return adapters.E(op, adapters.KindInvalid, "adaptive-curve rate model: fee %g must be within [0, 1)", a.Fee)
	}
	return nil
}

// Err is the normalised utilization error err(u), in [-1, 1].
func (a AdaptiveCurve) Err(u float64) float64 {
	u = clamp01(u)
	if u > a.Target {
		return (u - a.Target) / (1 - a.Target)
	}
	return (u - a.Target) / a.Target
}

// Curve is the borrow rate at utilization u when the rate at target is r.
func (a AdaptiveCurve) Curve(r, u float64) float64 {
	e := a.Err(u)
	if e < 0 {
		return ((1-1/a.Steepness)*e + 1) * r
	}
	return ((a.Steepness-1)*e + 1) * r
}

// Bound clamps a rate at target to [MinRate, MaxRate].
func (a AdaptiveCurve) Bound(r float64) float64 { return math.Min(math.Max(r, a.MinRate), a.MaxRate) }

// Advance is the contract's update over years at a constant utilization
// u from the rate at target r: the rate at target at the end,
// clamp(r * exp(Speed * err(u) * years)), and the borrow rate charged
// over the interval, the curve at (r + end + 2 * middle) / 4.
func (a AdaptiveCurve) Advance(r, u, years float64) (end, borrow float64) {
	lin := a.Speed * a.Err(u) * years
	if lin == 0 {
		return r, a.Curve(r, u)
	}
	end = a.Bound(r * math.Exp(lin))
	mid := a.Bound(r * math.Exp(lin/2))
	return end, a.Curve((r+end+2*mid)/4, u)
}

// Borrow is the borrow rate at u at the initial rate at target.
func (a AdaptiveCurve) Borrow(u float64) float64 { return a.Curve(a.Initial, u) }

// Supply is the supply rate at u at the initial rate at target.
func (a AdaptiveCurve) Supply(u float64) float64 {
	u = clamp01(u)
	return a.Borrow(u) * u * (1 - a.Fee)
}

// Invert returns Target: a supply APY alone cannot tell the utilization
// from the rate at target (both are unknown), and the adaptation moves
// the rate at target until utilization sits at the target, so a market
// observed only through its APY is taken to be there.
func (a AdaptiveCurve) Invert(float64) float64 { return a.Target }
