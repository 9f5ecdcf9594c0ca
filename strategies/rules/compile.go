package rules

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"

	"github.com/yieldvault/yieldvault/adapters"
)

// Limits on rule expressions, checked at load.
const (
	MaxExprLen   = 2048 // bytes of source
	MaxExprNodes = 300  // AST nodes (expr.MaxNodes)
	MaxExprDepth = 32   // nesting of brackets
)

// ruleKind says where an expression sits in the file and so which names it
// may read and which type it must have.
type ruleKind uint8

const (
	ruleEligible ruleKind = iota
	ruleScore
	ruleWeight
	ruleExit
	ruleRebalance
	ruleHarvest
	ruleLeverage
)

var ruleKeys = [...]string{
	ruleEligible:  "rules.eligible",
	ruleScore:     "rules.score",
	ruleWeight:    "rules.weight",
	ruleExit:      "exit.when",
	ruleRebalance: "rebalance.when",
	ruleHarvest:   "harvest.when",
	ruleLeverage:  "rules.leverage",
}

func (k ruleKind) String() string { return ruleKeys[k] }

func (k ruleKind) vault() bool   { return k == ruleRebalance || k == ruleHarvest }
func (k ruleKind) boolean() bool { return k != ruleScore && k != ruleWeight && k != ruleLeverage }

// exprError is a compile problem at a rune offset of the expression
// source, or at the start of the expression (off < 0).
type exprError struct {
	off  int // rune offset in the source; -1 when unknown
	line int // 1-based line in the source when known (multi-line sources)
	col  int // 0-based rune column in that line
	msg  string
}

func (e *exprError) Error() string { return e.msg }

// compiler compiles the rules of one strategy. It owns the table of
// windows and parameters shared by every rule, so that a window used by
// two rules is computed once per market.
type compiler struct {
	params  []string       // sorted parameter names; P[i] is params[i]
	pindex  map[string]int // name -> index in params
	windows []window
	wkeys   map[string]int // op|name|secs -> index in windows
	groups  []groupCall
	gkeys   map[string]int // group call text -> index in groups
	// universe, when set, is what group calls' tag prefixes are checked
	// against.
	universe []adapters.Market
}

func newCompiler(params []string) *compiler {
	c := &compiler{params: params, pindex: make(map[string]int, len(params)), wkeys: map[string]int{}}
	for i, p := range params {
		c.pindex[p] = i
	}
	return c
}

// program is one compiled rule.
type program struct {
	kind    ruleKind
	src     string
	pos     string // file:line:col of the rule, for run-time errors
	prog    *vm.Program
	reads   []string // sorted names read (apy, params.min_peg, avg(apy, "7d"), tags)
	windows []int    // window ids the rule reads, ascending
	names   []string // plain names read, for explanations, in order of first use
	// parts explain a boolean rule: the top-level conjuncts (eligible)
	// or disjuncts (exit.when, when conditions) in order; nil when the rule is a single
	// term.
	parts []*part
	// fbool (boolean rules) or fnum (score, weight) is the rule compiled
	// to closures (see compileFast); nil when it runs on the VM.
	fbool boolFn
	fnum  numFn
}

// part is one term of a boolean rule, compiled on its own, with the two
// sides of a comparison compiled separately so that explanations can show
// their values.
type part struct {
	src         string
	prog        *vm.Program
	op          string      // comparison operator, "" when the term is not a comparison
	left, right *vm.Program // the sides of a comparison
	lsrc, rsrc  string
	lconst      bool // left side is a literal
	rconst      bool // right side is a literal
	names       []string
	windows     []int
	// The term and its sides compiled to closures, when they can be.
	fprog         boolFn
	fleft, fright numFn
}

