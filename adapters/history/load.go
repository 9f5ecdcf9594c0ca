package history

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/internal/sqlitex"
	"github.com/yieldvault/yieldvault/internal/timefmt"
)

// bounds turns a [from, to] range into inclusive unix seconds. A zero from
// or to is unbounded on that side.
func bounds(op string, from, to time.Time) (lo, hi int64, err error) {
	lo, hi = math.MinInt64, math.MaxInt64
	if !from.IsZero() {
		lo = from.Unix()
		if from.Nanosecond() != 0 {
			lo++ // rows are whole seconds; the first at or after from
		}
	}
	if !to.IsZero() {
		hi = to.Unix()
	}
	if !from.IsZero() && !to.IsZero() && from.After(to) {
		return 0, 0, adapters.E(op, adapters.KindInvalid, "range from %s to %s is backwards",
			from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	}
	return lo, hi, nil
}

// Load reads the history of the markets ids (every stored market, by ID,
// when ids is empty) with from <= time <= to into a Window whose Series
// are in the order asked for, each sorted by time with its events
// attached. A zero from or to leaves that side unbounded; Window.From and
// Window.To are then the first and last time loaded. An unknown market is
// KindNotFound; from after to is KindInvalid.
//
// Load forward-fills: when row i of a series does not observe a field that
// an earlier row of the same series within the loaded range did, row i
// takes the latest earlier value and Set[i] includes the field, so
// consumers always see the latest known value. Before a field's first
// observation in the range it stays unset (zero). Cols[f] is nil when
// field f is observed nowhere in the range.
func (db *DB) Load(ctx context.Context, ids []string, from, to time.Time) (*adapters.Window, error) {
	const op = "history.Load"
	lo, hi, err := bounds(op, from, to)
	if err != nil {
		return nil, err
	}
	ms, loops, err := db.lookupLoops(ctx, op, ids)
	if err != nil {
		return nil, err
	}
	// The rows are read on a connection of the load's own, straight from
	// SQLite's statements into the columns (no value boxed per column and
	// row, as database/sql's driver values would be), in one read
	// transaction, so that every market is read at the same state of the
	// database.
	c, err := sqlitex.OpenConn(ctx, db.dsn)
	if err != nil {
		return nil, adapters.Wrap(op, adapters.KindOther, err)
	}
	defer c.Close()
	stop := c.Watch(ctx)
	defer stop()
	if err := c.Exec("BEGIN"); err != nil {
		return nil, adapters.Wrap(op, adapters.KindOther, err)
	}
	defer c.Rollback()
	w := &adapters.Window{From: from, To: to, Series: make([]*adapters.Series, 0, len(ms))}
	var cat *adapters.Catalog
	for i := range ms {
		s, err := loadSeries(c, &ms[i], lo, hi)
		if err != nil {
			return nil, adapters.Wrap(op, adapters.KindOther, fmt.Errorf("market %s: %w", ms[i].m.ID, err))
		}
		if priceOnly(s) {
			if cat == nil {
				if cat = db.opts.Catalog; cat == nil {
					cat = adapters.Builtin()
				}
			}
			if valueAccruing(cat, s.Market) {
				priceAsRate(s)
			}
		}
		w.Series = append(w.Series, s)
	}
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return nil, adapters.Wrap(op, adapters.KindOther, err)
	}
	defer conn.Close()
	evs, err := queryEvents(ctx, conn, ms, lo, hi)
	if err != nil {
		return nil, adapters.Wrap(op, adapters.KindOther, err)
	}
	finishWindow(w, evs, from, to)
	if len(loops) > 0 {
		composeLoops(w, ids, loops, from, to)
	}
	return w, nil
}

// loopSpec is a loop market asked for by Load that the history does not
// store: its history is composed from its legs.
type loopSpec struct {
	m adapters.Market
}

