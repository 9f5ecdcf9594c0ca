package vault

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/fixed"
	"github.com/yieldvault/yieldvault/strategies"
)

type wantOrder struct {
	market string
	side   Side
	amount string // "" to skip the amount check
	mode   adapters.ExitMode
}

func TestVault_Decide(t *testing.T) {
	tests := []struct {
		name     string
		fakes    map[string]*fake
		cfg      func(c *Config)
		start    map[string]float64 // allocation before the decision
		gas      float64
		trigger  Trigger
		target   strategies.Target
		want     []wantOrder
		rejected []string // markets rejected ("*" for the whole decision)
		// asked, when set, is the amounts each market listed is quoted
		// at, in order (fake.asked).
		asked map[string][]string
		// reason, when set, is a rejection's reason the decision gives.
		reason string
	}{
		{
			name:   "buys from idle above the floor",
			fakes:  map[string]*fake{"f/a": {apy: 0.05}, "f/b": {apy: 0.04}},
			target: target(map[string]float64{"f/a": 0.5, "f/b": 0.3}),
			want:   []wantOrder{{"f/a", Buy, "50", 0}, {"f/b", Buy, "30", 0}},
		},
		{
			name:   "buys scaled to what idle holds above the floor",
			fakes:  map[string]*fake{"f/a": {apy: 0.05}, "f/b": {apy: 0.04}},
			cfg:    func(c *Config) { c.IdleFloor = 0.1 },
			target: target(map[string]float64{"f/a": 0.6, "f/b": 0.4}),
			want:   []wantOrder{{"f/a", Buy, "54.00000000006", 0}, {"f/b", Buy, "36.00000000004", 0}}, // 90 + 1e-12 of slack, pro rata,
		},
		{
			name:     "below the minimum trade",
			fakes:    map[string]*fake{"f/a": {apy: 0.05}},
			start:    map[string]float64{"f/a": 0.5},
			target:   target(map[string]float64{"f/a": 0.505}),
			rejected: []string{"f/a"},
		},
		{
			name:   "sells before buys",
			fakes:  map[string]*fake{"f/a": {apy: 0.03}, "f/b": {apy: 0.06}},
			start:  map[string]float64{"f/a": 0.6},
			target: target(map[string]float64{"f/a": 0.2, "f/b": 0.7}),
			want:   []wantOrder{{"f/a", Sell, "40", adapters.ExitInstant}, {"f/b", Buy, "70", 0}},
		},
		{
			name:   "a sell to zero sells everything",
			fakes:  map[string]*fake{"f/a": {apy: 0.03}},
			start:  map[string]float64{"f/a": 0.6},
			target: target(map[string]float64{}),
			want:   []wantOrder{{"f/a", Sell, "60", adapters.ExitInstant}},
		},
		{
			name:     "gas gate",
			fakes:    map[string]*fake{"f/a": {apy: 0.05, gas: 100000}},
			cfg:      func(c *Config) { c.Rebalance.MaxGasPrice = 50 },
			gas:      80,
			target:   target(map[string]float64{"f/a": 0.5}),
			rejected: []string{"*"},
		},
		{
			name:     "gas gate lets exits through",
			fakes:    map[string]*fake{"f/a": {apy: 0.05, gas: 100000}, "f/b": {apy: 0.05}},
			cfg:      func(c *Config) { c.Rebalance.MaxGasPrice = 50 },
			start:    map[string]float64{"f/a": 0.5},
			gas:      80,
			trigger:  TriggerExit,
			target:   strategies.Target{Allocations: []strategies.Allocation{{Market: "f/b", Weight: 0.9}}, Exit: []string{"f/a"}, Idle: 0.1},
			want:     []wantOrder{{"f/a", Sell, "", adapters.ExitInstant}},
			rejected: []string{"*"},
		},
		{
			name:   "queue when slippage costs more than waiting",
			fakes:  map[string]*fake{"f/q": {apy: 0.03, liq: 10, queue: true, delay: 3 * 24 * time.Hour}},
			start:  map[string]float64{"f/q": 0.8},
			target: target(map[string]float64{"f/q": 0.3}),
			want:   []wantOrder{{"f/q", Sell, "50", adapters.ExitQueue}},
		},
		{
			name:   "instant when there is no queue",
			fakes:  map[string]*fake{"f/a": {apy: 0.03, liq: 10}},
			start:  map[string]float64{"f/a": 0.8},
			target: target(map[string]float64{"f/a": 0.3}),
			want:   []wantOrder{{"f/a", Sell, "50", adapters.ExitInstant}},
		},
		{
			name:     "max slippage with no queue rejects the sell",
			fakes:    map[string]*fake{"f/a": {apy: 0.03, liq: 10}},
			cfg:      func(c *Config) { c.Rebalance.MaxSlippage = 0.01 },
			start:    map[string]float64{"f/a": 0.8},
			target:   target(map[string]float64{"f/a": 0.3}),
			rejected: []string{"f/a"},
		},
		{
			// The buy pays from idle (5.1% on 50 over 30 days beats its
			// 0.01 entry cost) but not funded by a 5% position: the sell
			// that would fund it does not happen either (no sell to idle).
			name:     "a sell whose buys are rejected does not execute",
			fakes:    map[string]*fake{"f/hi": {apy: 0.05}, "f/lo": {apy: 0.051, gas: 1e6}},
			cfg:      func(c *Config) { c.Rebalance.MinGainOverCost = 1 },
			gas:      10,
			start:    map[string]float64{"f/hi": 0.9},
			target:   target(map[string]float64{"f/hi": 0.4, "f/lo": 0.5}),
			rejected: []string{"f/hi", "f/lo"},
		},
		{
			name:   "a sell funds buys that pay for the move",
			fakes:  map[string]*fake{"f/hi": {apy: 0.02}, "f/lo": {apy: 0.06, gas: 1e6}},
			cfg:    func(c *Config) { c.Rebalance.MinGainOverCost = 1 },
			gas:    10,
			start:  map[string]float64{"f/hi": 0.9},
			target: target(map[string]float64{"f/hi": 0.4, "f/lo": 0.5}),
			want:   []wantOrder{{"f/hi", Sell, "50", adapters.ExitInstant}, {"f/lo", Buy, "50", 0}},
		},
		{
			// b cannot exit its 10 (no queue, 5 at most now): the full
			// move fails at b's exit, and dropping b's pair leaves a's,
			// whose exit the test prices as before (its cost summed
			// before b's), which pays.
			name:   "a source the venue cannot take drops out of the funding",
			fakes:  map[string]*fake{"f/a": {apy: 0.01, gas: 100}, "f/b": {apy: 0.02, gas: 100, maxExit: 5}, "f/c": {apy: 0.06, gas: 100}, "f/d": {apy: 0.05, gas: 100}},
			cfg:    func(c *Config) { c.Rebalance.Band = 0.5; c.Rebalance.MinGainOverCost = 1 },
			gas:    10,
			start:  map[string]float64{"f/a": 0.45, "f/b": 0.45},
			target: target(map[string]float64{"f/a": 0.25, "f/b": 0.35, "f/c": 0.15, "f/d": 0.15}),
			// a's 20 fund c's 15 and 5 of d's, scaled to the 20 - 1e-6
			// (a's exit gas) + 1e-10 (the idle slack) at hand:
			// 15 x 19.9999990001 / 20 and 5 x 19.9999990001 / 20.
			want: []wantOrder{{"f/a", Sell, "20", adapters.ExitInstant}, {"f/c", Buy, "14.999999250075", 0}, {"f/d", Buy, "4.999999750025", 0}},
		},
		{
			// a's 40 fund c's 20 (gain 20 x 0.05 = 1 over the year) and
			// d's 20 (0.8). The full move costs c's and d's entries
			// (1.1 + 0.9) and a's exit of 40 (0.1): 1.8 below 2.1. The
			// prefix without d's pair sells 20 of a, whose exit is not
			// priced yet, but c's entry alone (1.1) is above its gain:
			// it fails unpriced, and a is quoted at its over-weight for
			// its yield, then at the full move's sell for its exit (the
			// idle slack of 1e-10 short of 40), never at 20.
			name:   "a funding prefix whose entry costs exceed its gain fails without its exit's quote",
			fakes:  map[string]*fake{"f/a": {apy: 0.01, gas: 1e7}, "f/c": {apy: 0.06, gas: 1.1e8}, "f/d": {apy: 0.05, gas: 9e7}},
			cfg:    func(c *Config) { c.Rebalance.Band = 0.5; c.Rebalance.MinGainOverCost = 1; c.Rebalance.Horizon = Year },
			gas:    10,
			start:  map[string]float64{"f/a": 0.5},
			target: target(map[string]float64{"f/a": 0.1, "f/c": 0.2, "f/d": 0.2}),
			// The full move's test, its cost priced in full, in a's
			// rejection; the buys have no cash.
			rejected: []string{"f/a", "f/c", "f/d"},
			reason:   "sell of up to 39.9999999999 to fund buys: expected gain 1.8 over 8760h0m0s below 1 x cost 2.1",
			asked:    map[string][]string{"f/a": {"40", "39.9999999999"}},
		},
		{
			// The same with c's entry 0.5, d's 0.95 and a's exit 0.4: the
			// full move fails (1.8 below 1.85), and the prefix's bound
			// (c's entry, 0.5) is below its gain (1): a's exit of 20 is
			// priced (0.4), and the prefix pays (0.9 below 1).
			name:   "a funding prefix whose entry costs are below its gain prices its exit",
			fakes:  map[string]*fake{"f/a": {apy: 0.01, gas: 4e7}, "f/c": {apy: 0.06, gas: 5e7}, "f/d": {apy: 0.05, gas: 9.5e7}},
			cfg:    func(c *Config) { c.Rebalance.Band = 0.5; c.Rebalance.MinGainOverCost = 1; c.Rebalance.Horizon = Year },
			gas:    10,
			start:  map[string]float64{"f/a": 0.5},
			target: target(map[string]float64{"f/a": 0.1, "f/c": 0.2, "f/d": 0.2}),
			// c gets a's 20 less its exit's 0.4 (and the idle slack).
			want:     []wantOrder{{"f/a", Sell, "20", adapters.ExitInstant}, {"f/c", Buy, "", 0}},
			rejected: []string{"f/d"},
			asked:    map[string][]string{"f/a": {"40", "39.9999999999", "20"}},
		},
		{
			name:   "only as much as the buys need, lowest APY first",
			fakes:  map[string]*fake{"f/a": {apy: 0.03}, "f/b": {apy: 0.02}, "f/c": {apy: 0.06}},
			cfg:    func(c *Config) { c.Rebalance.MinGainOverCost = 1 },
			start:  map[string]float64{"f/a": 0.45, "f/b": 0.45},
			target: target(map[string]float64{"f/a": 0.35, "f/b": 0.35, "f/c": 0.2}),
			// idle 10 above the 10% target is 0: c's 20 come from b (2%)
			// first, b's whole over-weight of 10, then 10 of a's.
			want: []wantOrder{{"f/b", Sell, "10", adapters.ExitInstant}, {"f/a", Sell, "10", adapters.ExitInstant}, {"f/c", Buy, "20", 0}},
		},
		{
			name:   "an over-weight within the band stays when nothing needs the cash",
			fakes:  map[string]*fake{"f/a": {apy: 0.03}, "f/b": {apy: 0.03}},
			cfg:    func(c *Config) { c.Rebalance.Band = 0.05 },
			start:  map[string]float64{"f/a": 0.5, "f/b": 0.3},
			target: target(map[string]float64{"f/a": 0.46, "f/b": 0.3}),
			// idle is 20, target idle 24: the idle target needs 4, above
			// the minimum trade of 1.
			want: []wantOrder{{"f/a", Sell, "4", adapters.ExitInstant}},
		},
		{
			name:   "beyond the band sells down to the target",
			fakes:  map[string]*fake{"f/a": {apy: 0.03}, "f/b": {apy: 0.03}},
			cfg:    func(c *Config) { c.Rebalance.Band = 0.05 },
			start:  map[string]float64{"f/a": 0.6, "f/b": 0.2},
			target: target(map[string]float64{"f/a": 0.5, "f/b": 0.3}),
			want:   []wantOrder{{"f/a", Sell, "10", adapters.ExitInstant}, {"f/b", Buy, "10", 0}},
		},
		{
			name:  "a capped target is sold down to the cap",
			fakes: map[string]*fake{"f/a": {apy: 0.05}, "f/b": {apy: 0.01}},
			cfg:   func(c *Config) { c.Rebalance.Band = 0.5; c.Rebalance.MinGainOverCost = 1 },
			start: map[string]float64{"f/a": 0.45, "f/b": 0.45},
			target: strategies.Target{Idle: 0.1, Allocations: []strategies.Allocation{
				{Market: "f/a", Weight: 0.35, Reason: "score 0.05; capped by max_weight = 0.35"}, {Market: "f/b", Weight: 0.55}}},
			// The cap forces the sell; its proceeds pay for the buy even
			// though b earns less than a.
			want: []wantOrder{{"f/a", Sell, "10", adapters.ExitInstant}, {"f/b", Buy, "10", 0}},
		},
		{
			name:  "within the band the same over-weight is kept",
			fakes: map[string]*fake{"f/a": {apy: 0.05}, "f/b": {apy: 0.01}},
			cfg:   func(c *Config) { c.Rebalance.Band = 0.5; c.Rebalance.MinGainOverCost = 1 },
			start: map[string]float64{"f/a": 0.45, "f/b": 0.45},
			target: strategies.Target{Idle: 0.1, Allocations: []strategies.Allocation{
				{Market: "f/a", Weight: 0.35}, {Market: "f/b", Weight: 0.55}}},
			rejected: []string{"f/b"},
		},
		{
			name:   "paused market",
			fakes:  map[string]*fake{"f/a": {apy: 0.05}, "f/p": {apy: 0.05}},
			start:  map[string]float64{"f/p": 0.5},
			target: target(map[string]float64{"f/a": 0.5, "f/p": 0.2}),
			// The paused sell's proceeds are missing: the buy is scaled to
			// the 20 idle holds above the 0.3 idle target.
			want:     []wantOrder{{"f/a", Buy, "", 0}},
			rejected: []string{"f/p"},
		},
		{
			name:    "urgent exit of an illiquid market: instant what it can, rest queued",
			fakes:   map[string]*fake{"f/q": {apy: 0.03, maxExit: 10, queue: true, delay: 24 * time.Hour}},
			start:   map[string]float64{"f/q": 0.5},
			trigger: TriggerExit,
			target:  strategies.Target{Exit: []string{"f/q"}, Idle: 1},
			want:    []wantOrder{{"f/q", Sell, "50", adapters.ExitInstant}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := plainConfig()
			cfg.Rebalance.MinTrade = d("1")
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			v := newTestVault(t, cfg, tc.fakes)
			must(v.Deposit(t0, "u", d("100")))(t)
			allocate(t, v, tc.start)
			if tc.name == "paused market" {
				must(v.ApplyEvent(t0, adapters.Event{Time: t0, Market: "f/p", Type: adapters.EventPause}))(t)
			}
			mustOK(t, v.SetGas(tc.gas, 1))
			trig := tc.trigger
			if trig == "" {
				trig = TriggerSchedule
			}
			dec := must(v.Decide(t0, t0, trig, tc.target))(t)
			if len(dec.Orders) != len(tc.want) {
				t.Fatalf("%d orders, want %d:\n%s", len(dec.Orders), len(tc.want), dec.String())
			}
			for i, w := range tc.want {
				o := dec.Orders[i]
				if o.Market != w.market || o.Side != w.side || (w.amount != "" && !o.Amount.Equal(fixed.FromDec(d(w.amount)))) || (o.Side == Sell && o.Mode != w.mode) {
					t.Errorf("order %d = %s %s %s (%s), want %s %s %s (%s)", i, o.Side, o.Market, o.Amount, o.Mode, w.side, w.market, w.amount, w.mode)
				}
			}
			var rej []string
			for _, r := range dec.Rejected {
				rej = append(rej, r.Market)
			}
			if strings.Join(rej, ",") != strings.Join(tc.rejected, ",") {
				t.Errorf("rejected %v, want %v:\n%s", rej, tc.rejected, dec.String())
			}
			if tc.reason != "" && !strings.Contains(dec.String(), tc.reason) {
				t.Errorf("no reason %q in the decision:\n%s", tc.reason, dec.String())
			}
			for m, want := range tc.asked {
				if got := tc.fakes[m].asked[len(tc.fakes[m].asked)-len(want):]; strings.Join(got, " ") != strings.Join(want, " ") {
					t.Errorf("%s quoted at %v, want %v at the end of %v:\n%s", m, got, want, tc.fakes[m].asked, dec.String())
				}
			}
			checkExecute(t, v, dec)
		})
	}
}

