package synth

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/yieldvault/yieldvault/adapters"
)

// EventRates are the yearly rates and sizes of the random events a
// scenario draws when Config.RandomEvents is set (yieldvault montecarlo):
// each kind is a Poisson process over [From, To] (exponential gaps), on
// its own seeded stream, so a path is a pure function of the Config.
//
// A rate is set only where a real frequency exists, with its source;
// where none does it is 0 in the base scenarios and a stated stress
// assumption in the scenario that studies that risk (correlated-slash,
// utilization-spike). Rates are per generated universe, not per market.
type EventRates struct {
	// SlashPerYear: correlated slashes of one operator: or avs: tag
	// (every staked market carrying it; its LRTs pause for PauseDays).
	// SlashSize is the range of each market's loss, drawn uniformly.
	SlashPerYear float64    `json:"slash_per_year"`
	SlashSize    [2]float64 `json:"slash_size"`
	// DepegPerYear: a staking token or a stablecoin (one peg process,
	// drawn uniformly) trades below its rate by a peak drawn uniformly in
	// DepegSize, fading over DepegDays; its exit depth halves meanwhile.
	DepegPerYear float64    `json:"depeg_per_year"`
	DepegSize    [2]float64 `json:"depeg_size"`
	DepegDays    float64    `json:"depeg_days"`
	// UtilSpikePerYear: every lending market's utilization goes to 0.99
	// for UtilSpikeDays, then recovers over a week.
	UtilSpikePerYear float64 `json:"util_spike_per_year"`
	UtilSpikeDays    float64 `json:"util_spike_days"`
	// PausePerYear: one LRT's withdrawals pause for PauseDays (beyond
	// the pauses that follow a slash).
	PausePerYear float64 `json:"pause_per_year"`
	PauseDays    float64 `json:"pause_days"`
}

// Sources of the rates (docs/research.md repeats them):
//
//   - Depegs: two episodes of a liquid staking token more than 2% under
//     its rate in the four years 2021-2024 of the tokens this catalog
//     holds: stETH in May-June 2022 (low 0.931 of its rate on 2022-06-18,
//     the steth-2022 scenario, Curve pool data in the shared data) and
//     ezETH on 2024-04-24 (about 0.80, the ezeth-2024 scenario); so 0.5 a
//     year, sizes between 2% and 20% (the observed range), about a week
//     to fade (ezETH) or months (stETH: DepegDays 14 is a middle).
//   - Slashes of restaked operators: none observed since EigenLayer
//     slashing went live on 2025-04-17; no frequency exists, so the base
//     scenarios draw none and correlated-slash assumes 1 a year (a stress
//     assumption, not a measurement) of 0.5-2% (the scenario's own size).
//   - Utilization spikes and standalone LRT pauses: no frequency has
//     been measured from the shared data yet; 0 in the base scenarios,
//     and utilization-spike assumes 2 a year of 1.5 days (its own shape).
var (
	observedDepegs = EventRates{DepegPerYear: 0.5, DepegSize: [2]float64{0.02, 0.2}, DepegDays: 14}
	slashStress    = EventRates{SlashPerYear: 1, SlashSize: [2]float64{0.005, 0.02}, PauseDays: 1,
		DepegPerYear: 0.5, DepegSize: [2]float64{0.02, 0.2}, DepegDays: 14}
	utilStress = EventRates{UtilSpikePerYear: 2, UtilSpikeDays: 1.5,
		DepegPerYear: 0.5, DepegSize: [2]float64{0.02, 0.2}, DepegDays: 14}
)

// Validate checks that rates and sizes are finite, rates >= 0, sizes
// ordered fractions in [0, 1] and durations > 0 where their rate is.
func (r EventRates) Validate() error {
	const op = "synth.EventRates"
	for _, f := range []struct {
		name string
		v    float64
	}{{"slash rate", r.SlashPerYear}, {"depeg rate", r.DepegPerYear}, {"utilization spike rate", r.UtilSpikePerYear},
		{"pause rate", r.PausePerYear}, {"depeg days", r.DepegDays}, {"utilization spike days", r.UtilSpikeDays}, {"pause days", r.PauseDays}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) || f.v < 0 || f.v > 1000 {
			return adapters.E(op, adapters.KindInvalid, "%s %g is not a number in [0, 1000]", f.name, f.v)
		}
	}
	for _, s := range []struct {
		name string
		rate float64
		v    [2]float64
	}{{"slash size", r.SlashPerYear, r.SlashSize}, {"depeg size", r.DepegPerYear, r.DepegSize}} {
		if s.rate > 0 && !(s.v[0] > 0 && s.v[0] <= s.v[1] && s.v[1] <= 1) {
			return adapters.E(op, adapters.KindInvalid, "%s range [%g, %g] is not within (0, 1] in order", s.name, s.v[0], s.v[1])
		}
	}
	if r.DepegPerYear > 0 && r.DepegDays <= 0 || r.UtilSpikePerYear > 0 && r.UtilSpikeDays <= 0 || (r.PausePerYear > 0 || r.SlashPerYear > 0) && r.PauseDays <= 0 {
		return adapters.E(op, adapters.KindInvalid, "an event with a rate needs a duration above 0 days")
	}
	return nil
}

// ScenarioRates returns a scenario's event rates (the zero rates for an
// unknown name).
func ScenarioRates(name string) EventRates {
	if name == "" {
		name = "calm"
	}
	if s := lookupScenario(name); s != nil {
		return s.info.Rates
	}
	return EventRates{}
}

