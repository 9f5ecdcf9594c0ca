// Package yamlx decodes YAML strictly and turns decoding errors into
// errors that name the file, line and column. Anchors, aliases and merge
// keys are refused in every file the project reads: an alias expands to
// a copy of its anchor's value at decode time, so a few hundred bytes of
// nested aliases (a "billion laughs" file) decode to gigabytes.
package yamlx

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// MaxBytes bounds the size of a YAML document the project will decode.
const MaxBytes = 4 << 20

// PosError is a decoding error at a place in a file.
type PosError struct {
	File      string
	Line, Col int // 1-based; 0 when unknown
	Msg       string
}

// Pos returns "file:line:col" (or "file" when the line is unknown).
func (e *PosError) Pos() string {
	if e.Line == 0 {
		return e.File
	}
	return fmt.Sprintf("%s:%d:%d", e.File, e.Line, e.Col)
}

func (e *PosError) Error() string { return e.Pos() + ": " + e.Msg }

// Decode decodes data into v. Unknown keys and duplicate keys are errors,
// and so are anchors, aliases and merge keys (see Plain). A returned error
// is a *PosError. The YAML library panics on some malformed inputs (a tag
// on an empty sequence value); Decode recovers and reports those as
// errors.
func Decode(file string, data []byte, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PosError{File: file, Msg: fmt.Sprintf("malformed YAML (%v)", r)}
		}
	}()
	if len(data) > MaxBytes {
		return &PosError{File: file, Msg: fmt.Sprintf("file is larger than %d bytes", MaxBytes)}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return &PosError{File: file, Line: 1, Col: 1, Msg: "empty document"}
	}
	f, err := Parse(data)
	if err != nil {
		return FromError(file, err)
	}
	if pe := Plain(file, f); pe != nil {
		return pe
	}
	if err = yaml.UnmarshalWithOptions(data, v, yaml.Strict()); err == nil {
		return nil
	}
	return FromError(file, err)
}

// Parse parses data into its syntax tree behind recover: the parser must
// not take the caller down on hostile input.
func Parse(data []byte) (f *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("malformed YAML (%v)", r)
		}
	}()
	return parser.ParseBytes(data, 0)
}

// Plain returns an error at the first anchor (&a), alias (*a) or merge
// key (<<) of a parsed file, or nil when it has none. The project's files
// never need them, and refusing them before decoding is what keeps an
// alias bomb from expanding.
func Plain(file string, f *ast.File) *PosError {
	if f == nil {
		return nil
	}
	var found ast.Node
	w := &plainWalker{found: &found}
	for _, d := range f.Docs {
		if d != nil && found == nil {
			ast.Walk(w, d)
		}
	}
	if found == nil {
		return nil
	}
	pe := &PosError{File: file, Msg: UnsupportedMsg(found) + " in this file"}
	if tk := found.GetToken(); tk != nil && tk.Position != nil {
		pe.Line, pe.Col = tk.Position.Line, tk.Position.Column
	}
	return pe
}

// UnsupportedMsg names what is refused at an anchor, alias or merge-key
// node ("anchors and aliases are not supported"), for callers that report
// it in their own words.
func UnsupportedMsg(n ast.Node) string {
	if n != nil && n.Type() == ast.MergeKeyType {
		return "merge keys (<<) are not supported"
	}
	return "anchors and aliases are not supported"
}

// IsUnsupported reports whether n is an anchor, an alias or a merge key.
func IsUnsupported(n ast.Node) bool {
	if n == nil {
		return false
	}
	switch n.Type() {
	case ast.AnchorType, ast.AliasType, ast.MergeKeyType:
		return true
	}
	return false
}

type plainWalker struct{ found *ast.Node }

func (w *plainWalker) Visit(n ast.Node) ast.Visitor {
	if n == nil || *w.found != nil {
		return nil
	}
	if IsUnsupported(n) {
		*w.found = n
		return nil
	}
	return w
}

// FromError converts a go-yaml error into a *PosError with a line and
// column when the error carries them.
func FromError(file string, err error) *PosError {
	var ye yaml.Error
	if errors.As(err, &ye) {
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			return &PosError{File: file, Line: tk.Position.Line, Col: tk.Position.Column, Msg: Plainly(ye.GetMessage())}
		}
		return &PosError{File: file, Msg: Plainly(ye.GetMessage())}
	}
	return &PosError{File: file, Msg: Plainly(err.Error())}
}

var (
	// "cannot unmarshal string into Go struct field fileSpec.Constraints of type float64"
	goField = regexp.MustCompile(`cannot unmarshal (.+?) into Go (?:struct field (\S+)|value) of type (\S+)`)
	// "int was used where mapping is expected"
	usedWhere = regexp.MustCompile(`^(\w+) was used where (\w+) is expected`)
)

// Plainly rewrites the YAML library's type errors in a file author's
// words: the key path in the file's own spelling and the kinds of value
// ("a number", "a list") instead of a Go struct path and Go types.
//
//	cannot unmarshal string into Go struct field fileSpec.Constraints of type float64
//	-> constraints: a number is wanted here, not text
func Plainly(msg string) string {
	if m := goField.FindStringSubmatch(msg); m != nil {
		what := fmt.Sprintf("%s is wanted here, not %s", kindOf(m[3]), kindOf(m[1]))
		if path := keyPath(m[2]); path != "" {
			what = path + ": " + what
		}
		return strings.Replace(msg, m[0], what, 1)
	}
	if m := usedWhere.FindStringSubmatch(msg); m != nil {
		return strings.Replace(msg, m[0], fmt.Sprintf("%s is wanted here, not %s", kindOf(m[2]), kindOf(m[1])), 1)
	}
	return msg
}

// keyPath turns a Go field path ("fileSpec.Constraints.MaxKind") into the
// file's keys ("constraints.max_kind"), the root type left out.
func keyPath(p string) string {
	parts := strings.Split(p, ".")
	if len(parts) < 2 {
		return ""
	}
	out := make([]string, 0, len(parts)-1)
	for _, f := range parts[1:] {
		var b strings.Builder
		for i, r := range f {
			if unicode.IsUpper(r) {
				if i > 0 {
					b.WriteByte('_')
				}
				r = unicode.ToLower(r)
			}
			b.WriteRune(r)
		}
		out = append(out, b.String())
	}
	return strings.Join(out, ".")
}

// kindOf names a Go or YAML type as a kind of value.
func kindOf(t string) string {
	switch {
	case strings.HasPrefix(t, "[]"), t == "sequence", t == "array":
		return "a list"
	case strings.HasPrefix(t, "map"), t == "mapping", t == "object":
		return "a mapping (key: value)"
	case t == "string":
		return "text"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "float"), strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"), t == "number":
		return "a number"
	case t == "null":
		return "nothing"
	}
	return "a " + strings.TrimLeft(t, "*")
}

// Pos is "file:line:col" of the node at a YAML path ("$.markets[2].driver")
// in a parsed file, or "" when the file or the path has none.
func Pos(file string, f *ast.File, path string) string {
	if f == nil {
		return ""
	}
	yp, err := yaml.PathString(path)
	if err != nil {
		return ""
	}
	n, err := yp.FilterFile(f)
	if err != nil || n == nil {
		return ""
	}
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return fmt.Sprintf("%s:%d:%d", file, tk.Position.Line, tk.Position.Column)
	}
	return ""
}
