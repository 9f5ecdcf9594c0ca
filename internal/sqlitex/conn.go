package sqlitex

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// Conn is one connection to a SQLite database made directly through the
// SQLite library that the "sqlite" driver wraps (modernc.org/sqlite/lib),
// below database/sql: values are bound straight into prepared statements
// and read straight out of them, with no boxing into interfaces, no
// argument conversion and no per-call driver bookkeeping. It is for bulk
// paths (importing or loading hundreds of thousands of rows); everything
// else should use the *sql.DB of Open.
//
// A Conn sees the same database as the *sql.DB opened with the same DSN
// (for an in-memory database, see MemoryDSN) and takes part in SQLite's
// locking like any other connection. It is not safe for concurrent use:
// one goroutine at a time, except Interrupt and the context watch of
// Watch.
type Conn struct {
	tls    *libc.TLS
	db     uintptr
	txlock string // BEGIN's locking mode: "", "IMMEDIATE" or "EXCLUSIVE"
	stmts  map[string]*Stmt

	mu     sync.Mutex // guards db against Interrupt racing Close
	closed bool
	ctx    context.Context // the watched context, for errors of interrupted statements
}

// Error is a SQLite error of a Conn.
type Error struct {
	Code int    // the extended result code
	Msg  string // sqlite3_errmsg, or the code's description
}

func (e *Error) Error() string { return fmt.Sprintf("sqlite: %s (%d)", e.Msg, e.Code) }

// sqliteTransient tells sqlite3_bind_text to copy the text.
const sqliteTransient = ^uintptr(0)

// OpenConn opens a Conn on dsn, a "file:" data source name as DSN and
// MemoryDSN return: the URI goes to SQLite as it is, the _pragma
// parameters run on the new connection in the order given, and _txlock
// sets the locking mode of Begin. The connection is opened
// SQLITE_OPEN_NOMUTEX: SQLite takes no mutex per call, since a Conn is
// used by one goroutine at a time.
func OpenConn(ctx context.Context, dsn string) (*Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(dsn, "file:") {
		return nil, fmt.Errorf("sqlitex: OpenConn wants a file: URI, got %q", dsn)
	}
	var pragmas []string
	txlock := ""
	if _, query, ok := strings.Cut(dsn, "?"); ok {
		q, err := url.ParseQuery(query)
		if err != nil {
			return nil, fmt.Errorf("sqlitex: DSN %q: %w", dsn, err)
		}
		pragmas = q["_pragma"]
		switch l := strings.ToUpper(q.Get("_txlock")); l {
		case "", "DEFERRED":
		case "IMMEDIATE", "EXCLUSIVE":
			txlock = l
		default:
			return nil, fmt.Errorf("sqlitex: DSN %q: unknown _txlock %q", dsn, l)
		}
	}
	c := &Conn{tls: libc.NewTLS(), txlock: txlock, stmts: map[string]*Stmt{}}
	name, err := libc.CString(dsn)
	if err != nil {
		c.tls.Close()
		return nil, err
	}
	pp := c.tls.Alloc(ptrSize)
	rc := sqlite3.Xsqlite3_open_v2(c.tls, name, pp,
		sqlite3.SQLITE_OPEN_READWRITE|sqlite3.SQLITE_OPEN_CREATE|sqlite3.SQLITE_OPEN_URI|sqlite3.SQLITE_OPEN_NOMUTEX, 0)
	c.db = readPtr(pp)
	c.tls.Free(ptrSize)
	libc.Xfree(c.tls, name)
	if rc != sqlite3.SQLITE_OK {
		err := c.errorOf(rc)
		c.Close()
		return nil, err
	}
	sqlite3.Xsqlite3_extended_result_codes(c.tls, c.db, 1)
	for _, p := range pragmas {
		if err := c.Exec("PRAGMA " + p); err != nil {
			c.Close()
			return nil, fmt.Errorf("sqlitex: PRAGMA %s: %w", p, err)
		}
	}
	return c, nil
}

const ptrSize = int(unsafe.Sizeof(uintptr(0)))

// readPtr reads the pointer that SQLite stored at p (an out parameter).
func readPtr(p uintptr) uintptr {
	b := libc.GoBytes(p, ptrSize)
	if ptrSize == 8 {
		return uintptr(binary.NativeEndian.Uint64(b))
	}
	return uintptr(binary.NativeEndian.Uint32(b))
}

// errorOf turns a result code into an error: the watched context's error
// when the statement was interrupted because the context ended, else an
// *Error with SQLite's message.
func (c *Conn) errorOf(rc int32) error {
	if rc&0xff == sqlite3.SQLITE_INTERRUPT && c.ctx != nil && c.ctx.Err() != nil {
		return c.ctx.Err()
	}
	msg := ""
	if c.db != 0 {
		msg = libc.GoString(sqlite3.Xsqlite3_errmsg(c.tls, c.db))
	}
	if msg == "" {
		msg = libc.GoString(sqlite3.Xsqlite3_errstr(c.tls, rc))
	}
	return &Error{Code: int(rc), Msg: msg}
}

