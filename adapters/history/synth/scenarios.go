package synth

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
)

// ScenarioInfo describes a named scenario for the CLI and the docs.
type ScenarioInfo struct {
	Name string
	Doc  string
	// Date is where the scenario places its shock when it lies within
	// [From, To] (else at From + (To-From)/3); zero for calm.
	Date time.Time
	// Rates are the random events Config.RandomEvents adds (EventRates,
	// with the source of each rate in random.go).
	Rates EventRates
}

// scenario is a ScenarioInfo and the overlays and events it adds.
type scenario struct {
	info  ScenarioInfo
	build func(b *builder)
}

// Scenarios lists every named scenario, in a fixed order.
func Scenarios() []ScenarioInfo {
	out := make([]ScenarioInfo, len(scenarios))
	for i, s := range scenarios {
		out[i] = s.info
	}
	return out
}

func lookupScenario(name string) *scenario {
	for i := range scenarios {
		if scenarios[i].info.Name == name {
			return &scenarios[i]
		}
	}
	return nil
}

func scenarioNames() []string {
	var names []string
	for _, s := range scenarios {
		names = append(names, s.info.Name)
	}
	return names
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic("synth: bad scenario date " + s)
	}
	return t
}

var scenarios = []scenario{
	{ScenarioInfo{Name: "calm", Doc: "No shocks: every rate, price, size and balance mean-reverts around its calibrated level; no events."},
		func(*builder) {}},
	{ScenarioInfo{Name: "default", Date: utc("2024-08-05T00:00:00Z"),
		Doc: "Calm with one mild event, the scenario of the embedded default history: rsETH (Kelp) trades up to 2% below " +
			"its exchange rate for about two days, its exit depth halves and gas spikes, with a depeg event.", Rates: observedDepegs},
		buildDefault},
	{ScenarioInfo{Name: "steth-2022", Date: utc("2022-06-18T20:00:00Z"),
		Doc: "Lido stETH, May-June 2022: the market price slides from the UST collapse (0.976 on May 13) to about 0.93 of " +
			"its rate on June 18, recovers to 0.97 by July and above 0.99 by November; the Curve ETH/stETH pool " +
			"fills to about 80% stETH and rebalances over months; stETH exit depth dries to a quarter; depeg events.", Rates: observedDepegs},
		buildSteth2022},
	{ScenarioInfo{Name: "ezeth-2024", Date: utc("2024-04-24T00:00:00Z"),
		Doc: "Renzo ezETH, April 2024: a sharp depeg to about 0.80 of its rate, exit liquidity near zero for a day or " +
			"two, recovery within a week; a depeg event.", Rates: observedDepegs},
		buildEzeth2024},
	{ScenarioInfo{Name: "correlated-slash", Date: utc("2025-04-17T00:00:00Z"),
		Doc: "One operator (Config.SlashScope / --slash-scope, or the operator: tag shared by most LST/LRT markets, else the most " +
			"shared avs: tag) is slashed across every market that carries it: one slash event per market with the " +
			"same Scope (0.5-2% each), a market-price panic of twice the loss that fades over a week, halved exit " +
			"depth, and LRT pauses for a day. As adapters.Event says, the loss is not baked into exchange rates " +
			"or prices. The default date is the day EigenLayer slashing went live; the slash is hypothetical.", Rates: slashStress},
		buildCorrelatedSlash},
	{ScenarioInfo{Name: "utilization-spike", Date: utc("2024-08-05T00:00:00Z"),
		Doc: "Every lending market's utilization jumps to 0.99 for a day and a half, so rates jump along the kinked " +
			"curve and exit liquidity (supply - borrows) collapses to 1% of supply, then recovers over a week.", Rates: utilStress},
		buildUtilizationSpike},
	{ScenarioInfo{Name: "weth-borrow-spike", Date: utc("2024-07-05T00:00:00Z"),
		Doc: "Aave v3's WETH reserve, July 2024: its utilization jumps to 0.9249 (AaveScan, 2024-07-05), where its curve " +
			"borrows at 22.6%, and, as a stress, stays there 60 days before easing back over a week (the observed " +
			"spike lasted hours); a loop borrowing WETH pays it, and one that does not deleverage is liquidated " +
			"once its collateral's yield no longer covers it.", Rates: utilStress},
		buildWethBorrowSpike},
	{ScenarioInfo{Name: "usdc-2023", Date: utc("2023-03-11T00:00:00Z"),
		Doc: "USDC and SVB, March 2023: USDC falls to about 0.88 on March 11, recovers in about three days; Curve " +
			"3pool fills to about half USDC with a volume surge; depeg events on USDC markets.", Rates: observedDepegs},
		buildUSDC2023},
}

