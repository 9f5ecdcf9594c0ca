package cli

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/yieldvault/yieldvault/backtest"
)

const exampleStrategy = "../examples/strategies/lst-lrt-balanced.yaml"

// shortRange keeps the CLI's backtests fast: two weeks of the embedded
// history (a step every 6 hours).
var shortRange = []string{"--from", "2024-06-01", "--to", "2024-06-15"}

func backtestArgs(out string, extra ...string) []string {
	a := append([]string{"backtest", "-s", exampleStrategy, "--out", out}, shortRange...)
	return append(a, extra...)
}

// lastLine is the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBacktest_RunFolder(t *testing.T) {
	out := t.TempDir()
	code, stdout, stderr := cli(t, backtestArgs(out, "--param", "min_peg=0.985", "--risk-free", "0.03")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	dir := lastLine(stdout)
	if filepath.Dir(dir) != out || !regexp.MustCompile(`^lst-lrt-balanced-[0-9a-f]{8}$`).MatchString(filepath.Base(dir)) {
		t.Fatalf("last line %q is not %s/lst-lrt-balanced-<8 hex>", dir, out)
	}
	for _, want := range []string{"CURVE", "strategy", "hold lido/steth", "equal_weight", "best_single", "SHARPE", "MAX DD"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary table lacks %q:\n%s", want, stdout)
		}
	}
	var names []string
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		names = append(names, e.Name())
	}
	want := []string{"decisions.csv", "equity.csv", "ledger.csv", "monitors.csv", "report.html", "summary.json"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("run folder (-want +got):\n%s", diff)
	}

	var sum backtest.Result
	if err := json.Unmarshal(readFile(t, filepath.Join(dir, "summary.json")), &sum); err != nil {
		t.Fatalf("summary.json: %v", err)
	}
	if got := sum.Settings.Params["min_peg"]; got != 0.985 {
		t.Errorf("summary params.min_peg = %v, want the override 0.985", got)
	}
	if sum.Settings.RiskFree != 0.03 || sum.Settings.Source != "embedded default history" || sum.Settings.Strategy != "lst-lrt-balanced" {
		t.Errorf("summary settings: risk-free %v, source %q, strategy %q", sum.Settings.RiskFree, sum.Settings.Source, sum.Settings.Strategy)
	}
	if sum.Data.Steps < 2 || len(sum.Benchmarks) == 0 || sum.Metrics.EndEquity.Sign() <= 0 {
		t.Errorf("summary: %d steps, %d benchmarks, end equity %s", sum.Data.Steps, len(sum.Benchmarks), sum.Metrics.EndEquity)
	}

	// Each CSV: its header, and as many rows as the summary says.
	csvRows := func(name string) [][]string {
		recs, err := csv.NewReader(bytes.NewReader(readFile(t, filepath.Join(dir, name)))).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return recs
	}
	eq := csvRows("equity.csv")
	if got := strings.Join(eq[0][:7], ","); got != "time,nav,equity,pps,idle,costs,drawdown" {
		t.Errorf("equity.csv header starts %q", got)
	}
	if !strings.Contains(strings.Join(eq[0], ","), "bench:equal_weight") || len(eq)-1 != sum.Data.Steps {
		t.Errorf("equity.csv: %d rows (want %d), header %v", len(eq)-1, sum.Data.Steps, eq[0])
	}
	led := csvRows("ledger.csv")
	if led[0][0] != "seq" || len(led) < 3 || led[1][3] != "deposit" {
		t.Errorf("ledger.csv: header %v, %d rows, first %v", led[0], len(led)-1, led[min(1, len(led)-1)])
	}
	dec := csvRows("decisions.csv")
	if dec[0][3] != "outcome" || len(dec)-1 != sum.Metrics.Decisions {
		t.Errorf("decisions.csv: %d rows, want %d (metrics.decisions); header %v", len(dec)-1, sum.Metrics.Decisions, dec[0])
	}

	report := string(readFile(t, filepath.Join(dir, "report.html")))
	for _, id := range backtest.ChartIDs {
		if !strings.Contains(report, `<svg id="`+id+`"`) {
			t.Errorf("report.html lacks the svg %s", id)
		}
	}
	if rest := strings.ReplaceAll(report, `xmlns="http://www.w3.org/2000/svg"`, ""); strings.Contains(rest, "http://") || strings.Contains(rest, "https://") {
		t.Errorf("report.html refers to the network")
	}
}

