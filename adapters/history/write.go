package history

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
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

// chunkRows is how many observations one multi-row INSERT carries.
const chunkRows = 64

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
func (db *DB) Write(ctx context.Context, b *Batch) (WriteResult, error) {
	const op = "history.Write"
	p, errs, warns := prepare(b)
	res := WriteResult{Warnings: warns}
	if len(errs) > 0 {
		return res, &adapters.Error{Op: op, Kind: adapters.KindInvalid, Pos: errs[0].Pos, Err: &BatchError{Issues: errs}}
	}
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return res, adapters.Wrap(op, adapters.KindOther, err)
	}
	defer conn.Close()
	// Write resolves every market key inside its own transaction, so the
	// per-row foreign-key lookup on observations is redundant work; it is
	// switched off on this connection for the write (PRAGMA foreign_keys
	// cannot change inside a transaction) and back on after.
	if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
		return res, adapters.Wrap(op, adapters.KindOther, err)
	}
	defer func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = ON"); err != nil {
			// Never hand a connection without foreign keys back to the pool.
			conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return res, adapters.Wrap(op, adapters.KindOther, err)
	}
	defer tx.Rollback()
	w := &writer{ctx: ctx, conn: conn, tx: tx, stmts: map[stmtKey]*sql.Stmt{}, queries: map[adapters.FieldSet]string{}}
	defer w.close()
	if err := w.write(op, b, p, &res); err != nil {
		return WriteResult{Warnings: warns}, err
	}
	if err := w.logImport(b, p, &res, db.opts.Now); err != nil {
		return WriteResult{Warnings: warns}, adapters.Wrap(op, adapters.KindOther, err)
	}
	if err := tx.Commit(); err != nil {
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
	conn    *sql.Conn // the connection tx runs on, for raw reads inside tx
	tx      *sql.Tx
	stmts   map[stmtKey]*sql.Stmt
	queries map[adapters.FieldSet]string // existing-row lookups by stored fields
	args    []any
	old     [chunkRows]storedObs // stored values of a chunk's rows
	found   [chunkRows]bool      // whether a chunk's row is stored
}

func (w *writer) close() {
	for _, s := range w.stmts {
		s.Close()
	}
}

