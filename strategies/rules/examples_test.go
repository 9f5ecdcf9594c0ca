package rules

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
	"github.com/yieldvault/yieldvault/strategies/strategytest"
)

// statesFor returns random states over a strategy's universe, in its
// order: strategytest.RandomState's markets with their series and rows,
// rearranged.
func statesFor(t *testing.T, s *Strategy, seed uint64, n int) []*strategies.State {
	t.Helper()
	cat := adapters.Builtin()
	rng := rand.New(rand.NewPCG(seed, 7))
	var out []*strategies.State
	for tries := 0; len(out) < n && tries < 1000; tries++ {
		st := strategytest.RandomState(rng, cat, 100)
		if st.Base != s.Base() {
			continue
		}
		ms := make([]strategies.MarketState, 0, len(s.universe))
		for _, id := range s.Universe() {
			m := st.Market(id)
			if m == nil {
				t.Fatalf("RandomState has no %s", id)
			}
			ms = append(ms, *m)
		}
		st.Markets = ms
		out = append(out, st)
	}
	if len(out) < n {
		t.Fatalf("found %d states of base %s, want %d", len(out), s.Base(), n)
	}
	return out
}

func TestExamples(t *testing.T) {
	files, err := filepath.Glob("../../examples/strategies/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 5 {
		t.Fatalf("found %d example strategies, want at least 5", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			s, err := LoadFile(f, nil)
			if err != nil {
				t.Fatalf("LoadFile: %v", err)
			}
			if s.Name()+".yaml" != filepath.Base(f) {
				t.Errorf("name %q does not match the file name", s.Name())
			}
			if s.Description() == "" {
				t.Errorf("no description")
			}
			states := statesFor(t, s, 42, 20)
			strategytest.Run(t, s, states, s.Constraints())
			if _, err := s.Plan(context.Background(), states[0]); err != nil {
				t.Errorf("Plan: %v", err)
			}
		})
	}
}
