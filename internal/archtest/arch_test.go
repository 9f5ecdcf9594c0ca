// Package archtest checks that imports run one way through the layers that
// docs/ARCHITECTURE.md describes: adapters <- strategies <- vault <-
// backtest <- cli <- cmd, with the service beside backtest (both
// applications of vault) and the execution layer (on-chain calls, the
// only importer of go-ethereum) beside them for the service, the CLI
// package over all and the helpers under internal/.
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

const goEthereum = "github.com/ethereum/go-ethereum"

// forbidden lists, per package path prefix (relative to the module), the
// import path prefixes its non-test files must not import.
var forbidden = []struct {
	pkg    string
	banned []string
}{
	{"adapters", []string{module + "/execution", module + "/strategies", module + "/vault", module + "/backtest", module + "/cmd", module + "/cli", module + "/service", "net/http", "github.com/robfig/cron"}},
	{"strategies", []string{module + "/execution", module + "/vault", module + "/backtest", module + "/cmd", module + "/cli", module + "/service", "net/http"}},
	{"vault", []string{module + "/execution", module + "/backtest", module + "/cmd", module + "/cli", module + "/service", "net/http"}},
	{"backtest", []string{module + "/execution", module + "/cmd", module + "/cli", module + "/service", "net/http"}},
	{"service", []string{module + "/cmd", module + "/cli", module + "/backtest"}},
	{"execution", []string{module + "/cmd", module + "/cli", module + "/backtest", module + "/service", "net/http"}},
	{"internal", []string{module + "/execution", module + "/adapters", module + "/strategies", module + "/vault", module + "/backtest", module + "/service", module + "/cmd", module + "/cli"}},
	{"fixed", []string{module + "/"}},
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
		if rel != "execution" && !strings.HasPrefix(rel, "execution/") {
			// go-ethereum is heavy to compile (more so under -race): only
			// the execution layer imports it.
			for _, imp := range f.Imports {
				if p, _ := strconv.Unquote(imp.Path.Value); strings.HasPrefix(p, goEthereum) {
					t.Errorf("%s imports %s: only execution imports go-ethereum", filepath.ToSlash(strings.TrimPrefix(path, root+"/")), p)
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