// lookupLoops is lookup for Load: an id the database does not store but
// the catalog describes as a loop market (adapters.Market.Legs) whose
// collateral and debt legs it does store is composed from them
// (adapters.ComposeLoop): the legs are loaded in its place (the token's
// market too when stored) and returned as loops.
func (db *DB) lookupLoops(ctx context.Context, op string, ids []string) ([]marketRow, []loopSpec, error) {
	if len(ids) == 0 {
		ms, err := db.lookup(ctx, op, ids)
		return ms, nil, err
	}
	all, err := allMarkets(ctx, db.sql)
	if err != nil {
		return nil, nil, adapters.Wrap(op, adapters.KindOther, err)
	}
	stored := make(map[string]bool, len(all))
	for _, r := range all {
		stored[r.m.ID] = true
	}
	cat := db.opts.Catalog
	if cat == nil {
		cat = adapters.Builtin()
	}
	var loops []loopSpec
	want := make([]string, 0, len(ids))
	in := map[string]bool{}
	for _, id := range ids {
		if !stored[id] {
			if m, err := cat.Market(id); err == nil && m.Legs != nil {
				for _, leg := range []string{m.Legs.Collateral, m.Legs.Debt} {
					if !stored[leg] {
						return nil, nil, adapters.E(op, adapters.KindNotFound, "market %q is a loop over %s and %s, and %q is not in the history database", id, m.Legs.Collateral, m.Legs.Debt, leg)
					}
				}
				loops = append(loops, loopSpec{m: m})
				continue
			}
		}
		want = append(want, id)
		in[id] = true
	}
	for _, l := range loops {
		for _, leg := range l.m.Legs.IDs() {
			if stored[leg] && !in[leg] {
				want = append(want, leg)
				in[leg] = true
			}
		}
	}
	ms, err := db.lookup(ctx, op, want)
	return ms, loops, err
}

// composeLoops replaces the window's series by those of ids, composing
// each loop from its legs' series (with their events attached); legs not
// asked for are dropped. Unbounded sides of the window are bounded again
// by what remains.
func composeLoops(w *adapters.Window, ids []string, loops []loopSpec, from, to time.Time) {
	byID := make(map[string]*adapters.Series, len(w.Series))
	for _, s := range w.Series {
		byID[s.Market.ID] = s
	}
	for _, l := range loops {
		byID[l.m.ID] = adapters.ComposeLoop(l.m, byID[l.m.Legs.Collateral], byID[l.m.Legs.Debt], byID[l.m.Legs.Token])
	}
	w.Series = w.Series[:0]
	for _, id := range ids {
		w.Series = append(w.Series, byID[id])
	}
	finishWindow(w, nil, from, to)
}

// finishWindow attaches events (in the order given) to their markets' series
// and, where from or to is zero, bounds the window by its first and last rows.
func finishWindow(w *adapters.Window, evs []adapters.Event, from, to time.Time) {
	for _, e := range evs {
		s := w.Get(e.Market)
		s.Events = append(s.Events, e)
	}
	if from.IsZero() || to.IsZero() {
		var first, last int64 = math.MaxInt64, math.MinInt64
		for _, s := range w.Series {
			if n := s.Len(); n > 0 {
				first, last = min(first, s.Times[0]), max(last, s.Times[n-1])
			}
		}
		if first <= last {
			if from.IsZero() {
				w.From = time.Unix(first, 0).UTC()
			}
			if to.IsZero() {
				w.To = time.Unix(last, 0).UTC()
			}
		}
	}
}

// estimate is how many rows of m fall in [lo, hi], assuming even spacing.
func estimate(m *marketRow, lo, hi int64) int {
	if m.rows == 0 || hi < m.first || lo > m.last {
		return 0
	}
	if lo <= m.first && hi >= m.last || m.last == m.first {
		return m.rows
	}
	a, b := max(lo, m.first), min(hi, m.last)
	frac := float64(b-a) / float64(m.last-m.first)
	return min(m.rows, int(frac*float64(m.rows))+16)
}

