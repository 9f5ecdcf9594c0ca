package backtest

import (
	"slices"
	"testing"

	"github.com/yieldvault/yieldvault/adapters"
)

// TestStepTimes_Union holds stepTimes (step 0) to the union of the
// markets' row times in (from, to] after from, computed naively: for
// markets sharing their times (the shortcut) and for markets that do not
// (the merge).
func TestStepTimes_Union(t *testing.T) {
	mk := func(times ...int64) *market {
		return &market{cursor: cursor{ser: &adapters.Series{Times: times}}}
	}
	naive := func(ms []*market, from, to int64) []int64 {
		out := []int64{from}
		var all []int64
		for _, m := range ms {
			for _, x := range m.ser.Times {
				if x > from && x <= to {
					all = append(all, x)
				}
			}
		}
		slices.Sort(all)
		return append(out, slices.Compact(all)...)
	}
	a := []int64{0, 10, 20, 30, 40, 50}
	for _, tc := range []struct {
		name string
		ms   []*market
	}{
		{"shared", []*market{mk(a...), mk(a...), mk(a...)}},
		{"one differs", []*market{mk(a...), mk(a...), mk(5, 10, 25, 30, 60)}},
		{"shorter", []*market{mk(a...), mk(a[:4]...)}},
		{"single", []*market{mk(a...)}},
	} {
		for _, r := range [][2]int64{{0, 50}, {10, 40}, {15, 45}, {-5, 100}, {20, 20}} {
			got := stepTimes(tc.ms, r[0], r[1], 0)
			if want := naive(tc.ms, r[0], r[1]); !slices.Equal(got, want) {
				t.Errorf("%s, %d..%d: got %v, want %v", tc.name, r[0], r[1], got, want)
			}
		}
	}
}
