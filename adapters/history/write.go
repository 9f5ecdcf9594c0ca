package history

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/internal/sqlitex"
)

// WriteResult counts what a Write stored. Observation counts are over the
// batch's distinct (market, time) rows that carry at least one field.
type WriteResult struct {
	Markets   int     // markets the batch described or wrote rows or events for
	Inserted  int     // observations new to the database
	Updated   int     // stored observations that gained or changed a field
	Unchanged int     // observations already stored exactly as given
	Events    int     // events inserted or changed
	Warnings  []Issue // CheckBatch's warnings
}

// chunkRows is how many observations Write compares with stored rows at a
// time, and the most one multi-row INSERT carries (a power of two).
const chunkRows = 256

// Write stores b in one transaction: either all of it lands or none of it.
//
// It runs CheckBatch first and refuses a batch with errors (KindInvalid,
// the error wraps a *BatchError listing every problem). Every row's and
// event's market must be described in b.Markets or already stored, else
// KindNotFound naming the market and the row's source:line. Markets in
// b.Markets replace the stored description of the same ID.
//
// An observation whose (market, time) is already stored is merged field by
// field: a field the batch carries replaces the stored value, a field it
// does not carry keeps the stored one (the SQL is ON CONFLICT DO UPDATE SET
// col = COALESCE(excluded.col, col)), so several files can contribute
// different fields of the same observation. Writing the same batch twice
// reports every row Unchanged the second time and changes nothing.
//
// The import is logged (see Imports) with a SHA-256 digest of the batch's
// canonical content: markets by ID, rows by time, and events.
//
// Write runs on a connection of its own made below database/sql (see
// sqlitex.Conn): rows are bound straight into multi-row INSERTs, and
// stored rows are read only for the blocks of a market whose time span
// overlaps the market's stored span (none for a new market or an append).
// The other blocks are laid out as bind arguments on another goroutine
// while the connection inserts the blocks before them, and the digest is
// computed on a third.
func (db *DB) Write(ctx context.Context, b *Batch) (WriteResult, error) {
	const op = "history.Write"
	p, errs, warns := prepare(b)
	res := WriteResult{Warnings: warns}
	if len(errs) > 0 {
		return res, &adapters.Error{Op: op, Kind: adapters.KindInvalid, Pos: errs[0].Pos, Err: &BatchError{Issues: errs}}
	}
	if err := ctx.Err(); err != nil {
		return res, adapters.Wrap(op, adapters.KindOther, err)
	}
	c, err := sqlitex.OpenConn(ctx, db.dsn)
	if err != nil {
		return res, adapters.Wrap(op, adapters.KindOther, err)
	}
	defer c.Close()
	stop := c.Watch(ctx)
	defer stop()
	// Write resolves every market key inside its own transaction, so the
	// per-row foreign-key lookup on observations is redundant work; it is
	// off on this private connection (PRAGMA foreign_keys cannot change
	// inside a transaction). A larger page cache keeps the B-tree pages
	// of a big import in memory until commit.
	if err := c.Exec("PRAGMA foreign_keys = OFF; PRAGMA cache_size = -65536"); err != nil {
		return res, adapters.Wrap(op, adapters.KindOther, err)
	}
	if err := c.Begin(); err != nil {
		return res, adapters.Wrap(op, adapters.KindOther, err)
	}
	defer c.Rollback()
	w := &writer{ctx: ctx, c: c, stmts: map[stmtKey]*sqlitex.Stmt{}, queries: map[adapters.FieldSet]*sqlitex.Stmt{}}
	if err := w.write(op, b, p, &res); err != nil {
		return WriteResult{Warnings: warns}, err
	}
	if err := w.logImport(b, p, w.sha, &res, db.opts.Now); err != nil {
		return WriteResult{Warnings: warns}, adapters.Wrap(op, adapters.KindOther, err)
	}
	if err := c.Commit(); err != nil {
		return WriteResult{Warnings: warns}, adapters.Wrap(op, adapters.KindOther, err)
	}
	return res, nil
}

// stmtKey names a multi-row statement shape: which field columns it
// binds, how many rows, and whether it merges into existing rows.
type stmtKey struct {
	cols   adapters.FieldSet
	n      int
	upsert bool
}

