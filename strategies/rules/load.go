package rules

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/expr-lang/expr/vm"
	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/internal/yamlx"
	"github.com/yieldvault/yieldvault/strategies"
)

// ErrorList is every problem found in one strategy file, in file order.
// Each is an *adapters.Error whose Pos is "file:line:column" and whose Op
// is the key the problem is about ("rules.score", "universe[2]"). Use
// errors.As(err, &list) to get them; errors.Is(err, adapters.ErrNotFound)
// is true when any of them has that kind.
type ErrorList []*adapters.Error

func (l ErrorList) Error() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// Unwrap returns the errors, for errors.Is and errors.As.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// LoadFile reads and loads a strategy file. cat is the market catalog the
// universe is checked against (adapters.Builtin() when nil).
func LoadFile(path string, cat *adapters.Catalog) (*Strategy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		kind := adapters.KindInvalid
		if errors.Is(err, os.ErrNotExist) {
			kind = adapters.KindNotFound
		}
		return nil, ErrorList{{Op: "rules.LoadFile", Kind: kind, Pos: path, Err: err}}
	}
	return Load(path, data, cat)
}

// Load loads a strategy from data; name (usually the file's path) is used
// in errors and as the strategy's name when the file sets none. cat is the
// market catalog (adapters.Builtin() when nil). Every problem of the file
// is reported, as an ErrorList.
func Load(name string, data []byte, cat *adapters.Catalog) (*Strategy, error) {
	if cat == nil {
		cat = adapters.Builtin()
	}
	l := &loader{file: name, cat: cat}
	s := l.load(data)
	if len(l.errs) > 0 {
		sort.SliceStable(l.errs, func(i, j int) bool { return posLess(l.errs[i].Pos, l.errs[j].Pos) })
		if l.dropped > 0 {
			l.errs = append(l.errs, &adapters.Error{Op: "rules.Load", Kind: adapters.KindInvalid, Pos: name,
				Err: fmt.Errorf("%d more errors not shown", l.dropped)})
		}
		return nil, l.errs
	}
	return s, nil
}

type loader struct {
	file string
	cat  *adapters.Catalog
	d    *doc
	errs ErrorList
	// unsupported is set when the file uses anchors, aliases, tags or
	// merge keys, which the loader does not decode.
	unsupported bool
	dropped     int // errors beyond MaxErrors
}

// MaxErrors bounds the errors reported for one file; the rest are
// counted in a last error.
const MaxErrors = 50

// MaxUniverse bounds the number of markets of a strategy.
const MaxUniverse = 500

func (l *loader) errorf(pos, op string, kind adapters.ErrorKind, format string, args ...any) {
	if len(l.errs) >= MaxErrors {
		l.dropped++
		return
	}
	l.errs = append(l.errs, &adapters.Error{Op: op, Kind: kind, Pos: pos, Err: fmt.Errorf(format, args...)})
}

func (l *loader) load(data []byte) *Strategy {
	const op = "rules.Load"
	if len(data) > yamlx.MaxBytes {
		l.errorf(l.file, op, adapters.KindInvalid, "file is larger than %d bytes", yamlx.MaxBytes)
		return nil
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		l.errorf(l.file+":1:1", op, adapters.KindInvalid, "empty document")
		return nil
	}
	f, err := yamlx.Parse(data)
	if err != nil {
		pe := yamlx.FromError(l.file, err)
		pos := pe.Pos()
		if pe.Line == 0 {
			pos = l.file + ":1:1"
		}
		l.errorf(pos, op, adapters.KindInvalid, "%s", pe.Msg)
		return nil
	}
	if len(f.Docs) != 1 {
		l.errorf(l.file+":1:1", op, adapters.KindInvalid, "a strategy file holds one YAML document, found %d", len(f.Docs))
		return nil
	}
	l.d = &doc{file: l.file, root: f.Docs[0].Body, lines: splitLines(data)}
	if _, ok := l.d.root.(*ast.MappingNode); !ok {
		l.errorf(l.d.nodePos(l.d.root), op, adapters.KindInvalid, "a strategy file is a mapping of keys (name, base, universe, rules, ...)")
		return nil
	}
	schemaCheck(l.d, l.d.root, reflect.TypeOf(fileSpec{}), "", func(pos, key, msg string, unsupported bool) {
		if key == "" {
			key = op
		}
		l.unsupported = l.unsupported || unsupported
		l.errorf(pos, key, adapters.KindInvalid, "%s", msg)
	})
	if l.unsupported {
		return nil // anchors, aliases or tags: do not decode (alias bombs)
	}
	var spec fileSpec
	if err := yamlx.Decode(l.file, data, &spec); err != nil {
		if len(l.errs) == 0 {
			l.posError(op, err)
			return nil
		}
		// Unknown keys are already reported: decode leniently to keep
		// checking the rest of the file.
		spec = fileSpec{}
		if err := decodeLenient(data, &spec); err != nil {
			l.posError(op, err)
			return nil
		}
	}
	return l.build(&spec)
}

