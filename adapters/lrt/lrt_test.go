package lrt_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/internal/testenv"
	"github.com/yieldvault/yieldvault/adapters/lrt"

	"github.com/yieldvault/yieldvault/fixed"
)

var t0 = time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func custom(t *testing.T, params map[string]float64) *adapters.Adapter {
	t.Helper()
	return testenv.Custom(t, adapters.Profile{Name: "test", Kind: adapters.LRT, Base: adapters.ETH, Layer: "eigenlayer"}, params,
		adapters.Market{ID: "test/lrt", Kind: adapters.LRT, Base: adapters.ETH, Tags: []string{"avs:eigenda", "operator:op1"}})
}

func TestDriver_AccrueRewards(t *testing.T) {
	year := 365 * day
	tests := []struct {
		name   string
		params map[string]float64
		env    *adapters.Env
		want   float64 // rewards in base after a year, deposit of 10 at rate 1
	}{
		{"observed reward APY after haircut", map[string]float64{"reward_haircut": 0.5, "restaking_apy": 0.01},
			testenv.EnvKV(t0.Add(year), adapters.FieldRewardAPY, 0.02), 10 * 0.02 * 0.5},
		{"profile restaking_apy when not observed", map[string]float64{"reward_haircut": 0.6, "restaking_apy": 0.01},
			testenv.EnvKV(t0.Add(year)), 10 * 0.01 * 0.4},
		{"gross reward APY pays the fee", map[string]float64{"gross_apy": 1, "fee_on_rewards": 0.1},
			testenv.EnvKV(t0.Add(year), adapters.FieldRewardAPY, 0.02), 10 * 0.02 * 0.9},
		{"no rewards", nil, testenv.EnvKV(t0.Add(year), adapters.FieldRewardAPY, 0), 0},
		{"half a year", map[string]float64{"restaking_apy": 0.01},
			testenv.EnvKV(t0.Add(year / 2)), 10 * 0.01 * 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := custom(t, tt.params)
			pos, _, err := a.Deposit(a.NewPosition(), testenv.EnvKV(t0, adapters.FieldExchangeRate, 1), fixed.FromDec(dec("10")))
			if err != nil {
				t.Fatal(err)
			}
			a.Accrue(&pos, tt.env)
			if got := pos.Rewards.InexactFloat64(); !testenv.Near(got, tt.want, 1e-14) {
				t.Errorf("Rewards = %.17g, want %.17g", got, tt.want)
			}
			// Rewards are not part of Value, only of TotalValue.
			v := a.Value(&pos, tt.env, adapters.PriceRate)
			if got := a.TotalValue(&pos, tt.env, adapters.PriceRate); !got.Equal(v.Add(pos.Rewards.Dec())) {
				t.Errorf("TotalValue = %s, want Value %s + Rewards %s", got, v, pos.Rewards)
			}
		})
	}
}

