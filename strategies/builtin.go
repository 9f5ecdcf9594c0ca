package strategies

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"sync/atomic"

	"github.com/yieldvault/yieldvault/adapters"
)

// Names of the built-in strategies.
const (
	MaxYieldName     = "max-yield"
	EqualWeightName  = "equal-weight"
	RiskAdjustedName = "risk-adjusted"
	HoldName         = "hold"
)

func init() {
	RegisterParams(MaxYieldName, func(cfg Config) (Strategy, error) { return NewMaxYield(cfg) }, declare(maxYieldParams)...)
	Register(EqualWeightName, func(cfg Config) (Strategy, error) { return NewEqualWeight(cfg) })
	RegisterParams(RiskAdjustedName, func(cfg Config) (Strategy, error) { return NewRiskAdjusted(cfg) }, declare(riskAdjustedParams)...)
	RegisterParams(HoldName, func(cfg Config) (Strategy, error) { return NewHold(cfg) }, declare(holdParams)...)
}

// The built-in strategies' parameters (go:NAME --param k=v; validate
// lists them).
var (
	maxYieldParams     = []paramSpec{{name: "min_apy", def: 0, min: -1, max: 10, doc: "markets whose net APY is not above it are left out"}}
	riskAdjustedParams = []paramSpec{
		{name: "lambda", def: 1, min: 0, max: 1000, doc: "weight of the risk in the score"},
		{name: "depeg_weight", def: 0.1, min: 0, max: 100, doc: "weight of the profile's depeg_risk in the risk"},
		{name: "delay_rate", def: 0.05, min: 0, max: 10, doc: "yearly cost of capital locked in the exit queue"},
		{name: "concentration", def: 0.02, min: 0, max: 10, doc: "penalty for a market small next to the vault"},
		{name: "min_score", def: 0, min: -1, max: 10, doc: "markets whose score is not above it get nothing"},
	}
	holdParams = []paramSpec{{name: "market", def: 0, min: 0, max: 1e6, doc: "index in the universe of the market held"}}
)

// declare turns parameter specs into their registry declarations.
func declare(specs []paramSpec) []Param {
	out := make([]Param, len(specs))
	for i, s := range specs {
		out[i] = Param{Name: s.name, Doc: s.doc, Default: s.def, Min: s.min, Max: s.max}
	}
	return out
}

// builtin is what the built-in strategies share: the config, the
// resolved parameters and a cached Projector for the last universe seen.
type builtin struct {
	name   string
	cfg    Config
	params params
	proj   atomic.Pointer[cachedProjector]
}

// cachedProjector is a Projector and the markets it was built for.
type cachedProjector struct {
	markets []adapters.Market
	p       *Projector
}

func newBuiltin(name string, cfg Config, specs []paramSpec) (*builtin, error) {
	op := "strategies.New(" + name + ")"
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p, err := newParams(op, specs, cfg.Params)
	if err != nil {
		return nil, err
	}
	cfg.Universe = slices.Clone(cfg.Universe)
	cfg.Constraints = cfg.Constraints.Clone()
	cfg.Params = maps.Clone(cfg.Params)
	p.cfg = cfg.Params
	return &builtin{name: name, cfg: cfg, params: p}, nil
}

// Name returns the registry name.
func (b *builtin) Name() string { return b.name }

// start checks the context and the state and returns a projector for the
// state's markets.
func (b *builtin) start(ctx context.Context, st *State) (*Projector, error) {
	op := "strategies." + b.name + ".Plan"
	if err := ctx.Err(); err != nil {
		return nil, adapters.Wrap(op, adapters.KindOther, err)
	}
	if err := checkUniverse(op, b.cfg.Universe, st); err != nil {
		return nil, err
	}
	if c := b.proj.Load(); c != nil && sameMarkets(c.markets, st) {
		return c.p, nil
	}
	ml := st.MarketList()
	for i := range ml {
		ml[i].Tags = slices.Clone(ml[i].Tags)
	}
	p, err := NewProjector(b.cfg.Constraints, ml)
	if err != nil {
		return nil, err
	}
	b.proj.Store(&cachedProjector{markets: ml, p: p})
	return p, nil
}

// sameMarkets reports whether st holds ms (same IDs, kinds, protocols and
// tags, in order).
func sameMarkets(ms []adapters.Market, st *State) bool {
	if len(ms) != len(st.Markets) {
		return false
	}
	for i := range ms {
		a, b := &ms[i], &st.Markets[i].Market
		if a.ID != b.ID || a.Kind != b.Kind || a.Protocol != b.Protocol || !slices.Equal(a.Tags, b.Tags) {
			return false
		}
	}
	return true
}

// usable says why a market cannot be funded, or "" when it can.
func usable(ms *MarketState) string {
	switch {
	case ms.Row < 0:
		return "no observation yet"
	case ms.Paused:
		return "paused"
	}
	return ""
}

// pct formats a fraction as a percentage with two decimals: "3.10%".
func pct(v float64) string { return string(appendPct(nil, v)) }

