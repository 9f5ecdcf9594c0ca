package vault

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/fixed"
	"github.com/yieldvault/yieldvault/strategies"
)

func TestTransitDrift(t *testing.T) {
	tests := []struct {
		name                        string
		over, under, idleShort, tau float64
		want                        float64
	}{
		// Consistent inputs: under - over = tau - idleShort.
		{"on target", 0, 0, 0, 0, 0},
		{"no claims: half the total variation", 0.1, 0.05, -0.05, 0, 0.1},
		{"idle above target, markets below", 0, 0.3, -0.3, 0, 0.3},
		{"a claim that funds the buys waiting for it closes the drift", 0, 0.5, 0, 0.5, 0},
		{"a claim fills the idle target first, then the markets below", 0.1, 0.2, 0.4, 0.5, 0.1},
		{"a claim with nothing below target fills the idle target", 0.1, 0, 0.2, 0.1, 0.1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := transitDrift(tc.over, tc.under, tc.idleShort, tc.tau); math.Abs(got-tc.want) > 1e-12 {
				t.Errorf("transitDrift(%g, %g, %g, %g) = %g, want %g", tc.over, tc.under, tc.idleShort, tc.tau, got, tc.want)
			}
		})
	}
}

// fixedStrategy plans one target and rebalances when the drift exceeds
// 0.05, every 6 hours.
type fixedStrategy struct {
	t     strategies.Target
	sched strategies.Schedule
}

func (s *fixedStrategy) Name() string { return "fixed" }
func (s *fixedStrategy) Plan(context.Context, *strategies.State) (strategies.Target, error) {
	return s.t, nil
}
func (s *fixedStrategy) RebalanceSchedule() strategies.Schedule { return s.sched }
func (s *fixedStrategy) HarvestSchedule() strategies.Schedule   { return strategies.Schedule{} }
func (s *fixedStrategy) ShouldRebalance(v strategies.VaultVars) (bool, string, error) {
	return v.Drift > 0.05, fmt.Sprintf("drift %.4f", v.Drift), nil
}
func (s *fixedStrategy) ShouldHarvest(strategies.VaultVars) (bool, string, error) {
	return false, "never", nil
}

func TestRunner_ClaimDoesNotRepeatRebalances(t *testing.T) {
	// f/q exits instantly only at a heavy slippage, so the sell that funds
	// f/b is queued for 3 days. While the claim is pending nothing else
	// trades; when it lands in idle, one buy deploys it.
	cfg := plainConfig()
	cfg.Rebalance.MinTrade, cfg.Rebalance.MinGainOverCost = d("1"), 1
	v := newTestVault(t, cfg, map[string]*fake{
		"f/q": {apy: 0.02, liq: 10, queue: true, delay: 72 * time.Hour},
		"f/b": {apy: 0.06},
	})
	must(v.Deposit(t0, "u", d("100")))(t)
	allocate(t, v, map[string]float64{"f/q": 0.9})
	sched, err := strategies.ParseSchedule("0 */6 * * *")
	mustOK(t, err)
	st := &fixedStrategy{t: target(map[string]float64{"f/q": 0.4, "f/b": 0.5}), sched: strategies.Schedule{Spec: "0 */6 * * *", Sched: sched}}
	r := &Runner{Vault: v, Strategy: st, Keeper: KeeperFor(st, nil, nil, t0)}
	var traded []string
	executed := 0
	for at := t0.Add(6 * time.Hour); !at.After(t0.Add(6 * 24 * time.Hour)); at = at.Add(6 * time.Hour) {
		rep := must(r.Step(t.Context(), at))(t)
		for _, res := range rep.Results {
			executed++
			for _, e := range res.Executed {
				traded = append(traded, fmt.Sprintf("%s %s %s %s", at.Sub(t0), e.Order.Side, e.Order.Market, e.Mode))
			}
			if got, want := res.NAVBefore.Sub(res.NAVAfter), res.Costs.Add(res.Rounding); !got.Equal(want) {
				t.Errorf("%s: NAV fell by %s, costs + rounding = %s", at, got, want)
			}
		}
		for _, dec := range rep.Decisions {
			if at.Before(t0.Add(78*time.Hour)) && at.After(t0.Add(6*time.Hour)) && dec.Inputs.Drift > 1e-3 {
				t.Errorf("%s: drift %g while the claim that funds the buy is pending, want 0", at, dec.Inputs.Drift)
			}
		}
	}
	want := []string{"6h0m0s sell f/q queue", "78h0m0s buy f/b auto"}
	if strings.Join(traded, "; ") != strings.Join(want, "; ") {
		t.Errorf("orders executed %q, want %q", traded, want)
	}
	if executed != 2 {
		t.Errorf("%d decisions executed, want 2", executed)
	}
	if err := Reconcile(v); err != nil {
		t.Error(err)
	}
}

