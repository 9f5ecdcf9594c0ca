package rules

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/expr-lang/expr/vm"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
	"github.com/yieldvault/yieldvault/strategies/strategytest"

	"github.com/yieldvault/yieldvault/fixed"
)

// lstState is three ETH LSTs: lido at 3% APY, rocketpool at 2%, coinbase
// at 5% but trading at 0.95 of its rate.
func lstState(t testing.TB) *strategies.State {
	cat := adapters.Builtin()
	return newState(adapters.ETH,
		marketState(t, cat, "lido/steth", obs(-1, fAPY, 0.03, fRate, 1.1, fPrice, 1.1, fTVL, 9e9)),
		marketState(t, cat, "rocketpool/reth", obs(-1, fAPY, 0.02, fRate, 1.05, fPrice, 1.05, fTVL, 2e9)),
		marketState(t, cat, "coinbase/cbeth", obs(-1, fAPY, 0.05, fRate, 1, fPrice, 0.95, fTVL, 1e9)),
	)
}

const lstHead = `name: lst
base: ETH
universe: [lido/steth, rocketpool/reth, coinbase/cbeth]
params: { min_peg: 0.99 }
`

func TestStrategy_Plan(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		want      []float64
		wantIdle  float64
		reasons   []string // substrings, per market
		wantExit  []string
		wantReads [][]string
	}{
		{
			name: "proportional to score, one ineligible",
			body: "rules: { eligible: peg >= params.min_peg, score: apy }\nconstraints: { idle: 0.1 }\n",
			want: []float64{0.54, 0.36, 0}, wantIdle: 0.1,
			reasons: []string{"score 0.03", "score 0.02", "ineligible: peg 0.95 < params.min_peg 0.99"},
			wantReads: [][]string{
				{"apy", "params.min_peg", "peg"}, {"apy", "params.min_peg", "peg"}, {"params.min_peg", "peg"},
			},
		},
		{
			name: "equal allocation with a max_weight cap",
			body: "rules: { score: apy }\nallocation: { method: equal }\nconstraints: { max_weight: 0.25 }\n",
			want: []float64{0.25, 0.25, 0.25}, wantIdle: 0.25,
			reasons: []string{"capped by max_weight = 0.25", "capped by max_weight = 0.25", "capped by max_weight = 0.25"},
		},
		{
			name: "top_k keeps the best score",
			body: "rules: { score: apy }\nallocation: { method: top_k, k: 1 }\nconstraints: { max_weight: 0.5 }\n",
			want: []float64{0, 0, 0.5}, wantIdle: 0.5,
			reasons: []string{"rank 2 of 3: outside the top 1", "rank 3 of 3", "rank 1 of 3"},
		},
		{
			name: "weight rule reads score",
			body: "rules: { score: apy, weight: 'score > 0.025 ? 3 : 1' }\n",
			want: []float64{3.0 / 7, 1.0 / 7, 3.0 / 7}, wantIdle: 0,
			reasons: []string{"score 0.03, weight 3", "score 0.02, weight 1", "score 0.05, weight 3"},
		},
		{
			name: "exit forces zero and is listed",
			body: "rules: { score: apy }\nexit: { when: 'peg < 0.97 || tvl < 1e6' }\n",
			want: []float64{0.6, 0.4, 0}, wantIdle: 0,
			reasons:  []string{"score 0.03", "score 0.02", "exit: peg 0.95 < 0.97"},
			wantExit: []string{"coinbase/cbeth"},
		},
		{
			name: "kind cap and has_tag",
			body: "rules: { eligible: 'has_tag(\"protocol:lido\") || apy > 0.04', score: apy }\nconstraints: { max_protocol: { lido: 0.3 } }\n",
			want: []float64{0.3, 0, 0.7}, wantIdle: 0,
			reasons: []string{"capped by max_protocol.lido = 0.3", `ineligible: has_tag("protocol:lido") || apy > 0.04 is false (apy=0.02)`, "score 0.05"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustLoad(t, lstHead+tc.body)
			st := lstState(t)
			got, err := s.Plan(context.Background(), st)
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			var w []float64
			for _, a := range got.Allocations {
				w = append(w, a.Weight)
			}
			if d := cmp.Diff(tc.want, w, cmpopts.EquateApprox(0, 1e-12)); d != "" {
				t.Errorf("weights (-want +got):\n%s", d)
			}
			if math.Abs(got.Idle-tc.wantIdle) > 1e-12 {
				t.Errorf("idle = %v, want %v", got.Idle, tc.wantIdle)
			}
			for i, r := range tc.reasons {
				if !strings.Contains(got.Allocations[i].Reason, r) {
					t.Errorf("%s: reason %q, want it to contain %q", got.Allocations[i].Market, got.Allocations[i].Reason, r)
				}
			}
			if d := cmp.Diff(tc.wantExit, got.Exit); d != "" {
				t.Errorf("exit (-want +got):\n%s", d)
			}
			for i, r := range tc.wantReads {
				if d := cmp.Diff(r, got.Allocations[i].Reads); d != "" {
					t.Errorf("%s: reads (-want +got):\n%s", got.Allocations[i].Market, d)
				}
			}
			if err := s.Constraints(); err.Validate() != nil {
				t.Fatal(err)
			}
			c := s.Constraints()
			if err := c.Check(st, &got, 1e-12); err != nil {
				t.Errorf("constraints broken: %v", err)
			}
		})
	}
}

