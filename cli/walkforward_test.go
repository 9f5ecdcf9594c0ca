package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestWalkForward_CLI(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"walkforward", "-s", exampleStrategy}, "--param"},
		{[]string{"walkforward", "-s", exampleStrategy, "--param", "min_peg=0.98", "--train", "0d"}, "--train"},
		{[]string{"walkforward", "-s", exampleStrategy, "--param", "min_peg=0.98:0.99", "--test", "15d"}, "MIN:MAX:STEP"},
	} {
		code, _, stderr := cli(t, c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
	out := t.TempDir()
	code, stdout, stderr := cli(t, "walkforward", "-s", exampleStrategy, "--param", "min_peg=0.98,0.995", "--train", "30d", "--test", "15d",
		"--from", "2024-06-01", "--to", "2024-07-31", "-j", "1", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"IN-SAMPLE", "OUT-OF-SAMPLE", "DIFFERENCE", "2 windows"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	dir := lastLine(stdout)
	var v struct {
		Windows     int                   `json:"windows"`
		InSample    struct{ APY float64 } `json:"in_sample"`
		OutOfSample struct{ APY float64 } `json:"out_of_sample"`
		Difference  struct{ APY float64 } `json:"difference"`
	}
	if err := json.Unmarshal(readFile(t, filepath.Join(dir, "summary.json")), &v); err != nil || v.Windows != 2 {
		t.Fatalf("summary.json: %v, %d windows", err, v.Windows)
	}
	if v.Difference.APY != v.OutOfSample.APY-v.InSample.APY {
		t.Errorf("difference %g, want %g - %g", v.Difference.APY, v.OutOfSample.APY, v.InSample.APY)
	}
	if n := strings.Count(string(readFile(t, filepath.Join(dir, "windows.csv"))), "\n"); n != 3 {
		t.Errorf("windows.csv has %d lines, want a header and 2 windows", n)
	}
}
