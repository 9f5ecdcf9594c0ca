package synth

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
)

// Config says what history to generate.
type Config struct {
	// Scenario names the scenario (see Scenarios); "" means "calm".
	Scenario string
	// From and To bound the history: rows are at From, From+Step, ... up
	// to and including To. Both are read as UTC unix seconds.
	From, To time.Time
	// Step is the time between rows: a whole number of seconds, at least
	// a minute.
	Step time.Duration
	// Seed selects the random paths. The same Config always gives the
	// same rows, bit for bit.
	Seed uint64
	// Markets to generate, in any order (rows come out sorted by market
	// ID). Nil means every market of Catalog.
	Markets []adapters.Market
	// Catalog supplies the protocol profiles that parameterise each
	// market. Nil means adapters.Builtin().
	Catalog *adapters.Catalog
	// SlashScope, for the correlated-slash scenario, is the risk tag that
	// is slashed. Empty means: the "operator:" tag carried by the most
	// LST/LRT markets (at least two), else the most shared "avs:" tag.
	SlashScope string
	// SlashSize, for the correlated-slash scenario, is the share of each
	// hit market's stake slashed, in (0, 1]. Zero means a seeded draw of
	// 0.5-2% per market.
	SlashSize float64
	// RandomEvents adds random slash, depeg, utilization-spike and pause
	// events on top of the scenario's own shock, at the scenario's rates
	// (ScenarioRates) or Rates when set; see EventRates.
	RandomEvents bool
	Rates        *EventRates
	// Progress, when set, is called as rows are generated with the rows
	// done so far and the total (about a hundred times a run).
	Progress func(done, total int)
}

// MaxRows bounds the size of one generated batch (markets x steps, about
// 200 bytes a row), so a mistyped step cannot exhaust memory. Generate
// larger histories in consecutive time ranges.
const MaxRows = 5_000_000

const (
	year   = 365 * 24 * time.Hour // the year APYs compound over
	dayDur = 24 * time.Hour
)

// Generate produces a synthetic market history: one row per market per
// step and the scenario's events, as a *history.Batch ready for
// history.DB.Write. Its Source is "synth:<scenario>:<seed>" and its Format
// "synth". Generation is deterministic: the same Config gives identical
// rows on every run (and bit-identical values on every machine of the same
// architecture; see the package documentation).
func Generate(cfg Config) (*history.Batch, error) {
	const op = "synth.Generate"
	g, err := newGen(cfg)
	if err != nil {
		return nil, err
	}
	if err := g.run(); err != nil {
		return nil, adapters.Wrap(op, adapters.KindOf(err), err)
	}
	return g.batch, nil
}

// market is what every model shares: the market, its profile, the
// scenario effects bound to it, and where its rows go.
type market struct {
	m       adapters.Market
	prof    *adapters.Profile
	under   *underlying // staking underlying whose yield and peg the market carries, or nil
	stable  *pegProc    // stablecoin peg (USD lending markets, stable pools), or nil
	effects []effect
	rows    []history.Row // this market's rows, one per step
}

// model is the per-kind generator of one market.
type model interface {
	base() *market
	// observe fills the market's observation for the current step.
	observe(c *stepCtx, o *adapters.Observation)
	// step advances the market's own processes to the next step.
	step()
}

// stepCtx is what every model sees at one step.
type stepCtx struct {
	day float64 // days since the scenario anchor
	usd [3]float64
	gas float64
}

func assetIndex(a adapters.Asset) int {
	switch a {
	case adapters.ETH:
		return 0
	case adapters.BTC:
		return 1
	}
	return 2
}

func (c *stepCtx) baseUSD(a adapters.Asset) float64 { return c.usd[assetIndex(a)] }

// gen holds every process of one generation.
type gen struct {
	cfg      Config
	cat      *adapters.Catalog
	scen     *scenario
	from, to int64 // unix seconds
	stepSec  int64
	n        int     // steps
	dt       float64 // years per step
	anchor   int64   // scenario anchor, unix seconds

	baseUSD  [2]*priceProc // ETH, BTC (USD is 1)
	gas      *logOU
	gasEff   []effect
	common   map[adapters.Asset]*ou
	commonL  []*ou // common, in a fixed order
	unders   map[string]*underlying
	underL   []*underlying
	pegs     map[string]*pegProc
	pegL     []*pegProc
	models   []model
	byID     map[string]model
	batch    *history.Batch
	eventBuf []adapters.Event
}