func TestStrategy_Plan_RuntimeErrors(t *testing.T) {
	tests := []struct {
		name, rules string
		wantPos     string
		wantMsg     []string
	}{
		{"division by zero gives Inf", "{ score: apy / (tvl - tvl) }", "test.yaml:5:17", []string{"lido/steth", "rules.score", "+Inf"}},
		{"NaN score", "{ score: (apy - apy) / (tvl - tvl) }", "test.yaml:5:17", []string{"lido/steth", "rules.score", "NaN"}},
		{"negative weight", "{ score: apy, weight: score - 1 }", "test.yaml:5:30", []string{"lido/steth", "rules.weight", "-0.97", ">= 0"}},
		{"Inf weight", "{ score: apy, weight: 1 / (apy - apy) }", "test.yaml:5:30", []string{"lido/steth", "rules.weight", "+Inf"}},
		{"integer modulo by zero", "{ score: float(int(tvl) % int(apy)) }", "test.yaml:5:17", []string{"lido/steth", "rules.score", "integer divide by zero"}},
		{"index out of range", "{ eligible: 'tags[100] == \"x\"', score: apy }", "test.yaml:5:20", []string{"lido/steth", "rules.eligible", "out of range"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := mustLoad(t, lstHead+"rules: "+tc.rules+"\n")
			_, err := s.Plan(context.Background(), lstState(t))
			if !errors.Is(err, adapters.ErrInvalid) {
				t.Fatalf("Plan error = %v, want kind %v", err, adapters.KindInvalid)
			}
			var ae *adapters.Error
			if !errors.As(err, &ae) || ae.Pos != tc.wantPos {
				t.Errorf("error position of %v, want %q", err, tc.wantPos)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q spans lines", err)
			}
			for _, m := range tc.wantMsg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not contain %q", err, m)
				}
			}
		})
	}
}

