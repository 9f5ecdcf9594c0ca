package lst_test

import (
	"testing"

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
			adaptertest.Run(t, adaptertest.Harness{
				Open:      func(t *testing.T) *adapters.Adapter { return testenv.Open(t, nil, m.ID) },
				Env:       constEnv,
				LossEvent: adapters.EventSlash,
				Queues:    true,
			})
		})
	}
}
