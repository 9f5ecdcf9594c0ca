package monitor

import (
	"testing"

	"github.com/yieldvault/yieldvault/adapters"
	_ "github.com/yieldvault/yieldvault/adapters/all"
)

// FuzzParse feeds arbitrary monitors files (the backtest's --monitors) to
// Parse: it never panics, and it either compiles monitors or fails with
// an invalid-input error that names the file.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"rules:\n  - { name: peg-below, action: exit }\n",
		"builtin: false\nrules:\n  - { name: x, when: 'peg < 0.98 && holding > 0', severity: critical }\n",
		"rules:\n  - { name: peg-below, action: sell }\n",
		"rules:\n  - { name: slash-or-pause, when: 'peg < 1' }\n",
		"rules: [ { name: x } ]\n",
		"builtin: maybe\n",
		"rules:\n  - &a { name: x, when: 'peg < 1' }\n  - *a\n",
		"",
	} {
		f.Add([]byte(s))
	}
	c := &Compiler{Catalog: adapters.Builtin()}
	universe := []string{"lido/steth", "aave-v3/weth"}
	f.Fuzz(func(t *testing.T, data []byte) {
		ms, err := Parse("m.yaml", data, c, universe, adapters.ETH)
		if err != nil {
			if adapters.KindOf(err) != adapters.KindInvalid {
				t.Fatalf("error of kind %v, want invalid: %v", adapters.KindOf(err), err)
			}
			if e, ok := err.(*adapters.Error); !ok || len(e.Pos) < len("m.yaml") || e.Pos[:len("m.yaml")] != "m.yaml" {
				t.Fatalf("error %v does not name the file", err)
			}
			return
		}
		for _, m := range ms {
			if m.Action != Alert && m.Action != Pause && m.Action != Exit {
				t.Fatalf("monitor %s with action %q", m.Name, m.Action)
			}
		}
	})
}