// builder binds a scenario's overlays to the generation's processes.
type builder struct {
	g   *gen
	rng *rng
	err error
}

func (b *builder) markets(pred func(*market) bool) []*market {
	var out []*market
	for _, mod := range b.g.models {
		if mk := mod.base(); pred(mk) {
			out = append(out, mk)
		}
	}
	return out
}

func (b *builder) add(pred func(*market) bool, e effect) {
	for _, mk := range b.markets(pred) {
		mk.effects = append(mk.effects, e)
	}
}

// pegDrop lowers a shared peg (a staking underlying's or a stablecoin's)
// by the shape, for every market that reads it.
func (b *builder) pegDrop(key string, s shape) {
	if p, ok := b.g.pegs[key]; ok {
		p.drops = append(p.drops, s)
	}
}

func (b *builder) gas(s shape) { b.g.gasEff = append(b.g.gasEff, effect{s: s}) }

// event records an event on a market at a number of days from the anchor,
// if that time lies within the generated range.
func (b *builder) event(mk *market, day float64, typ adapters.EventType, size float64, scope, note string) {
	t := b.g.anchor + int64(day*dayDur.Seconds())
	if t < b.g.from || t > b.g.to {
		return
	}
	e := adapters.Event{Time: time.Unix(t, 0).UTC(), Market: mk.m.ID, Type: typ, Size: size, Scope: scope, Note: note}
	if err := e.Validate(); err != nil && b.err == nil {
		b.err = err
		return
	}
	b.g.eventBuf = append(b.g.eventBuf, e)
}

func holds(key string) func(*market) bool {
	return func(mk *market) bool { return mk.under != nil && mk.under.key == key }
}

func usesStable(key string) func(*market) bool {
	return func(mk *market) bool { return mk.stable != nil && mk.stable.key == key }
}

func isKind(k adapters.Kind) func(*market) bool {
	return func(mk *market) bool { return mk.m.Kind == k }
}

func and(a, c func(*market) bool) func(*market) bool {
	return func(mk *market) bool { return a(mk) && c(mk) }
}

func staked(mk *market) bool { return mk.m.Kind == adapters.LST || mk.m.Kind == adapters.LRT }

func buildDefault(b *builder) {
	drop := shape{{-0.5, 0}, {0, 0.02}, {1, 0.015}, {2, 0.005}, {3, 0}}
	b.pegDrop("kelp", drop)
	b.add(and(holds("kelp"), staked), effect{kind: effExit, s: shape{{-0.5, 1}, {0, 0.5}, {2, 0.7}, {3, 1}}})
	b.gas(shape{{-0.5, 1}, {0, 2.5}, {1, 1.5}, {2, 1}})
	for _, mk := range b.markets(holds("kelp")) {
		b.event(mk, 0, adapters.EventDepeg, 0.02, "", "synthetic: mild rsETH discount")
	}
}

