package lending

import (
	"math"
	"sort"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/internal/timefmt"
)

// Model is an interest-rate model: the borrow and supply rates (annual
// fractions) of a market at a utilization u = borrows / supply. Supply is
// non-decreasing in u, so it can be inverted (Invert). Rates are treated
// as APYs; the difference from the protocols' per-second compounded APRs
// is absorbed by the calibration to the observed rate (see Calibrate).
//
// Utilization is an input, not a model state, so a caller that knows the
// vault's own supply (and, later, its own borrowing) passes the
// utilization after them (see UtilizationAfter).
type Model interface {
	Borrow(u float64) float64
	Supply(u float64) float64
	// Invert returns the utilization at which Supply equals apy (the
	// smallest one where Supply is flat), clamped to [0, 1].
	Invert(apy float64) float64
	Validate() error
}

// IRM is a kinked ("jump rate") interest-rate model, the shape Aave v3,
// Spark and Kamino use:
//
//	borrow(u) = Base + Slope1*u/Optimal                       for u <= Optimal
//	borrow(u) = Base + Slope1 + Slope2*(u-Optimal)/(1-Optimal) for u >  Optimal
//	supply(u) = borrow(u) * u * (1 - ReserveFactor)
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

// Invert is the utilization at which Supply is apy.
func (m IRM) Invert(apy float64) float64 { return invert(m.Supply, apy) }

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
	return calibrate(m, u, observed)
}

// Calibrate is IRM.Calibrate for any model.
func Calibrate(m Model, u, observed float64) (k float64, ok bool) {
	return calibrate(m, u, observed)
}

func calibrate(m Model, u, observed float64) (float64, bool) {
	s := m.Supply(u)
	if s <= 0 || math.IsNaN(observed) {
		return 0, false
	}
	return observed / s, true
}

// Comet is Compound v3's model: separate, piecewise-linear supply and
// borrow curves, each with its own kink (Comet.getSupplyRate and
// getBorrowRate; the spread between them is the protocol's reserve
// accrual, so there is no reserve factor):
//
//	rate(u) = base + slopeLow*u                                u <= kink
//	rate(u) = base + slopeLow*kink + slopeHigh*(u - kink)      u >  kink
//
// Slopes are per unit of utilization (not per unit up to the kink, as
// IRM's are), as the configuration's supplyPerYearInterestRateSlopeLow
// and friends.
type Comet struct {
	SupplyBase, SupplySlopeLow, SupplySlopeHigh, SupplyKink float64
	BorrowBase, BorrowSlopeLow, BorrowSlopeHigh, BorrowKink float64
}

// CometFromProfile reads comet_supply_base, comet_supply_slope_low,
// comet_supply_slope_high, comet_supply_kink and the four comet_borrow_
// parameters, all required, and validates them.
func CometFromProfile(p *adapters.Profile) (Comet, error) {
	var c Comet
	for _, f := range []struct {
		name string
		v    *float64
	}{
		{"comet_supply_base", &c.SupplyBase}, {"comet_supply_slope_low", &c.SupplySlopeLow},
		{"comet_supply_slope_high", &c.SupplySlopeHigh}, {"comet_supply_kink", &c.SupplyKink},
		{"comet_borrow_base", &c.BorrowBase}, {"comet_borrow_slope_low", &c.BorrowSlopeLow},
		{"comet_borrow_slope_high", &c.BorrowSlopeHigh}, {"comet_borrow_kink", &c.BorrowKink},
	} {
		v, ok := p.Param(f.name)
		if !ok {
			return Comet{}, adapters.E("lending.CometFromProfile", adapters.KindInvalid, "profile %s: a Compound v3 rate model needs %s", p.Name, f.name)
		}
		*f.v = v
	}
	return c, c.Validate()
}

// Validate checks the model's parameters.
func (c Comet) Validate() error {
	const op = "lending.Comet.Validate"
	for _, v := range []float64{c.SupplyBase, c.SupplySlopeLow, c.SupplySlopeHigh, c.SupplyKink, c.BorrowBase, c.BorrowSlopeLow, c.BorrowSlopeHigh, c.BorrowKink} {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return adapters.E(op, adapters.KindInvalid, "Compound v3 rate model %+v: parameters must be finite and >= 0", c)
		}
	}
	if c.SupplyKink <= 0 || c.SupplyKink > 1 || c.BorrowKink <= 0 || c.BorrowKink > 1 {
		return adapters.E(op, adapters.KindInvalid, "Compound v3 rate model: kinks %g (supply) and %g (borrow) must be within (0, 1]", c.SupplyKink, c.BorrowKink)
	}
	return nil
}