func TestDriver_Harvest(t *testing.T) {
	tests := []struct {
		name    string
		rewards string
		gas     float64
		want    adapters.Fill
		kind    error
	}{
		{"swap cost and gas", "1", 20, adapters.Fill{Amount: fixed.FromDec(dec("0.987")), Value: fixed.FromDec(dec("1")), Fee: fixed.FromDec(dec("0.01")), Gas: fixed.FromDec(dec("0.003"))}, nil},
		{"free gas", "0.5", 0, adapters.Fill{Amount: fixed.FromDec(dec("0.495")), Value: fixed.FromDec(dec("0.5")), Fee: fixed.FromDec(dec("0.005")), Gas: fixed.Num{}}, nil},
		{"nothing to harvest", "0", 20, adapters.Fill{}, adapters.ErrNotReady},
		{"dust below the cost", "0.001", 20, adapters.Fill{}, adapters.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := custom(t, map[string]float64{"harvest_swap_cost": 0.01, "gas_harvest": 150000})
			env := &adapters.Env{Time: t0, GasPrice: tt.gas}
			pos, _, err := a.Deposit(a.NewPosition(), env, fixed.FromDec(dec("10")))
			if err != nil {
				t.Fatal(err)
			}
			pos.Rewards = fixed.FromDec(dec(tt.rewards))
			np, f, err := a.Harvest(pos, env)
			if tt.kind != nil {
				if !errors.Is(err, tt.kind) {
					t.Errorf("error = %v, want kind %v", err, tt.kind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, f, cmp.Comparer(func(a, b decimal.Decimal) bool { return a.Equal(b) })); diff != "" {
				t.Errorf("Fill (-want +got):\n%s", diff)
			}
			if np.Rewards.Sign() != 0 {
				t.Errorf("Rewards after harvest = %s, want 0", np.Rewards)
			}
		})
	}
}

func TestDriver_Apply(t *testing.T) {
	tests := []struct {
		name      string
		market    string
		scope     string
		size      float64
		wantLoss  string // on 10 ETH of units and a 4 ETH claim
		wantClaim string
	}{
		{"unscoped slash hits", "renzo/ezeth", "", 0.1, "1", "3.6"},
		{"slash of the market's operator", "renzo/ezeth", "operator:renzo-set", 0.1, "1", "3.6"},
		{"slash of an AVS it secures", "kelp/rseth", "avs:eigenda", 0.2, "2", "3.2"},
		{"slash of its layer", "etherfi/weeth", "layer:eigenlayer", 0.05, "0.5", "3.8"},
		{"another operator's slash misses", "renzo/ezeth", "operator:kelp-set", 0.1, "0", "4"},
		{"another layer's slash misses", "renzo/ezeth", "layer:symbiotic", 0.1, "0", "4"},
		{"Puffer insurance covers half", "puffer/pufeth", "", 0.1, "0.5", "3.8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := testenv.Open(t, nil, tt.market)
			tq := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC) // every queue open (Renzo's from 2024-06-11)
			env := testenv.EnvKV(tq, adapters.FieldExchangeRate, 1)
			pos, _, err := a.Deposit(a.NewPosition(), env, fixed.FromDec(dec("14")))
			if err != nil {
				t.Fatal(err)
			}
			pos, _, err = a.Withdraw(pos, env, adapters.Withdrawal{Amount: fixed.FromDec(dec("4")), Mode: adapters.ExitQueue})
			if err != nil {
				t.Fatal(err)
			}
			np, loss, err := a.Apply(pos, env, adapters.Event{Time: tq, Market: tt.market, Type: adapters.EventSlash, Size: tt.size, Scope: tt.scope})
			if err != nil {
				t.Fatal(err)
			}
			wantLoss := dec(tt.wantLoss).Add(dec("4").Sub(dec(tt.wantClaim)))
			if !loss.Equal(wantLoss) {
				t.Errorf("loss = %s, want %s", loss, wantLoss)
			}
			if got := np.Claims[0].Amount(); !got.Equal(dec(tt.wantClaim)) {
				t.Errorf("queued claim = %s, want %s", got, tt.wantClaim)
			}
		})
	}
}