// Watch interrupts the statement running on c when ctx ends, and makes
// that statement fail with ctx's error. Call the returned function to stop
// watching (before the next Watch, and before Close).
func (c *Conn) Watch(ctx context.Context) (stop func()) {
	c.ctx = ctx
	s := context.AfterFunc(ctx, c.Interrupt)
	return func() {
		s()
		c.ctx = nil
	}
}

// Interrupt makes the statement running on c, if any, fail with
// SQLITE_INTERRUPT. It is safe to call from any goroutine.
func (c *Conn) Interrupt() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.db == 0 {
		return
	}
	// A fresh TLS: c.tls belongs to the goroutine running the statement.
	tls := libc.NewTLS()
	sqlite3.Xsqlite3_interrupt(tls, c.db)
	tls.Close()
}

// Close finalizes c's statements and closes the connection (rolling back
// an open transaction).
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	for _, s := range c.stmts {
		sqlite3.Xsqlite3_finalize(c.tls, s.p)
		s.p = 0
	}
	c.stmts = nil
	var err error
	if c.db != 0 {
		if rc := sqlite3.Xsqlite3_close_v2(c.tls, c.db); rc != sqlite3.SQLITE_OK {
			err = c.errorOf(rc)
		}
		c.db = 0
	}
	c.tls.Close()
	return err
}

// Prepare returns the prepared statement of query, one statement of SQL.
// Statements are cached by query text and live until c is closed, so
// calling Prepare again with the same text returns the same *Stmt (which
// must not then be in use).
func (c *Conn) Prepare(query string) (*Stmt, error) {
	if s := c.stmts[query]; s != nil {
		return s, nil
	}
	if c.closed {
		return nil, errors.New("sqlitex: connection is closed")
	}
	z, err := libc.CString(query)
	if err != nil {
		return nil, err
	}
	defer libc.Xfree(c.tls, z)
	pp := c.tls.Alloc(2 * ptrSize)
	defer c.tls.Free(2 * ptrSize)
	rc := sqlite3.Xsqlite3_prepare_v3(c.tls, c.db, z, -1, sqlite3.SQLITE_PREPARE_PERSISTENT, pp, pp+uintptr(ptrSize))
	p, tail := readPtr(pp), readPtr(pp+uintptr(ptrSize))
	if rc != sqlite3.SQLITE_OK {
		return nil, fmt.Errorf("%w in %s", c.errorOf(rc), abbrev(query))
	}
	if p == 0 {
		return nil, fmt.Errorf("sqlitex: no statement in %q", abbrev(query))
	}
	if rest := strings.TrimSpace(libc.GoString(tail)); rest != "" && rest != ";" {
		sqlite3.Xsqlite3_finalize(c.tls, p)
		return nil, fmt.Errorf("%w in %q", errMulti, abbrev(query))
	}
	s := &Stmt{c: c, p: p, query: query, nparams: int(sqlite3.Xsqlite3_bind_parameter_count(c.tls, p)),
		ncols: int(sqlite3.Xsqlite3_column_count(c.tls, p))}
	c.stmts[query] = s
	return s, nil
}

var errMulti = errors.New("sqlitex: more than one statement")

// abbrev shortens long SQL (multi-row inserts) for error messages.
func abbrev(q string) string {
	if len(q) > 200 {
		return q[:200] + "..."
	}
	return q
}

// Exec runs query, one statement of SQL, with args (see Stmt.Bind) to its
// end, discarding any rows. A query that holds several statements, as
// "PRAGMA a; PRAGMA b" does, runs them all, without arguments.
func (c *Conn) Exec(query string, args ...any) error {
	s, err := c.Prepare(query)
	if errors.Is(err, errMulti) && len(args) == 0 {
		return c.execScript(query)
	}
	if err != nil {
		return err
	}
	return s.Exec(args...)
}

// execScript runs several statements with sqlite3_exec.
func (c *Conn) execScript(script string) error {
	z, err := libc.CString(script)
	if err != nil {
		return err
	}
	defer libc.Xfree(c.tls, z)
	if rc := sqlite3.Xsqlite3_exec(c.tls, c.db, z, 0, 0, 0); rc != sqlite3.SQLITE_OK {
		return c.errorOf(rc)
	}
	return nil
}

// Begin starts a transaction with the DSN's _txlock mode.
func (c *Conn) Begin() error { return c.Exec("BEGIN " + c.txlock) }

