package service

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/internal/sqlitex"
)

// writeLockKey is the transaction-level advisory lock every write
// transaction takes on PostgreSQL: one writer at a time across every
// instance sharing the database, as SQLite's write lock gives on a file
// ("yvstate" in ASCII).
const writeLockKey = 0x7976737461746500

// pgDriver is the store on PostgreSQL, through pgx (its database/sql
// driver, so that the store's code is one for both databases).
type pgDriver struct{}

func (pgDriver) name() string { return "postgres" }

// rebind turns ? placeholders into $1, $2, ... outside quoted strings and
// identifiers.
func (pgDriver) rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func (pgDriver) beginWrite(ctx context.Context, db *sql.DB) (*sql.Tx, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(writeLockKey)); err != nil {
		tx.Rollback()
		return nil, err
	}
	return tx, nil
}

func (pgDriver) isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

func (pgDriver) isBusy(err error) bool {
	var pe *pgconn.PgError
	// lock_not_available (a lock_timeout), query_canceled (a statement
	// timeout or the context's deadline).
	return errors.As(err, &pe) && (pe.Code == "55P03" || pe.Code == "57014")
}

// RedactURL is a PostgreSQL URL without its password, for messages.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "postgres://(an unparsable URL)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// openPostgres opens the store on the PostgreSQL database at rawURL (a
// pool of connections; the schema's tables in the URL's search_path) and
// migrates it.
func openPostgres(ctx context.Context, st *Store, rawURL string) (*Store, error) {
	const op = "service.OpenStore"
	where := RedactURL(rawURL)
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		return nil, &adapters.Error{Op: op, Kind: adapters.KindInvalid, Pos: where, Err: errors.New("not a PostgreSQL URL (postgres://USER@HOST:PORT/DATABASE?sslmode=...)")}
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "yieldvault"
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, &adapters.Error{Op: op, Kind: adapters.KindOther, Pos: where, Err: err}
	}
	st.db, st.drv = db, pgDriver{}
	if err := migratePostgres(ctx, db); err != nil {
		db.Close()
		return nil, &adapters.Error{Op: op, Kind: adapters.KindOther, Pos: where, Err: err}
	}
	return st, nil
}

// postgresMigrations are the schema's migrations on PostgreSQL, one for
// each of SQLite's (migrations/postgres/NNNN_*.sql, the same numbers and
// meanings).
func postgresMigrations() ([]sqlitex.Migration, error) {
	sub, err := fs.Sub(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	return sqlitex.Migrations(sub, "postgres")
}

// migratePostgres brings the schema up to date in one transaction under
// the write lock (instances starting together migrate once); the version
// is the row of schema_version. A schema newer than this binary knows is
// refused and left alone.
func migratePostgres(ctx context.Context, db *sql.DB) error {
	ms, err := postgresMigrations()
	if err != nil {
		return err
	}
	tx, err := pgDriver{}.beginWrite(ctx, db)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"); err != nil {
		return err
	}
	var have int
	err = tx.QueryRowContext(ctx, "SELECT version FROM schema_version").Scan(&have)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_version (version) VALUES (0)"); err != nil {
			return err
		}
	case err != nil:
		return err
	}
	if have > len(ms) {
		return &sqlitex.VersionError{Have: have, Known: len(ms)}
	}
	for _, m := range ms[have:] {
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("migration postgres/%s: %w", m.Name, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE schema_version SET version = $1", len(ms)); err != nil {
		return err
	}
	return tx.Commit()
}
