package history

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
)

// Severity grades an Issue.
type Severity uint8

// Severities. An error stops an import; a warning is reported and the
// import goes on.
const (
	SeverityWarning Severity = iota
	SeverityError
)

func (s Severity) String() string {
	if s == SeverityError {
		return "error"
	}
	return "warning"
}

// Issue kinds, the values of Issue.Kind.
const (
	IssueGap        = "gap"          // a step more than GapFactor times the market's median step
	IssueDuplicate  = "duplicate"    // the same (market, time) twice
	IssueOutOfOrder = "out_of_order" // rows not in ascending time order
	IssueOutOfRange = "out_of_range" // a value outside its field's physical range (adapters.CheckValue)
	IssueNaN        = "nan"          // NaN or infinite value
	IssueEmpty      = "empty"        // a row without fields, or a market without rows
	IssueBadMarket  = "bad_market"   // malformed or inconsistent market
	IssueBadTime    = "bad_time"     // missing time
	IssueSubSecond  = "sub_second"   // times with a fraction of a second, truncated to whole seconds
	IssueBadEvent   = "bad_event"    // malformed event
)

// GapFactor is how many median steps a step must exceed to be a gap.
const GapFactor = 3

const (
	issueMaxPerKind = 20   // per market and kind; further issues are summarised in one
	maxBatchErrors  = 1000 // CheckBatch stops collecting errors after this many
)

// Issue is a problem found in a batch (CheckBatch) or in stored history
// (DB.Check).
type Issue struct {
	Severity Severity
	Market   string
	Pos      string    // "file:line" of the row at fault, or ""
	Time     time.Time // the observation's time (the gap's start), or zero
	Kind     string    // one of the Issue* constants
	Msg      string
}

func (i Issue) String() string {
	var b strings.Builder
	if i.Pos != "" {
		b.WriteString(i.Pos)
		b.WriteString(": ")
	}
	b.WriteString(i.Severity.String())
	b.WriteString(": ")
	if i.Market != "" {
		b.WriteString(i.Market)
		b.WriteString(": ")
	}
	b.WriteString(i.Kind)
	b.WriteString(": ")
	b.WriteString(i.Msg)
	return b.String()
}

// BatchError carries every error CheckBatch found in a batch that Write
// refused. Write returns it wrapped in an *adapters.Error of KindInvalid
// whose Pos is the first issue's.
type BatchError struct {
	Issues []Issue
}

func (e *BatchError) Error() string {
	if len(e.Issues) == 0 {
		return "invalid batch"
	}
	first := e.Issues[0]
	s := first.Msg
	if first.Market != "" {
		s = first.Market + ": " + s
	}
	if n := len(e.Issues) - 1; n > 0 {
		s += fmt.Sprintf(" (and %d more problems)", n)
	}
	return s
}

// pRow is a validated, time-truncated observation ready to store.
type pRow struct {
	ts   int64
	obs  *adapters.Observation // points into the batch, or to a fresh copy for merged duplicates
	line int
}

// pMarket is one market's rows of a batch, sorted by time, duplicates merged.
type pMarket struct {
	id    string
	rows  []pRow
	first int // index of the row in Batch.Rows that names the market first
}

// prepared is a checked batch grouped by market.
type prepared struct {
	markets []*pMarket       // by id
	events  []adapters.Event // validated, time truncated
}

func pos(source string, line int) string {
	if line <= 0 {
		return ""
	}
	return source + ":" + strconv.Itoa(line)
}

// CheckBatch runs the import-time checks on b without touching a
// database. Errors: malformed markets and events, rows of malformed
// market IDs or without a time, NaN, infinite and out-of-range values
// (adapters.CheckValue), and the same (market, time) twice with
// conflicting values. Warnings: gaps (a step above GapFactor times the
// market's median step), rows out of time order, harmless duplicates
// (same or disjoint fields: they are merged), rows without fields (they
// are skipped) and times with fractions of a second (stored truncated to
// the second). Every issue about a row names "source:line".
func CheckBatch(b *Batch) (errs []Issue, warnings []Issue) {
	_, errs, warnings = prepare(b)
	return errs, warnings
}

type checker struct {
	b     *Batch
	errs  []Issue
	warns []Issue
}

func (c *checker) errorf(market string, line int, t time.Time, kind, format string, args ...any) {
	if len(c.errs) >= maxBatchErrors {
		return
	}
	c.errs = append(c.errs, Issue{Severity: SeverityError, Market: market, Pos: pos(c.b.Source, line), Time: t, Kind: kind, Msg: fmt.Sprintf(format, args...)})
}

func (c *checker) warnf(market string, line int, t time.Time, kind, format string, args ...any) {
	c.warns = append(c.warns, Issue{Severity: SeverityWarning, Market: market, Pos: pos(c.b.Source, line), Time: t, Kind: kind, Msg: fmt.Sprintf(format, args...)})
}

