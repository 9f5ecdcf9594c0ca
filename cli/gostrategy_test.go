package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/backtest"
	"github.com/yieldvault/yieldvault/strategies"
)

// testTrend is a Go strategy registered by the tests as go:cli-test-trend:
// its own universe when none is given, a duration parameter (lookback) and
// a number (min_apy); it plans as max-yield does.
type testTrend struct {
	strategies.Strategy
	universe []string
}

func (s *testTrend) Name() string       { return "cli-test-trend" }
func (s *testTrend) Universe() []string { return s.universe }

var registerTestTrend = sync.OnceFunc(func() {
	strategies.RegisterParams("cli-test-trend", func(cfg strategies.Config) (strategies.Strategy, error) {
		if len(cfg.Universe) == 0 {
			cfg.Universe = []string{"lido/steth", "rocketpool/reth", "aave-v3/weth"}
		}
		inner, err := strategies.New(strategies.MaxYieldName, strategies.Config{Universe: cfg.Universe, Catalog: cfg.Catalog,
			Params: map[string]float64{"min_apy": cfg.Params["min_apy"]}})
		if err != nil {
			return nil, err
		}
		return &testTrend{Strategy: inner, universe: cfg.Universe}, nil
	},
		strategies.Param{Name: "lookback", Doc: "window of the mean APY", Default: 7, Min: 1, Max: 90, Duration: true},
		strategies.Param{Name: "min_apy", Doc: "smallest APY worth holding", Default: 0, Min: 0, Max: 1},
	)
})

func TestGoStrategy_ValidatePlan(t *testing.T) {
	registerTestTrend()
	code, out, errs := cli(t, "validate", "go:cli-test-trend", "--param", "lookback=14d")
	if code != 0 {
		t.Fatalf("validate: exit %d: %s", code, errs)
	}
	if want := "go:cli-test-trend: ok: cli-test-trend (ETH), 3 markets, rebalance \"\", 2 params"; !strings.Contains(out, want) {
		t.Errorf("validate printed %q, want %q", out, want)
	}
	code, out, errs = cli(t, "plan", "-s", "go:cli-test-trend", "--universe", "lido/steth,aave-v3/weth", "--at", "2024-06-01", "--json")
	if code != 0 {
		t.Fatalf("plan: exit %d: %s", code, errs)
	}
	var got struct {
		Strategy string
		Target   strategies.Target
		Params   map[string]float64
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("plan --json: %v\n%s", err, out)
	}
	if got.Strategy != "cli-test-trend" || len(got.Target.Allocations) != 2 || got.Target.Allocations[1].Market != "aave-v3/weth" {
		t.Errorf("plan: strategy %q, allocations %+v; want cli-test-trend over the --universe", got.Strategy, got.Target.Allocations)
	}
	if got.Params["lookback"] != 7 {
		t.Errorf("plan params %v: want the declared default lookback 7 (days)", got.Params)
	}
}

