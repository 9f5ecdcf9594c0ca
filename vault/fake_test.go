package vault

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"

	"github.com/yieldvault/yieldvault/fixed"
)

// fake is a small exact driver for accounting tests: the unit index grows
// at apy, rewards accrue at rewardAPY on the position's value, instant
// exits lose amount^2/(liq+amount) to slippage (liq 0 means no slippage
// and unlimited depth; maxExit > 0 caps an exit), queued exits wait delay.
type fake struct {
	apy, rewardAPY float64
	gas            float64 // gas units per operation
	liq            float64
	maxExit        float64
	delay          time.Duration
	queue, harvest bool
	swapCost       float64 // the profile's harvest_swap_cost (0: none)
	// rebate is taken off the exit cost: above the cost, an adapter that
	// breaks the quote contract (a negative exit cost).
	rebate float64
	asked  []string // the amounts quoted, in order
}

func (f *fake) Quote(env *adapters.Env, amount fixed.Num) (adapters.Quote, error) {
	q := adapters.Quote{APY: f.apy + f.rewardAPY, RewardAPY: f.rewardAPY, EntryCost: env.GasCost(f.gas), ExitDelay: f.delay}
	q.MaxInstantExit = fixed.NewFromInt(1 << 40)
	if f.maxExit > 0 {
		q.MaxInstantExit = fixed.NumFromFloat(f.maxExit)
	}
	q.ExitCost = fixed.FromDec(f.slip(amount.Dec())).Add(env.GasCost(f.gas)).Sub(fixed.NumFromFloat(f.rebate))
	f.asked = append(f.asked, amount.String())
	return q, nil
}

func (f *fake) slip(amount decimal.Decimal) decimal.Decimal {
	if f.liq <= 0 {
		return decimal.Zero
	}
	return adapters.Quantize(amount.Mul(amount).DivRound(adapters.FromFloat(f.liq).Add(amount), adapters.Scale))
}

func (f *fake) Accrue(pos *adapters.Position, env *adapters.Env) {
	if pos.Index == 0 {
		pos.Index = 1
	}
	if pos.Last.IsZero() || !env.Time.After(pos.Last) {
		if pos.Last.IsZero() {
			pos.Last = env.Time
		}
		return
	}
	yrs := float64(env.Time.Sub(pos.Last)) / float64(Year)
	if f.rewardAPY > 0 && pos.Units.Sign() > 0 {
		val := adapters.Quantize(pos.Units.Dec().Mul(adapters.FromFloat(pos.Index)))
		pos.Rewards = pos.Rewards.Add(fixed.FromDec(adapters.Quantize(val.Mul(adapters.FromFloat(f.rewardAPY * yrs)))))
	}
	if f.apy != 0 {
		pos.Index *= math.Pow(1+f.apy, yrs)
	}
	pos.Last = env.Time
}

func (f *fake) Value(pos *adapters.Position, env *adapters.Env, _ adapters.Pricing) decimal.Decimal {
	return adapters.Quantize(pos.Units.Dec().Mul(adapters.FromFloat(pos.Index)))
}

func (f *fake) Deposit(pos adapters.Position, env *adapters.Env, amountN fixed.Num) (adapters.Position, adapters.Fill, error) {
	if pos.Paused {
		return pos, adapters.Fill{}, adapters.E("fake.Deposit", adapters.KindPaused, "paused")
	}
	f.Accrue(&pos, env)
	amount := amountN.Dec()
	gas := env.GasCost(f.gas).Dec()
	value := amount.Sub(gas)
	pos.Units = pos.Units.Add(fixed.FromDec(value.DivRound(adapters.FromFloat(pos.Index), adapters.Scale)))
	pos.Principal = pos.Principal.Add(fixed.FromDec(amount))
	return pos, adapters.Fill{Amount: amountN, Value: fixed.FromDec(value), Gas: fixed.FromDec(gas)}, nil
}

func (f *fake) Withdraw(pos adapters.Position, env *adapters.Env, w adapters.Withdrawal) (adapters.Position, adapters.Fill, error) {
	const op = "fake.Withdraw"
	if pos.Paused {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindPaused, "paused")
	}
	f.Accrue(&pos, env)
	held := f.Value(&pos, env, adapters.PriceRate)
	amount, all := w.Amount.Dec(), w.All
	if all {
		amount = held
	}
	if amount.GreaterThan(held) {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "more than held")
	}
	idx := adapters.FromFloat(pos.Index)
	if w.Mode == adapters.ExitQueue {
		if !f.queue {
			return pos, adapters.Fill{}, adapters.E(op, adapters.KindInvalid, "no queue")
		}
		units := pos.Units
		if !all {
			units = fixed.FromDec(amount.DivRound(idx, adapters.Scale))
		}
		c := adapters.Claim{Units: units, Index: pos.Index, Requested: env.Time, ReadyAt: env.Time.Add(f.delay)}
		pos.Units = pos.Units.Sub(units)
		pos.Claims = append(append([]adapters.Claim(nil), pos.Claims...), c)
		return pos, adapters.Fill{Value: fixed.FromDec(amount), Queued: &c}, nil
	}
	partial := false
	if f.maxExit > 0 && amount.InexactFloat64() > f.maxExit {
		if !w.AllowPartial {
			return pos, adapters.Fill{}, adapters.E(op, adapters.KindInsufficientLiquidity, "exit %s over %g", amount, f.maxExit)
		}
		amount, all, partial = adapters.FromFloat(f.maxExit), false, true
	}
	slip, gas := f.slip(amount), env.GasCost(f.gas).Dec()
	if w.MaxSlippage > 0 && slip.InexactFloat64()/amount.InexactFloat64() > w.MaxSlippage {
		return pos, adapters.Fill{}, adapters.E(op, adapters.KindCapExceeded, "slippage")
	}
	units := pos.Units
	if !all {
		units = fixed.FromDec(amount.DivRound(idx, adapters.Scale))
	}
	pos.Units = pos.Units.Sub(units)
	return pos, adapters.Fill{Amount: fixed.FromDec(amount.Sub(slip).Sub(gas)), Value: fixed.FromDec(amount), Gas: fixed.FromDec(gas), Slippage: fixed.FromDec(slip), Partial: partial}, nil
}

