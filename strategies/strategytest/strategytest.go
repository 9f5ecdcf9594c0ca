// Package strategytest holds the invariants every strategy passes, and a
// generator of random but valid States for property tests.
//
// A strategy is done when
//
//	strategytest.Run(t, s, states, constraints)
//
// passes for it: weights >= 0 and finite, weights plus idle equal to 1
// within 1e-12, every constraint respected, allocations covering the
// universe in order with a reason for every zero, the same State giving
// the same Target (also from concurrent calls), a brief plan
// (State.Brief) giving that Target but for the allocations' reasons, a
// plan into a reused Target (strategies.PlanInto) giving the same, and
// the State left unmodified.
package strategytest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"

	"github.com/yieldvault/yieldvault/fixed"
)

// Tol is the tolerance of the sum and cap checks.
const Tol = 1e-12

// Run checks the strategy's invariants on every state. c are the
// constraints the strategy was built with.
func Run(t *testing.T, s strategies.Strategy, states []*strategies.State, c strategies.Constraints) {
	t.Helper()
	if len(states) == 0 {
		t.Fatal("strategytest.Run: no states")
	}
	for i, st := range states {
		t.Run(fmt.Sprintf("state%d", i), func(t *testing.T) {
			if err := Check(s, st, c); err != nil {
				t.Error(err)
			}
		})
	}
}

// Check runs the invariants of Run on one state and returns the first
// broken one as an error (for property tests that build states in a
// loop).
func Check(s strategies.Strategy, st *strategies.State, c strategies.Constraints) error {
	ctx := context.Background()
	before := CloneState(st)
	got, err := s.Plan(ctx, st)
	if err != nil {
		return fmt.Errorf("%s: Plan: %w", s.Name(), err)
	}
	if diff := diffState(before, st); diff != "" {
		return fmt.Errorf("%s: Plan modified the state (-before +after):\n%s", s.Name(), diff)
	}
	if err := CheckTarget(st, &got, c); err != nil {
		return fmt.Errorf("%s: %w", s.Name(), err)
	}
	again, err := s.Plan(ctx, st)
	if err != nil {
		return fmt.Errorf("%s: second Plan: %w", s.Name(), err)
	}
	if diff := cmp.Diff(got, again); diff != "" {
		return fmt.Errorf("%s: the same state gave a different target (-first +second):\n%s", s.Name(), diff)
	}
	// Concurrent plans on one state: same answers (and, under -race, no
	// data race).
	const workers = 4
	targets := make([]strategies.Target, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { targets[w], errs[w] = s.Plan(ctx, st) })
	}
	wg.Wait()
	for w := range workers {
		if errs[w] != nil {
			return fmt.Errorf("%s: concurrent Plan: %w", s.Name(), errs[w])
		}
		if diff := cmp.Diff(got, targets[w]); diff != "" {
			return fmt.Errorf("%s: a concurrent Plan gave a different target (-first +concurrent):\n%s", s.Name(), diff)
		}
	}
	if diff := diffState(before, st); diff != "" {
		return fmt.Errorf("%s: concurrent Plans modified the state (-before +after):\n%s", s.Name(), diff)
	}
	b := *st
	b.Brief = true
	brief, err := s.Plan(ctx, &b)
	if err != nil {
		return fmt.Errorf("%s: brief Plan: %w", s.Name(), err)
	}
	if err := SameBrief(&got, &brief); err != nil {
		return fmt.Errorf("%s: brief Plan: %w", s.Name(), err)
	}
	// Plans into a reused Target (strategies.PlanInto, as a keeper's
	// step plans) give what Plan gives, whatever the Target held: first
	// brief into one filled with other values, then in full into that.
	into := strategies.Target{Idle: 7, Reason: "stale", Exit: []string{"stale"}}
	for range len(got.Allocations) + 1 {
		into.Allocations = append(into.Allocations, strategies.Allocation{Market: "stale", Weight: 7, Reason: "stale", Reads: []string{"stale"}, Leverage: 7, Capped: true})
	}
	into.Allocations = into.Allocations[:len(got.Allocations)]
	if err := strategies.PlanInto(ctx, s, &b, &into); err != nil {
		return fmt.Errorf("%s: brief PlanInto: %w", s.Name(), err)
	}
	if diff := cmp.Diff(brief, into); diff != "" {
		return fmt.Errorf("%s: a brief plan into a used target differs from the brief Plan (-Plan +PlanInto):\n%s", s.Name(), diff)
	}
	if err := strategies.PlanInto(ctx, s, st, &into); err != nil {
		return fmt.Errorf("%s: PlanInto: %w", s.Name(), err)
	}
	if diff := cmp.Diff(got, into); diff != "" {
		return fmt.Errorf("%s: a plan into a used target differs from Plan (-Plan +PlanInto):\n%s", s.Name(), diff)
	}
	if diff := diffState(before, st); diff != "" {
		return fmt.Errorf("%s: PlanInto modified the state (-before +after):\n%s", s.Name(), diff)
	}
	return nil
}

