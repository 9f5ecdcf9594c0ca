package vault

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
)

// taskStrategy targets f/a at weight, lists exit in Target.Exit, and has
// fixed harvest and rebalance conditions. It counts its plans.
type taskStrategy struct {
	weight             float64
	exit               []string
	harvest, rebalance bool
	planErr            error
	plans              int
}

func (s *taskStrategy) Name() string { return "task" }
func (s *taskStrategy) Plan(_ context.Context, st *strategies.State) (strategies.Target, error) {
	s.plans++
	if s.planErr != nil {
		return strategies.Target{}, s.planErr
	}
	return strategies.Target{Allocations: []strategies.Allocation{{Market: "f/a", Weight: s.weight}}, Idle: 1 - s.weight, Exit: s.exit}, nil
}
func (s *taskStrategy) RebalanceSchedule() strategies.Schedule { return strategies.Schedule{} }
func (s *taskStrategy) HarvestSchedule() strategies.Schedule   { return strategies.Schedule{} }
func (s *taskStrategy) ShouldRebalance(strategies.VaultVars) (bool, string, error) {
	return s.rebalance, "rebalance rule", nil
}
func (s *taskStrategy) ShouldHarvest(strategies.VaultVars) (bool, string, error) {
	return s.harvest, "harvest rule", nil
}

// plainTask is taskStrategy without the Scheduled conditions.
type plainTask struct{ s *taskStrategy }

func (p plainTask) Name() string { return "plain" }
func (p plainTask) Plan(ctx context.Context, st *strategies.State) (strategies.Target, error) {
	return p.s.Plan(ctx, st)
}

// exitingTask adds strategies.Exiter to taskStrategy, counting checks.
type exitingTask struct {
	*taskStrategy
	checks int
}

func (x *exitingTask) ExitCheck(context.Context, *strategies.State) ([]string, error) {
	x.checks++
	return x.exit, nil
}

// noRuleTask is an exitingTask that says it has no exit rule.
type noRuleTask struct{ *exitingTask }

func (noRuleTask) HasExitRule() bool { return false }

// taskVault is a vault with f/a (rewards, harvestable) and f/b, 100
// deposited at t0, gas priced at 1 gwei.
func taskVault(t *testing.T) *Vault {
	t.Helper()
	v := newTestVault(t, plainConfig(), map[string]*fake{"f/a": {apy: 0.05, rewardAPY: 0.5, gas: 1000, harvest: true}, "f/b": {apy: 0.03}})
	mustOK(t, v.SetGas(1, 1))
	must(v.Deposit(t0, "u", d("100")))(t)
	return v
}

func TestRunner_Harvest(t *testing.T) {
	later := t0.Add(30 * 24 * time.Hour)
	tests := []struct {
		name     string
		strategy func(*taskStrategy) strategies.Strategy
		harvest  bool
		hold     bool // invest in f/a first (rewards accrue)
		force    bool
		wantSkip Skip
		wantWhy  string
	}{
		{"condition true", func(s *taskStrategy) strategies.Strategy { return s }, true, true, false, "", "harvest rule"},
		{"condition false", func(s *taskStrategy) strategies.Strategy { return s }, false, true, false, SkipCondition, "harvest rule"},
		{"forced over a false condition", func(s *taskStrategy) strategies.Strategy { return s }, false, true, true, "", ""},
		{"no condition, rewards over cost", func(s *taskStrategy) strategies.Strategy { return plainTask{s} }, false, true, false, "", "pending rewards"},
		{"no condition, no rewards", func(s *taskStrategy) strategies.Strategy { return plainTask{s} }, false, false, false, SkipCondition, "pending rewards 0 vs harvest cost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := taskVault(t)
			ts := &taskStrategy{weight: 0.5, harvest: tt.harvest}
			r := &Runner{Vault: v, Strategy: tt.strategy(ts)}
			if tt.hold {
				must(r.Rebalance(t.Context(), t0, t0, TriggerManual))(t)
			}
			mustOK(t, v.Accrue(later))
			rep, err := r.Harvest(t.Context(), later, later, tt.force)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Skip != tt.wantSkip || !strings.Contains(rep.Why, tt.wantWhy) {
				t.Errorf("skip %q why %q, want %q and a why containing %q", rep.Skip, rep.Why, tt.wantSkip, tt.wantWhy)
			}
			if got, want := rep.Harvest != nil, tt.wantSkip == ""; got != want {
				t.Fatalf("harvested %t, want %t", got, want)
			}
			if rep.Harvest != nil && v.PendingRewards().Sign() != 0 {
				t.Errorf("pending rewards after the harvest = %s, want 0", v.PendingRewards())
			}
			if rep.Harvest != nil {
				es := v.Ledger().Entries()
				last := es[len(es)-1]
				if want := fmt.Sprintf("harvest rewards %s", rep.Harvest.Markets[0].Rewards); last.Type != EntryHarvest || last.Reason != want {
					t.Errorf("last ledger entry %s %q, want a harvest %q", last.Type, last.Reason, want)
				}
			}
			if rep.Kind != TaskHarvest || !rep.Tick.Equal(later) || !rep.Vars.Now.Equal(later) {
				t.Errorf("kind %s tick %s vars at %s, want harvest at %s", rep.Kind, rep.Tick, rep.Vars.Now, later)
			}
		})
	}
}