// loadSeries reads one market's rows in [lo, hi] straight into columns.
// Only the columns the market has ever observed are selected.
func loadSeries(c *sqlitex.Conn, m *marketRow, lo, hi int64) (*adapters.Series, error) {
	s := &adapters.Series{Market: m.m}
	n := estimate(m, lo, hi)
	if n == 0 || m.fields == 0 {
		return s, nil
	}
	var fields []adapters.Field
	var q strings.Builder
	q.WriteString("SELECT ts")
	for f := adapters.Field(0); f < adapters.NumFields; f++ {
		if m.fields.Has(f) {
			fields = append(fields, f)
			q.WriteString(", ")
			q.WriteString(f.String())
		}
	}
	q.WriteString(" FROM observations WHERE market_id = ? AND ts >= ? AND ts <= ? ORDER BY ts")
	st, err := c.Prepare(q.String())
	if err != nil {
		return nil, err
	}
	st.BindInt64(0, m.pk)
	st.BindInt64(1, lo)
	st.BindInt64(2, hi)
	s.Times = make([]int64, 0, n)
	s.Set = make([]adapters.FieldSet, 0, n)
	cols := make([][]float64, len(fields))
	for j := range cols {
		cols[j] = make([]float64, 0, n)
	}
	var seen adapters.FieldSet
	for {
		more, err := st.Step()
		if err != nil {
			return nil, err
		}
		if !more {
			break
		}
		if st.ColumnType(0) != sqlitex.TypeInteger {
			err := fmt.Errorf("ts is %s, not an integer", typeName(st.ColumnType(0)))
			st.Reset()
			return nil, err
		}
		ts := st.ColumnInt64(0)
		var set adapters.FieldSet
		for j, f := range fields {
			var v float64
			switch t := st.ColumnType(j + 1); t {
			case sqlitex.TypeFloat:
				v, set = st.ColumnFloat64(j+1), set|1<<f
			case sqlitex.TypeInteger:
				v, set = float64(st.ColumnInt64(j+1)), set|1<<f
			case sqlitex.TypeNull:
			default:
				st.Reset()
				return nil, fmt.Errorf("%s at %d is %s, not a number", f, ts, typeName(t))
			}
			cols[j] = append(cols[j], v)
		}
		s.Times = append(s.Times, ts)
		s.Set = append(s.Set, set)
		seen |= set
	}
	for j, f := range fields {
		if seen.Has(f) {
			s.Cols[f] = cols[j]
		}
	}
	forwardFill(s)
	deriveRateAPY(s, RateAPYWindow, minRateAPYSpan)
	return s, nil
}

// typeName names a SQLite column type in an error.
func typeName(t int) string {
	switch t {
	case sqlitex.TypeInteger:
		return "an integer"
	case sqlitex.TypeFloat:
		return "a float"
	case sqlitex.TypeText:
		return "text"
	case sqlitex.TypeBlob:
		return "a blob"
	}
	return "NULL"
}

// PriceAPYWindow is the trailing window over which Load reads a yield
// from the market price of a value-accruing staking token whose history
// has no exchange rate (priceAsRate): longer than RateAPYWindow, since a
// market price moves with its peg (cbETH's Compound feed jumps by 0.2-1%
// within an hour some 70 times; over 7 days one such jump reads as
// +-10-50% a year).
const PriceAPYWindow = 30 * 24 * time.Hour

// minPriceAPYSpan is the shortest history a price-derived APY rests on.
const minPriceAPYSpan = 7 * 24 * time.Hour

// PriceValuedNote is what plans, backtest warnings (console, summary.json,
// report.html) say of a market whose history gave its exchange rate from
// its market price (priceAsRate; Series.Derived has FieldExchangeRate).
func PriceValuedNote(id string) string {
	return id + ": its data has a market price but no exchange rate: it is valued at that price at rate and market pricing alike " +
		"(its peg is unknown and reads as 1), and apy / net_apy are the trailing " + timefmt.Duration(PriceAPYWindow) +
		" growth of the price, annualised: an estimate that moves with the market, not the protocol's rate"
}