func newGen(cfg Config) (*gen, error) {
	const op = "synth.Generate"
	name := cfg.Scenario
	if name == "" {
		name = "calm"
	}
	scen := lookupScenario(name)
	if scen == nil {
		return nil, adapters.E(op, adapters.KindInvalid, "unknown scenario %q (valid: %s)", cfg.Scenario, strings.Join(scenarioNames(), ", "))
	}
	if !(cfg.SlashSize >= 0 && cfg.SlashSize <= 1) {
		return nil, adapters.E(op, adapters.KindInvalid, "slash size %g must be a fraction in (0, 1] (0: the scenario's own draw)", cfg.SlashSize)
	}
	if cfg.Step < time.Minute || cfg.Step%time.Second != 0 {
		return nil, adapters.E(op, adapters.KindInvalid, "step %v must be a whole number of seconds and at least a minute", cfg.Step)
	}
	if cfg.From.IsZero() || cfg.To.IsZero() {
		return nil, adapters.E(op, adapters.KindInvalid, "from and to must both be set")
	}
	from, to := cfg.From.Unix(), cfg.To.Unix()
	if to < from {
		return nil, adapters.E(op, adapters.KindInvalid, "to %s is before from %s", cfg.To.UTC().Format(time.RFC3339), cfg.From.UTC().Format(time.RFC3339))
	}
	stepSec := int64(cfg.Step / time.Second)
	n := int((to-from)/stepSec) + 1
	cat := cfg.Catalog
	if cat == nil {
		cat = adapters.Builtin()
	}
	markets := cfg.Markets
	var notes []string
	if markets == nil {
		// Every market of a kind the generator models; a kind another
		// package registered has no synthetic model: its history is
		// imported (data import).
		for _, m := range cat.Markets() {
			if m.Legs != nil {
				continue // a loop's history is composed from its legs' (adapters.ComposeLoop)
			}
			if slices.Contains(adapters.Kinds, m.Kind) {
				markets = append(markets, m)
			} else {
				notes = append(notes, fmt.Sprintf("market %s not generated: the generator has no model of kind %s (import its history with data import)", m.ID, m.Kind))
			}
		}
	}
	markets = slices.DeleteFunc(slices.Clone(markets), func(m adapters.Market) bool { return m.Legs != nil })
	for _, m := range markets {
		if !slices.Contains(adapters.Kinds, m.Kind) {
			return nil, adapters.E(op, adapters.KindInvalid, "market %s: the generator has no model of kind %s (import its history with data import)", m.ID, m.Kind)
		}
	}
	if len(markets) == 0 {
		return nil, adapters.E(op, adapters.KindInvalid, "no markets to generate")
	}
	if int64(n)*int64(len(markets)) > MaxRows {
		return nil, adapters.E(op, adapters.KindInvalid, "%d markets x %d steps is more than %d rows; use a longer step or a shorter range", len(markets), n, MaxRows)
	}
	ms := make([]adapters.Market, len(markets))
	for i, m := range markets {
		if err := m.Validate(); err != nil { // Validate fills Protocol on the copy
			return nil, err
		}
		ms[i] = m
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].ID < ms[j].ID })
	for i := 1; i < len(ms); i++ {
		if ms[i].ID == ms[i-1].ID {
			return nil, adapters.E(op, adapters.KindInvalid, "market %s is listed twice", ms[i].ID)
		}
	}

	g := &gen{
		cfg: cfg, cat: cat, scen: scen, from: from, to: to, stepSec: stepSec, n: n,
		dt:     float64(stepSec) / year.Seconds(),
		common: map[adapters.Asset]*ou{}, unders: map[string]*underlying{}, pegs: map[string]*pegProc{},
		byID: map[string]model{},
	}
	g.anchor = anchorFor(scen.info.Date, from, to, stepSec)
	seed := cfg.Seed
	for i, a := range []adapters.Asset{adapters.ETH, adapters.BTC} {
		// No mean reversion: fat-tailed steps with clustered volatility,
		// fitted to the real ETH file (calib.go, basePrices).
		c := basePrices[a]
		g.baseUSD[i] = newPriceProc(newRNG(seed, "usd:"+string(a)), newRNG(seed, "usdvol:"+string(a)), c.level, c, g.dt)
	}
	g.gas = newLogOU(newRNG(seed, "gas"), 20, 0.45, 1.0/365, g.dt)

	for _, m := range ms {
		prof, err := cat.ProfileFor(m)
		if err != nil {
			return nil, adapters.Wrap(op, adapters.KindOf(err), fmt.Errorf("market %s: %w", m.ID, err))
		}
		mod, err := g.newModel(m, prof)
		if err != nil {
			return nil, err
		}
		g.models = append(g.models, mod)
		g.byID[m.ID] = mod
	}
	g.underL = sortedValues(g.unders)
	g.pegL = sortedValues(g.pegs)
	for _, a := range []adapters.Asset{adapters.ETH, adapters.BTC, adapters.USD} {
		if p, ok := g.common[a]; ok {
			g.commonL = append(g.commonL, p)
		}
	}

	b := &builder{g: g, rng: newRNG(seed, "scenario:"+scen.info.Name)}
	scen.build(b)
	if b.err != nil {
		return nil, b.err
	}
	if cfg.RandomEvents {
		rates := scen.info.Rates
		if cfg.Rates != nil {
			rates = *cfg.Rates
		}
		if err := rates.Validate(); err != nil {
			return nil, err
		}
		b.randomEvents(rates)
		if b.err != nil {
			return nil, b.err
		}
	}
	slices.SortStableFunc(g.eventBuf, func(a, b adapters.Event) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		if c := strings.Compare(a.Market, b.Market); c != 0 {
			return c
		}
		return strings.Compare(string(a.Type), string(b.Type))
	})

	g.batch = &history.Batch{
		Source:  fmt.Sprintf("synth:%s:%d", scen.info.Name, seed),
		Format:  "synth",
		Markets: ms,
		Events:  g.eventBuf,
		Notes:   notes,
	}
	return g, nil
}

