package momentum_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/examples/custom-strategy/momentum"
	"github.com/yieldvault/yieldvault/strategies"
	"github.com/yieldvault/yieldvault/strategies/strategytest"
)

func TestRegistered(t *testing.T) {
	if !slices.Contains(strategies.Names(), momentum.Name) {
		t.Fatalf("Names() = %v, want %q registered", strategies.Names(), momentum.Name)
	}
	s, err := strategies.New(momentum.Name, strategies.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Name() != momentum.Name {
		t.Errorf("Name() = %q, want %q", s.Name(), momentum.Name)
	}
}

func TestNew_Params(t *testing.T) {
	tests := []struct {
		name   string
		params map[string]float64
		ok     bool
	}{
		{"defaults", nil, true},
		{"all set", map[string]float64{"k": 2, "beta": 0.5, "lookback_days": 3}, true},
		{"fractional k", map[string]float64{"k": 1.5}, false},
		{"zero lookback", map[string]float64{"lookback_days": 0}, false},
		{"negative beta", map[string]float64{"beta": -1}, false},
		{"unknown", map[string]float64{"gamma": 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := momentum.New(strategies.Config{Params: tt.params})
			if tt.ok && err != nil {
				t.Errorf("New(%v) = %v, want success", tt.params, err)
			}
			if !tt.ok && !errors.Is(err, adapters.ErrInvalid) {
				t.Errorf("New(%v) = %v, want kind invalid", tt.params, err)
			}
		})
	}
}

// TestStrategy_Conformance runs the strategies' invariant suite on random
// states, with and without caps.
func TestStrategy_Conformance(t *testing.T) {
	cat := adapters.Builtin()
	rng := rand.New(rand.NewPCG(21, 22))
	var states []*strategies.State
	for i := range 40 {
		states = append(states, strategytest.RandomState(rng, cat, 2+i%10))
	}
	for ci, c := range []strategies.Constraints{
		{},
		{Idle: 0.05, MaxWeight: 0.4, MaxKind: map[adapters.Kind]float64{adapters.LRT: 0.3}, MaxShareOfTVL: 0.01},
	} {
		t.Run(fmt.Sprintf("caps%d", ci), func(t *testing.T) {
			s, err := momentum.New(strategies.Config{Constraints: c, Params: map[string]float64{"lookback_days": 5}})
			if err != nil {
				t.Fatal(err)
			}
			strategytest.Run(t, s, states, c)
		})
	}
}

func TestStrategy_PlanCancelled(t *testing.T) {
	s, err := momentum.New(strategies.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Plan(ctx, &strategies.State{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Plan on a cancelled context = %v, want context.Canceled", err)
	}
}
