package rules

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

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/fixed"
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

// TestExitSet checks that an ExitSet's Check gives each strategy's own
// ExitCheck, for strategies sharing a universe (one filling of the names,
// their own windows and parameters) and with one over another universe
// (checked alone), on states whose peg, TVL, utilization and holdings
// vary.
func TestExitSet(t *testing.T) {
	uni := "[coinbase/cbeth, rocketpool/reth, aave-v3/weth]"
	src := func(when, params string) string {
		return "name: x\nbase: ETH\nuniverse: " + uni + "\n" + params + "rules: { eligible: \"true\", score: \"1\" }\nexit: { when: '" + when + "' }\n"
	}
	// One catalog and markets without per-market parameters (whose
	// profiles Load copies): the strategies share its profiles, so the
	// set shares one filling of the names (as a vault's monitors do), the
	// first strategy's rule reading no holding and a later one's reading
	// it.
	cat := adapters.Builtin()
	var ss []*Strategy
	for _, c := range []struct{ when, params string }{
		{`avg(peg, "6h") < 0.99`, ""},
		{`change(tvl, "24h") < -0.1`, ""},
		{`peg < params.p`, "params: { p: 0.995 }\n"},
		{`holding > 0 && data_age > 2`, ""},
		{`kind == "lending" && utilization > 0.8 && min(tvl, "12h") > 1e6`, ""},
	} {
		s, err := Load("test.yaml", []byte(src(c.when, c.params)), cat)
		if err != nil {
			t.Fatal(err)
		}
		ss = append(ss, s)
	}
	if !NewExitSet(ss).shared {
		t.Fatal("strategies over one catalog's markets do not share the names' filling")
	}
	// kind == "lending" && ... cannot hold on the two LSTs: the set skips
	// them (and must give ExitCheck's result all the same, below).
	if nv := NewExitSet(ss).never; !slices.Equal(nv[4], []bool{true, true, false}) || nv[0] != nil {
		t.Errorf("markets the conditions cannot fire on: %v, want [true true false] for the fifth and none for the first", nv)
	}
	noExit := mustLoad(t, "name: x\nbase: ETH\nuniverse: "+uni+"\nrules: { eligible: \"true\", score: \"1\" }\n")
	uni = "[coinbase/cbeth, rocketpool/reth]"
	other := mustLoad(t, src(`peg < 0.999`, ""))
	fired := make([]int, len(ss))
	for seed := uint64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		mk := func(id string) strategies.MarketState {
			var rows []row
			for h := -30.0; h <= 0; h += 1 + float64(rng.IntN(3)) {
				rows = append(rows, obs(h, fPrice, 0.98+0.03*rng.Float64(), fRate, 1, fTVL, 1e6*(1+rng.Float64()), fUtil, rng.Float64()))
			}
			ms := marketState(t, adapters.Builtin(), id, rows...)
			if rng.IntN(2) == 0 {
				ms.Value = fixed.NewFromInt(int64(1 + rng.IntN(100)))
			}
			return ms
		}
		st := newState(adapters.ETH, mk("coinbase/cbeth"), mk("rocketpool/reth"), mk("aave-v3/weth"))
		st.Time = st.Time.Add(time.Duration(rng.IntN(3)) * time.Hour)
		checkSet(t, NewExitSet(ss), ss, st, fired, fmt.Sprintf("seed %d", seed))
		// A strategy without an exit rule: each is checked alone.
		mixed, err := NewExitSet([]*Strategy{ss[0], noExit}).Check(context.Background(), st)
		w0, _ := ss[0].ExitCheck(context.Background(), st)
		if err != nil || !slices.Equal(mixed[0], w0) || mixed[1] != nil {
			t.Errorf("seed %d, with a strategy without exit rule: %v (%v), want [%v []]", seed, mixed, err, w0)
		}
		st2 := newState(adapters.ETH, st.Markets[0], st.Markets[1])
		if _, err := NewExitSet([]*Strategy{other, ss[0]}).Check(context.Background(), st2); err == nil {
			t.Error("ExitSet on a state of 2 markets with a strategy of 3: no error")
		}
		got2, err := NewExitSet([]*Strategy{other}).Check(context.Background(), st2)
		want2, err2 := other.ExitCheck(context.Background(), st2)
		if err != nil || err2 != nil || !slices.Equal(got2[0], want2) {
			t.Errorf("seed %d, another universe: %v (%v), want %v (%v)", seed, got2, err, want2, err2)
		}
	}
	// Each rule fires on some states and not on others (60 market-states).
	for k, n := range fired {
		if n == 0 || n == 60 {
			t.Errorf("strategy %d (%s) fired on %d of 60 market-states: the test does not tell", k, ss[k].exit.src, n)
		}
	}
}