// capsMatch reports a max_tag or max_protocol cap that no market of the
// universe is in: a misspelt tag ("layer:eigenlyer") or protocol
// ("lidoo") would otherwise cap nothing, silently. The error suggests the
// closest tag or protocol the universe has.
func (l *loader) capsMatch(universe []adapters.Market, c *strategies.Constraints) {
	if len(universe) == 0 {
		return
	}
	tagSet, protoSet := map[string]bool{}, map[string]bool{}
	for i := range universe {
		m := &universe[i]
		protoSet[m.Protocol] = true
		tagSet["protocol:"+m.Protocol] = true
		tagSet["kind:"+string(m.Kind)] = true
		for _, t := range m.Tags {
			tagSet[t] = true
			if p, ok := strings.CutPrefix(t, "protocol:"); ok {
				protoSet[p] = true
			}
		}
	}
	check := func(key, name, what string, set map[string]bool, matches func(*adapters.Market) bool) {
		for i := range universe {
			if matches(&universe[i]) {
				return
			}
		}
		l.errorf(l.d.pos("constraints", pathKey(key), pathKey(name)), "constraints."+key+"."+name, adapters.KindInvalid,
			"%s %q matches no market of the universe%s", what, name, suggest(name, sortedKeys(set)))
	}
	for _, name := range sortedKeys(c.MaxTag) {
		check("max_tag", name, "tag", tagSet, func(m *adapters.Market) bool { return m.HasTag(name) })
	}
	for _, name := range sortedKeys(c.MaxProtocol) {
		check("max_protocol", name, "protocol", protoSet, func(m *adapters.Market) bool { return m.HasTag("protocol:" + name) })
	}
}

// decodeLenient decodes without strict key checks (after the unknown keys
// are reported) behind recover.
func decodeLenient(data []byte, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed YAML (%v)", r)
		}
	}()
	return yaml.Unmarshal(data, v)
}

func (l *loader) posError(op string, err error) {
	var pe *yamlx.PosError
	if errors.As(err, &pe) {
		pos := pe.Pos()
		if pe.Line == 0 {
			pos = l.file + ":1:1"
		}
		l.errorf(pos, op, adapters.KindInvalid, "%s", pe.Msg)
		return
	}
	pe = yamlx.FromError(l.file, err)
	l.errorf(pe.Pos(), op, adapters.KindInvalid, "%s", pe.Msg)
}

