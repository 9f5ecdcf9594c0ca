package yamlx

import (
	"errors"
	"strings"
	"testing"
)

type doc struct {
	Name  string            `yaml:"name"`
	Items []int             `yaml:"items"`
	Meta  map[string]string `yaml:"meta"`
}

func TestDecode(t *testing.T) {
	var d doc
	if err := Decode("ok.yaml", []byte("name: x\nitems: [1, 2]\n"), &d); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if d.Name != "x" || len(d.Items) != 2 {
		t.Errorf("decoded %+v", d)
	}
	tests := []struct {
		name, in, wantPos, wantMsg string
	}{
		{"unknown key", "name: x\nitemz: [1]\n", "f.yaml:2:1", "itemz"},
		{"type error", "name: x\nitems: [a]\n", "f.yaml:2:", "items: a number is wanted here"},
		{"syntax", "name: [x\n", "f.yaml:", ""},
		{"empty", "  \n", "f.yaml:1:1", "empty document"},
		{"duplicate key", "name: x\nname: y\n", "f.yaml:2:", "name"},
		{"tag on empty value", "items: !!seq\n", "f.yaml", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d doc
			err := Decode("f.yaml", []byte(tt.in), &d)
			var pe *PosError
			if !errors.As(err, &pe) {
				t.Fatalf("Decode error %v is not a *PosError", err)
			}
			if !strings.HasPrefix(pe.Pos(), tt.wantPos) {
				t.Errorf("Pos() = %q, want prefix %q", pe.Pos(), tt.wantPos)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not mention %q", err, tt.wantMsg)
			}
		})
	}
}

func TestDecode_TooLarge(t *testing.T) {
	var d doc
	err := Decode("big.yaml", make([]byte, MaxBytes+1), &d)
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("Decode of an oversized file: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add("name: x\nitems: [1]\n")
	f.Add("meta: {a: b}\n")
	f.Add("items: !!seq\n")
	f.Add("name: &n x\nmeta: {a: *n}\n")
	f.Add("meta:\n  <<: {a: b}\n")
	f.Add("items: &a [1, 2]\nmeta: &b {x: *a}\n")
	f.Fuzz(func(t *testing.T, in string) {
		var d doc
		_ = Decode("fuzz.yaml", []byte(in), &d) // must not panic
	})
}

// TestDecode_Aliases: anchors, aliases and merge keys are refused at
// their place, before anything is decoded; an alias bomb (nine levels of
// nine aliases, about 400 bytes, 387 million strings once expanded) is
// refused at once without expanding.
func TestDecode_Aliases(t *testing.T) {
	bomb := "a: &a [x, x, x, x, x, x, x, x, x]\n"
	for i, prev := 1, "a"; i < 9; i++ {
		name := string(rune('a' + i))
		bomb += name + ": &" + name + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n"
		prev = name
	}
	tests := []struct {
		name, in, wantPos, wantMsg string
	}{
		{"anchor", "name: &n x\n", "f.yaml:1:7", "anchors and aliases are not supported"},
		{"alias", "meta: {a: b}\nname: *n\n", "f.yaml:2:7", "anchors and aliases are not supported"},
		{"merge key", "meta:\n  <<: {a: b}\n", "f.yaml:2:3", "merge keys (<<) are not supported"},
		{"alias bomb", bomb, "f.yaml:1:4", "anchors and aliases are not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d map[string]any
			err := Decode("f.yaml", []byte(tt.in), &d)
			var pe *PosError
			if !errors.As(err, &pe) {
				t.Fatalf("Decode = %v, want a *PosError", err)
			}
			if pe.Pos() != tt.wantPos || !strings.Contains(pe.Msg, tt.wantMsg) {
				t.Errorf("Decode = %q at %s, want %q at %s", pe.Msg, pe.Pos(), tt.wantMsg, tt.wantPos)
			}
			if d != nil {
				t.Errorf("decoded %d keys from a refused file", len(d))
			}
		})
	}
}

func TestPlainly(t *testing.T) {
	tests := []struct{ in, want string }{
		{"cannot unmarshal string into Go struct field fileSpec.Constraints of type float64", "constraints: a number is wanted here, not text"},
		{"cannot unmarshal []interface {} into Go struct field fileSpec.Constraints.MaxKind of type float64", "constraints.max_kind: a number is wanted here, not a list"},
		{"int was used where mapping is expected", "a mapping (key: value) is wanted here, not a number"},
		{"sequence was used where mapping is expected", "a mapping (key: value) is wanted here, not a list"},
		{"unknown field \"foo\"", "unknown field \"foo\""},
	}
	for _, tt := range tests {
		if got := Plainly(tt.in); got != tt.want {
			t.Errorf("Plainly(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