type writer struct {
	ctx     context.Context
	c       *sqlitex.Conn
	stmts   map[stmtKey]*sqlitex.Stmt
	queries map[adapters.FieldSet]*sqlitex.Stmt // existing-row lookups by stored fields
	old     [chunkRows]storedObs                // stored values of a chunk's rows
	found   [chunkRows]bool                     // whether a chunk's row is stored
	merged  [chunkRows]adapters.Observation     // a chunk's merged rows

	// A merged chunk's rows to insert (out) and to update (upd).
	out, upd     []*adapters.Observation
	outTS, updTS []int64

	sha string // the batch's digest, once writeRows is done
}

// allMarketsConn reads the markets table ordered by id on c.
func allMarketsConn(c *sqlitex.Conn) ([]marketRow, error) {
	s, err := c.Prepare("SELECT " + marketCols + " FROM markets ORDER BY id")
	if err != nil {
		return nil, err
	}
	var out []marketRow
	for {
		more, err := s.Step()
		if err != nil {
			return nil, err
		}
		if !more {
			return out, nil
		}
		r, err := scanMarket(s)
		if err != nil {
			s.Reset()
			return nil, err
		}
		out = append(out, r)
	}
}

func (w *writer) write(op string, b *Batch, p *prepared, res *WriteResult) error {
	for _, m := range b.Markets {
		mc := m
		_ = mc.Validate() // checked by prepare; fills Protocol
		tags, params := "[]", "{}"
		if len(mc.Tags) > 0 {
			t, _ := json.Marshal(mc.Tags)
			tags = string(t)
		}
		if len(mc.Params) > 0 {
			pj, err := json.Marshal(mc.Params)
			if err != nil {
				return adapters.E(op, adapters.KindInvalid, "market %s: params: %v", mc.ID, err)
			}
			params = string(pj)
		}
		err := w.c.Exec(`INSERT INTO markets(id, kind, base, protocol, token, name, tags, params)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, base = excluded.base, protocol = excluded.protocol,
				token = excluded.token, name = excluded.name, tags = excluded.tags, params = excluded.params`,
			mc.ID, string(mc.Kind), string(mc.Base), mc.Protocol, mc.Token, mc.Name, tags, params)
		if err != nil {
			return adapters.Wrap(op, adapters.KindOther, fmt.Errorf("market %s: %w", mc.ID, err))
		}
	}
	stored, err := allMarketsConn(w.c)
	if err != nil {
		return adapters.Wrap(op, adapters.KindOther, err)
	}
	byID := make(map[string]*marketRow, len(stored))
	for i := range stored {
		byID[stored[i].m.ID] = &stored[i]
	}
	touched := map[string]bool{}
	for _, m := range b.Markets {
		touched[m.ID] = true
	}
	for _, g := range p.markets {
		if byID[g.id] == nil {
			r := b.Rows[g.first]
			return &adapters.Error{Op: op, Kind: adapters.KindNotFound, Pos: pos(b.Source, r.Line),
				Err: fmt.Errorf("market %q is neither described by the batch nor stored", g.id)}
		}
		touched[g.id] = true
	}
	for _, e := range p.events {
		if byID[e.Market] == nil {
			return adapters.E(op, adapters.KindNotFound, "%s: event %s at %s: market %q is neither described by the batch nor stored",
				b.Source, e.Type, e.Time.Format(time.RFC3339), e.Market)
		}
		touched[e.Market] = true
	}
	res.Markets = len(touched)

	if err := w.writeRows(p, byID, res); err != nil {
		return adapters.Wrap(op, adapters.KindOther, err)
	}
	for _, e := range p.events {
		n, err := w.writeEvent(byID[e.Market].pk, e)
		if err != nil {
			return adapters.Wrap(op, adapters.KindOther, fmt.Errorf("event %s on %s: %w", e.Type, e.Market, err))
		}
		res.Events += n
	}
	return nil
}

// stored is a stored observation's values.
type storedObs struct {
	vals [adapters.NumFields]float64
	set  adapters.FieldSet
}

// A block is up to chunkRows rows of one market, the unit in which
// writeRows compares rows with stored ones and inserts them.
type block struct {
	g     *pMarket
	rows  []pRow // a run of g.rows
	first bool   // the market's first block
	last  bool   // the market's last block
	// A block that cannot meet stored rows is packed: the columns its
	// rows carry, and per row the time and the value of each column (NaN
	// for none: stored values are never NaN), in statement order.
	packed bool
	cols   adapters.FieldSet
	ncols  int
	ts     []int64
	vals   []float64
	step   int64 // with last, for a market without stored rows: the median step of its rows
}

