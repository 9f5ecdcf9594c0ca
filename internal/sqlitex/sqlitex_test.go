package sqlitex

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestDSN(t *testing.T) {
	tests := []struct{ path, want string }{
		{"/tmp/h.db", "file:/tmp/h.db?" + Pragmas},
		{"rel/h.db", "file:rel/h.db?" + Pragmas},
		{"/tmp/what?#100%.db", "file:/tmp/what%3f%23100%25.db?" + Pragmas},
	}
	for _, tc := range tests {
		if got := DSN(tc.path); got != tc.want {
			t.Errorf("DSN(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
}

// TestDSN_BusyTimeout: WithBusyTimeout replaces the five-second wait
// (a second busy_timeout pragma would run in no set order), and a
// connection opened with it has that timeout.
func TestDSN_BusyTimeout(t *testing.T) {
	dsn := DSN("/tmp/h.db", WithBusyTimeout(250))
	if strings.Count(dsn, "busy_timeout") != 1 || !strings.Contains(dsn, "busy_timeout(250)") {
		t.Errorf("DSN = %q, want one busy_timeout(250)", dsn)
	}
	db, err := sql.Open(DriverName, DSN(filepath.Join(t.TempDir(), "b.db"), WithBusyTimeout(250)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ms int
	if err := db.QueryRow("PRAGMA busy_timeout").Scan(&ms); err != nil || ms != 250 {
		t.Errorf("busy_timeout = %d (%v), want 250", ms, err)
	}
}

func TestOpen_Pragmas(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "odd?#%name.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	var fk, busy int
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow("PRAGMA busy_timeout").Scan(&busy); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" || fk != 1 || busy != 5000 {
		t.Errorf("journal_mode, foreign_keys, busy_timeout = %s, %d, %d; want wal, 1, 5000", mode, fk, busy)
	}
	if _, err := db.Exec("CREATE TABLE t(x)"); err != nil {
		t.Fatal(err)
	}
	// The file is where the path says, special characters and all.
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file: %v", err)
	}
	db2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	var n int
	if err := db2.QueryRow("SELECT COUNT(*) FROM sqlite_schema WHERE name = 't'").Scan(&n); err != nil || n != 1 {
		t.Errorf("second open sees %d tables named t (err %v), want 1: the path was not escaped consistently", n, err)
	}
}

func TestOpenMemory_Private(t *testing.T) {
	ctx := context.Background()
	a, err := OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := a.Exec("CREATE TABLE only_in_a(x)"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := b.QueryRow("SELECT COUNT(*) FROM sqlite_schema WHERE name = 'only_in_a'").Scan(&n); err != nil || n != 0 {
		t.Errorf("second memory database sees the first's table (n=%d, err %v)", n, err)
	}
	if err := a.QueryRow("SELECT COUNT(*) FROM sqlite_schema WHERE name = 'only_in_a'").Scan(&n); err != nil || n != 1 {
		t.Errorf("memory database lost its table (n=%d, err %v)", n, err)
	}
}

func TestMigrations(t *testing.T) {
	tests := []struct {
		name    string
		files   fstest.MapFS
		want    []int
		wantErr string
	}{
		{"ordered", fstest.MapFS{
			"m/0002_b.sql": {Data: []byte("B")}, "m/0001_a.sql": {Data: []byte("A")}, "m/README": {Data: []byte("x")},
		}, []int{1, 2}, ""},
		{"hole", fstest.MapFS{"m/0001_a.sql": {Data: []byte("A")}, "m/0003_c.sql": {Data: []byte("C")}}, nil, "want version 2"},
		{"repeat", fstest.MapFS{"m/0001_a.sql": {Data: []byte("A")}, "m/1_b.sql": {Data: []byte("B")}}, nil, "want version 2"},
		{"bad name", fstest.MapFS{"m/init.sql": {Data: []byte("A")}}, nil, "not named NNNN_name.sql"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := Migrations(tc.files, "m")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, m := range ms {
				got = append(got, m.Version)
			}
			if !cmp.Equal(got, tc.want) {
				t.Errorf("versions = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMigrate(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ms := []Migration{
		{1, "0001_a.sql", "CREATE TABLE a(x); INSERT INTO a VALUES (1);"},
		{2, "0002_b.sql", "CREATE TABLE b(x);"},
	}
	if from, to, err := Migrate(ctx, db, ms[:1]); err != nil || from != 0 || to != 1 {
		t.Fatalf("Migrate to 1 = %d, %d, %v; want 0, 1, nil", from, to, err)
	}
	if from, to, err := Migrate(ctx, db, ms); err != nil || from != 1 || to != 2 {
		t.Fatalf("Migrate to 2 = %d, %d, %v; want 1, 2, nil", from, to, err)
	}
	if from, to, err := Migrate(ctx, db, ms); err != nil || from != 2 || to != 2 {
		t.Fatalf("Migrate again = %d, %d, %v; want 2, 2, nil", from, to, err)
	}
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM a").Scan(&n); err != nil || n != 1 {
		t.Errorf("rows in a = %d (err %v), want 1: a migration ran twice", n, err)
	}
	// An older binary refuses the newer database.
	_, _, err = Migrate(ctx, db, ms[:1])
	var ve *VersionError
	if !errors.As(err, &ve) || ve.Have != 2 || ve.Known != 1 {
		t.Errorf("Migrate with fewer migrations error = %v, want VersionError{2, 1}", err)
	}
	// A failing migration leaves nothing behind.
	bad := append(ms, Migration{3, "0003_bad.sql", "CREATE TABLE c(x); THIS IS NOT SQL;"})
	if _, _, err := Migrate(ctx, db, bad); err == nil || !strings.Contains(err.Error(), "0003_bad.sql") {
		t.Errorf("bad migration error = %v, want one naming 0003_bad.sql", err)
	}
	var v int
	if err := db.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != 2 {
		t.Errorf("user_version after failed migration = %d (err %v), want 2", v, err)
	}
	if err := db.QueryRow("SELECT COUNT(*) FROM sqlite_schema WHERE name = 'c'").Scan(&n); err != nil || n != 0 {
		t.Errorf("failed migration left table c behind (n=%d, err %v)", n, err)
	}
}

func TestEach(t *testing.T) {
	ctx := context.Background()
	db, err := OpenMemory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE TABLE t(i INTEGER, f REAL, s TEXT); INSERT INTO t VALUES (1, 1.5, 'a'), (2, NULL, 'b')"); err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var got [][]driver.Value
	err = Each(ctx, conn, "SELECT i, f, s FROM t WHERE i >= ? ORDER BY i", []any{int64(1)}, func(row []driver.Value) error {
		got = append(got, append([]driver.Value(nil), row...))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]driver.Value{{int64(1), 1.5, "a"}, {int64(2), nil, "b"}}
	if !cmp.Equal(got, want) {
		t.Errorf("Each rows = %v, want %v", got, want)
	}
	stop := errors.New("stop")
	n := 0
	err = Each(ctx, conn, "SELECT i FROM t", nil, func([]driver.Value) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("Each with a failing callback = %v after %d rows, want stop after 1", err, n)
	}
	if err := Each(ctx, conn, "SELECT nope FROM t", nil, func([]driver.Value) error { return nil }); err == nil {
		t.Error("Each(bad SQL) = nil, want an error")
	}
}
