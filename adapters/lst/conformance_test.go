package lst_test

import (
	"maps"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/adaptertest"
	"github.com/yieldvault/yieldvault/adapters/internal/testenv"
	_ "github.com/yieldvault/yieldvault/adapters/lst"
)

// constEnv is an environment in which the market grows at c.APY with the
// given exit liquidity (ample when zero) and no depeg.
func constEnv(c adaptertest.Conditions) adapters.Env { return testenv.ConformanceEnv(c, nil) }

func TestConformance(t *testing.T) {
	for _, m := range adapters.Builtin().Markets() {
		if m.Kind != adapters.LST {
			continue
		}
		t.Run(m.ID, func(t *testing.T) {
			h := adaptertest.Harness{
				Open:      func(t *testing.T) *adapters.Adapter { return testenv.Open(t, nil, m.ID) },
				Env:       constEnv,
				LossEvent: adapters.EventSlash,
				Queues:    true,
			}
			c := adapters.Builtin()
			p, err := c.ProfileFor(m)
			if err != nil {
				t.Fatal(err)
			}
			// The suite's queue and exit-liquidity tests exercise one queue
			// and one venue: a market with no queue a vault can use (rETH,
			// cbETH) or a burn route (rETH) runs them with the queue open and
			// no burn; TestDriver_NoQueueBurn covers those routes.
			if pr, _ := c.Profile(m.Protocol); p.ParamOr("queue", 1) == 0 || p.ParamOr("burn_liquidity", 0) > 0 {
				cp := *pr
				cp.Params = maps.Clone(pr.Params)
				delete(cp.Params, "queue")
				delete(cp.Params, "burn_liquidity")
				if _, ok := cp.Params["withdrawal_days"]; !ok {
					cp.Params["withdrawal_days"] = adapters.Param{Value: 1, Source: "conformance only: a queue to exercise"}
				}
				if err := c.AddProfile(cp); err != nil {
					t.Fatal(err)
				}
				h.Open = func(t *testing.T) *adapters.Adapter { return testenv.Open(t, c, m.ID) }
			}
			// The suite runs in 2024: a protocol that paid no yield then
			// (Babylon's phase 1) grows by nothing, whatever the APY.
			if p.ParamAt("yield_paid", adaptertest.T0, 1) == 0 {
				h.Growth = func(float64, time.Duration) float64 { return 1 }
			}
			adaptertest.Run(t, h)
		})
	}
}
