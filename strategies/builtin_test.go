package strategies_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
	"github.com/yieldvault/yieldvault/strategies/strategytest"

	"github.com/yieldvault/yieldvault/fixed"
)

func TestRegister_Panics(t *testing.T) {
	f := func(strategies.Config) (strategies.Strategy, error) { return nil, nil }
	tests := []struct {
		name string
		reg  string
		f    strategies.Factory
	}{
		{"nil factory", "test-nil", nil},
		{"empty name", "", f},
		{"padded name", " x", f},
		{"duplicate", strategies.MaxYieldName, f},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%q) did not panic", tt.reg)
				}
			}()
			strategies.Register(tt.reg, tt.f)
		})
	}
}

func TestNames(t *testing.T) {
	got := strategies.Names()
	if !slices.IsSorted(got) {
		t.Errorf("Names() = %v, not sorted", got)
	}
	for _, want := range []string{"equal-weight", "hold", "max-yield", "risk-adjusted"} {
		if !slices.Contains(got, want) {
			t.Errorf("Names() = %v, missing %q", got, want)
		}
	}
}

func TestNew(t *testing.T) {
	cat := adapters.Builtin()
	tests := []struct {
		name  string
		strat string
		cfg   strategies.Config
		kind  error // nil: success
	}{
		{"max-yield", "max-yield", strategies.Config{Universe: []string{"lido/steth"}, Catalog: cat}, nil},
		{"unknown strategy", "max-yeild", strategies.Config{}, adapters.ErrNotFound},
		{"unknown market", "equal-weight", strategies.Config{Universe: []string{"lido/stethh"}, Catalog: cat}, adapters.ErrNotFound},
		{"bad market id", "equal-weight", strategies.Config{Universe: []string{"steth"}}, adapters.ErrInvalid},
		{"duplicate market", "equal-weight", strategies.Config{Universe: []string{"lido/steth", "lido/steth"}}, adapters.ErrInvalid},
		{"mixed bases", "equal-weight", strategies.Config{Universe: []string{"lido/steth", "aave-v3/usdc"}, Catalog: cat}, adapters.ErrInvalid},
		{"unknown param", "max-yield", strategies.Config{Params: map[string]float64{"lamda": 1}}, adapters.ErrInvalid},
		{"param out of range", "risk-adjusted", strategies.Config{Params: map[string]float64{"lambda": -1}}, adapters.ErrInvalid},
		{"NaN param", "risk-adjusted", strategies.Config{Params: map[string]float64{"lambda": math.NaN()}}, adapters.ErrInvalid},
		{"params to a strategy with none", "equal-weight", strategies.Config{Params: map[string]float64{"k": 1}}, adapters.ErrInvalid},
		{"hold index past the universe", "hold", strategies.Config{Universe: []string{"lido/steth"}, Params: map[string]float64{"market": 1}}, adapters.ErrInvalid},
		{"hold fractional index", "hold", strategies.Config{Params: map[string]float64{"market": 0.5}}, adapters.ErrInvalid},
		{"bad constraints", "hold", strategies.Config{Constraints: strategies.Constraints{MaxWeight: 2}}, adapters.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := strategies.New(tt.strat, tt.cfg)
			if tt.kind == nil {
				if err != nil {
					t.Fatalf("New(%q) = %v, want success", tt.strat, err)
				}
				if s.Name() != tt.strat {
					t.Errorf("Name() = %q, want %q", s.Name(), tt.strat)
				}
				return
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("New(%q) error = %v, want kind %v", tt.strat, err, tt.kind)
			}
		})
	}
	_, err := strategies.New("nope", strategies.Config{})
	if err == nil || !strings.Contains(err.Error(), "max-yield") {
		t.Errorf("New(unknown) = %v, want the known names listed", err)
	}
}

// state builds a State at a fixed time from built-in markets and
// observations given as field -> value.
func state(t testing.TB, obs map[string]map[adapters.Field]float64, ids ...string) *strategies.State {
	t.Helper()
	cat := adapters.Builtin()
	at := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	st := &strategies.State{Time: at, NAV: fixed.NewFromInt(100), Idle: fixed.NewFromInt(100), BaseUSD: 3000}
	for _, id := range ids {
		m, err := cat.Market(id)
		if err != nil {
			t.Fatal(err)
		}
		p, err := cat.ProfileFor(m)
		if err != nil {
			t.Fatal(err)
		}
		st.Base = m.Base
		ms := strategies.MarketState{Market: m, Profile: p, Row: -1}
		if o, ok := obs[id]; ok {
			ms.Row = 0
			ms.Obs.Time = at
			for f, v := range o {
				ms.Obs.Put(f, v)
			}
		}
		st.Markets = append(st.Markets, ms)
	}
	return st
}

