package rules

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
	"github.com/yieldvault/yieldvault/strategies/strategytest"
)

// TestStrategy_ExitCheck requires ExitCheck to list exactly the markets
// Plan lists in Target.Exit, for exit rules on the compiled fast path,
// with look-back windows, reading the vault's weight, and on the VM, over
// random states (paused markets, markets without observations, parameter
// overrides included).
func TestStrategy_ExitCheck(t *testing.T) {
	cat := adapters.Builtin()
	rules := []string{
		`peg < params.min_peg`,
		`min(peg, "24h") < 0.999 || change(tvl, "7d") < -0.1`,
		`weight > 0.05 && apy < 0.04`,
		`len(filter(tags, {# startsWith "layer:"})) > 0 && peg < 1`,
	}
	for k, when := range rules {
		t.Run(fmt.Sprint(k), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(k), 7))
			fired, quiet := 0, 0
			for n := 0; n < 40; n++ {
				st := strategytest.RandomState(rng, cat, 12)
				if n%3 == 1 {
					st.Params = map[string]float64{"min_peg": 0.999}
				}
				s := loadFor(t, cat, st, fmt.Sprintf("exit: { when: '%s' }\n", when))
				tg, err := s.Plan(context.Background(), st)
				if err != nil {
					t.Fatalf("Plan: %v", err)
				}
				got, err := s.ExitCheck(context.Background(), st)
				if err != nil {
					t.Fatalf("ExitCheck: %v", err)
				}
				if d := cmp.Diff(tg.Exit, got); d != "" {
					t.Fatalf("state %d: ExitCheck differs from Plan's Target.Exit (-plan +exitcheck):\n%s", n, d)
				}
				fired += len(got)
				quiet += len(st.Markets) - len(got)
			}
			if fired == 0 || quiet == 0 {
				t.Fatalf("the rule fired on %d markets and not on %d: the comparison needs both", fired, quiet)
			}
		})
	}
}

// loadFor loads a strategy over st's universe with a score rule and the
// given extra YAML.
func loadFor(t *testing.T, cat *adapters.Catalog, st *strategies.State, extra string) *Strategy {
	t.Helper()
	ids := make([]string, len(st.Markets))
	for i := range st.Markets {
		ids[i] = st.Markets[i].Market.ID
	}
	src := fmt.Sprintf("name: x\nbase: %s\nuniverse: [%s]\nparams: { min_peg: 0.995 }\nrules: { score: apy }\n%s",
		st.Base, strings.Join(ids, ", "), extra)
	s, err := Load("x.yaml", []byte(src), cat)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return s
}

func TestStrategy_ExitCheckErrors(t *testing.T) {
	cat := adapters.Builtin()
	st := strategytest.RandomState(rand.New(rand.NewPCG(3, 3)), cat, 5)
	with := loadFor(t, cat, st, "exit: { when: 'peg < params.min_peg' }\n")
	without := loadFor(t, cat, st, "")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	short := *st
	short.Markets = st.Markets[1:]
	nan := *st
	nan.Params = map[string]float64{"min_peg": math.NaN()}
	tests := []struct {
		name string
		s    *Strategy
		ctx  context.Context
		st   *strategies.State
		kind error // nil: no error and no exits
	}{
		{"no exit rule", without, context.Background(), st, nil},
		{"nil state", with, context.Background(), nil, adapters.ErrInvalid},
		{"wrong universe", with, context.Background(), &short, adapters.ErrInvalid},
		{"NaN parameter", with, context.Background(), &nan, adapters.ErrInvalid},
		{"cancelled", with, cancelled, st, context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.s.ExitCheck(tc.ctx, tc.st)
			if tc.kind == nil {
				if err != nil || got != nil {
					t.Fatalf("got (%v, %v), want (nil, nil)", got, err)
				}
				return
			}
			if !errors.Is(err, tc.kind) {
				t.Fatalf("got error %v, want %v", err, tc.kind)
			}
			if _, perr := tc.s.Plan(tc.ctx, tc.st); !errors.Is(perr, tc.kind) {
				t.Errorf("Plan gives %v on the same input, want %v as ExitCheck", perr, tc.kind)
			}
		})
	}
}