var comparisons = map[string]string{"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}

// analysis is what the pre-pass learns about an expression before expr
// compiles it.
type analysis struct {
	errs    []*exprError
	reads   map[string]bool
	names   []string
	windows map[file.Location]int // window call location -> window id
	params  map[file.Location]int // params member location -> parameter id
	hasTags map[file.Location]bool
	groups  map[file.Location]int // group call location -> group id
	decl    map[string]bool       // let-declared names
	used    map[*ast.IdentifierNode]bool
}

// compile parses, checks and compiles src for a rule of kind k. Errors
// carry the position in src.
func (c *compiler) compile(k ruleKind, src string) (*program, []*exprError) {
	if errs := checkShape(src); errs != nil {
		return nil, errs
	}
	tree, err := parser.ParseWithConfig(src, parseConfig())
	if err != nil {
		return nil, []*exprError{fromExprErr(err)}
	}
	a := c.analyze(k, tree.Node)
	if len(a.errs) > 0 {
		return nil, a.errs
	}
	prog, perr := c.build(k, src, a, k.boolean(), true)
	if perr != nil {
		return nil, []*exprError{perr}
	}
	p := &program{kind: k, src: src, prog: prog, names: a.names}
	for r := range a.reads {
		p.reads = append(p.reads, r)
	}
	sort.Strings(p.reads)
	p.windows = sortedIDs(a.windows)
	if k.boolean() {
		p.parts = c.explainParts(k, tree.Node)
	}
	if !k.vault() {
		if k.boolean() {
			p.fbool = fastBool(prog)
		} else {
			p.fnum = fastNum(prog, true)
		}
	}
	return p, nil
}

// build compiles src with the rewrites the analysis prepared.
func (c *compiler) build(k ruleKind, src string, a *analysis, asBool, typed bool) (*vm.Program, *exprError) {
	opts := []expr.Option{
		expr.MaxNodes(MaxExprNodes),
		expr.DisableAllBuiltins(),
		expr.Patch(&rewriter{c: c, a: a}),
	}
	for _, f := range Functions {
		if f != "has_tag" {
			opts = append(opts, expr.EnableBuiltin(f))
		}
	}
	if k.vault() {
		opts = append(opts, expr.Env(vaultEnv{}))
	} else {
		opts = append(opts, expr.Env(marketEnv{}))
	}
	if typed {
		if asBool {
			opts = append(opts, expr.AsBool())
		} else {
			opts = append(opts, expr.AsFloat64())
		}
	}
	prog, err := compileSafe(src, opts)
	if err != nil {
		e := fromExprErr(err)
		e.msg = typeMessage(k, e.msg)
		return nil, e
	}
	return prog, nil
}

// compileSafe runs expr.Compile behind recover: no input may panic the
// loader.
func compileSafe(src string, opts []expr.Option) (p *vm.Program, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("cannot compile expression: %v", r)
		}
	}()
	return expr.Compile(src, opts...)
}

func parseConfig() *conf.Config {
	cfg := conf.CreateNew()
	cfg.MaxNodes = MaxExprNodes
	for name := range cfg.Builtins {
		cfg.Disabled[name] = true
	}
	for _, f := range Functions {
		delete(cfg.Disabled, f)
	}
	for name := range cfg.Disabled {
		delete(cfg.Builtins, name)
	}
	return cfg
}

// typeMessage rewords expr's result-type errors for a rule.
func typeMessage(k ruleKind, msg string) string {
	if strings.Contains(msg, "expected bool") || strings.Contains(msg, "expected float64") {
		want := "a number"
		if k.boolean() {
			want = "true or false (a bool)"
		}
		return fmt.Sprintf("the rule must give %s: %s", want, msg)
	}
	return msg
}

// checkShape bounds the source's size and bracket nesting before parsing.
func checkShape(src string) []*exprError {
	if strings.TrimSpace(src) == "" {
		return []*exprError{{off: -1, msg: "empty expression"}}
	}
	if len(src) > MaxExprLen {
		return []*exprError{{off: -1, msg: fmt.Sprintf("expression is longer than %d bytes", MaxExprLen)}}
	}
	depth := 0
	var quote rune
	esc := false
	off := 0
	for _, r := range src {
		switch {
		case quote != 0:
			if esc {
				esc = false
			} else if r == '\\' && quote != '`' {
				esc = true
			} else if r == quote {
				quote = 0
			}
		case r == '"' || r == '\'' || r == '`':
			quote = r
		case r == '(' || r == '[' || r == '{':
			depth++
			if depth > MaxExprDepth {
				return []*exprError{{off: off, msg: fmt.Sprintf("expression nests brackets deeper than %d", MaxExprDepth)}}
			}
		case r == ')' || r == ']' || r == '}':
			depth--
		}
		off++
	}
	return nil
}

var noMethod = regexp.MustCompile(`^type rules\.Clock has no method (\w+)`)

// plainExprMessage says expr's messages about now in the file author's
// words: "now has no method Weekdy (did you mean Weekday?)", not the Go
// type's name.
func plainExprMessage(msg string) string {
	if m := noMethod.FindStringSubmatch(msg); m != nil {
		t := reflect.TypeOf(Clock{})
		names := make([]string, 0, t.NumMethod())
		for i := 0; i < t.NumMethod(); i++ {
			names = append(names, t.Method(i).Name)
		}
		return fmt.Sprintf("now has no method %s%s", m[1], suggestOrList(m[1], names))
	}
	return strings.ReplaceAll(msg, "rules.Clock", "time")
}

