package lending_test

import (
	"testing"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/adaptertest"
	"github.com/yieldvault/yieldvault/adapters/internal/testenv"
	_ "github.com/yieldvault/yieldvault/adapters/lending"
)

// lendingEnv is an observation in which a supply position grows at exactly
// c.APY: the supply APY is observed, and there is no liquidity index.
func lendingEnv(c adaptertest.Conditions) adapters.Env {
	return testenv.ConformanceEnv(c, map[adapters.Field]float64{adapters.FieldUtilization: 0.8})
}

func TestConformance(t *testing.T) {
	for _, id := range []string{"aave-v3/weth", "compound-v3/usdc", "morpho/wbtc", "spark/weth", "kamino/usdc"} {
		t.Run(id, func(t *testing.T) {
			adaptertest.Run(t, adaptertest.Harness{
				Open:      func(t *testing.T) *adapters.Adapter { return testenv.Open(t, nil, id) },
				Env:       lendingEnv,
				LossEvent: adapters.EventBadDebt,
				Harvests:  true,
				OwnLiquid: true,
			})
		})
	}
}

// TestConformance_noRewards runs the suite on a lending market whose profile
// pays no reward tokens: it must not claim the Harvester capability.
func TestConformance_noRewards(t *testing.T) {
	c := testenv.Catalog(t, nil, adapters.Profile{
		Name: "plainlend", Kind: adapters.Lending,
		Params: map[string]adapters.Param{
			"irm_slope1":  {Value: 0.04, Source: "test"},
			"irm_optimal": {Value: 0.8, Source: "test"},
			"gas_deposit": {Value: 150000, Source: "test"},
		},
	}, adapters.Market{ID: "plainlend/usdc", Kind: adapters.Lending, Base: adapters.USD})
	adaptertest.Run(t, adaptertest.Harness{
		Open:      func(t *testing.T) *adapters.Adapter { return testenv.Open(t, c, "plainlend/usdc") },
		Env:       lendingEnv,
		LossEvent: adapters.EventSlash,
		OwnLiquid: true,
	})
}