// allocate puts weights of the vault's NAV into markets directly, at no cost.
func allocate(t testing.TB, v *Vault, w map[string]float64) {
	t.Helper()
	if len(w) == 0 {
		return
	}
	gas := v.gasPrice
	mustOK(t, v.SetGas(0, 1))
	_, r, err := v.Rebalance(v.now, time.Time{}, TriggerManual, target(w))
	mustOK(t, err)
	if len(r.Failed) > 0 {
		t.Fatalf("allocate: %v", r.Failed)
	}
	mustOK(t, v.SetGas(gas, 1))
}

// checkExecute executes d and checks the cost identity and the ledger.
func checkExecute(t *testing.T, v *Vault, d Decision) Result {
	t.Helper()
	r := must(v.Execute(d.Time, d))(t)
	if got, want := r.NAVBefore.Sub(r.NAVAfter), r.Costs.Add(r.Rounding); !got.Equal(want) {
		t.Errorf("NAV fell by %s, costs + rounding = %s", got, want)
	}
	if r.Rounding.Abs().Cmp(d2("0.00000000000001")) > 0 {
		t.Errorf("rounding residual %s is not tiny", r.Rounding)
	}
	if v.Idle().Sign() < 0 {
		t.Errorf("idle %s < 0", v.Idle())
	}
	if err := Reconcile(v); err != nil {
		t.Error(err)
	}
	return r
}

