package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMonteCarlo_CLI(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"montecarlo", "--scenario", "calm"}, "-s FILE"},
		{[]string{"montecarlo", "-s", exampleStrategy, "--scenario", "apocalypse"}, `--scenario "apocalypse" is not a scenario`},
		{[]string{"montecarlo", "-s", exampleStrategy, "--paths", "0"}, "--paths 0"},
		{[]string{"montecarlo", "-s", exampleStrategy, "--workers", "0"}, "--workers 0"},
		{[]string{"montecarlo", "-s", exampleStrategy, "--from", "2024-02-01", "--to", "2024-01-01"}, "empty range"},
	} {
		code, _, stderr := cli(t, c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
	out := t.TempDir()
	args := []string{"montecarlo", "-s", exampleStrategy, "--scenario", "correlated-slash", "--paths", "2", "--seed", "5",
		"--from", "2024-06-01", "--to", "2024-06-08", "--step", "6h", "--out", out}
	code, stdout, stderr := cli(t, append(args, "--workers", "1")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	dir := lastLine(stdout)
	for _, want := range []string{"2 paths (seed 5)", "VaR 95%", "P(liquidation) n/a"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	code, js, stderr := cli(t, append(args, "--workers", "2", "--json")...)
	if code != 0 {
		t.Fatalf("--json: exit %d: %s", code, stderr)
	}
	if got := string(readFile(t, filepath.Join(dir, "summary.json"))); got != js {
		t.Errorf("--json with 2 workers differs from the 1-worker summary.json")
	}
	var v struct {
		Paths int `json:"paths"`
		APY   struct {
			P50 float64 `json:"p50"`
		} `json:"apy"`
	}
	if err := json.Unmarshal([]byte(js), &v); err != nil || v.Paths != 2 {
		t.Errorf("summary.json: %v, paths %d", err, v.Paths)
	}
	if _, err := os.Stat(filepath.Join(dir, "paths.csv")); err != nil {
		t.Error(err)
	}
}
