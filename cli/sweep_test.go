package cli

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestExpandRange(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"0.98:0.995:0.005", []string{"0.98", "0.985", "0.99", "0.995"}},
		// Float stepping gives 0.30000000000000004 here.
		{"0.1:0.3:0.1", []string{"0.1", "0.2", "0.3"}},
		{"1:1:0.5", []string{"1"}},
		{"-1:1:1", []string{"-1", "0", "1"}},
		{"1e6:3e6:1e6", []string{"1000000", "2000000", "3000000"}},
	} {
		got, err := expandRange("min_peg", c.in)
		if err != nil {
			t.Errorf("expandRange(%q): %v", c.in, err)
			continue
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("expandRange(%q) (-want +got):\n%s", c.in, diff)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"0.98:0.995", "is not MIN:MAX:STEP"},
		{"0.98:0.995:0.005:1", "is not MIN:MAX:STEP"},
		{"0.98:x:0.005", `"x" is not a decimal number`},
		{"0.98:0.995:0", "step 0 must be greater than 0"},
		{"0.98:0.995:-0.005", "must be greater than 0"},
		{"0.995:0.98:0.005", "start 0.995 is above the end 0.98"},
		{"0.98:0.995:0.01", "do not reach 0.995 (the last would be 0.99)"},
		{"0:1:0.00001", "more than 10000"},
	} {
		_, err := expandRange("min_peg", c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "--param min_peg") {
			t.Errorf("expandRange(%q): error %v, want one naming --param min_peg with %q", c.in, err, c.want)
		}
	}
}

func TestParseGrid_RangesAndDuplicates(t *testing.T) {
	grid, err := parseGrid([]string{"min_tvl=1e6", "min_peg=0.97,0.98:0.99:0.005"}, parseNumberParam)
	if err != nil {
		t.Fatal(err)
	}
	if len(grid) != 2 || grid[0].Name != "min_peg" || grid[1].Name != "min_tvl" {
		t.Fatalf("grid %+v, want min_peg then min_tvl", grid)
	}
	if diff := cmp.Diff([]float64{0.97, 0.98, 0.985, 0.99}, grid[0].Values); diff != "" {
		t.Errorf("min_peg values (-want +got):\n%s", diff)
	}
	for _, c := range []struct{ in, want string }{
		{"min_peg=0.98:0.99:0.005,0.99", "--param min_peg: the value 0.99 is given twice"},
		{"min_peg=0.98:0.99", "--param min_peg: range"},
		{"min_peg=0.98x", `--param min_peg: "0.98x" is not a number`},
	} {
		_, err := parseGrid([]string{c.in}, parseNumberParam)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("parseGrid(%q): error %v, want %q", c.in, err, c.want)
		}
	}
}

// TestSweep_JSONSummaryOnlyUndefinedLast: over two weeks the example
// strategy's Sharpe is defined at min_peg=0.995 (it trades, -4.67) and
// undefined below (it holds, volatility under the 0.1% floor). The
// undefined points rank after the defined one, as null in --json and
// sweep.csv, n/a in the table; --summary-only keeps summary.json alone,
// and a later full sweep does not take those folders as finished.
func TestSweep_JSONSummaryOnlyUndefinedLast(t *testing.T) {
	out := t.TempDir()
	base := append([]string{"sweep", "-s", exampleStrategy, "--param", "min_peg=0.98:0.995:0.005", "-j", "2",
		"--objective", "sharpe", "--out", out}, shortRange...)
	code, stdout, stderr := cli(t, append(base, "--json", "--summary-only")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var got struct {
		SummaryOnly bool   `json:"summary_only"`
		SweepCSV    string `json:"sweep_csv"`
		Points      []struct {
			Rank      int      `json:"rank"`
			Key       string   `json:"key"`
			Status    string   `json:"status"`
			Objective *float64 `json:"objective"`
			Sharpe    *float64 `json:"sharpe"`
			Folder    string   `json:"run_folder"`
		} `json:"points"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("--json output: %v\n%s", err, stdout)
	}
	var keys []string
	for _, p := range got.Points {
		keys = append(keys, p.Key)
	}
	want := []string{"min_peg=0.995", "min_peg=0.98", "min_peg=0.985", "min_peg=0.99"}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Fatalf("rank order (-want +got):\n%s", diff)
	}
	if p := got.Points[0]; p.Objective == nil || p.Sharpe == nil || *p.Objective != *p.Sharpe || *p.Objective >= 0 {
		t.Errorf("first point: objective %v, sharpe %v; want the same defined, negative Sharpe", p.Objective, p.Sharpe)
	}
	for _, p := range got.Points[1:] {
		if p.Objective != nil || p.Sharpe != nil {
			t.Errorf("point %s: objective %v, sharpe %v, want null (undefined)", p.Key, p.Objective, p.Sharpe)
		}
	}
	for _, p := range got.Points {
		ents, err := os.ReadDir(p.Folder)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		if diff := cmp.Diff([]string{"summary.json"}, names); diff != "" {
			t.Errorf("--summary-only folder %s (-want +got):\n%s", p.Folder, diff)
		}
	}
	f, err := os.Open(got.SweepCSV)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 || rows[0][1] != "key" || rows[0][2] != "min_peg" || rows[0][4] != "objective" {
		t.Fatalf("sweep.csv: %d rows, header %v", len(rows), rows[0])
	}
	for i, r := range rows[1:] {
		if r[1] != want[i] || r[3] != "ran" || (i > 0) != (r[4] == "") || r[13] != filepath.Base(got.Points[i].Folder) {
			t.Errorf("sweep.csv row %d: %v", i+1, r)
		}
	}

	// The table: n/a for the undefined objective; a full sweep re-runs
	// the summary-only points (they lack their CSV files).
	code, stdout, stderr = cli(t, base...)
	if code != 0 {
		t.Fatalf("full sweep: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "4 points: 4 ran, 0 resumed, 0 failed") {
		t.Errorf("full sweep after --summary-only did not run the points again:\n%s", stdout)
	}
	keys2, _ := sweepTable(t, stdout)
	if diff := cmp.Diff(want, keys2); diff != "" {
		t.Errorf("table order (-want +got):\n%s", diff)
	}
	for _, line := range strings.Split(stdout, "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[1] == "min_peg=0.98" && f[2] != "n/a" {
			t.Errorf("undefined Sharpe shown as %q, want n/a: %s", f[2], line)
		}
	}
	if lastLine(stdout) != got.SweepCSV {
		t.Errorf("last line %q, want the sweep.csv path %q", lastLine(stdout), got.SweepCSV)
	}
	if _, err := os.Stat(filepath.Join(got.Points[0].Folder, "equity.csv")); err != nil {
		t.Errorf("full sweep: %v", err)
	}
}
