package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/backtest"
	"github.com/yieldvault/yieldvault/examples/custom-strategy/momentum"
	"github.com/yieldvault/yieldvault/internal/servetest"
)

// buildBinary builds this example into a temporary folder, once per test.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "custom-strategy")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func runBin(t *testing.T, dir, bin string, args ...string) (stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	c := exec.Command(bin, args...)
	c.Dir, c.Stdout, c.Stderr = dir, &out, &errb
	if err := c.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), errb.String()
}

// TestBinary builds the example binary and runs go:momentum through it:
// validate, a backtest (its schedule, rebalance condition and exit rule at
// work) and the service, which runs tasks and stops cleanly on SIGTERM.
func TestBinary(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()

	t.Run("validate", func(t *testing.T) {
		out, _ := runBin(t, dir, bin, "validate", "go:momentum", "--param", "lookback=14d")
		for _, want := range []string{`go:momentum: ok: momentum (ETH), 5 markets, rebalance "0 */6 * * *", 5 params`, "param lookback = 14d"} {
			if !strings.Contains(out, want) {
				t.Errorf("validate printed %q, want %q", out, want)
			}
		}
	})

	t.Run("backtest", func(t *testing.T) {
		out, _ := runBin(t, dir, bin, "backtest", "-s", "go:momentum", "--param", "lookback=14d", "--param", "exit_peg=0.998",
			"--from", "2024-03-01", "--to", "2024-05-01", "--out", filepath.Join(dir, "runs"), "--json")
		var sum struct {
			backtest.Result
			RunFolder string `json:"run_folder"`
		}
		if err := json.Unmarshal([]byte(out), &sum); err != nil {
			t.Fatalf("summary: %v\n%s", err, out)
		}
		if got := sum.Settings.Params["lookback"]; got != 14 {
			t.Errorf("params.lookback = %g, want 14 (days)", got)
		}
		if got := sum.Settings.Lookback; got != "14d" {
			t.Errorf("lookback loaded %q, want the strategy's 14d", got)
		}
		if got, want := strings.Join(sum.Settings.Universe, ","), strings.Join(momentum.DefaultUniverse, ","); got != want {
			t.Errorf("universe %s, want the strategy's own %s", got, want)
		}
		if sum.Metrics.Rebalances == 0 || sum.Metrics.Exits == 0 {
			t.Errorf("%d rebalances, %d exits: want both (exit_peg 0.998 fires on the history's peg dips)", sum.Metrics.Rebalances, sum.Metrics.Exits)
		}
		f, err := os.Open(filepath.Join(sum.RunFolder, "decisions.csv"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, err := csv.NewReader(f).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		col := map[string]int{}
		for i, h := range rows[0] {
			col[h] = i
		}
		var scheduled, skipped, exits int
		for _, r := range rows[1:] {
			reasons := r[col["reasons"]]
			switch r[col["trigger"]] {
			case "schedule":
				scheduled++
				tick, err := time.Parse(time.RFC3339, r[col["tick"]])
				if err != nil {
					t.Fatal(err)
				}
				if tick.Minute() != 0 || tick.Hour()%6 != 0 {
					t.Errorf("scheduled decision at %s: the schedule is 0 */6 * * *", tick)
				}
				if !strings.Contains(reasons, "rebalance condition") {
					t.Errorf("scheduled decision at %s does not give the condition's answer: %s", tick, reasons)
				}
				if strings.Contains(reasons, "not executed: rebalance condition false") {
					skipped++
				}
			case "exit":
				exits++
				if !strings.Contains(reasons, "exit: peg") && !strings.Contains(r[col["orders"]], "sell") {
					t.Errorf("exit decision without a sale: %v", r)
				}
			}
		}
		if scheduled == 0 || skipped == 0 || exits == 0 {
			t.Errorf("decisions: %d scheduled (%d turned down by the condition), %d exits; want each > 0", scheduled, skipped, exits)
		}
	})

	t.Run("serve", func(t *testing.T) {
		serveBriefly(t, bin, "strategy: go:momentum\n    params: { lookback: 14d }")
	})
}

// serveBriefly runs the binary's service on a replayed clock with one
// vault (vault holds its strategy lines) and a temporary state database,
// waits for a scheduled rebalance, stops it and checks the database.
func serveBriefly(t *testing.T, bin, vault string) {
	t.Helper()
	dir := t.TempDir()
	cfg := "listen: 127.0.0.1:0\ntoken: { env: YV_EXAMPLE_TOKEN, optional: true }\nstate_db: state.db\nhistory_db: \"\"\n" +
		"replay: { start: 2024-03-01T00:00:00Z, speed: 100000 }\nvaults:\n  - id: v\n    " + vault + "\n    deposit: \"100\"\n"
	servetest.Until(t, bin, dir, cfg, "scheduled rebalance", func(l string) bool {
		return strings.Contains(l, "task=rebalance") && strings.Contains(l, "source=schedule")
	})
	if _, err := os.Stat(filepath.Join(dir, "state.db")); err != nil {
		t.Errorf("state database: %v", err)
	}
}
