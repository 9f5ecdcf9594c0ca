package all_test

import (
	"testing"

	"github.com/yieldvault/yieldvault/adapters"
	_ "github.com/yieldvault/yieldvault/adapters/all"
)

// TestOpen opens every built-in market whose kind the package links in.
func TestOpen(t *testing.T) {
	kinds := map[adapters.Kind]bool{}
	for _, k := range adapters.RegisteredKinds() {
		kinds[k] = true
	}
	for _, k := range adapters.Kinds {
		if !kinds[k] {
			t.Errorf("kind %s is not registered", k)
		}
	}
	c := adapters.Builtin()
	for _, m := range c.Markets() {
		if !kinds[m.Kind] {
			continue
		}
		a, err := adapters.Open(c, m.ID)
		if err != nil {
			t.Errorf("Open(%s) error = %v", m.ID, err)
			continue
		}
		if got := a.Market().ID; got != m.ID {
			t.Errorf("Open(%s).Market().ID = %s", m.ID, got)
		}
	}
}
