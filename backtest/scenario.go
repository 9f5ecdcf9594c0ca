package backtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
	"github.com/yieldvault/yieldvault/adapters/history/synth"
	"github.com/yieldvault/yieldvault/internal/timefmt"
	"github.com/yieldvault/yieldvault/strategies"
	"github.com/yieldvault/yieldvault/strategies/rules"
	"github.com/yieldvault/yieldvault/vault"
)

// A scenario file is a backtest in a few readable lines, in the spirit of
// Prometheus's promqltest:
//
//	# comment
//	catalog <path>                          more profiles and markets (the
//	                                        --catalog format), relative to the
//	                                        scenario, before the loads
//	load <market> <step> [from=<time>]      a market's history, one row per step
//	  <field> <values...>                   indented: one line per field
//	synth <scenario> <market>... from=<time> to=<time> [step=<duration>] [seed=<n>]
//	      [slash_scope=<tag>] [slash_size=<fraction>]
//	                                        the markets' history as `data synth`
//	                                        generates it (a loop's legs, composed
//	                                        at load), through a history database
//	                                        in memory; step defaults to 1d, seed to 1
//	event <time> <market> <type> <size> [scope=<tag>]
//	set <key>=<value> ...                   run settings (see below)
//	strategy hold <market>                  hold one market (the built-in hold)
//	strategy file <path>                    a strategy file, relative to the scenario
//	strategy rules                          an inline strategy file: the indented
//	  <yaml lines>                          lines that follow
//	strategy go <name> [<param>=<value>...] a registered Go strategy (go:NAME) over
//	                                        the loaded markets
//	run [from=<time>] [to=<time>] [capital=<amount>] [step=<duration>]
//	expect <metric> <value> [tol]           a metric of the result (JSON name)
//	expect <metric> < <value>               ... below a bound (or >: above; any
//	                                        expectation but error and issue)
//	expect nav <time> <value> [tol]         NAV at the step at or before time
//	expect equity <time> <value> [tol]      the investor's equity likewise
//	expect bench <name> <metric> <value> [tol]
//	expect market <market> <stat> <value> [tol]
//	expect issue <kind> <market> <count>    data issues of a kind for a market
//	expect error <kind>                     the run fails with an error kind
//
// Values of a field line are separated by spaces: "v" is one row, "vxN"
// is N rows of v, "a+dxN" is N rows a, a+d, ..., a+(N-1)d, and "_" is a
// row that does not observe the field (a row no field observes is absent:
// a gap). Times are RFC 3339, a date (2024-01-02), or "+<duration>"
// after the first load's start (+36h, +10d). Durations accept a "d"
// suffix for days. The default start is 2024-01-01T00:00:00Z.
//
// set keys: gas (gwei; 0 is free), gas_asset_price, pricing (rate or
// market), management_fee, performance_fee, profit_unlock (duration),
// idle_floor, min_trade (base units), max_slippage, compound_harvest (0
// or 1), rebalance and harvest (cron specs, quoted with single quotes
// when they contain spaces, for strategies without schedules), risk_free.
//
// The tolerance of an expectation is absolute; the default is 1e-9.
// Errors name the file and line.
type Scenario struct {
	File     string
	Markets  []string // loaded markets, in load order
	Window   *adapters.Window
	Strategy strategies.Strategy
	Spec     Spec
	Expects  []Expect
	// WantErr, when set, is the error kind the run must fail with.
	WantErr     adapters.ErrorKind
	WantErrLine int
}

// Expect is one expectation of a scenario.
type Expect struct {
	Line  int
	What  string   // "metric", "nav", "equity", "bench", "market", "issue"
	Args  []string // metric name; time; bench name and metric; market and stat; kind and market
	Value float64
	Tol   float64
	// Cmp is "<" or ">" for a bound (Value, no tolerance); "" for a
	// value within Tol.
	Cmp string
}

// DefaultScenarioStart is the start of a load without from=.
var DefaultScenarioStart = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

type scenarioParser struct {
	file string
	dir  string
	cat  *adapters.Catalog
	// catLoaded is set once a catalog line added to cat: the run uses it.
	catLoaded bool
	sc        *Scenario
	start     time.Time
	lines     []string
	i         int
	cfg       vault.Config
	cfgOK     bool
	set       map[string]string
}

func (p *scenarioParser) errf(line int, format string, args ...any) error {
	return &adapters.Error{Op: "backtest.ParseScenario", Kind: adapters.KindInvalid, Pos: fmt.Sprintf("%s:%d", p.file, line), Err: fmt.Errorf(format, args...)}
}

