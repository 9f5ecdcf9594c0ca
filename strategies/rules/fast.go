package rules

import (
	"math"
	"reflect"
	"strconv"
	"strings"
	"unsafe"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// Fast evaluation of per-market rules.
//
// Most rules are arithmetic and comparisons over the float names of the
// market environment. expr's VM runs them by reflection, boxing every
// float it loads; compileFast turns the checked, patched and optimised
// tree of such a rule into a tree of Go closures over *marketEnv that
// computes the same values with no allocation. It accepts a subset of the
// language whose semantics it reproduces exactly (the same IEEE operations
// in the same order, expr's argument order for min and max); anything else
// (let, calls, members, predicates, int arithmetic, ...) keeps the VM. A
// test runs every rule of the fuzz corpus both ways and compares results
// bit for bit.

// numFn, boolFn and strFn are compiled rule fragments.
type (
	numFn  func(e *marketEnv) float64
	boolFn func(e *marketEnv) bool
	strFn  func(e *marketEnv) string
)

// fastExpr is a compiled fragment: exactly one of num, bool and str is
// set. mayInt says the VM could return an int for it (an integer literal
// chosen by min, max or a conditional): the value is the same, its type is
// not, which matters only for an untyped result.
type fastExpr struct {
	num    numFn
	bool   boolFn
	str    strFn
	mayInt bool
	// leaf says that num is a constant (c) or reads a plain float field of
	// the environment (at off), which an operator over it reads in place
	// instead of calling num (operand).
	leaf leafKind
	c    float64
	off  uintptr
}

// leafKind is what a numeric fragment is to the operators over it.
type leafKind uint8

const (
	leafNone  leafKind = iota // a computation: call num
	leafConst                 // the constant c
	leafField                 // the float field at off
)

// operand is a numeric operand as an operator reads it: a constant or a
// plain field in place, else by calling its closure. Most operands of
// rules are names and literals (peg >= params.min_peg, 1 - peg), whose
// closure call cost more than the operation.
type operand struct {
	leaf leafKind
	c    float64
	off  uintptr
	f    numFn
}

func operandOf(x fastExpr) operand { return operand{leaf: x.leaf, c: x.c, off: x.off, f: x.num} }

// get is the operand's value in e: the value of its closure, read in
// place for a leaf.
func (o *operand) get(e *marketEnv) float64 {
	switch o.leaf {
	case leafConst:
		return o.c
	case leafField:
		return *(*float64)(unsafe.Add(unsafe.Pointer(e), o.off))
	}
	return o.f(e)
}

// envFloatOffsets and envStringOffsets map a marketEnv expr name to its
// field's offset, for the fields of those types, promoted ones (the
// embedded parameter slots) included, as expr sees them.
var envFloatOffsets, envStringOffsets = func() (map[string]uintptr, map[string]uintptr) {
	f, s := map[string]uintptr{}, map[string]uintptr{}
	t := reflect.TypeOf(marketEnv{})
	for _, sf := range reflect.VisibleFields(t) {
		name := sf.Tag.Get("expr")
		off, ok := fieldOffset(t, sf.Index)
		if name == "" || !ok {
			continue
		}
		switch sf.Type.Kind() {
		case reflect.Float64:
			f[name] = off
		case reflect.String:
			s[name] = off
		}
	}
	return f, s
}()

// fieldOffset returns the offset in struct type t of the field at index, a
// path through structs embedded by value (reflect gives a promoted field's
// offset within its own struct); false through an embedded pointer.
func fieldOffset(t reflect.Type, index []int) (uintptr, bool) {
	var off uintptr
	for _, i := range index {
		if t.Kind() != reflect.Struct {
			return 0, false
		}
		sf := t.Field(i)
		off += sf.Offset
		t = sf.Type
	}
	return off, true
}

// floatField returns a closure reading the float64 field at off.
func floatField(off uintptr) numFn {
	return func(e *marketEnv) float64 { return *(*float64)(unsafe.Add(unsafe.Pointer(e), off)) }
}

// windowSlot returns the window id of a window slot's name (__w3: 3).
func windowSlot(name string) (int, bool) {
	d, ok := strings.CutPrefix(name, windowsIdent)
	if !ok {
		return 0, false
	}
	wi, err := strconv.Atoi(d)
	if err != nil || wi < 0 || wi >= MaxWindows {
		return 0, false
	}
	return wi, true
}

// windowSlotField returns a closure reading window wi's slot at off, the
// window computed first when the environment's plan context has not yet
// (marketEnv.lazy): a window costs only where a rule reaches it.
func windowSlotField(wi int, off uintptr) numFn {
	return func(e *marketEnv) float64 {
		if pc := e.lazy; pc != nil && !pc.have[wi] {
			pc.window(wi)
		}
		return *(*float64)(unsafe.Add(unsafe.Pointer(e), off))
	}
}

func stringField(off uintptr) strFn {
	return func(e *marketEnv) string { return *(*string)(unsafe.Add(unsafe.Pointer(e), off)) }
}

// fastBool compiles a typed boolean rule; nil when the rule is outside the
// fast subset.
func fastBool(p *vm.Program) boolFn {
	if p == nil {
		return nil
	}
	fe, ok := compileFast(p.Node())
	if !ok || fe.bool == nil {
		return nil
	}
	return fe.bool
}

// fastNum compiles a numeric rule. typed says the program casts its
// result to float64 (expr.AsFloat64); an untyped one is accepted only when
// the VM could not return an int.
func fastNum(p *vm.Program, typed bool) numFn {
	if p == nil {
		return nil
	}
	fe, ok := compileFast(p.Node())
	if !ok || fe.num == nil || (!typed && fe.mayInt) {
		return nil
	}
	return fe.num
}

const maxExactInt = 1 << 53

func compileFast(n ast.Node) (fastExpr, bool) {
	switch n := n.(type) {
	case *ast.FloatNode:
		v := n.Value
		return fastExpr{num: func(*marketEnv) float64 { return v }, leaf: leafConst, c: v}, true
	case *ast.IntegerNode:
		if n.Value > maxExactInt || n.Value < -maxExactInt {
			return fastExpr{}, false
		}
		v := float64(n.Value)
		return fastExpr{num: func(*marketEnv) float64 { return v }, mayInt: true, leaf: leafConst, c: v}, true
	case *ast.BoolNode:
		v := n.Value
		return fastExpr{bool: func(*marketEnv) bool { return v }}, true
	case *ast.StringNode:
		v := n.Value
		return fastExpr{str: func(*marketEnv) string { return v }}, true
	case *ast.ConstantNode:
		switch v := n.Value.(type) {
		case float64:
			return fastExpr{num: func(*marketEnv) float64 { return v }, leaf: leafConst, c: v}, true
		case bool:
			return fastExpr{bool: func(*marketEnv) bool { return v }}, true
		case string:
			return fastExpr{str: func(*marketEnv) string { return v }}, true
		}
		return fastExpr{}, false
	case *ast.IdentifierNode:
		if wi, ok := windowSlot(n.Value); ok {
			return fastExpr{num: windowSlotField(wi, envFloatOffsets[n.Value])}, true
		}
		if off, ok := envFloatOffsets[n.Value]; ok {
			return fastExpr{num: floatField(off), leaf: leafField, off: off}, true
		}
		if off, ok := envStringOffsets[n.Value]; ok {
			return fastExpr{str: stringField(off)}, true
		}
		return fastExpr{}, false
	case *ast.UnaryNode:
		x, ok := compileFast(n.Node)
		if !ok {
			return fastExpr{}, false
		}
		switch n.Operator {
		case "-":
			if f := x.num; f != nil && !x.mayInt {
				return fastExpr{num: func(e *marketEnv) float64 { return -f(e) }}, true
			}
		case "+":
			if x.num != nil && !x.mayInt {
				return x, true
			}
		case "!", "not":
			if f := x.bool; f != nil {
				return fastExpr{bool: func(e *marketEnv) bool { return !f(e) }}, true
			}
		}
		return fastExpr{}, false
	case *ast.BinaryNode:
		return compileBinary(n)
	case *ast.ConditionalNode:
		c, ok1 := compileFast(n.Cond)
		a, ok2 := compileFast(n.Exp1)
		b, ok3 := compileFast(n.Exp2)
		if !ok1 || !ok2 || !ok3 || c.bool == nil {
			return fastExpr{}, false
		}
		cond := c.bool
		switch {
		case a.num != nil && b.num != nil:
			fa, fb := a.num, b.num
			return fastExpr{num: func(e *marketEnv) float64 {
				if cond(e) {
					return fa(e)
				}
				return fb(e)
			}, mayInt: a.mayInt || b.mayInt}, true
		case a.bool != nil && b.bool != nil:
			fa, fb := a.bool, b.bool
			return fastExpr{bool: func(e *marketEnv) bool {
				if cond(e) {
					return fa(e)
				}
				return fb(e)
			}}, true
		}
		return fastExpr{}, false
	case *ast.BuiltinNode:
		return compileBuiltin(n)
	}
	return fastExpr{}, false
}

func compileBinary(n *ast.BinaryNode) (fastExpr, bool) {
	if n.Operator == "in" {
		// has_tag(x), rewritten to x in tags.
		l, ok := compileFast(n.Left)
		id, isID := n.Right.(*ast.IdentifierNode)
		if !ok || l.str == nil || !isID || id.Value != "tags" {
			return fastExpr{}, false
		}
		s := l.str
		return fastExpr{bool: func(e *marketEnv) bool {
			x := s(e)
			for _, t := range e.Tags {
				if t == x {
					return true
				}
			}
			return false
		}}, true
	}
	l, ok1 := compileFast(n.Left)
	r, ok2 := compileFast(n.Right)
	if !ok1 || !ok2 {
		return fastExpr{}, false
	}
	switch n.Operator {
	case "&&", "and", "||", "or":
		if l.bool == nil || r.bool == nil {
			return fastExpr{}, false
		}
		a, b := l.bool, r.bool
		if n.Operator == "&&" || n.Operator == "and" {
			return fastExpr{bool: func(e *marketEnv) bool { return a(e) && b(e) }}, true
		}
		return fastExpr{bool: func(e *marketEnv) bool { return a(e) || b(e) }}, true
	}
	if l.str != nil && r.str != nil {
		a, b := l.str, r.str
		switch n.Operator {
		case "==":
			return fastExpr{bool: func(e *marketEnv) bool { return a(e) == b(e) }}, true
		case "!=":
			return fastExpr{bool: func(e *marketEnv) bool { return a(e) != b(e) }}, true
		}
		return fastExpr{}, false
	}
	if l.num == nil || r.num == nil {
		return fastExpr{}, false
	}
	// Integer operands are converted to float64 by expr's runtime when the
	// other side is a float; two int operands would use int arithmetic,
	// which the fast path does not model (the optimiser folds literals).
	_, lint := n.Left.(*ast.IntegerNode)
	_, rint := n.Right.(*ast.IntegerNode)
	if (l.mayInt || lint) && (r.mayInt || rint) && n.Operator != "/" {
		return fastExpr{}, false
	}
	// The operands are read in place where they are names or literals
	// (operand.get), in the same order: left, then right.
	a, b := operandOf(l), operandOf(r)
	switch n.Operator {
	case "+":
		return fastExpr{num: func(e *marketEnv) float64 { return a.get(e) + b.get(e) }}, true
	case "-":
		return fastExpr{num: func(e *marketEnv) float64 { return a.get(e) - b.get(e) }}, true
	case "*":
		return fastExpr{num: func(e *marketEnv) float64 { return a.get(e) * b.get(e) }}, true
	case "/":
		return fastExpr{num: func(e *marketEnv) float64 { return a.get(e) / b.get(e) }}, true
	case "**", "^":
		return fastExpr{num: func(e *marketEnv) float64 { return math.Pow(a.get(e), b.get(e)) }}, true
	case "<":
		return fastExpr{bool: func(e *marketEnv) bool { return a.get(e) < b.get(e) }}, true
	case "<=":
		return fastExpr{bool: func(e *marketEnv) bool { return a.get(e) <= b.get(e) }}, true
	case ">":
		return fastExpr{bool: func(e *marketEnv) bool { return a.get(e) > b.get(e) }}, true
	case ">=":
		return fastExpr{bool: func(e *marketEnv) bool { return a.get(e) >= b.get(e) }}, true
	case "==":
		return fastExpr{bool: func(e *marketEnv) bool { return a.get(e) == b.get(e) }}, true
	case "!=":
		return fastExpr{bool: func(e *marketEnv) bool { return a.get(e) != b.get(e) }}, true
	}
	return fastExpr{}, false
}

// compileBuiltin handles min, max (expr keeps the first argument unless a
// later one compares strictly beyond it: NaN handling follows from that)
// and abs of numbers.
func compileBuiltin(n *ast.BuiltinNode) (fastExpr, bool) {
	var args []numFn
	var ops []operand
	mayInt := false
	for _, a := range n.Arguments {
		x, ok := compileFast(a)
		if !ok || x.num == nil {
			return fastExpr{}, false
		}
		args = append(args, x.num)
		ops = append(ops, operandOf(x))
		mayInt = mayInt || x.mayInt
	}
	switch {
	case (n.Name == "max" || n.Name == "min") && len(args) == 2:
		a, b := ops[0], ops[1]
		if n.Name == "max" {
			return fastExpr{num: func(e *marketEnv) float64 {
				x, y := a.get(e), b.get(e)
				if x < y {
					return y
				}
				return x
			}, mayInt: mayInt}, true
		}
		return fastExpr{num: func(e *marketEnv) float64 {
			x, y := a.get(e), b.get(e)
			if x > y {
				return y
			}
			return x
		}, mayInt: mayInt}, true
	case (n.Name == "max" || n.Name == "min") && len(args) > 2:
		max := n.Name == "max"
		return fastExpr{num: func(e *marketEnv) float64 {
			v := args[0](e)
			for _, f := range args[1:] {
				x := f(e)
				if (max && v < x) || (!max && v > x) {
					v = x
				}
			}
			return v
		}, mayInt: mayInt}, true
	case n.Name == "abs" && len(args) == 1 && !mayInt:
		f := args[0]
		return fastExpr{num: func(e *marketEnv) float64 {
			x := f(e)
			if x < 0 {
				return -x
			}
			return x
		}}, true
	}
	return fastExpr{}, false
}