// priceOnly reports whether s is a staking market's history with a market
// price but neither an exchange rate nor a liquidity index.
func priceOnly(s *adapters.Series) bool {
	k := s.Market.Kind
	return (k == adapters.LST || k == adapters.LRT) && s.Cols[adapters.FieldPrice] != nil &&
		s.Cols[adapters.FieldExchangeRate] == nil && s.Cols[adapters.FieldIndex] == nil
}

// valueAccruing reports whether m's token accrues value (is not rebasing)
// by its profile in cat (with m's overrides; the catalog's own entry for m
// when it has one). A market whose profile cat does not know is not
// assumed either way: false.
func valueAccruing(cat *adapters.Catalog, m adapters.Market) bool {
	if cm, err := cat.Market(m.ID); err == nil {
		m = cm
	}
	p, err := cat.ProfileFor(m)
	return err == nil && !p.IsRebasing()
}

// priceAsRate gives a value-accruing staking token known only by its
// market price (cbETH's Compound v3 feed is a Chainlink market price, not
// the token's exchange rate; see docs/data.md) an exchange rate equal to
// that price, marked derived in s.Derived, and an APY from the price's
// trailing growth over PriceAPYWindow, also derived. The price is then
// the token's value at rate and market pricing alike, its peg is unknown
// (adapters.Peg: a derived rate is no rate), and its yield an estimate
// that moves with the market: plans, backtest warnings and reports say so.
func priceAsRate(s *adapters.Series) {
	price := s.Cols[adapters.FieldPrice]
	rate := make([]float64, len(price))
	pb, rb := adapters.FieldSet(0).With(adapters.FieldPrice), adapters.FieldSet(0).With(adapters.FieldExchangeRate)
	for i, set := range s.Set {
		if set&pb != 0 {
			rate[i] = price[i]
			s.Set[i] = set | rb
		}
	}
	s.Cols[adapters.FieldExchangeRate] = rate
	s.Derived |= rb
	deriveRateAPY(s, PriceAPYWindow, minPriceAPYSpan)
}

// RateAPYWindow is the trailing window over which Load reads a yield from
// an exchange rate (or a liquidity index) where the history has no APY:
// apy = (rate now / rate RateAPYWindow earlier)^(1 year / elapsed) - 1.
const RateAPYWindow = 7 * 24 * time.Hour

// minRateAPYSpan is the shortest history a derived APY may rest on: in
// the first RateAPYWindow of a series the growth since its first row is
// used once that row is at least a day old; before that the APY stays
// unknown.
const minRateAPYSpan = 24 * time.Hour

// deriveRateAPY fills the APY of rows that observe no APY (nor carry an
// earlier one forward) but do observe an exchange rate (else a liquidity
// index), from the rate's trailing growth over window, annualised, and
// marks FieldAPY derived in s.Derived. An exchange rate's growth is the
// yield a holder earns: rETH, wstETH and osETH files carry the rate only,
// and without this a strategy would see 0% and never buy them. Rows whose
// rate has no history of at least minRateAPYSpan before them stay
// unknown.
func deriveRateAPY(s *adapters.Series, window, minSpanD time.Duration) {
	src := adapters.FieldExchangeRate
	if s.Cols[src] == nil {
		src = adapters.FieldIndex
	}
	rc := s.Cols[src]
	if rc == nil {
		return
	}
	apyBit, srcBit := adapters.FieldSet(1)<<adapters.FieldAPY, adapters.FieldSet(1)<<src
	w, minSpan := int64(window/time.Second), int64(minSpanD/time.Second)
	j := 0 // the first row at or after the start of row i's window
	for i, t := range s.Times {
		for j < i && s.Times[j] < t-w {
			j++
		}
		set := s.Set[i]
		if set&apyBit != 0 || set&srcBit == 0 {
			continue
		}
		// The row at or before the window's start, else the first row.
		k := j
		if k > 0 && s.Times[k] > t-w {
			k--
		}
		for k < i && s.Set[k]&srcBit == 0 {
			k++
		}
		dt := t - s.Times[k]
		if k >= i || dt < minSpan || !(rc[k] > 0) || !(rc[i] > 0) {
			continue
		}
		apy := math.Pow(rc[i]/rc[k], year/float64(dt)) - 1
		if math.IsNaN(apy) || math.IsInf(apy, 0) || apy < adapters.MinAPY || apy > adapters.MaxAPY {
			continue
		}
		if s.Cols[adapters.FieldAPY] == nil {
			s.Cols[adapters.FieldAPY] = make([]float64, len(s.Times))
		}
		s.Cols[adapters.FieldAPY][i] = apy
		s.Set[i] = set | apyBit
		s.Derived |= apyBit
	}
}

