package rules

import (
	"fmt"
	"reflect"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// fileSpec is the YAML shape of a strategy file (docs/strategy-language.md).
type fileSpec struct {
	Name        string             `yaml:"name"`
	Description string             `yaml:"description"`
	Base        string             `yaml:"base"`
	Universe    []string           `yaml:"universe"`
	Params      map[string]float64 `yaml:"params"`
	Rules       rulesSpec          `yaml:"rules"`
	Allocation  allocSpec          `yaml:"allocation"`
	Constraints constraintsSpec    `yaml:"constraints"`
	Rebalance   rebalanceSpec      `yaml:"rebalance"`
	Harvest     harvestSpec        `yaml:"harvest"`
	Exit        exitSpec           `yaml:"exit"`
	// Catalog names a YAML file of extra protocol profiles and markets
	// (the --catalog format), relative to the strategy file.
	Catalog string `yaml:"catalog"`
}

type rulesSpec struct {
	Eligible string `yaml:"eligible"`
	Score    string `yaml:"score"`
	Weight   string `yaml:"weight"`
	Leverage string `yaml:"leverage"`
}

type allocSpec struct {
	Method   string `yaml:"method"`
	K        int    `yaml:"k"`
	Then     string `yaml:"then"`
	Per      string `yaml:"per"`
	Lookback string `yaml:"lookback"`
	Field    string `yaml:"field"`
}

type rebalanceSpec struct {
	Every       string  `yaml:"every"`
	When        string  `yaml:"when"`
	MinTrade    float64 `yaml:"min_trade"`
	MaxGasPrice float64 `yaml:"max_gas_price"`
	// MinGainOverCost is nil when the file does not set it (the vault's
	// default applies).
	MinGainOverCost *float64 `yaml:"min_gain_over_cost"`
}

type harvestSpec struct {
	Every string `yaml:"every"`
	When  string `yaml:"when"`
}

type exitSpec struct {
	When string `yaml:"when"`
}

// doc is a parsed YAML document with the source lines, used to point
// errors at a line and column.
type doc struct {
	file  string
	root  ast.Node
	lines []string
}

// pathKey is a step in a path into the document: a mapping key (string)
// or a sequence index (int).
type pathKey = any

// node returns the node at path, or the deepest node found on the way and
// false.
func (d *doc) node(path ...pathKey) (ast.Node, bool) {
	n := d.root
	for _, k := range path {
		n = unwrap(n)
		switch key := k.(type) {
		case string:
			m, ok := n.(*ast.MappingNode)
			if !ok {
				return n, false
			}
			var next ast.Node
			for _, mv := range m.Values {
				if keyString(mv.Key) == key {
					next = mv.Value
					break
				}
			}
			if next == nil {
				return n, false
			}
			n = next
		case int:
			s, ok := n.(*ast.SequenceNode)
			if !ok || key < 0 || key >= len(s.Values) {
				return n, false
			}
			n = s.Values[key]
		}
	}
	return n, n != nil
}

// keyNode returns the key node of the mapping entry at path (for errors
// about the key itself, such as a parameter's name).
func (d *doc) keyNode(path ...pathKey) (ast.Node, bool) {
	if len(path) == 0 {
		return nil, false
	}
	parent, ok := d.node(path[:len(path)-1]...)
	if !ok {
		return parent, false
	}
	m, ok := unwrap(parent).(*ast.MappingNode)
	name, _ := path[len(path)-1].(string)
	if !ok {
		return parent, false
	}
	for _, mv := range m.Values {
		if keyString(mv.Key) == name {
			return mv.Key, true
		}
	}
	return parent, false
}

// pos returns "file:line:col" for the node at path (the deepest node found
// when the path does not exist, the file start when nothing is found).
func (d *doc) pos(path ...pathKey) string {
	n, _ := d.node(path...)
	return d.nodePos(n)
}

// keyPos is pos for the key of the mapping entry at path.
func (d *doc) keyPos(path ...pathKey) string {
	n, _ := d.keyNode(path...)
	return d.nodePos(n)
}

func (d *doc) nodePos(n ast.Node) string {
	if n == nil {
		return d.file + ":1:1"
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return d.file + ":1:1"
	}
	return fmt.Sprintf("%s:%d:%d", d.file, tk.Position.Line, max(tk.Position.Column, 1))
}

// exprPos maps a position inside the expression at path to the file: line
// and 0-based rune column inside the expression source. Plain and quoted
// single-line scalars are exact (escapes inside quotes aside); block
// literals (|) map each line; folded scalars point at their first line.
func (d *doc) exprPos(e *exprError, src string, path ...pathKey) string {
	n, ok := d.node(path...)
	if !ok || e.off < 0 && e.line == 0 {
		return d.nodePos(n)
	}
	line, col := e.line, e.col
	if line == 0 {
		line, col = lineCol(src, e.off)
	}
	switch v := unwrap(n).(type) {
	case *ast.StringNode:
		tk := v.Token
		if tk == nil || tk.Position == nil {
			return d.nodePos(n)
		}
		if line > 1 || strings.Contains(src, "\n") {
			return d.nodePos(n)
		}
		c := tk.Position.Column + col
		if tk.Type == token.DoubleQuoteType || tk.Type == token.SingleQuoteType {
			c++
		}
		return fmt.Sprintf("%s:%d:%d", d.file, tk.Position.Line, c)
	case *ast.LiteralNode:
		if v.Start == nil || v.Start.Position == nil {
			return d.nodePos(n)
		}
		first := v.Start.Position.Line + 1 // content starts on the next line
		if strings.HasPrefix(v.Start.Value, ">") {
			return fmt.Sprintf("%s:%d:%d", d.file, first, d.indentOf(first)+1)
		}
		l := first + line - 1
		return fmt.Sprintf("%s:%d:%d", d.file, l, d.indentOf(first)+col+1)
	}
	return d.nodePos(n)
}

// indentOf is the number of leading spaces of a 1-based source line.
func (d *doc) indentOf(line int) int {
	if line < 1 || line > len(d.lines) {
		return 0
	}
	s := d.lines[line-1]
	return len(s) - len(strings.TrimLeft(s, " "))
}

// lineCol converts a rune offset of src into a 1-based line and a 0-based
// rune column.
func lineCol(src string, off int) (int, int) {
	line, col, i := 1, 0, 0
	for _, r := range src {
		if i == off {
			break
		}
		if r == '\n' {
			line++
			col = 0
		} else {
			col++
		}
		i++
	}
	return line, col
}

func unwrap(n ast.Node) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.DocumentNode:
			n = v.Body
		default:
			return n
		}
	}
}

