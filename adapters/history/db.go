package history

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/internal/sqlitex"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// SchemaVersion is the newest schema version this package knows: the
// number of files in migrations/.
var SchemaVersion = func() int {
	ms, err := sqlitex.Migrations(migrationFS, "migrations")
	if err != nil {
		panic("history: embedded migrations: " + err.Error())
	}
	return len(ms)
}()

// Options configure a DB.
type Options struct {
	// Now is the clock stamped on the import log. When nil, imports are
	// logged with no time (imported_at is NULL): library code never reads
	// the wall clock itself.
	Now func() time.Time
	// Catalog tells Load which staking tokens accrue value (a profile's
	// IsRebasing), for the ones whose history has a market price and no
	// exchange rate (priceAsRate). When nil, Load uses adapters.Builtin().
	Catalog *adapters.Catalog
}

// Option sets an Option on Open or OpenMemory.
type Option func(*Options)

// WithClock sets the clock that stamps the import log.
func WithClock(now func() time.Time) Option {
	return func(o *Options) { o.Now = now }
}

// WithCatalog sets the catalog Load reads profiles from (Options.Catalog).
func WithCatalog(c *adapters.Catalog) Option {
	return func(o *Options) { o.Catalog = c }
}

// DB is a market history store in one SQLite database. It is safe for
// concurrent use; writes are serialised by SQLite.
type DB struct {
	sql  *sql.DB
	path string // "" for an in-memory database
	dsn  string // for Write's own connection (sqlitex.OpenConn)
	opts Options
}

// fileOptions are the settings of history database files: 64 KiB pages
// (SQLite's largest) for files this package creates, and
// synchronous=NORMAL, which in WAL mode syncs the log at checkpoints
// rather than at every commit: a power loss or OS crash may lose the last
// imports, which can be imported again, but it never corrupts the
// database (a process crash loses nothing committed).
//
// Observations are written in bulk and read by whole time windows, so
// large pages cost little and save: a shallower B-tree (fewer pages
// visited per insert), and a quarter of the WAL frames of 16 KiB pages,
// each a write or two; an import of 200,000 rows (about 20 MB) then stays
// under SQLite's automatic checkpoint of 1000 frames, so the copy into
// the database happens at a later commit or at close, not within this
// one. BenchmarkWrite/file-fresh: 13% less time than with 16 KiB pages.
// Files made with other page sizes keep them.
var fileOptions = []sqlitex.Option{sqlitex.WithPageSize(65536), sqlitex.WithPragma("synchronous(NORMAL)")}

// Open opens the history database file at path, creating it when missing,
// and brings its schema up to date. A database written by a newer version
// of yieldvault (a higher schema version) is refused.
func Open(ctx context.Context, path string, opts ...Option) (*DB, error) {
	const op = "history.Open"
	if path == "" {
		return nil, adapters.E(op, adapters.KindInvalid, "empty database path")
	}
	sdb, err := sqlitex.Open(ctx, path, fileOptions...)
	if err != nil {
		return nil, adapters.Wrap(op, adapters.KindOther, err)
	}
	return setup(ctx, op, sdb, path, sqlitex.DSN(path, fileOptions...), opts)
}

// OpenMemory opens a private in-memory history database with the same
// schema. It is gone when closed. It is served by one connection, so its
// reads and writes run one at a time.
func OpenMemory(ctx context.Context, opts ...Option) (*DB, error) {
	const op = "history.OpenMemory"
	dsn := sqlitex.MemoryDSN()
	sdb, err := sqlitex.OpenMemoryDSN(ctx, dsn)
	if err != nil {
		return nil, adapters.Wrap(op, adapters.KindOther, err)
	}
	return setup(ctx, op, sdb, "", dsn, opts)
}

func setup(ctx context.Context, op string, sdb *sql.DB, path, dsn string, opts []Option) (*DB, error) {
	db := &DB{sql: sdb, path: path, dsn: dsn}
	for _, o := range opts {
		o(&db.opts)
	}
	ms, err := sqlitex.Migrations(migrationFS, "migrations")
	if err == nil {
		_, _, err = sqlitex.Migrate(ctx, sdb, ms)
	}
	if err == nil {
		err = db.checkColumns(ctx)
	}
	if err != nil {
		sdb.Close()
		kind := adapters.KindOther
		var ve *sqlitex.VersionError
		if errors.As(err, &ve) {
			kind = adapters.KindInvalid
		}
		e := &adapters.Error{Op: op, Kind: kind, Err: err}
		if path != "" {
			e.Pos = path
		}
		return nil, e
	}
	return db, nil
}

