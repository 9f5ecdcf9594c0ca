package strategies

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
)

// GoPrefix marks a registered Go strategy where a strategy file is
// expected: "go:momentum" on the command line (-s go:momentum) and in a
// service configuration (strategy: go:momentum).
const GoPrefix = "go:"

// GoName returns the registry name of a "go:NAME" reference, and whether
// ref is one.
func GoName(ref string) (string, bool) {
	return strings.CutPrefix(ref, GoPrefix)
}

// Thresholds are a strategy's rebalance thresholds for the vault's
// rebalancer: a rules file's rebalance.min_trade, rebalance.max_gas_price
// and rebalance.min_gain_over_cost, a Go strategy's Thresholds method.
type Thresholds struct {
	// MinTrade is the smallest order worth placing, as a fraction of NAV;
	// 0 places every order.
	MinTrade float64
	// MaxGasPrice, in gwei, gates rebalancing: none runs while gas is
	// dearer. 0 means no gate.
	MaxGasPrice float64
	// MinGainOverCost, when HasMinGainOverCost, is the rebalancer's
	// vault.RebalanceConfig.MinGainOverCost: a buy must expect to earn
	// this multiple of its cost over the holding horizon (0: no test).
	// Otherwise the vault's default applies.
	MinGainOverCost    float64
	HasMinGainOverCost bool
}

// Thresholder is implemented by strategies that set rebalance thresholds.
type Thresholder interface {
	Thresholds() Thresholds
}

// Lookbacker is implemented by strategies that say how much history their
// windows read before the decision time.
type Lookbacker interface {
	Lookback() time.Duration
}

// Universer is implemented by strategies that know their own markets (a
// Go strategy built without Config.Universe may choose a default one).
type Universer interface {
	Universe() []string
}

// Param declares a parameter of a registered strategy, so that its values
// can be written as users write them (--param lookback=14d) and checked
// before the strategy is built.
type Param struct {
	Name string
	// Doc says what the parameter does, in one line.
	Doc string
	// Default is the value when none is given; Min and Max bound it.
	Default, Min, Max float64
	// Duration marks a length of time: its value is written with a unit
	// (14d, 36h, 90m) and held in Config.Params in days (14d is 14, 36h
	// is 1.5).
	Duration bool
}

