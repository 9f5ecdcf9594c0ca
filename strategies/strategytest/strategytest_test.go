package strategytest_test

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
	"github.com/yieldvault/yieldvault/strategies/strategytest"
)

// fake is a strategy whose Plan is a function, to feed the suite broken
// strategies.
type fake struct {
	plan func(st *strategies.State) strategies.Target
}

func (f fake) Name() string { return "fake" }

func (f fake) Plan(_ context.Context, st *strategies.State) (strategies.Target, error) {
	return f.plan(st), nil
}

// even splits 0.9 equally and keeps 0.1 idle.
func even(st *strategies.State) strategies.Target {
	t := strategies.Target{Idle: 0.1}
	n := float64(len(st.Markets))
	for _, ms := range st.Markets {
		t.Allocations = append(t.Allocations, strategies.Allocation{Market: ms.Market.ID, Weight: 0.9 / n, Reason: "even"})
	}
	if len(st.Markets) == 0 {
		t.Idle = 1
	}
	return t
}

func TestCheck(t *testing.T) {
	cat := adapters.Builtin()
	st := strategytest.RandomState(rand.New(rand.NewPCG(1, 1)), cat, 4)
	if len(st.Markets) < 2 {
		t.Fatalf("RandomState gave %d markets, want at least 2", len(st.Markets))
	}
	var calls atomic.Int64
	tests := []struct {
		name string
		plan func(st *strategies.State) strategies.Target
		c    strategies.Constraints
		want string // substring of the error; "" for success
	}{
		{"valid", even, strategies.Constraints{}, ""},
		{"modifies the state", func(st *strategies.State) strategies.Target {
			st.Markets[0].Obs.Put(adapters.FieldAPY, 7)
			return even(st)
		}, strategies.Constraints{}, "modified the state"},
		{"not deterministic", func(st *strategies.State) strategies.Target {
			t := even(st)
			t.Reason = strings.Repeat("x", int(calls.Add(1)))
			return t
		}, strategies.Constraints{}, "different target"},
		{"negative weight", func(st *strategies.State) strategies.Target {
			t := even(st)
			t.Allocations[0].Weight = -0.1
			t.Allocations[1].Weight += 0.1
			return t
		}, strategies.Constraints{}, "not a finite number >= 0"},
		{"NaN weight", func(st *strategies.State) strategies.Target {
			t := even(st)
			t.Allocations[0].Weight = math.NaN()
			return t
		}, strategies.Constraints{}, "not a finite number >= 0"},
		{"does not sum to 1", func(st *strategies.State) strategies.Target {
			t := even(st)
			t.Idle = 0.2
			return t
		}, strategies.Constraints{}, "differ from 1"},
		{"idle below the floor", even, strategies.Constraints{Idle: 0.2}, "below the idle floor"},
		{"over max_weight", even, strategies.Constraints{MaxWeight: 0.9 / float64(len(st.Markets)) / 2}, "above max_weight"},
		{"over a tag cap", even, strategies.Constraints{MaxTag: map[string]float64{"kind:" + string(st.Markets[0].Market.Kind): 0.01}}, "max_tag.kind:"},
		{"markets out of order", func(st *strategies.State) strategies.Target {
			t := even(st)
			t.Allocations[0], t.Allocations[1] = t.Allocations[1], t.Allocations[0]
			return t
		}, strategies.Constraints{}, "allocation 0 is"},
		{"a market missing", func(st *strategies.State) strategies.Target {
			t := even(st)
			t.Allocations = t.Allocations[1:]
			return t
		}, strategies.Constraints{}, "allocations for"},
		{"zero without a reason", func(st *strategies.State) strategies.Target {
			t := even(st)
			t.Idle += t.Allocations[0].Weight
			t.Allocations[0].Weight, t.Allocations[0].Reason = 0, ""
			return t
		}, strategies.Constraints{}, "at zero with no reason"},
		{"exit of an unknown market", func(st *strategies.State) strategies.Target {
			t := even(st)
			t.Exit = []string{"nowhere/x"}
			return t
		}, strategies.Constraints{}, "exit names"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := strategytest.Check(fake{tt.plan}, strategytest.CloneState(st), tt.c)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Check = %v, want success", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Check = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestRandomState(t *testing.T) {
	cat := adapters.Builtin()
	a := strategytest.RandomState(rand.New(rand.NewPCG(3, 9)), cat, 10)
	b := strategytest.RandomState(rand.New(rand.NewPCG(3, 9)), cat, 10)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("same seed, different states:\n%s", diff)
	}
	rng := rand.New(rand.NewPCG(4, 4))
	bases := map[adapters.Asset]int{}
	var paused, unobserved, noTVL int
	for i := range 300 {
		st := strategytest.RandomState(rng, cat, 1+i%15)
		bases[st.Base]++
		if st.NAV.Sign() < 0 || st.Idle.Sign() < 0 || st.Idle.GreaterThan(st.NAV) {
			t.Fatalf("state %d: NAV %s idle %s", i, st.NAV, st.Idle)
		}
		seen := map[string]bool{}
		for _, ms := range st.Markets {
			id := ms.Market.ID
			if seen[id] {
				t.Fatalf("state %d: %s twice", i, id)
			}
			seen[id] = true
			if ms.Market.Base != st.Base {
				t.Fatalf("state %d: %s has base %s, the state %s", i, id, ms.Market.Base, st.Base)
			}
			if ms.Profile == nil {
				t.Fatalf("state %d: %s has no profile", i, id)
			}
			if ms.Paused {
				paused++
			}
			if got := ms.Series.Index(st.Time.Unix()); got != ms.Row {
				t.Fatalf("state %d: %s Row %d, want %d", i, id, ms.Row, got)
			}
			if ms.Row < 0 {
				unobserved++
				continue
			}
			if diff := cmp.Diff(ms.Series.At(ms.Row), ms.Obs); diff != "" {
				t.Fatalf("state %d: %s Obs is not row %d:\n%s", i, id, ms.Row, diff)
			}
			if !ms.Obs.Set.Has(adapters.FieldTVL) {
				noTVL++
			}
			for r := 0; r <= ms.Row; r++ {
				o := ms.Series.At(r)
				if err := o.Validate(); err != nil {
					t.Fatalf("state %d: %s row %d: %v", i, id, r, err)
				}
			}
		}
	}
	for _, base := range []adapters.Asset{adapters.ETH, adapters.BTC, adapters.USD} {
		if bases[base] == 0 {
			t.Errorf("no state of base %s in 300", base)
		}
	}
	if paused == 0 || unobserved == 0 || noTVL == 0 {
		t.Errorf("paused %d, unobserved %d, without TVL %d: want some of each", paused, unobserved, noTVL)
	}
}