// keyString returns a mapping key's text without calling goccy's String
// methods (which can panic on some inputs).
func keyString(k ast.MapKeyNode) string {
	switch v := k.(type) {
	case *ast.StringNode:
		return v.Value
	case *ast.MappingKeyNode:
		if s, ok := v.Value.(*ast.StringNode); ok {
			return s.Value
		}
	}
	if tk := k.GetToken(); tk != nil {
		return tk.Value
	}
	return ""
}

// eachKey calls f for each key of mapping m at path, in order, once per
// key: a merge key (<<) is reported as unsupported and a key given twice
// is reported at its second place; neither reaches f.
func eachKey(d *doc, m *ast.MappingNode, path string, report func(pos, op, msg string, unsupported bool), f func(mv *ast.MappingValueNode, key, sub string)) {
	seen := map[string]bool{}
	for _, mv := range m.Values {
		if mv.Key != nil && mv.Key.IsMergeKey() {
			report(d.nodePos(mv.Key), path, "merge keys (<<) are not supported in strategy files", true)
			continue
		}
		key := keyString(mv.Key)
		sub := joinPath(path, key)
		if seen[key] {
			report(d.nodePos(mv.Key), sub, fmt.Sprintf("key %q is given twice", key), false)
			continue
		}
		seen[key] = true
		f(mv, key, sub)
	}
}

// schemaCheck walks the YAML tree against the Go type it decodes into and
// reports every unknown key (with a suggestion), every anchor, alias, tag
// or merge key (strategy files do not use them), and every key given
// twice. Map-typed fields accept any key; their values are checked
// against the element type.
func schemaCheck(d *doc, n ast.Node, t reflect.Type, path string, report func(pos, op, msg string, unsupported bool)) {
	if n == nil {
		return
	}
	switch v := n.(type) {
	case *ast.AnchorNode, *ast.AliasNode, *ast.TagNode:
		report(d.nodePos(n), path, "anchors, aliases and tags are not supported in strategy files", true)
		return
	case *ast.DocumentNode:
		schemaCheck(d, v.Body, t, path, report)
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := n.(*ast.MappingNode)
		if !ok {
			return // a type mismatch; the decoder reports it
		}
		fields := yamlFields(t)
		names := make([]string, 0, len(fields))
		for k := range fields {
			names = append(names, k)
		}
		sort.Strings(names)
		eachKey(d, m, path, report, func(mv *ast.MappingValueNode, key, sub string) {
			ft, ok := fields[key]
			if !ok {
				where := "at the top level"
				if path != "" {
					where = "in " + path
				}
				report(d.nodePos(mv.Key), sub, fmt.Sprintf("unknown key %q %s%s (known: %s)", key, where, suggest(key, names), strings.Join(names, ", ")), false)
				return
			}
			schemaCheck(d, mv.Value, ft, sub, report)
		})
	case reflect.Map:
		m, ok := n.(*ast.MappingNode)
		if !ok {
			return
		}
		eachKey(d, m, path, report, func(mv *ast.MappingValueNode, _, sub string) {
			schemaCheck(d, mv.Value, t.Elem(), sub, report)
		})
	case reflect.Slice:
		s, ok := n.(*ast.SequenceNode)
		if !ok {
			return
		}
		for i, e := range s.Values {
			schemaCheck(d, e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), report)
		}
	default:
		if _, ok := n.(*ast.MappingNode); ok {
			return // a type mismatch; the decoder reports it
		}
	}
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// yamlFields maps the yaml names of a struct's fields to their types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// splitLines splits data into lines for column lookups.
func splitLines(data []byte) []string {
	if !utf8.Valid(data) {
		return nil
	}
	return strings.Split(string(data), "\n")
}