// Commit commits the transaction.
func (c *Conn) Commit() error { return c.Exec("COMMIT") }

// Rollback rolls the transaction back; without a transaction it does
// nothing.
func (c *Conn) Rollback() error {
	if c.closed || sqlite3.Xsqlite3_get_autocommit(c.tls, c.db) != 0 {
		return nil
	}
	return c.Exec("ROLLBACK")
}

// Changes is the number of rows the last INSERT, UPDATE or DELETE changed.
func (c *Conn) Changes() int { return int(sqlite3.Xsqlite3_changes(c.tls, c.db)) }

// Stmt is a prepared statement of a Conn. Parameters and columns are
// numbered from 0 (the first ? is parameter 0). A bind error (an index out
// of range) is kept and returned by the next Step.
type Stmt struct {
	c       *Conn
	p       uintptr
	query   string
	nparams int
	ncols   int
	err     error
}

// NumParams is the number of parameters of s.
func (s *Stmt) NumParams() int { return s.nparams }

func (s *Stmt) bound(rc int32) {
	if rc != sqlite3.SQLITE_OK && s.err == nil {
		s.err = s.c.errorOf(rc)
	}
}

// BindInt64 binds parameter i to v.
func (s *Stmt) BindInt64(i int, v int64) {
	s.bound(sqlite3.Xsqlite3_bind_int64(s.c.tls, s.p, int32(i+1), v))
}

// BindFloat64 binds parameter i to v.
func (s *Stmt) BindFloat64(i int, v float64) {
	s.bound(sqlite3.Xsqlite3_bind_double(s.c.tls, s.p, int32(i+1), v))
}

// BindNull binds parameter i to NULL.
func (s *Stmt) BindNull(i int) {
	s.bound(sqlite3.Xsqlite3_bind_null(s.c.tls, s.p, int32(i+1)))
}

// BindText binds parameter i to v (SQLite keeps its own copy).
func (s *Stmt) BindText(i int, v string) {
	// The text goes through the TLS stack (never a NULL pointer, which
	// bind_text would take as SQL NULL), and SQLite copies it.
	n := max(len(v), 1)
	z := s.c.tls.Alloc(n)
	copy(libc.GoBytes(z, n), v)
	s.bound(sqlite3.Xsqlite3_bind_text(s.c.tls, s.p, int32(i+1), z, int32(len(v)), sqliteTransient))
	s.c.tls.Free(n)
}

// Bind binds args to parameters 0, 1, ... in order: nil, int, int64,
// float64, bool (0 or 1), string, and pointers to these types that are
// nil (NULL) or not.
func (s *Stmt) Bind(args ...any) error {
	if len(args) != s.nparams {
		return fmt.Errorf("sqlitex: %d arguments for %d parameters in %s", len(args), s.nparams, abbrev(s.query))
	}
	for i, a := range args {
		switch v := a.(type) {
		case nil:
			s.BindNull(i)
		case int:
			s.BindInt64(i, int64(v))
		case int64:
			s.BindInt64(i, v)
		case float64:
			s.BindFloat64(i, v)
		case bool:
			if v {
				s.BindInt64(i, 1)
			} else {
				s.BindInt64(i, 0)
			}
		case string:
			s.BindText(i, v)
		default:
			return fmt.Errorf("sqlitex: cannot bind %T (argument %d of %s)", a, i+1, abbrev(s.query))
		}
	}
	return nil
}

// Step runs s to its next row and reports whether there is one. At the
// end (false, nil), or on an error, s is reset for its next run.
func (s *Stmt) Step() (bool, error) {
	if s.err != nil {
		err := s.err
		s.err = nil
		s.Reset()
		return false, err
	}
	switch rc := sqlite3.Xsqlite3_step(s.c.tls, s.p); rc {
	case sqlite3.SQLITE_ROW:
		return true, nil
	case sqlite3.SQLITE_DONE:
		s.Reset()
		return false, nil
	default:
		err := s.c.errorOf(rc)
		s.Reset()
		return false, err
	}
}

// Reset makes s ready to run again; bindings are kept.
func (s *Stmt) Reset() {
	sqlite3.Xsqlite3_reset(s.c.tls, s.p)
}

// Exec binds args (when any are given; see Bind), runs s to its end and
// resets it.
func (s *Stmt) Exec(args ...any) error {
	if len(args) > 0 || s.nparams > 0 {
		if err := s.Bind(args...); err != nil {
			return err
		}
	}
	for {
		more, err := s.Step()
		if err != nil || !more {
			return err
		}
	}
}

// NumColumns is the number of result columns of s.
func (s *Stmt) NumColumns() int { return s.ncols }