func cometRate(u, base, low, high, kink float64) float64 {
	u = clamp01(u)
	if u <= kink {
		return base + low*u
	}
	return base + low*kink + high*(u-kink)
}

// Borrow is the borrow rate at utilization u (clamped to [0, 1]).
func (c Comet) Borrow(u float64) float64 {
	return cometRate(u, c.BorrowBase, c.BorrowSlopeLow, c.BorrowSlopeHigh, c.BorrowKink)
}

// Supply is the supply rate at utilization u (clamped to [0, 1]).
func (c Comet) Supply(u float64) float64 {
	return cometRate(u, c.SupplyBase, c.SupplySlopeLow, c.SupplySlopeHigh, c.SupplyKink)
}

// Invert is the utilization at which Supply is apy.
func (c Comet) Invert(apy float64) float64 { return invert(c.Supply, apy) }

// invert finds u in [0, 1] with f(u) = y for a non-decreasing f by
// bisection (60 halvings: below float64's resolution of [0, 1]); y at or
// below f(0) gives 0, at or above f(1) gives 1.
func invert(f func(float64) float64, y float64) float64 {
	if math.IsNaN(y) || y <= f(0) {
		return 0
	}
	if y >= f(1) {
		return 1
	}
	lo, hi := 0.0, 1.0
	for i := 0; i < 60 && hi-lo > 1e-15; i++ {
		mid := (lo + hi) / 2
		if f(mid) < y {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}

// UtilizationAfter is the utilization of a market at utilization u with
// supply base units supplied (both as observed, without the vault) once
// the vault's own supply ownSupply and own borrowing ownBorrows are in it:
// (u*supply + ownBorrows) / (supply + ownSupply), clamped to [0, 1]; 1
// when nothing would be supplied. Own borrowing is 0 until the vault can
// borrow; the formula already takes it.
func UtilizationAfter(u, supply, ownSupply, ownBorrows float64) float64 {
	s := supply + ownSupply
	if s <= 0 {
		return 1
	}
	return clamp01((u*supply + ownBorrows) / s)
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

// Rates is a profile's interest-rate model over time: the model its
// parameters give, and a new model from each date one of them changes
// (dated profile parameters: governance changed a market's curves).
type Rates struct {
	from   []int64 // from[i]: unix seconds models[i+1] takes effect, ascending
	models []Model
}

// RatesFromProfile builds the model of a profile (ModelFromProfile) and
// one for each later date at which one of its parameters changes, with
// the values in force from then.
func RatesFromProfile(p *adapters.Profile) (Rates, error) {
	m, err := ModelFromProfile(p)
	if err != nil {
		return Rates{}, err
	}
	r := Rates{models: []Model{m}}
	var dates []int64
	for _, prm := range p.Params {
		for _, c := range prm.Changes {
			if t, ok := timefmt.Parse(c.From); ok {
				dates = append(dates, t.Unix())
			}
		}
	}
	sort.Slice(dates, func(i, j int) bool { return dates[i] < dates[j] })
	for i, u := range dates {
		if i > 0 && u == dates[i-1] {
			continue
		}
		at := *p
		at.Params = make(map[string]adapters.Param, len(p.Params))
		t := time.Unix(u, 0).UTC()
		for k, prm := range p.Params {
			if v, src, ok := prm.AtTime(t); ok {
				at.Params[k] = adapters.Param{Value: v, Source: src}
			}
		}
		m, err := ModelFromProfile(&at)
		if err != nil {
			return Rates{}, adapters.E("lending.RatesFromProfile", adapters.KindInvalid, "profile %s from %s: %v", p.Name, t.Format(time.DateOnly), err)
		}
		r.from = append(r.from, u)
		r.models = append(r.models, m)
	}
	return r, nil
}

// At returns the model in force at t.
func (r *Rates) At(t time.Time) Model {
	u := t.Unix()
	for i := len(r.from) - 1; i >= 0; i-- {
		if u >= r.from[i] {
			return r.models[i+1]
		}
	}
	return r.models[0]
}