// pipeDepth is how many blocks the packer may have ready ahead of the
// inserts: about 10 ms of inserting, so that the packer need not be
// scheduled promptly on a busy machine, in well under 1 MB of blocks.
const pipeDepth = 32

// writeRows writes the observations of p, market by market, block by
// block, and sets w.sha to the digest of p. Blocks that cannot meet
// stored rows (a new market, an append or a prepend: the common case) are
// packed into bind arguments on another goroutine while the connection
// inserts the blocks before them; the others are merged with the stored
// rows on the connection. That goroutine also computes the digest, block
// by block (it is mostly idle, waiting for the inserts). The result and
// the errors are those of doing it all in order on one goroutine.
func (w *writer) writeRows(p *prepared, byID map[string]*marketRow, res *WriteResult) error {
	blocks := make(chan *block, pipeDepth)
	free := make(chan *block, pipeDepth+2)
	stop := make(chan struct{})
	done := make(chan struct{})
	var sha string
	go func() {
		defer close(done)
		sha = packBlocks(p, byID, blocks, free, stop)
	}()
	defer func() {
		close(stop)
		<-done
	}()
	var (
		inserted int
		fields   adapters.FieldSet
	)
	for b := range blocks {
		mr := byID[b.g.id]
		if b.first {
			inserted, fields = 0, mr.fields
		}
		if err := w.writeBlock(mr, b, res, &inserted, &fields); err != nil {
			return fmt.Errorf("market %s: %w", b.g.id, err)
		}
		if b.last {
			res.Inserted += inserted
			if err := w.updateMarket(mr, b.g, inserted, fields, b.step); err != nil {
				return fmt.Errorf("market %s: %w", b.g.id, err)
			}
		}
		free <- b // never blocks: at most pipeDepth+2 blocks exist
	}
	<-done
	w.sha = sha
	return nil
}

// packBlocks cuts the rows of p into blocks and sends them to out in
// order, packing those that cannot meet stored rows, and returns the
// digest of p; it stops early (returning "") when stop is closed. Blocks
// are taken from free when there are any.
func packBlocks(p *prepared, byID map[string]*marketRow, out chan<- *block, free chan *block, stop <-chan struct{}) string {
	defer close(out)
	var d digester
	for _, g := range p.markets {
		d.market(g)
		mr := byID[g.id]
		hadRows := mr.rows > 0
		for start := 0; start < len(g.rows); start += chunkRows {
			var b *block
			select {
			case b = <-free:
			default:
				b = new(block)
			}
			end := min(start+chunkRows, len(g.rows))
			*b = block{g: g, rows: g.rows[start:end], first: start == 0, last: end == len(g.rows), ts: b.ts[:0], vals: b.vals[:0]}
			lo, hi := b.rows[0].ts, b.rows[len(b.rows)-1].ts
			// Only a block that overlaps the stored span can meet stored
			// rows: a new market, an append or a prepend reads nothing.
			if !hadRows || hi < mr.first || lo > mr.last {
				b.pack()
			}
			if b.last && !hadRows {
				ts := make([]int64, len(g.rows))
				for i := range g.rows {
					ts[i] = g.rows[i].ts
				}
				b.step = medianStep(ts)
			}
			select {
			case out <- b:
			case <-stop:
				return ""
			}
			// While the connection inserts it.
			d.rows(g.rows[start:end])
		}
	}
	return d.sum(p.events)
}

// pack lays out b's rows as bind arguments.
func (b *block) pack() {
	b.packed = true
	for i := range b.rows {
		b.cols |= b.rows[i].obs.Set
	}
	var cols [adapters.NumFields]adapters.Field
	nc := 0
	for f := adapters.Field(0); f < adapters.NumFields; f++ {
		if b.cols.Has(f) {
			cols[nc] = f
			nc++
		}
	}
	b.ncols = nc
	b.ts = slices.Grow(b.ts[:0], len(b.rows))[:len(b.rows)]
	b.vals = slices.Grow(b.vals[:0], len(b.rows)*nc)[:len(b.rows)*nc]
	nan := math.NaN()
	for i := range b.rows {
		r := &b.rows[i]
		b.ts[i] = r.ts
		v := b.vals[i*nc : (i+1)*nc]
		for j, f := range cols[:nc] {
			if r.obs.Set.Has(f) {
				v[j] = r.obs.Values[f]
			} else {
				v[j] = nan
			}
		}
	}
}

