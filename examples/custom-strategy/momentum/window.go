package momentum

import (
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/strategies"
)

// Mean is the average of field f over the window (at - window, at], the
// Go counterpart of a rules file's mean(apy, "7d"), and the number of
// rows that observed it. It reads only rows at or before ms.Row (a
// strategy never sees the future) and skips rows where f is not observed
// (no forward-filled values count twice).
func Mean(ms *strategies.MarketState, f adapters.Field, at time.Time, window time.Duration) (avg float64, n int) {
	s := ms.Series
	if s == nil || ms.Row < 0 || s.Cols[f] == nil {
		return 0, 0
	}
	from, to := at.Add(-window).Unix(), at.Unix()
	var sum float64
	for i := min(ms.Row, s.Len()-1); i >= 0 && s.Times[i] > from; i-- {
		if s.Times[i] <= to && s.Set[i].Has(f) {
			sum += s.Cols[f][i]
			n++
		}
	}
	if n == 0 {
		return 0, 0
	}
	return sum / float64(n), n
}