// ParseScenarioFile reads and parses a scenario file.
func ParseScenarioFile(path string, cat *adapters.Catalog) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, adapters.Wrap("backtest.ParseScenario", adapters.KindNotFound, err)
	}
	return ParseScenario(path, data, cat)
}

// ParseScenario parses a scenario named name (its path: strategy file
// paths are relative to its directory). cat supplies markets and profiles
// (nil: adapters.Builtin()). Every error is KindInvalid (KindNotFound for
// an unknown market) and names name:line.
func ParseScenario(name string, data []byte, cat *adapters.Catalog) (*Scenario, error) {
	if cat == nil {
		cat = adapters.Builtin()
	}
	p := &scenarioParser{file: name, dir: filepath.Dir(name), cat: cat, sc: &Scenario{File: name}, set: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		p.lines = append(p.lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		return nil, p.errf(len(p.lines)+1, "%v", err)
	}
	p.sc.Window = &adapters.Window{}
	ran := false
	for p.i = 0; p.i < len(p.lines); p.i++ {
		ln := p.i + 1
		text := strings.TrimSpace(stripComment(p.lines[p.i]))
		if text == "" {
			continue
		}
		if indented(p.lines[p.i]) {
			return nil, p.errf(ln, "unexpected indented line (field lines follow a load, yaml lines a strategy rules)")
		}
		f := strings.Fields(text)
		var err error
		switch f[0] {
		case "catalog":
			if len(f) != 2 {
				err = p.errf(ln, "catalog needs one file: catalog <path>")
				break
			}
			c := p.cat.Clone()
			if lerr := c.LoadFile(filepath.Join(p.dir, f[1])); lerr != nil {
				err = p.errf(ln, "catalog %s: %v", f[1], lerr)
				break
			}
			p.cat, p.catLoaded = c, true
		case "load":
			err = p.load(ln, f[1:])
		case "synth":
			err = p.synth(ln, f[1:])
		case "event":
			err = p.event(ln, f[1:])
		case "set":
			err = p.setLine(ln, f[1:])
		case "strategy":
			err = p.strategy(ln, f[1:])
		case "run":
			if ran {
				err = p.errf(ln, "a scenario has one run")
			} else {
				ran = true
				err = p.run(ln, f[1:])
			}
		case "expect":
			if !ran {
				err = p.errf(ln, "expect before run")
			} else {
				err = p.expect(ln, f[1:])
			}
		default:
			err = p.errf(ln, "unknown command %q (want catalog, load, synth, event, set, strategy, run or expect)", f[0])
		}
		if err != nil {
			return nil, err
		}
	}
	if !ran {
		return nil, p.errf(len(p.lines), "no run")
	}
	return p.sc, nil
}

func stripComment(s string) string {
	if i := strings.Index(s, "#"); i >= 0 {
		return s[:i]
	}
	return s
}

func indented(s string) bool { return len(s) > 0 && (s[0] == ' ' || s[0] == '\t') }

// parseDur parses a Go duration or a number of days ("10d").
func parseDur(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(d, 64)
		if err != nil || n < 0 || n > 1e5 {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		return time.Duration(n * 24 * float64(time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("bad duration %q", s)
	}
	return d, nil
}

func (p *scenarioParser) parseTime(ln int, s string) (time.Time, error) {
	if rest, ok := strings.CutPrefix(s, "+"); ok {
		d, err := parseDur(rest)
		if err != nil {
			return time.Time{}, p.errf(ln, "%v", err)
		}
		base := p.start
		if base.IsZero() {
			base = DefaultScenarioStart
		}
		return base.Add(d), nil
	}
	if t, ok := timefmt.Parse(s); ok {
		return t, nil
	}
	return time.Time{}, p.errf(ln, "bad time %q (want RFC 3339, a date or +duration)", s)
}

// kv splits "key=value" arguments.
func (p *scenarioParser) kv(ln int, args []string, allowed ...string) (map[string]string, error) {
	out := map[string]string{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, p.errf(ln, "argument %q is not key=value", a)
		}
		if len(allowed) > 0 && !contains(allowed, k) {
			return nil, p.errf(ln, "unknown key %q (want %s)", k, strings.Join(allowed, ", "))
		}
		if _, dup := out[k]; dup {
			return nil, p.errf(ln, "key %q given twice", k)
		}
		out[k] = strings.Trim(v, "'")
	}
	return out, nil
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func (p *scenarioParser) load(ln int, args []string) error {
	if len(args) < 2 {
		return p.errf(ln, "load needs a market and a step: load <market> <step> [from=<time>]")
	}
	id := args[0]
	m, err := p.cat.Market(id)
	if err != nil {
		return &adapters.Error{Op: "backtest.ParseScenario", Kind: adapters.KindNotFound, Pos: fmt.Sprintf("%s:%d", p.file, ln), Err: fmt.Errorf("unknown market %s", id)}
	}
	if p.sc.Window.Get(id) != nil {
		return p.errf(ln, "market %s loaded twice", id)
	}
	step, err := parseDur(args[1])
	if err != nil || step < time.Second || step%time.Second != 0 {
		return p.errf(ln, "bad step %q (want a whole number of seconds, at least 1s)", args[1])
	}
	opts, err := p.kv(ln, args[2:], "from")
	if err != nil {
		return err
	}
	from := DefaultScenarioStart
	if s, ok := opts["from"]; ok {
		if from, err = p.parseTime(ln, s); err != nil {
			return err
		}
	}
	if p.start.IsZero() {
		p.start = from
	}
	// Field lines.
	type col struct {
		f    adapters.Field
		vals []float64
		set  []bool
	}
	var cols []col
	for p.i+1 < len(p.lines) && indented(p.lines[p.i+1]) {
		p.i++
		fl := p.i + 1
		text := strings.TrimSpace(stripComment(p.lines[p.i]))
		if text == "" {
			continue
		}
		f := strings.Fields(text)
		field, ok := adapters.ParseField(f[0])
		if !ok {
			return p.errf(fl, "unknown field %q", f[0])
		}
		for _, c := range cols {
			if c.f == field {
				return p.errf(fl, "field %s given twice", field)
			}
		}
		c := col{f: field}
		for _, tok := range f[1:] {
			if err := expandValues(tok, &c.vals, &c.set); err != nil {
				return p.errf(fl, "%s: %v", field, err)
			}
			if len(c.vals) > 1_000_000 {
				return p.errf(fl, "%s: more than 1000000 values", field)
			}
		}
		if len(c.vals) == 0 {
			return p.errf(fl, "field %s has no values", field)
		}
		for k, v := range c.vals {
			if c.set[k] {
				if msg := adapters.CheckValue(field, v); msg != "" {
					return p.errf(fl, "%s value %d (%g) %s", field, k+1, v, msg)
				}
			}
		}
		cols = append(cols, c)
	}
	if len(cols) == 0 {
		return p.errf(ln, "load %s has no field lines", id)
	}
	n := 0
	for _, c := range cols {
		n = max(n, len(c.vals))
	}
	s := &adapters.Series{Market: m}
	var full [adapters.NumFields][]float64
	for _, c := range cols {
		full[c.f] = make([]float64, 0, n)
	}
	for r := 0; r < n; r++ {
		var set adapters.FieldSet
		var row [adapters.NumFields]float64
		for _, c := range cols {
			if r < len(c.vals) && c.set[r] {
				set = set.With(c.f)
				row[c.f] = c.vals[r]
			}
		}
		if set == 0 {
			continue // a gap
		}
		s.Times = append(s.Times, from.Add(time.Duration(r)*step).Unix())
		s.Set = append(s.Set, set)
		for _, c := range cols {
			full[c.f] = append(full[c.f], row[c.f])
		}
	}
	s.Cols = full
	forwardFill(s)
	p.sc.Window.Series = append(p.sc.Window.Series, s)
	p.sc.Markets = append(p.sc.Markets, id)
	w := p.sc.Window
	if len(s.Times) > 0 {
		f, l := unixUTC(s.Times[0]), unixUTC(s.Times[len(s.Times)-1])
		if w.From.IsZero() || f.Before(w.From) {
			w.From = f
		}
		if l.After(w.To) {
			w.To = l
		}
	}
	return nil
}

// synth loads markets' history as `data synth` generates it: the markets
// (a loop's legs in its place) generated over [from, to], written to a
// history database in memory and loaded back, so a loop is composed from
// its legs as a backtest of the written database composes it.
func (p *scenarioParser) synth(ln int, args []string) error {
	var ids, kvs []string
	for _, a := range args {
		if strings.Contains(a, "=") {
			kvs = append(kvs, a)
		} else {
			ids = append(ids, a)
		}
	}
	if len(ids) < 2 {
		return p.errf(ln, "synth needs a scenario and markets: synth <scenario> <market>... from=<time> to=<time> [step=<duration>] [seed=<n>]")
	}
	name, ids := ids[0], ids[1:]
	opts, err := p.kv(ln, kvs, "from", "to", "step", "seed", "slash_scope", "slash_size")
	if err != nil {
		return err
	}
	cfg := synth.Config{Scenario: name, Step: 24 * time.Hour, Seed: 1, Catalog: p.cat, SlashScope: opts["slash_scope"]}
	for _, k := range []string{"from", "to"} {
		v, ok := opts[k]
		if !ok {
			return p.errf(ln, "synth needs %s=<time>", k)
		}
		t, err := p.parseTime(ln, v)
		if err != nil {
			return err
		}
		if k == "from" {
			cfg.From = t
			if p.start.IsZero() {
				p.start = t
			}
		} else {
			cfg.To = t
		}
	}
	if v, ok := opts["step"]; ok {
		if cfg.Step, err = parseDur(v); err != nil || cfg.Step < time.Minute || cfg.Step%time.Second != 0 {
			return p.errf(ln, "bad step %q (want a whole number of seconds, at least a minute)", v)
		}
	}
	if v, ok := opts["seed"]; ok {
		if cfg.Seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			return p.errf(ln, "bad seed %q (want a whole number)", v)
		}
	}
	if v, ok := opts["slash_size"]; ok {
		if cfg.SlashSize, err = strconv.ParseFloat(v, 64); err != nil || !(cfg.SlashSize > 0 && cfg.SlashSize <= 1) {
			return p.errf(ln, "bad slash_size %q (want a fraction in (0, 1])", v)
		}
	}
	have := map[string]bool{}
	for _, id := range ids {
		m, err := p.cat.Market(id)
		if err != nil {
			return &adapters.Error{Op: "backtest.ParseScenario", Kind: adapters.KindNotFound, Pos: fmt.Sprintf("%s:%d", p.file, ln), Err: fmt.Errorf("unknown market %s", id)}
		}
		if p.sc.Window.Get(id) != nil {
			return p.errf(ln, "market %s loaded twice", id)
		}
		gen := []string{id}
		if m.Legs != nil {
			gen = m.Legs.IDs()
		}
		for _, g := range gen {
			if have[g] {
				continue
			}
			have[g] = true
			gm, err := p.cat.Market(g)
			if err != nil {
				return p.errf(ln, "market %s: %v", g, err)
			}
			cfg.Markets = append(cfg.Markets, gm)
		}
	}
	b, err := synth.Generate(cfg)
	if err != nil {
		return p.errf(ln, "synth %s: %v", name, err)
	}
	ctx := context.Background()
	db, err := history.OpenMemory(ctx, history.WithCatalog(p.cat))
	if err != nil {
		return p.errf(ln, "synth %s: %v", name, err)
	}
	defer db.Close()
	if _, err := db.Write(ctx, b); err != nil {
		return p.errf(ln, "synth %s: %v", name, err)
	}
	w, err := db.Load(ctx, ids, cfg.From, cfg.To)
	if err != nil {
		return p.errf(ln, "synth %s: %v", name, err)
	}
	for _, s := range w.Series {
		p.sc.Window.Series = append(p.sc.Window.Series, s)
		p.sc.Markets = append(p.sc.Markets, s.Market.ID)
	}
	if pw := p.sc.Window; pw.From.IsZero() || w.From.Before(pw.From) {
		pw.From = w.From
	}
	if w.To.After(p.sc.Window.To) {
		p.sc.Window.To = w.To
	}
	return nil
}

// forwardFill carries each field's latest value into later rows that do
// not observe it, as history.DB.Load does.
func forwardFill(s *adapters.Series) {
	for f := range s.Cols {
		c := s.Cols[f]
		if c == nil {
			continue
		}
		bit := adapters.FieldSet(1) << f
		have, last := false, 0.0
		for i, set := range s.Set {
			if set&bit != 0 {
				have, last = true, c[i]
			} else if have {
				c[i] = last
				s.Set[i] = set | bit
			}
		}
	}
}

// expandValues expands one value token: v, vxN, a+dxN, a-dxN or _.
func expandValues(tok string, vals *[]float64, set *[]bool) error {
	if tok == "_" {
		*vals, *set = append(*vals, 0), append(*set, false)
		return nil
	}
	if rest, ok := strings.CutPrefix(tok, "_x"); ok {
		n, err := strconv.Atoi(rest)
		if err != nil || n < 1 || n > 1_000_000 {
			return fmt.Errorf("bad repeat %q", tok)
		}
		for k := 0; k < n; k++ {
			*vals, *set = append(*vals, 0), append(*set, false)
		}
		return nil
	}
	body, cnt, rep := strings.Cut(tok, "x")
	n := 1
	if rep {
		var err error
		if n, err = strconv.Atoi(cnt); err != nil || n < 1 || n > 1_000_000 {
			return fmt.Errorf("bad repeat count in %q", tok)
		}
	}
	start, inc := body, ""
	if i := strings.LastIndexAny(body, "+-"); i > 0 && body[i-1] != 'e' && body[i-1] != 'E' {
		start, inc = body[:i], body[i:]
	}
	a, err := strconv.ParseFloat(start, 64)
	if err != nil || math.IsNaN(a) || math.IsInf(a, 0) {
		return fmt.Errorf("bad value %q", tok)
	}
	d := 0.0
	if inc != "" {
		if d, err = strconv.ParseFloat(inc, 64); err != nil || math.IsNaN(d) || math.IsInf(d, 0) {
			return fmt.Errorf("bad increment in %q", tok)
		}
		if !rep {
			return fmt.Errorf("%q has an increment but no repeat count (a+dxN)", tok)
		}
	}
	for k := 0; k < n; k++ {
		*vals, *set = append(*vals, a+float64(k)*d), append(*set, true)
	}
	return nil
}

func (p *scenarioParser) event(ln int, args []string) error {
	if len(args) < 4 {
		return p.errf(ln, "event needs: event <time> <market> <type> <size> [scope=<tag>]")
	}
	t, err := p.parseTime(ln, args[0])
	if err != nil {
		return err
	}
	s := p.sc.Window.Get(args[1])
	if s == nil {
		return &adapters.Error{Op: "backtest.ParseScenario", Kind: adapters.KindNotFound, Pos: fmt.Sprintf("%s:%d", p.file, ln), Err: fmt.Errorf("event on %s, which is not loaded", args[1])}
	}
	typ, err := adapters.ParseEventType(args[2])
	if err != nil {
		return p.errf(ln, "%v", err)
	}
	size, err := strconv.ParseFloat(args[3], 64)
	if err != nil {
		return p.errf(ln, "bad event size %q", args[3])
	}
	opts, err := p.kv(ln, args[4:], "scope")
	if err != nil {
		return err
	}
	ev := adapters.Event{Time: t, Market: args[1], Type: typ, Size: size, Scope: opts["scope"], Note: fmt.Sprintf("%s:%d", p.file, ln)}
	if err := ev.Validate(); err != nil {
		return p.errf(ln, "%v", err)
	}
	if n := len(s.Events); n > 0 && s.Events[n-1].Time.After(t) {
		return p.errf(ln, "events of %s must be in time order", args[1])
	}
	s.Events = append(s.Events, ev)
	return nil
}

var setKeys = []string{"gas", "gas_asset_price", "pricing", "management_fee", "performance_fee", "profit_unlock", "idle_floor",
	"min_trade", "max_slippage", "compound_harvest", "rebalance", "harvest", "risk_free"}

func (p *scenarioParser) setLine(ln int, args []string) error {
	if len(args) == 0 {
		return p.errf(ln, "set needs key=value arguments")
	}
	// Cron specs may contain spaces inside single quotes: rejoin them.
	var joined []string
	for k := 0; k < len(args); k++ {
		a := args[k]
		if strings.Contains(a, "='") && !strings.HasSuffix(a, "'") {
			for k+1 < len(args) {
				k++
				a += " " + args[k]
				if strings.HasSuffix(args[k], "'") {
					break
				}
			}
		}
		joined = append(joined, a)
	}
	kv, err := p.kv(ln, joined, setKeys...)
	if err != nil {
		return err
	}
	for k, v := range kv {
		p.set[k] = v
		if err := p.applySet(ln, k, v); err != nil {
			return err
		}
	}
	return nil
}

func (p *scenarioParser) applySet(ln int, k, v string) error {
	sp := &p.sc.Spec
	num := func() (float64, error) {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, p.errf(ln, "%s: %q is not a number", k, v)
		}
		return f, nil
	}
	if !p.cfgOK {
		p.cfg = vault.Config{Name: "scenario", DecimalsOffset: vault.DefaultDecimalsOffset, FeeRecipient: FeeRecipient, MaxLoss: 0.01,
			Rebalance: vault.RebalanceConfig{MinTrade: decimal.RequireFromString("0.01"), Horizon: vault.DefaultHorizon, MinGainOverCost: 1}}
		p.cfgOK = true
	}
	c := &p.cfg
	var f float64
	var err error
	switch k {
	case "pricing":
		pr, err := adapters.ParsePricing(v)
		if err != nil {
			return p.errf(ln, "%v", err)
		}
		sp.Pricing = pr
		return nil
	case "rebalance":
		sp.Rebalance = v
		return nil
	case "harvest":
		sp.Harvest = v
		return nil
	case "profit_unlock":
		d, err := parseDur(v)
		if err != nil {
			return p.errf(ln, "%v", err)
		}
		c.ProfitUnlock = d
		return nil
	case "min_trade":
		d, err := decimal.NewFromString(v)
		if err != nil || d.Sign() < 0 {
			return p.errf(ln, "min_trade %q is not an amount >= 0", v)
		}
		c.Rebalance.MinTrade = d
		return nil
	}
	if f, err = num(); err != nil {
		return err
	}
	switch k {
	case "gas":
		if f < 0 {
			return p.errf(ln, "gas %g must be >= 0", f)
		}
		sp.GasPrice = f
		if f == 0 {
			sp.GasPrice = -1 // free
		}
	case "gas_asset_price":
		sp.GasAssetPrice = f
	case "management_fee":
		c.ManagementFee = f
	case "performance_fee":
		c.PerformanceFee = f
	case "idle_floor":
		c.IdleFloor = f
	case "max_slippage":
		c.Rebalance.MaxSlippage = f
	case "compound_harvest":
		c.CompoundHarvest = f != 0
	case "risk_free":
		sp.RiskFree = f
	}
	return nil
}

func (p *scenarioParser) strategy(ln int, args []string) error {
	if p.sc.Strategy != nil {
		return p.errf(ln, "a scenario has one strategy")
	}
	if len(args) == 0 {
		return p.errf(ln, "strategy needs: hold <market>, file <path>, rules or go <name>")
	}
	universe := p.sc.Markets
	switch args[0] {
	case "hold":
		if len(args) != 2 {
			return p.errf(ln, "strategy hold needs one market")
		}
		idx := -1
		for i, id := range universe {
			if id == args[1] {
				idx = i
			}
		}
		if idx < 0 {
			return &adapters.Error{Op: "backtest.ParseScenario", Kind: adapters.KindNotFound, Pos: fmt.Sprintf("%s:%d", p.file, ln), Err: fmt.Errorf("hold %s, which is not loaded", args[1])}
		}
		s, err := strategies.NewHold(strategies.Config{Universe: append([]string(nil), universe...), Params: map[string]float64{"market": float64(idx)}, Catalog: p.cat})
		if err != nil {
			return p.errf(ln, "%v", err)
		}
		p.sc.Strategy = s
		p.sc.Spec.Universe = append([]string(nil), universe...)
	case "file":
		if len(args) != 2 {
			return p.errf(ln, "strategy file needs one path")
		}
		path := args[1]
		if !filepath.IsAbs(path) {
			path = filepath.Join(p.dir, path)
		}
		s, err := rules.LoadFile(path, p.cat)
		if err != nil {
			return adapters.Wrap("backtest.ParseScenario", adapters.KindOf(err), fmt.Errorf("%s:%d: %w", p.file, ln, err))
		}
		p.sc.Strategy = s
	case "rules":
		var b strings.Builder
		first := ln + 1
		for p.i+1 < len(p.lines) && (indented(p.lines[p.i+1]) || strings.TrimSpace(p.lines[p.i+1]) == "") {
			p.i++
			b.WriteString(p.lines[p.i])
			b.WriteByte('\n')
		}
		name := fmt.Sprintf("%s:%d(inline)", p.file, first)
		s, err := rules.Load(name, []byte(dedent(b.String())), p.cat)
		if err != nil {
			return adapters.Wrap("backtest.ParseScenario", adapters.KindOf(err), fmt.Errorf("inline strategy at %s:%d (lines counted from there): %w", p.file, first, err))
		}
		p.sc.Strategy = s
	case "go":
		if len(args) < 2 {
			return p.errf(ln, "strategy go needs the name of a registered Go strategy")
		}
		name := strings.TrimPrefix(args[1], strategies.GoPrefix)
		params := map[string]float64{}
		for _, kv := range args[2:] {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return p.errf(ln, "strategy go %s: %q is not param=value", name, kv)
			}
			x, err := strategies.ParseParam(name, k, v)
			if err != nil {
				return p.errf(ln, "%s", adapters.Message(err))
			}
			params[k] = x
		}
		g, err := strategies.NewGo(name, strategies.Config{Universe: append([]string(nil), universe...), Params: params, Catalog: p.cat})
		if err != nil {
			return adapters.Wrap("backtest.ParseScenario", adapters.KindOf(err), fmt.Errorf("%s:%d: %s", p.file, ln, adapters.Message(err)))
		}
		p.sc.Strategy = g.Strategy
		p.sc.Spec.Universe = g.Universe
		p.sc.Spec.Params = g.Params
	default:
		return p.errf(ln, "unknown strategy kind %q (want hold, file, rules or go)", args[0])
	}
	return nil
}