// SameBrief checks that brief, a plan of a brief State, is full, the plan
// of the same State in full, but for the allocations' reasons: the same
// weights (to the bit), idle, leverages, reads, exits and Target reason,
// and each allocation capped (Allocation.IsCapped) when full's is; a full
// allocation that is Capped says "capped by" in its reason.
func SameBrief(full, brief *strategies.Target) error {
	if brief.Idle != full.Idle || brief.Reason != full.Reason || !slices.Equal(brief.Exit, full.Exit) {
		return fmt.Errorf("idle %v, reason %q, exit %v; the full plan's %v, %q, %v", brief.Idle, brief.Reason, brief.Exit, full.Idle, full.Reason, full.Exit)
	}
	if len(brief.Allocations) != len(full.Allocations) {
		return fmt.Errorf("%d allocations, the full plan %d", len(brief.Allocations), len(full.Allocations))
	}
	for i, a := range brief.Allocations {
		f := full.Allocations[i]
		if a.Market != f.Market || math.Float64bits(a.Weight) != math.Float64bits(f.Weight) || a.Leverage != f.Leverage || !slices.Equal(a.Reads, f.Reads) {
			return fmt.Errorf("allocation %d is %+v, the full plan's %+v", i, a, f)
		}
		if a.IsCapped() != f.IsCapped() {
			return fmt.Errorf("%s: capped %v (reason %q), the full plan's %v (%q): not the same cap", a.Market, a.Capped, a.Reason, f.Capped, f.Reason)
		}
		if f.Capped && !strings.Contains(f.Reason, "capped by") {
			return fmt.Errorf("%s: the full plan's allocation is capped, its reason %q does not say by what", f.Market, f.Reason)
		}
	}
	return nil
}

// diffState compares two states: reflect.DeepEqual first (fast, and exact
// for a CloneState copy), then cmp.Diff to describe a difference (which
// also forgives representation-only changes such as an equal decimal).
func diffState(a, b *strategies.State) string {
	if reflect.DeepEqual(a, b) {
		return ""
	}
	return cmp.Diff(a, b)
}

// CheckTarget checks a Target against its State and constraints: one
// allocation per market in order, weights >= 0 and finite, weights plus
// idle 1 within Tol, every cap respected within Tol, a reason for every
// market at zero, exits naming markets of the state.
func CheckTarget(st *strategies.State, tg *strategies.Target, c strategies.Constraints) error {
	if err := c.Check(st, tg, Tol); err != nil {
		return err
	}
	for _, a := range tg.Allocations {
		if a.Weight == 0 && a.Reason == "" {
			return fmt.Errorf("%s is at zero with no reason", a.Market)
		}
		if !slices.IsSorted(a.Reads) {
			return fmt.Errorf("%s: Reads %v are not sorted", a.Market, a.Reads)
		}
	}
	for _, id := range tg.Exit {
		if st.Market(id) == nil {
			return fmt.Errorf("exit names %q, not a market of the state", id)
		}
	}
	return nil
}

