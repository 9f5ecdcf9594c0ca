package lending_test

import (
	"math"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/internal/testenv"
	"github.com/yieldvault/yieldvault/adapters/lending"
	"github.com/yieldvault/yieldvault/fixed"
)

// TestProfiles opens every built-in lending market and runs its profile's
// model: deposit, a month of interest at the model rate for the observed
// utilization, the rate impact of a deposit as large as the market, and a
// full withdrawal. It fails when a lending profile has no market exercised.
func TestProfiles(t *testing.T) {
	c := adapters.Builtin()
	seen := map[string]bool{}
	for _, m := range c.Markets() {
		if m.Kind != adapters.Lending {
			continue
		}
		seen[m.Protocol] = true
		t.Run(m.ID, func(t *testing.T) {
			a, err := adapters.Open(c, m.ID)
			if err != nil {
				t.Fatalf("Open error = %v", err)
			}
			p := a.Profile()
			var irm lending.Model
			switch drv := a.Driver().(type) {
			case *lending.Harvesting:
				irm = drv.ModelAt(t0)
				if len(p.RewardTokens) == 0 {
					t.Errorf("driver harvests but profile %s has no reward tokens", p.Name)
				}
			case *lending.Driver:
				irm = drv.ModelAt(t0)
				if len(p.RewardTokens) > 0 {
					t.Errorf("profile %s pays %v but the driver cannot harvest", p.Name, p.RewardTokens)
				}
			case *lending.Loop:
				return // loop markets: loop_test.go
			default:
				t.Fatalf("driver is %T", drv)
			}
			env := testenv.Env(t0, map[adapters.Field]float64{adapters.FieldUtilization: 0.8, adapters.FieldSupply: 1e4})
			pos, _, err := a.Deposit(a.NewPosition(), env, fixed.FromDec(d("100")))
			if err != nil {
				t.Fatalf("Deposit error = %v", err)
			}
			month := testenv.Env(t0.Add(30*24*time.Hour), map[adapters.Field]float64{adapters.FieldUtilization: 0.8, adapters.FieldSupply: 1e4})
			a.Accrue(&pos, month)
			if irm.Supply(0.8) <= 0 {
				t.Fatalf("model supply rate at 80%% = %g, want > 0", irm.Supply(0.8))
			}
			// A market across a bridge: the deposit forgoes the interest
			// of bridge_days, at the rate it will earn.
			v0 := 100 * math.Pow(1+irm.Supply(0.8*1e4/(1e4+100)), -p.ParamOr("bridge_days", 0)/365)
			// The position's own value lowers the utilization to
			// 0.8 * 1e4 / (1e4 + v0) over the month.
			u1 := 0.8 * 1e4 / (1e4 + v0)
			rate := irm.Supply(u1)
			if ac, ok := irm.(lending.AdaptiveCurve); ok {
				// The rate at target falls at Speed x the change of the
				// utilization error; the contract charges the trapezoid
				// (1 + end + 2 mid) / 4 of its ratio to the market's.
				lin := ac.Speed * (u1 - 0.8) / ac.Target * 30 / 365
				rate *= (1 + math.Exp(lin) + 2*math.Exp(lin/2)) / 4
			}
			want := v0 * math.Pow(1+rate, 30.0/365)
			if got := a.Value(&pos, month, adapters.PriceRate).InexactFloat64(); relErr(got, want) > 1e-12 {
				t.Errorf("value after a month = %.15g, want %.15g at the model rate %g", got, want, rate)
			}
			q0, _ := a.Quote(month, fixed.Num{})
			q, _ := a.Quote(month, fixed.FromDec(d("10000"))) // no position held: the market doubles
			if !(q.APY < q0.APY) {
				t.Errorf("Quote APY after doubling supply = %g, want below %g", q.APY, q0.APY)
			}
			if want := irm.Supply(0.4); math.Abs(q.APY-want) > 1e-15 {
				t.Errorf("Quote APY after doubling supply = %g, want the model at 40%%: %g", q.APY, want)
			}
			np, f, err := a.Withdraw(pos, month, adapters.Withdrawal{All: true})
			if err != nil {
				t.Fatalf("Withdraw(All) error = %v", err)
			}
			if np.Units.Sign() != 0 || f.Value.Sign() <= 0 {
				t.Errorf("Withdraw(All) left %s units, fill %+v", np.Units, f)
			}
		})
	}
	for _, p := range c.Profiles() {
		if p.Kind == adapters.Lending && !seen[p.Name] {
			t.Errorf("lending profile %s has no built-in market exercised", p.Name)
		}
	}
	for _, want := range []string{"aave-v3", "compound-v3", "morpho", "spark", "kamino"} {
		if !seen[want] {
			t.Errorf("no built-in lending market of profile %s", want)
		}
	}
}

func TestNew_invalid(t *testing.T) {
	good := adapters.Profile{Name: "x", Kind: adapters.Lending, Params: map[string]adapters.Param{}}
	lendingMarket := adapters.Market{ID: "x/usdc", Kind: adapters.Lending, Base: adapters.USD, Protocol: "x"}
	tests := []struct {
		name   string
		m      adapters.Market
		params map[string]float64
		kind   adapters.Kind
	}{
		{"kink at 1", lendingMarket, map[string]float64{"irm_optimal": 1}, adapters.Lending},
		{"reserve factor 1", lendingMarket, map[string]float64{"reserve_factor": 1}, adapters.Lending},
		{"haircut above 1", lendingMarket, map[string]float64{"reward_haircut": 1.5}, adapters.Lending},
		{"swap cost 1", lendingMarket, map[string]float64{"harvest_swap_cost": 1}, adapters.Lending},
		{"not lending", adapters.Market{ID: "x/pool", Kind: adapters.AMM, Base: adapters.ETH, Protocol: "x"}, nil, adapters.AMM},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := good
			p.Kind = tt.kind
			p.Params = map[string]adapters.Param{}
			for k, v := range tt.params {
				p.Params[k] = adapters.Param{Value: v, Source: "test"}
			}
			if _, err := lending.New(tt.m, &p); adapters.KindOf(err) != adapters.KindInvalid {
				t.Errorf("New() error = %v, want kind %v", err, adapters.KindInvalid)
			}
		})
	}
	if _, err := lending.New(lendingMarket, nil); adapters.KindOf(err) != adapters.KindInvalid {
		t.Errorf("New(nil profile) error = %v, want kind %v", err, adapters.KindInvalid)
	}
}
