// Package sqlitex opens SQLite databases the way every yieldvault store
// wants them (modernc.org/sqlite, WAL, a busy timeout, foreign keys,
// immediate write transactions), applies embedded schema migrations
// tracked in PRAGMA user_version, and offers a low-overhead row iterator
// for hot read paths and a direct connection below database/sql (Conn)
// for bulk writes and loads.
package sqlitex

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DriverName is the database/sql driver every store uses.
const DriverName = "sqlite"

// Pragmas are the connection settings of every file database: wait up to
// five seconds for a lock, write-ahead logging (readers never block the
// writer), foreign keys enforced, and write transactions that take the
// write lock at BEGIN (no deadlock-prone lock upgrades).
const Pragmas = "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate"

// escaper escapes the characters that end or change the path part of a
// SQLite "file:" URI.
var escaper = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")

// DSN returns the "file:" data source name of the database file at path
// with the project's pragmas, and those of any WithPragma options.
func DSN(path string, opts ...Option) string {
	var c config
	for _, o := range opts {
		o(&c)
	}
	pr := Pragmas
	if c.busyMs > 0 {
		// Replaced, not added: the driver runs busy_timeout pragmas first
		// in no set order.
		pr = strings.Replace(pr, "busy_timeout(5000)", "busy_timeout("+strconv.FormatInt(c.busyMs, 10)+")", 1)
	}
	dsn := "file:" + escaper.Replace(path) + "?" + pr
	for _, p := range c.pragmas {
		dsn += "&_pragma=" + url.QueryEscape(p)
	}
	return dsn
}

// Option adjusts how Open opens a database file.
type Option func(*config)

type config struct {
	pageSize int
	pragmas  []string
	busyMs   int64
}

// WithBusyTimeout sets how long a connection waits for another
// connection's lock (milliseconds, instead of Pragmas' 5000).
func WithBusyTimeout(ms int64) Option { return func(c *config) { c.busyMs = ms } }

// WithPageSize sets the page size, in bytes (a power of two from 512 to
// 65536), of a database file that Open creates; an existing database
// keeps its own.
func WithPageSize(n int) Option { return func(c *config) { c.pageSize = n } }

// WithPragma adds a setting that every connection runs at open, written as
// in a _pragma DSN parameter: "synchronous(NORMAL)".
func WithPragma(p string) Option { return func(c *config) { c.pragmas = append(c.pragmas, p) } }

var memSeq atomic.Uint64

// MemoryDSN returns the DSN of a new, uniquely named in-memory database
// (SQLite's memdb VFS). The database lives as long as some connection to
// it is open, so use it with a pool of one connection that is never
// recycled (see OpenMemory). Other connections of this process, such as a
// Conn, can open the same DSN and share the database, with SQLite's usual
// locking (a five-second busy timeout).
func MemoryDSN() string {
	return "file:/yieldvault-mem-" + strconv.FormatUint(memSeq.Add(1), 10) +
		"?vfs=memdb&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)&_txlock=immediate"
}

// Open opens (creating when missing) the database file at path and checks
// that it can be read.
func Open(ctx context.Context, path string, opts ...Option) (*sql.DB, error) {
	if path == "" {
		return nil, errors.New("sqlitex: empty database path")
	}
	var c config
	for _, o := range opts {
		o(&c)
	}
	if c.pageSize > 0 {
		if err := create(ctx, path, c.pageSize); err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
	}
	db, err := sql.Open(DriverName, DSN(path, opts...))
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

// create makes a database file with the given page size when path does
// not exist or is empty. The page size of a database is fixed when its
// first page is written, which in WAL mode is when the journal mode is set,
// so it must come first (the driver runs _pragma settings sorted by name,
// journal_mode before page_size, which is why this is done here).
func create(ctx context.Context, path string, pageSize int) error {
	if fi, err := os.Stat(path); err == nil && fi.Size() > 0 || err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil // an existing database, or one Open will report on
	}
	c, err := OpenConn(ctx, "file:"+escaper.Replace(path)+"?_pragma=busy_timeout(5000)&_pragma=page_size("+
		strconv.Itoa(pageSize)+")&_pragma=journal_mode(WAL)")
	if err != nil {
		return err
	}
	return c.Close()
}

// OpenMemory opens a private in-memory database served by exactly one
// connection that is never recycled (closing it would drop the data).
// Callers must not hold a *sql.Rows open while issuing another statement
// on the same *sql.DB: with one connection that would wait forever.
func OpenMemory(ctx context.Context) (*sql.DB, error) {
	return OpenMemoryDSN(ctx, MemoryDSN())
}

// OpenMemoryDSN is OpenMemory for the database of dsn, from MemoryDSN, so
// that the caller can open a Conn on the same database.
func OpenMemoryDSN(ctx context.Context, dsn string) (*sql.DB, error) {
	db, err := sql.Open(DriverName, dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// VersionError reports a database whose schema is newer than the
// migrations this binary carries.
type VersionError struct {
	Have  int // the database's user_version
	Known int // the newest version this binary knows
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("database schema version %d is newer than this program knows (%d); use a newer yieldvault", e.Have, e.Known)
}

// Migration is one schema step, read from a file named NNNN_name.sql.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations reads the migration files in dir of fsys. Files must be named
// NNNN_description.sql with versions 1, 2, 3 ... without holes.
func Migrations(fsys fs.FS, dir string) ([]Migration, error) {
	ents, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var ms []Migration
	for _, e := range ents {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration file %s is not named NNNN_name.sql", e.Name())
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: v, Name: e.Name(), SQL: string(b)})
	}
	slices.SortFunc(ms, func(a, b Migration) int { return a.Version - b.Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration %s: want version %d (versions must run 1, 2, 3 ... without holes or repeats)", m.Name, i+1)
		}
	}
	return ms, nil
}

// Migrate brings db's schema up to the newest of ms in one transaction and
// returns the versions before and after. A database at a version newer than
// the newest of ms is refused with a *VersionError and left untouched.
func Migrate(ctx context.Context, db *sql.DB, ms []Migration) (from, to int, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&from); err != nil {
		return 0, 0, err
	}
	known := len(ms)
	if from > known {
		return from, from, &VersionError{Have: from, Known: known}
	}
	if from == known {
		return from, from, nil
	}
	for _, m := range ms[from:] {
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return from, from, fmt.Errorf("migration %s: %w", m.Name, err)
		}
	}
	// PRAGMA does not take parameters; known is an int we control.
	if _, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(known)); err != nil {
		return from, from, err
	}
	if err := tx.Commit(); err != nil {
		return from, from, err
	}
	return from, known, nil
}

// Each runs query on conn with args and calls fn with every result row as
// driver values (int64, float64, string, []byte or nil), without the
// per-column conversions of sql.Rows.Scan. The row slice is reused between
// calls. It is the hot-path reader for columnar loads.
func Each(ctx context.Context, conn *sql.Conn, query string, args []any, fn func(row []driver.Value) error) error {
	return conn.Raw(func(dc any) error {
		q, ok := dc.(driver.QueryerContext)
		if !ok {
			return fmt.Errorf("sqlitex: driver connection %T cannot run queries directly", dc)
		}
		nv := make([]driver.NamedValue, len(args))
		for i, a := range args {
			nv[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
		}
		rows, err := q.QueryContext(ctx, query, nv)
		if err != nil {
			return err
		}
		defer rows.Close()
		dest := make([]driver.Value, len(rows.Columns()))
		for {
			if err := rows.Next(dest); err != nil {
				if err == io.EOF {
					return nil
				}
				return err
			}
			if err := fn(dest); err != nil {
				return err
			}
		}
	})
}
