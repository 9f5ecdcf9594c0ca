package strategies

import (
	"math"
	"sort"
	"strings"
	"sync"

	"github.com/yieldvault/yieldvault/adapters"
)

// Config is what a Factory builds a strategy from.
type Config struct {
	// Universe is the strategy's markets, in order. When set, Plan checks
	// that the State's markets are these; when empty, the strategy plans
	// over whatever markets the State holds.
	Universe []string
	// Params are numeric parameters by name; each strategy documents the
	// names it reads and rejects others.
	Params map[string]float64
	// Constraints bound every Target the strategy returns.
	Constraints Constraints
	// Catalog, when set, is used to check the universe (every market
	// known, one base asset).
	Catalog *adapters.Catalog
}

// Validate checks the parts of a Config every strategy shares: universe
// IDs well formed, without duplicates, known to the catalog when there is
// one and all of one base asset; parameters finite; constraints valid.
func (c *Config) Validate() error {
	const op = "strategies.Config.Validate"
	seen := make(map[string]bool, len(c.Universe))
	var base adapters.Asset
	for _, id := range c.Universe {
		if _, _, err := adapters.SplitID(id); err != nil {
			return adapters.Wrap(op, adapters.KindInvalid, err)
		}
		if seen[id] {
			return adapters.E(op, adapters.KindInvalid, "market %s is in the universe twice", id)
		}
		seen[id] = true
		if c.Catalog != nil {
			m, err := c.Catalog.Market(id)
			if err != nil {
				return adapters.Wrap(op, adapters.KindNotFound, err)
			}
			if base == "" {
				base = m.Base
			} else if m.Base != base {
				return adapters.E(op, adapters.KindInvalid, "market %s has base %s, the universe %s", id, m.Base, base)
			}
		}
	}
	for _, k := range sortedKeys(c.Params) {
		if v := c.Params[k]; math.IsNaN(v) || math.IsInf(v, 0) {
			return adapters.E(op, adapters.KindInvalid, "parameter %s = %g is not a finite number", k, v)
		}
	}
	return c.Constraints.Validate()
}

// Factory builds a strategy from a Config. It returns an error (never
// panics) for a bad Config.
type Factory func(cfg Config) (Strategy, error)

var (
	registryMu sync.RWMutex
	registry   = map[string]Factory{}
)

// Register makes a strategy factory available by name, as sql.Register
// does for drivers; call it from an init function. It panics when the name
// is empty or already registered, or the factory is nil.
func Register(name string, f Factory) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if name == "" || strings.TrimSpace(name) != name {
		panic("strategies: Register with an empty or padded name")
	}
	if f == nil {
		panic("strategies: Register factory is nil for " + name)
	}
	if _, dup := registry[name]; dup {
		panic("strategies: Register called twice for " + name)
	}
	registry[name] = f
}

// Names returns the registered strategy names, sorted.
func Names() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	return sortedKeys(registry)
}

// New builds the named strategy. An unknown name gives a KindNotFound
// error that lists the known names.
func New(name string, cfg Config) (Strategy, error) {
	registryMu.RLock()
	f, ok := registry[name]
	registryMu.RUnlock()
	if !ok {
		return nil, adapters.E("strategies.New", adapters.KindNotFound, "unknown strategy %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return f(cfg)
}

// paramSpec is a parameter a built-in strategy reads.
type paramSpec struct {
	name     string
	def      float64
	min, max float64
	doc      string
}

// params resolves a strategy's parameters: the State's (sweep overrides)
// over the Config's over the defaults.
type params struct {
	specs []paramSpec
	cfg   map[string]float64
}

func newParams(op string, specs []paramSpec, cfg map[string]float64) (params, error) {
	p := params{specs: specs, cfg: cfg}
	for _, k := range sortedKeys(cfg) {
		s, ok := p.spec(k)
		if !ok {
			names := make([]string, len(specs))
			for i, s := range specs {
				names[i] = s.name
			}
			if len(names) == 0 {
				return p, adapters.E(op, adapters.KindInvalid, "unknown parameter %q (the strategy takes none)", k)
			}
			return p, adapters.E(op, adapters.KindInvalid, "unknown parameter %q (known: %s)", k, strings.Join(names, ", "))
		}
		if err := s.check(op, cfg[k]); err != nil {
			return p, err
		}
	}
	return p, nil
}

func (p params) spec(name string) (paramSpec, bool) {
	for _, s := range p.specs {
		if s.name == name {
			return s, true
		}
	}
	return paramSpec{}, false
}

func (s paramSpec) check(op string, v float64) error {
	if math.IsNaN(v) || v < s.min || v > s.max {
		return adapters.E(op, adapters.KindInvalid, "parameter %s = %g is outside [%g, %g]", s.name, v, s.min, s.max)
	}
	return nil
}

// get returns a parameter for a plan on st.
func (p params) get(op string, st *State, name string) (float64, error) {
	s, _ := p.spec(name)
	if v, ok := st.Params[name]; ok {
		return v, s.check(op, v)
	}
	if v, ok := p.cfg[name]; ok {
		return v, nil
	}
	return s.def, nil
}

// universe checks that st holds the configured universe, in order.
func checkUniverse(op string, universe []string, st *State) error {
	if st == nil {
		return adapters.E(op, adapters.KindInvalid, "nil state")
	}
	if len(universe) == 0 {
		return nil
	}
	if len(st.Markets) != len(universe) {
		return adapters.E(op, adapters.KindInvalid, "state has %d markets, the universe %d", len(st.Markets), len(universe))
	}
	for i, id := range universe {
		if st.Markets[i].Market.ID != id {
			return adapters.E(op, adapters.KindInvalid, "state market %d is %s, the universe's %s", i, st.Markets[i].Market.ID, id)
		}
	}
	return nil
}

// sortedIndex returns indices 0..n-1 sorted by key descending, ties by
// index.
func sortedIndex(keys []float64) []int {
	idx := make([]int, len(keys))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return keys[idx[a]] > keys[idx[b]] })
	return idx
}
