package lst_test

import (
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
			p, err := adapters.Builtin().ProfileFor(m)
			if err != nil {
				t.Fatal(err)
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