// year is 365 days in seconds, the year APYs compound over.
const year = 365 * 24 * 3600.0

// forwardFill carries every field's latest observed value into later rows
// of s that do not observe it, marking it set.
func forwardFill(s *adapters.Series) {
	for f := range s.Cols {
		c := s.Cols[f]
		if c == nil {
			continue
		}
		bit := adapters.FieldSet(1) << f
		have, last := false, 0.0
		for i, set := range s.Set {
			if set&bit != 0 {
				have, last = true, c[i]
			} else if have {
				c[i] = last
				s.Set[i] = set | bit
			}
		}
	}
}

// queryEvents reads the events of markets ms with lo <= time <= hi, by
// time then market.
func queryEvents(ctx context.Context, conn *sql.Conn, ms []marketRow, lo, hi int64) ([]adapters.Event, error) {
	if len(ms) == 0 {
		return nil, nil
	}
	ids := make(map[int64]string, len(ms))
	var q strings.Builder
	q.WriteString("SELECT market_id, ts, type, size, scope, note FROM events WHERE ts >= ? AND ts <= ? AND market_id IN (")
	args := []any{lo, hi}
	for i, m := range ms {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("?")
		args = append(args, m.pk)
		ids[m.pk] = m.m.ID
	}
	q.WriteString(") ORDER BY ts, market_id, type, scope")
	rows, err := conn.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []adapters.Event
	for rows.Next() {
		var (
			pk, ts int64
			e      adapters.Event
		)
		if err := rows.Scan(&pk, &ts, &e.Type, &e.Size, &e.Scope, &e.Note); err != nil {
			return nil, err
		}
		e.Market, e.Time = ids[pk], time.Unix(ts, 0).UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b adapters.Event) int {
		return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Market, b.Market))
	})
	return out, nil
}

// Events returns the events of markets ids (all markets when ids is empty)
// with from <= time <= to, by time then market. A zero from or to leaves
// that side unbounded. An unknown market is KindNotFound.
func (db *DB) Events(ctx context.Context, ids []string, from, to time.Time) ([]adapters.Event, error) {
	const op = "history.Events"
	lo, hi, err := bounds(op, from, to)
	if err != nil {
		return nil, err
	}
	ms, err := db.lookup(ctx, op, ids)
	if err != nil {
		return nil, err
	}
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return nil, adapters.Wrap(op, adapters.KindOther, err)
	}
	defer conn.Close()
	evs, err := queryEvents(ctx, conn, ms, lo, hi)
	if err != nil {
		return nil, adapters.Wrap(op, adapters.KindOther, err)
	}
	return evs, nil
}