// checkColumns verifies that the observations table has a column for every
// adapters.Field, so a field added to adapters without a migration fails
// loudly at open rather than silently dropping data.
func (db *DB) checkColumns(ctx context.Context) error {
	rows, err := db.sql.QueryContext(ctx, "SELECT name FROM pragma_table_info('observations')")
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		have[n] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for f := adapters.Field(0); f < adapters.NumFields; f++ {
		if !have[f.String()] {
			return fmt.Errorf("observations table has no column %q: a migration is missing for a new adapters.Field", f)
		}
	}
	return nil
}

// Close closes the database.
func (db *DB) Close() error { return db.sql.Close() }

// Path returns the database file's path, or "" for an in-memory database.
func (db *DB) Path() string { return db.path }

// colList is the observation columns in Field order, comma separated.
var colList = func() string {
	var b strings.Builder
	for f := adapters.Field(0); f < adapters.NumFields; f++ {
		if f > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f.String())
	}
	return b.String()
}()

// marketRow is a row of the markets table.
type marketRow struct {
	pk          int64
	m           adapters.Market
	rows        int
	first, last int64 // valid when rows > 0
	fields      adapters.FieldSet
	step        int64 // median seconds between consecutive rows (0 below two rows)
}

const marketCols = "pk, id, kind, base, protocol, token, name, tags, params, rows, first_ts, last_ts, fields, step"

type scanner interface{ Scan(dest ...any) error }

