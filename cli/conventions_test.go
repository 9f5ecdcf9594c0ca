package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cliIn runs the CLI in-process with stdin and a context.
func cliIn(t *testing.T, ctx context.Context, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(ctx, args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// TestErrors_InTheUsersWords: no Go operation names or struct paths in
// what the CLI prints.
func TestErrors_InTheUsersWords(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: x\nbase: ETH\nuniverse: [lido/steth]\nrules: { score: apy }\nconstraints: { max_weight: \"abc\" }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	csv := filepath.Join(dir, "f.csv")
	if err := os.WriteFile(csv, []byte("a,b\n1,2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown parameter", []string{"backtest", "-s", exampleStrategy, "--param", "nope=1", "--out", dir}, `unknown parameter "nope"`},
		{"sweep unknown parameter", []string{"sweep", "-s", exampleStrategy, "--param", "nope=1,2", "--out", dir}, `unknown parameter "nope"`},
		{"wrong type", []string{"validate", bad}, `constraints.max_weight: "abc" is not a number or params.NAME`},
		{"unknown CSV", []string{"data", "import", "--db", filepath.Join(dir, "h.db"), csv}, "no importer recognises this CSV header"},
		{"missing file", []string{"backtest", "-s", filepath.Join(dir, "nope.yaml")}, "nope.yaml: no such file or directory"},
	}
	goNames := []string{"rules.Load", "rules.Strategy", "importers.Import", "backtest.Sweep", "backtest.Run", "Go struct", "fileSpec", "float64"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := cli(t, tt.args...)
			if code == 0 {
				t.Fatalf("exit 0, want a failure")
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %q does not say %q", stderr, tt.want)
			}
			for _, g := range goNames {
				if strings.Contains(stderr, g) {
					t.Errorf("stderr %q names Go code (%s)", stderr, g)
				}
			}
		})
	}
}

// TestStdin: "-" reads standard input where a file is expected.
func TestStdin(t *testing.T) {
	src, err := os.ReadFile(exampleStrategy)
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := cliIn(t, context.Background(), string(src), "validate", "-")
	if code != 0 || !strings.Contains(stdout, "-: ok: lst-lrt-balanced") {
		t.Errorf("validate -: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, stdout, stderr = cliIn(t, context.Background(), string(src), "plan", "-s", "-")
	if code != 0 || !strings.Contains(stdout, "lido/steth") {
		t.Errorf("plan -s -: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	// A strategy error read from stdin names "stdin".
	code, _, stderr = cliIn(t, context.Background(), "name: x\nbase: ETH\nuniverse: [lido/steth]\nrules: { score: apyy }\n", "validate", "-")
	if code == 0 || !strings.Contains(stderr, "stdin:4:") {
		t.Errorf("validate - of a bad file: exit %d, stderr %q: want an error at stdin:4", code, stderr)
	}
	// data export | data import - : the native CSV through a pipe.
	dir := t.TempDir()
	code, exported, stderr := cli(t, "data", "export", "--market", "lido/steth", "--format", "csv")
	if code != 0 {
		t.Skipf("data export: exit %d: %s", code, stderr)
	}
	db := filepath.Join(dir, "h.db")
	code, stdout, stderr = cliIn(t, context.Background(), exported, "data", "import", "--db", db, "-")
	if code != 0 || !strings.Contains(stdout, "stdin:") {
		t.Errorf("data import -: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestInterrupt: a cancelled context (Ctrl-C) exits 130; an interrupted
// sweep says that running it again resumes.
func TestInterrupt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	code, _, stderr := cliIn(t, ctx, "", "backtest", "-s", exampleStrategy, "--out", t.TempDir())
	if code != ExitInterrupted {
		t.Errorf("backtest interrupted: exit %d (%s), want %d", code, stderr, ExitInterrupted)
	}
	code, _, stderr = cliIn(t, ctx, "", "sweep", "-s", exampleStrategy, "--param", "min_peg=0.98,0.99", "--out", t.TempDir(), "-j", "1")
	if code != ExitInterrupted || !strings.Contains(stderr, "run the same command again to resume") {
		t.Errorf("sweep interrupted: exit %d, stderr %q: want %d and how to resume", code, stderr, ExitInterrupted)
	}
}

// TestEnvironment: YIELDVAULT_DB and YIELDVAULT_CATALOG give --db and
// --catalog their defaults.
func TestEnvironment(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "env.db")
	t.Setenv(EnvDB, db)
	code, _, stderr := cli(t, "data", "synth", "--from", "2024-01-01", "--to", "2024-01-10", "--market", "lido/steth")
	if code != 0 {
		t.Fatalf("data synth with %s set: exit %d: %s", EnvDB, code, stderr)
	}
	if _, err := os.Stat(db); err != nil {
		t.Errorf("%s=%s: the database was not written there: %v", EnvDB, db, err)
	}
	cat := filepath.Join(dir, "missing-catalog.yaml")
	t.Setenv(EnvCatalog, cat)
	code, _, stderr = cli(t, "markets")
	if code == 0 || !strings.Contains(stderr, "missing-catalog.yaml") {
		t.Errorf("%s=%s: exit %d, stderr %q: want the catalog read (and missing)", EnvCatalog, cat, code, stderr)
	}
}

// TestDataExport_RoundTrip: every export format imports back into a new
// database, and exporting that gives the same bytes (events included in
// JSON).
func TestDataExport_RoundTrip(t *testing.T) {
	for _, format := range []string{"csv", "json"} {
		for _, market := range []string{"lido/steth", "kelp/rseth"} {
			t.Run(format+" "+market, func(t *testing.T) {
				dir := t.TempDir()
				code, first, stderr := cli(t, "data", "export", "--market", market, "--format", format)
				if code != 0 {
					t.Fatalf("export: exit %d: %s", code, stderr)
				}
				file := filepath.Join(dir, "export."+format)
				if err := os.WriteFile(file, []byte(first), 0o644); err != nil {
					t.Fatal(err)
				}
				db := filepath.Join(dir, "h.db")
				if code, _, stderr := cli(t, "data", "import", "--db", db, file); code != 0 {
					t.Fatalf("import of the export: exit %d: %s", code, stderr)
				}
				code, second, stderr := cli(t, "data", "export", "--db", db, "--market", market, "--format", format)
				if code != 0 {
					t.Fatalf("export again: exit %d: %s", code, stderr)
				}
				if first != second {
					t.Errorf("the round trip changed the export (%d bytes, then %d)", len(first), len(second))
				}
			})
		}
	}
	// The events of kelp/rseth travel in JSON.
	_, out, _ := cli(t, "data", "export", "--market", "kelp/rseth", "--format", "json")
	if !strings.Contains(out, `"events":[{`) {
		t.Errorf("kelp/rseth's JSON export carries no event; the test would not check events")
	}
}

// TestPlan_Explain: --explain prints the value of every input each
// market's rules read; a rule that reads a field the market's data lacks
// gets a note instead of a silent 0; long reasons wrap.
func TestPlan_Explain(t *testing.T) {
	code, out, stderr := cli(t, "plan", "-s", exampleStrategy, "--at", "2024-06-01", "--explain")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"inputs:", "lido/steth: ", "peg=", "params.min_peg=0.99", `min(peg, "24h")=`} {
		if !strings.Contains(out, want) {
			t.Errorf("plan --explain lacks %q:\n%s", want, out)
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if len(l) > 100 {
			t.Errorf("line of %d characters (want the output wrapped to 100 off a terminal): %q", len(l), l)
		}
	}
	root := sharedData(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "h.db")
	if code, _, stderr := cli(t, "data", "import", "--db", db, filepath.Join(root, "reth-exchange-rate")); code != 0 {
		t.Fatalf("import: exit %d: %s", code, stderr)
	}
	strat := filepath.Join(dir, "s.yaml")
	src := "name: s\nbase: ETH\nuniverse: [rocketpool/reth]\nparams: { min_tvl: 50e6 }\nrules: { eligible: tvl > params.min_tvl, score: net_apy }\n"
	if err := os.WriteFile(strat, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, stderr = cli(t, "plan", "--db", db, "-s", strat, "--at", "2023-06-01", "--explain")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "the rules read tvl, which its data does not have") || !strings.Contains(out, "tvl=0(no data)") {
		t.Errorf("no note about the missing tvl:\n%s", out)
	}
}

// TestCompletion: flag values complete (the shell scripts call
// __complete); the completion command writes a script.
func TestCompletion(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "backtest", "--pricing", ""}, []string{"rate", "market"}},
		{[]string{"__complete", "sweep", "--objective", ""}, []string{"apy", "sharpe", "max_drawdown"}},
		{[]string{"__complete", "data", "synth", "--scenario", ""}, []string{"steth-2022", "calm"}},
		{[]string{"__complete", "data", "export", "--market", ""}, []string{"lido/steth", "aave-v3/weth"}},
		{[]string{"__complete", "data", "export", "--format", ""}, []string{"csv", "json"}},
		{[]string{"__complete", "backtest", "-s", "go"}, []string{"go:max-yield", "go:hold"}},
		{[]string{"__complete", "plan", "--universe", ""}, []string{"lido/steth", "aave-v3/weth"}},
		{[]string{"__complete", "plan", "-s", "ex"}, []string{"yaml", "yml"}},
	}
	for _, tt := range tests {
		code, out, stderr := cli(t, tt.args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tt.args, code, stderr)
		}
		lines := strings.Split(out, "\n")
		for _, w := range tt.want {
			found := false
			for _, l := range lines {
				found = found || l == w
			}
			if !found {
				t.Errorf("%v: completions %q lack %q", tt.args, out, w)
			}
		}
	}
	code, out, _ := cli(t, "completion", "bash")
	if code != 0 || !strings.Contains(out, "yieldvault") {
		t.Errorf("completion bash: exit %d, %d bytes", code, len(out))
	}
}
