package amm_test

import (
	"testing"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/adaptertest"
	_ "github.com/yieldvault/yieldvault/adapters/amm"
	"github.com/yieldvault/yieldvault/adapters/internal/testenv"
)

// poolEnv is an observation in which an LP position grows at exactly
// c.APY: the fee APY is observed, the price is at entry, a stable pool's
// balances are even, and the pool is so large (1e13 base units) that the
// position's own share of it (which dilutes the observed fee APY by
// TVL / (TVL + own)) is 1e-12.
func poolEnv(c adaptertest.Conditions) adapters.Env {
	o := adapters.Observation{Time: c.Time}
	o.Put(adapters.FieldAPY, c.APY)
	o.Put(adapters.FieldPrice, 1)
	o.Put(adapters.FieldBalance0, 5e12)
	o.Put(adapters.FieldBalance1, 5e12)
	if c.ExitLiquidity > 0 {
		o.Put(adapters.FieldExitLiquidity, c.ExitLiquidity)
	}
	return adapters.Env{Time: c.Time, Obs: o, GasPrice: c.GasPrice}
}

func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		id       string
		harvests bool
	}{
		{"curve/steth-eth", true},
		{"curve/3pool", true},
		{"balancer/reth-weth", true},
		{"uniswap-v3/weth-usdt", false},
		{"uniswap-v3/weth-usdt-range", false},
	} {
		t.Run(tc.id, func(t *testing.T) {
			adaptertest.Run(t, adaptertest.Harness{
				Open:      func(t *testing.T) *adapters.Adapter { return testenv.Open(t, nil, tc.id) },
				Env:       poolEnv,
				LossEvent: adapters.EventSlash,
				Harvests:  tc.harvests,
			})
		})
	}
}