func TestRunner_Rebalance(t *testing.T) {
	planErr := adapters.E("test.Plan", adapters.KindInvalid, "bad rule")
	tests := []struct {
		name      string
		trigger   Trigger
		rebalance bool
		planErr   error
		hook      bool
		wantSkip  Skip
		wantExec  bool
		wantWhy   string
		wantNote  string // a reason the decision must carry
		wantErr   error
	}{
		{"scheduled, condition true", TriggerSchedule, true, nil, false, "", true, "rebalance rule", "rebalance condition: rebalance rule", nil},
		{"scheduled, condition false", TriggerSchedule, false, nil, false, SkipCondition, false, "rebalance rule", "not executed: rebalance condition false: rebalance rule", nil},
		{"manual ignores the condition", TriggerManual, false, nil, false, "", true, "", "", nil},
		{"executor hook", TriggerSchedule, true, nil, true, "", true, "rebalance rule", "", nil},
		{"plan error", TriggerSchedule, true, planErr, false, "", false, "", "", adapters.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := taskVault(t)
			hooked := 0
			r := &Runner{Vault: v, Strategy: &taskStrategy{weight: 0.6, rebalance: tt.rebalance, planErr: tt.planErr}}
			if tt.hook {
				r.Execute = func(ctx context.Context, now time.Time, d Decision) (Result, error) {
					hooked++
					return v.Execute(now, d)
				}
			}
			rep, err := r.Rebalance(t.Context(), t0, t0, tt.trigger)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rep.Skip != tt.wantSkip || rep.Why != tt.wantWhy {
				t.Errorf("skip %q why %q, want %q %q", rep.Skip, rep.Why, tt.wantSkip, tt.wantWhy)
			}
			if rep.Decision == nil || rep.Target == nil {
				t.Fatalf("decision %v target %v, want both", rep.Decision, rep.Target)
			}
			if got := rep.Result != nil; got != tt.wantExec {
				t.Errorf("executed %t, want %t", got, tt.wantExec)
			}
			if !tt.wantExec && len(rep.Decision.Orders) != 0 {
				t.Errorf("a skipped decision keeps %d orders, want none", len(rep.Decision.Orders))
			}
			if tt.wantNote != "" && !slices.Contains(rep.Decision.Reasons, tt.wantNote) {
				t.Errorf("reasons %q lack %q", rep.Decision.Reasons, tt.wantNote)
			}
			w := v.Weights()["f/a"]
			if tt.wantExec && math.Abs(w-0.6) > 0.01 || !tt.wantExec && w != 0 {
				t.Errorf("weight of f/a %g after executed=%t", w, tt.wantExec)
			}
			if tt.hook && hooked != 1 {
				t.Errorf("executor hook called %d times, want 1", hooked)
			}
			if tt.trigger == TriggerSchedule && rep.Vars.Drift != rep.Decision.Inputs.Drift {
				t.Errorf("vars drift %g, want the decision's %g", rep.Vars.Drift, rep.Decision.Inputs.Drift)
			}
		})
	}
}

