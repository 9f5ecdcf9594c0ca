package monitor

import (
	"slices"
	"testing"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
)

// TestEventCheck checks the slash-or-pause monitor's reach: the market
// hit, the markets sharing its layer, AVS or operator tag, the event's
// scope tag, and the 14-day window.
func TestEventCheck(t *testing.T) {
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	mk := func(id string, tags ...string) adapters.Market { return adapters.Market{ID: id, Tags: tags} }
	markets := []adapters.Market{
		mk("a/lrt", "layer:eigenlayer", "operator:p2p"),
		mk("b/lrt", "layer:eigenlayer", "operator:figment"),
		mk("c/lst"),
		mk("d/sym", "layer:symbiotic", "operator:p2p"),
	}
	for _, tc := range []struct {
		name   string
		events map[string][]adapters.Event
		paused string
		want   []string
	}{
		{"nothing", nil, "", nil},
		{"slash on a, same layer and operator", map[string][]adapters.Event{"a/lrt": {{Time: now.Add(-time.Hour), Market: "a/lrt", Type: adapters.EventSlash, Size: 0.01}}}, "", []string{"a/lrt", "b/lrt", "d/sym"}},
		{"slash older than 14 days", map[string][]adapters.Event{"a/lrt": {{Time: now.Add(-15 * 24 * time.Hour), Market: "a/lrt", Type: adapters.EventSlash, Size: 0.01}}}, "", nil},
		{"slash in the future", map[string][]adapters.Event{"a/lrt": {{Time: now.Add(time.Hour), Market: "a/lrt", Type: adapters.EventSlash, Size: 0.01}}}, "", nil},
		{"depeg is not a slash", map[string][]adapters.Event{"c/lst": {{Time: now.Add(-time.Hour), Market: "c/lst", Type: adapters.EventDepeg, Size: 0.05}}}, "", nil},
		{"pause on an untagged market", map[string][]adapters.Event{"c/lst": {{Time: now.Add(-time.Hour), Market: "c/lst", Type: adapters.EventPause}}}, "", []string{"c/lst"}},
		{"paused now", nil, "c/lst", []string{"c/lst"}},
		{"scope tag", map[string][]adapters.Event{"c/lst": {{Time: now.Add(-time.Hour), Market: "c/lst", Type: adapters.EventSlash, Size: 0.01, Scope: "operator:figment"}}}, "", []string{"b/lrt", "c/lst"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &strategies.State{Time: now}
			w := &adapters.Window{}
			for _, m := range markets {
				st.Markets = append(st.Markets, strategies.MarketState{Market: m, Paused: m.ID == tc.paused})
				w.Series = append(w.Series, &adapters.Series{Market: m, Events: tc.events[m.ID]})
			}
			got := eventCheck(st, w)
			if !slices.Equal(got, tc.want) {
				t.Errorf("fires on %v, want %v", got, tc.want)
			}
		})
	}
}
