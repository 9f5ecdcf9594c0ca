package importers

import (
	"slices"

	"github.com/yieldvault/yieldvault/adapters"
)

// rowSpec says how the records of a CSV file become observations: a
// table of steps run in order on every record, around its time. Each
// dataset importer is one (datasets.go); the generic importer builds one
// from a Mapping (csv.go). readRows runs it.
type rowSpec struct {
	// market is the market of every row unless a step sets it; the
	// Options.Market override applies (readCtx.market).
	market string
	// before are the steps run before the time is read: checks of the
	// record and markets by symbol.
	before []col
	// time is the time column; its unit is a time unit.
	time col
	// cols are the steps run after the time, in order.
	cols []col
	// empty is the skip reason of a row that observed nothing.
	empty string
	// also copies fields of each row to another market (a venue's
	// balances to the token that trades on it), unless Options.Market
	// overrides the market.
	also []alsoCopy
}

// alsoCopy is a copy of a row's fields to another market's row at the
// same time and line: fields as they are, and field from as field to
// (a lending market's coin price as a pool's coin price).
type alsoCopy struct {
	market   string
	fields   adapters.FieldSet
	from, to adapters.Field
	move     bool
}

// col is one step of a rowSpec: the column called name, whose cell is
// read in unit and stored in field (an empty cell leaves field
// unobserved), or, when put is set, a hook that reads the column (and the
// columns named in with) its own way: a value derived from two columns, a
// value dropped, clamped or inverted, a market by symbol, a record to skip.
// A hook may use field and unit as its parameters.
type col struct {
	name  string
	field adapters.Field
	unit  Unit
	with  []string
	put   func(r *row, c *col) error

	// i and w are the header indices of name and with (bind).
	i int
	w []int
}

// bind returns a copy of s with the column indices of t's header; a
// column missing from the header is an error naming the header line.
// Columns are looked up in order: the time, the before steps, the cols.
func (s *rowSpec) bind(t *table) (*rowSpec, error) {
	out := *s
	out.before = slices.Clone(s.before)
	out.cols = slices.Clone(s.cols)
	if err := out.time.bind(t); err != nil {
		return nil, err
	}
	for _, cs := range [][]col{out.before, out.cols} {
		for i := range cs {
			if err := cs[i].bind(t); err != nil {
				return nil, err
			}
		}
	}
	return &out, nil
}

func (c *col) bind(t *table) error {
	var err error
	if c.i, err = t.col(c.name); err != nil {
		return err
	}
	c.w = make([]int, len(c.with))
	for k, name := range c.with {
		if c.w[k], err = t.col(name); err != nil {
			return err
		}
	}
	return nil
}

// row is the record being read, as the steps of a rowSpec see it.
type row struct {
	c       *readCtx
	t       *table
	b       *builder
	o       adapters.Observation
	market  string
	sym     string // the record's symbol, when a step has read one
	skipped bool

	// The points of a sibling file, loaded by the first record that
	// needs them (sibling).
	sib       []pricePoint
	sibNote   string
	sibLoaded bool
}

// skip leaves the record out for a reason; no later step runs.
func (r *row) skip(reason string) {
	r.b.skip(reason)
	r.skipped = true
}

// sibling loads the points of the sibling file once per import (see
// siblingPoints) into r.sib and r.sibNote; first is true on the call that
// loaded them.
func (r *row) sibling(pattern, timeCol string, timeUnit Unit, valCol string) (first bool, err error) {
	if r.sibLoaded {
		return false, nil
	}
	r.sibLoaded = true
	r.sib, r.sibNote, err = siblingPoints(r.c, pattern, timeCol, timeUnit, valCol)
	return true, err
}

// steps runs cols on the record until one fails or skips it.
func (r *row) steps(cols []col) error {
	for i := range cols {
		c := &cols[i]
		var err error
		if c.put != nil {
			err = c.put(r, c)
		} else {
			err = r.t.putNum(&r.o, c.field, c.i, c.unit)
		}
		if err != nil || r.skipped {
			return err
		}
	}
	return nil
}

// readRows reads the records of t with s (bound to t) into b. hint is the
// input's size in bytes when known (sizeHint), else 0.
func readRows(c *readCtx, t *table, s *rowSpec, b *builder, hint int64) error {
	r := &row{c: c, t: t, b: b}
	market := c.market(s.market)
	start := t.cr.InputOffset() // the header's bytes
	return eachRow(c, t, func(n int) error {
		if n == 64 && hint > start {
			// Reserve the rows once from the bytes per record so far (n+1
			// records read): a Row is about 200 bytes and regrowing the
			// slice dominates otherwise.
			if off := t.cr.InputOffset() - start; off > 0 {
				b.reserve(int(float64(hint-start) / float64(off) * float64(n+1) * 1.02))
			}
		}
		r.o, r.market, r.sym, r.skipped = adapters.Observation{}, market, "", false
		if err := r.steps(s.before); err != nil || r.skipped {
			return err
		}
		var err error
		if r.o.Time, err = t.time(s.time.i, s.time.unit); err != nil {
			return err
		}
		if err := r.steps(s.cols); err != nil || r.skipped {
			return err
		}
		b.add(r.market, r.o, t.line, s.empty)
		if c.opts.Market == "" {
			for _, a := range s.also {
				o := adapters.Observation{Time: r.o.Time, Set: r.o.Set & a.fields}
				for f := adapters.Field(0); f < adapters.NumFields; f++ {
					if o.Set.Has(f) {
						o.Values[f] = r.o.Values[f]
					}
				}
				if v, ok := r.o.Get(a.from); a.move && ok {
					o.Put(a.to, v)
				}
				if o.Set == 0 {
					continue
				}
				b.add(a.market, o, t.line, s.empty)
			}
		}
		return nil
	})
}

// eachRow calls fn for every record, with the count of records before it,
// polling the context.
func eachRow(c *readCtx, t *table, fn func(n int) error) error {
	for n := 0; ; n++ {
		if n%ctxEvery == 0 {
			if err := c.ctx.Err(); err != nil {
				return err
			}
		}
		ok, err := t.next()
		if err != nil || !ok {
			return err
		}
		if err := fn(n); err != nil {
			return err
		}
	}
}
