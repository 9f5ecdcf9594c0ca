package monitor

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
	"github.com/yieldvault/yieldvault/strategies/rules"
)

// deciding returns the deciding comparison of a condition: the last term
// of its top-level && chain when it compares a name or a window call with
// a number (avg(peg, "6h") < 0.98 gives `avg(peg, "6h")` and "0.98"), in
// the form rules.Strategy.Inputs reads; else "", "".
func deciding(when string) (value, threshold string) {
	tree, err := parser.Parse(when)
	if err != nil {
		return "", ""
	}
	n := tree.Node
	for {
		b, ok := n.(*ast.BinaryNode)
		if !ok || (b.Operator != "&&" && b.Operator != "and") {
			break
		}
		n = b.Right
	}
	b, ok := n.(*ast.BinaryNode)
	if !ok || !slices.Contains([]string{"<", "<=", ">", ">="}, b.Operator) {
		return "", ""
	}
	if v, t := operand(b.Left), number(b.Right); v != "" && t != "" {
		return v, t
	}
	if v, t := operand(b.Right), number(b.Left); v != "" && t != "" {
		return v, t
	}
	return "", ""
}

// operand is a name or a window call in its canonical text.
func operand(n ast.Node) string {
	var fn string
	var args []ast.Node
	switch x := n.(type) {
	case *ast.IdentifierNode:
		if _, ok := nameDoc(x.Value); ok {
			return x.Value
		}
		return ""
	case *ast.CallNode:
		id, ok := x.Callee.(*ast.IdentifierNode)
		if !ok {
			return ""
		}
		fn, args = id.Value, x.Arguments
	case *ast.BuiltinNode:
		fn, args = x.Name, x.Arguments
	default:
		return ""
	}
	if !slices.Contains(rules.WindowFuncs, fn) || len(args) != 2 {
		return ""
	}
	id, ok1 := args[0].(*ast.IdentifierNode)
	lit, ok2 := args[1].(*ast.StringNode)
	if !ok1 || !ok2 {
		return ""
	}
	return fmt.Sprintf("%s(%s, %q)", fn, id.Value, lit.Value)
}

func nameDoc(name string) (rules.NameDoc, bool) {
	for _, d := range rules.Names {
		if d.Name == name && d.Scope == rules.ScopeMarket {
			return d, true
		}
	}
	return rules.NameDoc{}, false
}

// number is a numeric literal's text (with its sign).
func number(n ast.Node) string {
	switch x := n.(type) {
	case *ast.IntegerNode:
		return strconv.Itoa(x.Value)
	case *ast.FloatNode:
		return strconv.FormatFloat(x.Value, 'g', -1, 64)
	case *ast.UnaryNode:
		if s := number(x.Node); s != "" && (x.Operator == "-" || x.Operator == "+") {
			if x.Operator == "-" {
				return "-" + s
			}
			return s
		}
	}
	return ""
}

// Episodes are a vault's firing monitors: the service keeps them in its
// state database and starts every action from them; the backtest keeps
// them over its run.
type Episodes struct {
	mu     sync.Mutex
	firing map[string]Firing
}

// Update records the monitors firing at t and returns those that started
// firing (or fire on other markets) and those that stopped.
func (a *Episodes) Update(t time.Time, now []Firing) (started, resolved []Firing) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.firing == nil {
		a.firing = map[string]Firing{}
	}
	cur := map[string]bool{}
	for _, f := range now {
		cur[f.Monitor] = true
		old, ok := a.firing[f.Monitor]
		if ok && slices.Equal(old.Markets, f.Markets) {
			continue
		}
		f.Since, f.Notified = t, t
		if ok {
			f.Since = old.Since
		}
		a.firing[f.Monitor] = f
		started = append(started, f)
	}
	for name, f := range a.firing {
		if !cur[name] {
			delete(a.firing, name)
			resolved = append(resolved, f)
		}
	}
	slices.SortFunc(resolved, func(x, y Firing) int { return strings.Compare(x.Monitor, y.Monitor) })
	return started, resolved
}

// List returns the firing monitors sorted by name.
func (a *Episodes) List() []Firing {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]Firing, 0, len(a.firing))
	for _, f := range a.firing {
		out = append(out, f)
	}
	slices.SortFunc(out, func(x, y Firing) int { return strings.Compare(x.Monitor, y.Monitor) })
	return out
}

// Set replaces the firing monitors with fs.
func (a *Episodes) Set(fs []Firing) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.firing = make(map[string]Firing, len(fs))
	for _, f := range fs {
		a.firing[f.Monitor] = f
	}
}

// Next is Update without recording: the firing monitors after t and
// which of them started and resolved.
func (a *Episodes) Next(t time.Time, now []Firing) (state, started, resolved []Firing) {
	a.mu.Lock()
	cp := Episodes{firing: make(map[string]Firing, len(a.firing))}
	for k, v := range a.firing {
		cp.firing[k] = v
	}
	a.mu.Unlock()
	started, resolved = cp.Update(t, now)
	return cp.List(), started, resolved
}

// ExitsOf lists the markets that firing exit-bound monitors name.
func ExitsOf(fs []Firing) []string {
	var out []string
	for _, f := range fs {
		if f.Action == Exit {
			for _, m := range f.Markets {
				if !slices.Contains(out, m) {
					out = append(out, m)
				}
			}
		}
	}
	return out
}

// PausesOf lists the firing pause-bound monitors.
func PausesOf(fs []Firing) []Firing {
	var out []Firing
	for _, f := range fs {
		if f.Action == Pause {
			out = append(out, f)
		}
	}
	return out
}

