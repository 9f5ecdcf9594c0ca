package strategies

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/yieldvault/yieldvault/adapters"
)

// Constraints bound a Target: an idle floor, a cap per market, caps per
// kind, per protocol and per risk tag, and a cap on the vault's share of a
// market's TVL. Every value is a fraction of NAV in [0, 1]. The zero value
// constrains nothing.
//
// Caps on groups (MaxKind, MaxProtocol, MaxTag) bound the sum of the
// weights of the markets in the group; groups may overlap (a market of
// kind lrt with tags layer:eigenlayer and avs:eigenda is in three groups),
// and every group that holds a market bounds it.
type Constraints struct {
	// Idle is the idle floor: at least this share of NAV stays undeployed.
	Idle float64 `json:"idle,omitempty" yaml:"idle,omitempty"`
	// MaxWeight caps every market's weight; 0 means no per-market cap.
	MaxWeight float64 `json:"max_weight,omitempty" yaml:"max_weight,omitempty"`
	// MinWeight, when > 0, is the smallest position worth holding: a
	// market the projection would give less is set to 0 and its share
	// placed elsewhere (or left idle).
	MinWeight float64 `json:"min_weight,omitempty" yaml:"min_weight,omitempty"`
	// MaxKind caps the total weight of the markets of a kind.
	MaxKind map[adapters.Kind]float64 `json:"max_kind,omitempty" yaml:"max_kind,omitempty"`
	// MaxProtocol caps the total weight of the markets exposed to a
	// protocol: the markets that carry the tag protocol:<name>, which are
	// the protocol's own markets and the markets built on it (Curve's
	// stETH pool and EigenLayer's restaked stETH carry protocol:lido).
	MaxProtocol map[string]float64 `json:"max_protocol,omitempty" yaml:"max_protocol,omitempty"`
	// MaxTag caps the total weight of the markets that carry a risk tag
	// (layer:eigenlayer, avs:eigenda, operator:p2p, oracle:chainlink, ...),
	// matched with adapters.Market.HasTag.
	MaxTag map[string]float64 `json:"max_tag,omitempty" yaml:"max_tag,omitempty"`
	// MaxShareOfTVL caps each position at this share of the market's TVL:
	// weight x NAV x BaseUSD <= MaxShareOfTVL x TVL (TVL is in USD). The
	// USD value of one base unit is State.BaseUSD, else the observation's
	// base_usd, else 1 for a USD vault. When a market's TVL or the base's
	// USD price is unknown, or NAV is zero, this cap does not apply to the
	// market and its reason says so. 0 means no cap.
	MaxShareOfTVL float64 `json:"max_share_of_tvl,omitempty" yaml:"max_share_of_tvl,omitempty"`
	// MaxLeverage caps the leverage of every loop market (collateral per
	// unit of equity); 0 means only the market's own LTV bounds it.
	MaxLeverage float64 `json:"max_leverage,omitempty" yaml:"max_leverage,omitempty"`
}

// ConstraintError is one problem with a Constraints value. Key is the YAML
// path of the offending field inside the constraints block ("max_weight",
// "max_kind.lrt", "max_tag.layer:eigenlayer") so that a loader can point at
// its line. Validate returns ConstraintErrors wrapped in *adapters.Error of
// kind KindInvalid.
type ConstraintError struct {
	Key string
	Msg string
}

func (e *ConstraintError) Error() string { return e.Key + ": " + e.Msg }

