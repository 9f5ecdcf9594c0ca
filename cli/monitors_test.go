package cli

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBacktest_Monitors runs backtest on the steth-2022 replay with the
// peg monitor bound to exit (--monitors): the console names it, the run
// folder's monitors.csv has its firing row, the file enters the run's
// key, and a bad monitors file fails at its line and column.
func TestBacktest_Monitors(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "steth.db")
	if code, _, stderr := cli(t, "--db", db, "data", "synth", "--scenario", "steth-2022", "--from", "2022-04-01", "--to", "2022-08-01", "--step", "6h", "--seed", "7",
		"--market", "lido/steth", "--market", "rocketpool/reth"); code != 0 {
		t.Fatalf("data synth: exit %d: %s", code, stderr)
	}
	strat := filepath.Join(dir, "lsts.yaml")
	if err := os.WriteFile(strat, []byte("name: lsts-no-exit\nbase: ETH\nuniverse: [lido/steth, rocketpool/reth]\nrules:\n  eligible: tvl > 0\n  score: 1\nallocation: { method: proportional }\nconstraints: { idle: 0.02 }\nrebalance: { every: \"@daily\" }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mon := filepath.Join(dir, "monitors.yaml")
	if err := os.WriteFile(mon, []byte("rules:\n  - { name: peg-below, action: exit }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(extra ...string) (string, string) {
		t.Helper()
		args := append([]string{"--db", db, "backtest", "-s", strat, "--from", "2022-05-01", "--to", "2022-07-31", "--out", filepath.Join(dir, "runs")}, extra...)
		code, stdout, stderr := cli(t, args...)
		if code != 0 {
			t.Fatalf("backtest %v: exit %d: %s", extra, code, stderr)
		}
		return stdout, lastLine(stdout)
	}
	out, runDir := run("--monitors", mon)
	if !strings.Contains(out, "risk monitors: peg-below fired") || !strings.Contains(out, "-> exit") {
		t.Errorf("console lacks the peg monitor's line:\n%s", out)
	}
	f, err := os.Open(filepath.Join(runDir, "monitors.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 2 || rows[1][1] != "peg-below" || rows[1][2] != "lido/steth" || rows[1][3] != "firing" || rows[1][6] != "exit" {
		t.Errorf("monitors.csv %v, want a firing row of peg-below on lido/steth bound to exit", rows)
	}
	if _, alertDir := run(); alertDir == runDir {
		t.Errorf("the run with --monitors and the one without share the folder %s", runDir)
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("rules:\n  - { name: peg-below, action: sell }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := cli(t, "--db", db, "backtest", "-s", strat, "--monitors", bad, "--out", filepath.Join(dir, "runs"))
	if code == 0 || !strings.Contains(stderr, "bad.yaml:2:") || !strings.Contains(stderr, `action "sell" is not alert, pause or exit`) {
		t.Errorf("bad monitors file: exit %d, stderr %q; want an error at bad.yaml:2", code, stderr)
	}
}