// build validates the decoded file and compiles its rules.
func (l *loader) build(spec *fileSpec) *Strategy {
	d := l.d
	s := &Strategy{file: l.file, name: strings.TrimSpace(spec.Name), description: strings.TrimSpace(spec.Description),
		vms: &sync.Pool{New: func() any { return new(vm.VM) }}}
	if s.name == "" {
		s.name = strings.TrimSuffix(filepath.Base(l.file), filepath.Ext(l.file))
	}

	// Base asset.
	if strings.TrimSpace(spec.Base) == "" {
		l.errorf(d.file+":1:1", "base", adapters.KindInvalid, "missing base: the vault's base asset (ETH, BTC or USD)")
	} else if b, err := adapters.ParseAsset(spec.Base); err != nil {
		l.errorf(d.pos("base"), "base", adapters.KindInvalid, "unknown base asset %q (want ETH, BTC or USD)", spec.Base)
	} else {
		s.base = b
	}

	// The file's own catalog, before the universe is checked against it.
	s.cat = l.cat
	if c := strings.TrimSpace(spec.Catalog); c != "" {
		path := c
		if !filepath.IsAbs(path) && l.file != "stdin" {
			path = filepath.Join(filepath.Dir(l.file), c)
		}
		cat := l.cat.Clone()
		if err := cat.LoadFile(path); err != nil {
			l.errorf(d.pos("catalog"), "catalog", adapters.KindOf(err), "catalog %s: %s", c, strings.TrimPrefix(err.Error(), "adapters.Catalog.LoadFile: "))
		} else {
			l.cat, s.cat, s.catalogFile = cat, cat, path
		}
	}

	// Universe.
	if len(spec.Universe) == 0 {
		l.errorf(d.pos("universe"), "universe", adapters.KindInvalid, "the universe is empty: list at least one market ID")
	}
	if len(spec.Universe) > MaxUniverse {
		l.errorf(d.pos("universe"), "universe", adapters.KindInvalid, "the universe has %d markets, more than %d", len(spec.Universe), MaxUniverse)
		spec.Universe = spec.Universe[:MaxUniverse]
	}
	seen := map[string]int{}
	var catIDs []string
	for i, id := range spec.Universe {
		key := fmt.Sprintf("universe[%d]", i)
		pos := d.pos("universe", i)
		if j, dup := seen[id]; dup {
			l.errorf(pos, key, adapters.KindInvalid, "duplicate market %s (also universe[%d])", id, j)
			continue
		}
		seen[id] = i
		m, err := l.cat.Market(id)
		if err != nil {
			if catIDs == nil {
				for _, cm := range l.cat.Markets() {
					catIDs = append(catIDs, cm.ID)
				}
			}
			l.errorf(pos, key, adapters.KindNotFound, "unknown market %q%s", id, suggest(id, catIDs))
			continue
		}
		if s.base != "" && m.Base != s.base {
			l.errorf(pos, key, adapters.KindInvalid, "market %s has base %s, the strategy's base is %s", id, m.Base, s.base)
			continue
		}
		prof, err := l.cat.ProfileFor(m)
		if err != nil {
			l.errorf(pos, key, adapters.KindNotFound, "market %s: %v", id, err)
			continue
		}
		s.universe = append(s.universe, m)
		s.profiles = append(s.profiles, prof)
		s.tags = append(s.tags, m.AllTags())
	}

	// Parameters.
	for _, k := range sortedKeys(spec.Params) {
		v := spec.Params[k]
		if !validParamName(k) {
			l.errorf(d.keyPos("params", k), "params."+k, adapters.KindInvalid, "parameter name %q must be a letter followed by letters, digits or _", k)
			continue
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			l.errorf(d.pos("params", k), "params."+k, adapters.KindInvalid, "parameter %s = %g is not a finite number", k, v)
			continue
		}
		if len(s.paramNames) == MaxParams {
			l.errorf(d.keyPos("params", k), "params."+k, adapters.KindInvalid, "too many parameters (at most %d)", MaxParams)
			continue
		}
		s.paramNames = append(s.paramNames, k)
		s.paramVals = append(s.paramVals, v)
	}

	// Rules.
	c := newCompiler(s.paramNames)
	c.universe = s.universe
	s.comp = c
	compile := func(k ruleKind, src string, path ...pathKey) *program {
		if strings.TrimSpace(src) == "" {
			return nil
		}
		p, errs := c.compile(k, src)
		for _, e := range errs {
			l.errorf(d.exprPos(e, src, path...), k.String(), adapters.KindInvalid, "%s", e.msg)
		}
		if p != nil {
			p.pos = d.pos(path...)
		}
		return p
	}
	if strings.TrimSpace(spec.Rules.Score) == "" {
		pos := d.pos("rules")
		if _, ok := d.node("rules"); !ok {
			pos = d.file + ":1:1"
		}
		l.errorf(pos, "rules.score", adapters.KindInvalid, "missing rules.score: every strategy needs a score expression")
	}
	s.eligible = compile(ruleEligible, spec.Rules.Eligible, "rules", "eligible")
	s.score = compile(ruleScore, spec.Rules.Score, "rules", "score")
	s.weight = compile(ruleWeight, spec.Rules.Weight, "rules", "weight")
	s.leverage = compile(ruleLeverage, spec.Rules.Leverage, "rules", "leverage")
	s.exit = compile(ruleExit, spec.Exit.When, "exit", "when")
	s.rebalance.when = compile(ruleRebalance, spec.Rebalance.When, "rebalance", "when")
	s.harvest.when = compile(ruleHarvest, spec.Harvest.When, "harvest", "when")

	// Allocation.
	l.allocation(s, &spec.Allocation)

	// Constraints: values may read params.
	badCaps := map[string]bool{}
	spec.Constraints.each(func(key string, v *capValue) {
		if v.Bad == "" {
			return
		}
		badCaps[key] = true
		top, rest, _ := strings.Cut(key, ".")
		path := []pathKey{"constraints", top}
		if rest != "" {
			path = append(path, rest)
		}
		l.errorf(d.pos(path...), "constraints."+key, adapters.KindInvalid, "%s", v.Bad)
	})
	cons, unknownParams := spec.Constraints.resolve(s.param)
	for _, key := range sortedKeys(unknownParams) {
		name := unknownParams[key]
		top, rest, _ := strings.Cut(key, ".")
		path := []pathKey{"constraints", top}
		if rest != "" {
			path = append(path, rest)
		}
		l.errorf(d.pos(path...), "constraints."+key, adapters.KindInvalid, "unknown parameter %q%s", name, suggest(name, s.paramNames))
	}
	if spec.Constraints.hasParams() {
		cs := spec.Constraints
		s.capSpec = &cs
	}
	for _, p := range cons.Problems() {
		if _, bad := unknownParams[p.Key]; bad || badCaps[p.Key] {
			continue
		}
		path := []pathKey{"constraints"}
		top, rest, hasRest := strings.Cut(p.Key, ".")
		path = append(path, top)
		if hasRest {
			path = append(path, rest)
		}
		l.errorf(d.pos(path...), "constraints."+p.Key, adapters.KindInvalid, "%s", p.Msg)
	}
	l.capsMatch(s.universe, &cons)
	l.leverageFits(d, s, spec, cons)
	s.constraints = cons
	if len(l.errs) == 0 {
		pj, err := strategies.NewProjector(cons, s.universe)
		if err != nil {
			l.errorf(d.pos("constraints"), "constraints", adapters.KindInvalid, "%v", err)
		}
		s.projector = pj
	}

	// Schedules.
	s.rebalance.spec = strings.TrimSpace(spec.Rebalance.Every)
	s.harvest.spec = strings.TrimSpace(spec.Harvest.Every)
	for _, sc := range []struct {
		key   string
		sched *schedule
	}{{"rebalance", &s.rebalance}, {"harvest", &s.harvest}} {
		if sc.sched.spec == "" {
			continue
		}
		cs, err := strategies.ParseSchedule(sc.sched.spec)
		if err != nil {
			var ae *adapters.Error
			msg := err.Error()
			if errors.As(err, &ae) {
				msg = ae.Err.Error()
			}
			l.errorf(d.pos(sc.key, "every"), sc.key+".every", adapters.KindInvalid, "%s", msg)
			continue
		}
		sc.sched.sched = cs
	}
	if v := spec.Rebalance.MinTrade; math.IsNaN(v) || v < 0 || v > 1 {
		l.errorf(d.pos("rebalance", "min_trade"), "rebalance.min_trade", adapters.KindInvalid, "min_trade %g is not a fraction of NAV in [0, 1]", v)
	}
	if v := spec.Rebalance.MaxGasPrice; math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		l.errorf(d.pos("rebalance", "max_gas_price"), "rebalance.max_gas_price", adapters.KindInvalid, "max_gas_price %g must be a finite number of gwei >= 0", v)
	}
	if p := spec.Rebalance.MinGainOverCost; p != nil && (math.IsNaN(*p) || math.IsInf(*p, 0) || *p < 0) {
		l.errorf(d.pos("rebalance", "min_gain_over_cost"), "rebalance.min_gain_over_cost", adapters.KindInvalid,
			"min_gain_over_cost %g must be a finite number >= 0 (0 turns the gain test off)", *p)
	}
	s.thresholds = Thresholds{MinTrade: spec.Rebalance.MinTrade, MaxGasPrice: spec.Rebalance.MaxGasPrice}
	if p := spec.Rebalance.MinGainOverCost; p != nil {
		s.thresholds.MinGainOverCost, s.thresholds.HasMinGainOverCost = *p, true
	}

	if len(l.errs) > 0 {
		return nil
	}
	s.prepare()
	return s
}