var d2 = d

// TestVault_DecideRefusesNegativeExit checks that a decision refuses a
// quote whose exit cost is negative (the adapters' contract says it never
// is, and the funding walk bounds the exits it has not priced by it),
// naming the market, whether the sale is planned, funds buys or is an
// urgent exit.
func TestVault_DecideRefusesNegativeExit(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     func(c *Config)
		trigger Trigger
		target  strategies.Target
	}{
		{name: "a sell to target", target: target(map[string]float64{"f/a": 0.2, "f/b": 0.7})},
		{name: "a sell that funds buys", cfg: func(c *Config) { c.Rebalance.Band = 0.5; c.Rebalance.MinGainOverCost = 1 }, target: target(map[string]float64{"f/a": 0.2, "f/b": 0.7})},
		{name: "an urgent exit", trigger: TriggerExit, target: strategies.Target{Exit: []string{"f/a"}, Idle: 0.4, Allocations: []strategies.Allocation{{Market: "f/b", Weight: 0.6}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := plainConfig()
			cfg.Rebalance.MinTrade = d("1")
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			fakes := map[string]*fake{"f/a": {apy: 0.01}, "f/b": {apy: 0.06}}
			v := newTestVault(t, cfg, fakes)
			must(v.Deposit(t0, "u", d("100")))(t)
			allocate(t, v, map[string]float64{"f/a": 0.6})
			fakes["f/a"].rebate = 0.25 // from now on a's exits pay 0.25
			trig := tc.trigger
			if trig == "" {
				trig = TriggerSchedule
			}
			dec, err := v.Decide(t0, t0, trig, tc.target)
			if err == nil {
				t.Fatalf("Decide = nil error, want a's negative exit cost refused:\n%s", dec.String())
			}
			if msg := err.Error(); !errors.Is(err, adapters.ErrInvalid) || !strings.Contains(msg, "market f/a ") || !strings.Contains(msg, "negative exit cost -0.25") {
				t.Errorf("Decide error = %v, want an invalid-input error naming f/a and its negative exit cost -0.25", err)
			}
			fakes["f/a"].rebate = 0 // the same decision with the contract kept
			must(v.Decide(t0, t0, trig, tc.target))(t)
		})
	}
}