func sortedValues[V any](m map[string]V) []V {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]V, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}

// anchorFor places a scenario's shock: at its default date when that lies
// within [from, to], else a third of the way into the range; then onto the
// nearest step of the grid, so a shock's extreme is always sampled.
func anchorFor(date time.Time, from, to, step int64) int64 {
	a := date.Unix()
	if date.IsZero() || a < from || a > to {
		a = from + (to-from)/3
	}
	k := (a - from + step/2) / step
	return from + k*step
}

// run generates every row, market by market in ID order and each market's
// rows in time order.
func (g *gen) run() error {
	rows := make([]history.Row, len(g.models)*g.n)
	for i, mod := range g.models {
		mod.base().rows = rows[i*g.n : (i+1)*g.n : (i+1)*g.n]
	}
	var c stepCtx
	every := max(1, g.n/100)
	for k := 0; k < g.n; k++ {
		if g.cfg.Progress != nil && k%every == 0 {
			g.cfg.Progress(k*len(g.models), g.n*len(g.models))
		}
		t := g.from + int64(k)*g.stepSec
		c.day = float64(t-g.anchor) / dayDur.Seconds()
		c.usd[0] = sig(g.baseUSD[0].value(), 6)
		c.usd[1] = sig(g.baseUSD[1].value(), 6)
		c.usd[2] = 1
		gas := g.gas.value()
		for _, e := range g.gasEff {
			gas *= e.s.at(c.day)
		}
		c.gas = sig(gas, 4)
		when := time.Unix(t, 0).UTC()
		for _, u := range g.underL {
			u.compute(when)
		}
		for _, mod := range g.models {
			mk := mod.base()
			r := &mk.rows[k]
			r.Market = mk.m.ID
			r.Obs.Time = when
			mod.observe(&c, &r.Obs)
			r.Obs.Put(adapters.FieldBaseUSD, c.baseUSD(mk.m.Base))
			r.Obs.Put(adapters.FieldGasPrice, c.gas)
			if err := r.Obs.Validate(); err != nil {
				// A model bug, not bad input: say where.
				return fmt.Errorf("market %s at %s: %w", mk.m.ID, when.Format(time.RFC3339), err)
			}
		}
		// Advance every process to the next step.
		g.baseUSD[0].step()
		g.baseUSD[1].step()
		g.gas.step()
		for _, u := range g.underL {
			u.step(g.dt)
		}
		for _, p := range g.commonL {
			p.step()
		}
		for _, p := range g.pegL {
			p.ou.step()
		}
		for _, mod := range g.models {
			mod.step()
		}
	}
	g.batch.Rows = rows
	return nil
}
