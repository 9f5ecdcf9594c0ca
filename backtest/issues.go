package backtest

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/yieldvault/yieldvault/adapters/history"
)

// GapFactor is how many of a market's median steps two consecutive rows
// may be apart before the engine reports a gap (history.GapFactor, the
// threshold of `data check`).
const GapFactor = history.GapFactor

// dataIssues finds, per market, what the run will have to carry over:
// no rows at all, a first row after From (the market is unobservable
// until then), a last row before To (its last row carries to the end) and
// gaps (rows more than GapFactor median steps apart) inside the run's
// range. Every issue counts the simulated steps it covers. Gaps are
// forward filled: the latest row before the gap stays the market's
// observation until the next row.
func dataIssues(ms []*market, steps []int64, from, to int64) []DataIssue {
	var out []DataIssue
	count := func(lo, hi int64) int { // steps with lo < t < hi
		a := sort.Search(len(steps), func(i int) bool { return steps[i] > lo })
		b := sort.Search(len(steps), func(i int) bool { return steps[i] >= hi })
		return max(0, b-a)
	}
	for _, m := range ms {
		ts := m.ser.Times
		if len(ts) == 0 {
			out = append(out, DataIssue{Kind: IssueNoData, Market: m.id, Steps: len(steps),
				Note: "no observation in the loaded window: the market is never observable"})
			continue
		}
		if ts[0] > from {
			out = append(out, DataIssue{Kind: IssueLate, Market: m.id, From: unixUTC(from), To: unixUTC(ts[0]),
				Steps: count(from-1, ts[0]), Note: "first observation after the start: not observable before it"})
		}
		if ts[len(ts)-1] < to {
			out = append(out, DataIssue{Kind: IssueEarlyEnd, Market: m.id, From: unixUTC(ts[len(ts)-1]), To: unixUTC(to),
				Steps: count(ts[len(ts)-1], to+1), Note: "last observation before the end: carried forward to the end"})
		}
		med := medianStep(ts)
		if med <= 0 {
			continue
		}
		lo := max(0, sort.Search(len(ts), func(i int) bool { return ts[i] >= from })-1)
		for i := lo + 1; i < len(ts) && ts[i-1] < to; i++ {
			if gap := ts[i] - ts[i-1]; gap > GapFactor*med {
				out = append(out, DataIssue{Kind: IssueGap, Market: m.id, From: unixUTC(ts[i-1]), To: unixUTC(ts[i]),
					Steps: count(ts[i-1], ts[i]),
					Note:  fmt.Sprintf("no row for %s (median step %s): forward filled", time.Duration(gap)*time.Second, time.Duration(med)*time.Second)})
			}
		}
	}
	return out
}

// medianStep is the median of a sample of the steps between consecutive
// times: every step when there are at most 2049, else 2049 evenly spaced
// ones (enough to find the usual step; deterministic).
func medianStep(ts []int64) int64 {
	n := len(ts) - 1
	if n <= 0 {
		return 0
	}
	const sample = 2049
	stride := 1
	if n > sample {
		stride = n / sample
	}
	// Regular data (every sampled step the same, the usual case) has that
	// step as its median: no sample is copied and sorted.
	first, regular := ts[1]-ts[0], true
	for i := 1 + stride; i <= n && regular; i += stride {
		regular = ts[i]-ts[i-1] == first
	}
	if regular {
		return first
	}
	d := make([]int64, 0, (n-1)/stride+1) // the sample's size: up to 2 x sample when n/sample rounds down
	for i := 1; i <= n; i += stride {
		d = append(d, ts[i]-ts[i-1])
	}
	slices.Sort(d)
	return d[len(d)/2]
}