// arrivals draws a Poisson process of rate perYear over days: the event
// times in days from the start, ascending.
func arrivals(r *rng, perYear, days float64) []float64 {
	if perYear <= 0 || days <= 0 {
		return nil
	}
	var out []float64
	t := 0.0
	for {
		// Exponential gap in days: -ln(1-u)/rate, through Log1p (pure Go).
		t += -math.Log1p(-r.uniform()) / perYear * 365
		if t > days || len(out) >= 10000 {
			return out
		}
		out = append(out, t)
	}
}

func shift(s shape, d float64) shape {
	out := make(shape, len(s))
	for i, k := range s {
		out[i] = knot{k.day + d, k.v}
	}
	return out
}

// slashTags are the operator: and avs: tags of the staked markets,
// sorted; Config.SlashScope alone when set.
func (b *builder) slashTags() []string {
	if s := b.g.cfg.SlashScope; s != "" {
		return []string{s}
	}
	seen := map[string]bool{}
	for _, mk := range b.markets(staked) {
		for _, t := range append(append([]string(nil), mk.m.Tags...), mk.prof.Tags...) {
			if strings.HasPrefix(t, "operator:") || strings.HasPrefix(t, "avs:") {
				seen[t] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for t := range seen {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

func (mk *market) hasTag(tag string) bool {
	for _, t := range mk.prof.Tags {
		if t == tag {
			return true
		}
	}
	return mk.m.HasTag(tag)
}

// randomEvents draws the scenario's random events (Config.RandomEvents)
// over the range, each kind on its own stream.
func (b *builder) randomEvents(r EventRates) {
	g := b.g
	days := float64(g.to-g.from) / dayDur.Seconds()
	off := float64(g.from-g.anchor) / dayDur.Seconds() // day of From relative to the anchor
	seed := g.cfg.Seed
	pick := func(r *rng, n int) int { return min(n-1, int(r.uniform()*float64(n))) }
	size := func(r *rng, s [2]float64) float64 { return sig(s[0]+(s[1]-s[0])*r.uniform(), 3) }

	if tags := b.slashTags(); len(tags) > 0 {
		rs := newRNG(seed, "random:slash")
		for _, t := range arrivals(rs, r.SlashPerYear, days) {
			d := off + t
			scope := tags[pick(rs, len(tags))]
			note := fmt.Sprintf("synthetic: random slash of %s", scope)
			for _, mk := range b.markets(func(mk *market) bool { return staked(mk) && mk.hasTag(scope) }) {
				sz := size(rs, r.SlashSize)
				fall := 2*sz + 0.005
				mk.effects = append(mk.effects,
					effect{kind: effPegDrop, s: shift(shape{{0, 0}, {0.25, fall}, {1, sz + 0.005}, {3, sz / 2}, {7, 0}}, d)},
					effect{kind: effExit, s: shift(shape{{0, 1}, {0.25, 0.3}, {2, 0.6}, {5, 1}}, d)})
				b.event(mk, d, adapters.EventSlash, sz, scope, note)
				b.event(mk, d+0.25, adapters.EventDepeg, sig(fall, 3), scope, "synthetic: market panic after the slash")
				if mk.m.Kind == adapters.LRT {
					b.event(mk, d, adapters.EventPause, 0, scope, "synthetic: withdrawals paused while the slash is assessed")
					b.event(mk, d+r.PauseDays, adapters.EventUnpause, 0, scope, "synthetic: withdrawals resume")
				}
			}
		}
	}
	if len(g.pegL) > 0 {
		rs := newRNG(seed, "random:depeg")
		for _, t := range arrivals(rs, r.DepegPerYear, days) {
			d := off + t
			p := g.pegL[pick(rs, len(g.pegL))]
			sz := size(rs, r.DepegSize)
			L := r.DepegDays
			p.drops = append(p.drops, shift(shape{{-0.25, 0}, {0, sz}, {L / 7, sz / 2}, {L / 2, sz / 5}, {L, 0}}, d))
			for _, mk := range b.markets(func(mk *market) bool { return mk.under != nil && mk.under.peg == p || mk.stable == p }) {
				mk.effects = append(mk.effects, effect{kind: effExit, s: shift(shape{{-0.25, 1}, {0, 0.5}, {L / 2, 0.8}, {L, 1}}, d)})
				b.event(mk, d, adapters.EventDepeg, sz, "", "synthetic: random depeg of "+p.key)
			}
		}
	}
	{
		rs := newRNG(seed, "random:util")
		for _, t := range arrivals(rs, r.UtilSpikePerYear, days) {
			d, L := off+t, r.UtilSpikeDays
			b.add(isKind(adapters.Lending), effect{kind: effUtil, target: 0.99,
				s: shift(shape{{-0.5, 0}, {0, 1}, {L, 1}, {L + 1.5, 0.5}, {L + 5.5, 0}}, d)})
		}
	}
	if lrts := b.markets(isKind(adapters.LRT)); len(lrts) > 0 {
		rs := newRNG(seed, "random:pause")
		for _, t := range arrivals(rs, r.PausePerYear, days) {
			d := off + t
			mk := lrts[pick(rs, len(lrts))]
			b.event(mk, d, adapters.EventPause, 0, "", "synthetic: random withdrawal pause")
			b.event(mk, d+r.PauseDays, adapters.EventUnpause, 0, "", "synthetic: withdrawals resume")
		}
	}
}