// dedent removes the indentation of the first non-empty line from every
// line.
func dedent(s string) string {
	lines := strings.Split(s, "\n")
	pre := ""
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			pre = l[:len(l)-len(strings.TrimLeft(l, " \t"))]
			break
		}
	}
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, pre)
	}
	return strings.Join(lines, "\n")
}

func (p *scenarioParser) run(ln int, args []string) error {
	if p.sc.Strategy == nil {
		return p.errf(ln, "run before strategy")
	}
	if len(p.sc.Window.Series) == 0 {
		return p.errf(ln, "run before load")
	}
	opts, err := p.kv(ln, args, "from", "to", "capital", "step")
	if err != nil {
		return err
	}
	sp := &p.sc.Spec
	sp.Strategy, sp.Data, sp.Source = p.sc.Strategy, p.sc.Window, p.file
	sp.Capital = decimal.NewFromInt(100)
	if p.catLoaded {
		sp.Catalog = p.cat
	}
	if v, ok := opts["from"]; ok {
		if sp.From, err = p.parseTime(ln, v); err != nil {
			return err
		}
	}
	if v, ok := opts["to"]; ok {
		if sp.To, err = p.parseTime(ln, v); err != nil {
			return err
		}
	}
	if v, ok := opts["capital"]; ok {
		if sp.Capital, err = decimal.NewFromString(v); err != nil {
			return p.errf(ln, "capital %q is not an amount", v)
		}
	}
	if v, ok := opts["step"]; ok {
		if sp.Step, err = parseDur(v); err != nil {
			return p.errf(ln, "%v", err)
		}
	}
	if p.cfgOK {
		cfg := p.cfg
		if rs, ok := p.sc.Strategy.(*rules.Strategy); ok {
			cfg.Name = rs.Name()
		}
		sp.Vault = &cfg
	}
	return nil
}