func (l *loader) allocation(s *Strategy, a *allocSpec) {
	d := l.d
	o := strategies.AllocOptions{Method: strategies.Proportional}
	if a.Method != "" {
		m, err := strategies.ParseMethod(a.Method)
		if err != nil {
			l.errorf(d.pos("allocation", "method"), "allocation.method", adapters.KindInvalid,
				"unknown allocation method %q (want proportional, top_k, equal or inverse_volatility)%s", a.Method, suggest(a.Method, methodNames()))
		} else {
			o.Method = m
		}
	}
	if o.Method == strategies.TopK {
		if a.K < 1 {
			l.errorf(d.pos("allocation", "k"), "allocation.k", adapters.KindInvalid, "top_k needs k >= 1 (got %d)", a.K)
		}
		if a.Then != "" && a.Then != string(strategies.Proportional) && a.Then != string(strategies.Equal) {
			l.errorf(d.pos("allocation", "then"), "allocation.then", adapters.KindInvalid, "then must be proportional or equal, not %q", a.Then)
		}
		o.K = a.K
		o.Then = strategies.Method(a.Then)
		o.Per = strings.TrimSpace(a.Per)
		if o.Per != "" {
			groups := map[string]bool{}
			for i := range s.universe {
				groups[strategies.GroupOf(&s.universe[i], o.Per)] = true
			}
			if o.Per != "kind" && o.Per != "protocol" && len(groups) == 1 && groups["none"] {
				l.errorf(d.pos("allocation", "per"), "allocation.per", adapters.KindInvalid,
					"per %q: no market of the universe has a %s: tag (want kind, protocol or a tag prefix such as layer)", o.Per, o.Per)
			}
		}
	} else {
		if a.Per != "" {
			l.errorf(d.pos("allocation", "per"), "allocation.per", adapters.KindInvalid, "per applies to method top_k only")
		}
		if a.K != 0 {
			l.errorf(d.pos("allocation", "k"), "allocation.k", adapters.KindInvalid, "k applies to method top_k only")
		}
		if a.Then != "" {
			l.errorf(d.pos("allocation", "then"), "allocation.then", adapters.KindInvalid, "then applies to method top_k only")
		}
	}
	if a.Lookback != "" || a.Field != "" {
		if o.Method != strategies.InverseVolatility {
			key := "lookback"
			if a.Lookback == "" {
				key = "field"
			}
			l.errorf(d.pos("allocation", key), "allocation."+key, adapters.KindInvalid, "%s applies to method inverse_volatility only", key)
		}
	}
	if a.Lookback != "" {
		lb, err := ParseLookback(a.Lookback)
		if err != nil {
			l.errorf(d.pos("allocation", "lookback"), "allocation.lookback", adapters.KindInvalid, "%v", err)
		}
		o.Lookback = lb
	}
	if a.Field != "" {
		f, ok := adapters.ParseField(a.Field)
		if !ok {
			var names []string
			for f := adapters.Field(0); f < adapters.NumFields; f++ {
				names = append(names, f.String())
			}
			l.errorf(d.pos("allocation", "field"), "allocation.field", adapters.KindInvalid, "unknown observation field %q%s", a.Field, suggest(a.Field, names))
		}
		o.Field = f
	}
	s.alloc = o
}