func TestDriver_Withdraw(t *testing.T) {
	// Puffer: 1% instant-exit fee on what the venue pays.
	a := testenv.Open(t, nil, "puffer/pufeth")
	env := testenv.EnvKV(t0, adapters.FieldExchangeRate, 1, adapters.FieldExitLiquidity, 990)
	pos, _, err := a.Deposit(a.NewPosition(), env, fixed.FromDec(dec("20")))
	if err != nil {
		t.Fatal(err)
	}
	_, f, err := a.Withdraw(pos, env, adapters.Withdrawal{Amount: fixed.FromDec(dec("10")), Mode: adapters.ExitInstant})
	if err != nil {
		t.Fatal(err)
	}
	// 10 x 990/1000 = 9.9 from the venue; 1% fee = 0.099.
	want := adapters.Fill{Amount: fixed.FromDec(dec("9.801")), Value: fixed.FromDec(dec("10")), Slippage: fixed.FromDec(dec("0.1")), Fee: fixed.FromDec(dec("0.099")), Gas: fixed.Num{}, Route: "swap curve/pufeth-wsteth"}
	if diff := cmp.Diff(want, f, cmp.Comparer(func(a, b decimal.Decimal) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("Puffer instant exit (-want +got):\n%s", diff)
	}

	// A restaking layer with no venue exits through its escrow only.
	e := testenv.Open(t, nil, "eigenlayer/steth")
	pos, _, err = e.Deposit(e.NewPosition(), testenv.EnvKV(t0), fixed.FromDec(dec("5")))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Withdraw(pos, testenv.EnvKV(t0), adapters.Withdrawal{Amount: fixed.FromDec(dec("1")), Mode: adapters.ExitInstant}); !errors.Is(err, adapters.ErrInsufficientLiquidity) {
		t.Errorf("EigenLayer instant exit: error = %v, want kind %v", err, adapters.KindInsufficientLiquidity)
	}
	np, f, err := e.Withdraw(pos, testenv.EnvKV(t0), adapters.Withdrawal{All: true})
	if err != nil {
		t.Fatal(err)
	}
	if f.Queued == nil || !f.Queued.ReadyAt.Equal(t0.Add(7*day)) || np.Units.Sign() != 0 {
		t.Errorf("EigenLayer auto exit in 2024 = %+v, units %s; want the whole position queued for the 7-day escrow", f.Queued, np.Units)
	}
	// Since the slashing upgrade of 2025-04-17 the escrow is 14 days.
	t1 := time.Date(2025, 4, 17, 0, 0, 0, 0, time.UTC)
	pos, _, err = e.Deposit(e.NewPosition(), testenv.EnvKV(t1), fixed.FromDec(dec("5")))
	if err != nil {
		t.Fatal(err)
	}
	if _, f, err = e.Withdraw(pos, testenv.EnvKV(t1), adapters.Withdrawal{All: true}); err != nil {
		t.Fatal(err)
	}
	if f.Queued == nil || !f.Queued.ReadyAt.Equal(t1.Add(14*day)) {
		t.Errorf("EigenLayer auto exit on 2025-04-17 = %+v; want queued for the 14-day escrow", f.Queued)
	}
}

func TestDriver_Exposures(t *testing.T) {
	tests := []struct {
		market string
		want   []string
	}{
		{"renzo/ezeth", []string{"avs:eigenda", "layer:eigenlayer", "operator:eigenlayer-large", "operator:renzo-set"}},
		{"symbiotic/wsteth", []string{"layer:symbiotic"}},
		{"karak/weth", []string{"layer:karak"}},
	}
	for _, tt := range tests {
		d := testenv.Open(t, nil, tt.market).Driver().(*lrt.Driver)
		if diff := cmp.Diff(tt.want, d.Exposures()); diff != "" {
			t.Errorf("%s Exposures (-want +got):\n%s", tt.market, diff)
		}
	}
}

// TestProfiles exercises every built-in LRT profile through adapters.Open
// on one of its markets.
func TestProfiles(t *testing.T) {
	c := adapters.Builtin()
	seen := map[string]bool{}
	for _, m := range c.Markets() {
		if m.Kind != adapters.LRT {
			continue
		}
		t.Run(m.ID, func(t *testing.T) {
			a := testenv.Open(t, nil, m.ID)
			p := a.Profile()
			seen[p.Name] = true
			env := &adapters.Env{Time: t0, GasPrice: 20, Obs: testenv.EnvKV(t0, adapters.FieldAPY, 0.03).Obs}
			q, err := a.Quote(env, fixed.FromDec(dec("1")))
			if err != nil {
				t.Fatal(err)
			}
			rr := p.ParamOr("restaking_apy", 0) * (1 - p.ParamOr("reward_haircut", 0))
			inRate := p.ParamOr("rewards_in_rate", 0) != 0 // Renzo: rewards compound into the rate
			wantRR := rr
			if inRate {
				wantRR = 0
			}
			if !testenv.Near(q.RewardAPY, wantRR, 1e-15) || !testenv.Near(q.APY, 0.03+rr, 1e-15) {
				t.Errorf("Quote APY, RewardAPY = %g, %g, want %g, %g", q.APY, q.RewardAPY, 0.03+rr, wantRR)
			}
			days := p.ParamAt("withdrawal_days", t0, 0) + p.ParamAt("escrow_days", t0, 0)
			if got, want := q.ExitDelay, time.Duration(days*float64(day)); got != want {
				t.Errorf("Quote.ExitDelay = %v, want withdrawal_days + escrow_days = %v", got, want)
			}
			if got, want := q.MaxInstantExit.InexactFloat64(), p.ParamOr("exit_liquidity", 0); got != want {
				t.Errorf("Quote.MaxInstantExit = %g, want %g", got, want)
			}
			pos, f, err := a.Deposit(a.NewPosition(), env, fixed.FromDec(dec("1")))
			if err != nil {
				t.Fatal(err)
			}
			end := testenv.EnvKV(t0.Add(30*day), adapters.FieldAPY, 0.03)
			a.Accrue(&pos, end)
			v0 := f.Value.InexactFloat64()
			wantV, wantR := v0*math.Pow(1.03, 30.0/365), v0*rr*30/365
			if inRate {
				wantV, wantR = v0*math.Pow(1.03, 30.0/365)*math.Pow(1+rr, 30.0/365), 0
			}
			if got, want := a.Value(&pos, end, adapters.PriceRate).InexactFloat64(), wantV; !testenv.Near(got, want, 1e-12) {
				t.Errorf("value after 30 days = %.15g, want %.15g", got, want)
			}
			if got, want := pos.Rewards.InexactFloat64(), wantR; !testenv.Near(got, want, 1e-12) {
				t.Errorf("rewards after 30 days = %.15g, want %.15g", got, want)
			}
			if !a.CanHarvest() || !a.CanQueue() {
				t.Errorf("CanHarvest, CanQueue = %v, %v; want both", a.CanHarvest(), a.CanQueue())
			}
		})
	}
	for _, p := range c.Profiles() {
		if p.Kind == adapters.LRT && !seen[p.Name] {
			t.Errorf("LRT profile %s has no built-in market exercised", p.Name)
		}
	}
}

func TestNew(t *testing.T) {
	c := adapters.Builtin()
	m, _ := c.Market("lido/steth")
	p, _ := c.ProfileFor(m)
	if _, err := lrt.New(m, p); !errors.Is(err, adapters.ErrInvalid) {
		t.Errorf("New(LST market) error = %v, want kind %v", err, adapters.KindInvalid)
	}
}

// TestBuiltin_ScopedSlashReach: a slash scoped to what backs an LRT, or
// to the large operators several LRTs share, reaches every market exposed
// to it and no other: a Lido slash reaches stETH, wstETH, stETH restaked
// in EigenLayer or Symbiotic, Kelp's rsETH (stETH in its basket) and
// Puffer's pufETH (stETH in its vault); an operator slash of the shared
// EigenLayer operators reaches weETH, ezETH, rsETH and rswETH.
func TestBuiltin_ScopedSlashReach(t *testing.T) {
	tests := []struct {
		scope string
		want  []string
	}{
		{"protocol:lido", []string{"aave-v3/wsteth-loop", "curve/steth-eth", "eigenlayer/steth", "kelp/rseth", "lido/steth", "lido/wsteth", "morpho/wsteth-weth-loop", "puffer/pufeth", "symbiotic/wsteth"}},
		{"operator:eigenlayer-large", []string{"etherfi/weeth", "kelp/rseth", "renzo/ezeth", "swell/rsweth"}},
		{"operator:renzo-set", []string{"renzo/ezeth"}},
	}
	c := adapters.Builtin()
	for _, tt := range tests {
		var got []string
		for _, m := range c.Markets() {
			if m.HasTag(tt.scope) {
				got = append(got, m.ID)
			}
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("markets a %s slash reaches (-want +got):\n%s", tt.scope, diff)
		}
	}
	// And the adapter applies it: rsETH loses to a Lido slash (its full
	// size: the stETH share of the basket over time is not modelled).
	a := testenv.Open(t, nil, "kelp/rseth")
	env := testenv.EnvKV(t0, adapters.FieldExchangeRate, 1)
	pos, _, err := a.Deposit(a.NewPosition(), env, fixed.FromDec(dec("10")))
	if err != nil {
		t.Fatal(err)
	}
	_, loss, err := a.Apply(pos, env, adapters.Event{Time: t0, Market: "kelp/rseth", Type: adapters.EventSlash, Size: 0.1, Scope: "protocol:lido"})
	if err != nil || !loss.Equal(dec("1")) {
		t.Errorf("rsETH's loss to a 10%% Lido slash = %s, %v; want 1", loss, err)
	}
}

// TestApply_ScopedSlashExposure: a slash scoped to a tag cuts an LRT by
// its size times the share of its backing exposed to the tag
// (Market.Exposure), after insurance; a tag without a share is unknown and
// cuts by the full size; an unscoped slash or one of its own protocol cuts
// fully; a tag the market does not carry cuts nothing. The losses are
// size x share x (1 - insurance) of a 10 ETH position at rate 1,
// computed by hand.
func TestApply_ScopedSlashExposure(t *testing.T) {
	prof := adapters.Profile{Name: "basket", Kind: adapters.LRT, Base: adapters.ETH, Layer: "eigenlayer", Source: "test",
		Params: map[string]adapters.Param{"insurance_cap": {Value: 0.2, Source: "test"}}}
	m := adapters.Market{ID: "basket/lrt", Kind: adapters.LRT, Base: adapters.ETH, Tags: []string{"protocol:lido", "operator:big", "avs:da"},
		Exposure:        map[string]float64{"protocol:lido": 0.25, "operator:big": 0},
		ExposureSources: map[string]string{"protocol:lido": "test: a quarter of the basket is stETH", "operator:big": "test: none delegated"}}
	a := testenv.Open(t, testenv.Catalog(t, nil, prof, m), m.ID)
	env := testenv.EnvKV(t0, adapters.FieldExchangeRate, 1)
	tests := []struct {
		scope string
		want  string
	}{
		{"", "0.8"},                 // 10 x 0.1 x 1 x 0.8
		{"protocol:basket", "0.8"},  // its own protocol
		{"protocol:lido", "0.2"},    // 10 x 0.1 x 0.25 x 0.8
		{"operator:big", "0"},       // sourced share 0
		{"avs:da", "0.8"},           // unknown: full size
		{"layer:eigenlayer", "0.8"}, // the profile's layer: the whole protocol
		{"operator:other", "0"},     // not carried
	}
	for _, tt := range tests {
		t.Run(tt.scope, func(t *testing.T) {
			pos, _, err := a.Deposit(a.NewPosition(), env, fixed.FromDec(dec("10")))
			if err != nil {
				t.Fatal(err)
			}
			_, loss, err := a.Apply(pos, env, adapters.Event{Time: t0, Market: m.ID, Type: adapters.EventSlash, Size: 0.1, Scope: tt.scope})
			// The effective cut is a float64 product (0.1 x 0.8 =
			// 0.08000000000000002): within 1e-12.
			if err != nil || loss.Sub(dec(tt.want)).Abs().GreaterThan(dec("1e-12")) {
				t.Errorf("loss to a 10%% slash scoped %q = %s, %v; want %s", tt.scope, loss, err, tt.want)
			}
		})
	}
}