// writeBlock writes the rows of b (of market mr), counting them in res
// and inserted, and adding their fields to fields.
func (w *writer) writeBlock(mr *marketRow, b *block, res *WriteResult, inserted *int, fields *adapters.FieldSet) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	if b.packed {
		*inserted += len(b.rows)
		*fields |= b.cols
		return w.insertPacked(mr.pk, b)
	}
	// A block that may meet stored rows: those it meets are merged.
	chunk := b.rows
	clear(w.found[:])
	if err := w.loadExisting(mr.pk, mr.fields, chunk); err != nil {
		return err
	}
	out, outTS, upd, updTS := w.out[:0], w.outTS[:0], w.upd[:0], w.updTS[:0]
	for i := range chunk {
		r := &chunk[i]
		*fields |= r.obs.Set
		if !w.found[i] {
			*inserted++
			out = append(out, r.obs)
			outTS = append(outTS, r.ts)
			continue
		}
		old := &w.old[i]
		changed := false
		m := &w.merged[len(upd)]
		*m = adapters.Observation{Values: old.vals, Set: old.set}
		for f := adapters.Field(0); f < adapters.NumFields; f++ {
			if !r.obs.Set.Has(f) {
				continue
			}
			v := r.obs.Values[f]
			if !old.set.Has(f) || math.Float64bits(old.vals[f]) != math.Float64bits(v) {
				changed = true
				m.Put(f, v)
			}
		}
		if !changed {
			res.Unchanged++
			continue
		}
		res.Updated++
		upd = append(upd, m)
		updTS = append(updTS, r.ts)
	}
	w.out, w.outTS, w.upd, w.updTS = out, outTS, upd, updTS
	if err := w.insert(mr.pk, outTS, out, false); err != nil {
		return err
	}
	return w.insert(mr.pk, updTS, upd, true)
}

// updateMarket updates the summary of market mr after its rows (g's) are
// written: inserted new rows, fields seen, and step, the median step of
// g's rows when the market had none stored.
func (w *writer) updateMarket(mr *marketRow, g *pMarket, inserted int, fields adapters.FieldSet, step int64) error {
	first, last, hadRows := mr.first, mr.last, mr.rows > 0
	lo, hi := g.rows[0].ts, g.rows[len(g.rows)-1].ts
	if !hadRows || lo < first {
		first = lo
	}
	if !hadRows || hi > last {
		last = hi
	}
	switch {
	case !hadRows:
		// The market's rows are the batch's: step is theirs.
	case inserted > 0:
		var err error
		if step, err = w.storedStep(mr.pk, mr.rows+inserted); err != nil {
			return err
		}
	default:
		step = mr.step
	}
	return w.c.Exec("UPDATE markets SET rows = rows + ?, first_ts = ?, last_ts = ?, fields = ?, step = ? WHERE pk = ?",
		inserted, first, last, int64(fields), step, mr.pk)
}

// storedStep is the median step of the stored times of market pk (n of
// them), read after this write's rows.
func (w *writer) storedStep(pk int64, n int) (int64, error) {
	s, err := w.c.Prepare("SELECT ts FROM observations WHERE market_id = ? ORDER BY ts")
	if err != nil {
		return 0, err
	}
	s.BindInt64(0, pk)
	ts := make([]int64, 0, n)
	for {
		more, err := s.Step()
		if err != nil {
			return 0, err
		}
		if !more {
			return medianStep(ts), nil
		}
		ts = append(ts, s.ColumnInt64(0))
	}
}