// appendPct appends pct(v) to b.
func appendPct(b []byte, v float64) []byte {
	return append(strconv.AppendFloat(b, v*100, 'f', 2, 64), '%')
}

// MaxYield fills markets greedily in order of net APY (NetAPY), each up
// to its caps, until the investable share is spent.
//
// Parameters:
//   - min_apy (default 0, in [-1, 10]): markets whose net APY is not above
//     it are left out.
type MaxYield struct{ *builtin }

// NewMaxYield builds a max-yield strategy.
func NewMaxYield(cfg Config) (*MaxYield, error) {
	b, err := newBuiltin(MaxYieldName, cfg, maxYieldParams)
	if err != nil {
		return nil, err
	}
	return &MaxYield{b}, nil
}

// Plan implements Strategy.
func (s *MaxYield) Plan(ctx context.Context, st *State) (Target, error) {
	const op = "strategies.max-yield.Plan"
	p, err := s.start(ctx, st)
	if err != nil {
		return Target{}, err
	}
	minAPY, err := s.params.get(op, st, "min_apy")
	if err != nil {
		return Target{}, err
	}
	n := len(st.Markets)
	apy := make([]float64, n)
	reasons := make([]string, n)
	var order []int
	var buf []byte
	for i := range st.Markets {
		ms := &st.Markets[i]
		apy[i] = math.Inf(-1)
		if why := usable(ms); why != "" {
			reasons[i] = why
			continue
		}
		a := NetAPY(ms)
		switch {
		case math.IsNaN(a):
			reasons[i] = "invalid data: net apy is not a number"
		case a <= minAPY:
			reasons[i] = fmt.Sprintf("net apy %s <= min_apy %s", pct(a), pct(minAPY))
		default:
			apy[i] = a
			buf = appendPct(append(buf[:0], "net apy "...), a)
			reasons[i] = string(buf)
		}
	}
	for _, i := range sortedIndex(apy) {
		if !math.IsInf(apy[i], -1) {
			order = append(order, i)
		}
	}
	pr, err := p.Greedy(st, order)
	if err != nil {
		return Target{}, err
	}
	t := pr.Target(reasons)
	t.Reason = fmt.Sprintf("greedy by net apy over %d eligible of %d markets", len(order), n)
	return t, nil
}

// EqualWeight splits the investable share equally between the markets
// that have an observation and are not paused, within the caps.
type EqualWeight struct{ *builtin }

// NewEqualWeight builds an equal-weight strategy. It takes no parameters.
func NewEqualWeight(cfg Config) (*EqualWeight, error) {
	b, err := newBuiltin(EqualWeightName, cfg, nil)
	if err != nil {
		return nil, err
	}
	return &EqualWeight{b}, nil
}

// Plan implements Strategy.
func (s *EqualWeight) Plan(ctx context.Context, st *State) (Target, error) {
	p, err := s.start(ctx, st)
	if err != nil {
		return Target{}, err
	}
	n := len(st.Markets)
	desired := make([]float64, n)
	reasons := make([]string, n)
	k := 0
	for i := range st.Markets {
		if why := usable(&st.Markets[i]); why != "" {
			reasons[i] = why
			continue
		}
		desired[i] = 1
		k++
	}
	pr, err := p.Project(st, desired)
	if err != nil {
		return Target{}, err
	}
	t := pr.Target(reasons)
	t.Reason = fmt.Sprintf("equal weight over %d of %d markets", k, n)
	return t, nil
}

// RiskAdjusted weights markets in proportion to a positive risk-adjusted
// score,
//
//	score = net_apy - lambda x risk
//	risk  = slash_risk + depeg + withdrawal + concentration
//
// where slash_risk is the profile's expected annual slashing loss; depeg
// is the current discount max(0, 1 - peg) plus depeg_weight x the
// profile's depeg_risk (the depth of a stress depeg times its yearly
// odds); withdrawal is withdrawal_days / 365 x delay_rate (the cost of
// capital locked in the exit queue); and concentration is
// concentration x min(1, vault NAV in USD / market TVL), the penalty for a
// market that is small next to the vault (0 when TVL or the USD price is
// unknown). Markets whose score is not above min_score get nothing.
//
// Parameters (defaults): lambda 1, depeg_weight 0.1, delay_rate 0.05,
// concentration 0.02, min_score 0.
type RiskAdjusted struct{ *builtin }

// NewRiskAdjusted builds a risk-adjusted strategy.
func NewRiskAdjusted(cfg Config) (*RiskAdjusted, error) {
	b, err := newBuiltin(RiskAdjustedName, cfg, riskAdjustedParams)
	if err != nil {
		return nil, err
	}
	return &RiskAdjusted{b}, nil
}