// fromExprErr converts an expr error to an exprError with its position.
func fromExprErr(err error) *exprError {
	var fe *file.Error
	if errors.As(err, &fe) {
		msg := plainExprMessage(fe.Message)
		if msg == "" {
			msg = err.Error()
		}
		if fe.Line > 0 {
			return &exprError{off: fe.From, line: fe.Line, col: fe.Column, msg: msg}
		}
		return &exprError{off: fe.From, msg: msg}
	}
	return &exprError{off: -1, msg: err.Error()}
}

// analyze checks the names an expression reads and resolves window calls,
// has_tag calls and parameters. It reports every problem it finds.
func (c *compiler) analyze(k ruleKind, root ast.Node) *analysis {
	a := &analysis{
		reads:   map[string]bool{},
		windows: map[file.Location]int{},
		params:  map[file.Location]int{},
		hasTags: map[file.Location]bool{},
		groups:  map[file.Location]int{},
		decl:    map[string]bool{},
		used:    map[*ast.IdentifierNode]bool{},
	}
	errAt := func(n ast.Node, format string, args ...any) {
		a.errs = append(a.errs, &exprError{off: startOf(n), msg: fmt.Sprintf(format, args...)})
	}
	// Pass 1: calls, parameters and declarations.
	ast.Walk(&root, visitFunc(func(np *ast.Node) {
		switch n := (*np).(type) {
		case *ast.VariableDeclaratorNode:
			a.decl[n.Name] = true
		case *ast.CallNode:
			id, ok := n.Callee.(*ast.IdentifierNode)
			if !ok {
				return // a method call such as now.Hour()
			}
			a.used[id] = true
			switch {
			case id.Value == "has_tag":
				if k.vault() {
					errAt(n, "has_tag is per market; it is not available in %s", k)
					return
				}
				if len(n.Arguments) != 1 {
					errAt(n, "has_tag takes one argument, a tag such as \"layer:eigenlayer\" (got %d)", len(n.Arguments))
					return
				}
				a.hasTags[n.Location()] = true
				a.read("tags")
			case isWindowName(id.Value):
				c.windowCall(k, a, n, id.Value, n.Arguments, errAt)
			case isGroupName(id.Value):
				c.groupCall(k, a, n, id.Value, errAt)
			default:
				errAt(n, "unknown function %q%s", id.Value, suggestOrList(id.Value, functionNames()))
			}
		case *ast.BuiltinNode:
			if (n.Name == "min" || n.Name == "max") && len(n.Arguments) == 2 {
				if _, ok := n.Arguments[1].(*ast.StringNode); ok {
					c.windowCall(k, a, n, n.Name, n.Arguments, errAt)
				}
			}
		case *ast.MemberNode:
			id, ok := n.Node.(*ast.IdentifierNode)
			if !ok || id.Value != "params" {
				return
			}
			a.used[id] = true
			prop, ok := n.Property.(*ast.StringNode)
			if !ok {
				errAt(id, "params needs a name: params.<name>")
				return
			}
			i, ok := c.pindex[prop.Value]
			if !ok {
				if len(c.params) == 0 {
					errAt(id, "unknown parameter %q (the file declares no params)", prop.Value)
				} else {
					errAt(id, "unknown parameter %q%s", prop.Value, suggest(prop.Value, c.params))
				}
				return
			}
			a.params[n.Location()] = i
			a.read("params." + prop.Value)
		}
	}))
	// Pass 2: every other identifier must be a name of the rule's scope.
	ast.Walk(&root, visitFunc(func(np *ast.Node) {
		id, ok := (*np).(*ast.IdentifierNode)
		if !ok || a.used[id] || a.decl[id.Value] {
			return
		}
		if id.Value == "params" {
			errAt(id, "params needs a name: params.<name>")
			return
		}
		if msg := nameAllowed(k, id.Value); msg != "" {
			errAt(id, "%s", msg)
			return
		}
		a.read(id.Value)
		a.name(id.Value)
	}))
	return a
}

// startOf is the smallest source offset in a subtree: where the text of
// the node begins (a binary node's own location is its operator).
func startOf(n ast.Node) int {
	from := n.Location().From
	ast.Walk(&n, visitFunc(func(np *ast.Node) {
		if f := (*np).Location().From; f < from {
			from = f
		}
	}))
	return from
}

