package vault

import (
	"sort"

	"github.com/yieldvault/yieldvault/strategies"
)

// target builds a Target from weights; idle is the rest.
func target(w map[string]float64) strategies.Target {
	var t strategies.Target
	ids := make([]string, 0, len(w))
	for id := range w {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	sum := 0.0
	for _, id := range ids {
		t.Allocations = append(t.Allocations, strategies.Allocation{Market: id, Weight: w[id]})
		sum += w[id]
	}
	t.Idle = 1 - sum
	if t.Idle < 0 {
		t.Idle = 0
	}
	return t
}