func weights(tg strategies.Target) []float64 {
	w := make([]float64, len(tg.Allocations))
	for i, a := range tg.Allocations {
		w[i] = a.Weight
	}
	return w
}

func TestMaxYield_Plan(t *testing.T) {
	obs := map[string]map[adapters.Field]float64{
		"lido/steth":      {adapters.FieldAPY: 0.03},
		"rocketpool/reth": {adapters.FieldAPY: 0.028},
		// 0.025 + 0.02 x (1 - 0.5) = 0.035: the best.
		"etherfi/weeth": {adapters.FieldAPY: 0.025, adapters.FieldRewardAPY: 0.02},
		"aave-v3/weth":  {adapters.FieldAPY: -0.001},
	}
	st := state(t, obs, "lido/steth", "rocketpool/reth", "etherfi/weeth", "aave-v3/weth", "coinbase/cbeth")
	c := strategies.Constraints{Idle: 0.05, MaxWeight: 0.5, MaxKind: map[adapters.Kind]float64{adapters.LRT: 0.3}}
	s, err := strategies.NewMaxYield(strategies.Config{Constraints: c})
	if err != nil {
		t.Fatal(err)
	}
	tg, err := s.Plan(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0.5, 0.15, 0.3, 0, 0}
	if diff := cmp.Diff(want, weights(tg), cmpopts.EquateApprox(0, 1e-12)); diff != "" {
		t.Errorf("weights (-want +got):\n%s", diff)
	}
	wantReasons := []string{
		"net apy 3.00%; capped by max_weight = 0.5",
		"net apy 2.80%",
		"net apy 3.50%; capped by max_kind.lrt = 0.3",
		"net apy -0.10% <= min_apy 0.00%",
		"no observation yet",
	}
	var got []string
	for _, a := range tg.Allocations {
		got = append(got, a.Reason)
	}
	if diff := cmp.Diff(wantReasons, got); diff != "" {
		t.Errorf("reasons (-want +got):\n%s", diff)
	}
}

func TestEqualWeight_Plan(t *testing.T) {
	obs := map[string]map[adapters.Field]float64{
		"lido/steth": {adapters.FieldAPY: 0.03}, "rocketpool/reth": {adapters.FieldAPY: 0.02}, "coinbase/cbeth": {adapters.FieldAPY: 0.01},
	}
	st := state(t, obs, "lido/steth", "rocketpool/reth", "coinbase/cbeth", "etherfi/weeth")
	st.Markets[2].Paused = true
	s, err := strategies.NewEqualWeight(strategies.Config{Constraints: strategies.Constraints{Idle: 0.1}})
	if err != nil {
		t.Fatal(err)
	}
	tg, err := s.Plan(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]float64{0.45, 0.45, 0, 0}, weights(tg), cmpopts.EquateApprox(0, 1e-12)); diff != "" {
		t.Errorf("weights (-want +got):\n%s", diff)
	}
	if r := tg.Allocations[2].Reason; r != "paused" {
		t.Errorf("paused market reason = %q, want %q", r, "paused")
	}
}

func TestRiskAdjusted_Plan(t *testing.T) {
	obs := map[string]map[adapters.Field]float64{
		// Lido: risk = slash 0.0005 + 0.1 x depeg_risk + 3/365 x 0.05.
		"lido/steth": {adapters.FieldAPY: 0.03, adapters.FieldExchangeRate: 1, adapters.FieldPrice: 1, adapters.FieldWithdrawalDays: 3},
		// Renzo at a 10% discount: its score is far below zero.
		"renzo/ezeth": {adapters.FieldAPY: 0.03, adapters.FieldRewardAPY: 0.02, adapters.FieldExchangeRate: 1, adapters.FieldPrice: 0.9},
	}
	st := state(t, obs, "lido/steth", "renzo/ezeth")
	s, err := strategies.NewRiskAdjusted(strategies.Config{Params: map[string]float64{"concentration": 0}})
	if err != nil {
		t.Fatal(err)
	}
	tg, err := s.Plan(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]float64{1, 0}, weights(tg), cmpopts.EquateApprox(0, 1e-12)); diff != "" {
		t.Errorf("weights (-want +got):\n%s", diff)
	}
	cat := adapters.Builtin()
	lido, _ := cat.Profile("lido")
	risk := lido.ParamOr("slash_risk", 0) + 0.1*lido.ParamOr("depeg_risk", 0) + 3.0/365*0.05
	want := fmt.Sprintf("score %.2f%% = net apy 3.00%% - 1 x risk %.2f%%", (0.03-risk)*100, risk*100)
	if r := tg.Allocations[0].Reason; r != want {
		t.Errorf("lido reason = %q, want %q", r, want)
	}
	if r := tg.Allocations[1].Reason; !strings.Contains(r, "<= min_score") {
		t.Errorf("renzo reason = %q, want it below min_score", r)
	}
	// A sweep override through State.Params: lambda 0 ranks by net apy
	// alone, and renzo's 4% beats lido's 3%.
	st.Params = map[string]float64{"lambda": 0}
	tg, err = s.Plan(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	if w := weights(tg); !(w[1] > w[0]) {
		t.Errorf("with lambda 0 weights = %v, want renzo above lido", w)
	}
	st.Params = map[string]float64{"lambda": -3}
	if _, err := s.Plan(context.Background(), st); !errors.Is(err, adapters.ErrInvalid) {
		t.Errorf("Plan with lambda -3 = %v, want kind invalid", err)
	}
}