func (p *scenarioParser) expect(ln int, args []string) error {
	if len(args) == 0 {
		return p.errf(ln, "expect needs a metric")
	}
	num := func(s string) (float64, error) {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) {
			return 0, p.errf(ln, "%q is not a number", s)
		}
		return f, nil
	}
	// The value and optional tolerance are the last one or two arguments.
	tail := func(fixed int) (Expect, error) {
		e := Expect{Line: ln, Tol: 1e-9}
		rest := args[1+fixed:]
		if len(rest) == 2 && (rest[0] == "<" || rest[0] == ">") {
			e.Cmp, rest = rest[0], rest[1:2]
		}
		if len(rest) < 1 || len(rest) > 2 {
			return e, p.errf(ln, "expect %s needs %d argument(s), a value and an optional tolerance", args[0], fixed)
		}
		e.Args = append([]string(nil), args[1:1+fixed]...)
		var err error
		if e.Value, err = num(rest[0]); err != nil {
			return e, err
		}
		if len(rest) == 2 {
			if e.Tol, err = num(rest[1]); err != nil || e.Tol < 0 {
				return e, p.errf(ln, "bad tolerance %q", rest[1])
			}
		}
		return e, nil
	}
	var e Expect
	var err error
	switch args[0] {
	case "error":
		if len(args) != 2 {
			return p.errf(ln, "expect error needs a kind (invalid, not_found, ...)")
		}
		k, ok := errorKinds[args[1]]
		if !ok {
			return p.errf(ln, "unknown error kind %q", args[1])
		}
		p.sc.WantErr, p.sc.WantErrLine = k, ln
		return nil
	case "nav", "equity":
		if e, err = tail(1); err != nil {
			return err
		}
		t, err := p.parseTime(ln, e.Args[0])
		if err != nil {
			return err
		}
		e.What, e.Args[0] = args[0], t.Format(time.RFC3339)
	case "bench", "market":
		if e, err = tail(2); err != nil {
			return err
		}
		e.What = args[0]
	case "issue":
		if e, err = tail(2); err != nil {
			return err
		}
		e.What = "issue"
	default:
		if e, err = tail(0); err != nil {
			return err
		}
		e.What, e.Args = "metric", []string{args[0]}
	}
	p.sc.Expects = append(p.sc.Expects, e)
	return nil
}