func buildSteth2022(b *builder) {
	drop := shape{{-40, 0}, {-37, 0.004}, {-36, 0.0225}, {-30, 0.018}, {-14, 0.02}, {-8, 0.038}, {-3, 0.05},
		{0, 0.069}, {3, 0.062}, {12, 0.045}, {25, 0.03}, {75, 0.017}, {120, 0.009}, {136, 0.006}, {200, 0.002}, {250, 0}}
	b.pegDrop("lido", drop)
	b.add(and(holds("lido"), staked), effect{kind: effExit,
		s: shape{{-40, 1}, {-36, 0.6}, {-8, 0.45}, {0, 0.25}, {30, 0.45}, {120, 0.8}, {250, 1}}})
	pool := and(holds("lido"), isKind(adapters.AMM))
	// Coin 1 of the pool is stETH: a logit shift of ln 4 takes a balanced
	// pool to 80% stETH.
	b.add(pool, effect{kind: effShare, coin: 1,
		s: shape{{-40, 0}, {-36, 0.45}, {-8, 0.85}, {0, 1.39}, {10, 1.45}, {60, 0.9}, {150, 0.4}, {250, 0}}})
	b.add(pool, effect{kind: effVolume,
		s: shape{{-40, 1}, {-36, 4}, {-30, 2}, {-8, 3}, {0, 6}, {10, 3}, {40, 1.5}, {90, 1}}})
	b.gas(shape{{-40, 1}, {-36, 2}, {-30, 1.2}, {-3, 1.5}, {0, 2.5}, {5, 1.2}, {15, 1}})
	for _, mk := range b.markets(holds("lido")) {
		b.event(mk, -36, adapters.EventDepeg, 0.0225, "", "synthetic: stETH discount after the UST collapse")
		b.event(mk, 0, adapters.EventDepeg, 0.069, "", "synthetic: stETH low of June 2022")
	}
}

func buildEzeth2024(b *builder) {
	b.pegDrop("renzo", shape{{-1, 0}, {-0.25, 0.01}, {0, 0.2}, {0.25, 0.12}, {0.5, 0.06}, {1, 0.035}, {2, 0.02}, {4, 0.008}, {7, 0}})
	b.add(and(holds("renzo"), staked), effect{kind: effExit,
		s: shape{{-0.5, 1}, {-0.25, 0.5}, {0, 0.02}, {1, 0.04}, {2, 0.3}, {4, 0.7}, {7, 1}}})
	b.add(and(holds("renzo"), isKind(adapters.AMM)), effect{kind: effVolume,
		s: shape{{-0.5, 1}, {0, 12}, {1, 5}, {3, 2}, {7, 1}}})
	b.gas(shape{{-0.5, 1}, {0, 3}, {1, 1.5}, {2, 1}})
	for _, mk := range b.markets(holds("renzo")) {
		b.event(mk, 0, adapters.EventDepeg, 0.2, "", "synthetic: ezETH depeg of April 2024")
	}
}

// slashScope picks the tag a correlated slash hits.
func (b *builder) slashScope() (string, error) {
	if s := b.g.cfg.SlashScope; s != "" {
		return s, nil
	}
	count := map[string]int{}
	for _, mk := range b.markets(staked) {
		seen := map[string]bool{}
		for _, t := range append(append([]string(nil), mk.m.Tags...), mk.prof.Tags...) {
			if !seen[t] {
				seen[t] = true
				count[t]++
			}
		}
	}
	best := func(prefix string, min int) string {
		tag, n := "", 0
		keys := make([]string, 0, len(count))
		for t := range count {
			keys = append(keys, t)
		}
		sort.Strings(keys)
		for _, t := range keys {
			if strings.HasPrefix(t, prefix) && count[t] >= min && count[t] > n {
				tag, n = t, count[t]
			}
		}
		return tag
	}
	for _, c := range []struct {
		prefix string
		min    int
	}{{"operator:", 2}, {"avs:", 2}, {"operator:", 1}, {"avs:", 1}} {
		if t := best(c.prefix, c.min); t != "" {
			return t, nil
		}
	}
	return "", adapters.E("synth.Generate", adapters.KindInvalid,
		"scenario correlated-slash: no LST or LRT market carries an operator: or avs: tag; set Config.SlashScope")
}