func scanMarket(s scanner) (marketRow, error) {
	var (
		r            marketRow
		tags, params string
		first, last  sql.NullInt64
		fields       int64
	)
	err := s.Scan(&r.pk, &r.m.ID, &r.m.Kind, &r.m.Base, &r.m.Protocol, &r.m.Token, &r.m.Name, &tags, &params,
		&r.rows, &first, &last, &fields, &r.step)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal([]byte(tags), &r.m.Tags); err != nil {
		return r, fmt.Errorf("market %s: tags: %w", r.m.ID, err)
	}
	if err := json.Unmarshal([]byte(params), &r.m.Params); err != nil {
		return r, fmt.Errorf("market %s: params: %w", r.m.ID, err)
	}
	if len(r.m.Params) == 0 {
		r.m.Params = nil
	}
	if len(r.m.Tags) == 0 {
		r.m.Tags = nil
	}
	r.first, r.last, r.fields = first.Int64, last.Int64, adapters.FieldSet(fields)
	return r, nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// allMarkets reads the markets table ordered by id.
func allMarkets(ctx context.Context, q querier) ([]marketRow, error) {
	rows, err := q.QueryContext(ctx, "SELECT "+marketCols+" FROM markets ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []marketRow
	for rows.Next() {
		r, err := scanMarket(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// lookup returns the stored markets named by ids, in that order (every
// market, by id, when ids is empty). An unknown id is KindNotFound; a
// repeated id KindInvalid.
func (db *DB) lookup(ctx context.Context, op string, ids []string) ([]marketRow, error) {
	all, err := allMarkets(ctx, db.sql)
	if err != nil {
		return nil, adapters.Wrap(op, adapters.KindOther, err)
	}
	if len(ids) == 0 {
		return all, nil
	}
	byID := make(map[string]int, len(all))
	for i, r := range all {
		byID[r.m.ID] = i
	}
	out := make([]marketRow, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		i, ok := byID[id]
		if !ok {
			return nil, adapters.E(op, adapters.KindNotFound, "market %q is not in the history database", id)
		}
		if seen[id] {
			return nil, adapters.E(op, adapters.KindInvalid, "market %q asked for twice", id)
		}
		seen[id] = true
		out = append(out, all[i])
	}
	return out, nil
}

// Market returns a stored market's description. An unknown id is
// KindNotFound.
func (db *DB) Market(ctx context.Context, id string) (adapters.Market, error) {
	const op = "history.Market"
	r, err := scanMarket(db.sql.QueryRowContext(ctx, "SELECT "+marketCols+" FROM markets WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return adapters.Market{}, adapters.E(op, adapters.KindNotFound, "market %q is not in the history database", id)
	}
	if err != nil {
		return adapters.Market{}, adapters.Wrap(op, adapters.KindOther, err)
	}
	return r.m, nil
}

// MarketInfo summarises one stored market's history.
type MarketInfo struct {
	Market      adapters.Market
	First, Last time.Time         // first and last observation (zero when Rows is 0)
	Rows        int               // observations stored
	Step        time.Duration     // median time between consecutive observations
	Fields      adapters.FieldSet // fields observed in at least one row
	Events      int               // events stored
}

// Markets lists every stored market, by id, with a summary of its history
// read from the markets table alone (Write keeps it), so listing costs the
// same however many observations are stored.
func (db *DB) Markets(ctx context.Context) ([]MarketInfo, error) {
	const op = "history.Markets"
	ms, err := allMarkets(ctx, db.sql)
	if err != nil {
		return nil, adapters.Wrap(op, adapters.KindOther, err)
	}
	events := map[int64]int{}
	rows, err := db.sql.QueryContext(ctx, "SELECT market_id, COUNT(*) FROM events GROUP BY market_id")
	if err != nil {
		return nil, adapters.Wrap(op, adapters.KindOther, err)
	}
	for rows.Next() {
		var pk int64
		var n int
		if err := rows.Scan(&pk, &n); err != nil {
			rows.Close()
			return nil, adapters.Wrap(op, adapters.KindOther, err)
		}
		events[pk] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, adapters.Wrap(op, adapters.KindOther, err)
	}
	out := make([]MarketInfo, 0, len(ms))
	for _, m := range ms {
		info := MarketInfo{Market: m.m, Rows: m.rows, Fields: m.fields, Events: events[m.pk]}
		if m.rows > 0 {
			info.First, info.Last = time.Unix(m.first, 0).UTC(), time.Unix(m.last, 0).UTC()
			info.Step = time.Duration(m.step) * time.Second
		}
		out = append(out, info)
	}
	return out, nil
}

// medianStep is the median difference between consecutive ascending
// times, or 0 with fewer than two times.
func medianStep(ts []int64) int64 {
	if len(ts) < 2 {
		return 0
	}
	d := make([]int64, len(ts)-1)
	for i := range d {
		d[i] = ts[i+1] - ts[i]
	}
	slices.Sort(d)
	return d[len(d)/2]
}

// ImportRecord is one entry of the import log.
type ImportRecord struct {
	ID         int64
	Source     string
	Format     string
	SHA256     string    // digest of the batch's canonical content (see Write)
	Rows       int       // distinct observations in the batch
	Inserted   int       // new observations
	Updated    int       // existing observations that changed
	Unchanged  int       // observations already stored as given
	Events     int       // events inserted or changed
	ImportedAt time.Time // zero when the DB had no clock
}

// Imports returns the import log, oldest first.
func (db *DB) Imports(ctx context.Context) ([]ImportRecord, error) {
	const op = "history.Imports"
	rows, err := db.sql.QueryContext(ctx,
		"SELECT id, source, format, sha256, rows, inserted, updated, unchanged, events, imported_at FROM imports ORDER BY id")
	if err != nil {
		return nil, adapters.Wrap(op, adapters.KindOther, err)
	}
	defer rows.Close()
	var out []ImportRecord
	for rows.Next() {
		var r ImportRecord
		var at sql.NullString
		if err := rows.Scan(&r.ID, &r.Source, &r.Format, &r.SHA256, &r.Rows, &r.Inserted, &r.Updated, &r.Unchanged, &r.Events, &at); err != nil {
			return nil, adapters.Wrap(op, adapters.KindOther, err)
		}
		if at.Valid {
			t, err := time.Parse(time.RFC3339Nano, at.String)
			if err != nil {
				return nil, adapters.Wrap(op, adapters.KindOther, fmt.Errorf("import %d: imported_at: %w", r.ID, err))
			}
			r.ImportedAt = t
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, adapters.Wrap(op, adapters.KindOther, err)
	}
	return out, nil
}