var errorKinds = map[string]adapters.ErrorKind{
	"invalid": adapters.KindInvalid, "not_found": adapters.KindNotFound, "insufficient_liquidity": adapters.KindInsufficientLiquidity,
	"cap_exceeded": adapters.KindCapExceeded, "stale": adapters.KindStale, "paused": adapters.KindPaused,
}

// Check runs the scenario and checks its expectations. It returns the
// result (nil when the run failed as expected) and one message per
// failed expectation, naming file:line; err is a run error the scenario
// did not expect.
func (sc *Scenario) Check(ctx context.Context) (*Result, []string, error) {
	res, err := Run(ctx, sc.Spec)
	if sc.WantErr != adapters.KindOther {
		if err == nil {
			return res, []string{fmt.Sprintf("%s:%d: want a %s error, the run succeeded", sc.File, sc.WantErrLine, sc.WantErr)}, nil
		}
		if adapters.KindOf(err) != sc.WantErr {
			return nil, []string{fmt.Sprintf("%s:%d: want a %s error, got %v", sc.File, sc.WantErrLine, sc.WantErr, err)}, nil
		}
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	var metrics map[string]any
	if err := flatten(res, &metrics); err != nil {
		return res, nil, err
	}
	var fails []string
	for _, e := range sc.Expects {
		got, err := e.lookup(res, metrics)
		if err != nil {
			fails = append(fails, fmt.Sprintf("%s:%d: %v", sc.File, e.Line, err))
			continue
		}
		switch e.Cmp {
		case "<", ">":
			if !(e.Cmp == "<" && got < e.Value || e.Cmp == ">" && got > e.Value) {
				fails = append(fails, fmt.Sprintf("%s:%d: %s %s = %.12g, want %s %.12g", sc.File, e.Line, e.What, strings.Join(e.Args, " "), got, e.Cmp, e.Value))
			}
		default:
			if !(math.Abs(got-e.Value) <= e.Tol) {
				fails = append(fails, fmt.Sprintf("%s:%d: %s %s = %.12g, want %.12g (tolerance %g)", sc.File, e.Line, e.What, strings.Join(e.Args, " "), got, e.Value, e.Tol))
			}
		}
	}
	return res, fails, nil
}

// flatten puts the result's metrics and data info into one map by JSON
// name.
func flatten(res *Result, out *map[string]any) error {
	m := map[string]any{}
	for _, v := range []any{res.Metrics, res.Data} {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		var part map[string]any
		if err := json.Unmarshal(b, &part); err != nil {
			return err
		}
		for k, x := range part {
			m[k] = x
		}
	}
	m["events"] = float64(len(res.Events))
	m["issues"] = float64(len(res.DataIssues))
	m["attribution_idle"] = res.Attribution.Idle.String()
	m["attribution_dust"] = res.Attribution.Dust.String()
	m["attribution_locked"] = res.Attribution.Locked.String()
	*out = m
	return nil
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case string:
		d, err := decimal.NewFromString(x)
		if err != nil {
			return 0, false
		}
		return d.InexactFloat64(), true
	}
	return 0, false
}

