package vault

import (
	"math/bits"
	"time"

	"github.com/robfig/cron/v3"
)

// nextTick is s.Next(t), the schedule's first tick after t. A calendar
// schedule in UTC (every schedule strategies.ParseSchedule returns but
// @every) is answered by utcNext, on integer seconds; others by their own
// Next.
//
// Why: cron's SpecSchedule.Next walks a time.Time field by field, one
// second, minute or hour at a time (an hour and a minute of them after a
// "0 */6 * * *" tick), each step a time.Time addition and a calendar
// conversion: about 2µs a call, once per keeper tick, a tenth of a long
// backtest's keeper. utcNext finds the same instant with a few bit scans.
func nextTick(s cron.Schedule, t time.Time) time.Time {
	if sp, ok := s.(*cron.SpecSchedule); ok && sp.Location == time.UTC {
		if n, ok := utcNext(sp, t.Unix()); ok {
			return time.Unix(n, 0).In(t.Location())
		}
		return time.Time{}
	}
	return s.Next(t)
}

const (
	daySecs = 24 * 60 * 60
	// cronStar is cron's mark, in a field's bits, of a field written as
	// "*" (its starBit), which makes day-of-month and day-of-week match
	// together rather than either.
	cronStar = 1 << 63
)

// utcNext is the first instant in whole unix seconds after sec that s (in
// UTC) matches, as SpecSchedule.Next finds it in UTC, where no day is
// shorter or longer than another: the earliest second, after the one sec
// is in, whose month, day (dayMatches), hour, minute and second are in
// s's fields. Like Next, it gives up (ok false) on a match beyond five
// years after that second's year: Next checks the year each time a field
// wraps, and every change of year wraps one.
func utcNext(s *cron.SpecSchedule, sec int64) (next int64, ok bool) {
	start := sec + 1
	day := floorDiv(start, daySecs)
	from := int(start - day*daySecs) // the second of the first day to look from
	y, _, _ := dayDate(day)
	yearLimit := y + 5
	for ; ; day, from = day+1, 0 {
		y, mo, dom := dayDate(day)
		if y > yearLimit {
			return 0, false
		}
		if s.Month&(1<<uint(mo)) == 0 || !utcDayMatches(s, dom, weekday(day)) {
			continue
		}
		if at, ok := secondOfDay(s, from); ok {
			return day*daySecs + int64(at), true
		}
	}
}

// secondOfDay is the first second of a day at or after from whose hour,
// minute and second are in s's fields.
func secondOfDay(s *cron.SpecSchedule, from int) (int, bool) {
	h0, m0, s0 := from/3600, from/60%60, from%60
	for h := nextBit(s.Hour, h0, 23); h >= 0; h = nextBit(s.Hour, h+1, 23) {
		mFrom := 0
		if h == h0 {
			mFrom = m0
		}
		for m := nextBit(s.Minute, mFrom, 59); m >= 0; m = nextBit(s.Minute, m+1, 59) {
			sFrom := 0
			if h == h0 && m == m0 {
				sFrom = s0
			}
			if x := nextBit(s.Second, sFrom, 59); x >= 0 {
				return h*3600 + m*60 + x, true
			}
		}
	}
	return 0, false
}

// nextBit is the lowest set bit of field in [from, hi], or -1.
func nextBit(field uint64, from, hi int) int {
	if from > hi {
		return -1
	}
	f := field & (1<<uint(hi+1) - 1) >> uint(from) << uint(from)
	if f == 0 {
		return -1
	}
	return bits.TrailingZeros64(f)
}

// utcDayMatches is cron's dayMatches: day of month and day of week both
// match where either field was written as "*", else either matches.
func utcDayMatches(s *cron.SpecSchedule, dom int, wd time.Weekday) bool {
	domMatch := s.Dom&(1<<uint(dom)) != 0
	dowMatch := s.Dow&(1<<uint(wd)) != 0
	if s.Dom&cronStar != 0 || s.Dow&cronStar != 0 {
		return domMatch && dowMatch
	}
	return domMatch || dowMatch
}

// dayDate is the UTC date of day (days since 1970-01-01).
func dayDate(day int64) (int, time.Month, int) { return time.Unix(day*daySecs, 0).UTC().Date() }

// weekday is the day of the week of day (1970-01-01 was a Thursday).
func weekday(day int64) time.Weekday {
	return time.Weekday((day%7 + 7 + int64(time.Thursday)) % 7)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
