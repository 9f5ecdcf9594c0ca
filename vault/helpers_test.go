package vault

import (
	"context"
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

// holdStrategy plans to keep everything idle.
type holdStrategy struct{}

func (holdStrategy) Name() string { return "idle" }
func (holdStrategy) Plan(_ context.Context, st *strategies.State) (strategies.Target, error) {
	t := strategies.Target{Idle: 1}
	for _, m := range st.Markets {
		t.Allocations = append(t.Allocations, strategies.Allocation{Market: m.Market.ID})
	}
	return t, nil
}
