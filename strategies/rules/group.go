package rules

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/ast"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
)

// Group functions compare a market with the other eligible markets of its
// group: rank(score, "kind") is 1 for the best score among the eligible
// markets of the same kind. They read every eligible market's score, so
// they are available in rules.weight only, which runs after every score is
// known.
var GroupFuncs = []string{"rank", "group_max", "group_min", "group_avg", "group_sum", "group_count"}

// MaxGroups is the most distinct group calls a strategy may use.
const MaxGroups = 8

const groupsIdent = "__g"

type groupOp uint8

const (
	groupRank groupOp = iota
	groupMax
	groupMin
	groupAvg
	groupSum
	groupCount
)

func parseGroupOp(name string) (groupOp, bool) {
	for i, n := range GroupFuncs {
		if n == name {
			return groupOp(i), true
		}
	}
	return 0, false
}

// groupCall is one distinct group call of a strategy.
type groupCall struct {
	Op   groupOp
	Name string // "score" or a per-market number; "" for group_count
	Per  string // "all", "kind", "protocol" or a tag prefix
	Text string // rank(score, "kind")
	cur  uintptr
}

// key is the group of market m for this call ("" for all).
func (g *groupCall) key(m *adapters.Market) string {
	if g.Per == "all" {
		return ""
	}
	return strategies.GroupOf(m, g.Per)
}

// groupCall checks a group call and registers it.
func (c *compiler) groupCall(k ruleKind, a *analysis, n *ast.CallNode, fn string, errAt func(ast.Node, string, ...any)) {
	op, _ := parseGroupOp(fn)
	if k != ruleWeight {
		errAt(n, "%s compares a market with the other eligible markets, whose scores are known only after every score is computed: it is available in rules.weight only", fn)
		return
	}
	args := n.Arguments
	g := groupCall{Per: "all"}
	if op == groupCount {
		if len(args) > 1 {
			errAt(n, "group_count takes at most one argument, the group (\"kind\", \"protocol\", \"all\" or a tag prefix such as \"layer\"); got %d", len(args))
			return
		}
	} else {
		if len(args) < 1 || len(args) > 2 {
			errAt(n, "%s takes a per-market number and an optional group, as in %s(score, \"kind\") (got %d arguments)", fn, fn, len(args))
			return
		}
		id, ok := args[0].(*ast.IdentifierNode)
		if !ok {
			errAt(args[0], "the first argument of %s must be score or a per-market number such as apy, tvl or peg", fn)
			return
		}
		a.used[id] = true
		if id.Value != "score" {
			d, isName := nameDoc(id.Value)
			if _, isFloat := envFloatOffsets[id.Value]; !isName || d.Scope != ScopeMarket || !isFloat {
				errAt(id, "%s: %q is not score or a per-market number%s", fn, id.Value, suggest(id.Value, groupNames()))
				return
			}
		}
		g.Name = id.Value
		g.cur = envFloatOffsets[id.Value]
		args = args[1:]
	}
	if len(args) == 1 {
		lit, ok := args[0].(*ast.StringNode)
		if !ok {
			errAt(args[0], "the group of %s must be a string literal: \"kind\", \"protocol\", \"all\" or a tag prefix such as \"layer\"", fn)
			return
		}
		g.Per = strings.TrimSpace(lit.Value)
		if g.Per == "" || strings.Contains(g.Per, ":") {
			errAt(args[0], "%s: group %q must be \"kind\", \"protocol\", \"all\" or a tag prefix without the colon (\"layer\" groups by the layer: tag)", fn, lit.Value)
			return
		}
		if msg := c.groupKnown(g.Per); msg != "" {
			errAt(args[0], "%s: %s", fn, msg)
			return
		}
	}
	switch {
	case op == groupCount:
		g.Text = fmt.Sprintf("group_count(%q)", g.Per)
	default:
		g.Text = fmt.Sprintf("%s(%s, %q)", fn, g.Name, g.Per)
	}
	g.Op = op
	key := g.Text
	gi, ok := c.gkeys[key]
	if !ok {
		if len(c.groups) >= MaxGroups {
			errAt(n, "too many distinct group calls in the strategy (at most %d)", MaxGroups)
			return
		}
		gi = len(c.groups)
		c.groups = append(c.groups, g)
		if c.gkeys == nil {
			c.gkeys = map[string]int{}
		}
		c.gkeys[key] = gi
	}
	a.groups[n.Location()] = gi
	a.read(g.Text)
}

// groupKnown returns "" when some market of the universe falls in a group
// other than "none" for per, else why the group matches nothing.
func (c *compiler) groupKnown(per string) string {
	if per == "all" || per == "kind" || per == "protocol" || c.universe == nil {
		return ""
	}
	for i := range c.universe {
		if strategies.GroupOf(&c.universe[i], per) != "none" {
			return ""
		}
	}
	return fmt.Sprintf("no market of the universe has a %s: tag (want \"kind\", \"protocol\", \"all\" or a tag prefix such as \"layer\")", per)
}

// groupNames are the names a group function may rank.
func groupNames() []string {
	out := []string{"score"}
	for _, n := range Names {
		if _, ok := envFloatOffsets[n.Name]; ok && n.Scope == ScopeMarket {
			out = append(out, n.Name)
		}
	}
	return out
}

// groupValues computes, for every group call, each eligible market's
// value: vals[g][i] for market i. in[g][i] is the call's input for market
// i (its score or a per-market number); eligible marks the markets that
// take part.
func groupValues(calls []groupCall, markets []strategies.MarketState, eligible []bool, in [][]float64, out [][]float64) {
	keys := make([]string, len(markets))
	for gi := range calls {
		g := &calls[gi]
		for i := range markets {
			if eligible[i] {
				keys[i] = g.key(&markets[i].Market)
			}
		}
		for i := range markets {
			if !eligible[i] {
				continue
			}
			x := 0.0
			if g.Op != groupCount {
				x = in[gi][i]
			}
			var v float64
			cnt, better := 0, 0
			sum, lo, hi := 0.0, math.Inf(1), math.Inf(-1)
			for j := range markets {
				if !eligible[j] || keys[j] != keys[i] {
					continue
				}
				cnt++
				if g.Op == groupCount {
					continue
				}
				y := in[gi][j]
				if y > x {
					better++
				}
				sum += y
				lo = math.Min(lo, y)
				hi = math.Max(hi, y)
			}
			switch g.Op {
			case groupRank:
				v = float64(1 + better)
			case groupMax:
				v = hi
			case groupMin:
				v = lo
			case groupAvg:
				v = sum / float64(cnt)
			case groupSum:
				v = sum
			case groupCount:
				v = float64(cnt)
			}
			out[gi][i] = v
		}
	}
}

// setG sets group slot i.
func (e *marketEnv) setG(i int, v float64) {
	switch i {
	case 0:
		e.G0 = v
	case 1:
		e.G1 = v
	case 2:
		e.G2 = v
	case 3:
		e.G3 = v
	case 4:
		e.G4 = v
	case 5:
		e.G5 = v
	case 6:
		e.G6 = v
	case 7:
		e.G7 = v
	}
}

func groupIdent(i int) string { return groupsIdent + strconv.Itoa(i) }