// CloneState returns a deep copy of st: series, profiles, observations,
// tags and parameters are copied, so that comparing the copy with st after
// a Plan shows any modification.
func CloneState(st *strategies.State) *strategies.State {
	if st == nil {
		return nil
	}
	c := *st
	c.Params = cloneMap(st.Params)
	c.Markets = make([]strategies.MarketState, len(st.Markets))
	series := map[*adapters.Series]*adapters.Series{}
	for i, ms := range st.Markets {
		ms.Market = cloneMarket(ms.Market)
		if ms.Profile != nil {
			p := *ms.Profile
			p.RewardTokens = slices.Clone(p.RewardTokens)
			p.Tags = slices.Clone(p.Tags)
			if p.Params != nil {
				p.Params = make(map[string]adapters.Param, len(ms.Profile.Params))
				for k, v := range ms.Profile.Params {
					p.Params[k] = v
				}
			}
			ms.Profile = &p
		}
		if s := ms.Series; s != nil {
			if cs, ok := series[s]; ok {
				ms.Series = cs
			} else {
				cs := &adapters.Series{Market: cloneMarket(s.Market), Times: slices.Clone(s.Times),
					Set: slices.Clone(s.Set), Events: slices.Clone(s.Events)}
				for f := range s.Cols {
					cs.Cols[f] = slices.Clone(s.Cols[f])
				}
				series[s] = cs
				ms.Series = cs
			}
		}
		c.Markets[i] = ms
	}
	return &c
}

func cloneMarket(m adapters.Market) adapters.Market {
	m.Tags = slices.Clone(m.Tags)
	m.Params = cloneMap(m.Params)
	return m
}