func TestGoStrategy_Errors(t *testing.T) {
	registerTestTrend()
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown name", []string{"plan", "-s", "go:nope"}, 2, `no Go strategy "nope" is registered in this binary (registered: go:cli-test-trend, go:equal-weight, go:hold, go:max-yield, go:risk-adjusted)`},
		{"not a duration", []string{"backtest", "-s", "go:cli-test-trend", "--param", "lookback=14"}, 2, `parameter lookback of go:cli-test-trend: "14" is not a duration (like 14d, 36h or 90m)`},
		{"out of range", []string{"plan", "-s", "go:cli-test-trend", "--param", "lookback=400d"}, 2, "parameter lookback of go:cli-test-trend: 400d is outside [1d, 90d]"},
		{"unknown param", []string{"plan", "-s", "go:cli-test-trend", "--param", "nope=1"}, 2, `go:cli-test-trend has no parameter "nope" (its parameters: lookback, min_apy)`},
		{"not a number", []string{"sweep", "-s", "go:cli-test-trend", "--param", "min_apy=0.01,lots", "--out", t.TempDir()}, 2, `parameter min_apy of go:cli-test-trend: "lots" is not a number`},
		{"no universe", []string{"plan", "-s", "go:max-yield"}, 1, "go:max-yield has no universe of its own: name its markets (--universe a,b"},
		{"unknown market", []string{"plan", "-s", "go:max-yield", "--universe", "nope/eth"}, 1, "nope/eth"},
		{"universe for a file", []string{"plan", "-s", exampleStrategy, "--universe", "lido/steth"}, 2, "--universe is for Go strategies"},
		{"a built-in's declared bound", []string{"plan", "-s", "go:max-yield", "--universe", "lido/steth", "--param", "min_apy=20"}, 2, "parameter min_apy of go:max-yield: 20 is outside [-1, 10]"},
		{"a built-in's own check", []string{"plan", "-s", "go:hold", "--universe", "lido/steth", "--param", "market=3"}, 1, "parameter market = 3 is outside [0, 0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := cli(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d (%s)", code, tt.code, errs)
			}
			if !strings.Contains(errs, tt.want) {
				t.Errorf("stderr %q does not say %q", errs, tt.want)
			}
			if strings.Contains(errs, "strategies.") {
				t.Errorf("stderr %q names Go code", errs)
			}
		})
	}
}

func TestGoStrategy_BacktestSweep(t *testing.T) {
	registerTestTrend()
	out := t.TempDir()
	args := append([]string{"backtest", "-s", "go:cli-test-trend", "--param", "lookback=36h", "--param", "min_apy=0.01", "--out", out}, shortRange...)
	code, stdout, errs := cli(t, args...)
	if code != 0 {
		t.Fatalf("backtest: exit %d: %s", code, errs)
	}
	var sum backtest.Result
	if err := json.Unmarshal(readFile(t, filepath.Join(lastLine(stdout), "summary.json")), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Settings.Strategy != "cli-test-trend" || sum.Settings.Params["lookback"] != 1.5 || sum.Settings.Params["min_apy"] != 0.01 {
		t.Errorf("summary settings: strategy %q params %v; want cli-test-trend, lookback 1.5 (days), min_apy 0.01", sum.Settings.Strategy, sum.Settings.Params)
	}
	if got := strings.Join(sum.Settings.Universe, ","); got != "lido/steth,rocketpool/reth,aave-v3/weth" {
		t.Errorf("universe %s: want the strategy's own", got)
	}

	args = append([]string{"sweep", "-s", "go:cli-test-trend", "--param", "lookback=7d,14d", "-j", "1", "--out", out}, shortRange...)
	code, stdout, errs = cli(t, args...)
	if code != 0 {
		t.Fatalf("sweep: exit %d: %s", code, errs)
	}
	keys, status := sweepTable(t, stdout)
	if strings.Join(keys, " ") != "lookback=7 lookback=14" && strings.Join(keys, " ") != "lookback=14 lookback=7" {
		t.Errorf("sweep points %v: want lookback=7 and lookback=14 (days)", keys)
	}
	for i, s := range status {
		if s != "ran" {
			t.Errorf("point %s: %s, want ran", keys[i], s)
		}
	}
}

// TestGoStrategy_RunKeyHasTheBinary: a Go strategy's code is the binary,
// so its run key holds a SHA-256 of the executable where a file's bytes
// would be (a rebuilt binary does not resume an old binary's runs).
func TestGoStrategy_RunKeyHasTheBinary(t *testing.T) {
	registerTestTrend()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	a := &app{}
	s, err := a.loadStrategy("go:cli-test-trend", adapters.Builtin(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(s.data), "go:cli-test-trend\x00"+hex.EncodeToString(sum[:]); got != want {
		t.Errorf("run key's strategy bytes %q, want %q", got, want)
	}
}