func TestHold_Plan(t *testing.T) {
	obs := map[string]map[adapters.Field]float64{"lido/steth": {adapters.FieldAPY: 0.03}, "rocketpool/reth": {adapters.FieldAPY: 0.02}}
	tests := []struct {
		name  string
		ids   []string
		param map[string]float64
		c     strategies.Constraints
		want  []float64
	}{
		{"first market", []string{"lido/steth", "rocketpool/reth"}, nil, strategies.Constraints{}, []float64{1, 0}},
		{"second market", []string{"lido/steth", "rocketpool/reth"}, map[string]float64{"market": 1}, strategies.Constraints{}, []float64{0, 1}},
		{"idle floor applies", []string{"lido/steth"}, nil, strategies.Constraints{Idle: 0.02}, []float64{0.98}},
		{"no observation yet", []string{"coinbase/cbeth", "lido/steth"}, nil, strategies.Constraints{}, []float64{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := strategies.NewHold(strategies.Config{Universe: tt.ids, Params: tt.param, Constraints: tt.c})
			if err != nil {
				t.Fatal(err)
			}
			st := state(t, obs, tt.ids...)
			tg, err := s.Plan(context.Background(), st)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, weights(tg), cmpopts.EquateApprox(0, 1e-12)); diff != "" {
				t.Errorf("weights (-want +got):\n%s", diff)
			}
			if err := strategytest.CheckTarget(st, &tg, tt.c); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestBuiltin_PlanErrors(t *testing.T) {
	st := state(t, nil, "lido/steth", "rocketpool/reth")
	s, err := strategies.NewEqualWeight(strategies.Config{Universe: []string{"rocketpool/reth", "lido/steth"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Plan(context.Background(), st); !errors.Is(err, adapters.ErrInvalid) {
		t.Errorf("Plan on a state in another order = %v, want kind invalid", err)
	}
	if _, err := s.Plan(context.Background(), nil); !errors.Is(err, adapters.ErrInvalid) {
		t.Errorf("Plan(nil) = %v, want kind invalid", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Plan(ctx, st); !errors.Is(err, context.Canceled) {
		t.Errorf("Plan on a cancelled context = %v, want context.Canceled", err)
	}
}

// conformanceConstraints are the caps the built-ins run the suite under:
// none, and a set of overlapping caps.
var conformanceConstraints = []strategies.Constraints{
	{},
	{Idle: 0.03, MaxWeight: 0.3, MinWeight: 0.01, MaxShareOfTVL: 0.02,
		MaxKind:     map[adapters.Kind]float64{adapters.LRT: 0.35, adapters.AMM: 0.2},
		MaxProtocol: map[string]float64{"lido": 0.4, "aave-v3": 0.5},
		MaxTag:      map[string]float64{"layer:eigenlayer": 0.25, "avs:eigenda": 0.2, "oracle:chainlink": 0.45}},
}

func TestBuiltin_Conformance(t *testing.T) {
	cat := adapters.Builtin()
	rng := rand.New(rand.NewPCG(11, 12))
	var states []*strategies.State
	for i := range 60 {
		states = append(states, strategytest.RandomState(rng, cat, 1+i%12))
	}
	for _, name := range []string{"max-yield", "equal-weight", "risk-adjusted", "hold"} {
		for ci, c := range conformanceConstraints {
			t.Run(fmt.Sprintf("%s/caps%d", name, ci), func(t *testing.T) {
				s, err := strategies.New(name, strategies.Config{Constraints: c})
				if err != nil {
					t.Fatal(err)
				}
				strategytest.Run(t, s, states, c)
			})
		}
	}
}

// TestBuiltin_NoLookAhead checks that the rows RandomState places after
// the state's time (with a 90000% APY) never reach a plan: cutting the
// series at the state's time gives the same Target.
func TestBuiltin_NoLookAhead(t *testing.T) {
	cat := adapters.Builtin()
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 40 {
		st := strategytest.RandomState(rng, cat, 8)
		cut := strategytest.CloneState(st)
		for j := range cut.Markets {
			ms := &cut.Markets[j]
			n := ms.Row + 1
			ms.Series.Times, ms.Series.Set = ms.Series.Times[:n], ms.Series.Set[:n]
			for f := range ms.Series.Cols {
				if ms.Series.Cols[f] != nil {
					ms.Series.Cols[f] = ms.Series.Cols[f][:n]
				}
			}
		}
		for _, name := range []string{"max-yield", "equal-weight", "risk-adjusted", "hold"} {
			s, err := strategies.New(name, strategies.Config{})
			if err != nil {
				t.Fatal(err)
			}
			a, err1 := s.Plan(context.Background(), st)
			b, err2 := s.Plan(context.Background(), cut)
			if err1 != nil || err2 != nil {
				t.Fatalf("%s: %v, %v", name, err1, err2)
			}
			if diff := cmp.Diff(b, a); diff != "" {
				t.Errorf("state %d %s: future rows changed the target (-cut +full):\n%s", i, name, diff)
			}
		}
	}
}

func ExampleNew() {
	cat := adapters.Builtin()
	universe := []string{"lido/steth", "rocketpool/reth", "etherfi/weeth"}
	s, err := strategies.New("max-yield", strategies.Config{
		Universe:    universe,
		Catalog:     cat,
		Constraints: strategies.Constraints{Idle: 0.02, MaxWeight: 0.6},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	apy := map[string]float64{"lido/steth": 0.031, "rocketpool/reth": 0.029, "etherfi/weeth": 0.027}
	st := &strategies.State{Time: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Base: adapters.ETH, NAV: fixed.NewFromInt(100)}
	for _, id := range universe {
		m, _ := cat.Market(id)
		ms := strategies.MarketState{Market: m, Row: 0}
		ms.Obs.Put(adapters.FieldAPY, apy[id])
		st.Markets = append(st.Markets, ms)
	}
	tg, err := s.Plan(context.Background(), st)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, a := range tg.Allocations {
		fmt.Printf("%-16s %.2f  %s\n", a.Market, a.Weight, a.Reason)
	}
	fmt.Printf("%-16s %.2f\n", "idle", tg.Idle)
	// Output:
	// lido/steth       0.60  net apy 3.10%; capped by max_weight = 0.6
	// rocketpool/reth  0.38  net apy 2.90%
	// etherfi/weeth    0.00  net apy 2.70%; no room: the investable share 0.98 is spent
	// idle             0.02
}

// benchState is a 50-market ETH state: the built-in ETH markets cloned
// under new IDs, each with an observation and a profile.
func benchState(b *testing.B) *strategies.State {
	cat := adapters.Builtin()
	var pool []adapters.Market
	for _, m := range cat.Markets() {
		if m.Base == adapters.ETH {
			pool = append(pool, m)
		}
	}
	rng := rand.New(rand.NewPCG(8, 9))
	st := &strategies.State{Time: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), Base: adapters.ETH, NAV: fixed.NewFromInt(5000), BaseUSD: 3000}
	for i := range 50 {
		m := pool[i%len(pool)]
		p, err := cat.ProfileFor(m)
		if err != nil {
			b.Fatal(err)
		}
		m.ID = fmt.Sprintf("%s/bench%02d", m.Protocol, i)
		ms := strategies.MarketState{Market: m, Profile: p, Row: 0}
		ms.Obs.Put(adapters.FieldAPY, 0.01+0.05*rng.Float64())
		ms.Obs.Put(adapters.FieldRewardAPY, 0.01*rng.Float64())
		ms.Obs.Put(adapters.FieldExchangeRate, 1.05)
		ms.Obs.Put(adapters.FieldPrice, 1.05*(0.98+0.02*rng.Float64()))
		ms.Obs.Put(adapters.FieldTVL, math.Pow(10, 6+3*rng.Float64()))
		st.Markets = append(st.Markets, ms)
	}
	return st
}

// BenchmarkPlan50 plans over 50 markets with the constraints of the
// conformance suite's capped case, per built-in strategy.
func BenchmarkPlan50(b *testing.B) {
	st := benchState(b)
	c := conformanceConstraints[1]
	for _, name := range []string{"max-yield", "equal-weight", "risk-adjusted"} {
		b.Run(name, func(b *testing.B) {
			s, err := strategies.New(name, strategies.Config{Constraints: c})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Plan(ctx, st); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
