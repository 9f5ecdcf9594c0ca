package service

import (
	"context"
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
)

// TestService_PaperFillsPayGas: the paper executor's fills pay gas at the
// decision's gas price on every action, not only when the data's price
// changed since the persisted state (the restored vault's markets traded
// at no gas until then: every hourly rebalance on 6-hourly rows). Each
// traded fill pays gas > 0, and a mint pays the profile's gas_deposit x
// the gas price x 1e-9 ETH per gwei.
func TestService_PaperFillsPayGas(t *testing.T) {
	path := writeConfig(t, "durability: normal", `
  - { id: eth-a, strategy: $STRAT/lst-lrt-balanced.yaml, deposit: "100", rebalance: "@hourly" }
`)
	s := newTestService(t, path, NewManualClock(t0))
	ctx := context.Background()
	if _, err := s.Advance(ctx, t0.Add(48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	ds, err := s.store.Decisions(ctx, "eth-a", 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	cat := adapters.Builtin()
	fills, mints := 0, 0
	for _, d := range ds {
		if d.Outcome != OutTraded {
			continue
		}
		var det struct {
			Decision struct {
				Inputs struct {
					GasPrice float64 `json:"gas_price"`
				} `json:"inputs"`
			} `json:"decision"`
			Result struct {
				Executed []struct {
					Order struct{ Market string }
					Fill  struct {
						Gas   float64 `json:"gas,string"`
						Route string
					}
				}
			} `json:"result"`
		}
		if err := json.Unmarshal(d.Detail, &det); err != nil {
			t.Fatalf("%s: %v", d.Time, err)
		}
		price := det.Decision.Inputs.GasPrice
		if !(price > 0) {
			t.Fatalf("%s: gas price %g", d.Time, price)
		}
		for _, e := range det.Result.Executed {
			fills++
			if !(e.Fill.Gas > 0) {
				t.Errorf("%s %s (%s): no gas paid at %g gwei", d.Time, e.Order.Market, e.Fill.Route, price)
			}
			if e.Fill.Route != "mint" {
				continue
			}
			m, err := cat.Market(e.Order.Market)
			if err != nil {
				t.Fatal(err)
			}
			prof, err := cat.Profile(m.Protocol)
			if err != nil {
				t.Fatal(err)
			}
			want := prof.ParamOr("gas_deposit", 0) * price * 1e-9
			if math.Abs(e.Fill.Gas-want) > 1e-12 {
				t.Errorf("%s mint of %s paid gas %g, want gas_deposit x %g gwei = %g", d.Time, e.Order.Market, e.Fill.Gas, price, want)
			}
			mints++
		}
	}
	if fills < 5 || mints == 0 {
		t.Fatalf("%d fills, %d mints in two days: the test checked too little", fills, mints)
	}
	t.Logf("%d fills paid gas, %d mints at gas_deposit x the gas price", fills, mints)
}