// Problems lists every problem with c, in a fixed order (fields in
// declaration order, map keys sorted).
func (c *Constraints) Problems() []*ConstraintError {
	var out []*ConstraintError
	frac := func(key string, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > 1 {
			out = append(out, &ConstraintError{Key: key, Msg: fmt.Sprintf("%g is not a fraction in [0, 1]", v)})
		}
	}
	frac("idle", c.Idle)
	if v := c.MaxLeverage; math.IsNaN(v) || math.IsInf(v, 0) || v != 0 && v < 1 {
		out = append(out, &ConstraintError{Key: "max_leverage", Msg: fmt.Sprintf("%g is not a leverage (collateral per unit of equity, >= 1)", v)})
	}
	frac("max_weight", c.MaxWeight)
	frac("min_weight", c.MinWeight)
	if c.MaxWeight > 0 && c.MinWeight > c.MaxWeight {
		out = append(out, &ConstraintError{Key: "min_weight", Msg: fmt.Sprintf("%g is above max_weight %g", c.MinWeight, c.MaxWeight)})
	}
	if c.MinWeight > 0 && c.MinWeight <= 1 && c.Idle >= 0 && c.Idle <= 1 && c.MinWeight > 1-c.Idle {
		out = append(out, &ConstraintError{Key: "min_weight", Msg: fmt.Sprintf("%g is above the investable share 1 - idle = %g", c.MinWeight, 1-c.Idle)})
	}
	kinds := make([]string, 0, len(c.MaxKind))
	for k := range c.MaxKind {
		kinds = append(kinds, string(k))
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		key := "max_kind." + k
		if _, err := adapters.ParseKind(k); err != nil || k != strings.ToLower(strings.TrimSpace(k)) {
			known := adapters.KnownKinds()
			names := make([]string, len(known))
			for i, kk := range known {
				names[i] = string(kk)
			}
			out = append(out, &ConstraintError{Key: key, Msg: fmt.Sprintf("unknown market kind %q (known: %s)", k, strings.Join(names, ", "))})
			continue
		}
		frac(key, c.MaxKind[adapters.Kind(k)])
	}
	for _, p := range sortedKeys(c.MaxProtocol) {
		key := "max_protocol." + p
		if p == "" || strings.ContainsAny(p, "/: \t") {
			out = append(out, &ConstraintError{Key: key, Msg: fmt.Sprintf("protocol name %q must be non-empty with no spaces, slashes or colons", p)})
			continue
		}
		frac(key, c.MaxProtocol[p])
	}
	for _, t := range sortedKeys(c.MaxTag) {
		key := "max_tag." + t
		if k, v, ok := strings.Cut(t, ":"); !ok || k == "" || v == "" || strings.ContainsAny(t, " \t") {
			out = append(out, &ConstraintError{Key: key, Msg: fmt.Sprintf("tag %q is not of the form key:value", t)})
			continue
		}
		frac(key, c.MaxTag[t])
	}
	frac("max_share_of_tvl", c.MaxShareOfTVL)
	return out
}

// Validate checks c. It returns nil or an error joining one
// *adapters.Error of kind KindInvalid per problem, each wrapping a
// *ConstraintError (use errors.As to get the key of the first one, or
// Problems to get them all).
func (c *Constraints) Validate() error {
	ps := c.Problems()
	if len(ps) == 0 {
		return nil
	}
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = &adapters.Error{Op: "strategies.Constraints.Validate", Kind: adapters.KindInvalid, Err: p}
	}
	return errors.Join(errs...)
}

// Clone returns a copy of c that shares no maps with it.
func (c *Constraints) Clone() Constraints {
	d := *c
	d.MaxKind = cloneKeyed(c.MaxKind)
	d.MaxProtocol = cloneKeyed(c.MaxProtocol)
	d.MaxTag = cloneKeyed(c.MaxTag)
	return d
}

func cloneKeyed[K comparable](m map[K]float64) map[K]float64 {
	if m == nil {
		return nil
	}
	d := make(map[K]float64, len(m))
	for k, v := range m {
		d[k] = v
	}
	return d
}

// IsZero reports whether c constrains nothing.
func (c *Constraints) IsZero() bool {
	return c.Idle == 0 && c.MaxWeight == 0 && c.MinWeight == 0 && len(c.MaxKind) == 0 &&
		len(c.MaxProtocol) == 0 && len(c.MaxTag) == 0 && c.MaxShareOfTVL == 0
}

// TVLCap returns the weight cap MaxShareOfTVL puts on market ms in state
// st, and whether it applies (see Constraints.MaxShareOfTVL for when it
// does not). The cap may exceed 1.
func (c *Constraints) TVLCap(st *State, ms *MarketState) (float64, bool) {
	if c.MaxShareOfTVL <= 0 || st == nil || ms == nil {
		return math.Inf(1), false
	}
	return c.tvlCap(st, st.NAV.InexactFloat64(), ms)
}

// tvlCap is TVLCap with the NAV already converted to float64.
func (c *Constraints) tvlCap(st *State, nav float64, ms *MarketState) (float64, bool) {
	if c.MaxShareOfTVL <= 0 || ms.Row < 0 {
		return math.Inf(1), false
	}
	tvl, ok := ms.Obs.Get(adapters.FieldTVL)
	if !ok || math.IsNaN(tvl) || tvl < 0 {
		return math.Inf(1), false
	}
	usd := st.BaseUSD
	if !(usd > 0) {
		usd = ms.Obs.Value(adapters.FieldBaseUSD, 0)
	}
	if !(usd > 0) && st.Base == adapters.USD {
		usd = 1
	}
	if !(usd > 0) || !(nav > 0) || math.IsInf(usd, 0) || math.IsInf(nav, 0) {
		return math.Inf(1), false
	}
	v := c.MaxShareOfTVL * tvl / (nav * usd)
	if math.IsNaN(v) {
		return math.Inf(1), false
	}
	return v, true
}

// SumWeights returns the sum of xs with Neumaier's compensated summation,
// so that 1 - SumWeights(w) is an idle share that brings the total to 1
// within 1e-12 whatever the number of markets.
func SumWeights(xs []float64) float64 {
	var s, c float64
	for _, x := range xs {
		t := s + x
		if math.Abs(s) >= math.Abs(x) {
			c += (s - t) + x
		} else {
			c += (x - t) + s
		}
		s = t
	}
	return s + c
}

