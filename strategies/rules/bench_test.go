package rules

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
	"github.com/yieldvault/yieldvault/strategies/strategytest"

	"github.com/yieldvault/yieldvault/fixed"
)

// synthUniverse builds a catalog of n ETH LST markets on one synthetic
// protocol and a State at planTime where each has a 14-day hourly
// look-back (336 rows) and rows after planTime.
func synthUniverse(tb testing.TB, n int) (*adapters.Catalog, []string, *strategies.State) {
	tb.Helper()
	cat := adapters.NewCatalog()
	prof := adapters.Profile{Name: "synth", Display: "Synthetic LSTs", Kind: adapters.LST, Base: adapters.ETH,
		Params: map[string]adapters.Param{
			"slash_risk":     {Value: 0.002, Source: "benchmark"},
			"reward_haircut": {Value: 0.5, Source: "benchmark"},
		}}
	if err := cat.AddProfile(prof); err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	st := &strategies.State{Time: planTime, Base: adapters.ETH, NAV: fixed.NewFromInt(10_000), BaseUSD: 3000}
	var ids []string
	const rows = 14*24 + 6
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("synth/m%02d", i)
		tag := fmt.Sprintf("operator:op%d", i%5)
		if err := cat.AddMarket(adapters.Market{ID: id, Kind: adapters.LST, Base: adapters.ETH, Tags: []string{tag}}); err != nil {
			tb.Fatal(err)
		}
		m, _ := cat.Market(id)
		p, _ := cat.ProfileFor(m)
		s := &adapters.Series{Market: m, Times: make([]int64, rows), Set: make([]adapters.FieldSet, rows)}
		for _, f := range []adapters.Field{adapters.FieldAPY, adapters.FieldRewardAPY, adapters.FieldExchangeRate, adapters.FieldPrice, adapters.FieldTVL} {
			s.Cols[f] = make([]float64, rows)
		}
		apy, peg := 0.02+0.03*rng.Float64(), 0.985+0.02*rng.Float64()
		for r := 0; r < rows; r++ {
			s.Times[r] = planTime.Add(time.Duration(r-(rows-6)+1) * time.Hour).Unix()
			apy = math.Max(0, apy+0.0005*rng.NormFloat64())
			s.Cols[adapters.FieldAPY][r] = apy
			s.Cols[adapters.FieldRewardAPY][r] = 0.01
			s.Cols[adapters.FieldExchangeRate][r] = 1.1
			s.Cols[adapters.FieldPrice][r] = 1.1 * peg
			s.Cols[adapters.FieldTVL][r] = 1e8 + 1e9*rng.Float64()
			s.Set[r] = adapters.FieldSet(0).With(adapters.FieldAPY).With(adapters.FieldRewardAPY).
				With(adapters.FieldExchangeRate).With(adapters.FieldPrice).With(adapters.FieldTVL)
		}
		ms := strategies.MarketState{Market: m, Profile: p, Series: s, Row: s.Index(planTime.Unix())}
		ms.Obs = s.At(ms.Row)
		st.Markets = append(st.Markets, ms)
		ids = append(ids, id)
	}
	return cat, ids, st
}

func benchStrategy(tb testing.TB, cat *adapters.Catalog, ids []string) *Strategy {
	src := `name: bench
base: ETH
universe: [` + strings.Join(ids, ", ") + `]
params: { min_peg: 0.99 }
rules:
  eligible: peg >= params.min_peg && tvl > 1e6
  score: avg(net_apy, "7d") - 0.5 * slash_risk - 2 * max(0.0, 1 - min(peg, "24h"))
  weight: max(score, 0.0)
constraints: { idle: 0.02, max_weight: 0.05, max_tag: { "operator:op0": 0.15 } }
`
	s, err := Load("bench.yaml", []byte(src), cat)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// BenchmarkPlan is a three-rule strategy (eligible, score with two
// windows, weight) over 50 markets with a 14-day hourly look-back.
func BenchmarkPlan(b *testing.B) { benchPlan(b, false) }

// BenchmarkPlanBrief is BenchmarkPlan planning brief (State.Brief), as
// a keeper's step does: no per-market reasons but the caps.
func BenchmarkPlanBrief(b *testing.B) { benchPlan(b, true) }

func benchPlan(b *testing.B, brief bool) {
	cat, ids, st := synthUniverse(b, 50)
	s := benchStrategy(b, cat, ids)
	st.Brief = brief
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Plan(ctx, st); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/50, "ns/market")
}

// TestPlan_Synthetic50 checks the benchmark's workload: every invariant
// holds and both caps bind.
func TestPlan_Synthetic50(t *testing.T) {
	cat, ids, st := synthUniverse(t, 50)
	s := benchStrategy(t, cat, ids)
	strategytest.Run(t, s, []*strategies.State{st}, s.Constraints())
	got, err := s.Plan(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	eligible, capped := 0, 0
	for _, a := range got.Allocations {
		if !strings.HasPrefix(a.Reason, "ineligible") {
			eligible++
		}
		if strings.Contains(a.Reason, "capped by") {
			capped++
		}
	}
	if eligible == 0 || eligible == 50 || capped == 0 {
		t.Errorf("workload too trivial: %d eligible, %d capped", eligible, capped)
	}
}

// BenchmarkExitCheck is the exit rule alone (exit.when reading a 24h
// window and the peg) over the BenchmarkPlan workload: what a backtest
// pays between rebalance ticks, against a whole Plan with the same rule.
func BenchmarkExitCheck(b *testing.B) {
	cat, ids, st := synthUniverse(b, 50)
	s, err := Load("bench-exit.yaml", []byte(exitBenchSrc(ids)), cat)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		run  func() error
	}{
		{"exit_only", func() error { _, err := s.ExitCheck(ctx, st); return err }},
		{"plan", func() error { _, err := s.Plan(ctx, st); return err }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := tc.run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func exitBenchSrc(ids []string) string {
	return `name: bench-exit
base: ETH
universe: [` + strings.Join(ids, ", ") + `]
params: { min_peg: 0.99 }
rules:
  eligible: peg >= params.min_peg && tvl > 1e6
  score: avg(net_apy, "7d") - 0.5 * slash_risk - 2 * max(0.0, 1 - min(peg, "24h"))
  weight: max(score, 0.0)
constraints: { idle: 0.02, max_weight: 0.05, max_tag: { "operator:op0": 0.15 } }
exit: { when: 'min(peg, "24h") < 0.97' }
`
}

// BenchmarkPlanIntoW1 is a keeper's brief plan into a reused Target of
// the backtest's W1 strategy (three rules without windows, max_weight
// 0.1) over the BenchmarkPlan universe: what each of W1's 4,380
// rebalance checks plans.
func BenchmarkPlanIntoW1(b *testing.B) {
	cat, ids, st := synthUniverse(b, 50)
	s, err := Load("w1.yaml", []byte(`name: w1
base: ETH
universe: [`+strings.Join(ids, ", ")+`]
params: { min_peg: 0.985, peg_penalty: 2 }
rules:
  eligible: peg >= params.min_peg && tvl > 1e8
  score: net_apy - params.peg_penalty * max(0.0, 1 - peg)
  weight: max(score, 0.0)
constraints: { idle: 0.02, max_weight: 0.1 }
`), cat)
	if err != nil {
		b.Fatal(err)
	}
	st.Brief = true
	ctx := context.Background()
	var t strategies.Target
	b.ReportAllocs()
	for b.Loop() {
		if err := s.PlanInto(ctx, st, &t); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/50, "ns/market")
}