func TestStrategy_Plan_BadState(t *testing.T) {
	s := mustLoad(t, lstHead+"rules: { score: apy }\n")
	st := lstState(t)
	st.Markets[0], st.Markets[1] = st.Markets[1], st.Markets[0]
	tests := []struct {
		name string
		st   *strategies.State
	}{
		{"nil", nil},
		{"wrong order", st},
		{"too few markets", &strategies.State{Time: planTime, Markets: st.Markets[:1]}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.Plan(context.Background(), tc.st); !errors.Is(err, adapters.ErrInvalid) {
				t.Errorf("Plan error = %v, want kind %v", err, adapters.KindInvalid)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Plan(ctx, lstState(t)); !errors.Is(err, context.Canceled) {
		t.Errorf("Plan on a cancelled context = %v, want context.Canceled", err)
	}
}

func TestStrategy_Plan_NoDataAndPaused(t *testing.T) {
	cat := adapters.Builtin()
	st := newState(adapters.ETH,
		marketState(t, cat, "lido/steth", obs(5, fAPY, 0.03)), // only a future row
		marketState(t, cat, "rocketpool/reth", obs(-1, fAPY, 0.02)),
	)
	st.Markets[1].Paused = true
	s := mustLoad(t, "base: ETH\nuniverse: [lido/steth, rocketpool/reth]\nrules: { score: apy }\n")
	got, err := s.Plan(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"no observation at or before 2024-06-01T00:00:00Z", "paused"}
	for i, w := range want {
		if a := got.Allocations[i]; a.Weight != 0 || a.Reason != w {
			t.Errorf("%s: weight %v reason %q, want 0 and %q", a.Market, a.Weight, a.Reason, w)
		}
	}
	if got.Idle != 1 {
		t.Errorf("idle = %v, want 1", got.Idle)
	}
}

// scoreOf evaluates a strategy's score rule for market i of st.
func scoreOf(t *testing.T, s *Strategy, st *strategies.State, i int) float64 {
	t.Helper()
	pc := &planCtx{s: s, t: st.Time.Unix(), mi: i, have: make([]bool, len(s.comp.windows)), vm: new(vm.VM)}
	pc.env.setParams(s.paramVals)
	pc.ms = &st.Markets[i]
	c := constsOf(pc.ms.Profile)
	pc.consts = &c
	pc.env.fill(pc.ms, s.tags[i], pc.consts, pc.t, s.readsHolding)
	v, err := pc.runFloat(s.score)
	if err != nil {
		t.Fatalf("score: %v", err)
	}
	return v
}

func TestWindow_Compute(t *testing.T) {
	cat := adapters.Builtin()
	// Hourly offsets from planTime: one row before the 7-day window, three
	// inside it, one after planTime that no window may see.
	ms := marketState(t, cat, "lido/steth",
		obs(-200, fAPY, 0.10, fTVL, 100, fRate, 1, fPrice, 1),
		obs(-100, fAPY, 0.02, fTVL, 120, fRate, 1, fPrice, 0.98),
		obs(-50, fAPY, 0.04, fRate, 1, fPrice, 0.99),
		obs(-1, fAPY, 0.03, fTVL, 150, fRate, 1, fPrice, 1),
		obs(3, fAPY, 9, fTVL, 1, fRate, 1, fPrice, 0.1),
	)
	tests := []struct {
		expr string
		want float64
	}{
		{`avg(apy, "7d")`, 0.03},
		{`min(apy, "7d")`, 0.02},
		{`max(apy, "1w")`, 0.04},
		{`stddev(apy, "7d")`, math.Sqrt(0.0002 / 3)},
		{`change(apy, "7d")`, (0.03 - 0.10) / 0.10},
		{`change(tvl, "7d")`, (150 - 100) / 100.0},
		{`avg(tvl, "7d")`, 135},  // the row without tvl does not count
		{`min(peg, "24h")`, 1},   // only the row at -1h
		{`min(peg, "3d")`, 0.99}, // rows at -50h and -1h
		{`min(peg, "30d")`, 0.98},
		{`avg(apy, "30m")`, 0.03}, // no row in the window: the current value
		{`stddev(apy, "30m")`, 0},
		{`change(apy, "30m")`, 0},
		{`avg(apy, "7d") + max(0.0, 1 - peg)`, 0.03}, // builtin max beside a window
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			s := mustLoad(t, "base: ETH\nuniverse: [lido/steth]\nrules: { score: '"+tc.expr+"' }\n")
			st := newState(adapters.ETH, ms)
			if got := scoreOf(t, s, st, 0); math.Abs(got-tc.want) > 1e-12 {
				t.Errorf("%s = %v, want %v", tc.expr, got, tc.want)
			}
		})
	}
}

func TestStrategy_WithParams(t *testing.T) {
	s := mustLoad(t, lstHead+"rules: { eligible: peg >= params.min_peg, score: apy }\n")
	loose, err := s.WithParams(map[string]float64{"min_peg": 0.9})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		s    *Strategy
		want float64 // coinbase/cbeth's weight
	}{{"file params", s, 0}, {"overridden", loose, 0.5}} {
		got, err := tc.s.Plan(context.Background(), lstState(t))
		if err != nil {
			t.Fatal(err)
		}
		if w := got.Weight("coinbase/cbeth"); math.Abs(w-tc.want) > 1e-12 {
			t.Errorf("%s: cbeth weight = %v, want %v", tc.name, w, tc.want)
		}
	}
	if got := s.Params()["min_peg"]; got != 0.99 {
		t.Errorf("original min_peg = %v after WithParams, want 0.99", got)
	}
	st := lstState(t)
	st.Params = map[string]float64{"min_peg": 0.9, "unrelated": 1}
	got, err := s.Plan(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	if w := got.Weight("coinbase/cbeth"); math.Abs(w-0.5) > 1e-12 {
		t.Errorf("State.Params override: cbeth weight = %v, want 0.5", w)
	}
	for _, bad := range []map[string]float64{{"min_pge": 1}, {"min_peg": math.NaN()}, {"min_peg": math.Inf(1)}} {
		if _, err := s.WithParams(bad); !errors.Is(err, adapters.ErrInvalid) {
			t.Errorf("WithParams(%v) error = %v, want kind %v", bad, err, adapters.KindInvalid)
		}
	}
}

func TestStrategy_Plan_Concurrent(t *testing.T) {
	s := mustLoad(t, lstHead+`rules:
  eligible: peg >= params.min_peg && avg(apy, "7d") > 0
  score: net_apy - 0.5 * slash_risk
constraints: { max_weight: 0.6 }
`)
	st := lstState(t)
	want, err := s.Plan(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				got, err := s.Plan(context.Background(), st)
				if err != nil {
					errs <- err.Error()
					return
				}
				if d := cmp.Diff(want, got); d != "" {
					errs <- d
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestStrategy_ShouldRebalance(t *testing.T) {
	s := mustLoad(t, lstHead+`rules: { score: apy }
rebalance: { every: "0 */6 * * *", when: "drift > 0.05 || gain_apy > 3 * cost_apy" }
harvest: { every: "@daily", when: "pending_rewards > 5 * harvest_cost && now.Hour() < 12" }
`)
	now := time.Date(2024, 6, 1, 1, 30, 0, 0, time.UTC)
	tests := []struct {
		name       string
		harvest    bool
		v          strategies.VaultVars
		want       bool
		wantReason string
	}{
		{"drift", false, strategies.VaultVars{Drift: 0.07, Now: now}, true, "drift 0.07 > 0.05"},
		{"gain", false, strategies.VaultVars{Drift: 0.01, GainAPY: 0.01, CostAPY: 0.001, Now: now}, true, "gain_apy 0.01 > 3 * cost_apy 0.003"},
		{"neither", false, strategies.VaultVars{Drift: 0.01, GainAPY: 0.001, CostAPY: 0.001, Now: now}, false,
			"drift 0.01 <= 0.05 and gain_apy 0.001 <= 3 * cost_apy 0.003"},
		{"harvest", true, strategies.VaultVars{PendingRewards: 1, HarvestCost: 0.1, Now: now}, true,
			"pending_rewards > 5 * harvest_cost && now.Hour() < 12 is true (pending_rewards=1, harvest_cost=0.1, now=2024-06-01T01:30:00Z)"},
		{"harvest afternoon", true, strategies.VaultVars{PendingRewards: 1, HarvestCost: 0.1, Now: now.Add(12 * time.Hour)}, false,
			"pending_rewards > 5 * harvest_cost && now.Hour() < 12 is false (pending_rewards=1, harvest_cost=0.1, now=2024-06-01T13:30:00Z)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := s.ShouldRebalance
			if tc.harvest {
				f = s.ShouldHarvest
			}
			got, reason, err := f(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want || reason != tc.wantReason {
				t.Errorf("got (%v, %q), want (%v, %q)", got, reason, tc.want, tc.wantReason)
			}
		})
	}
	rs := s.RebalanceSchedule()
	if rs.Spec != "0 */6 * * *" || rs.When != "drift > 0.05 || gain_apy > 3 * cost_apy" {
		t.Errorf("RebalanceSchedule = %+v", rs)
	}
	if got, want := rs.Sched.Next(now), time.Date(2024, 6, 1, 6, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("rebalance Next(%v) = %v, want %v", now, got, want)
	}
	if got, want := s.HarvestSchedule().Sched.Next(now), time.Date(2024, 6, 2, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("harvest Next(%v) = %v, want %v", now, got, want)
	}
	if got, want := s.RebalanceReads(), strategies.VarDrift|strategies.VarGainAPY|strategies.VarCostAPY; got != want {
		t.Errorf("RebalanceReads = %b, want %b", got, want)
	}
	if got, want := s.HarvestReads(), strategies.VarPendingRewards|strategies.VarHarvestCost|strategies.VarNow; got != want {
		t.Errorf("HarvestReads = %b, want %b", got, want)
	}
	plain := mustLoad(t, lstHead+"rules: { score: apy }\n")
	if ok, reason, err := plain.ShouldRebalance(strategies.VaultVars{}); !ok || err != nil || reason != "no condition" {
		t.Errorf("no condition: got (%v, %q, %v), want (true, \"no condition\", nil)", ok, reason, err)
	}
	if got := plain.RebalanceReads(); got != 0 {
		t.Errorf("no condition: RebalanceReads = %b, want 0", got)
	}
	if plain.RebalanceSchedule().Sched != nil {
		t.Errorf("no every: Sched = %v, want nil", plain.RebalanceSchedule().Sched)
	}
}

func TestProfileConsts_NetAPY(t *testing.T) {
	cat := adapters.Builtin()
	rng := rand.New(rand.NewPCG(9, 9))
	n := 0
	for k := 0; k < 30; k++ {
		st := strategytest.RandomState(rng, cat, 40)
		for i := range st.Markets {
			ms := &st.Markets[i]
			c := constsOf(ms.Profile)
			got, want := c.netAPY(ms), strategies.NetAPY(ms)
			if got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
				t.Errorf("%s: netAPY = %v, strategies.NetAPY = %v", ms.Market.ID, got, want)
			}
			if ms.Series == nil || ms.Row < 0 {
				continue
			}
			// The window form agrees too, row by row.
			vals := gather(nil, "net_apy", adapters.FieldAPY, ms.Series, &c, ms.Row, ms.Row)
			if len(vals) == 1 && vals[0] != want {
				t.Errorf("%s: gather(net_apy) = %v, strategies.NetAPY = %v", ms.Market.ID, vals[0], want)
			}
			n++
		}
	}
	if n < 100 {
		t.Fatalf("checked %d markets, want at least 100", n)
	}
}

func TestFmtNum(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{
		{0, "0"}, {0.03, "0.03"}, {0.0729678123, "0.0729678"}, {-0.97, "-0.97"}, {1.19228e+06, "1.19228e+06"},
		{5e7, "5e+07"}, {123456789, "1.23457e+08"}, {0.95, "0.95"}, {1e-310, "1e-310"}, {math.Inf(1), "+Inf"}, {math.NaN(), "NaN"},
		{math.MaxFloat64, "1.79769e+308"},
	}
	for _, tc := range tests {
		if got := fmtNum(tc.v); got != tc.want {
			t.Errorf("fmtNum(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

// TestStrategy_Plan_OwnProfiles plans on states whose markets carry
// profiles of their own (Catalog.ProfileFor's copies with the markets'
// parameters: a vault's, not the strategy's), whose constants the
// strategy remembers per market (ownConsts) rather than working them out
// at every plan: each plan's scores are net_apy = apy + reward_apy x (1 -
// reward_haircut) with the haircut of the profile the state holds now,
// also after the state's profile of a market changes to one with another
// haircut, and again when it changes back.
func TestStrategy_Plan_OwnProfiles(t *testing.T) {
	catalog := func(haircut float64) *adapters.Catalog {
		cat := adapters.Builtin()
		for _, id := range []string{"etherfi/weeth-own", "kelp/rseth-own"} {
			if err := cat.AddMarket(adapters.Market{ID: id, Kind: adapters.LRT, Base: adapters.ETH, Params: map[string]float64{"reward_haircut": haircut}}); err != nil {
				t.Fatal(err)
			}
		}
		return cat
	}
	s, err := Load("test.yaml", []byte("name: own\nbase: ETH\nuniverse: [etherfi/weeth-own, kelp/rseth-own]\nrules: { eligible: \"true\", score: \"net_apy\" }\n"), catalog(0.5))
	if err != nil {
		t.Fatal(err)
	}
	const apy, reward = 0.031, 0.017
	state := func(cat *adapters.Catalog) *strategies.State {
		var ms []strategies.MarketState
		for _, id := range []string{"etherfi/weeth-own", "kelp/rseth-own"} {
			m := marketState(t, cat, id, obs(-1, fAPY, apy, fRew, reward, fRate, 1, fPrice, 1))
			if m.Profile == s.profiles[len(ms)] {
				t.Fatal("the state's profile is the strategy's: the test does not reach the state's own constants")
			}
			ms = append(ms, m)
		}
		return newState(adapters.ETH, ms...)
	}
	half, none := state(catalog(0.5)), state(catalog(0))
	for k, tc := range []struct {
		st      *strategies.State
		haircut float64
	}{{half, 0.5}, {half, 0.5}, {none, 0}, {half, 0.5}, {none, 0}} {
		got, err := s.Plan(context.Background(), tc.st)
		if err != nil {
			t.Fatal(err)
		}
		// 0.0395 and 0.048: four decimals, as the reason's six digits
		// print them.
		want := "score " + strconv.FormatFloat(math.Round((apy+reward*(1-tc.haircut))*1e4)/1e4, 'g', -1, 64)
		for _, a := range got.Allocations {
			if !strings.HasPrefix(a.Reason, want) {
				t.Errorf("plan %d (haircut %g), %s: reason %q, want it to start %q", k, tc.haircut, a.Market, a.Reason, want)
			}
		}
	}
}

// TestStrategy_PlanColumns compares brief plans that run the rules over
// columns (planColumns) with the same plans market by market (the
// strategy without its column forms), on random states with markets
// unobserved, paused, held, at par (a peg of exactly 1) and not: the
// same Target to the bit (weights, idle, capped flags, read lists,
// reason), or the same error (a score that divides by zero, a negative
// weight), for every strategy in the column subset.
func TestStrategy_PlanColumns(t *testing.T) {
	ids := []string{"lido/steth", "rocketpool/reth", "coinbase/cbeth", "etherfi/weeth", "aave-v3/weth", "kelp/rseth"}
	rules := [][3]string{ // eligible, score, weight
		{"peg >= params.min_peg && tvl > 1e8", "net_apy - params.peg_penalty * max(0.0, 1 - peg)", "max(score, 0.0)"},
		{"tvl > 5e8 or apy > 0.04", "apy - 0.5 * slash_risk", ""},
		{"", "1 / (peg - 1)", ""},
		{"true", "apy", "apy - 0.03"},
		{"not (weight > 0.3)", "apy - exit_impact + -depeg_risk", "abs(score) * 2"},
		{"", "min(apy, reward_apy) + withdrawal_days / 100", ""},
	}
	for r, rs := range rules {
		src := "name: cols\nbase: ETH\nuniverse: [" + strings.Join(ids, ", ") + "]\nparams: { min_peg: 0.985, peg_penalty: 2 }\nrules:\n"
		for k, name := range []string{"eligible", "score", "weight"} {
			if rs[k] != "" {
				src += "  " + name + ": '" + rs[k] + "'\n"
			}
		}
		src += "constraints: { idle: 0.02, max_weight: 0.3 }\n"
		s, err := Load("cols.yaml", []byte(src), nil)
		if err != nil {
			t.Fatalf("rules %d: %v", r, err)
		}
		if s.cols == nil {
			t.Fatalf("rules %d: not in the column subset", r)
		}
		one := *s
		one.cols = nil // market by market
		errs := 0
		var lastState *strategies.State
		for seed := uint64(1); seed <= 40; seed++ {
			rng := rand.New(rand.NewPCG(seed, uint64(r)))
			var ms []strategies.MarketState
			for _, id := range ids {
				rate, price := 1.0, 1.0
				if rng.IntN(3) > 0 {
					rate, price = 1+0.1*rng.Float64(), 0.97+0.06*rng.Float64()
				}
				var rows []row
				if rng.IntN(8) > 0 { // else no observation
					rows = append(rows, obs(-1, fAPY, 0.06*rng.Float64(), fRew, 0.02*rng.Float64(), fRate, rate, fPrice, price, fTVL, 1e9*rng.Float64()))
				}
				m := marketState(t, adapters.Builtin(), id, rows...)
				m.Paused = rng.IntN(8) == 0
				if rng.IntN(2) == 0 {
					m.Value = fixed.NewFromInt(int64(1 + rng.IntN(400)))
					m.Weight = m.Value.InexactFloat64() / 1000
				}
				ms = append(ms, m)
			}
			st := newState(adapters.ETH, ms...)
			st.Brief = true
			lastState = st
			var got, want strategies.Target
			err1 := s.PlanInto(context.Background(), st, &got)
			err2 := one.PlanInto(context.Background(), st, &want)
			if (err1 == nil) != (err2 == nil) || (err1 != nil && err1.Error() != err2.Error()) {
				t.Fatalf("rules %d, seed %d: columns' error %v, one at a time %v", r, seed, err1, err2)
			}
			if err1 != nil {
				errs++
				continue
			}
			if !samePlan(got, want) {
				t.Fatalf("rules %d, seed %d: columns' plan\n%+v\none at a time\n%+v", r, seed, got, want)
			}
		}
		if (r == 2 || r == 3) != (errs > 0) {
			t.Errorf("rules %d: %d of 40 plans failed", r, errs)
		}
		if r == 0 {
			planColumnsConcurrently(t, s, lastState)
		}
	}
}

// planColumnsConcurrently plans st brief on 8 goroutines at once (each
// plan context its own columns) and wants every plan the same as alone.
func planColumnsConcurrently(t *testing.T, s *Strategy, st *strategies.State) {
	t.Helper()
	var want strategies.Target
	if err := s.PlanInto(context.Background(), st, &want); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	bad := make(chan string, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var got strategies.Target
			for range 50 {
				if err := s.PlanInto(context.Background(), st, &got); err != nil || !samePlan(got, want) {
					bad <- fmt.Sprintf("concurrent plan: %+v (%v), want %+v", got, err, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(bad)
	for b := range bad {
		t.Error(b)
	}
}

// samePlan reports whether two targets are the same to the bit.
func samePlan(a, b strategies.Target) bool {
	if math.Float64bits(a.Idle) != math.Float64bits(b.Idle) || a.Reason != b.Reason || !slices.Equal(a.Exit, b.Exit) || len(a.Allocations) != len(b.Allocations) {
		return false
	}
	for i := range a.Allocations {
		x, y := a.Allocations[i], b.Allocations[i]
		if x.Market != y.Market || math.Float64bits(x.Weight) != math.Float64bits(y.Weight) || x.Reason != y.Reason ||
			!slices.Equal(x.Reads, y.Reads) || x.Leverage != y.Leverage || x.Capped != y.Capped {
			return false
		}
	}
	return true
}