func (f *fake) Apply(pos adapters.Position, env *adapters.Env, ev adapters.Event) (adapters.Position, decimal.Decimal, error) {
	switch ev.Type {
	case adapters.EventPause:
		pos.Paused = true
		return pos, decimal.Zero, nil
	case adapters.EventUnpause:
		pos.Paused = false
		return pos, decimal.Zero, nil
	case adapters.EventSlash, adapters.EventBadDebt:
		before := f.Value(&pos, env, adapters.PriceRate)
		keep := decimal.NewFromFloat(1 - ev.Size)
		pos.Units = fixed.FromDec(adapters.Quantize(pos.Units.Dec().Mul(keep)))
		claims := append([]adapters.Claim(nil), pos.Claims...)
		lost := before.Sub(f.Value(&pos, env, adapters.PriceRate))
		for i := range claims {
			a := claims[i].Amount()
			claims[i].Units = fixed.FromDec(adapters.Quantize(claims[i].Units.Dec().Mul(keep)))
			lost = lost.Add(a.Sub(claims[i].Amount()))
		}
		pos.Claims = claims
		return pos, lost, nil
	}
	return pos, decimal.Zero, nil
}

// fakeH adds the Harvester and Claimer capabilities.
type fakeH struct{ *fake }

func (f fakeH) Harvest(pos adapters.Position, env *adapters.Env) (adapters.Position, adapters.Fill, error) {
	f.Accrue(&pos, env)
	gas := env.GasCost(f.gas)
	got := pos.Rewards.Dec().Sub(gas.Dec())
	pos.Rewards = fixed.Num{}
	return pos, adapters.Fill{Amount: fixed.FromDec(got), Gas: gas}, nil
}

func (f fakeH) Claim(pos adapters.Position, env *adapters.Env) (adapters.Position, adapters.Fill, error) {
	pay := decimal.Zero
	var keep []adapters.Claim
	for _, c := range pos.Claims {
		if c.ReadyAt.After(env.Time) {
			keep = append(keep, c)
			continue
		}
		pay = pay.Add(c.Amount())
	}
	if len(keep) == len(pos.Claims) {
		return pos, adapters.Fill{}, adapters.E("fake.Claim", adapters.KindNotReady, "nothing ready")
	}
	pos.Claims = keep
	return pos, adapters.Fill{Amount: fixed.FromDec(pay), Value: fixed.FromDec(pay)}, nil
}

func fakeAdapter(id string, f *fake) *adapters.Adapter {
	m := adapters.Market{ID: id, Kind: adapters.Lending, Base: adapters.ETH, Protocol: "fake"}
	p := &adapters.Profile{Name: "fake", Kind: adapters.Lending, Params: map[string]adapters.Param{
		"gas_harvest": {Value: f.gas, Source: "test"}, "gas_withdraw": {Value: f.gas, Source: "test"}, "gas_claim": {Value: 0, Source: "test"}}}
	if f.swapCost != 0 {
		p.Params["harvest_swap_cost"] = adapters.Param{Value: f.swapCost, Source: "test"}
	}
	if f.queue || f.harvest {
		return adapters.NewAdapter(m, p, fakeH{f})
	}
	return adapters.NewAdapter(m, p, f)
}

var t0 = time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// plainConfig is a configuration with no fees, no floor, no unlock and no
// rebalance thresholds: accounting only.
func plainConfig() Config {
	c := DefaultConfig("test", adapters.ETH)
	c.ManagementFee, c.PerformanceFee, c.ProfitUnlock, c.IdleFloor = 0, 0, 0, 0
	c.Rebalance = RebalanceConfig{}
	return c
}

func newTestVault(t testing.TB, cfg Config, fakes map[string]*fake) *Vault {
	t.Helper()
	var ads []*adapters.Adapter
	for _, id := range sortedIDs(fakes) {
		ads = append(ads, fakeAdapter(id, fakes[id]))
	}
	v, err := New(cfg, ads, t0)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func sortedIDs(m map[string]*fake) []string {
	var out []string
	for id := range m {
		out = append(out, id)
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

var decCmp = cmp.Comparer(func(a, b decimal.Decimal) bool { return a.Equal(b) })

// must turns (value, error) into a function of the test that fails it on
// the error: got := must(v.Deposit(...))(t).
func must[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func mustOK(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
