package importers

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/adapters/history"
)

// builder collects the rows of one import and turns them into a checked
// batch.
type builder struct {
	op      string
	source  string
	format  Format
	cat     *adapters.Catalog
	rows    []history.Row
	skipped int
	// skipReasons counts skipped rows per reason, in first-seen order.
	skipReasons []string
	skipCounts  map[string]int
	notes       []string
	// counted notes ("values clamped" ...), in first-seen order.
	countKeys []string
	counts    map[string]int
}

func newBuilder(op, source string, format Format, cat *adapters.Catalog) *builder {
	return &builder{op: op, source: source, format: format, cat: cat, skipCounts: map[string]int{}, counts: map[string]int{}}
}

// add appends a row. A row that observed nothing is counted as skipped
// with reason empty.
func (b *builder) add(market string, o adapters.Observation, line int, empty string) {
	if o.Set == 0 {
		b.skip(empty)
		return
	}
	b.rows = append(b.rows, history.Row{Market: market, Obs: o, Line: line})
}

// reserve grows the row slice to hold n rows.
func (b *builder) reserve(n int) {
	if n > cap(b.rows) && n < 1<<26 {
		b.rows = slices.Grow(b.rows, n-len(b.rows))
	}
}

// skip counts a source row left out for a reason.
func (b *builder) skip(reason string) {
	b.skipped++
	if _, ok := b.skipCounts[reason]; !ok {
		b.skipReasons = append(b.skipReasons, reason)
	}
	b.skipCounts[reason]++
}

// count counts an event worth a note (a value clamped, a value dropped).
func (b *builder) count(what string) {
	if _, ok := b.counts[what]; !ok {
		b.countKeys = append(b.countKeys, what)
	}
	b.counts[what]++
}

func (b *builder) note(format string, args ...any) {
	b.notes = append(b.notes, fmt.Sprintf(format, args...))
}

// finish sorts rows by market and time, merges rows of the same market
// and time (identical duplicates are dropped; rows observing different
// fields are combined; a field with two different values is an error
// naming both lines), checks every row, and looks every market up in the
// catalog.
func (b *builder) finish() (*history.Batch, error) {
	outOfOrder := 0
	last := map[string]int64{}
	for i := range b.rows {
		r := &b.rows[i]
		t := r.Obs.Time.Unix()
		if prev, ok := last[r.Market]; ok && t < prev {
			outOfOrder++
			continue
		}
		last[r.Market] = t
	}
	slices.SortStableFunc(b.rows, func(x, y history.Row) int {
		if c := cmp.Compare(x.Market, y.Market); c != 0 {
			return c
		}
		return x.Obs.Time.Compare(y.Obs.Time)
	})
	out := b.rows[:0]
	dups, merged := 0, 0
	for i := range b.rows {
		r := b.rows[i]
		if n := len(out); n > 0 && out[n-1].Market == r.Market && out[n-1].Obs.Time.Equal(r.Obs.Time) {
			prev := &out[n-1]
			added := false
			for f := adapters.Field(0); f < adapters.NumFields; f++ {
				v, ok := r.Obs.Get(f)
				if !ok {
					continue
				}
				if pv, pok := prev.Obs.Get(f); pok {
					if pv != v {
						return nil, adapters.E(b.op, adapters.KindInvalid,
							"%s at %s: %s is %g on line %d and %g on line %d",
							r.Market, r.Obs.Time.Format("2006-01-02T15:04:05Z"), f, pv, prev.Line, v, r.Line).
							At(fmt.Sprintf("%s:%d", b.source, r.Line))
					}
					continue
				}
				prev.Obs.Put(f, v)
				added = true
			}
			if added {
				merged++
			} else {
				dups++
			}
			continue
		}
		out = append(out, r)
	}
	b.rows = out
	var notes []string
	for _, reason := range b.skipReasons {
		notes = append(notes, fmt.Sprintf("%d rows skipped: %s", b.skipCounts[reason], reason))
	}
	for _, k := range b.countKeys {
		notes = append(notes, fmt.Sprintf("%d %s", b.counts[k], k))
	}
	if outOfOrder > 0 {
		notes = append(notes, fmt.Sprintf("%d rows were out of time order; rows sorted by time", outOfOrder))
	}
	if dups > 0 {
		notes = append(notes, fmt.Sprintf("%d duplicate rows (same market, time and values) dropped", dups))
	}
	if merged > 0 {
		notes = append(notes, fmt.Sprintf("%d rows with the same market and time merged", merged))
	}
	notes = append(notes, b.notes...)

	ids := map[string]int{}
	for _, r := range b.rows {
		if err := r.Obs.Validate(); err != nil {
			return nil, (&adapters.Error{Op: b.op, Kind: adapters.KindInvalid, Err: err}).At(fmt.Sprintf("%s:%d", b.source, r.Line))
		}
		if _, ok := ids[r.Market]; !ok {
			ids[r.Market] = r.Line
		}
	}
	batch := &history.Batch{Source: b.source, Format: string(b.format), Rows: b.rows, Skipped: b.skipped, Notes: notes}
	keys := make([]string, 0, len(ids))
	for id := range ids {
		keys = append(keys, id)
	}
	slices.Sort(keys)
	for _, id := range keys {
		m, err := b.cat.Market(id)
		if err != nil {
			return nil, adapters.E(b.op, adapters.KindNotFound, "unknown market %q (not in the catalog)", id).
				At(fmt.Sprintf("%s:%d", b.source, ids[id]))
		}
		batch.Markets = append(batch.Markets, m)
	}
	return batch, nil
}
