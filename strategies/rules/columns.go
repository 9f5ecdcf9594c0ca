package rules

import (
	"strconv"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// Column evaluation of per-market rules.
//
// A brief plan (a keeper's, at every rebalance check) runs its rules on
// every market in turn: a closure call per node of each rule and market
// (fast.go), which cost more than the arithmetic. A strategy whose rules
// are all in the column subset below, with no exit rule, windows or group
// values, runs each rule once over all the markets instead: a node's
// closure computes its value for every market in one loop (colRun), its
// operands' columns computed first. The per-market operations are fast.go's
// (the same IEEE operations in the same order: min and max keep the first
// argument unless a later one compares strictly beyond it), so every
// market's result is the same to the bit; a test compares them on the fuzz
// corpus's rules. A rule's value is computed on markets it would not have
// reached one at a time (a score of an ineligible market, the right side
// of && whose left side is false): the subset has no side effects and no
// run-time errors (a non-finite score is an error only where the plan
// reads it, which it checks market by market in order).
//
// The names a rule reads are leaves (colLeaf): one column per distinct
// name, each market's value computed alone as marketEnv.fill computes it
// (leafCols), or the parameter's value, or the score column; a name
// without a leafCol (the loop names) keeps the strategy market by market.

// colNum and colBool compute a fragment's value for every market of the
// run into out (len x.n).
type (
	colNum  func(x *colRun, out []float64)
	colBool func(x *colRun, out []bool)
)

// colRun is one column evaluation: n markets, the leaf columns, and a
// stack of scratch columns that nodes take for their operands and give
// back (kept with the plan context, reused from plan to plan).
type colRun struct {
	n     int
	cols  [][]float64 // per leaf slot (colProgs.leaves), the markets' values
	fs    [][]float64 // scratch number columns; fs[:ftop] are taken
	bs    [][]bool    // scratch boolean columns; bs[:btop] are taken
	ftop  int
	btop  int
	score []float64 // the score column (a plan's), which weight reads
}

// reset prepares the run for n markets and nleaf leaf columns.
func (x *colRun) reset(n, nleaf int) {
	x.n, x.ftop, x.btop = n, 0, 0
	for len(x.cols) < nleaf {
		x.cols = append(x.cols, nil)
	}
	x.cols = x.cols[:nleaf]
	for j := range x.cols {
		x.cols[j] = sized(x.cols[j], n)
	}
	x.score = sized(x.score, n)
}

// sized is s with length n, its array reused when large enough.
func sized[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// takeF takes a scratch number column of length n.
func (x *colRun) takeF() []float64 { return take(&x.fs, &x.ftop, x.n) }

// takeB takes a scratch boolean column of length n.
func (x *colRun) takeB() []bool { return take(&x.bs, &x.btop, x.n) }

// take takes the scratch column (*cols)[*top], of length n, and moves top
// past it.
func take[T any](cols *[][]T, top *int, n int) []T {
	if *top == len(*cols) {
		*cols = append(*cols, nil)
	}
	c := sized((*cols)[*top], n)
	(*cols)[*top] = c
	*top++
	return c
}

// colOperand is a number operand: a leaf column read in place, or a
// computed fragment (constants included) evaluated into a scratch column.
type colOperand struct {
	slot int // leaf slot, or -1
	f    colNum
}

// vals returns the operand's column: the leaf's, or f's into a scratch
// column the caller gives back (its ftop mark).
func (o *colOperand) vals(x *colRun) []float64 {
	if o.slot >= 0 {
		return x.cols[o.slot]
	}
	c := x.takeF()
	o.f(x, c)
	return c
}

// colProgs are a strategy's eligible, score and weight rules compiled to
// columns, and their leaves.
type colProgs struct {
	eligible      colBool // nil without an eligible rule
	score, weight colNum  // weight nil without a weight rule
	leaves        []colLeaf
	// scoreSlot is the leaf slot of score (the weight rule's), -1 when
	// no rule reads it: the plan fills it from the score column.
	scoreSlot int
}

// colLeaf is a name a rule reads: a market's name (col), a parameter
// (param >= 0) or score (neither).
type colLeaf struct {
	name  string
	col   leafCol
	param int
}

// colCompiler assigns leaf slots while rules are compiled.
type colCompiler struct {
	leaves []colLeaf
}

// slot returns the leaf slot of a name, false for a name a column plan
// cannot compute alone.
func (cc *colCompiler) slot(name string) (int, bool) {
	if _, ok := envFloatOffsets[name]; !ok {
		return 0, false
	}
	for j := range cc.leaves {
		if cc.leaves[j].name == name {
			return j, true
		}
	}
	l := colLeaf{name: name, col: leafCols[name], param: -1}
	if d, isParam := strings.CutPrefix(name, paramsIdent); isParam {
		pi, err := strconv.Atoi(d)
		if err != nil || pi < 0 || pi >= MaxParams {
			return 0, false
		}
		l.param = pi
	} else if l.col == nil && name != "score" {
		return 0, false
	}
	cc.leaves = append(cc.leaves, l)
	return len(cc.leaves) - 1, true
}

// compileColumns compiles s's per-market rules to columns, or returns nil
// when the strategy is outside the column subset: an exit rule, windows,
// group values, or a rule (or a node of one) that does not compile.
func compileColumns(s *Strategy) *colProgs {
	if s.exit != nil || len(s.comp.windows) > 0 || len(s.comp.groups) > 0 || s.score == nil {
		return nil
	}
	var cc colCompiler
	cp := &colProgs{scoreSlot: -1}
	if s.eligible != nil {
		if s.eligible.fbool == nil {
			return nil
		}
		if cp.eligible = cc.boolOf(s.eligible.prog); cp.eligible == nil {
			return nil
		}
	}
	num := func(p *program) (colNum, bool) {
		if p.fnum == nil {
			return nil, false
		}
		f := cc.numOf(p.prog)
		return f, f != nil
	}
	var ok bool
	if cp.score, ok = num(s.score); !ok {
		return nil
	}
	if s.weight != nil {
		if cp.weight, ok = num(s.weight); !ok {
			return nil
		}
	}
	cp.leaves = cc.leaves
	for j, l := range cp.leaves {
		if l.name == "score" {
			cp.scoreSlot = j
		}
	}
	return cp
}

func (cc *colCompiler) boolOf(p *vm.Program) colBool {
	c, ok := cc.compile(p.Node())
	if !ok {
		return nil
	}
	return c.bool
}

func (cc *colCompiler) numOf(p *vm.Program) colNum {
	c, ok := cc.compile(p.Node())
	if !ok {
		return nil
	}
	return c.num
}

// colExpr is a compiled column fragment: num or bool, with the number's
// operand form (a leaf's slot).
type colExpr struct {
	num  colNum
	bool colBool
	slot int // leaf slot of a number, -1 for others
}

func (c colExpr) operand() colOperand { return colOperand{slot: c.slot, f: c.num} }

// binaryCol is a node of two number operands: op of their columns into
// the node's (numbers for arithmetic, booleans for comparisons), the
// operands' scratch columns given back after.
func binaryCol[T any](a, b colOperand, op func(av, bv []float64, out []T)) func(x *colRun, out []T) {
	return func(x *colRun, out []T) {
		mark := x.ftop
		av := a.vals(x)
		bv := b.vals(x)
		op(av, bv, out)
		x.ftop = mark
	}
}

// compile is compileFast's subset over columns: literals, float names
// (not windows, strings or tags), unary - + !, && || and the arithmetic
// and comparisons of numbers, min and max of two numbers, abs. Only rules
// compileFast takes are compiled (compileColumns checks), so each node's
// value is the fast closure's.
func (cc *colCompiler) compile(n ast.Node) (colExpr, bool) {
	constNum := func(v float64) colExpr {
		return colExpr{slot: -1, num: func(_ *colRun, out []float64) {
			for k := range out {
				out[k] = v
			}
		}}
	}
	switch n := n.(type) {
	case *ast.FloatNode:
		return constNum(n.Value), true
	case *ast.IntegerNode:
		if n.Value > maxExactInt || n.Value < -maxExactInt {
			return colExpr{}, false
		}
		return constNum(float64(n.Value)), true
	case *ast.BoolNode:
		v := n.Value
		return colExpr{slot: -1, bool: func(_ *colRun, out []bool) {
			for k := range out {
				out[k] = v
			}
		}}, true
	case *ast.ConstantNode:
		switch v := n.Value.(type) {
		case float64:
			return constNum(v), true
		case bool:
			return cc.compile(&ast.BoolNode{Value: v})
		}
		return colExpr{}, false
	case *ast.IdentifierNode:
		if _, ok := windowSlot(n.Value); ok {
			return colExpr{}, false
		}
		j, ok := cc.slot(n.Value)
		if !ok {
			return colExpr{}, false
		}
		return colExpr{slot: j, num: func(x *colRun, out []float64) { copy(out, x.cols[j]) }}, true
	case *ast.UnaryNode:
		a, ok := cc.compile(n.Node)
		if !ok {
			return colExpr{}, false
		}
		switch n.Operator {
		case "-":
			if a.num != nil {
				o := a.operand()
				return colExpr{slot: -1, num: func(x *colRun, out []float64) {
					mark := x.ftop
					av := o.vals(x)
					for k := range out {
						out[k] = -av[k]
					}
					x.ftop = mark
				}}, true
			}
		case "+":
			if a.num != nil {
				return a, true
			}
		case "!", "not":
			if f := a.bool; f != nil {
				return colExpr{slot: -1, bool: func(x *colRun, out []bool) {
					f(x, out)
					for k := range out {
						out[k] = !out[k]
					}
				}}, true
			}
		}
		return colExpr{}, false
	case *ast.BinaryNode:
		return cc.binary(n)
	case *ast.BuiltinNode:
		return cc.builtin(n)
	}
	return colExpr{}, false
}

func (cc *colCompiler) binary(n *ast.BinaryNode) (colExpr, bool) {
	l, ok1 := cc.compile(n.Left)
	r, ok2 := cc.compile(n.Right)
	if !ok1 || !ok2 {
		return colExpr{}, false
	}
	switch n.Operator {
	case "&&", "and", "||", "or":
		if l.bool == nil || r.bool == nil {
			return colExpr{}, false
		}
		a, b := l.bool, r.bool
		and := n.Operator == "&&" || n.Operator == "and"
		return colExpr{slot: -1, bool: func(x *colRun, out []bool) {
			mark := x.btop
			a(x, out)
			bv := x.takeB()
			b(x, bv)
			if and {
				for k := range out {
					out[k] = out[k] && bv[k]
				}
			} else {
				for k := range out {
					out[k] = out[k] || bv[k]
				}
			}
			x.btop = mark
		}}, true
	}
	if l.num == nil || r.num == nil {
		return colExpr{}, false
	}
	a, b := l.operand(), r.operand()
	arith := func(op func(av, bv, out []float64)) colExpr { return colExpr{slot: -1, num: binaryCol(a, b, op)} }
	cmp := func(op func(av, bv []float64, out []bool)) colExpr {
		return colExpr{slot: -1, bool: binaryCol(a, b, op)}
	}
	switch n.Operator {
	case "+":
		return arith(func(av, bv, out []float64) {
			for k := range out {
				out[k] = av[k] + bv[k]
			}
		}), true
	case "-":
		return arith(func(av, bv, out []float64) {
			for k := range out {
				out[k] = av[k] - bv[k]
			}
		}), true
	case "*":
		return arith(func(av, bv, out []float64) {
			for k := range out {
				out[k] = av[k] * bv[k]
			}
		}), true
	case "/":
		return arith(func(av, bv, out []float64) {
			for k := range out {
				out[k] = av[k] / bv[k]
			}
		}), true
	case "<":
		return cmp(func(av, bv []float64, out []bool) {
			for k := range out {
				out[k] = av[k] < bv[k]
			}
		}), true
	case "<=":
		return cmp(func(av, bv []float64, out []bool) {
			for k := range out {
				out[k] = av[k] <= bv[k]
			}
		}), true
	case ">":
		return cmp(func(av, bv []float64, out []bool) {
			for k := range out {
				out[k] = av[k] > bv[k]
			}
		}), true
	case ">=":
		return cmp(func(av, bv []float64, out []bool) {
			for k := range out {
				out[k] = av[k] >= bv[k]
			}
		}), true
	case "==":
		return cmp(func(av, bv []float64, out []bool) {
			for k := range out {
				out[k] = av[k] == bv[k]
			}
		}), true
	case "!=":
		return cmp(func(av, bv []float64, out []bool) {
			for k := range out {
				out[k] = av[k] != bv[k]
			}
		}), true
	}
	return colExpr{}, false
}

// builtin is min and max of two numbers (the first kept unless the second
// compares strictly beyond it, as compileBuiltin) and abs.
func (cc *colCompiler) builtin(n *ast.BuiltinNode) (colExpr, bool) {
	var ops []colOperand
	for _, a := range n.Arguments {
		c, ok := cc.compile(a)
		if !ok || c.num == nil {
			return colExpr{}, false
		}
		ops = append(ops, c.operand())
	}
	switch {
	case (n.Name == "max" || n.Name == "min") && len(ops) == 2:
		a, b := ops[0], ops[1]
		isMax := n.Name == "max"
		return colExpr{slot: -1, num: func(x *colRun, out []float64) {
			mark := x.ftop
			av := a.vals(x)
			bv := b.vals(x)
			if isMax {
				for k := range out {
					v, w := av[k], bv[k]
					if v < w {
						v = w
					}
					out[k] = v
				}
			} else {
				for k := range out {
					v, w := av[k], bv[k]
					if v > w {
						v = w
					}
					out[k] = v
				}
			}
			x.ftop = mark
		}}, true
	case n.Name == "abs" && len(ops) == 1:
		a := ops[0]
		return colExpr{slot: -1, num: func(x *colRun, out []float64) {
			mark := x.ftop
			av := a.vals(x)
			for k := range out {
				v := av[k]
				if v < 0 {
					v = -v
				}
				out[k] = v
			}
			x.ftop = mark
		}}, true
	}
	return colExpr{}, false
}

// fillLeaves computes the leaves of the run's markets (r) into their
// columns: the names as marketEnv.fill, the parameters' values; score is
// left to the plan.
func (cp *colProgs) fillLeaves(x *colRun, r *leafRun, params []float64) {
	for j := range cp.leaves {
		l := &cp.leaves[j]
		switch {
		case l.col != nil:
			l.col(r, x.cols[j])
		case l.param >= 0:
			v := params[l.param]
			for k := range x.cols[j] {
				x.cols[j][k] = v
			}
		}
	}
}