func TestBacktest_Deterministic(t *testing.T) {
	outA, outB := t.TempDir(), t.TempDir()
	codeA, stdoutA, errA := cli(t, backtestArgs(outA)...)
	codeB, stdoutB, errB := cli(t, backtestArgs(outB)...)
	if codeA != 0 || codeB != 0 {
		t.Fatalf("exit %d, %d: %s %s", codeA, codeB, errA, errB)
	}
	dirA, dirB := lastLine(stdoutA), lastLine(stdoutB)
	if filepath.Base(dirA) != filepath.Base(dirB) {
		t.Errorf("same inputs, different folders: %s and %s", dirA, dirB)
	}
	for _, f := range []string{"summary.json", "equity.csv", "ledger.csv", "decisions.csv", "report.html"} {
		if !bytes.Equal(readFile(t, filepath.Join(dirA, f)), readFile(t, filepath.Join(dirB, f))) {
			t.Errorf("%s differs between two runs of the same inputs", f)
		}
	}
	// --json prints summary.json with the run folder added, and nothing else.
	code, stdout, stderr := cli(t, backtestArgs(outA, "--json")...)
	if code != 0 {
		t.Fatalf("--json: exit %d: %s", code, stderr)
	}
	var printed, file map[string]any
	if err := json.Unmarshal([]byte(stdout), &printed); err != nil {
		t.Fatalf("--json output: %v", err)
	}
	if err := json.Unmarshal(readFile(t, filepath.Join(dirA, "summary.json")), &file); err != nil {
		t.Fatal(err)
	}
	if printed["run_folder"] != dirA {
		t.Errorf("--json run_folder %v, want %s", printed["run_folder"], dirA)
	}
	delete(printed, "run_folder")
	if !reflect.DeepEqual(printed, file) {
		t.Errorf("--json output (without run_folder) is not summary.json")
	}
	// Other inputs, another folder.
	code, stdout, _ = cli(t, backtestArgs(outA, "--capital", "250")...)
	if code != 0 || filepath.Base(lastLine(stdout)) == filepath.Base(dirA) {
		t.Errorf("--capital 250: exit %d, folder %s (the 100 run's is %s)", code, lastLine(stdout), dirA)
	}
}

func TestBacktest_BadInput(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: bad\nbase: ETH\nuniverse: [lido/steth, nope/nothing]\nrules: { score: apy, weight: score }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no strategy", []string{"backtest"}, 2, "-s FILE"},
		{"missing file", []string{"backtest", "-s", "nope.yaml"}, 1, "nope.yaml"},
		{"unknown market", []string{"backtest", "-s", bad}, 1, "nope/nothing"},
		{"empty range", []string{"backtest", "-s", exampleStrategy, "--from", "2024-06-01", "--to", "2024-06-01"}, 1, "empty range"},
		{"range outside the data", []string{"backtest", "-s", exampleStrategy, "--from", "2030-01-01", "--to", "2030-02-01"}, 1, "the data covers 2024-01-01"},
		{"malformed param", []string{"backtest", "-s", exampleStrategy, "--param", "min_peg"}, 2, "not k=v"},
		{"param not a number", []string{"backtest", "-s", exampleStrategy, "--param", "min_peg=high"}, 2, "not a number"},
		{"unknown param", []string{"backtest", "-s", exampleStrategy, "--param", "max_peg=1"}, 1, `unknown parameter "max_peg"`},
		{"bad capital", []string{"backtest", "-s", exampleStrategy, "--capital", "0"}, 2, "--capital"},
		{"bad step", []string{"backtest", "-s", exampleStrategy, "--step", "-1h"}, 2, "--step"},
		{"bad pricing", []string{"backtest", "-s", exampleStrategy, "--pricing", "mark"}, 2, "--pricing"},
		{"bad risk-free", []string{"backtest", "-s", exampleStrategy, "--risk-free", "4"}, 2, "--risk-free"},
		{"bad date", []string{"backtest", "-s", exampleStrategy, "--from", "June"}, 2, "June"},
		{"missing db", []string{"backtest", "-s", exampleStrategy, "--db", filepath.Join(out, "none.db")}, 1, "none.db"},
		{"sweep without grid", []string{"sweep", "-s", exampleStrategy}, 2, "--param"},
		{"sweep bad grid", []string{"sweep", "-s", exampleStrategy, "--param", "min_peg=0.9,x"}, 2, "not a number"},
		{"sweep param twice", []string{"sweep", "-s", exampleStrategy, "--param", "min_peg=0.9", "--param", "min_peg=0.8"}, 2, "twice"},
		{"sweep unknown param", []string{"sweep", "-s", exampleStrategy, "--param", "max_peg=0.9,1"}, 1, `unknown parameter "max_peg"`},
		{"sweep bad objective", []string{"sweep", "-s", exampleStrategy, "--param", "min_peg=0.9", "--objective", "luck"}, 2, "unknown objective"},
		{"sweep no workers", []string{"sweep", "-s", exampleStrategy, "--param", "min_peg=0.9", "-j", "0"}, 2, "-j 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(tt.args, "--out", out)
			code, stdout, stderr := cli(t, args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %q lacks %q", stderr, tt.want)
			}
			if strings.Contains(stderr, "panic") || stdout != "" {
				t.Errorf("stdout %q, stderr %q: want no output and no panic", stdout, stderr)
			}
		})
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("failed runs left %d entries in --out", len(ents))
	}
}