// Check inspects the stored history of markets ids (all markets when ids is
// empty) and reports, per market: no rows (warning), gaps of more than
// GapFactor median steps (warning, with start and end), and values
// outside their field's range (error; they can only come from a database
// written by other means or under older rules). Duplicates cannot exist in
// the database (one row per market and second) and are never reported.
func (db *DB) Check(ctx context.Context, ids []string) ([]Issue, error) {
	const op = "history.Check"
	ms, err := db.lookup(ctx, op, ids)
	if err != nil {
		return nil, err
	}
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return nil, adapters.Wrap(op, adapters.KindOther, err)
	}
	defer conn.Close()
	var out []Issue
	for i := range ms {
		m := &ms[i]
		if m.rows == 0 {
			out = append(out, Issue{Severity: SeverityWarning, Market: m.m.ID, Kind: IssueEmpty, Msg: "market has no observations"})
			continue
		}
		ts := make([]int64, 0, m.rows)
		bad, implausible, badTime := 0, 0, 0
		pl := newPlausibility(&m.m, func(_ int, t int64, msg string) {
			implausible++
			if implausible <= issueMaxPerKind {
				is := Issue{Severity: SeverityError, Market: m.m.ID, Kind: IssueImplausible, Msg: msg}
				if t != 0 {
					is.Time = time.Unix(t, 0).UTC()
				}
				out = append(out, is)
			}
		})
		var obs adapters.Observation
		err := sqlitex.Each(ctx, conn, "SELECT ts, "+colList+" FROM observations WHERE market_id = ? ORDER BY ts", []any{m.pk},
			func(row []driver.Value) error {
				t, _ := row[0].(int64)
				ts = append(ts, t)
				if msg := CheckTime(time.Unix(t, 0)); msg != "" {
					badTime++
					if badTime <= issueMaxPerKind {
						out = append(out, Issue{Severity: SeverityError, Market: m.m.ID, Kind: IssueBadTime, Msg: msg})
					}
				}
				obs = adapters.Observation{}
				rowBad := false
				for f := adapters.Field(0); f < adapters.NumFields; f++ {
					var v float64
					switch x := row[f+1].(type) {
					case nil:
						continue
					case float64:
						v = x
					case int64:
						v = float64(x)
					default:
						v = math.NaN()
					}
					if msg := adapters.CheckValue(f, v); msg != "" {
						bad++
						rowBad = true
						if bad <= issueMaxPerKind {
							out = append(out, Issue{Severity: SeverityError, Market: m.m.ID, Time: time.Unix(t, 0).UTC(),
								Kind: IssueOutOfRange, Msg: fmt.Sprintf("%s %s (%g)", f, msg, v)})
						}
						continue
					}
					obs.Put(f, v)
				}
				if !rowBad {
					pl.row(0, t, &obs)
				}
				return nil
			})
		if err != nil {
			return nil, adapters.Wrap(op, adapters.KindOther, fmt.Errorf("market %s: %w", m.m.ID, err))
		}
		pl.done(0)
		if bad > issueMaxPerKind {
			out = append(out, Issue{Severity: SeverityError, Market: m.m.ID, Kind: IssueOutOfRange,
				Msg: fmt.Sprintf("and more values out of range (%d in all)", bad)})
		}
		if implausible > issueMaxPerKind {
			out = append(out, Issue{Severity: SeverityError, Market: m.m.ID, Kind: IssueImplausible,
				Msg: fmt.Sprintf("and more implausible values or steps (%d in all)", implausible)})
		}
		if badTime > issueMaxPerKind {
			out = append(out, Issue{Severity: SeverityError, Market: m.m.ID, Kind: IssueBadTime,
				Msg: fmt.Sprintf("and more times out of range (%d in all)", badTime)})
		}
		gaps := findGaps(ts)
		for j, g := range gaps {
			if j == issueMaxPerKind {
				out = append(out, Issue{Severity: SeverityWarning, Market: m.m.ID, Kind: IssueGap,
					Msg: fmt.Sprintf("and more gaps (%d in all)", len(gaps))})
				break
			}
			out = append(out, Issue{Severity: SeverityWarning, Market: m.m.ID, Time: time.Unix(g.from, 0).UTC(), Kind: IssueGap, Msg: g.msg()})
		}
	}
	return out, nil
}
