// Package history is yieldvault's market history: a SQLite database of
// markets, their observations over time and their events, the checks that
// guard it, and the project's own CSV format. Importers of outside formats
// live in history/importers and the synthetic generator in history/synth;
// both produce a *Batch that DB.Write stores.
//
// # Schema
//
// The schema is created by the embedded migrations in migrations/ (one
// transaction, version kept in PRAGMA user_version; a database of a newer
// version than the program knows is refused rather than misread):
//
//   - markets: one row per market: an integer key pk, the public id
//     ("lido/steth"), kind, base, protocol, token, name, tags and params
//     (JSON), and a summary kept by Write (row count, first and last time,
//     a bit set of the fields ever observed, the median step between
//     rows) so that listing and loading need no scan.
//   - observations: one row per market per second, PRIMARY KEY(market_id,
//     ts) WITHOUT ROWID, so a market's rows lie together in time order on
//     disk. ts is unix seconds, UTC (fractions of a second are truncated).
//     There is one nullable REAL column per adapters.Field, named by
//     Field.String(); NULL means "not observed".
//   - events: slash, depeg, pause ... (market, time, type, size, scope,
//     note), unique on (market, time, type, scope).
//   - imports: the import log: source, format, a SHA-256 digest of the
//     batch's canonical content, counts, and the time of import (NULL when
//     the DB was opened without a clock: library code never reads the wall
//     clock).
//
// File databases use WAL, a five-second busy timeout, foreign keys and
// immediate write transactions (see internal/sqlitex). Files that Open
// creates get 64 KiB pages (a shallower B-tree and fewer WAL frames to
// write on import, fewer pages to read on load). Connections run with synchronous=NORMAL:
// in WAL mode the log is synced at checkpoints rather than at every
// commit, so a power loss or OS crash can lose the most recent imports
// (import them again) but never corrupts the database, and a crash of the
// process alone loses nothing committed. OpenMemory gives an in-memory
// database with the same schema, private to the DB.
//
// # Writing and merge semantics
//
// DB.Write stores a Batch in one transaction: all of it or nothing. It runs
// CheckBatch first: NaN, infinite and out-of-range values, malformed market
// IDs and conflicting duplicates are errors naming "source:line" and the
// field; gaps, out-of-order rows and harmless duplicates are warnings, and
// rows are stored in time order whatever their order in the batch.
//
// An observation whose (market, time) is already stored is merged field by
// field, as ON CONFLICT(market_id, ts) DO UPDATE SET col =
// COALESCE(excluded.col, col): a field the batch carries replaces the
// stored value and a field it lacks keeps the stored one. Several files can
// therefore contribute different fields of the same observation (a price
// file and an APY file of the same market). Write counts each distinct
// observation as Inserted, Updated (some field changed) or Unchanged, so
// importing the same file twice reports every row Unchanged and changes
// nothing.
//
// Write runs on a SQLite connection of its own, made below database/sql
// (sqlitex.Conn), which binds values straight into multi-row INSERT
// statements. It reads stored rows only for the blocks of a market whose
// time span overlaps what is stored, so a new market or an append reads
// nothing. Foreign keys are not checked on that connection: Write resolves
// every market key itself in the same transaction.
//
// # Loading and forward fill
//
// DB.Load reads markets over a time range into an adapters.Window of
// columnar adapters.Series, sorted by time, with events attached. Load
// forward-fills each series within the loaded range: a field a row does not
// observe takes the latest earlier value of that field in the range, and
// the row's Set then includes it, so consumers (strategies, the backtest
// engine) always see the latest known value of every field. Before its
// first observation in the range a field stays unset.
//
// # Native CSV
//
// WriteNativeCSV and ReadNativeCSV read and write the project's own CSV:
// the header market,time,<every field name>, times in RFC 3339 UTC, an
// empty cell for a field not observed, and values in Go's shortest
// round-trip form, so a write and a read give back the same float64s.
// ReadNativeCSV parses blocks of lines on every processor (GOMAXPROCS),
// and Write packs rows into bind arguments on one goroutine while its
// connection inserts on another; both give exactly the results and
// errors of doing the work in order.
package history