func prepare(b *Batch) (*prepared, []Issue, []Issue) {
	c := &checker{b: b}
	if b == nil {
		c.b = &Batch{}
		c.errorf("", 0, time.Time{}, IssueEmpty, "no batch")
		return nil, c.errs, nil
	}
	p := &prepared{}

	// Markets the batch describes.
	described := make(map[string]adapters.Market, len(b.Markets))
	for _, m := range b.Markets {
		mc := m
		if err := mc.Validate(); err != nil {
			c.errorf(m.ID, 0, time.Time{}, IssueBadMarket, "%v", errText(err))
			continue
		}
		if prev, ok := described[mc.ID]; ok && !sameMarket(prev, mc) {
			c.errorf(m.ID, 0, time.Time{}, IssueBadMarket, "market described twice, differently")
			continue
		}
		described[mc.ID] = mc
	}

	// Group rows by market.
	idOK := map[string]bool{}
	byID := map[string]*pMarket{}
	subSecond := map[string]int{}
	empty := map[string][2]int{} // count, first line
	// Rows usually come market by market: the last market's lookups are
	// kept, and a market's rows are sized from the run of rows it starts
	// (see runLen).
	var (
		lastID string
		lastOK bool
		lastG  *pMarket
	)
	for i := range b.Rows {
		r := &b.Rows[i]
		ok := lastOK
		if r.Market != lastID || i == 0 {
			var seen bool
			ok, seen = idOK[r.Market]
			if !seen {
				_, _, err := adapters.SplitID(r.Market)
				ok = err == nil
				idOK[r.Market] = ok
			}
			lastID, lastOK, lastG = r.Market, ok, byID[r.Market]
		}
		if !ok {
			c.errorf(r.Market, r.Line, r.Obs.Time, IssueBadMarket, "market ID %q is not of the form protocol/name", r.Market)
			continue
		}
		if r.Obs.Time.IsZero() {
			c.errorf(r.Market, r.Line, r.Obs.Time, IssueBadTime, "row has no time")
			continue
		}
		if msg := CheckTime(r.Obs.Time); msg != "" {
			c.errorf(r.Market, r.Line, time.Time{}, IssueBadTime, "%s", msg)
			continue
		}
		bad := false
		for f := adapters.Field(0); f < adapters.NumFields; f++ {
			if !r.Obs.Set.Has(f) {
				continue
			}
			v := r.Obs.Values[f]
			if msg := adapters.CheckValue(f, v); msg != "" {
				kind := IssueOutOfRange
				if math.IsNaN(v) || math.IsInf(v, 0) {
					kind = IssueNaN
				}
				c.errorf(r.Market, r.Line, r.Obs.Time, kind, "%s %s (%g)", f, msg, v)
				bad = true
			}
		}
		if r.Obs.Set>>adapters.NumFields != 0 {
			c.errorf(r.Market, r.Line, r.Obs.Time, IssueOutOfRange, "row marks fields beyond the last known field as observed")
			bad = true
		}
		if bad {
			continue
		}
		if r.Obs.Set == 0 {
			e := empty[r.Market]
			if e[0] == 0 {
				e[1] = r.Line
			}
			e[0]++
			empty[r.Market] = e
			continue
		}
		ts := r.Obs.Time.Unix()
		if r.Obs.Time.Nanosecond() != 0 {
			subSecond[r.Market]++
		}
		g := lastG
		if g == nil {
			g = &pMarket{id: r.Market, first: i, rows: make([]pRow, 0, runLen(b.Rows[i:]))}
			byID[r.Market] = g
			p.markets = append(p.markets, g)
			lastG = g
		}
		g.rows = append(g.rows, pRow{ts: ts, obs: &r.Obs, line: r.Line})
	}
	slices.SortFunc(p.markets, func(a, b *pMarket) int { return cmp.Compare(a.id, b.id) })

	for _, g := range p.markets {
		if n := subSecond[g.id]; n > 0 {
			c.warnf(g.id, 0, time.Time{}, IssueSubSecond, "%d rows have times with fractions of a second; stored truncated to the second", n)
		}
		if e := empty[g.id]; e[0] > 0 {
			c.warnf(g.id, e[1], time.Time{}, IssueEmpty, "%d rows carry no field and are skipped", e[0])
		}
		c.orderAndMerge(p, g)
		c.gaps(g)
		if m, ok := described[g.id]; ok {
			c.plausible(&m, g)
		} else {
			c.plausible(nil, g)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(empty)) {
		if e := empty[id]; byID[id] == nil {
			c.warnf(id, e[1], time.Time{}, IssueEmpty, "%d rows carry no field and are skipped", e[0])
		}
	}

	// Events.
	type evKey struct {
		market, typ, scope string
		ts                 int64
	}
	evs := map[evKey]int{}
	for i, e := range b.Events {
		ev := e
		ev.Time = time.Unix(e.Time.Unix(), 0).UTC()
		if e.Time.IsZero() {
			ev.Time = time.Time{}
		}
		if err := ev.Validate(); err != nil {
			c.errorf(e.Market, 0, e.Time, IssueBadEvent, "event %d: %v", i+1, errText(err))
			continue
		}
		if msg := CheckTime(ev.Time); msg != "" {
			c.errorf(e.Market, 0, time.Time{}, IssueBadEvent, "event %d: %s", i+1, msg)
			continue
		}
		k := evKey{ev.Market, string(ev.Type), ev.Scope, ev.Time.Unix()}
		if j, ok := evs[k]; ok {
			if prev := p.events[j]; prev.Size != ev.Size || prev.Note != ev.Note {
				c.errorf(e.Market, 0, e.Time, IssueDuplicate, "event %d: %s at %s (scope %q) given twice with different size or note",
					i+1, ev.Type, ev.Time.Format(time.RFC3339), ev.Scope)
			}
			continue
		}
		evs[k] = len(p.events)
		p.events = append(p.events, ev)
	}
	slices.SortStableFunc(p.events, func(a, b adapters.Event) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Market, b.Market))
	})
	return p, c.errs, c.warns
}

