package lrt_test

import (
	"maps"
	"testing"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/adaptertest"
	"github.com/yieldvault/yieldvault/adapters/internal/testenv"
	_ "github.com/yieldvault/yieldvault/adapters/lrt"
)

// constEnv is an environment in which the market grows at c.APY, pays no
// separate rewards, and has the given exit liquidity (ample when zero).
func constEnv(c adaptertest.Conditions) adapters.Env {
	return testenv.ConformanceEnv(c, map[adapters.Field]float64{adapters.FieldRewardAPY: 0})
}

func TestConformance(t *testing.T) {
	for _, m := range adapters.Builtin().Markets() {
		if m.Kind != adapters.LRT {
			continue
		}
		a := testenv.Open(t, nil, m.ID)
		covered := a.Profile().ParamOr("insurance_cap", 0)
		// The suite runs in 2024; a queue that opened later (Renzo's, on
		// 2024-06-11) is tested as if always open, so that the suite's
		// queue tests exercise it.
		c := adapters.Builtin()
		if p, _ := c.Profile(m.Protocol); p != nil && p.Params["withdrawal_days"].Since != "" {
			cp := *p
			cp.Params = maps.Clone(p.Params)
			wd := cp.Params["withdrawal_days"]
			wd.Since = ""
			cp.Params["withdrawal_days"] = wd
			if err := c.AddProfile(cp); err != nil {
				t.Fatal(err)
			}
		}
		t.Run(m.ID, func(t *testing.T) {
			adaptertest.Run(t, adaptertest.Harness{
				Open:      func(t *testing.T) *adapters.Adapter { return testenv.Open(t, c, m.ID) },
				Env:       constEnv,
				LossEvent: adapters.EventSlash,
				Covered:   covered,
				Queues:    true,
				Harvests:  true,
			})
		})
	}
}