func TestVault_DecideClaimInTransitFundsBuys(t *testing.T) {
	// A pending claim of 49 restores the idle target and funds most of the
	// buy of f/b: the over-weight f/c, which earns more than f/b, is not
	// sold to restore the idle target (the claim will) nor to fund f/b
	// (the move would lose yield).
	cfg := plainConfig()
	cfg.Rebalance.MinTrade, cfg.Rebalance.MinGainOverCost = d("1"), 1
	v := newTestVault(t, cfg, map[string]*fake{
		"f/q": {apy: 0.02, maxExit: 1, queue: true, delay: 72 * time.Hour},
		"f/b": {apy: 0.03},
		"f/c": {apy: 0.06},
	})
	must(v.Deposit(t0, "u", d("100")))(t)
	allocate(t, v, map[string]float64{"f/q": 0.5, "f/c": 0.45})
	// The exit rule queues f/q (one unit leaves instantly).
	_, res, err := v.Rebalance(t0, t0, TriggerExit, strategies.Target{Exit: []string{"f/q"}, Idle: 1})
	mustOK(t, err)
	if len(res.Executed) != 2 {
		t.Fatalf("exit executed %d fills, want an instant part and a queued rest", len(res.Executed))
	}
	dec := must(v.Decide(t0, t0, TriggerSchedule, target(map[string]float64{"f/c": 0.4, "f/b": 0.5})))(t)
	for _, o := range dec.Orders {
		if o.Side == Sell {
			t.Errorf("sold %s %s while a claim of %s is in transit:\n%s", o.Market, o.Amount, dec.Inputs.Transit, dec.String())
		}
	}
	if !dec.Inputs.Transit.Equal(d("49")) {
		t.Errorf("transit %s, want 49", dec.Inputs.Transit)
	}
	checkExecute(t, v, dec)
}

func TestVault_ExecuteMarketPricingDepeg(t *testing.T) {
	ad, err := adapters.Open(adapters.Builtin(), "rocketpool/reth")
	mustOK(t, err)
	cfg := plainConfig()
	cfg.Pricing = adapters.PriceMarket
	cfg.Rebalance.MinTrade = d("0.01")
	v, err := New(cfg, []*adapters.Adapter{ad}, t0)
	mustOK(t, err)
	var o adapters.Observation
	o.Time = t0
	o.Put(adapters.FieldAPY, 0.03)
	o.Put(adapters.FieldExchangeRate, 1.1)
	o.Put(adapters.FieldPrice, 1.078) // peg 0.98
	o.Put(adapters.FieldExitLiquidity, 1e6)
	mustOK(t, v.Observe("rocketpool/reth", o))
	mustOK(t, v.SetGas(10, 1))
	must(v.Deposit(t0, "u", d("100")))(t)

	tests := []struct {
		name   string
		weight float64
		side   Side
		// sign is the mark-to-market cost's: 2% of the value moved at the
		// rate, a cost at entry and a credit at exit (NAV had it).
		sign float64
	}{
		{"buy below peg", 0.5, Buy, 1},
		{"sell below peg", 0.2, Sell, -1},
	}
	at := t0
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			at = at.Add(time.Hour)
			n := v.Ledger().Len()
			_, r, err := v.Rebalance(at, at, TriggerManual, target(map[string]float64{"rocketpool/reth": tc.weight}))
			mustOK(t, err)
			if len(r.Executed) != 1 || r.Executed[0].Order.Side != tc.side {
				t.Fatalf("executed %+v, want one %s", r.Executed, tc.side)
			}
			dp := r.Executed[0].Depeg.InexactFloat64()
			if want := tc.sign * 0.02 * r.Executed[0].Fill.Value.InexactFloat64(); math.Abs(dp-want) > 1e-9 {
				t.Errorf("depeg %g, want %g", dp, want)
			}
			if got, want := r.NAVBefore.Sub(r.NAVAfter), r.Costs.Add(r.Rounding); !got.Equal(want) {
				t.Errorf("NAV fell by %s, costs + rounding = %s", got, want)
			}
			if r.Rounding.Abs().Cmp(d("0.000000000001")) > 0 {
				t.Errorf("rounding %s: the depeg is not in the recorded costs", r.Rounding)
			}
			e := v.Ledger().Entries()[n]
			f := r.Executed[0].Fill
			if want := f.Slippage.Add(fixed.FromDec(r.Executed[0].Depeg)); !e.Slippage.Equal(want.Dec()) {
				t.Errorf("ledger slippage %s, want the fill's %s + depeg %s", e.Slippage, f.Slippage, r.Executed[0].Depeg)
			}
			if !strings.Contains(e.Reason, "depeg") {
				t.Errorf("ledger reason %q does not name the depeg", e.Reason)
			}
		})
	}
	if err := Reconcile(v); err != nil {
		t.Error(err)
	}
}

