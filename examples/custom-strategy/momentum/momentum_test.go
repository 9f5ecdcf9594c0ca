package momentum_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

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
		{"all set", map[string]float64{"k": 2, "beta": 0.5, "lookback": 3}, true},
		{"fractional k", map[string]float64{"k": 1.5}, false},
		{"zero lookback", map[string]float64{"lookback": 0}, false},
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
			s, err := momentum.New(strategies.Config{Constraints: c, Params: map[string]float64{"lookback": 5}})
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

func TestMean(t *testing.T) {
	day := int64(86400)
	t0 := time.Date(2024, 1, 10, 0, 0, 0, 0, time.UTC)
	// Rows a day apart ending at t0: APY 1%..6%, the 4th row without one.
	s := &adapters.Series{}
	apys := []float64{0.01, 0.02, 0.03, 0, 0.05, 0.06}
	for i, a := range apys {
		var o adapters.Observation
		if i != 3 {
			o.Put(adapters.FieldAPY, a)
		}
		s.Times = append(s.Times, t0.Unix()-int64(len(apys)-1-i)*day)
		s.Set = append(s.Set, o.Set)
		if s.Cols[adapters.FieldAPY] == nil {
			s.Cols[adapters.FieldAPY] = make([]float64, 0, len(apys))
		}
		s.Cols[adapters.FieldAPY] = append(s.Cols[adapters.FieldAPY], o.Values[adapters.FieldAPY])
	}
	tests := []struct {
		name   string
		row    int
		at     time.Time
		window time.Duration
		avg    float64
		n      int
	}{
		{"last 3 days, one row unobserved", 5, t0, 3 * 24 * time.Hour, (0.05 + 0.06) / 2, 2},
		{"whole series", 5, t0, 30 * 24 * time.Hour, (0.01 + 0.02 + 0.03 + 0.05 + 0.06) / 5, 5},
		{"no future rows (Row bounds the view)", 2, t0.Add(-3 * 24 * time.Hour), 30 * 24 * time.Hour, (0.01 + 0.02 + 0.03) / 3, 3},
		{"window excludes its start", 5, t0, 24 * time.Hour, 0.06, 1},
		{"no row", -1, t0, 24 * time.Hour, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := &strategies.MarketState{Series: s, Row: tt.row}
			avg, n := momentum.Mean(ms, adapters.FieldAPY, tt.at, tt.window)
			if n != tt.n || math.Abs(avg-tt.avg) > 1e-15 {
				t.Errorf("Mean = %g over %d rows, want %g over %d", avg, n, tt.avg, tt.n)
			}
		})
	}
}

func TestShouldRebalance(t *testing.T) {
	s, err := momentum.New(strategies.Config{Params: map[string]float64{"min_drift": 0.1}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		v    strategies.VaultVars
		want bool
	}{
		{strategies.VaultVars{Drift: 0.11}, true},
		{strategies.VaultVars{Drift: 0.1}, false},
		{strategies.VaultVars{Drift: 0.01, GainAPY: 0.031, CostAPY: 0.01}, true},
		{strategies.VaultVars{Drift: 0.01, GainAPY: 0.03, CostAPY: 0.01}, false},
	}
	for _, tt := range tests {
		got, why, err := s.ShouldRebalance(tt.v)
		if err != nil || got != tt.want || why == "" {
			t.Errorf("ShouldRebalance(%+v) = %v, %q, %v; want %v with a reason", tt.v, got, why, err, tt.want)
		}
	}
}

// TestExitCheck_MatchesPlan: the exit rule alone lists exactly what Plan
// lists in Target.Exit (the strategies.Exiter contract), on random states
// where some markets trade below exit_peg.
func TestExitCheck_MatchesPlan(t *testing.T) {
	cat := adapters.Builtin()
	rng := rand.New(rand.NewPCG(5, 6))
	s, err := momentum.New(strategies.Config{Params: map[string]float64{"exit_peg": 0.995}})
	if err != nil {
		t.Fatal(err)
	}
	listed := 0
	for i := range 60 {
		st := strategytest.RandomState(rng, cat, 2+i%8)
		exits, err := s.ExitCheck(context.Background(), st)
		if err != nil {
			t.Fatal(err)
		}
		tg, err := s.Plan(context.Background(), st)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(exits, tg.Exit) {
			t.Fatalf("state %d: ExitCheck %v, Plan's Exit %v", i, exits, tg.Exit)
		}
		for _, id := range exits {
			ms := st.Market(id)
			if peg, known := ms.Obs.Peg(ms.Profile.PegBasis()); !known || peg >= 0.995 || tg.Weight(id) != 0 {
				t.Errorf("state %d: %s listed with peg %g (known %v), weight %g", i, id, peg, known, tg.Weight(id))
			}
		}
		listed += len(exits)
	}
	if listed == 0 {
		t.Fatal("no random state had a market below exit_peg: the test checks nothing")
	}
}