func (a *analysis) read(name string) { a.reads[name] = true }

func (a *analysis) name(n string) {
	for _, x := range a.names {
		if x == n {
			return
		}
	}
	a.names = append(a.names, n)
}

// windowCall checks a window call and registers its window.
func (c *compiler) windowCall(k ruleKind, a *analysis, n ast.Node, fn string, args []ast.Node, errAt func(ast.Node, string, ...any)) {
	if k.vault() {
		errAt(n, "window function %s is per market; it is not available in %s", fn, k)
		return
	}
	if len(args) != 2 {
		errAt(n, "%s takes a per-market name and a duration, as in %s(apy, \"7d\") (got %d arguments)", fn, fn, len(args))
		return
	}
	id, ok := args[0].(*ast.IdentifierNode)
	if !ok {
		errAt(args[0], "the first argument of %s must be a per-market name such as apy, tvl or peg", fn)
		return
	}
	a.used[id] = true
	d, isName := nameDoc(id.Value)
	if !isName || d.Scope != ScopeMarket {
		errAt(id, "%s: unknown per-market name %q%s", fn, id.Value, suggest(id.Value, windowNames()))
		return
	}
	if !d.Window {
		errAt(id, "%s: %s has no history to take a window over (window names: %s)", fn, id.Value, strings.Join(windowNames(), ", "))
		return
	}
	lit, ok := args[1].(*ast.StringNode)
	if !ok {
		errAt(args[1], "the duration of %s must be a string literal such as \"7d\"", fn)
		return
	}
	dur, err := ParseLookback(lit.Value)
	if err != nil {
		errAt(args[1], "%s: %v", fn, err)
		return
	}
	op, _ := parseWinOp(fn)
	secs := int64(dur.Seconds())
	key := fn + "|" + id.Value + "|" + strconv.FormatInt(secs, 10)
	wi, ok := c.wkeys[key]
	if !ok {
		if len(c.windows) >= MaxWindows {
			errAt(n, "too many distinct window calls in the strategy (at most %d)", MaxWindows)
			return
		}
		f, _ := windowField(id.Value)
		wi = len(c.windows)
		c.windows = append(c.windows, window{Op: op, Name: id.Value, Secs: secs, field: f, cur: envFloatOffsets[id.Value],
			Text: fmt.Sprintf("%s(%s, %q)", fn, id.Value, lit.Value)})
		c.wkeys[key] = wi
	}
	a.windows[n.Location()] = wi
	a.read(c.windows[wi].Text)
}

// nameAllowed returns "" when rule k may read name, else why not.
func nameAllowed(k ruleKind, name string) string {
	d, ok := nameDoc(name)
	var scope []string
	for _, n := range Names {
		if scopeOK(k, n.Scope) {
			scope = append(scope, n.Name)
		}
	}
	if !ok {
		return fmt.Sprintf("unknown name %q%s", name, suggestOrList(name, scope))
	}
	if !scopeOK(k, d.Scope) {
		return fmt.Sprintf("name %q is not available in %s (it is for %s)", name, k, d.Scope)
	}
	return ""
}

func scopeOK(k ruleKind, s Scope) bool {
	switch s {
	case ScopeMarket:
		return !k.vault()
	case ScopeWeight:
		return k == ruleWeight
	default:
		return k.vault()
	}
}

func isWindowName(s string) bool {
	_, ok := parseWinOp(s)
	return ok
}

func windowNames() []string {
	var out []string
	for _, n := range Names {
		if n.Window {
			out = append(out, n.Name)
		}
	}
	return out
}

func isGroupName(s string) bool {
	_, ok := parseGroupOp(s)
	return ok
}

func functionNames() []string {
	return append(append(append([]string(nil), Functions...), WindowFuncs...), GroupFuncs...)
}