// TestVault_SellQuotesMarginal: a vault holding 10M ETH in a 2M ETH Aave
// v3 WETH market at 85% utilization decides to sell a tenth of it (the
// cash its exit can take: 300k free plus 15% of its 10M). The sell's
// APY in the decision is the yield the sale gives up per unit sold,
// (H·r(H) − (H−X)·r(H−X)) / X with r(h) the reserve's supply rate at
// 1.7M / (2M + h) (written out here), not r(H+X), which the deposit's
// quote of the same amount gives.
func TestVault_SellQuotesMarginal(t *testing.T) {
	ad, err := adapters.Open(adapters.Builtin(), "aave-v3/weth")
	mustOK(t, err)
	r := func(own float64) float64 {
		u := 1.7e6 / (2e6 + own)
		b := 0.027 * u / 0.9
		if u > 0.9 {
			b = 0.027 + 0.8*(u-0.9)/0.1
		}
		return b * u * (1 - 0.15)
	}
	v, err := New(plainConfig(), []*adapters.Adapter{ad}, t0)
	mustOK(t, err)
	var o adapters.Observation
	o.Time = t0
	o.Put(adapters.FieldAPY, r(0))
	o.Put(adapters.FieldSupply, 2e6)
	o.Put(adapters.FieldBorrows, 1.7e6)
	mustOK(t, v.Observe("aave-v3/weth", o))
	must(v.Deposit(t0, "u", d("10000000")))(t)
	_, res, err := v.Rebalance(t0, t0, TriggerManual, target(map[string]float64{"aave-v3/weth": 1}))
	mustOK(t, err)
	if len(res.Executed) != 1 {
		t.Fatalf("buy executed %d fills, want 1", len(res.Executed))
	}
	dec := must(v.Decide(t0, t0, TriggerManual, target(map[string]float64{"aave-v3/weth": 0.9})))(t)
	if len(dec.Orders) != 1 || dec.Orders[0].Side != Sell {
		t.Fatalf("orders %+v, want one sell", dec.Orders)
	}
	h := dec.Inputs.Markets[0].Value.InexactFloat64()
	x := dec.Orders[0].Amount.InexactFloat64()
	want := (h*r(h) - (h-x)*r(h-x)) / x
	if got := dec.Inputs.Markets[0].APY; math.Abs(got-want) > 1e-9*math.Abs(want) {
		t.Errorf("sell of %.0f of %.0f: APY %.9g, want the yield it gives up %.9g (not r(H+X) = %.9g)", x, h, got, want, r(h+x))
	}
}

// TestVault_Decide_TargetWeights: a target weight that is not a fraction
// (NaN, an infinity, below 0, above 1 beyond 1e-9) is refused as invalid
// input, by Decide and Preview alike; 0, -0, 1 and 1 within 1e-9 are
// taken.
func TestVault_Decide_TargetWeights(t *testing.T) {
	tests := []struct {
		w  float64
		ok bool
	}{
		{0, true}, {math.Copysign(0, -1), true}, {0.5, true}, {1, true}, {1 + 5e-10, true},
		{math.NaN(), false}, {math.Inf(1), false}, {math.Inf(-1), false}, {-1e-300, false}, {1 + 2e-9, false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.w), func(t *testing.T) {
			v := newTestVault(t, plainConfig(), map[string]*fake{"f/a": {apy: 0.05}})
			must(v.Deposit(t0, "u", d("100")))(t)
			tg := strategies.Target{Allocations: []strategies.Allocation{{Market: "f/a", Weight: tc.w}}}
			_, errD := v.Decide(t0, t0, TriggerManual, tg)
			_, errP := v.Preview(t0, t0, TriggerSchedule, tg)
			for name, err := range map[string]error{"Decide": errD, "Preview": errP} {
				switch {
				case tc.ok && err != nil:
					t.Errorf("%s with weight %g: %v", name, tc.w, err)
				case !tc.ok && !errors.Is(err, adapters.ErrInvalid):
					t.Errorf("%s with weight %g: error %v, want an invalid input", name, tc.w, err)
				case !tc.ok && !strings.Contains(err.Error(), "is not a fraction"):
					t.Errorf("%s with weight %g: error %q does not say the weight is not a fraction", name, tc.w, err)
				}
			}
		})
	}
}