func TestVault_ExecutePartialExit(t *testing.T) {
	v := newTestVault(t, plainConfig(), map[string]*fake{"f/q": {maxExit: 10, queue: true, delay: 24 * time.Hour}})
	must(v.Deposit(t0, "u", d("100")))(t)
	allocate(t, v, map[string]float64{"f/q": 0.5})
	dec, r, err := v.Rebalance(t0, t0, TriggerExit, strategies.Target{Exit: []string{"f/q"}, Idle: 1})
	mustOK(t, err)
	if len(r.Executed) != 2 || r.Executed[0].Mode != adapters.ExitInstant || !r.Executed[0].Fill.Partial || r.Executed[1].Mode != adapters.ExitQueue {
		t.Fatalf("executed %+v, want a partial instant exit then the rest queued\n%s", r.Executed, dec.String())
	}
	if got := v.Idle(); !got.Equal(d("60")) {
		t.Errorf("idle after the instant part = %s, want 60", got)
	}
	p, _ := v.Position("f/q")
	if p.Units.Sign() != 0 || len(p.Claims) != 1 || !p.Claims[0].Amount().Equal(d("40")) {
		t.Fatalf("position after exit: units %s claims %+v, want 0 units and one claim of 40", p.Units, p.Claims)
	}
	// The claim matures a day later and lands in idle.
	got := must(v.Claim(t0.Add(24 * time.Hour)))(t)
	if !got.Equal(d("40")) || !v.Idle().Equal(d("100")) {
		t.Errorf("claimed %s, idle %s; want 40 and 100", got, v.Idle())
	}
	if err := Reconcile(v); err != nil {
		t.Error(err)
	}
}