func cloneMap(m map[string]float64) map[string]float64 {
	if m == nil {
		return nil
	}
	c := make(map[string]float64, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// Epoch is the earliest time RandomState uses.
var Epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// RandomState returns a random but valid State of up to n markets of the
// catalog, all of one base asset (chosen at random among the bases with
// markets), in random order. Each market has a look-back series of 0 to 48
// rows six hours apart ending at or before the State's time, plus up to
// three rows after it with absurd values (a strategy that reads them sees
// them in its Target); Row and Obs point at the latest row at or before
// the time. TVL, reward APY, withdrawal days and base_usd are sometimes
// unobserved; a market is sometimes paused; NAV is sometimes zero; the
// vault holds random positions. The same rng state gives the same State.
func RandomState(rng *rand.Rand, cat *adapters.Catalog, n int) *strategies.State {
	byBase := map[adapters.Asset][]adapters.Market{}
	for _, m := range cat.Markets() {
		byBase[m.Base] = append(byBase[m.Base], m)
	}
	var bases []adapters.Asset
	for _, b := range []adapters.Asset{adapters.ETH, adapters.BTC, adapters.USD} {
		if len(byBase[b]) > 0 {
			bases = append(bases, b)
		}
	}
	st := &strategies.State{Time: Epoch.Add(time.Duration(rng.IntN(365*24)) * time.Hour)}
	if len(bases) == 0 || n <= 0 {
		st.NAV, st.Idle = fixed.Num{}, fixed.Num{}
		return st
	}
	base := bases[rng.IntN(len(bases))]
	st.Base = base
	pool := slices.Clone(byBase[base])
	rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	pool = pool[:min(n, len(pool))]

	usd := map[adapters.Asset]float64{adapters.ETH: 3000, adapters.BTC: 60000, adapters.USD: 1}[base]
	usd *= 0.5 + rng.Float64()
	if base == adapters.USD {
		usd = 1
	}
	if rng.IntN(4) > 0 {
		st.BaseUSD = usd
	}
	nav := decimal.Zero
	if rng.IntN(5) != 0 {
		nav = decimal.NewFromInt(int64(rng.IntN(1_000_000) + 1)).Shift(-int32(rng.IntN(3)))
	}
	st.NAV = fixed.FromDec(nav)
	st.GasPrice = rng.Float64() * 50
	st.GasAssetPrice = 1
	if base != adapters.ETH {
		st.GasAssetPrice = 3000 / usd
	}

	// Current positions: random weights summing to at most 1.
	held := make([]float64, len(pool))
	left := 1.0
	for i := range held {
		if rng.IntN(2) == 0 {
			held[i] = left * rng.Float64() * 0.5
			left -= held[i]
		}
	}
	invested := decimal.Zero
	for i, m := range pool {
		ms := strategies.MarketState{Market: m, Row: -1}
		if p, err := cat.ProfileFor(m); err == nil {
			ms.Profile = p
		}
		ms.Series = randomSeries(rng, m, st.Time, usd, st.BaseUSD > 0)
		ms.Row = ms.Series.Index(st.Time.Unix())
		if ms.Row >= 0 {
			ms.Obs = ms.Series.At(ms.Row)
		}
		ms.Paused = rng.IntN(20) == 0
		ms.Weight = held[i]
		value := adapters.Quantize(nav.Mul(adapters.FromFloat(held[i])))
		ms.Value = fixed.FromDec(value)
		invested = invested.Add(value)
		if rng.IntN(3) == 0 {
			ms.PendingRewards = fixed.FromDec(adapters.Quantize(value.Mul(decimal.RequireFromString("0.001"))))
		}
		st.Markets = append(st.Markets, ms)
	}
	st.Idle = fixed.FromDec(nav.Sub(invested))
	if st.Idle.Sign() < 0 {
		st.Idle = fixed.Num{}
	}
	return st
}

// randomSeries makes a market's look-back series ending at or before at,
// plus a few rows after it.
func randomSeries(rng *rand.Rand, m adapters.Market, at time.Time, usd float64, usdKnown bool) *adapters.Series {
	s := &adapters.Series{Market: m}
	rows := rng.IntN(49)
	future := rng.IntN(4)
	step := int64(6 * 3600)
	end := at.Unix() - int64(rng.IntN(int(step)))
	start := end - int64(rows-1)*step
	hasTVL := rng.IntN(5) > 0
	hasReward := rng.IntN(2) == 0
	hasDays := m.Kind == adapters.LST || m.Kind == adapters.LRT
	apy := 0.01 + rng.Float64()*0.08
	if m.Kind == adapters.AMM && rng.IntN(4) == 0 {
		apy = -0.02 * rng.Float64() // an LP position losing to impermanent loss
	}
	reward := rng.Float64() * 0.03
	rate := 1 + rng.Float64()*0.2
	peg := 1.0
	if m.Kind == adapters.LST || m.Kind == adapters.LRT {
		peg = 0.9 + rng.Float64()*0.11
	}
	tvl := math.Pow(10, 5+rng.Float64()*4.5)
	for r := 0; r < rows+future; r++ {
		t := start + int64(r)*step
		var o adapters.Observation
		if r >= rows {
			// After the state's time: absurd values a strategy must not see.
			t = at.Unix() + int64(r-rows+1)*step
			o.Put(adapters.FieldAPY, 900)
			o.Put(adapters.FieldRewardAPY, 900)
			o.Put(adapters.FieldExchangeRate, rate)
			o.Put(adapters.FieldPrice, rate*0.5)
			o.Put(adapters.FieldTVL, 1)
		} else {
			apy = math.Max(-0.5, apy+rng.NormFloat64()*0.002)
			if m.Kind != adapters.AMM {
				apy = math.Max(0, apy) // only an LP position's return goes below zero
			}
			peg = math.Min(1.01, math.Max(0.85, peg+rng.NormFloat64()*0.002))
			tvl *= math.Exp(rng.NormFloat64() * 0.02)
			rate *= 1 + 1e-5
			o.Put(adapters.FieldAPY, apy)
			if hasReward {
				o.Put(adapters.FieldRewardAPY, reward)
			}
			o.Put(adapters.FieldExchangeRate, rate)
			o.Put(adapters.FieldPrice, rate*peg)
			if hasTVL {
				o.Put(adapters.FieldTVL, tvl)
				o.Put(adapters.FieldExitLiquidity, tvl/usd*0.05)
			}
			if hasDays {
				o.Put(adapters.FieldWithdrawalDays, float64(rng.IntN(15)))
			}
			if m.Kind == adapters.Lending {
				u := rng.Float64() * 0.95
				o.Put(adapters.FieldUtilization, u)
				o.Put(adapters.FieldBorrowAPY, apy/math.Max(u, 0.05))
			}
			if usdKnown {
				o.Put(adapters.FieldBaseUSD, usd)
			}
		}
		s.Times = append(s.Times, t)
		s.Set = append(s.Set, o.Set)
		for f := adapters.Field(0); f < adapters.NumFields; f++ {
			if o.Set.Has(f) && s.Cols[f] == nil {
				s.Cols[f] = make([]float64, r, rows+future)
			}
			if s.Cols[f] != nil {
				s.Cols[f] = append(s.Cols[f], o.Values[f])
			}
		}
	}
	return s
}
