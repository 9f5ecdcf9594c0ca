package amm_test

import (
	"testing"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/adaptertest"
	_ "github.com/yieldvault/yieldvault/adapters/amm"
	"github.com/yieldvault/yieldvault/adapters/internal/testenv"
)

// weightedEnv returns the observation in which an LP position grows at
// exactly c.APY: the fee APY is observed, the price is at entry, the pool
// holds coin 0 at weight w0 (even for stable and Uniswap pools, a weighted
// pool's balances at its weights), and the pool is so large (1e13 base
// units) that the position's own share of it (which dilutes the observed
// fee APY by TVL / (TVL + own)) is 1e-12.
func weightedEnv(w0 float64) func(adaptertest.Conditions) adapters.Env {
	return func(c adaptertest.Conditions) adapters.Env {
		o := adapters.Observation{Time: c.Time}
		o.Put(adapters.FieldAPY, c.APY)
		o.Put(adapters.FieldPrice, 1)
		o.Put(adapters.FieldBalance0, 1e13*w0)
		o.Put(adapters.FieldBalance1, 1e13*(1-w0))
		if c.ExitLiquidity > 0 {
			o.Put(adapters.FieldExitLiquidity, c.ExitLiquidity)
		}
		return adapters.Env{Time: c.Time, Obs: o, GasPrice: c.GasPrice}
	}
}

func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		id       string
		harvests bool
		w0       float64
	}{
		{"curve/steth-eth", true, 0.5},
		{"curve/3pool", true, 0.5},
		{"balancer/reth-weth", true, 0.5},
		{"uniswap-v3/weth-usdt", false, 0.5},
		{"uniswap-v3/weth-usdt-range", false, 0.5},
		{"balancer-weighted/80bal-20weth", false, 0.2},
	} {
		t.Run(tc.id, func(t *testing.T) {
			adaptertest.Run(t, adaptertest.Harness{
				Open:      func(t *testing.T) *adapters.Adapter { return testenv.Open(t, nil, tc.id) },
				Env:       weightedEnv(tc.w0),
				LossEvent: adapters.EventSlash,
				Harvests:  tc.harvests,
			})
		})
	}
}