func TestVault_Shutdown(t *testing.T) {
	v := newTestVault(t, plainConfig(), map[string]*fake{"f/a": {}, "f/q": {maxExit: 5, queue: true, delay: 48 * time.Hour}})
	must(v.Deposit(t0, "u", d("100")))(t)
	allocate(t, v, map[string]float64{"f/a": 0.4, "f/q": 0.4})
	_, r, err := v.Shutdown(t0.Add(time.Hour))
	mustOK(t, err)
	if len(r.Failed) > 0 {
		t.Fatalf("shutdown failures: %v", r.Failed)
	}
	if !v.IsShutdown() || v.MaxDeposit().Sign() != 0 {
		t.Errorf("shutdown %v, max deposit %s", v.IsShutdown(), v.MaxDeposit())
	}
	if got := v.Idle(); !got.Equal(d("65")) {
		t.Errorf("idle right after shutdown = %s, want 65 (20 idle + 40 + 5 instant)", got)
	}
	// Later steps collect the claim; the user can leave with everything.
	runner := &Runner{Vault: v, Strategy: holdStrategy{}, Keeper: NewKeeper(nil, nil, t0)}
	must(runner.Step(t.Context(), t0.Add(72*time.Hour)))(t)
	if got := v.Idle(); !got.Equal(d("100")) {
		t.Errorf("idle after the claim = %s, want 100", got)
	}
	w := must(v.Redeem(t0.Add(73*time.Hour), "u", v.BalanceOf("u")))(t)
	if w.Paid.Cmp(d("99.999999999999999999")) < 0 {
		t.Errorf("redeemed %s of 100", w.Paid)
	}
}

func TestWeightReason(t *testing.T) {
	for _, tc := range []struct{ w, t float64 }{{0, 0}, {0.012, 0.026}, {0.123456, 1}, {1e-9, 0.99995}, {-0.00004, 0.35}} {
		for _, rel := range []string{"above", "below"} {
			if got, want := weightReason(tc.w, rel, tc.t), fmt.Sprintf("weight %.4f "+rel+" target %.4f", tc.w, tc.t); got != want {
				t.Errorf("weightReason(%g, %s, %g) = %q, want %q", tc.w, rel, tc.t, got, want)
			}
		}
	}
}