// Check verifies a Target against the constraints in state st, allowing
// tol for rounding (1e-12 is right for targets built by Projector). It
// returns a *adapters.Error of kind KindCapExceeded naming the first cap
// broken, or of kind KindInvalid when the target is malformed (a negative
// or non-finite weight, weights plus idle not 1, markets not those of st
// in order).
func (c *Constraints) Check(st *State, t *Target, tol float64) error {
	const op = "strategies.Constraints.Check"
	if len(t.Allocations) != len(st.Markets) {
		return adapters.E(op, adapters.KindInvalid, "target has %d allocations for %d markets", len(t.Allocations), len(st.Markets))
	}
	w := make([]float64, len(t.Allocations))
	for i, a := range t.Allocations {
		if a.Market != st.Markets[i].Market.ID {
			return adapters.E(op, adapters.KindInvalid, "allocation %d is %q, want %q", i, a.Market, st.Markets[i].Market.ID)
		}
		if math.IsNaN(a.Weight) || math.IsInf(a.Weight, 0) || a.Weight < 0 {
			return adapters.E(op, adapters.KindInvalid, "%s: weight %g is not a finite number >= 0", a.Market, a.Weight)
		}
		w[i] = a.Weight
	}
	if math.IsNaN(t.Idle) || math.IsInf(t.Idle, 0) || t.Idle < -tol {
		return adapters.E(op, adapters.KindInvalid, "idle %g is not a finite number >= 0", t.Idle)
	}
	total := SumWeights(w)
	if d := math.Abs(total + t.Idle - 1); d > tol {
		return adapters.E(op, adapters.KindInvalid, "weights (%.17g) plus idle (%.17g) differ from 1 by %g", total, t.Idle, d)
	}
	if t.Idle < c.Idle-tol {
		return adapters.E(op, adapters.KindCapExceeded, "idle %g is below the idle floor %g", t.Idle, c.Idle)
	}
	for i := range st.Markets {
		ms := &st.Markets[i]
		if c.MaxWeight > 0 && w[i] > c.MaxWeight+tol {
			return adapters.E(op, adapters.KindCapExceeded, "%s: weight %g is above max_weight %g", ms.Market.ID, w[i], c.MaxWeight)
		}
		if capv, ok := c.TVLCap(st, ms); ok && w[i] > capv+tol {
			return adapters.E(op, adapters.KindCapExceeded, "%s: weight %g is above the max_share_of_tvl cap %g", ms.Market.ID, w[i], capv)
		}
		if c.MinWeight > 0 && w[i] > 0 && w[i] < c.MinWeight-tol {
			return adapters.E(op, adapters.KindCapExceeded, "%s: weight %g is below min_weight %g", ms.Market.ID, w[i], c.MinWeight)
		}
	}
	markets := make([]adapters.Market, len(st.Markets))
	for i := range st.Markets {
		markets[i] = st.Markets[i].Market
	}
	for _, g := range c.groups(markets) {
		var s []float64
		for _, m := range g.members {
			s = append(s, w[m])
		}
		if sum := SumWeights(s); sum > g.cap+tol {
			return adapters.E(op, adapters.KindCapExceeded, "%s: weights sum to %g", g.label, sum)
		}
	}
	return nil
}

// group is one group cap over the markets of a universe.
type group struct {
	label   string // "max_kind.lrt = 0.4"
	cap     float64
	members []int // market indices, ascending
}

// groups lists the group caps that hold at least one of markets, in a
// fixed order: kinds, protocols, tags, each by sorted key.
func (c *Constraints) groups(markets []adapters.Market) []group {
	var out []group
	add := func(label string, capv float64, in func(m *adapters.Market) bool) {
		g := group{label: label, cap: capv}
		for i := range markets {
			if in(&markets[i]) {
				g.members = append(g.members, i)
			}
		}
		if len(g.members) > 0 {
			out = append(out, g)
		}
	}
	kinds := make([]string, 0, len(c.MaxKind))
	for k := range c.MaxKind {
		kinds = append(kinds, string(k))
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		v := c.MaxKind[adapters.Kind(k)]
		add(fmt.Sprintf("max_kind.%s = %g", k, v), v, func(m *adapters.Market) bool { return string(m.Kind) == k })
	}
	for _, p := range sortedKeys(c.MaxProtocol) {
		v := c.MaxProtocol[p]
		tag := "protocol:" + p
		add(fmt.Sprintf("max_protocol.%s = %g", p, v), v, func(m *adapters.Market) bool { return m.HasTag(tag) })
	}
	for _, t := range sortedKeys(c.MaxTag) {
		v := c.MaxTag[t]
		add(fmt.Sprintf("max_tag.%s = %g", t, v), v, func(m *adapters.Market) bool { return m.HasTag(t) })
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