// TestExitSet_OwnParams checks that strategies over markets with
// parameters of their own, whose profiles Catalog.ProfileFor copies at
// every call (so no two strategies loaded apart share a profile
// pointer), share one filling of the names when the markets' profile
// constants are the same, and that the set's result is each strategy's
// ExitCheck; over a catalog whose override differs, they do not share.
func TestExitSet_OwnParams(t *testing.T) {
	catalog := func(haircut float64) *adapters.Catalog {
		cat := adapters.Builtin()
		for _, m := range []adapters.Market{
			{ID: "coinbase/cbeth-own", Kind: adapters.LST, Base: adapters.ETH, Params: map[string]float64{"reward_haircut": haircut, "withdrawal_days": 3}},
			{ID: "rocketpool/reth-own", Kind: adapters.LST, Base: adapters.ETH, Params: map[string]float64{"exit_liquidity": 50}},
		} {
			if err := cat.AddMarket(m); err != nil {
				t.Fatal(err)
			}
		}
		return cat
	}
	src := func(when string) []byte {
		return []byte("name: x\nbase: ETH\nuniverse: [coinbase/cbeth-own, rocketpool/reth-own]\nrules: { eligible: \"true\", score: \"1\" }\nexit: { when: '" + when + "' }\n")
	}
	conds := []string{`avg(net_apy, "6h") > 0.045`, `withdrawal_days > 2 && peg < 0.995`, `holding > 0 && exit_impact > 0.5`}
	load := func(cat *adapters.Catalog) []*Strategy {
		var ss []*Strategy
		for _, c := range conds {
			s, err := Load("test.yaml", src(c), cat)
			if err != nil {
				t.Fatal(err)
			}
			ss = append(ss, s)
		}
		return ss
	}
	cat := catalog(0.3)
	ss := load(cat)
	if ss[0].profiles[0] == ss[1].profiles[0] {
		t.Fatal("the strategies share a profile pointer: the test does not tell")
	}
	if !NewExitSet(ss).shared {
		t.Fatal("strategies over markets with the same own parameters do not share the names' filling")
	}
	if NewExitSet([]*Strategy{ss[0], load(catalog(0.6))[1]}).shared {
		t.Error("strategies over markets whose own parameters differ share the names' filling")
	}
	// The states' profiles alternate between the strategies' catalog's
	// and another's with a larger haircut (the state's profile decides
	// the constants): the set's remembered constants follow the state's.
	other := catalog(0.9)
	set := NewExitSet(ss)
	fired := make([]int, len(ss))
	for seed := uint64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 11))
		cat := cat
		if seed%3 == 0 {
			cat = other
		}
		mk := func(id string) strategies.MarketState {
			var rows []row
			for h := -12.0; h <= 0; h++ {
				rows = append(rows, obs(h, fAPY, 0.02+0.02*rng.Float64(), fRew, 0.03*rng.Float64(), fPrice, 0.99+0.01*rng.Float64(), fRate, 1))
			}
			ms := marketState(t, cat, id, rows...)
			if rng.IntN(2) == 0 {
				ms.Value = fixed.NewFromInt(int64(1 + rng.IntN(100)))
			}
			return ms
		}
		st := newState(adapters.ETH, mk("coinbase/cbeth-own"), mk("rocketpool/reth-own"))
		// The same series checked again hours later (the set's
		// remembered window columns, the windows fewer rows).
		for step := 0; step < 3; step++ {
			checkSet(t, set, ss, st, fired, fmt.Sprintf("seed %d, step %d", seed, step))
			st.Time = st.Time.Add(2 * time.Hour)
		}
	}
	for k, n := range fired {
		if n == 0 || n == 120 {
			t.Errorf("%s fired on %d of 120 market-states: the test does not tell", conds[k], n)
		}
	}
}

// checkSet checks that the set's result on st is each strategy's
// ExitCheck, and adds to fired[k] the markets strategy k fired on.
func checkSet(t *testing.T, set *ExitSet, ss []*Strategy, st *strategies.State, fired []int, where string) {
	t.Helper()
	got, err := set.Check(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	for k, s := range ss {
		want, err := s.ExitCheck(context.Background(), st)
		if err != nil {
			t.Fatal(err)
		}
		fired[k] += len(want)
		if !slices.Equal(got[k], want) {
			t.Errorf("%s, strategy %d (%s): ExitSet %v, ExitCheck %v", where, k, s.exit.src, got[k], want)
		}
	}
}

// TestStateConsts_Ways: a market's constants are kept for its last
// stateWays profiles, so that runs sharing a strategy at once, each over
// its own profile copies, find theirs while they alternate (one entry
// would be replaced at every plan), each profile's its own constants;
// a profile older than the last stateWays is worked out again.
func TestStateConsts_Ways(t *testing.T) {
	cat := adapters.Builtin()
	base, err := cat.Profile("lido")
	if err != nil {
		t.Fatal(err)
	}
	profiles := make([]*adapters.Profile, stateWays+1)
	for k := range profiles {
		cp := *base
		cp.Params = map[string]adapters.Param{"withdrawal_days": {Value: float64(k + 1)}}
		profiles[k] = &cp
	}
	sc := newStateConsts(2)
	first := make([]*profileConsts, stateWays)
	for k := range first {
		first[k] = sc.of(1, profiles[k])
	}
	for round := 0; round < 3; round++ {
		for k := range first {
			c := sc.of(1, profiles[k])
			if c != first[k] {
				t.Fatalf("round %d: profile %d's constants worked out again while only %d profiles alternate", round, k, stateWays)
			}
			if c.withdrawalDays != float64(k+1) {
				t.Fatalf("profile %d: withdrawal days %v, want its own %d", k, c.withdrawalDays, k+1)
			}
		}
	}
	if c := sc.of(0, profiles[0]); c == first[0] {
		t.Fatal("market 0 found market 1's entry")
	}
	sc.of(1, profiles[stateWays]) // one more: replaces the oldest
	if c := sc.of(1, profiles[0]); c == first[0] || c.withdrawalDays != 1 {
		t.Fatalf("the oldest profile kept past %d others (%p, %v)", stateWays, c, c.withdrawalDays)
	}
}