// runLen is the length of the run of rows of rows[0]'s market at the
// start of rows, found in O(log n) comparisons by galloping and bisection
// when the market's rows are contiguous there. It is a size hint: when
// they are not, it may be short (the market's slice then grows) or long.
func runLen(rows []Row) int {
	id := rows[0].Market
	lo, hi, step := 0, 1, 1 // rows[lo] is of id; the run ends at or after hi
	for hi < len(rows) && rows[hi].Market == id {
		lo, step = hi, 2*step
		hi = lo + step
	}
	hi = min(hi, len(rows))
	for lo+1 < hi {
		if mid := int(uint(lo+hi) >> 1); rows[mid].Market == id {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}

// orderAndMerge sorts g's rows by time (warning when the input was not
// sorted) and merges rows of the same time: disjoint or equal fields merge
// with a warning, conflicting values are errors.
func (c *checker) orderAndMerge(p *prepared, g *pMarket) {
	outOfOrder, firstLine := 0, 0
	for i := 1; i < len(g.rows); i++ {
		if g.rows[i].ts < g.rows[i-1].ts {
			if outOfOrder == 0 {
				firstLine = g.rows[i].line
			}
			outOfOrder++
		}
	}
	if outOfOrder > 0 {
		c.warnf(g.id, firstLine, time.Time{}, IssueOutOfOrder, "%d rows are earlier than the row before them; rows are stored in time order", outOfOrder)
		slices.SortStableFunc(g.rows, func(a, b pRow) int { return cmp.Compare(a.ts, b.ts) })
	}
	out := g.rows[:0]
	dups, dupLine := 0, 0
	for i := 0; i < len(g.rows); i++ {
		r := g.rows[i]
		if len(out) == 0 || out[len(out)-1].ts != r.ts {
			out = append(out, r)
			continue
		}
		prev := &out[len(out)-1]
		conflict := false
		for f := adapters.Field(0); f < adapters.NumFields; f++ {
			if prev.obs.Set.Has(f) && r.obs.Set.Has(f) && prev.obs.Values[f] != r.obs.Values[f] {
				c.errorf(g.id, r.line, time.Unix(r.ts, 0).UTC(), IssueDuplicate,
					"%s at %s given twice with different values: %g (line %d) and %g", f,
					time.Unix(r.ts, 0).UTC().Format(time.RFC3339), prev.obs.Values[f], prev.line, r.obs.Values[f])
				conflict = true
			}
		}
		if conflict {
			continue
		}
		if dups == 0 {
			dupLine = r.line
		}
		dups++
		if r.obs.Set&^prev.obs.Set != 0 {
			m := new(adapters.Observation)
			*m = *prev.obs
			for f := adapters.Field(0); f < adapters.NumFields; f++ {
				if r.obs.Set.Has(f) {
					m.Put(f, r.obs.Values[f])
				}
			}
			prev.obs = m
		}
	}
	if dups > 0 {
		c.warnf(g.id, dupLine, time.Time{}, IssueDuplicate, "%d rows repeat the time of another row without conflicting values; merged", dups)
	}
	g.rows = out
}

// plausible runs the plausibility checks (plausible.go) over g's sorted,
// merged rows: errors, or warnings when the batch allows implausible
// values. At most issueMaxPerKind are listed per market, then a count.
func (c *checker) plausible(m *adapters.Market, g *pMarket) {
	n := 0
	report := func(line int, ts int64, msg string) {
		n++
		if n > issueMaxPerKind {
			return
		}
		t := time.Time{}
		if ts != 0 {
			t = time.Unix(ts, 0).UTC()
		}
		if c.b.AllowImplausible {
			c.warnf(g.id, line, t, IssueImplausible, "%s", msg)
		} else {
			c.errorf(g.id, line, t, IssueImplausible, "%s", msg)
		}
	}
	pl := newPlausibility(m, report)
	for i := range g.rows {
		r := &g.rows[i]
		pl.row(r.line, r.ts, r.obs)
	}
	first := 0
	if len(g.rows) > 0 {
		first = g.rows[0].line
	}
	pl.done(first)
	if n > issueMaxPerKind {
		msg := fmt.Sprintf("and %d more implausible values or steps", n-issueMaxPerKind)
		if c.b.AllowImplausible {
			c.warnf(g.id, 0, time.Time{}, IssueImplausible, "%s", msg)
		} else {
			c.errorf(g.id, 0, time.Time{}, IssueImplausible, "%s", msg)
		}
	}
}

// gaps warns about steps above GapFactor times the median step.
func (c *checker) gaps(g *pMarket) {
	ts := make([]int64, len(g.rows))
	for i, r := range g.rows {
		ts[i] = r.ts
	}
	for i, gap := range findGaps(ts) {
		if i == issueMaxPerKind {
			c.warnf(g.id, 0, time.Time{}, IssueGap, "and more gaps (%d in all)", len(findGaps(ts)))
			break
		}
		r := g.rows[gap.index]
		c.warnf(g.id, r.line, time.Unix(gap.from, 0).UTC(), IssueGap, "%s", gap.msg())
	}
}

type gap struct {
	index    int // row index of the gap's end
	from, to int64
	median   int64 // the local step the gap is measured against
}

func (g gap) msg() string {
	return fmt.Sprintf("no observation from %s to %s (%s; usual step here %s)",
		fmtTime(time.Unix(g.from, 0)), fmtTime(time.Unix(g.to, 0)), fmtDur(g.to-g.from), fmtDur(g.median))
}

// gapWindow is how many steps on each side of a step make its local
// cadence.
const gapWindow = 24

// findGaps returns the steps of ascending ts above GapFactor times the
// local step. A series of up to 2*gapWindow steps has one cadence, its
// median step. In a longer one the local step is the larger of the median
// of the gapWindow steps before and of the gapWindow steps after, so that
// a market merged from an hourly and a daily file (two cadences) has no
// "gap" where the daily file runs alone nor where one file hands over to
// the other; a step with fewer than two steps on a side (the ends of the
// series) is not judged.
func findGaps(ts []int64) []gap {
	if len(ts) < 3 {
		return nil
	}
	steps := make([]int64, len(ts)-1)
	for i := range steps {
		steps[i] = ts[i+1] - ts[i]
	}
	var out []gap
	if len(steps) <= 2*gapWindow {
		med := medianStep(ts)
		if med <= 0 {
			return nil
		}
		for i, d := range steps {
			if d > GapFactor*med {
				out = append(out, gap{index: i + 1, from: ts[i], to: ts[i+1], median: med})
			}
		}
		return out
	}
	win := make([]int64, 0, gapWindow)
	med := func(s []int64) int64 {
		win = append(win[:0], s...)
		slices.Sort(win)
		return win[len(win)/2]
	}
	for i, d := range steps {
		before, after := steps[max(0, i-gapWindow):i], steps[i+1:min(len(steps), i+1+gapWindow)]
		if len(before) < 2 || len(after) < 2 {
			continue
		}
		local := max(med(before), med(after))
		if local > 0 && d > GapFactor*local {
			out = append(out, gap{index: i + 1, from: ts[i], to: ts[i+1], median: local})
		}
	}
	return out
}

// errText is an error's message without its operation prefix when it is
// an *adapters.Error, for messages that name their own context.
func errText(err error) string {
	if e, ok := err.(*adapters.Error); ok && e.Err != nil {
		return e.Err.Error()
	}
	return err.Error()
}

func sameMarket(a, b adapters.Market) bool {
	if a.ID != b.ID || a.Kind != b.Kind || a.Base != b.Base || a.Protocol != b.Protocol || a.Token != b.Token || a.Name != b.Name {
		return false
	}
	if !slices.Equal(a.Tags, b.Tags) || len(a.Params) != len(b.Params) {
		return false
	}
	for k, v := range a.Params {
		if w, ok := b.Params[k]; !ok || w != v {
			return false
		}
	}
	return true
}
