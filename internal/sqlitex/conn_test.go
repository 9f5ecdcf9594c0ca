package sqlitex

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func openConn(t *testing.T, dsn string) *Conn {
	t.Helper()
	c, err := OpenConn(context.Background(), dsn)
	if err != nil {
		t.Fatalf("OpenConn(%s): %v", dsn, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// pragmaInt runs "PRAGMA name" on c and returns its integer value.
func pragmaInt(t *testing.T, c *Conn, name string) int64 {
	t.Helper()
	s, err := c.Prepare("PRAGMA " + name)
	if err != nil {
		t.Fatal(err)
	}
	more, err := s.Step()
	if err != nil || !more {
		t.Fatalf("PRAGMA %s: row %v, err %v", name, more, err)
	}
	v := s.ColumnInt64(0)
	s.Reset()
	return v
}

func TestOpenConn_Settings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := openConn(t, DSN(path, WithPragma("synchronous(NORMAL)")))
	tests := []struct {
		pragma string
		want   int64
	}{
		{"busy_timeout", 5000},
		{"foreign_keys", 1},
		{"synchronous", 1},
	}
	for _, tc := range tests {
		if got := pragmaInt(t, c, tc.pragma); got != tc.want {
			t.Errorf("PRAGMA %s = %d, want %d", tc.pragma, got, tc.want)
		}
	}
	// _txlock=immediate: Begin takes the write lock at once, so another
	// connection cannot begin a write transaction.
	if err := c.Begin(); err != nil {
		t.Fatal(err)
	}
	other := openConn(t, "file:"+path+"?_pragma=busy_timeout(1)&_txlock=immediate")
	var se *Error
	if err := other.Begin(); !errors.As(err, &se) || se.Code&0xff != 5 {
		t.Errorf("second Begin during an immediate transaction = %v, want SQLITE_BUSY (5)", err)
	}
	if err := c.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := c.Rollback(); err != nil {
		t.Errorf("Rollback without a transaction = %v, want nil", err)
	}
	if err := other.Begin(); err != nil {
		t.Errorf("Begin after the first transaction ended = %v", err)
	}
}

func TestOpenConn_BadDSN(t *testing.T) {
	for _, dsn := range []string{
		"/no/file/prefix.db",
		"file:x.db?_txlock=sometimes",
		"file:" + filepath.Join(t.TempDir(), "p.db") + "?_pragma=no_such_thing(((",
		"file:" + filepath.Join(t.TempDir(), "missing", "dir", "p.db"),
	} {
		if c, err := OpenConn(context.Background(), dsn); err == nil {
			c.Close()
			t.Errorf("OpenConn(%q) = nil error, want one", dsn)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := OpenConn(ctx, MemoryDSN()); !errors.Is(err, context.Canceled) {
		t.Errorf("OpenConn(cancelled) = %v, want context.Canceled", err)
	}
}

type kind string

func TestConn_BindAndScan(t *testing.T) {
	c := openConn(t, MemoryDSN())
	if err := c.Exec("CREATE TABLE t(i INTEGER, f REAL, s TEXT, b INTEGER, n INTEGER)"); err != nil {
		t.Fatal(err)
	}
	ins := "INSERT INTO t VALUES (?, ?, ?, ?, ?)"
	if err := c.Exec(ins, int64(1)<<40, 0.1, "héllo, wörld", true, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Exec(ins, 7, -2.5, "", false, nil); err != nil {
		t.Fatal(err)
	}
	s, err := c.Prepare("SELECT i, f, s, b, n FROM t ORDER BY i DESC")
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		I   int64
		F   float64
		S   kind
		B   int
		N   sql.NullInt64
		Any any
	}
	var got []row
	for {
		more, err := s.Step()
		if err != nil {
			t.Fatal(err)
		}
		if !more {
			break
		}
		var r row
		if err := s.Scan(&r.I, &r.F, &r.S, &r.B, &r.N); err != nil {
			t.Fatal(err)
		}
		r.Any = s.Column(2)
		got = append(got, r)
	}
	want := []row{
		{I: 1 << 40, F: 0.1, S: "héllo, wörld", B: 1, Any: "héllo, wörld"},
		{I: 7, F: -2.5, S: "", B: 0, Any: ""}, // the empty string is text, not NULL
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}

	// NULL into a plain integer, too few destinations, bad arguments.
	s, err = c.Prepare("SELECT n, i FROM t")
	if err != nil {
		t.Fatal(err)
	}
	if more, err := s.Step(); !more || err != nil {
		t.Fatalf("Step = %v, %v", more, err)
	}
	var n, i int64
	if err := s.Scan(&n, &i); err == nil {
		t.Error("Scan(NULL into *int64) = nil, want an error")
	}
	if err := s.Scan(&n); err == nil {
		t.Error("Scan of one value from two columns = nil, want an error")
	}
	s.Reset()
	if err := c.Exec(ins, 1, 2); err == nil || !strings.Contains(err.Error(), "2 arguments for 5 parameters") {
		t.Errorf("Exec with too few arguments = %v", err)
	}
	if err := c.Exec(ins, 1, 2, 3, 4, time.Second); err == nil || !strings.Contains(err.Error(), "cannot bind") {
		t.Errorf("Exec with a time.Duration = %v", err)
	}
}

func TestConn_PrepareAndExec(t *testing.T) {
	c := openConn(t, MemoryDSN())
	if _, err := c.Prepare("SELEC 1"); err == nil || !strings.Contains(err.Error(), "syntax error") {
		t.Errorf("Prepare(bad SQL) = %v, want a syntax error", err)
	}
	if _, err := c.Prepare("SELECT 1; SELECT 2"); !errors.Is(err, errMulti) {
		t.Errorf("Prepare(two statements) = %v, want errMulti", err)
	}
	// Exec runs a script of several statements when given no arguments.
	if err := c.Exec("CREATE TABLE a(x); INSERT INTO a VALUES (1), (2);"); err != nil {
		t.Fatal(err)
	}
	s1, _ := c.Prepare("SELECT COUNT(*) FROM a")
	s2, _ := c.Prepare("SELECT COUNT(*) FROM a")
	if s1 != s2 {
		t.Error("Prepare of the same text twice gave two statements, want the cached one")
	}
	if got := pragmaInt(t, c, "user_version"); got != 0 {
		t.Errorf("user_version = %d", got)
	}
	if err := c.Exec("INSERT INTO a VALUES (?)", 3); err != nil {
		t.Fatal(err)
	}
	if got := c.Changes(); got != 1 {
		t.Errorf("Changes = %d, want 1", got)
	}
	if err := c.Exec("INSERT INTO nowhere VALUES (1)"); err == nil {
		t.Error("Exec into a missing table = nil, want an error")
	}
	c.Close()
	if _, err := c.Prepare("SELECT 2"); err == nil {
		t.Error("Prepare after Close = nil, want an error")
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestConn_Watch(t *testing.T) {
	c := openConn(t, MemoryDSN())
	ctx, cancel := context.WithCancel(context.Background())
	stop := c.Watch(ctx)
	defer stop()
	time.AfterFunc(50*time.Millisecond, cancel)
	// Counts far beyond 50ms of work unless interrupted.
	err := c.Exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000000000) SELECT COUNT(*) FROM n")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Exec during a cancelled context = %v, want context.Canceled", err)
	}
	// The connection works afterwards.
	if got := pragmaInt(t, c, "busy_timeout"); got != 5000 {
		t.Errorf("busy_timeout after the interrupt = %d", got)
	}
}

// TestConn_SharesMemoryDatabase: a Conn on a MemoryDSN sees and changes
// the database of the pool opened with the same DSN.
func TestConn_SharesMemoryDatabase(t *testing.T) {
	ctx := context.Background()
	dsn := MemoryDSN()
	db, err := OpenMemoryDSN(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE TABLE t(x); INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	c := openConn(t, dsn)
	if err := c.Begin(); err != nil {
		t.Fatal(err)
	}
	if err := c.Exec("INSERT INTO t VALUES (?)", 2); err != nil {
		t.Fatal(err)
	}
	if err := c.Commit(); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRow("SELECT SUM(x) FROM t").Scan(&n); err != nil || n != 3 {
		t.Errorf("pool sees SUM(x) = %d (err %v), want 3", n, err)
	}
	// Another memory database is another database.
	other := openConn(t, MemoryDSN())
	if err := other.Exec("SELECT x FROM t"); err == nil {
		t.Error("a second memory database has table t, want it private")
	}
}

func TestOpen_PageSize(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "p.db")
	pageSize := func(o ...Option) (int, string) {
		db, err := Open(ctx, path, o...)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec("CREATE TABLE IF NOT EXISTS t(x)"); err != nil {
			t.Fatal(err)
		}
		var n int
		var mode string
		if err := db.QueryRow("PRAGMA page_size").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		return n, mode
	}
	if n, mode := pageSize(WithPageSize(16384)); n != 16384 || mode != "wal" {
		t.Errorf("new file: page_size %d, journal_mode %s; want 16384, wal", n, mode)
	}
	if n, _ := pageSize(WithPageSize(65536)); n != 16384 {
		t.Errorf("existing file reopened with another page size: page_size %d, want 16384 kept", n)
	}
}

func TestDSN_Pragmas(t *testing.T) {
	got := DSN("/tmp/h.db", WithPragma("synchronous(NORMAL)"), WithPageSize(4096))
	want := "file:/tmp/h.db?" + Pragmas + "&_pragma=synchronous%28NORMAL%29"
	if got != want {
		t.Errorf("DSN = %q, want %q", got, want)
	}
}