// Format writes a value of p as users write it (14d, 36h for a duration).
func (p Param) Format(v float64) string {
	if p.Duration {
		return formatDays(v)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func formatDays(v float64) string {
	if v == math.Trunc(v) {
		return strconv.FormatFloat(v, 'f', -1, 64) + "d"
	}
	return strconv.FormatFloat(v*24, 'g', -1, 64) + "h"
}

var declared = map[string][]Param{}

// RegisterParams registers a strategy factory as Register does, with the
// parameters it reads. Their names must be distinct and non-empty and each
// Default within [Min, Max]; it panics otherwise.
func RegisterParams(name string, f Factory, params ...Param) {
	seen := map[string]bool{}
	for _, p := range params {
		if p.Name == "" || seen[p.Name] || math.IsNaN(p.Default) || p.Default < p.Min || p.Default > p.Max {
			panic(fmt.Sprintf("strategies: RegisterParams %s: parameter %q is empty, repeated or its default outside [min, max]", name, p.Name))
		}
		seen[p.Name] = true
	}
	Register(name, f)
	registryMu.Lock()
	declared[name] = slices.Clone(params)
	registryMu.Unlock()
}

// ParamsOf returns the parameters a strategy registered with
// RegisterParams declares (nil for one registered with Register).
func ParamsOf(name string) []Param {
	registryMu.RLock()
	defer registryMu.RUnlock()
	return slices.Clone(declared[name])
}

// ParseParam parses one value of a parameter of the registered strategy
// name: a duration with a unit for a Duration parameter (in days), else a
// finite number, within the declared bounds. A strategy that declares no
// parameters takes any finite number (its factory checks the names).
func ParseParam(name, key, value string) (float64, error) {
	const op = "strategies.ParseParam"
	value = strings.TrimSpace(value)
	ps := ParamsOf(name)
	if len(ps) == 0 {
		return parseNumber(op, name, key, value)
	}
	i := slices.IndexFunc(ps, func(p Param) bool { return p.Name == key })
	if i < 0 {
		names := make([]string, len(ps))
		for j, p := range ps {
			names[j] = p.Name
		}
		return 0, adapters.E(op, adapters.KindInvalid, "%s%s has no parameter %q (its parameters: %s)", GoPrefix, name, key, strings.Join(names, ", "))
	}
	p := ps[i]
	var v float64
	if p.Duration {
		d, err := parseDays(value)
		if err != nil {
			return 0, adapters.E(op, adapters.KindInvalid, "parameter %s of %s%s: %q is not a duration (like 14d, 36h or 90m)", key, GoPrefix, name, value)
		}
		v = d
	} else {
		var err error
		if v, err = parseNumber(op, name, key, value); err != nil {
			return 0, err
		}
	}
	if v < p.Min || v > p.Max {
		return 0, adapters.E(op, adapters.KindInvalid, "parameter %s of %s%s: %s is outside [%s, %s]", key, GoPrefix, name, value, p.Format(p.Min), p.Format(p.Max))
	}
	return v, nil
}

func parseNumber(op, name, key, value string) (float64, error) {
	v, err := strconv.ParseFloat(value, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, adapters.E(op, adapters.KindInvalid, "parameter %s of %s%s: %q is not a number", key, GoPrefix, name, value)
	}
	return v, nil
}

// parseDays parses 14d, 36h, 90m or 1h30m into days.
func parseDays(s string) (float64, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok && !strings.ContainsAny(n, "hmsµn") {
		v, err := strconv.ParseFloat(n, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("bad duration")
		}
		return v, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	return d.Hours() / 24, nil
}

// Go is a registered strategy built by name for the CLI and the service
// (go:NAME), with what they need besides Plan. Strategy is what the vault
// runs (its optional interfaces, Scheduled, Exiter and the rest, are the
// strategy's own).
type Go struct {
	Strategy Strategy
	// Name is the registry name (without the go: prefix).
	Name string
	// Config is what the strategy was built from: the universe given (nil
	// when the strategy chose its own), the parameters given, the catalog.
	Config Config
	// Universe is the strategy's markets: its own (Universer) when it has
	// them, else Config.Universe.
	Universe []string
	// Base is the universe's base asset.
	Base adapters.Asset
	// Params are the declared parameters' defaults under the given ones.
	Params map[string]float64
}

// NewGo builds the registered strategy name (without the go: prefix) from
// cfg. A strategy needs a universe: the Config's, or its own (Universer);
// without either the error says how to give one. The catalog (required)
// checks the universe and gives the base asset.
func NewGo(name string, cfg Config) (*Go, error) {
	const op = "strategies.NewGo"
	if cfg.Catalog == nil {
		return nil, adapters.E(op, adapters.KindInvalid, "no catalog")
	}
	for _, k := range sortedKeys(cfg.Params) {
		if v := cfg.Params[k]; math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, adapters.E(op, adapters.KindInvalid, "parameter %s of %s%s = %g is not a finite number", k, GoPrefix, name, v)
		}
	}
	params := map[string]float64{}
	for _, p := range ParamsOf(name) {
		params[p.Name] = p.Default
		if v, ok := cfg.Params[p.Name]; ok && (v < p.Min || v > p.Max) {
			return nil, adapters.E(op, adapters.KindInvalid, "parameter %s of %s%s: %s is outside [%s, %s]", p.Name, GoPrefix, name, p.Format(v), p.Format(p.Min), p.Format(p.Max))
		}
	}
	maps.Copy(params, cfg.Params)
	cfg.Params = maps.Clone(cfg.Params)
	s, err := New(name, cfg)
	if err != nil {
		return nil, err
	}
	g := &Go{Strategy: s, Name: name, Config: cfg, Universe: slices.Clone(cfg.Universe), Params: params}
	if u, ok := s.(Universer); ok && len(u.Universe()) > 0 {
		g.Universe = slices.Clone(u.Universe())
	}
	if len(g.Universe) == 0 {
		return nil, adapters.E(op, adapters.KindInvalid, "%s%s has no universe of its own: name its markets (--universe a,b on the command line, universe: [a, b] in a service configuration)", GoPrefix, name)
	}
	check := Config{Universe: g.Universe, Catalog: cfg.Catalog}
	if err := check.Validate(); err != nil {
		return nil, err
	}
	m, _ := cfg.Catalog.Market(g.Universe[0])
	g.Base = m.Base
	return g, nil
}

// WithParams rebuilds the strategy with p over its parameters (a sweep's
// point).
func (g *Go) WithParams(p map[string]float64) (*Go, error) {
	cfg := g.Config
	cfg.Params = maps.Clone(cfg.Params)
	if cfg.Params == nil {
		cfg.Params = map[string]float64{}
	}
	maps.Copy(cfg.Params, p)
	return NewGo(g.Name, cfg)
}

// Thresholds are the strategy's (Thresholder), zero when it sets none.
func (g *Go) Thresholds() Thresholds {
	if t, ok := g.Strategy.(Thresholder); ok {
		return t.Thresholds()
	}
	return Thresholds{}
}

// Lookback is the strategy's (Lookbacker), 0 when it says nothing.
func (g *Go) Lookback() time.Duration {
	if l, ok := g.Strategy.(Lookbacker); ok {
		return l.Lookback()
	}
	return 0
}