func buildCorrelatedSlash(b *builder) {
	scope, err := b.slashScope()
	if err != nil {
		b.err = err
		return
	}
	hit := b.markets(func(mk *market) bool {
		if !staked(mk) {
			return false
		}
		for _, t := range mk.prof.Tags {
			if t == scope {
				return true
			}
		}
		return mk.m.HasTag(scope)
	})
	if len(hit) == 0 {
		b.err = adapters.E("synth.Generate", adapters.KindInvalid, "scenario correlated-slash: no LST or LRT market carries the tag %q", scope)
		return
	}
	note := fmt.Sprintf("synthetic: correlated slash of %s", scope)
	for _, mk := range hit {
		size := sig(0.005+0.015*b.rng.uniform(), 3)
		if b.g.cfg.SlashSize > 0 {
			size = b.g.cfg.SlashSize
		}
		fall := 2*size + 0.005
		mk.effects = append(mk.effects,
			effect{kind: effPegDrop, s: shape{{0, 0}, {0.25, fall}, {1, size + 0.005}, {3, size / 2}, {7, 0}}},
			effect{kind: effExit, s: shape{{0, 1}, {0.25, 0.3}, {2, 0.6}, {5, 1}}})
		b.event(mk, 0, adapters.EventSlash, size, scope, note)
		b.event(mk, 0.25, adapters.EventDepeg, sig(fall, 3), scope, "synthetic: market panic after the slash")
		if mk.m.Kind == adapters.LRT {
			b.event(mk, 0, adapters.EventPause, 0, scope, "synthetic: withdrawals paused while the slash is assessed")
			b.event(mk, 1, adapters.EventUnpause, 0, scope, "synthetic: withdrawals resume")
		}
	}
	b.gas(shape{{0, 1}, {0.25, 2}, {1, 1}})
}

func buildUtilizationSpike(b *builder) {
	b.add(isKind(adapters.Lending), effect{kind: effUtil, target: 0.99,
		s: shape{{-0.5, 0}, {0, 1}, {1.5, 1}, {3, 0.5}, {7, 0}}})
	b.gas(shape{{-0.5, 1}, {0, 3}, {1, 1.5}, {2, 1}})
}

// wethSpikeUtil is the Aave v3 WETH reserve's utilization on 2024-07-05,
// when AaveScan sampled its borrow rate at 22.64%: totalVariableDebt /
// totalAToken = 797467.66 / 862184.12 (shared/data
// aave-v3-eth-weth-wsteth-weeth-usdt-aavescan-daily, WETH file).
const wethSpikeUtil = 0.9249

// buildWethBorrowSpike blends Aave v3's WETH reserve's utilization to
// wethSpikeUtil. The observed spike lasted hours: the reserve's
// variableBorrowIndex grew 1.0459803 / 1.0458722 over that day, 3.8% a
// year; holding it 60 days is the stress that makes a levered loop fail.
func buildWethBorrowSpike(b *builder) {
	b.add(func(mk *market) bool { return mk.m.ID == "aave-v3/weth" }, effect{kind: effUtil, target: wethSpikeUtil,
		s: shape{{-0.25, 0}, {0, 1}, {60, 1}, {67, 0}}})
	b.gas(shape{{-0.5, 1}, {0, 2}, {1, 1}})
}

func buildUSDC2023(b *builder) {
	drop := shape{{-1, 0}, {-0.6, 0.003}, {-0.4, 0.02}, {0, 0.07}, {0.25, 0.12}, {0.5, 0.115}, {1, 0.09},
		{1.5, 0.06}, {2, 0.03}, {2.5, 0.012}, {3, 0.004}, {5, 0}}
	b.pegDrop("usdc", drop)
	daiDrop := make(shape, len(drop)) // DAI, backed largely by USDC, followed it down to about 0.90
	for i, k := range drop {
		daiDrop[i] = knot{k.day, 0.8 * k.v}
	}
	b.pegDrop("dai", daiDrop)
	pool := func(mk *market) bool { return mk.m.ID == "curve/3pool" }
	b.add(pool, effect{kind: effShare, coin: 1, // coin 1 is USDC: ln 2 takes it from a third to a half
		s: shape{{-1, 0}, {-0.5, 0.2}, {0.25, 0.72}, {2, 0.6}, {3, 0.35}, {10, 0.1}, {20, 0}}})
	b.add(pool, effect{kind: effVolume, s: shape{{-1, 1}, {-0.5, 5}, {0.25, 15}, {2, 5}, {4, 1.5}, {7, 1}}})
	b.gas(shape{{-1, 1}, {0, 2}, {2, 1}})
	for _, mk := range b.markets(usesStable("usdc")) {
		b.event(mk, 0.25, adapters.EventDepeg, 0.12, "", "synthetic: USDC low after the SVB failure")
	}
}
