// Package pgtest gives a test a PostgreSQL schema of its own on the server
// named by YIELDVAULT_TEST_POSTGRES (.ci/run starts one with
// scripts/postgres.sh and exports its URL). Without the variable a test
// skips, saying so; under CI=true it fails instead, so that CI never
// passes with the PostgreSQL tests silently left out.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// Env names the server's URL.
const Env = "YIELDVAULT_TEST_POSTGRES"

// URL returns the URL of a fresh, empty schema (search_path set to it)
// on the test server, dropped when the test ends.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(Env)
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %s is not set: .ci/run starts PostgreSQL (scripts/postgres.sh) and exports it", Env)
		}
		t.Skipf("%s is not set: skipping the PostgreSQL store (source scripts/postgres.sh to start a throwaway server)", Env)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("%s: %v", Env, err)
	}
	defer db.Close()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "yvtest_" + hex.EncodeToString(b[:])
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("%s: creating a schema: %v", Env, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", Env, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// EachStore runs run as two subtests, one per state store: "sqlite" with
// the SQLite file state.db (relative to the service's folder) and
// "postgres" with URL's fresh schema.
func EachStore(t *testing.T, run func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) { run(t, "state.db") })
	t.Run("postgres", func(t *testing.T) { run(t, URL(t)) })
}
