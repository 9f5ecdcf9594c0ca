package backtest

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yieldvault/yieldvault/adapters"
)

func TestScenarios(t *testing.T) {
	files, err := filepath.Glob("testdata/scenarios/*.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 6 {
		t.Fatalf("found %d scenario files, want at least 6", len(files))
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			sc, err := ParseScenarioFile(f, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, fails, err := sc.Check(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, msg := range fails {
				t.Error(msg)
			}
		})
	}
}

func TestParseScenario_Errors(t *testing.T) {
	tests := []struct {
		name, src string
		kind      adapters.ErrorKind
		pos       string // file:line the error must name
	}{
		{"unknown command", "load aave-v3/usdc 1d\n  apy 0.05x3\nfrobnicate\n", adapters.KindInvalid, "s.txt:3"},
		{"unknown market", "load nope/x 1d\n  apy 0.05\n", adapters.KindNotFound, "s.txt:1"},
		{"bad repeat", "load aave-v3/usdc 1d\n  apy 0.05xq\n", adapters.KindInvalid, "s.txt:2"},
		{"bad field", "load aave-v3/usdc 1d\n  apyy 0.05\n", adapters.KindInvalid, "s.txt:2"},
		{"out of range value", "load aave-v3/usdc 1d\n  utilization 1.5\n", adapters.KindInvalid, "s.txt:2"},
		{"no fields", "load aave-v3/usdc 1d\nrun\n", adapters.KindInvalid, "s.txt:1"},
		{"expect before run", "load aave-v3/usdc 1d\n  apy 0.05x3\nexpect apy 1\n", adapters.KindInvalid, "s.txt:3"},
		{"run before strategy", "load aave-v3/usdc 1d\n  apy 0.05x3\nrun\n", adapters.KindInvalid, "s.txt:3"},
		{"event on unloaded market", "load aave-v3/usdc 1d\n  apy 0.05x3\nevent +1d lido/steth slash 0.1\n", adapters.KindNotFound, "s.txt:3"},
		{"event size", "load aave-v3/usdc 1d\n  apy 0.05x3\nevent +1d aave-v3/usdc bad_debt 2\n", adapters.KindInvalid, "s.txt:3"},
		{"bad time", "load aave-v3/usdc 1d\n  apy 0.05x3\nevent yesterday aave-v3/usdc pause 0\n", adapters.KindInvalid, "s.txt:3"},
		{"bad set key", "set colour=blue\n", adapters.KindInvalid, "s.txt:1"},
		{"hold unloaded", "load aave-v3/usdc 1d\n  apy 0.05x3\nstrategy hold spark/usdc\n", adapters.KindNotFound, "s.txt:3"},
		{"bad inline rules", "load aave-v3/usdc 1d\n  apy 0.05x3\nstrategy rules\n  name: x\n  base: USD\n  universe: [aave-v3/usdc]\n  rules: { score: nope + 1 }\n", adapters.KindInvalid, "s.txt:4"},
		{"no run", "load aave-v3/usdc 1d\n  apy 0.05x3\n", adapters.KindInvalid, "s.txt:2"},
		{"stray indent", "  apy 0.05\n", adapters.KindInvalid, "s.txt:1"},
		{"increment without count", "load aave-v3/usdc 1d\n  apy 0.05+0.01\n", adapters.KindInvalid, "s.txt:2"},
		{"unknown go strategy", "load aave-v3/usdc 1d\n  apy 0.05x3\nstrategy go nope\n", adapters.KindNotFound, "s.txt:3"},
		{"go strategy bad param", "load aave-v3/usdc 1d\n  apy 0.05x3\nstrategy go max-yield min_apy=lots\n", adapters.KindInvalid, "s.txt:3"},
		{"go strategy unknown param", "load aave-v3/usdc 1d\n  apy 0.05x3\nstrategy go max-yield k=1\n", adapters.KindInvalid, "s.txt:3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseScenario("s.txt", []byte(tt.src), nil)
			if err == nil {
				t.Fatalf("ParseScenario(%q) succeeded, want a %s error", tt.src, tt.kind)
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("ParseScenario: got %v (kind %s), want kind %s", err, adapters.KindOf(err), tt.kind)
			}
			if !strings.Contains(err.Error(), tt.pos) {
				t.Errorf("ParseScenario: error %q does not name %s", err, tt.pos)
			}
		})
	}
}

func TestExpandValues(t *testing.T) {
	tests := []struct {
		tok  string
		want []float64
		set  []bool
	}{
		{"1.5", []float64{1.5}, []bool{true}},
		{"2x3", []float64{2, 2, 2}, []bool{true, true, true}},
		{"1+0.5x3", []float64{1, 1.5, 2}, []bool{true, true, true}},
		{"1-1x2", []float64{1, 0}, []bool{true, true}},
		{"1e-3x2", []float64{0.001, 0.001}, []bool{true, true}},
		{"_", []float64{0}, []bool{false}},
		{"_x2", []float64{0, 0}, []bool{false, false}},
	}
	for _, tt := range tests {
		var vals []float64
		var set []bool
		if err := expandValues(tt.tok, &vals, &set); err != nil {
			t.Errorf("expandValues(%q): %v", tt.tok, err)
			continue
		}
		if len(vals) != len(tt.want) {
			t.Errorf("expandValues(%q) = %v, want %v", tt.tok, vals, tt.want)
			continue
		}
		for i := range vals {
			if vals[i] != tt.want[i] || set[i] != tt.set[i] {
				t.Errorf("expandValues(%q) = %v %v, want %v %v", tt.tok, vals, set, tt.want, tt.set)
				break
			}
		}
	}
	for _, bad := range []string{"x", "1x0", "1xq", "abc", "1+x2", "_x0"} {
		var vals []float64
		var set []bool
		if err := expandValues(bad, &vals, &set); err == nil {
			t.Errorf("expandValues(%q) succeeded, want an error", bad)
		}
	}
}