func sortedIDs[K comparable](m map[K]int) []int {
	seen := map[int]bool{}
	var out []int
	for _, v := range m {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Ints(out)
	return out
}

// rewriter is the expr patch that turns window calls into the window
// slot __w<i>, has_tag(x) into x in tags, and params.<name> into the
// parameter slot __p<i>.
type rewriter struct {
	c *compiler
	a *analysis
}

func (r *rewriter) Visit(np *ast.Node) {
	n := *np
	loc := n.Location()
	switch n.(type) {
	case *ast.CallNode, *ast.BuiltinNode:
		if wi, ok := r.a.windows[loc]; ok {
			ast.Patch(np, &ast.IdentifierNode{Value: windowsIdent + strconv.Itoa(wi)})
			return
		}
		if gi, ok := r.a.groups[loc]; ok {
			ast.Patch(np, &ast.IdentifierNode{Value: groupIdent(gi)})
			return
		}
		if c, ok := n.(*ast.CallNode); ok && r.a.hasTags[loc] {
			ast.Patch(np, &ast.BinaryNode{Operator: "in", Left: c.Arguments[0], Right: &ast.IdentifierNode{Value: "tags"}})
		}
	case *ast.MemberNode:
		if pi, ok := r.a.params[loc]; ok {
			ast.Patch(np, &ast.IdentifierNode{Value: paramsIdent + strconv.Itoa(pi)})
		}
	}
}

type visitFunc func(*ast.Node)

func (f visitFunc) Visit(n *ast.Node) { f(n) }

// explainParts splits a boolean rule into its top-level terms (&& for
// eligible, || for exit.when and the when conditions) and compiles each with the
// sides of comparisons, for explanations. Terms that fail to compile on
// their own (they should not) are explained by their source only.
func (c *compiler) explainParts(k ruleKind, root ast.Node) []*part {
	join, alt := "||", "or"
	if k == ruleEligible {
		join, alt = "&&", "and"
	}
	var terms []ast.Node
	var split func(n ast.Node)
	split = func(n ast.Node) {
		if b, ok := n.(*ast.BinaryNode); ok && (b.Operator == join || b.Operator == alt) {
			split(b.Left)
			split(b.Right)
			return
		}
		terms = append(terms, n)
	}
	split(root)
	var parts []*part
	for _, t := range terms {
		p := &part{src: t.String()}
		sub := func(src string, asBool, typed bool) (*vm.Program, *analysis) {
			tree, err := parser.ParseWithConfig(src, parseConfig())
			if err != nil {
				return nil, nil
			}
			a := c.analyze(k, tree.Node)
			if len(a.errs) > 0 {
				return nil, nil
			}
			prog, perr := c.build(k, src, a, asBool, typed)
			if perr != nil {
				return nil, nil
			}
			return prog, a
		}
		var a *analysis
		p.prog, a = sub(p.src, true, true)
		if p.prog == nil {
			continue
		}
		p.names = a.names
		p.windows = sortedIDs(a.windows)
		if b, ok := t.(*ast.BinaryNode); ok {
			if _, isCmp := comparisons[b.Operator]; isCmp {
				p.lsrc, p.rsrc = b.Left.String(), b.Right.String()
				p.left, _ = sub(p.lsrc, false, false)
				p.right, _ = sub(p.rsrc, false, false)
				if p.left != nil && p.right != nil {
					p.op = b.Operator
					p.lconst = isLiteral(b.Left)
					p.rconst = isLiteral(b.Right)
					if !k.vault() {
						p.fleft, p.fright = fastNum(p.left, false), fastNum(p.right, false)
					}
				}
			}
		}
		if !k.vault() {
			p.fprog = fastBool(p.prog)
		}
		parts = append(parts, p)
	}
	if len(parts) != len(terms) {
		return nil
	}
	return parts
}

func isLiteral(n ast.Node) bool {
	switch u := n.(type) {
	case *ast.IntegerNode, *ast.FloatNode, *ast.StringNode, *ast.BoolNode, *ast.NilNode:
		return true
	case *ast.UnaryNode:
		return isLiteral(u.Node)
	}
	return false
}

// suggestOrList is suggest, or when no candidate is close, the list of
// the names that are known there: every unknown name gets a way on.
func suggestOrList(name string, candidates []string) string {
	if s := suggest(name, candidates); s != "" {
		return s
	}
	if len(candidates) == 0 {
		return ""
	}
	c := append([]string(nil), candidates...)
	sort.Strings(c)
	c = slices.Compact(c)
	return " (known here: " + strings.Join(c, ", ") + ")"
}

// suggest returns ` (did you mean "x"?)` for the closest candidate within
// a small edit distance, or "".
func suggest(name string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		d := editDistance(name, c)
		if d < bestD || (d == bestD && c < best) {
			best, bestD = c, d
		}
	}
	limit := 2
	if len(name) <= 3 {
		limit = 1
	}
	if best == "" || bestD > limit {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	ra, rb := []rune(strings.ToLower(a)), []rune(strings.ToLower(b))
	if len(ra) > 64 || len(rb) > 64 {
		return 1 << 20
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
