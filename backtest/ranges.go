package backtest

import (
	"context"
	"fmt"
	"time"

	"github.com/yieldvault/yieldvault/adapters/history"
)

// DataRange is the stored range of one market's history: its first and
// last rows and how many there are (all of them, not only a run's
// window).
type DataRange struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	Rows int       `json:"rows"`
}

// MarketRange is what a run could see of one market.
//
//   - First and Last are its first and last rows in the loaded window
//     (look-back included); Rows counts them. Zero when it has none.
//   - Stored is its whole stored history, when the loader could tell
//     (Spec.DataRanges).
//   - Investable says whether the run could hold it at all: it has a row
//     at or before the run's end. InvestableFrom is when it becomes
//     observable: the run's start, or its first row when that is later.
type MarketRange struct {
	Market         string     `json:"market"`
	First          time.Time  `json:"first,omitzero"`
	Last           time.Time  `json:"last,omitzero"`
	Rows           int        `json:"rows"`
	Stored         *DataRange `json:"stored,omitempty"`
	Investable     bool       `json:"investable"`
	InvestableFrom time.Time  `json:"investable_from,omitzero"`
}

// StoredRanges returns the stored range of each of ids that the loader
// can tell (a *history.DB can; other loaders give nil).
func StoredRanges(ctx context.Context, db Loader, ids []string) map[string]DataRange {
	h, ok := db.(interface {
		Markets(ctx context.Context) ([]history.MarketInfo, error)
	})
	if !ok {
		return nil
	}
	infos, err := h.Markets(ctx)
	if err != nil {
		return nil
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	out := map[string]DataRange{}
	for _, in := range infos {
		if want[in.Market.ID] && in.Rows > 0 {
			out[in.Market.ID] = DataRange{From: in.First.UTC(), To: in.Last.UTC(), Rows: in.Rows}
		}
	}
	return out
}

// marketRanges describes each market's rows against the run's range.
func marketRanges(ms []*market, from, to time.Time, stored map[string]DataRange) []MarketRange {
	out := make([]MarketRange, 0, len(ms))
	for _, m := range ms {
		r := MarketRange{Market: m.id, Rows: m.ser.Len()}
		if d, ok := stored[m.id]; ok {
			d := d
			r.Stored = &d
		}
		if n := m.ser.Len(); n > 0 {
			r.First, r.Last = unixUTC(m.ser.Times[0]), unixUTC(m.ser.Times[n-1])
			if !r.First.After(to) {
				r.Investable = true
				r.InvestableFrom = from
				if r.First.After(from) {
					r.InvestableFrom = r.First
				}
			}
		}
		out = append(out, r)
	}
	return out
}

// rangeWarnings are the warnings a run's market ranges call for: a market
// with no row in the run's range (not investable, with its data's range)
// and one whose data starts after the run's start or ends before its end.
func rangeWarnings(rs []MarketRange, from, to time.Time) []string {
	var out []string
	for _, r := range rs {
		switch {
		case !r.Investable:
			where := "the database has no rows for it"
			if r.Stored != nil {
				where = fmt.Sprintf("its data covers %s .. %s", fmtDate(r.Stored.From), fmtDate(r.Stored.To))
			}
			out = append(out, fmt.Sprintf("%s has no data in the run's range %s .. %s (%s): not investable in this range; its hold benchmark is not computed",
				r.Market, fmtDate(from), fmtDate(to), where))
		case r.InvestableFrom.After(from):
			out = append(out, fmt.Sprintf("%s: its data starts %s, after the run's start %s: not investable before then; its hold benchmark starts then",
				r.Market, fmtDate(r.InvestableFrom), fmtDate(from)))
		}
		if r.Investable && r.Last.Before(to) && to.Sub(r.Last) > 7*24*time.Hour {
			out = append(out, fmt.Sprintf("%s: its data ends %s, before the run's end %s: its last row is carried to the end",
				r.Market, fmtDate(r.Last), fmtDate(to)))
		}
	}
	return out
}

// fmtDate writes a time as a date, with the time of day when it has one.
func fmtDate(t time.Time) string {
	if t.IsZero() {
		return "(unbounded)"
	}
	return formatDateTime(t)
}