// loadExisting reads the stored values (of the stored fields) at the
// times of chunk into w.old and w.found, by a merge join over the
// primary-key order.
func (w *writer) loadExisting(pk int64, fields adapters.FieldSet, chunk []pRow) error {
	s := w.queries[fields]
	if s == nil {
		q := "SELECT ts"
		for f := adapters.Field(0); f < adapters.NumFields; f++ {
			if fields.Has(f) {
				q += ", " + f.String()
			}
		}
		q += " FROM observations WHERE market_id = ? AND ts >= ? AND ts <= ? ORDER BY ts"
		var err error
		if s, err = w.c.Prepare(q); err != nil {
			return err
		}
		w.queries[fields] = s
	}
	s.BindInt64(0, pk)
	s.BindInt64(1, chunk[0].ts)
	s.BindInt64(2, chunk[len(chunk)-1].ts)
	j := 0
	for {
		more, err := s.Step()
		if err != nil || !more {
			return err
		}
		if s.ColumnType(0) != sqlitex.TypeInteger {
			s.Reset()
			return fmt.Errorf("ts is not an integer: %v", s.Column(0))
		}
		ts := s.ColumnInt64(0)
		for j < len(chunk) && chunk[j].ts < ts {
			j++
		}
		if j == len(chunk) || chunk[j].ts != ts {
			continue
		}
		o := &w.old[j]
		*o = storedObs{}
		k := 1
		for f := adapters.Field(0); f < adapters.NumFields; f++ {
			if !fields.Has(f) {
				continue
			}
			switch s.ColumnType(k) {
			case sqlitex.TypeFloat, sqlitex.TypeInteger:
				o.vals[f] = s.ColumnFloat64(k)
				o.set = o.set.With(f)
			}
			k++
		}
		w.found[j] = true
	}
}

// insertSQL returns the statement that writes n observations binding
// the columns of cols. Parameter ?1 is the market key, shared by every
// row. With upsert, a row already stored is merged: ON CONFLICT DO UPDATE
// SET col = COALESCE(excluded.col, col).
func insertSQL(k stmtKey) string {
	var b strings.Builder
	// OR ROLLBACK: a failing row ends the whole transaction, which Write
	// rolls back anyway; SQLite then keeps no statement journal to undo
	// a failed statement alone (a copy of every page the statement
	// first touches).
	b.WriteString("INSERT OR ROLLBACK INTO observations(market_id, ts")
	nc := 1
	for f := adapters.Field(0); f < adapters.NumFields; f++ {
		if k.cols.Has(f) {
			b.WriteString(", ")
			b.WriteString(f.String())
			nc++
		}
	}
	b.WriteString(") VALUES ")
	row := "(?1" + strings.Repeat(", ?", nc) + ")"
	for i := range k.n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	if k.upsert {
		b.WriteString(" ON CONFLICT(market_id, ts) DO UPDATE SET ")
		sep := ""
		for f := adapters.Field(0); f < adapters.NumFields; f++ {
			if k.cols.Has(f) {
				fmt.Fprintf(&b, "%s%[2]s = COALESCE(excluded.%[2]s, %[2]s)", sep, f)
				sep = ", "
			}
		}
	}
	return b.String()
}

// insert writes observations in multi-row statements that bind only the
// fields some of them carry (the others stay NULL, or keep their stored
// value when merging). New rows are plain inserts; merged rows that
// changed go through the upsert. A run of rows is split into statements
// of chunkRows, chunkRows/2, ... 1 rows, so that few shapes are prepared.
func (w *writer) insert(pk int64, ts []int64, obs []*adapters.Observation, upsert bool) error {
	if len(obs) == 0 {
		return nil
	}
	var cols adapters.FieldSet
	for _, o := range obs {
		cols |= o.Set
	}
	for len(obs) > 0 {
		n := chunkRows
		for n > len(obs) {
			n >>= 1
		}
		st, err := w.stmt(stmtKey{cols: cols, n: n, upsert: upsert})
		if err != nil {
			return err
		}
		st.BindInt64(0, pk)
		a := 1
		for i, o := range obs[:n] {
			st.BindInt64(a, ts[i])
			a++
			for f := adapters.Field(0); f < adapters.NumFields; f++ {
				if !cols.Has(f) {
					continue
				}
				if o.Set.Has(f) {
					st.BindFloat64(a, o.Values[f])
				} else {
					st.BindNull(a)
				}
				a++
			}
		}
		if _, err := st.Step(); err != nil {
			return err
		}
		obs, ts = obs[n:], ts[n:]
	}
	return nil
}

// stmt returns the prepared statement of shape k.
func (w *writer) stmt(k stmtKey) (*sqlitex.Stmt, error) {
	st := w.stmts[k]
	if st == nil {
		var err error
		if st, err = w.c.Prepare(insertSQL(k)); err != nil {
			return nil, err
		}
		w.stmts[k] = st
	}
	return st, nil
}