func methodNames() []string {
	out := make([]string, len(strategies.Methods))
	for i, m := range strategies.Methods {
		out[i] = string(m)
	}
	return out
}

func validParamName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i, r := range s {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if !(letter || r == '_' || (i > 0 && r >= '0' && r <= '9')) {
			return false
		}
		if i == 0 && !letter {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// posLess orders "file:line:col" positions by line then column.
func posLess(a, b string) bool {
	la, ca := posNums(a)
	lb, cb := posNums(b)
	if la != lb {
		return la < lb
	}
	return ca < cb
}

func posNums(p string) (int, int) {
	var line, col int
	parts := strings.Split(p, ":")
	if len(parts) >= 3 {
		fmt.Sscanf(parts[len(parts)-2], "%d", &line)
		fmt.Sscanf(parts[len(parts)-1], "%d", &col)
	}
	return line, col
}

// leverageFits refuses a leverage no loop market of the universe allows:
// constraints.max_leverage, or a rules.leverage that is a number or a
// parameter, above 1 / (1 - the highest LTV the market's profile ever
// gives).
func (l *loader) leverageFits(d *doc, s *Strategy, spec *fileSpec, cons strategies.Constraints) {
	type loopMax struct {
		id       string
		ltv, max float64
	}
	var loops []loopMax
	for i, m := range s.universe {
		if m.Legs == nil {
			continue
		}
		dl := s.profiles[i].DatedParam("ltv")
		if !dl.Set() {
			continue
		}
		ltv := dl.Max()
		if ltv > 0 && ltv < 1 {
			loops = append(loops, loopMax{m.ID, ltv, 1 / (1 - ltv)})
		}
	}
	check := func(v float64, what string, path ...pathKey) {
		for _, lm := range loops {
			if v > lm.max*(1+1e-12) {
				l.errorf(d.pos(path...), what, adapters.KindInvalid, "leverage %g is above what %s allows: at most %.4g at its highest LTV of %g (1 / (1 - LTV))", v, lm.id, lm.max, lm.ltv)
				return
			}
		}
	}
	if cons.MaxLeverage > 0 {
		check(cons.MaxLeverage, "constraints.max_leverage", "constraints", "max_leverage")
	}
	src := strings.TrimSpace(spec.Rules.Leverage)
	if src == "" {
		return
	}
	if v, err := strconv.ParseFloat(src, 64); err == nil {
		check(v, "rules.leverage", "rules", "leverage")
	} else if name, ok := strings.CutPrefix(src, "params."); ok {
		if v, ok := s.param(name); ok {
			check(v, "rules.leverage", "rules", "leverage")
		}
	}
}