func TestRunner_ExitCheck(t *testing.T) {
	tests := []struct {
		name      string
		hold      bool
		exit      []string
		exiter    bool
		planExits bool
		noRule    bool // the strategy says it has no exit rule (HasExitRule false)
		wantSkip  Skip
		wantPlans int // plans during the exit check
		wantCheck int // ExitCheck calls
	}{
		{"nothing held", false, []string{"f/a"}, true, false, false, SkipNothingHeld, 0, 0},
		{"no exit, planned", true, nil, false, false, false, SkipNoExit, 1, 0},
		{"exit of a market not held", true, []string{"f/b"}, false, false, false, SkipNoExit, 1, 0},
		{"exiter: no exit, not planned", true, nil, true, false, false, SkipNoExit, 0, 1},
		{"exiter: exit, planned", true, []string{"f/a"}, true, false, false, "", 1, 1},
		{"exiter with PlanExits", true, []string{"f/a"}, true, true, false, "", 1, 0},
		{"plain strategy: exit", true, []string{"f/a"}, false, false, false, "", 1, 0},
		{"no exit rule: neither checked nor planned", true, nil, true, false, true, SkipNoExit, 0, 0},
		{"no exit rule with PlanExits: planned", true, nil, true, true, true, SkipNoExit, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := taskVault(t)
			ts := &taskStrategy{weight: 0.5}
			x := &exitingTask{taskStrategy: ts}
			var s strategies.Strategy = ts
			if tt.exiter {
				s = x
			}
			if tt.noRule {
				s = noRuleTask{x}
			}
			r := &Runner{Vault: v, Strategy: s, PlanExits: tt.planExits}
			if tt.hold {
				must(r.Rebalance(t.Context(), t0, t0, TriggerManual))(t)
			}
			ts.plans, ts.exit = 0, tt.exit
			now := t0.Add(time.Hour)
			mustOK(t, v.Accrue(now))
			rep, err := r.ExitCheck(t.Context(), now, now)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Skip != tt.wantSkip || ts.plans != tt.wantPlans || x.checks != tt.wantCheck {
				t.Errorf("skip %q, %d plans, %d exit checks; want %q, %d, %d", rep.Skip, ts.plans, x.checks, tt.wantSkip, tt.wantPlans, tt.wantCheck)
			}
			if tt.wantSkip != "" {
				return
			}
			if rep.Decision == nil || rep.Result == nil || rep.Decision.Trigger != TriggerExit {
				t.Fatalf("report %+v, want an executed exit decision", rep)
			}
			if p, _ := v.Position("f/a"); p.Units.Sign() != 0 {
				t.Errorf("f/a units after the exit = %s, want 0", p.Units)
			}
		})
	}
}

// series builds a series of market id (base ETH unless given) with rows at
// t0 + hours[i] carrying apy = 0.01*(i+1) and the given extra fields.
func series(id string, base adapters.Asset, hours []int, extra map[adapters.Field][]float64) *adapters.Series {
	s := &adapters.Series{Market: adapters.Market{ID: id, Base: base}}
	s.Cols[adapters.FieldAPY] = make([]float64, len(hours))
	for f, col := range extra {
		s.Cols[f] = col
	}
	for i, h := range hours {
		s.Times = append(s.Times, t0.Add(time.Duration(h)*time.Hour).Unix())
		s.Cols[adapters.FieldAPY][i] = 0.01 * float64(i+1)
		set := adapters.FieldSet(0).With(adapters.FieldAPY)
		for f, col := range extra {
			if !math.IsNaN(col[i]) {
				set = set.With(f)
			} else {
				s.Cols[f][i] = 0
			}
		}
		s.Set = append(s.Set, set)
	}
	return s
}

