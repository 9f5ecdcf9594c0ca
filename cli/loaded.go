package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
	"github.com/yieldvault/yieldvault/strategies/rules"
)

// strat is a strategy as the commands run it: a rules file, or a
// registered Go strategy named go:NAME. Exactly one of rules and gos is set.
type strat struct {
	ref   string // what the user wrote: a file, "-" or go:NAME
	rules *rules.Strategy
	gos   *strategies.Go
	data  []byte // the file's bytes (the run key's File); go:NAME and binaryID for a Go strategy
}

// s is what the vault runs.
func (l *strat) s() strategies.Strategy {
	if l.rules != nil {
		return l.rules
	}
	return l.gos.Strategy
}

func (l *strat) Name() string { return l.s().Name() }

func (l *strat) Base() adapters.Asset {
	if l.rules != nil {
		return l.rules.Base()
	}
	return l.gos.Base
}

func (l *strat) Universe() []string {
	if l.rules != nil {
		return l.rules.Universe()
	}
	return append([]string(nil), l.gos.Universe...)
}

func (l *strat) Params() map[string]float64 {
	if l.rules != nil {
		return l.rules.Params()
	}
	out := make(map[string]float64, len(l.gos.Params))
	for k, v := range l.gos.Params {
		out[k] = v
	}
	return out
}

// Lookback is how much history the strategy's windows read (0: it does
// not say).
func (l *strat) Lookback() time.Duration {
	if l, ok := l.s().(strategies.Lookbacker); ok {
		return l.Lookback()
	}
	return 0
}

// Catalog is the catalog the strategy's markets come from (a rules file
// may add its own).
func (l *strat) Catalog() *adapters.Catalog {
	if l.rules != nil {
		return l.rules.Catalog()
	}
	return l.gos.Config.Catalog
}

// CatalogFile is the rules file's own catalog file ("" for none).
func (l *strat) CatalogFile() string {
	if l.rules != nil {
		return l.rules.CatalogFile()
	}
	return ""
}

// RebalanceSpec is the strategy's own rebalance schedule ("" for none).
func (l *strat) RebalanceSpec() string {
	if sc, ok := l.s().(strategies.Scheduled); ok {
		return sc.RebalanceSchedule().Spec
	}
	return ""
}

// WithParams returns the strategy with p over its parameters.
func (l *strat) WithParams(p map[string]float64) (*strat, error) {
	out := *l
	var err error
	if l.rules != nil {
		out.rules, err = l.rules.WithParams(p)
	} else {
		out.gos, err = l.gos.WithParams(p)
	}
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// parseParam parses one --param value for the strategy: a number for a
// rules file, a value of the declared kind for a Go strategy (14d for a
// duration).
func (l *strat) parseParam(k, v string) (float64, error) {
	if l.gos != nil {
		x, err := strategies.ParseParam(l.gos.Name, k, v)
		if err != nil {
			return 0, &usageError{err}
		}
		return x, nil
	}
	return parseNumberParam(k, v)
}

// binaryID is a SHA-256 of the running executable, hex: a Go strategy's
// code is in the binary, so it stands in the run key for a strategy
// file's bytes (a rebuilt binary with changed code writes new run folders
// instead of resuming old ones). Empty when the executable cannot be read.
var binaryID = sync.OnceValue(func() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	f, err := os.Open(exe)
	if err != nil {
		return ""
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return ""
	}
	return hex.EncodeToString(h.Sum(nil))
})

// goRef reports whether a strategy reference names a Go strategy.
func goRef(ref string) bool { return strings.HasPrefix(ref, strategies.GoPrefix) }

// loadStrategy loads a strategy: a file ("-" reads standard input) with
// params (k=v) applied, or a registered Go strategy (go:NAME) built with
// universe (nil: its own) and params. An unknown go: name lists the
// registered ones.
func (a *app) loadStrategy(ref string, cat *adapters.Catalog, universe []string, params []string) (*strat, error) {
	if name, ok := strategies.GoName(ref); ok {
		known := strategies.Names()
		found := false
		for _, n := range known {
			found = found || n == name
		}
		if !found {
			return nil, usagef("-s %s: no Go strategy %q is registered in this binary (registered: %s)", ref, name, strings.Join(prefixed(known), ", "))
		}
		p := map[string]float64{}
		for _, kv := range params {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return nil, usagef("--param %q is not k=v", kv)
			}
			x, err := strategies.ParseParam(name, k, v)
			if err != nil {
				return nil, &usageError{err}
			}
			p[k] = x
		}
		g, err := strategies.NewGo(name, strategies.Config{Universe: universe, Params: p, Catalog: cat})
		if err != nil {
			return nil, err
		}
		return &strat{ref: ref, gos: g, data: append([]byte(ref+"\x00"), binaryID()...)}, nil
	}
	if len(universe) > 0 {
		return nil, usagef("--universe is for Go strategies (-s go:NAME); %s names its markets itself", ref)
	}
	data, name, err := a.readInput(ref)
	if err != nil {
		return nil, err
	}
	s, err := rules.Load(name, data, cat)
	if err != nil {
		return nil, err
	}
	l := &strat{ref: ref, rules: s, data: data}
	if len(params) > 0 {
		p, err := parseParams(params)
		if err != nil {
			return nil, err
		}
		if l, err = l.WithParams(p); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func prefixed(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strategies.GoPrefix + n
	}
	return out
}

// parseUniverse splits --universe values (repeatable, comma separated).
func parseUniverse(vs []string) []string {
	var out []string
	for _, v := range vs {
		for _, id := range strings.Split(v, ",") {
			if id = strings.TrimSpace(id); id != "" {
				out = append(out, id)
			}
		}
	}
	return out
}
