package strategies

import (
	"errors"
	"strings"
	"testing"

	"github.com/yieldvault/yieldvault/adapters"
)

func init() {
	RegisterParams("goref-test", func(cfg Config) (Strategy, error) {
		return NewEqualWeight(Config{Universe: cfg.Universe, Catalog: cfg.Catalog})
	},
		Param{Name: "lookback", Default: 7, Min: 1, Max: 90, Duration: true},
		Param{Name: "k", Default: 2, Min: 0, Max: 10})
}

func TestParseParam(t *testing.T) {
	tests := []struct {
		strategy, key, value string
		want                 float64
		err                  string
	}{
		{"goref-test", "lookback", "14d", 14, ""},
		{"goref-test", "lookback", "36h", 1.5, ""},
		{"goref-test", "lookback", "2.5d", 2.5, ""},
		{"goref-test", "lookback", "14", 0, `parameter lookback of go:goref-test: "14" is not a duration (like 14d, 36h or 90m)`},
		{"goref-test", "lookback", "12h", 0, "parameter lookback of go:goref-test: 12h is outside [1d, 90d]"},
		{"goref-test", "k", "4", 4, ""},
		{"goref-test", "k", "NaN", 0, `parameter k of go:goref-test: "NaN" is not a number`},
		{"goref-test", "k", "11", 0, "parameter k of go:goref-test: 11 is outside [0, 10]"},
		{"goref-test", "nope", "1", 0, `go:goref-test has no parameter "nope" (its parameters: lookback, k)`},
		{EqualWeightName, "anything", "0.5", 0.5, ""}, // declares none: its factory checks names
		{MaxYieldName, "anything", "0.5", 0, `go:max-yield has no parameter "anything" (its parameters: min_apy)`},
		{MaxYieldName, "min_apy", "1d", 0, `parameter min_apy of go:max-yield: "1d" is not a number`},
	}
	for _, tt := range tests {
		t.Run(tt.strategy+"/"+tt.key+"="+tt.value, func(t *testing.T) {
			got, err := ParseParam(tt.strategy, tt.key, tt.value)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, adapters.ErrInvalid) {
					t.Fatalf("err %v, want invalid: %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %g, %v; want %g", got, err, tt.want)
			}
		})
	}
}

func TestNewGo(t *testing.T) {
	cat := adapters.Builtin()
	g, err := NewGo("goref-test", Config{Universe: []string{"aave-v3/usdc", "compound-v3/usdc"}, Params: map[string]float64{"k": 3}, Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	if g.Base != adapters.USD || g.Params["k"] != 3 || g.Params["lookback"] != 7 {
		t.Errorf("base %s params %v: want USD, k 3, lookback 7 (the default)", g.Base, g.Params)
	}
	g2, err := g.WithParams(map[string]float64{"lookback": 30})
	if err != nil {
		t.Fatal(err)
	}
	if g2.Params["k"] != 3 || g2.Params["lookback"] != 30 || g.Params["lookback"] != 7 {
		t.Errorf("WithParams: %v (original %v): want k 3, lookback 30, the original untouched", g2.Params, g.Params)
	}
	for _, tt := range []struct {
		name string
		cfg  Config
		err  string
	}{
		{"no universe", Config{Catalog: cat}, "go:goref-test has no universe of its own"},
		{"mixed bases", Config{Universe: []string{"aave-v3/usdc", "lido/steth"}, Catalog: cat}, "has base ETH, the universe USD"},
		{"out of range", Config{Universe: []string{"lido/steth"}, Params: map[string]float64{"k": 20}, Catalog: cat}, "parameter k of go:goref-test: 20 is outside [0, 10]"},
		{"unknown", Config{Universe: []string{"lido/steth"}, Catalog: cat}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			name := "goref-test"
			if tt.err == "" {
				name, tt.err = "nope", `unknown strategy "nope"`
			}
			_, err := NewGo(name, tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("err %v, want %q", err, tt.err)
			}
		})
	}
}
