package notes_test

import (
	"testing"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/adaptertest"

	"example.com/outside/notes"
)

const catalog = `profiles:
  - name: notehouse
    kind: fixed-note
    base: ETH
    params:
      exit_fee: { value: 0.001, source: "the test's fixture" }
markets:
  - { id: notehouse/note-eth, kind: fixed-note, base: ETH }
  - { id: aave-v3/weth, kind: lending, base: ETH, driver: flat }
`

// TestConformance runs yieldvault's adapter conformance suite on the
// kind and on the lending driver this package adds.
func TestConformance(t *testing.T) {
	cat := adapters.Builtin()
	if err := cat.Load("catalog.yaml", []byte(catalog)); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"notehouse/note-eth", "aave-v3/weth"} {
		t.Run(id, func(t *testing.T) {
			adaptertest.Run(t, adaptertest.Harness{
				Open: func(t *testing.T) *adapters.Adapter {
					a, err := adapters.Open(cat, id)
					if err != nil {
						t.Fatal(err)
					}
					if _, ok := a.Driver().(*notes.Note); !ok {
						t.Fatalf("%s is modelled by %T, want the notes driver", id, a.Driver())
					}
					return a
				},
				Env: func(c adaptertest.Conditions) adapters.Env {
					var o adapters.Observation
					o.Time = c.Time
					o.Put(adapters.FieldAPY, c.APY)
					if c.ExitLiquidity > 0 {
						o.Put(adapters.FieldExitLiquidity, c.ExitLiquidity)
					}
					return adapters.Env{Time: c.Time, Obs: o, GasPrice: c.GasPrice}
				},
			})
		})
	}
}
