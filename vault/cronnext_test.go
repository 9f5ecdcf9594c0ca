package vault

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/yieldvault/yieldvault/strategies"
)

// TestNextTick checks nextTick against cron's own SpecSchedule.Next, the
// reference it replaces, to the instant and the location: for specs as
// users write them (parsed by strategies.ParseSchedule) and for random
// field sets (rare days, days that exist in some years only, schedules
// that never fire within Next's five years), from random instants with
// and without fractions of a second, in UTC and in another location.
func TestNextTick(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		berlin = time.FixedZone("UTC+1", 3600)
	}
	var scheds []*cron.SpecSchedule
	for _, spec := range []string{"0 */6 * * *", "@daily", "@weekly", "@hourly", "@monthly", "@yearly",
		"*/5 * * * *", "30 2 * * 1-5", "0 0 29 2 *", "0 0 31 * *", "15 3 13 * 5", "0 0 1 1 *", "59 23 * 12 0"} {
		s, err := strategies.ParseSchedule(spec)
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		scheds = append(scheds, s.(*cron.SpecSchedule))
	}
	field := func(lo, hi int, p float64) uint64 {
		var f uint64
		for f == 0 {
			for b := lo; b <= hi; b++ {
				if rng.Float64() < p {
					f |= 1 << uint(b)
				}
			}
		}
		if rng.IntN(3) == 0 {
			f |= cronStar
		}
		return f
	}
	for range 400 {
		scheds = append(scheds, &cron.SpecSchedule{
			Second: field(0, 59, 0.05), Minute: field(0, 59, 0.05), Hour: field(0, 23, 0.1),
			Dom: field(1, 31, 0.08), Month: field(1, 12, 0.2), Dow: field(0, 6, 0.2), Location: time.UTC,
		})
	}
	lo := time.Date(1965, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	hi := time.Date(2045, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	fired, never := 0, 0
	for i, s := range scheds {
		for j := range 40 {
			at := time.Unix(lo+rng.Int64N(hi-lo), 0).UTC()
			switch j % 4 {
			case 1:
				at = at.Add(time.Duration(rng.Int64N(int64(time.Second))))
			case 2:
				at = at.Truncate(time.Hour) // on a tick of an hourly field set
			case 3:
				at = at.In(berlin)
			}
			// Walk a few ticks on, as a keeper does.
			for range 3 {
				got, want := nextTick(s, at), s.Next(at)
				if got != want || got.Location() != want.Location() {
					t.Fatalf("schedule #%d %+v after %s: got %s, want %s", i, *s, at, got, want)
				}
				if want.IsZero() {
					never++
					break
				}
				fired++
				at = want
			}
		}
	}
	// Both kinds of answer were compared.
	if fired < 10000 || never < 100 {
		t.Errorf("%d ticks and %d schedules that never fire compared, want >= 10000 and >= 100", fired, never)
	}
}

// BenchmarkNextTick compares nextTick with cron's Next on the W1
// rebalance schedule, tick after tick.
func BenchmarkNextTick(b *testing.B) {
	s, err := strategies.ParseSchedule("0 */6 * * *")
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		next func(time.Time) time.Time
	}{{"nextTick", func(t time.Time) time.Time { return nextTick(s, t) }}, {"cron", s.Next}} {
		b.Run(c.name, func(b *testing.B) {
			at := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
			for range b.N {
				at = c.next(at)
			}
		})
	}
}