func (e *Expect) lookup(res *Result, metrics map[string]any) (float64, error) {
	switch e.What {
	case "metric":
		v, ok := metrics[e.Args[0]]
		if !ok {
			return 0, fmt.Errorf("unknown metric %q", e.Args[0])
		}
		f, ok := number(v)
		if !ok {
			return 0, fmt.Errorf("metric %q is not a number (%v)", e.Args[0], v)
		}
		return f, nil
	case "nav", "equity":
		t, _ := time.Parse(time.RFC3339, e.Args[0])
		k := -1
		for i := range res.Steps {
			if !res.Steps[i].Time.After(t) {
				k = i
			}
		}
		if k < 0 {
			return 0, fmt.Errorf("no step at or before %s", e.Args[0])
		}
		if e.What == "nav" {
			return res.Steps[k].NAV.Float(), nil
		}
		return res.Steps[k].Equity.Float(), nil
	case "bench":
		for _, b := range res.Benchmarks {
			if b.Name == e.Args[0] || (b.Kind == BenchHold && b.Markets[0] == e.Args[0]) {
				var m map[string]any
				j, _ := json.Marshal(b.Metrics)
				_ = json.Unmarshal(j, &m)
				m["entry_cost"] = b.EntryCost.String()
				f, ok := number(m[e.Args[1]])
				if !ok {
					return 0, fmt.Errorf("benchmark %s has no metric %q", e.Args[0], e.Args[1])
				}
				return f, nil
			}
		}
		return 0, fmt.Errorf("no benchmark %q", e.Args[0])
	case "market":
		for _, st := range res.Markets {
			if st.Market == e.Args[0] {
				var m map[string]any
				j, _ := json.Marshal(st)
				_ = json.Unmarshal(j, &m)
				f, ok := number(m[e.Args[1]])
				if !ok {
					return 0, fmt.Errorf("market %s has no statistic %q", e.Args[0], e.Args[1])
				}
				return f, nil
			}
		}
		return 0, fmt.Errorf("market %s is not in the result", e.Args[0])
	case "issue":
		n := 0
		for _, is := range res.DataIssues {
			if is.Kind == e.Args[0] && is.Market == e.Args[1] {
				n++
			}
		}
		return float64(n), nil
	}
	return 0, fmt.Errorf("unknown expectation %q", e.What)
}