func TestVault_FeedWindow(t *testing.T) {
	nan := math.NaN()
	a := series("f/a", adapters.ETH, []int{0, 1, 2, 3}, map[adapters.Field][]float64{adapters.FieldGasPrice: {nan, nan, nan, nan}})
	b := series("f/b", adapters.ETH, []int{0, 2}, map[adapters.Field][]float64{adapters.FieldGasPrice: {7, 9}})
	at := func(h float64) time.Time { return t0.Add(time.Duration(h * float64(time.Hour))) }
	a.Events = []adapters.Event{
		{Time: t0, Market: "f/a", Type: adapters.EventPause},                      // at the vault's time: not fed
		{Time: at(2.5), Market: "f/a", Type: adapters.EventSlash, Size: 0.1},      // fed, a loss
		{Time: at(2.5), Market: "x/other", Type: adapters.EventPause},             // refused: not the vault's market
		{Time: at(5), Market: "f/a", Type: adapters.EventPause, Note: "too late"}, // after t: not fed
	}
	b.Events = []adapters.Event{{Time: at(1.5), Market: "f/b", Type: adapters.EventPause}}
	w := &adapters.Window{Series: []*adapters.Series{a, b}}

	v := taskVault(t)
	r := &Runner{Vault: v, Strategy: &taskStrategy{weight: 0.5}}
	must(r.Rebalance(t.Context(), t0, t0, TriggerManual))(t)
	rep, err := v.FeedWindow(w, at(3.25), Gas{Price: 5})
	if err != nil {
		t.Fatal(err)
	}
	type ev struct {
		Time   time.Time
		Market string
		Loss   bool
		Err    bool
	}
	var got []ev
	for _, e := range rep.Events {
		got = append(got, ev{e.Time, e.Market, e.Loss.Sign() > 0, e.Err != nil})
	}
	want := []ev{{at(1.5), "f/b", false, false}, {at(2.5), "f/a", true, false}, {at(2.5), "x/other", false, true}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if rep.Age != 75*time.Minute {
		t.Errorf("age %s, want 1h15m (f/b's row at 2h)", rep.Age)
	}
	if e, _ := v.Env("f/a"); !e.Obs.Time.Equal(at(3)) || e.Obs.Values[adapters.FieldAPY] != 0.04 {
		t.Errorf("f/a observation at %s apy %g, want the 3h row (0.04)", e.Obs.Time, e.Obs.Values[adapters.FieldAPY])
	}
	if p, _ := v.Position("f/b"); !p.Paused {
		t.Error("f/b not paused by its event")
	}
	if g := v.GasPrice(); g != 9 {
		t.Errorf("gas price %g, want 9 (f/b's, the first market whose row carries one)", g)
	}
	// Again at the same time: nothing new to apply.
	if rep, err := v.FeedWindow(w, at(3.25), Gas{Price: 5}); err != nil || len(rep.Events) != 0 {
		t.Errorf("second feed: %d events, err %v; want none", len(rep.Events), err)
	}
	// Before any row of f/b: the stale age, and the configured gas price.
	v2 := taskVault(t)
	late := &adapters.Window{Series: []*adapters.Series{a}}
	age, err := v2.ObserveWindow(late, at(1), Gas{Price: 5})
	if err != nil {
		t.Fatal(err)
	}
	if age != time.Duration(math.MaxInt64) || v2.GasPrice() != 5 {
		t.Errorf("age %s gas %g, want the maximum age (f/b has no series) and the configured 5", age, v2.GasPrice())
	}
}

func TestGasAssetPriceAt(t *testing.T) {
	nan := math.NaN()
	usd := func(vals ...float64) *adapters.Series {
		return series("u/usd", adapters.USD, []int{0, 1}, map[adapters.Field][]float64{adapters.FieldBaseUSD: vals})
	}
	eth := func(id string, vals ...float64) *adapters.Series {
		return series(id, adapters.ETH, []int{0, 1}, map[adapters.Field][]float64{adapters.FieldBaseUSD: vals})
	}
	tests := []struct {
		name   string
		series []*adapters.Series
		base   adapters.Asset
		hour   int
		want   float64
		wantOK bool
	}{
		{"ETH vault", []*adapters.Series{eth("e/a", 3000, 3100), eth("e/b", 2990, 3090)}, adapters.ETH, 1, 1, true},
		{"USD vault", []*adapters.Series{usd(1, 0.998), eth("e/a", 3000, 3100)}, adapters.USD, 1, 3100 / 0.998, true},
		{"latest row at or before t", []*adapters.Series{usd(1, 0.998), eth("e/a", 3000, 3100)}, adapters.USD, 0, 3000, true},
		{"first ETH market with a value", []*adapters.Series{eth("e/a", 3000, nan), eth("e/b", 2900, 2950), usd(1, 1)}, adapters.USD, 1, 2950, true},
		{"no ETH market", []*adapters.Series{usd(1, 1)}, adapters.USD, 1, 0, false},
		{"no market of the base", []*adapters.Series{eth("e/a", 3000, 3100)}, adapters.BTC, 1, 0, false},
		{"before the data", []*adapters.Series{usd(1, 1), eth("e/a", 3000, 3100)}, adapters.USD, -1, 0, false},
		{"no window", nil, adapters.USD, 1, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w *adapters.Window
			if tt.series != nil {
				w = &adapters.Window{Series: tt.series}
			}
			got, ok := GasAssetPriceAt(w, tt.base, t0.Add(time.Duration(tt.hour)*time.Hour).Unix())
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("GasAssetPriceAt = %g, %t; want %g, %t", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestVault_ObserveWindow(t *testing.T) {
	withUSD := series("f/a", adapters.ETH, []int{0}, map[adapters.Field][]float64{adapters.FieldBaseUSD: {2500}})
	plain := series("f/a", adapters.ETH, []int{0}, nil)
	tests := []struct {
		name string
		s    *adapters.Series
		gas  Gas
		want float64
	}{
		{"from the data", withUSD, Gas{AssetPrice: 7}, 1},
		{"setting", plain, Gas{AssetPrice: 7}, 7},
		{"default", plain, Gas{}, DefaultGasAssetPrice(adapters.ETH)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := taskVault(t)
			if _, err := v.ObserveWindow(&adapters.Window{Series: []*adapters.Series{tt.s}}, t0, tt.gas); err != nil {
				t.Fatal(err)
			}
			if got := v.GasAssetPrice(); got != tt.want {
				t.Errorf("gas asset price %g, want %g", got, tt.want)
			}
			if e, _ := v.Env("f/a"); e.GasAssetPrice != tt.want {
				t.Errorf("env gas asset price %g, want %g", e.GasAssetPrice, tt.want)
			}
		})
	}
}

func TestDefaultGasAssetPrice(t *testing.T) {
	for base, want := range map[adapters.Asset]float64{adapters.ETH: 1, adapters.USD: RefETHUSD, adapters.BTC: RefETHBTC} {
		if got := DefaultGasAssetPrice(base); got != want {
			t.Errorf("DefaultGasAssetPrice(%s) = %g, want %g", base, got, want)
		}
	}
}

func TestPrepareState(t *testing.T) {
	a := series("f/a", adapters.ETH, []int{0, 2}, nil)
	b := series("f/b", adapters.ETH, []int{5}, nil)
	w := &adapters.Window{Series: []*adapters.Series{a, b}}
	v := taskVault(t)
	mustOK(t, v.Accrue(t0.Add(3*time.Hour)))
	for _, tt := range []struct {
		name   string
		params map[string]float64
		want   map[string]float64
	}{
		{"own parameters", nil, nil},
		{"overrides", map[string]float64{"k": 2}, map[string]float64{"k": 2}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := v.StrategyState()
			PrepareState(st, w, tt.params)
			type row struct {
				Series *adapters.Series
				Row    int
				APY    float64
			}
			var got []row
			for _, ms := range st.Markets {
				got = append(got, row{ms.Series, ms.Row, ms.Obs.Values[adapters.FieldAPY]})
			}
			want := []row{{a, 1, 0.02}, {b, -1, 0}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("markets (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, st.Params); diff != "" {
				t.Errorf("params (-want +got):\n%s", diff)
			}
		})
	}
}

// readsTask is taskStrategy saying what its rebalance condition reads.
type readsTask struct {
	*taskStrategy
	reads strategies.VarSet
}

func (r readsTask) RebalanceReads() strategies.VarSet { return r.reads }
func (r readsTask) HarvestReads() strategies.VarSet   { return strategies.AllVars }

func TestRunner_Rebalance_preview(t *testing.T) {
	tests := []struct {
		name        string
		reads       strategies.VarSet
		rebalance   bool
		wantPreview bool
		wantExec    bool
	}{
		{"drift only, false: preview", strategies.VarDrift | strategies.VarNAV, false, true, false},
		{"drift only, true: full decision", strategies.VarDrift, true, false, true},
		{"reads cost, false: full decision", strategies.VarDrift | strategies.VarCostAPY, false, false, false},
		{"reads gain, false: full decision", strategies.VarGainAPY, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := taskVault(t)
			// f/b is far below its gas cost to buy: a full decision rejects it.
			ts := &taskStrategy{weight: 0.6, rebalance: tt.rebalance}
			r := &Runner{Vault: v, Strategy: readsTask{ts, tt.reads}}
			rep, err := r.Rebalance(t.Context(), t0, t0, TriggerSchedule)
			if err != nil {
				t.Fatal(err)
			}
			d := rep.Decision
			if d == nil {
				t.Fatal("no decision")
			}
			if d.Inputs.Preview != tt.wantPreview {
				t.Errorf("Preview = %t, want %t", d.Inputs.Preview, tt.wantPreview)
			}
			if got := rep.Result != nil; got != tt.wantExec {
				t.Errorf("executed %t, want %t", got, tt.wantExec)
			}
			if tt.wantPreview && (len(d.Orders) != 0 || len(d.Rejected) != 0 || rep.Skip != SkipCondition) {
				t.Errorf("preview: %d orders, %d rejections, skip %q; want none, none, %q", len(d.Orders), len(d.Rejected), rep.Skip, SkipCondition)
			}
			if rep.Vars.Drift != d.Inputs.Drift || rep.Vars.Drift == 0 {
				t.Errorf("vars drift %g, want the decision's %g (not 0)", rep.Vars.Drift, d.Inputs.Drift)
			}
		})
	}
}

// TestVault_Preview checks that Preview's inputs and drift are Decide's
// to the bit, over holdings, claims in transit and targets, and that
// Decide completing a preview (decideFrom, what a scheduled rebalance
// whose condition held does) gives Decide's whole decision.
func TestVault_Preview(t *testing.T) {
	targets := []strategies.Target{
		{Allocations: []strategies.Allocation{{Market: "f/a", Weight: 0.6}}, Idle: 0.4},
		{Allocations: []strategies.Allocation{{Market: "f/a", Weight: 0.2}, {Market: "f/b", Weight: 0.7}}, Idle: 0.1},
		{Allocations: []strategies.Allocation{{Market: "f/b", Weight: 0.3}}, Idle: 0.7, Exit: []string{"f/a"}},
		{Idle: 1},
	}
	v := newTestVault(t, plainConfig(), map[string]*fake{"f/a": {apy: 0.05, delay: 72 * time.Hour, queue: true, maxExit: 1}, "f/b": {apy: 0.03}})
	mustOK(t, v.SetGas(1, 1))
	must(v.Deposit(t0, "u", d("100")))(t)
	now := t0
	var prev Decision // the last check's preview: its NAV is no longer the vault's
	for k, first := range targets {
		for j, tg := range targets {
			now = now.Add(time.Hour)
			p, err := v.Preview(now, now, TriggerSchedule, tg)
			if err != nil {
				t.Fatal(err)
			}
			// Vars' NAV is the float of the decision's NAV, the vault's
			// (navFloat's num) or an earlier one.
			for _, c := range []*Decision{&p, &prev} {
				if got, want := c.Vars(v).NAV, f64(c.Inputs.NAV); c.Inputs.NAV.Sign() > 0 && math.Float64bits(got) != math.Float64bits(want) {
					t.Errorf("holding for target %d, target %d: Vars NAV %v of a decision's NAV %s, want %v", k, j, got, c.Inputs.NAV, want)
				}
			}
			prev = p
			full, err := v.Decide(now, now, TriggerSchedule, tg)
			if err != nil {
				t.Fatal(err)
			}
			want := full.Inputs
			want.GainAPY, want.CostAPY, want.Preview = 0, 0, true
			for i := range want.Markets {
				want.Markets[i].APY = 0
			}
			if diff := cmp.Diff(want, p.Inputs, decCmp); diff != "" {
				t.Errorf("holding for target %d, target %d: Preview inputs (-Decide +Preview):\n%s", k, j, diff)
			}
			p, err = v.Preview(now, now, TriggerSchedule, tg)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.decideFrom(now.Add(time.Hour), p, tg); err == nil {
				t.Errorf("holding for target %d, target %d: a preview completed an hour after it: no error", k, j)
			}
			from, err := v.decideFrom(now, p, tg)
			if err != nil {
				t.Fatal(err)
			}
			if full, err = v.Decide(now, now, TriggerSchedule, tg); err != nil { // want's APYs were zeroed in full's inputs
				t.Fatal(err)
			}
			if diff := cmp.Diff(full, from, decCmp); diff != "" {
				t.Errorf("holding for target %d, target %d: Decide from the preview (-Decide +from):\n%s", k, j, diff)
			}
		}
		// Move to the first target: holdings (and, for f/a, a queued exit) change.
		if _, err := v.Execute(now, must(v.Decide(now, now, TriggerManual, first))(t)); err != nil {
			t.Fatal(err)
		}
	}
	if v.transit().Sign() == 0 {
		t.Error("no claim in transit was covered")
	}
}

func TestVault_ObserveIndex(t *testing.T) {
	v := taskVault(t)
	var obs adapters.Observation
	obs.Put(adapters.FieldAPY, 0.07)
	for i, id := range v.Markets() {
		obs.Time = t0.Add(time.Duration(i+1) * time.Hour)
		if err := v.ObserveIndex(i, &obs); err != nil {
			t.Fatal(err)
		}
		if e, _ := v.Env(id); !e.Obs.Time.Equal(obs.Time) || e.Obs.Value(adapters.FieldAPY, 0) != 0.07 {
			t.Errorf("%s: observation %+v, want the one at %s", id, e.Obs, obs.Time)
		}
	}
	for _, i := range []int{-1, len(v.Markets())} {
		if err := v.ObserveIndex(i, &obs); !errors.Is(err, adapters.ErrNotFound) {
			t.Errorf("ObserveIndex(%d): err %v, want not found", i, err)
		}
	}
}

// ObserveRow gives a market the series' row as ObserveIndex gives it the
// row's Observation (Series.At), replacing what an earlier row set.
func TestVault_ObserveRow(t *testing.T) {
	v := taskVault(t)
	s := &adapters.Series{Times: []int64{t0.Unix(), t0.Add(time.Hour).Unix()}, Set: make([]adapters.FieldSet, 2)}
	s.Cols[adapters.FieldAPY] = []float64{0.07, 0.05}
	s.Cols[adapters.FieldTVL] = []float64{1e8, 0}
	s.Set[0] = adapters.FieldSet(0).With(adapters.FieldAPY).With(adapters.FieldTVL)
	s.Set[1] = adapters.FieldSet(0).With(adapters.FieldAPY)
	for i, id := range v.Markets() {
		for r := range s.Times {
			if err := v.ObserveRow(i, s, r); err != nil {
				t.Fatal(err)
			}
			if e, _ := v.Env(id); e.Obs != s.At(r) {
				t.Errorf("%s row %d: observation %+v, want %+v", id, r, e.Obs, s.At(r))
			}
		}
	}
	for _, i := range []int{-1, len(v.Markets())} {
		if err := v.ObserveRow(i, s, 0); !errors.Is(err, adapters.ErrNotFound) {
			t.Errorf("ObserveRow(%d): err %v, want not found", i, err)
		}
	}
	for _, r := range []int{-1, 2} {
		if err := v.ObserveRow(0, s, r); !errors.Is(err, adapters.ErrInvalid) {
			t.Errorf("ObserveRow(0, row %d): err %v, want invalid", r, err)
		}
	}
}

// TestVault_HarvestSkipped harvests rewards that do not cover their cost,
// gas_harvest 1000 at 2M gwei and 1 ETH (2) plus the profile's
// harvest_swap_cost share of the rewards rounded to 18 places: the
// market is skipped, its reason giving the rewards and the cost as fmt's
// %s of their decimals would. A swap cost whose shortest decimal has more
// digits than the fixed-point multiply takes (0.30000000000000004, 0.1+0.2
// in float64) is priced on decimals.
func TestVault_HarvestSkipped(t *testing.T) {
	for _, swap := range []float64{0, 0.005, 0.30000000000000004} {
		t.Run(fmt.Sprint(swap), func(t *testing.T) {
			v := newTestVault(t, plainConfig(), map[string]*fake{"f/a": {apy: 0.05, rewardAPY: 0.5, gas: 1000, harvest: true, swapCost: swap}, "f/b": {apy: 0.03}})
			mustOK(t, v.SetGas(1, 1))
			must(v.Deposit(t0, "u", d("100")))(t)
			r := &Runner{Vault: v, Strategy: &taskStrategy{weight: 0.5}}
			must(r.Rebalance(t.Context(), t0, t0, TriggerManual))(t)
			later := t0.Add(15 * 24 * time.Hour)
			mustOK(t, v.Accrue(later))
			mustOK(t, v.SetGas(2e6, 1))
			rewards := v.PendingRewards()
			cost := d("2").Add(rewards.Mul(decimal.NewFromFloat(swap)).Round(18))
			if rewards.Sign() <= 0 || rewards.Cmp(cost) >= 0 {
				t.Fatalf("pending rewards %s, want some below the cost %s", rewards, cost)
			}
			h, err := v.Harvest(later, later)
			if err != nil {
				t.Fatal(err)
			}
			want := []Rejection{{Market: "f/a", Reason: fmt.Sprintf("rewards %s do not cover the harvest cost %s", rewards, cost)}}
			if !cmp.Equal(h.Skipped, want) || len(h.Markets) != 0 {
				t.Errorf("skipped %v, harvested %v, want %v and none", h.Skipped, h.Markets, want)
			}
		})
	}
}