// insertPacked inserts the rows of a packed block, in statements of
// chunkRows, chunkRows/2, ... 1 rows as insert does.
func (w *writer) insertPacked(pk int64, b *block) error {
	ts, vals, nc := b.ts, b.vals, b.ncols
	for len(ts) > 0 {
		n := chunkRows
		for n > len(ts) {
			n >>= 1
		}
		st, err := w.stmt(stmtKey{cols: b.cols, n: n})
		if err != nil {
			return err
		}
		st.BindInt64(0, pk)
		a := 1
		for i, t := range ts[:n] {
			st.BindInt64(a, t)
			a++
			for _, v := range vals[i*nc : (i+1)*nc] {
				if v != v {
					st.BindNull(a)
				} else {
					st.BindFloat64(a, v)
				}
				a++
			}
		}
		if _, err := st.Step(); err != nil {
			return err
		}
		ts, vals = ts[n:], vals[n*nc:]
	}
	return nil
}

// writeEvent inserts or updates one event and reports whether it did.
func (w *writer) writeEvent(pk int64, e adapters.Event) (int, error) {
	s, err := w.c.Prepare("SELECT size, note FROM events WHERE market_id = ? AND ts = ? AND type = ? AND scope = ?")
	if err != nil {
		return 0, err
	}
	if err := s.Bind(pk, e.Time.Unix(), string(e.Type), e.Scope); err != nil {
		return 0, err
	}
	found, err := s.Step()
	if err != nil {
		return 0, err
	}
	if !found {
		err = w.c.Exec("INSERT INTO events(market_id, ts, type, size, scope, note) VALUES (?, ?, ?, ?, ?, ?)",
			pk, e.Time.Unix(), string(e.Type), e.Size, e.Scope, e.Note)
		return 1, err
	}
	var size float64
	var note string
	err = s.Scan(&size, &note)
	s.Reset()
	switch {
	case err != nil:
		return 0, err
	case size == e.Size && note == e.Note:
		return 0, nil
	}
	err = w.c.Exec("UPDATE events SET size = ?, note = ? WHERE market_id = ? AND ts = ? AND type = ? AND scope = ?",
		e.Size, e.Note, pk, e.Time.Unix(), string(e.Type), e.Scope)
	return 1, err
}

// digest is the SHA-256 of a prepared batch's canonical content: for
// each market by ID, its ID and its rows by time (time, field set and the
// values of the set fields); then the events.
func digest(p *prepared) string {
	var d digester
	for _, g := range p.markets {
		d.market(g)
		d.rows(g.rows)
	}
	return d.sum(p.events)
}

// digester computes digest piece by piece.
type digester struct {
	h   hash.Hash
	buf []byte
}

// market starts the rows of g.
func (d *digester) market(g *pMarket) {
	if d.h == nil {
		d.h = sha256.New()
		d.buf = make([]byte, 0, 16+8*adapters.NumFields)
	}
	d.h.Write([]byte(g.id))
	d.h.Write([]byte{'\n'})
}

// rows adds a run of the current market's rows.
func (d *digester) rows(rows []pRow) {
	for _, r := range rows {
		buf := binary.LittleEndian.AppendUint64(d.buf[:0], uint64(r.ts))
		buf = binary.LittleEndian.AppendUint32(buf, uint32(r.obs.Set))
		for f := adapters.Field(0); f < adapters.NumFields; f++ {
			if r.obs.Set.Has(f) {
				buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(r.obs.Values[f]))
			}
		}
		d.h.Write(buf)
		d.buf = buf
	}
}

// sum adds the events and returns the digest in hex.
func (d *digester) sum(events []adapters.Event) string {
	if d.h == nil {
		d.h = sha256.New()
	}
	for _, e := range events {
		fmt.Fprintf(d.h, "event\n%s\n%d\n%s\n%x\n%s\n%s\n", e.Market, e.Time.Unix(), e.Type, math.Float64bits(e.Size), e.Scope, e.Note)
	}
	return hex.EncodeToString(d.h.Sum(nil))
}

func (w *writer) logImport(b *Batch, p *prepared, sha string, res *WriteResult, now func() time.Time) error {
	var at any
	if now != nil {
		at = now().UTC().Format(time.RFC3339Nano)
	}
	n := 0
	for _, g := range p.markets {
		n += len(g.rows)
	}
	return w.c.Exec(`INSERT INTO imports(source, format, sha256, rows, inserted, updated, unchanged, events, imported_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, b.Source, b.Format, sha, n, res.Inserted, res.Updated, res.Unchanged, res.Events, at)
}
