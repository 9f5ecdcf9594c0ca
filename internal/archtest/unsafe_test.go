package archtest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// unsafeFiles lists the files that may import unsafe, each with what it
// does with it. None touches another module's types: they read fields of
// their own package's struct at offsets that reflect gives, or take a
// size. (Money never needs it: package fixed converts to and from
// shopspring/decimal through decimal's public API; docs/ARCHITECTURE.md,
// Numbers.)
var unsafeFiles = map[string]string{
	"internal/sqlitex/conn.go":      "unsafe.Sizeof(uintptr(0)) only",
	"strategies/rules/fast.go":      "fields of rules' own marketEnv at reflect's offsets",
	"strategies/rules/window.go":    "fields of rules' own marketEnv at reflect's offsets",
	"strategies/rules/strategy.go":  "fields of rules' own marketEnv at reflect's offsets",
	"strategies/rules/fast_test.go": "tests of those offsets",
	"strategies/rules/env_test.go":  "tests of those offsets",
}

// TestUnsafe fails when a file outside unsafeFiles imports unsafe: a new
// use must be added there with its reason, and must not read another
// module's private fields.
func TestUnsafe(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var found []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == "testdata" || strings.HasPrefix(name, ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == "unsafe" {
				found = append(found, rel)
				if _, ok := unsafeFiles[rel]; !ok {
					t.Errorf("%s imports unsafe: only the files listed in internal/archtest/unsafe_test.go may, each with its reason (never to read another module's private fields)", rel)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(found)
	for rel := range unsafeFiles {
		if i := sort.SearchStrings(found, rel); i == len(found) || found[i] != rel {
			t.Errorf("%s is listed as importing unsafe but does not: drop it from unsafeFiles", rel)
		}
	}
}