// risk is the risk term of one market: slash + depeg + withdrawal +
// concentration (see RiskAdjusted).
func (s *RiskAdjusted) risk(st *State, ms *MarketState, depegW, delayRate, conc float64) float64 {
	var slash, depegRisk float64
	if ms.Profile != nil {
		slash = ms.Profile.ParamOr("slash_risk", 0)
		depegRisk = ms.Profile.ParamOr("depeg_risk", 0)
	}
	peg, _ := ms.Obs.Peg(ms.Profile.PegBasis())
	depeg := math.Max(0, 1-peg) + depegW*depegRisk
	withdrawal := WithdrawalDays(ms) / 365 * delayRate
	concentration := 0.0
	if tvl, ok := ms.Obs.Get(adapters.FieldTVL); ok {
		usd := st.BaseUSD
		if !(usd > 0) {
			usd = ms.Obs.Value(adapters.FieldBaseUSD, 0)
		}
		if !(usd > 0) && st.Base == adapters.USD {
			usd = 1
		}
		if nav := st.NAV.InexactFloat64(); usd > 0 && nav > 0 {
			share := 1.0
			if tvl > 0 {
				share = math.Min(1, nav*usd/tvl)
			}
			concentration = conc * share
		}
	}
	return slash + depeg + withdrawal + concentration
}

// Plan implements Strategy.
func (s *RiskAdjusted) Plan(ctx context.Context, st *State) (Target, error) {
	const op = "strategies.risk-adjusted.Plan"
	p, err := s.start(ctx, st)
	if err != nil {
		return Target{}, err
	}
	var v [5]float64
	for i, name := range []string{"lambda", "depeg_weight", "delay_rate", "concentration", "min_score"} {
		if v[i], err = s.params.get(op, st, name); err != nil {
			return Target{}, err
		}
	}
	lambda, depegW, delayRate, conc, minScore := v[0], v[1], v[2], v[3], v[4]
	n := len(st.Markets)
	desired := make([]float64, n)
	reasons := make([]string, n)
	k := 0
	var buf []byte
	for i := range st.Markets {
		ms := &st.Markets[i]
		if why := usable(ms); why != "" {
			reasons[i] = why
			continue
		}
		net := NetAPY(ms)
		r := s.risk(st, ms, depegW, delayRate, conc)
		score := net - lambda*r
		if math.IsNaN(score) || math.IsInf(score, 0) {
			reasons[i] = "invalid data: score is not a finite number"
			continue
		}
		buf = appendPct(append(buf[:0], "score "...), score)
		buf = appendPct(append(buf, " = net apy "...), net)
		buf = strconv.AppendFloat(append(buf, " - "...), lambda, 'g', -1, 64)
		buf = appendPct(append(buf, " x risk "...), r)
		if score <= minScore {
			buf = appendPct(append(buf, " <= min_score "...), minScore)
			reasons[i] = string(buf)
			continue
		}
		reasons[i] = string(buf)
		desired[i] = score
		k++
	}
	pr, err := p.Project(st, desired)
	if err != nil {
		return Target{}, err
	}
	t := pr.Target(reasons)
	t.Reason = fmt.Sprintf("weights proportional to risk-adjusted score over %d of %d markets", k, n)
	return t, nil
}

// Hold puts everything investable in one market, whatever the data: the
// buy-and-hold benchmark. The market is the universe's (or the State's)
// market at index Params["market"] (default 0). Caps and the idle floor
// still apply; until the market has an observation the vault stays idle.
type Hold struct{ *builtin }

// NewHold builds a hold strategy.
func NewHold(cfg Config) (*Hold, error) {
	hi := 1e6
	if len(cfg.Universe) > 0 {
		hi = float64(len(cfg.Universe) - 1)
	}
	specs := slices.Clone(holdParams)
	specs[0].max = hi
	b, err := newBuiltin(HoldName, cfg, specs)
	if err != nil {
		return nil, err
	}
	if v, ok := cfg.Params["market"]; ok && v != math.Trunc(v) {
		return nil, adapters.E("strategies.New(hold)", adapters.KindInvalid, "parameter market = %g is not a market index", v)
	}
	return &Hold{b}, nil
}

// Plan implements Strategy.
func (s *Hold) Plan(ctx context.Context, st *State) (Target, error) {
	const op = "strategies.hold.Plan"
	p, err := s.start(ctx, st)
	if err != nil {
		return Target{}, err
	}
	fi, err := s.params.get(op, st, "market")
	if err != nil {
		return Target{}, err
	}
	n := len(st.Markets)
	if fi != math.Trunc(fi) || int(fi) >= n {
		return Target{}, adapters.E(op, adapters.KindInvalid, "parameter market = %g is not an index into %d markets", fi, n)
	}
	idx := int(fi)
	desired := make([]float64, n)
	reasons := make([]string, n)
	for i := range reasons {
		reasons[i] = "not the held market"
	}
	ms := &st.Markets[idx]
	switch {
	case ms.Row < 0:
		reasons[idx] = "held market: no observation yet"
	case ms.Paused:
		desired[idx] = 1
		reasons[idx] = "held market (paused)"
	default:
		desired[idx] = 1
		reasons[idx] = "held market"
	}
	pr, err := p.Project(st, desired)
	if err != nil {
		return Target{}, err
	}
	t := pr.Target(reasons)
	t.Reason = "hold " + ms.Market.ID
	return t, nil
}