// Column types, the values of Stmt.ColumnType.
const (
	TypeInteger = sqlite3.SQLITE_INTEGER
	TypeFloat   = sqlite3.SQLITE_FLOAT
	TypeText    = sqlite3.SQLITE_TEXT
	TypeBlob    = sqlite3.SQLITE_BLOB
	TypeNull    = sqlite3.SQLITE_NULL
)

// ColumnType is the type of column i of the current row: TypeInteger,
// TypeFloat, TypeText, TypeBlob or TypeNull.
func (s *Stmt) ColumnType(i int) int {
	return int(sqlite3.Xsqlite3_column_type(s.c.tls, s.p, int32(i)))
}

// ColumnNull reports whether column i of the current row is NULL.
func (s *Stmt) ColumnNull(i int) bool { return s.ColumnType(i) == TypeNull }

// ColumnInt64 is column i of the current row as an integer.
func (s *Stmt) ColumnInt64(i int) int64 { return sqlite3.Xsqlite3_column_int64(s.c.tls, s.p, int32(i)) }

// ColumnFloat64 is column i of the current row as a float.
func (s *Stmt) ColumnFloat64(i int) float64 {
	return sqlite3.Xsqlite3_column_double(s.c.tls, s.p, int32(i))
}

// ColumnText is column i of the current row as text.
func (s *Stmt) ColumnText(i int) string {
	p := sqlite3.Xsqlite3_column_text(s.c.tls, s.p, int32(i))
	n := int(sqlite3.Xsqlite3_column_bytes(s.c.tls, s.p, int32(i)))
	if p == 0 || n == 0 {
		return ""
	}
	return string(libc.GoBytes(p, n))
}

// Column is column i of the current row as a driver value: int64,
// float64, string, []byte or nil.
func (s *Stmt) Column(i int) driver.Value {
	switch sqlite3.Xsqlite3_column_type(s.c.tls, s.p, int32(i)) {
	case sqlite3.SQLITE_INTEGER:
		return s.ColumnInt64(i)
	case sqlite3.SQLITE_FLOAT:
		return s.ColumnFloat64(i)
	case sqlite3.SQLITE_TEXT:
		return s.ColumnText(i)
	case sqlite3.SQLITE_BLOB:
		p := sqlite3.Xsqlite3_column_blob(s.c.tls, s.p, int32(i))
		n := int(sqlite3.Xsqlite3_column_bytes(s.c.tls, s.p, int32(i)))
		b := make([]byte, n)
		if n > 0 {
			copy(b, libc.GoBytes(p, n))
		}
		return b
	}
	return nil
}

// Scan copies the current row's columns into dest, as sql.Row.Scan does
// for the common types: pointers to integers, floats and strings
// (including named types such as type Kind string), *any and sql.Scanner
// (sql.NullInt64 ...). A NULL into anything but *any or a Scanner is an
// error.
func (s *Stmt) Scan(dest ...any) error {
	if len(dest) != s.ncols {
		return fmt.Errorf("sqlitex: Scan of %d values from %d columns", len(dest), s.ncols)
	}
	for i, d := range dest {
		v := s.Column(i)
		switch d := d.(type) {
		case sql.Scanner:
			if err := d.Scan(v); err != nil {
				return fmt.Errorf("sqlitex: column %d: %w", i, err)
			}
			continue
		case *any:
			*d = v
			continue
		}
		if v == nil {
			return fmt.Errorf("sqlitex: column %d is NULL, cannot scan into %T", i, d)
		}
		switch d := d.(type) {
		case *int64:
			*d = s.ColumnInt64(i)
		case *int:
			n := s.ColumnInt64(i)
			if n < math.MinInt || n > math.MaxInt {
				return fmt.Errorf("sqlitex: column %d: %d overflows int", i, n)
			}
			*d = int(n)
		case *float64:
			*d = s.ColumnFloat64(i)
		case *string:
			*d = s.ColumnText(i)
		default:
			if err := s.scanReflect(i, d); err != nil {
				return err
			}
		}
	}
	return nil
}

// scanReflect stores column i into d, a pointer to a named string,
// integer or float type.
func (s *Stmt) scanReflect(i int, d any) error {
	v := reflect.ValueOf(d)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return fmt.Errorf("sqlitex: column %d: cannot scan into %T", i, d)
	}
	e := v.Elem()
	switch e.Kind() {
	case reflect.String:
		e.SetString(s.ColumnText(i))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n := s.ColumnInt64(i)
		if e.OverflowInt(n) {
			return fmt.Errorf("sqlitex: column %d: %d overflows %s", i, n, e.Type())
		}
		e.SetInt(n)
	case reflect.Float32, reflect.Float64:
		e.SetFloat(s.ColumnFloat64(i))
	default:
		return fmt.Errorf("sqlitex: column %d: cannot scan into %T", i, d)
	}
	return nil
}