// sweepTable parses the sweep table: the PARAMS, objective and STATUS
// columns of each row.
func sweepTable(t *testing.T, stdout string) (keys []string, status []string) {
	t.Helper()
	for _, line := range strings.Split(stdout, "\n") {
		f := strings.Fields(line)
		if len(f) < 9 {
			continue
		}
		if _, err := strconv.Atoi(f[0]); err != nil || !strings.Contains(f[1], "=") {
			continue // the header and the closing line
		}
		keys, status = append(keys, f[1]), append(status, f[7])
	}
	return keys, status
}

func TestSweep_RunsAndResumes(t *testing.T) {
	out := t.TempDir()
	args := append([]string{"sweep", "-s", exampleStrategy, "--param", "min_peg=0.98,0.995", "--param", "min_tvl=1e6,5e8",
		"-j", "2", "--objective", "max_drawdown", "--out", out}, shortRange...)
	code, stdout, stderr := cli(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	keys, status := sweepTable(t, stdout)
	if len(keys) != 4 {
		t.Fatalf("sweep table has %d rows, want 4:\n%s", len(keys), stdout)
	}
	for i, s := range status {
		if s != "ran" {
			t.Errorf("row %d (%s): status %s, want ran", i, keys[i], s)
		}
	}
	if !strings.Contains(stdout, "4 points: 4 ran, 0 resumed, 0 failed") {
		t.Errorf("closing line missing:\n%s", stdout)
	}
	ents, err := os.ReadDir(out)
	if err != nil || len(ents) != 5 {
		t.Fatalf("--out holds %d entries, want 4 run folders and the sweep's folder (%v)", len(ents), err)
	}
	// Sorted by max drawdown, smallest first.
	var prev float64 = -1
	for _, k := range keys {
		var dd float64
		for _, line := range strings.Split(stdout, "\n") {
			if f := strings.Fields(line); len(f) >= 9 && f[1] == k && f[0] != "RANK" {
				if err := json.Unmarshal([]byte(f[2]), &dd); err != nil {
					t.Fatalf("objective %q: %v", f[2], err)
				}
			}
		}
		if dd < prev {
			t.Errorf("rows not sorted by max_drawdown ascending: %v after %v", dd, prev)
		}
		prev = dd
	}

	// A sweep point's folder is the folder backtest writes for the same
	// parameters, with the same bytes.
	code, bout, stderr := cli(t, backtestArgs(t.TempDir(), "--param", "min_peg=0.98", "--param", "min_tvl=1e6")...)
	if code != 0 {
		t.Fatalf("backtest: exit %d: %s", code, stderr)
	}
	dir := lastLine(bout)
	if !bytes.Equal(readFile(t, filepath.Join(dir, "summary.json")), readFile(t, filepath.Join(out, filepath.Base(dir), "summary.json"))) {
		t.Errorf("backtest with the point's parameters and the sweep point differ (%s)", filepath.Base(dir))
	}

	// The same sweep again runs nothing; its table is the same.
	code, again, stderr := cli(t, args...)
	if code != 0 {
		t.Fatalf("second sweep: exit %d: %s", code, stderr)
	}
	keys2, status2 := sweepTable(t, again)
	if diff := cmp.Diff(keys, keys2); diff != "" {
		t.Errorf("resumed sweep order (-first +second):\n%s", diff)
	}
	for i, s := range status2 {
		if s != "resumed" {
			t.Errorf("second sweep row %d: status %s, want resumed", i, s)
		}
	}
	if !strings.Contains(again, "4 points: 0 ran, 4 resumed, 0 failed") {
		t.Errorf("second sweep ran something:\n%s", again)
	}

	// An interrupted sweep (one folder without its summary) runs only that point.
	victim := filepath.Join(out, filepath.Base(dir))
	if err := os.Remove(filepath.Join(victim, "summary.json")); err != nil {
		t.Fatal(err)
	}
	code, third, stderr := cli(t, args...)
	if code != 0 || !strings.Contains(third, "4 points: 1 ran, 3 resumed, 0 failed") {
		t.Errorf("sweep after removing one summary: exit %d (%s):\n%s", code, stderr, third)
	}
	if !backtest.Finished(victim) {
		t.Errorf("the re-run point's folder has no summary.json")
	}
}

// TestBacktest_RealData_MarketWithoutRows is issue 19's reproduction: a
// 2022 backtest with aave-v3/weth, whose AaveScan file starts in 2024,
// panicked in backtest.DataFingerprint. The market is reported as not
// investable with its data's range; a --from before the data is clipped
// to it, loudly; the late market's hold starts with its data.
func TestBacktest_RealData_MarketWithoutRows(t *testing.T) {
	root := sharedData(t)
	tmp := t.TempDir()
	db := filepath.Join(tmp, "h.db")
	for _, d := range []string{"aave-v3-eth-weth-wsteth-weeth-usdt-aavescan-daily", "reth-exchange-rate", "lido-steth-apy-defillama-daily"} {
		if code, _, stderr := cli(t, "data", "import", "--db", db, filepath.Join(root, d)); code != 0 {
			t.Fatalf("import %s: exit %d: %s", d, code, stderr)
		}
	}
	strat := filepath.Join(tmp, "s.yaml")
	src := "name: s\nbase: ETH\nuniverse: [lido/steth, rocketpool/reth, aave-v3/weth]\nrules:\n  eligible: true\n  score: net_apy\n  weight: max(score, 0.0)\nconstraints: { idle: 0.02, max_weight: 0.6 }\n"
	if err := os.WriteFile(strat, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := cli(t, "backtest", "--db", db, "-s", strat, "--from", "2022-06-01", "--to", "2022-12-31", "--out", tmp)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"aave-v3/weth has no data in the run's range",
		"its data covers 2024-01-01",
		"NOT INVESTABLE in this range",
		"hold aave-v3/weth: not investable",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	// Before the data: clipped, the header says so, the summary records it.
	code, stdout, stderr = cli(t, "backtest", "--db", db, "-s", strat, "--from", "2019-01-01", "--to", "2022-12-31", "--out", tmp)
	if code != 0 {
		t.Fatalf("--from before the data: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "CLIPPED to the data") || !strings.Contains(stdout, "WARNING: range clipped") {
		t.Errorf("--from before the data: output does not say the range was clipped:\n%s", stdout)
	}
	// rETH's file starts 2021-10 (the run starts there), Lido's 2022-05.
	if !strings.Contains(stdout, "hold lido/steth (from 2022-05-03)") {
		t.Errorf("the stETH hold does not start with its data:\n%s", stdout)
	}
	var sum struct {
		Settings struct {
			From          string `json:"from"`
			RequestedFrom string `json:"requested_from"`
		} `json:"settings"`
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal(readFile(t, filepath.Join(lastLine(stdout), "summary.json")), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Settings.RequestedFrom != "2019-01-01T00:00:00Z" || !strings.HasPrefix(sum.Settings.From, "2021-10-") || len(sum.Warnings) == 0 {
		t.Errorf("summary: from %s, requested_from %s, warnings %q", sum.Settings.From, sum.Settings.RequestedFrom, sum.Warnings)
	}
	report := string(readFile(t, filepath.Join(lastLine(stdout), "report.html")))
	if !strings.Contains(report, `id="warnings"`) || !strings.Contains(report, "clipped to the data") {
		t.Errorf("report.html does not carry the warnings")
	}
	// plan --at before the data names the data's range.
	code, _, stderr = cli(t, "plan", "--db", db, "-s", strat, "--at", "2019-06-01")
	if code == 0 || !strings.Contains(stderr, "its data covers 2022-05-03") {
		t.Errorf("plan --at before the data: exit %d, stderr %q: want an error naming the data's range", code, stderr)
	}
}