func (w *writer) write(op string, b *Batch, p *prepared, res *WriteResult) error {
	ctx, tx := w.ctx, w.tx
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
		_, err := tx.ExecContext(ctx, `INSERT INTO markets(id, kind, base, protocol, token, name, tags, params)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, base = excluded.base, protocol = excluded.protocol,
				token = excluded.token, name = excluded.name, tags = excluded.tags, params = excluded.params`,
			mc.ID, string(mc.Kind), string(mc.Base), mc.Protocol, mc.Token, mc.Name, tags, params)
		if err != nil {
			return adapters.Wrap(op, adapters.KindOther, fmt.Errorf("market %s: %w", mc.ID, err))
		}
	}
	stored, err := allMarkets(ctx, tx)
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

	for _, g := range p.markets {
		if err := w.writeMarket(byID[g.id], g, res); err != nil {
			return adapters.Wrap(op, adapters.KindOther, fmt.Errorf("market %s: %w", g.id, err))
		}
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

// writeMarket merges and writes one market's rows, chunk by chunk.
func (w *writer) writeMarket(mr *marketRow, g *pMarket, res *WriteResult) error {
	var (
		out      = make([]*adapters.Observation, 0, chunkRows)
		outTS    = make([]int64, 0, chunkRows)
		upd      = make([]*adapters.Observation, 0, chunkRows)
		updTS    = make([]int64, 0, chunkRows)
		fields   = mr.fields
		inserted int
		first    = mr.first
		last     = mr.last
		hadRows  = mr.rows > 0
	)
	for start := 0; start < len(g.rows); start += chunkRows {
		chunk := g.rows[start:min(start+chunkRows, len(g.rows))]
		lo, hi := chunk[0].ts, chunk[len(chunk)-1].ts
		clear(w.found[:])
		if hadRows && hi >= mr.first && lo <= mr.last {
			if err := w.loadExisting(mr.pk, mr.fields, chunk); err != nil {
				return err
			}
		}
		out, outTS, upd, updTS = out[:0], outTS[:0], upd[:0], updTS[:0]
		for i := range chunk {
			r := &chunk[i]
			fields |= r.obs.Set
			if !w.found[i] {
				inserted++
				out = append(out, r.obs)
				outTS = append(outTS, r.ts)
				continue
			}
			old := &w.old[i]
			changed := false
			merged := adapters.Observation{Values: old.vals, Set: old.set}
			for f := adapters.Field(0); f < adapters.NumFields; f++ {
				if !r.obs.Set.Has(f) {
					continue
				}
				v := r.obs.Values[f]
				if !old.set.Has(f) || math.Float64bits(old.vals[f]) != math.Float64bits(v) {
					changed = true
					merged.Put(f, v)
				}
			}
			if !changed {
				res.Unchanged++
				continue
			}
			res.Updated++
			upd = append(upd, &merged)
			updTS = append(updTS, r.ts)
		}
		if err := w.insert(mr.pk, outTS, out, false); err != nil {
			return err
		}
		if err := w.insert(mr.pk, updTS, upd, true); err != nil {
			return err
		}
	}
	res.Inserted += inserted
	if len(g.rows) > 0 {
		lo, hi := g.rows[0].ts, g.rows[len(g.rows)-1].ts
		if !hadRows || lo < first {
			first = lo
		}
		if !hadRows || hi > last {
			last = hi
		}
	}
	_, err := w.tx.ExecContext(w.ctx, "UPDATE markets SET rows = rows + ?, first_ts = ?, last_ts = ?, fields = ? WHERE pk = ?",
		inserted, first, last, int64(fields), mr.pk)
	return err
}

// loadExisting reads the stored values (of the stored fields) at the
// times of chunk into w.old and w.found, by a merge join over the
// primary-key order.
func (w *writer) loadExisting(pk int64, fields adapters.FieldSet, chunk []pRow) error {
	q, ok := w.queries[fields]
	if !ok {
		q = "SELECT ts"
		for f := adapters.Field(0); f < adapters.NumFields; f++ {
			if fields.Has(f) {
				q += ", " + f.String()
			}
		}
		q += " FROM observations WHERE market_id = ? AND ts >= ? AND ts <= ? ORDER BY ts"
		w.queries[fields] = q
	}
	j := 0
	return sqlitex.Each(w.ctx, w.conn, q, []any{pk, chunk[0].ts, chunk[len(chunk)-1].ts}, func(row []driver.Value) error {
		ts, ok := row[0].(int64)
		if !ok {
			return fmt.Errorf("ts is %T, not an integer", row[0])
		}
		for j < len(chunk) && chunk[j].ts < ts {
			j++
		}
		if j == len(chunk) || chunk[j].ts != ts {
			return nil
		}
		s := &w.old[j]
		*s = storedObs{}
		k := 1
		for f := adapters.Field(0); f < adapters.NumFields; f++ {
			if !fields.Has(f) {
				continue
			}
			switch v := row[k].(type) {
			case float64:
				s.vals[f] = v
				s.set = s.set.With(f)
			case int64:
				s.vals[f] = float64(v)
				s.set = s.set.With(f)
			}
			k++
		}
		w.found[j] = true
		return nil
	})
}

// insertSQL returns the statement that writes n observations binding
// the columns of cols. With upsert, a row already stored is merged: ON
// CONFLICT DO UPDATE SET col = COALESCE(excluded.col, col).
func insertSQL(k stmtKey) string {
	var b strings.Builder
	b.WriteString("INSERT INTO observations(market_id, ts")
	nc := 2
	for f := adapters.Field(0); f < adapters.NumFields; f++ {
		if k.cols.Has(f) {
			b.WriteString(", ")
			b.WriteString(f.String())
			nc++
		}
	}
	b.WriteString(") VALUES ")
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", nc), ", ") + ")"
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

// insert writes observations in one multi-row statement that binds only
// the fields some of them carry (the others stay NULL, or keep their
// stored value when merging). New rows are plain inserts; merged rows
// that changed go through the upsert.
func (w *writer) insert(pk int64, ts []int64, obs []*adapters.Observation, upsert bool) error {
	if len(obs) == 0 {
		return nil
	}
	var cols adapters.FieldSet
	for _, o := range obs {
		cols |= o.Set
	}
	k := stmtKey{cols: cols, n: len(obs), upsert: upsert}
	st := w.stmts[k]
	if st == nil {
		var err error
		st, err = w.tx.PrepareContext(w.ctx, insertSQL(k))
		if err != nil {
			return err
		}
		w.stmts[k] = st
	}
	args := w.args[:0]
	for i, o := range obs {
		args = append(args, pk, ts[i])
		for f := adapters.Field(0); f < adapters.NumFields; f++ {
			if !cols.Has(f) {
				continue
			}
			if o.Set.Has(f) {
				args = append(args, o.Values[f])
			} else {
				args = append(args, nil)
			}
		}
	}
	w.args = args
	_, err := st.ExecContext(w.ctx, args...)
	return err
}

// writeEvent inserts or updates one event and reports whether it did.
func (w *writer) writeEvent(pk int64, e adapters.Event) (int, error) {
	var size float64
	var note string
	err := w.tx.QueryRowContext(w.ctx, "SELECT size, note FROM events WHERE market_id = ? AND ts = ? AND type = ? AND scope = ?",
		pk, e.Time.Unix(), string(e.Type), e.Scope).Scan(&size, &note)
	switch {
	case err == sql.ErrNoRows:
		_, err = w.tx.ExecContext(w.ctx, "INSERT INTO events(market_id, ts, type, size, scope, note) VALUES (?, ?, ?, ?, ?, ?)",
			pk, e.Time.Unix(), string(e.Type), e.Size, e.Scope, e.Note)
		return 1, err
	case err != nil:
		return 0, err
	case size == e.Size && note == e.Note:
		return 0, nil
	}
	_, err = w.tx.ExecContext(w.ctx, "UPDATE events SET size = ?, note = ? WHERE market_id = ? AND ts = ? AND type = ? AND scope = ?",
		e.Size, e.Note, pk, e.Time.Unix(), string(e.Type), e.Scope)
	return 1, err
}

// digest is the SHA-256 of a prepared batch's canonical content.
func digest(p *prepared) string {
	h := sha256.New()
	buf := make([]byte, 0, 16+8*adapters.NumFields)
	for _, g := range p.markets {
		h.Write([]byte(g.id))
		h.Write([]byte{'\n'})
		for _, r := range g.rows {
			buf = binary.LittleEndian.AppendUint64(buf[:0], uint64(r.ts))
			buf = binary.LittleEndian.AppendUint32(buf, uint32(r.obs.Set))
			for f := adapters.Field(0); f < adapters.NumFields; f++ {
				if r.obs.Set.Has(f) {
					buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(r.obs.Values[f]))
				}
			}
			h.Write(buf)
		}
	}
	for _, e := range p.events {
		fmt.Fprintf(h, "event\n%s\n%d\n%s\n%x\n%s\n%s\n", e.Market, e.Time.Unix(), e.Type, math.Float64bits(e.Size), e.Scope, e.Note)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (w *writer) logImport(b *Batch, p *prepared, res *WriteResult, now func() time.Time) error {
	var at any
	if now != nil {
		at = now().UTC().Format(time.RFC3339Nano)
	}
	n := 0
	for _, g := range p.markets {
		n += len(g.rows)
	}
	_, err := w.tx.ExecContext(w.ctx, `INSERT INTO imports(source, format, sha256, rows, inserted, updated, unchanged, events, imported_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, b.Source, b.Format, digest(p), n, res.Inserted, res.Updated, res.Unchanged, res.Events, at)
	return err
}
