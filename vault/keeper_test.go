package vault

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/robfig/cron/v3"

	"github.com/yieldvault/yieldvault/strategies"
)

// TestKeeper_Due: a "0 */6 * * *" schedule over 30 simulated days that
// span a month boundary fires exactly 120 times, each tick once, whatever
// the caller's step.
func TestKeeper_Due(t *testing.T) {
	start := time.Date(2024, 1, 20, 0, 0, 0, 0, time.UTC) // 30 days to Feb 19: crosses Jan/Feb
	end := start.Add(30 * 24 * time.Hour)
	rng := rand.New(rand.NewPCG(7, 11))
	tests := []struct {
		name  string
		steps func() []time.Time
	}{
		{"6-hourly steps", func() []time.Time { return every(start, end, 6*time.Hour) }},
		{"hourly steps", func() []time.Time { return every(start, end, time.Hour) }},
		{"10-minute steps", func() []time.Time { return every(start, end, 10*time.Minute) }},
		{"irregular steps", func() []time.Time {
			var out []time.Time
			for at := start; at.Before(end); {
				at = at.Add(time.Duration(rng.Int64N(int64(40 * time.Hour))))
				if at.After(end) {
					at = end
				}
				out = append(out, at)
			}
			return out
		}},
		{"one step over everything", func() []time.Time { return []time.Time{end} }},
		{"steps off the hour", func() []time.Time { return every(start.Add(17*time.Minute), end, 5*time.Hour+time.Second) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParseKeeper("0 */6 * * *", "@daily", start)
			mustOK(t, err)
			steps := tc.steps()
			if last := steps[len(steps)-1]; last.Before(end) {
				steps = append(steps, end)
			}
			seen := map[time.Time]int{}
			var harvests, exits int
			var prev time.Time
			for _, now := range steps {
				tasks := k.Due(now)
				for _, task := range tasks {
					if task.Tick.After(now) {
						t.Fatalf("task %+v due at %s is in the future", task, now)
					}
					switch task.Kind {
					case TaskRebalance:
						if !task.Tick.After(prev) && !prev.IsZero() {
							t.Fatalf("rebalance tick %s not after the previous %s", task.Tick, prev)
						}
						prev = task.Tick
						seen[task.Tick]++
					case TaskHarvest:
						harvests++
					case TaskExitCheck:
						exits++
					}
				}
			}
			if len(seen) != 120 {
				t.Errorf("%d distinct rebalance ticks, want 120", len(seen))
			}
			for tick, n := range seen {
				if n != 1 {
					t.Errorf("tick %s fired %d times", tick, n)
				}
				if h := tick.Hour(); tick.Minute() != 0 || h%6 != 0 {
					t.Errorf("tick %s is not on the schedule", tick)
				}
			}
			if harvests != 30 {
				t.Errorf("%d daily harvest ticks over 30 days, want 30", harvests)
			}
			if exits != len(steps) {
				t.Errorf("%d exit checks for %d steps, want one per step", exits, len(steps))
			}
		})
	}
}

// TestKeeper_State: the keeper's state survives a round trip through JSON
// (a service restart) without losing or repeating a tick.
func TestKeeper_State(t *testing.T) {
	start := time.Date(2024, 2, 28, 22, 0, 0, 0, time.UTC)
	k := must(ParseKeeper("0 */6 * * *", "", start))(t)
	var got []time.Time
	collect := func(k *Keeper, now time.Time) {
		for _, task := range k.Due(now) {
			if task.Kind == TaskRebalance {
				got = append(got, task.Tick)
			}
		}
	}
	collect(k, start.Add(7*time.Hour)) // 00:00, 06:00
	raw, err := json.Marshal(k.State())
	mustOK(t, err)
	var st KeeperState
	mustOK(t, json.Unmarshal(raw, &st))
	k2 := must(ParseKeeper("0 */6 * * *", "", time.Time{}))(t)
	k2.SetState(st)
	collect(k2, start.Add(7*time.Hour)) // nothing new
	collect(k2, start.Add(14*time.Hour))
	want := []time.Time{
		time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 2, 29, 6, 0, 0, 0, time.UTC),
		time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ticks across a restart (-want +got):\n%s", diff)
	}
	if next, want := k2.Next(start.Add(14*time.Hour)), time.Date(2024, 2, 29, 18, 0, 0, 0, time.UTC); !next.Equal(want) {
		t.Errorf("Next = %s, want %s", next, want)
	}
}

func TestKeeper_Order(t *testing.T) {
	start := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	k := must(ParseKeeper("@daily", "@daily", start))(t)
	got := k.Due(start.Add(24 * time.Hour))
	want := []Task{
		{Kind: TaskExitCheck, Tick: start.Add(24 * time.Hour)},
		{Kind: TaskHarvest, Tick: start.Add(24 * time.Hour)},
		{Kind: TaskRebalance, Tick: start.Add(24 * time.Hour)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tasks at one instant (-want +got):\n%s", diff)
	}
	if _, err := ParseKeeper("TZ=Europe/Paris 0 * * * *", "", start); err == nil {
		t.Error("ParseKeeper accepted a non-UTC zone")
	}
	// Time going backwards gives only the exit check.
	if got := k.Due(start); len(got) != 1 || got[0].Kind != TaskExitCheck {
		t.Errorf("Due before the last tick = %+v, want only the exit check", got)
	}
}

func every(from, to time.Time, step time.Duration) []time.Time {
	var out []time.Time
	for at := from.Add(step); !at.After(to); at = at.Add(step) {
		out = append(out, at)
	}
	return out
}

// TestNextMemo asks memoized and plain Next of several schedules at
// random times (mostly forward, sometimes back, in two locations) and
// requires the same answers, location included.
func TestNextMemo(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	tokyo := time.FixedZone("JST", 9*3600)
	for _, spec := range []string{"0 */6 * * *", "@daily", "*/15 * * * *", "0 0 1 * *", "30 2 * * MON", "@every 90m"} {
		s, err := strategies.ParseSchedule(spec)
		if err != nil {
			t.Fatal(err)
		}
		var m nextMemo
		at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		hits := 0
		for range 5000 {
			switch r := rng.IntN(20); {
			case r == 0:
				at = at.Add(-time.Duration(rng.IntN(48)) * time.Hour)
			case r == 1:
				at = at.In(tokyo)
			case r == 2:
				at = at.UTC()
			default:
				at = at.Add(time.Duration(rng.IntN(180)) * time.Minute)
			}
			want := s.Next(at)
			if m.next.Equal(want) {
				hits++
			}
			got := m.get(s, at)
			if !got.Equal(want) || got.Location() != want.Location() {
				t.Fatalf("%s: Next(%s) = %s, want %s", spec, at, got, want)
			}
		}
		if _, cal := s.(*cron.SpecSchedule); cal && hits == 0 {
			t.Errorf("%s: the memo never answered: the test proves nothing", spec)
		}
	}
}