// Describe is firing monitors in words: "monitor peg-below fires on
// lido/steth ((kind == ...) && avg(peg, "6h") < 0.98) -> exit".
func Describe(fs []Firing) string {
	parts := make([]string, len(fs))
	for i, f := range fs {
		parts[i] = fmt.Sprintf("monitor %s fires on %s (%s) -> %s", f.Monitor, strings.Join(f.Markets, ", "), f.When, f.Action)
	}
	return strings.Join(parts, "; ")
}

// Breach adds the markets of firing exit-bound monitors to a strategy's
// exits (the seeds' "assume a breach"): an exit check exits them at once,
// and a rebalance sells them and buys none of them while their monitor
// fires. The service and the backtest put it in the vault's Runner for
// the action (step) whose monitors fire.
type Breach struct {
	strategies.Strategy
	Exits []string
}

// Plan is the strategy's target with the exits added.
func (b Breach) Plan(ctx context.Context, st *strategies.State) (strategies.Target, error) {
	t, err := b.Strategy.Plan(ctx, st)
	if err != nil {
		return t, err
	}
	for _, m := range b.Exits {
		if !slices.Contains(t.Exit, m) {
			t.Exit = append(t.Exit, m)
		}
	}
	return t, nil
}

// HasExitRule is true: the monitors are an exit rule.
func (b Breach) HasExitRule() bool { return true }

// ExitCheck is the strategy's own exits (when it has an exit rule) plus
// the monitors'.
func (b Breach) ExitCheck(ctx context.Context, st *strategies.State) ([]string, error) {
	var out []string
	if x, ok := b.Strategy.(strategies.Exiter); ok {
		if r, ok := b.Strategy.(strategies.ExitRuler); !ok || r.HasExitRule() {
			e, err := x.ExitCheck(ctx, st)
			if err != nil {
				return nil, err
			}
			out = append(out, e...)
		}
	}
	for _, m := range b.Exits {
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out, nil
}

// The rebalance and harvest conditions pass through, with the Runner's
// defaults when the strategy has none, so that a breach changes only the
// exits.

// RebalanceSchedule passes through.
func (b Breach) RebalanceSchedule() strategies.Schedule {
	if s, ok := b.Strategy.(strategies.Scheduled); ok {
		return s.RebalanceSchedule()
	}
	return strategies.Schedule{}
}

// HarvestSchedule passes through.
func (b Breach) HarvestSchedule() strategies.Schedule {
	if s, ok := b.Strategy.(strategies.Scheduled); ok {
		return s.HarvestSchedule()
	}
	return strategies.Schedule{}
}

// ShouldRebalance passes through (true without a condition).
func (b Breach) ShouldRebalance(v strategies.VaultVars) (bool, string, error) {
	if s, ok := b.Strategy.(strategies.Scheduled); ok {
		return s.ShouldRebalance(v)
	}
	return true, "", nil
}

// ShouldHarvest passes through (pending rewards over the harvest cost
// without a condition, as vault.Runner.Harvest).
func (b Breach) ShouldHarvest(v strategies.VaultVars) (bool, string, error) {
	if s, ok := b.Strategy.(strategies.Scheduled); ok {
		return s.ShouldHarvest(v)
	}
	return v.PendingRewards > v.HarvestCost, fmt.Sprintf("pending rewards %.6g vs harvest cost %.6g", v.PendingRewards, v.HarvestCost), nil
}

// RebalanceReads passes through (every variable without it).
func (b Breach) RebalanceReads() strategies.VarSet {
	if s, ok := b.Strategy.(strategies.ConditionReads); ok {
		return s.RebalanceReads()
	}
	return strategies.AllVars
}

// HarvestReads passes through (every variable without it).
func (b Breach) HarvestReads() strategies.VarSet {
	if s, ok := b.Strategy.(strategies.ConditionReads); ok {
		return s.HarvestReads()
	}
	return strategies.AllVars
}

// eventCheck is EventMonitor's condition on the state at st.Time.
func eventCheck(st *strategies.State, w *adapters.Window) []string {
	t := st.Time
	hit := map[string]bool{}
	var scopes []string
	var hitTags []string
	shared := func(tag string) bool {
		return strings.HasPrefix(tag, "layer:") || strings.HasPrefix(tag, "avs:") || strings.HasPrefix(tag, "operator:")
	}
	// Most windows hold no event at all: then only a paused market is
	// hit, and no market's series need be looked up (Get is a scan of
	// the window, at every market of every step).
	events := false
	if w != nil {
		for _, ser := range w.Series {
			if len(ser.Events) > 0 {
				events = true
				break
			}
		}
	}
	for i := range st.Markets {
		ms := &st.Markets[i]
		recent := ms.Paused
		var ser *adapters.Series
		if events {
			ser = w.Get(ms.Market.ID)
		}
		if ser != nil {
			for _, ev := range ser.Events {
				if (ev.Type == adapters.EventSlash || ev.Type == adapters.EventPause) && !ev.Time.After(t) && t.Sub(ev.Time) <= EventWindow {
					recent = true
					if ev.Scope != "" {
						scopes = append(scopes, ev.Scope)
					}
				}
			}
		}
		if recent {
			hit[ms.Market.ID] = true
			for _, tag := range ms.Market.Tags {
				if shared(tag) {
					hitTags = append(hitTags, tag)
				}
			}
		}
	}
	if len(hit) == 0 {
		return nil
	}
	var out []string
	for i := range st.Markets {
		m := &st.Markets[i].Market
		fire := hit[m.ID]
		for _, tag := range m.Tags {
			if slices.Contains(scopes, tag) || slices.Contains(hitTags, tag) {
				fire = true
			}
		}
		if fire {
			out = append(out, m.ID)
		}
	}
	return out
}
