package cli

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// docBlocks returns the fenced code blocks of a markdown file whose first
// line is "# NAME" (a file the reader saves), by name.
func docBlocks(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	var cur []string
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "```") && !in:
			in, cur = true, nil
		case strings.HasPrefix(line, "```") && in:
			in = false
			if len(cur) > 0 && strings.HasPrefix(cur[0], "# ") {
				name := strings.TrimSpace(strings.TrimPrefix(cur[0], "# "))
				if regexp.MustCompile(`^[\w.-]+\.ya?ml$`).MatchString(name) {
					out[name] = strings.Join(cur[1:], "\n") + "\n"
				}
			}
		case in:
			cur = append(cur, line)
		}
	}
	return out
}

// TestDocs_DataWorkedExample runs docs/data.md's worked example with the
// files it shows and the real DefiLlama file it describes: import with
// the catalog and the mapping, check, list, then a backtest of a strategy
// that names its catalog, reading the database without --catalog.
func TestDocs_DataWorkedExample(t *testing.T) {
	root := sharedData(t)
	blocks := docBlocks(t, "../docs/data.md")
	dir := t.TempDir()
	for _, name := range []string{"usdc-core.yaml", "usdc-core-map.yaml", "usdc-core-hold.yaml"} {
		b, ok := blocks[name]
		if !ok {
			t.Fatalf("docs/data.md has no block %s", name)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	csv, err := os.ReadFile(filepath.Join(root, "aave-v3-usdc-messari-daily", "dataset_aave_defillama.csv"))
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "aave_usdc.csv")
	if err := os.WriteFile(in, csv, 0o644); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "usdc.db")
	p := func(n string) string { return filepath.Join(dir, n) }
	steps := [][]string{
		{"data", "import", "--db", db, "--catalog", p("usdc-core.yaml"), "--mapping", p("usdc-core-map.yaml"), in},
		{"data", "check", "--db", db, "--market", "aave-v3/usdc-core"},
		{"data", "list", "--db", db},
		{"validate", p("usdc-core-hold.yaml")},
		{"backtest", "--db", db, "-s", p("usdc-core-hold.yaml"), "--out", dir},
	}
	for _, args := range steps {
		code, stdout, stderr := cli(t, args...)
		if code != 0 {
			t.Fatalf("%s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, stdout, stderr)
		}
		if args[0] == "backtest" && !strings.Contains(stdout, "aave-v3/usdc-core") {
			t.Errorf("backtest output does not name the market:\n%s", stdout)
		}
	}
	// The database remembers the market: a command that reads it needs no catalog.
	src := strings.Replace(blocks["usdc-core-hold.yaml"], "catalog: usdc-core.yaml\n", "", 1)
	if err := os.WriteFile(p("no-catalog.yaml"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := cli(t, "plan", "--db", db, "-s", p("no-catalog.yaml")); code != 0 {
		t.Errorf("plan with the database alone: exit %d: %s", code, stderr)
	}
}

// TestDataSynth_ReproducesTheEmbeddedHistory: docs/data.md's data synth
// command (seed 20240101) writes the embedded default history again.
func TestDataSynth_ReproducesTheEmbeddedHistory(t *testing.T) {
	db := filepath.Join(t.TempDir(), "default.db")
	if code, _, stderr := cli(t, "data", "synth", "--db", db, "--scenario", "default", "--from", "2024-01-01", "--to", "2025-01-01", "--step", "6h", "--seed", "20240101"); code != 0 {
		t.Fatalf("data synth: exit %d: %s", code, stderr)
	}
	for _, m := range []string{"lido/steth", "kelp/rseth", "aave-v3/usdc", "curve/steth-eth"} {
		_, embedded, _ := cli(t, "data", "export", "--market", m, "--format", "json")
		_, again, _ := cli(t, "data", "export", "--db", db, "--market", m, "--format", "json")
		if embedded == "" || embedded != again {
			t.Errorf("%s: the regenerated history differs from the embedded one (%d and %d bytes)", m, len(embedded), len(again))
		}
	}
}
