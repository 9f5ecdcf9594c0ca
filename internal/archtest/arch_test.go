// Package archtest checks that imports run one way through the layers that
// docs/ARCHITECTURE.md describes: adapters <- strategies <- vault <-
// backtest <- cli <- cmd, with the service beside backtest (both
// applications of vault), the CLI package over both and the helpers under
// internal/.
package archtest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/yieldvault/yieldvault"

// forbidden lists, per package path prefix (relative to the module), the
// import path prefixes its non-test files must not import.
var forbidden = []struct {
	pkg    string
	banned []string
}{
	{"adapters", []string{module + "/strategies", module + "/vault", module + "/backtest", module + "/cmd", module + "/cli", module + "/service", "net/http", "github.com/robfig/cron"}},
	{"strategies", []string{module + "/vault", module + "/backtest", module + "/cmd", module + "/cli", module + "/service", "net/http"}},
	{"vault", []string{module + "/backtest", module + "/cmd", module + "/cli", module + "/service", "net/http"}},
	{"backtest", []string{module + "/cmd", module + "/cli", module + "/service", "net/http"}},
	{"service", []string{module + "/cmd", module + "/cli", module + "/backtest"}},
	{"internal", []string{module + "/adapters", module + "/strategies", module + "/vault", module + "/backtest", module + "/service", module + "/cmd", module + "/cli"}},
	{"internal/decfast", []string{module + "/"}},
	{"internal/yamlx", []string{module + "/"}},
	{"internal/sqlitex", []string{module + "/"}},
	{"internal/timefmt", []string{module + "/"}},
}

// noCronRunner lists packages that may use cron's schedule parser but
// never start its runner (cron.New).
var noCronRunner = []string{"adapters", "strategies", "vault", "backtest"}

func TestLayers(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
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
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, path, src, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, rule := range forbidden {
			if rel != rule.pkg && !strings.HasPrefix(rel, rule.pkg+"/") {
				continue
			}
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				for _, b := range rule.banned {
					if p == b || strings.HasPrefix(p, strings.TrimSuffix(b, "/")+"/") || (strings.HasSuffix(b, "/") && strings.HasPrefix(p, b)) {
						t.Errorf("%s imports %s: %s must not import %s", filepath.ToSlash(strings.TrimPrefix(path, root+"/")), p, rule.pkg, b)
					}
				}
			}
		}
		if rel == "cmd" || strings.HasPrefix(rel, "cmd/") {
			// A main is a few lines over the CLI package: of the module it
			// imports cli, and registering packages only for their init.
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				if strings.HasPrefix(p, module+"/") && p != module+"/cli" && (imp.Name == nil || imp.Name.Name != "_") {
					t.Errorf("%s imports %s: a main imports only %s/cli (and blank imports of registering packages)", filepath.ToSlash(strings.TrimPrefix(path, root+"/")), p, module)
				}
			}
		}
		for _, pkg := range noCronRunner {
			if (rel == pkg || strings.HasPrefix(rel, pkg+"/")) && strings.Contains(string(src), "cron.New(") {
				t.Errorf("%s starts cron's runner (cron.New): only cmd, cli and service may", filepath.ToSlash(strings.TrimPrefix(path, root+"/")))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("checked only %d files: is the module root right?", checked)
	}
}
