package service

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"

	"github.com/yieldvault/yieldvault/adapters"
	"github.com/yieldvault/yieldvault/internal/sqlitex"
	"github.com/yieldvault/yieldvault/vault"
	"github.com/yieldvault/yieldvault/vault/monitor"
)

//go:embed migrations/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

// ErrConflict is wrapped by errors for a commit that lost a race: the
// vault changed since the action read it, the intent is no longer
// pending, or an idempotency key was reused with a different request.
var ErrConflict = errors.New("conflict")

// ErrNotLeader is wrapped by the error of a scheduled intent journalled
// by a process that does not hold the lease (KindPaused).
var ErrNotLeader = errors.New("not the lease holder")

func conflictf(op, format string, args ...any) error {
	return &adapters.Error{Op: op, Kind: adapters.KindOther, Err: fmt.Errorf("%w: %s", ErrConflict, fmt.Sprintf(format, args...))}
}

// Store is the service's state database: vaults (state snapshots, keeper
// ticks), share balances, positions, the ledger, the decision log, the
// intent journal, the lease, and the sources' bookkeeping. One portable
// type over a small driver (storeDriver) with two implementations: SQLite
// (the embedded default: WAL mode, immediate write transactions and a
// busy timeout, internal/sqlitex) and PostgreSQL (a state_db of
// postgres://..., through pgx; store_postgres.go). Writes from one
// process are serialised by a mutex, and across processes by the
// database's write lock (SQLite's, or a transaction-level advisory lock
// on PostgreSQL), so there is one writer at a time however many
// instances share the database: the journal, lease, idempotency and
// version checks mean the same on both.
type Store struct {
	db    *sql.DB
	drv   storeDriver
	wmu   sync.Mutex
	stmts sync.Map // query -> *sql.Stmt, prepared once
	// deadline bounds every write transaction (0: none); wall times the
	// open transaction for the watchdog; onExceeded counts the writes
	// that ran out of time.
	deadline   time.Duration
	wall       func() time.Time
	onExceeded func()
	txSince    atomic.Int64 // wall ns when the open write transaction began; 0: none
}

// ErrWriteBlocked is wrapped by the error of a write that could not take
// the database's write lock, or finish, within the write deadline:
// another process holds the lock (a hung holder), or the disk stalls.
var ErrWriteBlocked = errors.New("write lock not obtained or commit not finished within the write deadline")

// StoreOption adjusts OpenStore.
type StoreOption func(*Store)

// WithWriteDeadline bounds every write transaction of the store by d:
// waiting for the write lock (SQLite's busy timeout is set to d) and the
// transaction itself (a context deadline; SQLite rolls back on it). wall
// times the open transaction for WriteOpenFor; onExceeded, when not nil,
// is called for each write that ran out of time.
func WithWriteDeadline(d time.Duration, wall func() time.Time, onExceeded func()) StoreOption {
	return func(s *Store) { s.deadline, s.wall, s.onExceeded = d, wall, onExceeded }
}

// WriteOpenFor is how long the write transaction in progress has been
// open at now (0 when none, or without WithWriteDeadline).
func (s *Store) WriteOpenFor(now time.Time) time.Duration {
	t := s.txSince.Load()
	if t == 0 {
		return 0
	}
	return now.Sub(time.Unix(0, t))
}

// prep returns the prepared statement of a query (SQLite parses each
// statement once per connection instead of at every call).
func (s *Store) prep(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := s.stmts.Load(q); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.db.PrepareContext(ctx, s.drv.rebind(q))
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.stmts.LoadOrStore(q, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// exec runs a cached statement in tx.
func (s *Store) exec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	st, err := s.prep(ctx, q)
	if err != nil {
		return nil, err
	}
	return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
}

// queryRow runs a cached query in tx, or on the database when tx is nil.
func (s *Store) queryRow(ctx context.Context, tx *sql.Tx, q string, args ...any) *sql.Row {
	st, err := s.prep(ctx, q)
	if err != nil {
		// Let Scan report it: run the unprepared query for its error.
		if tx != nil {
			return tx.QueryRowContext(ctx, s.drv.rebind(q), args...)
		}
		return s.db.QueryRowContext(ctx, s.drv.rebind(q), args...)
	}
	if tx != nil {
		st = tx.StmtContext(ctx, st)
	}
	return st.QueryRowContext(ctx, args...)
}

// query runs a query on the database (not cached).
func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return s.db.QueryContext(ctx, s.drv.rebind(q), args...)
}

// storeDriver is what differs between the store's databases: the
// placeholders, opening and migrating, beginning a write transaction
// that holds the database's single write lock, and reading errors.
type storeDriver interface {
	// name is "sqlite" or "postgres".
	name() string
	// rebind turns the store's queries (? placeholders) into the
	// database's.
	rebind(q string) string
	// beginWrite begins a transaction that holds the database's write
	// lock until it ends (waiting for it within ctx).
	beginWrite(ctx context.Context, db *sql.DB) (*sql.Tx, error)
	// isUnique reports a unique-constraint violation; isBusy a write
	// lock another connection holds.
	isUnique(err error) bool
	isBusy(err error) bool
}

// IsPostgresURL reports whether a state_db names a PostgreSQL database
// (postgres:// or postgresql://) rather than a SQLite file.
func IsPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Driver is the store's database: "sqlite" or "postgres".
func (s *Store) Driver() string { return s.drv.name() }

// sqliteDriver is the embedded default.
type sqliteDriver struct{}

func (sqliteDriver) name() string           { return "sqlite" }
func (sqliteDriver) rebind(q string) string { return q }
func (sqliteDriver) beginWrite(ctx context.Context, db *sql.DB) (*sql.Tx, error) {
	return db.BeginTx(ctx, nil) // immediate (internal/sqlitex's DSN): takes the write lock
}
func (sqliteDriver) isUnique(err error) bool { return strings.Contains(err.Error(), "UNIQUE") }
func (sqliteDriver) isBusy(err error) bool {
	return strings.Contains(err.Error(), "database is locked") || strings.Contains(err.Error(), "SQLITE_BUSY")
}

// OpenStore opens (creating when missing) the state database and
// migrates its schema: path is a SQLite file, or a PostgreSQL URL
// (postgres://user@host/db?...; IsPostgresURL) whose schema several
// instances share. syncNormal sets SQLite's synchronous=NORMAL (see
// File.Durability; PostgreSQL's durability is the server's).
func OpenStore(ctx context.Context, path string, syncNormal bool, opts ...StoreOption) (*Store, error) {
	const op = "service.OpenStore"
	if path == "" {
		return nil, adapters.E(op, adapters.KindInvalid, "empty state database path")
	}
	st := &Store{drv: sqliteDriver{}}
	for _, o := range opts {
		o(st)
	}
	if IsPostgresURL(path) {
		return openPostgres(ctx, st, path)
	}
	var dopts []sqlitex.Option
	if st.deadline > 0 {
		// Waiting for another process's write lock is bounded too (the
		// busy handler does not see the context).
		dopts = append(dopts, sqlitex.WithBusyTimeout(max(1, st.deadline.Milliseconds())))
	}
	dsn := sqlitex.DSN(path, dopts...)
	if syncNormal {
		dsn += "&_pragma=synchronous(NORMAL)"
	}
	db, err := sql.Open(sqlitex.DriverName, dsn)
	if err != nil {
		return nil, adapters.Wrap(op, adapters.KindOther, err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, &adapters.Error{Op: op, Kind: adapters.KindOther, Pos: path, Err: err}
	}
	ms, err := sqlitex.Migrations(migrationFS, "migrations")
	var have int
	if err == nil {
		// Read the version first: an up-to-date database opens without
		// the write lock, which a hung process may keep (a standby must
		// start and report it).
		err = db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have)
	}
	if err == nil && have != len(ms) {
		_, _, err = sqlitex.Migrate(ctx, db, ms)
	}
	if err != nil {
		db.Close()
		return nil, &adapters.Error{Op: op, Kind: adapters.KindOther, Pos: path, Err: err}
	}
	st.db = db
	return st, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// DB returns the underlying database (tests and tools read it; write
// their queries with ? placeholders through Rebind).
func (s *Store) DB() *sql.DB { return s.db }

// Rebind turns a query with ? placeholders into the database's own
// ($1, $2, ... on PostgreSQL).
func (s *Store) Rebind(q string) string { return s.drv.rebind(q) }

// write runs fn in one immediate transaction, one writer at a time,
// within the write deadline (WithWriteDeadline): a write that cannot take
// the lock or finish in time is rolled back and fails with
// ErrWriteBlocked.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.deadline)
		defer cancel()
	}
	tx, err := s.drv.beginWrite(ctx, s.db)
	if err != nil {
		return s.overDeadline(ctx, err)
	}
	if s.wall != nil {
		s.txSince.Store(s.wall().UnixNano())
		defer s.txSince.Store(0)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return s.overDeadline(ctx, err)
	}
	return s.overDeadline(ctx, tx.Commit())
}

// overDeadline wraps err with ErrWriteBlocked when the write ran out of
// time or found the database locked.
func (s *Store) overDeadline(ctx context.Context, err error) error {
	if err == nil || s.deadline <= 0 {
		return err
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || s.drv.isBusy(err) {
		if s.onExceeded != nil {
			s.onExceeded()
		}
		return fmt.Errorf("%w (%s): %w", ErrWriteBlocked, s.deadline, err)
	}
	return err
}

// Ticks are the last scheduled ticks a vault has done, per action.
type Ticks struct {
	Rebalance time.Time `json:"rebalance"`
	Harvest   time.Time `json:"harvest"`
	ExitCheck time.Time `json:"exit_check"`
}

// Get returns the last tick of an action.
func (t *Ticks) Get(a Action) time.Time {
	switch a {
	case ActRebalance:
		return t.Rebalance
	case ActHarvest:
		return t.Harvest
	}
	return t.ExitCheck
}

// Set records the last tick of an action.
func (t *Ticks) Set(a Action, at time.Time) {
	switch a {
	case ActRebalance:
		t.Rebalance = at
	case ActHarvest:
		t.Harvest = at
	case ActExitCheck:
		t.ExitCheck = at
	}
}

// VaultRow is a vault's committed row.
type VaultRow struct {
	ID            string
	Config        vault.Config
	State         vault.State
	Ticks         Ticks
	Version       int64
	Paused        bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
	LastHarvest   time.Time
	LastRebalance time.Time
}

func unix(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Unix()
}

func fromUnix(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(n.Int64, 0).UTC()
}

const vaultCols = "id, config_json, state_json, keeper_json, version, paused, created_at, updated_at, last_harvest, last_rebalance"

func scanVault(sc interface{ Scan(...any) error }) (VaultRow, error) {
	var r VaultRow
	var cfg, st, kp string
	var created, updated int64
	var lh, lr sql.NullInt64
	if err := sc.Scan(&r.ID, &cfg, &st, &kp, &r.Version, &r.Paused, &created, &updated, &lh, &lr); err != nil {
		return r, err
	}
	if err := json.Unmarshal([]byte(cfg), &r.Config); err != nil {
		return r, fmt.Errorf("vault %s: config: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(st), &r.State); err != nil {
		return r, fmt.Errorf("vault %s: state: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(kp), &r.Ticks); err != nil {
		return r, fmt.Errorf("vault %s: keeper: %w", r.ID, err)
	}
	r.CreatedAt, r.UpdatedAt = time.Unix(created, 0).UTC(), time.Unix(updated, 0).UTC()
	r.LastHarvest, r.LastRebalance = fromUnix(lh), fromUnix(lr)
	return r, nil
}

// Vault returns a vault's row; KindNotFound when there is none.
func (s *Store) Vault(ctx context.Context, id string) (VaultRow, error) {
	r, err := scanVault(s.queryRow(ctx, nil, "SELECT "+vaultCols+" FROM vaults WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, adapters.E("service.Vault", adapters.KindNotFound, "no vault %q", id)
	}
	if err != nil {
		return r, adapters.Wrap("service.Vault", adapters.KindOther, err)
	}
	return r, nil
}

// Vaults returns every vault's row, by ID.
func (s *Store) Vaults(ctx context.Context) ([]VaultRow, error) {
	rows, err := s.query(ctx, "SELECT "+vaultCols+" FROM vaults ORDER BY id")
	if err != nil {
		return nil, adapters.Wrap("service.Vaults", adapters.KindOther, err)
	}
	defer rows.Close()
	var out []VaultRow
	for rows.Next() {
		r, err := scanVault(rows)
		if err != nil {
			return nil, adapters.Wrap("service.Vaults", adapters.KindOther, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Intent is one journalled action.
type Intent struct {
	Key     string          `json:"key"`
	VaultID string          `json:"vault"`
	Action  Action          `json:"action"`
	Tick    time.Time       `json:"tick,omitzero"`
	Source  string          `json:"source"` // schedule, api, system
	Request json.RawMessage `json:"request,omitempty"`
	Hash    string          `json:"-"`
	Status  string          `json:"status"` // pending, done
	Outcome string          `json:"outcome,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Created time.Time       `json:"created"`
	Done    time.Time       `json:"done,omitzero"`
}

const intentCols = "key, vault_id, action, tick, source, request_json, request_hash, status, outcome, result_json, created_at, done_at"

func scanIntent(sc interface{ Scan(...any) error }) (Intent, error) {
	var in Intent
	var tick, done sql.NullInt64
	var req, res string
	var created int64
	if err := sc.Scan(&in.Key, &in.VaultID, &in.Action, &tick, &in.Source, &req, &in.Hash, &in.Status, &in.Outcome, &res, &created, &done); err != nil {
		return in, err
	}
	in.Tick, in.Done, in.Created = fromUnix(tick), fromUnix(done), time.Unix(created, 0).UTC()
	if req != "" {
		in.Request = json.RawMessage(req)
	}
	if res != "" {
		in.Result = json.RawMessage(res)
	}
	return in, nil
}

// LeaseCheck, when set on BeginIntent (or on the record of a signed
// transaction, Store.Fenced), must hold inside the journalling
// transaction: the lease row names this holder and process nonce, has
// the generation this process took it at (Lease.Generation), and has not
// expired by NowMs.
type LeaseCheck struct {
	Holder string
	Nonce  string
	Gen    int64
	NowMs  int64
}

// checkLease is LeaseCheck's test inside write transaction tx: nil when
// it holds, else an error wrapping ErrNotLeader (KindPaused).
func (s *Store) checkLease(ctx context.Context, tx *sql.Tx, op string, lc *LeaseCheck) error {
	var holder, nonce string
	var gen, exp int64
	err := s.queryRow(ctx, tx, "SELECT holder, nonce, generation, expires_at FROM lease WHERE name = 'scheduler'").Scan(&holder, &nonce, &gen, &exp)
	if errors.Is(err, sql.ErrNoRows) || err == nil && (holder != lc.Holder || nonce != lc.Nonce || gen != lc.Gen || exp <= lc.NowMs) {
		return &adapters.Error{Op: op, Kind: adapters.KindPaused, Err: ErrNotLeader}
	}
	return err
}

// BeginIntent journals an intent as pending before it runs. When the key
// is already journalled it returns the stored intent (pending: an
// unfinished run to redo; done: nothing to do) and created false; a
// stored intent with a different request hash is an ErrConflict. With a
// lease check, a process that does not hold the lease journals nothing
// (KindPaused, "not the lease holder").
func (s *Store) BeginIntent(ctx context.Context, in Intent, lc *LeaseCheck) (Intent, bool, error) {
	const op = "service.BeginIntent"
	var out Intent
	created := false
	err := s.write(ctx, func(tx *sql.Tx) error {
		if lc != nil {
			if err := s.checkLease(ctx, tx, op, lc); err != nil {
				return err
			}
		}
		req := string(in.Request)
		if req == "" {
			req = "{}"
		}
		res, err := s.exec(ctx, tx, "INSERT INTO intents (key, vault_id, action, tick, source, request_json, request_hash, status, created_at, holder) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT(key) DO NOTHING",
			in.Key, in.VaultID, string(in.Action), unix(in.Tick), in.Source, req, in.Hash, in.Created.Unix(), holderOf(lc))
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		created = n == 1
		out, err = scanIntent(s.queryRow(ctx, tx, "SELECT "+intentCols+" FROM intents WHERE key = ?", in.Key))
		return err
	})
	if err != nil {
		if errors.As(err, new(*adapters.Error)) {
			return out, false, err
		}
		return out, false, adapters.Wrap(op, adapters.KindOther, err)
	}
	if !created && out.Hash != in.Hash {
		return out, false, conflictf(op, "idempotency key %q was used for a different request", in.Key)
	}
	return out, created, nil
}

func holderOf(lc *LeaseCheck) string {
	if lc == nil {
		return ""
	}
	return lc.Holder
}

// Intent returns a journalled intent; KindNotFound when absent.
func (s *Store) Intent(ctx context.Context, key string) (Intent, error) {
	in, err := scanIntent(s.queryRow(ctx, nil, "SELECT "+intentCols+" FROM intents WHERE key = ?", key))
	if errors.Is(err, sql.ErrNoRows) {
		return in, adapters.E("service.Intent", adapters.KindNotFound, "no intent %q", key)
	}
	return in, err
}

// Pending returns the intents journalled but not done, oldest first.
func (s *Store) Pending(ctx context.Context) ([]Intent, error) {
	rows, err := s.query(ctx, "SELECT "+intentCols+" FROM intents WHERE status = 'pending' ORDER BY created_at, tick, key")
	if err != nil {
		return nil, adapters.Wrap("service.Pending", adapters.KindOther, err)
	}
	defer rows.Close()
	var out []Intent
	for rows.Next() {
		in, err := scanIntent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// Decision is one row of the decision log.
type Decision struct {
	ID      int64           `json:"id"`
	VaultID string          `json:"vault"`
	Intent  string          `json:"intent"`
	Time    time.Time       `json:"time"`
	Tick    time.Time       `json:"tick,omitzero"`
	Action  Action          `json:"action"`
	Outcome string          `json:"outcome"`
	Summary string          `json:"summary"`
	Detail  json.RawMessage `json:"detail,omitempty"`
}

// Decisions returns up to limit decisions of a vault with ID below
// before (0: from the newest), newest first, with their details.
func (s *Store) Decisions(ctx context.Context, vaultID string, before int64, limit int) ([]Decision, error) {
	return s.decisions(ctx, vaultID, before, limit, true)
}

func (s *Store) decisions(ctx context.Context, vaultID string, before int64, limit int, detail bool) ([]Decision, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	js := "''"
	if detail {
		js = "json"
	}
	rows, err := s.query(ctx, "SELECT id, vault_id, intent_key, time, tick, action, outcome, summary, "+js+" FROM decisions WHERE vault_id = ? AND id < ? ORDER BY id DESC LIMIT ?", vaultID, before, limit)
	if err != nil {
		return nil, adapters.Wrap("service.Decisions", adapters.KindOther, err)
	}
	defer rows.Close()
	out := []Decision{}
	for rows.Next() {
		var d Decision
		var t int64
		var tick sql.NullInt64
		var js string
		if err := rows.Scan(&d.ID, &d.VaultID, &d.Intent, &t, &tick, &d.Action, &d.Outcome, &d.Summary, &js); err != nil {
			return nil, err
		}
		d.Time, d.Tick = time.Unix(t, 0).UTC(), fromUnix(tick)
		if js != "" {
			d.Detail = json.RawMessage(js)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Ledger returns a vault's ledger in sequence order.
func (s *Store) Ledger(ctx context.Context, vaultID string) ([]vault.Entry, error) {
	rows, err := s.query(ctx, "SELECT seq, time, type, \"user\", market, amount, shares, gas, slippage, fee, reason, tick FROM ledger WHERE vault_id = ? ORDER BY seq", vaultID)
	if err != nil {
		return nil, adapters.Wrap("service.Ledger", adapters.KindOther, err)
	}
	defer rows.Close()
	var out []vault.Entry
	for rows.Next() {
		var e vault.Entry
		var t int64
		var tick sql.NullInt64
		var typ, amt, sh, gas, sl, fee string
		if err := rows.Scan(&e.Seq, &t, &typ, &e.User, &e.Market, &amt, &sh, &gas, &sl, &fee, &e.Reason, &tick); err != nil {
			return nil, err
		}
		e.Time, e.Tick, e.Type = time.Unix(t, 0).UTC(), fromUnix(tick), vault.EntryType(typ)
		for _, p := range []struct {
			s string
			d *decimal.Decimal
		}{{amt, &e.Amount}, {sh, &e.Shares}, {gas, &e.Gas}, {sl, &e.Slippage}, {fee, &e.Fee}} {
			if *p.d, err = decimal.NewFromString(p.s); err != nil {
				return nil, adapters.E("service.Ledger", adapters.KindInvalid, "vault %s ledger seq %d: %v", vaultID, e.Seq, err)
			}
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Commit is what one action commits, atomically with its intent becoming
// done.
type Commit struct {
	Intent  string
	Outcome string
	Result  any
	At      time.Time // service time of the commit
	// Vault, when set, replaces the vault's row (Create inserts it).
	Vault    *VaultUpdate
	Decision *Decision
	// note is what the action's log line says (not stored).
	note actionNote
	// monitors are the risk monitors firing at monitorsAt when the
	// action evaluated them (evaluated).
	monitors   []monitor.Firing
	monitorsAt time.Time
	evaluated  bool
	// alerts, when alertsVault is set, replace that vault's persisted
	// monitor state (monitor_state) in the commit's transaction.
	alerts      []monitor.Firing
	alertsVault string
	// started and resolved are the monitors' changes the commit journals
	// (alerted after it).
	started, resolved []monitor.Firing
	// deposit, when set, is the on-chain transfer an API deposit or
	// withdrawal was booked on (chain_deposits), written in the commit's
	// transaction.
	deposit *ChainDeposit
}

// ChainDeposit is an on-chain transfer an API deposit (Direction "in")
// or withdrawal ("out") was booked on.
type ChainDeposit struct {
	VaultID   string
	Tx        string // 0x hash, lowercase
	Direction string // "in" (a deposit) or "out" (a withdrawal)
	IntentKey string
	Amount    decimal.Decimal
	BookedAt  time.Time
}

// ChainDeposit returns the deposit or withdrawal booked on transfer tx
// of a vault (KindNotFound when there is none).
func (s *Store) ChainDeposit(ctx context.Context, vaultID, tx string) (ChainDeposit, error) {
	d := ChainDeposit{VaultID: vaultID, Tx: tx}
	var amt string
	var at int64
	err := s.queryRow(ctx, nil, "SELECT intent_key, amount, booked_at, direction FROM chain_deposits WHERE vault_id = ? AND tx_hash = ?", vaultID, tx).Scan(&d.IntentKey, &amt, &at, &d.Direction)
	if errors.Is(err, sql.ErrNoRows) {
		return d, adapters.E("service.ChainDeposit", adapters.KindNotFound, "nothing booked on transaction %s", tx)
	}
	if err != nil {
		return d, adapters.Wrap("service.ChainDeposit", adapters.KindOther, err)
	}
	if d.Amount, err = decimal.NewFromString(amt); err != nil {
		return d, adapters.Wrap("service.ChainDeposit", adapters.KindOther, err)
	}
	d.BookedAt = time.Unix(at, 0).UTC()
	return d, nil
}

// VaultUpdate is a vault's new committed state.
type VaultUpdate struct {
	Create  bool
	ID      string
	Config  vault.Config
	Version int64 // the version the action started from (ignored on Create)
	State   vault.State
	Ticks   Ticks
	Paused  bool
	Entries []vault.Entry
	// Values are the positions' values at the vault's pricing, in state
	// order (for the positions table).
	Values        []decimal.Decimal
	LastHarvest   time.Time
	LastRebalance time.Time
	IntentKey     string
}

// Commit applies c in one transaction: the vault's snapshot, share
// balances, positions and ledger entries, the decision, and the intent
// marked done with its outcome and result. It fails with ErrConflict, and
// changes nothing, when the vault's version moved or the intent is not
// pending.
func (s *Store) Commit(ctx context.Context, c Commit) error {
	const op = "service.Commit"
	res, err := json.Marshal(c.Result)
	if err != nil {
		return adapters.Wrap(op, adapters.KindOther, err)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		r, err := s.exec(ctx, tx, "UPDATE intents SET status = 'done', outcome = ?, result_json = ?, done_at = ? WHERE key = ? AND status = 'pending'",
			c.Outcome, string(res), c.At.Unix(), c.Intent)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n != 1 {
			return conflictf(op, "intent %q is not pending", c.Intent)
		}
		if u := c.Vault; u != nil {
			if err := s.writeVault(ctx, tx, u, c.Intent, c.At); err != nil {
				return err
			}
		}
		if d := c.Decision; d != nil {
			js := string(d.Detail)
			if js == "" {
				js = "{}"
			}
			if _, err := s.exec(ctx, tx, "INSERT INTO decisions (vault_id, intent_key, time, tick, action, outcome, summary, json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
				d.VaultID, c.Intent, d.Time.Unix(), unix(d.Tick), string(d.Action), d.Outcome, d.Summary, js); err != nil {
				return err
			}
		}
		if c.alertsVault != "" {
			if err := s.writeAlerts(ctx, tx, c.alertsVault, c.alerts); err != nil {
				return err
			}
		}
		if d := c.deposit; d != nil {
			dir := d.Direction
			if dir == "" {
				dir = "in"
			}
			if _, err := s.exec(ctx, tx, "INSERT INTO chain_deposits (vault_id, tx_hash, intent_key, amount, booked_at, direction) VALUES (?, ?, ?, ?, ?, ?)",
				d.VaultID, d.Tx, c.Intent, d.Amount.String(), c.At.Unix(), dir); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrConflict) {
			return err
		}
		return adapters.Wrap(op, adapters.KindOther, err)
	}
	return nil
}

// writeAlerts replaces a vault's persisted monitor state with fs.
func (s *Store) writeAlerts(ctx context.Context, tx *sql.Tx, vaultID string, fs []monitor.Firing) error {
	if _, err := s.exec(ctx, tx, "DELETE FROM monitor_state WHERE vault_id = ?", vaultID); err != nil {
		return err
	}
	for _, f := range fs {
		js, err := json.Marshal(f)
		if err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, "INSERT INTO monitor_state (vault_id, monitor, since, notified, firing_json) VALUES (?, ?, ?, ?, ?)",
			vaultID, f.Monitor, f.Since.Unix(), f.Notified.Unix(), string(js)); err != nil {
			return err
		}
	}
	return nil
}

// Alerts returns a vault's persisted firing monitors (monitor_state),
// sorted by name: the episodes a restarted service or a new leader
// continues.
func (s *Store) Alerts(ctx context.Context, vaultID string) ([]monitor.Firing, error) {
	const op = "service.Alerts"
	rows, err := s.query(ctx, "SELECT monitor, since, notified, firing_json FROM monitor_state WHERE vault_id = ? ORDER BY monitor", vaultID)
	if err != nil {
		return nil, adapters.Wrap(op, adapters.KindOther, err)
	}
	defer rows.Close()
	var out []monitor.Firing
	for rows.Next() {
		var name, js string
		var since, notified int64
		if err := rows.Scan(&name, &since, &notified, &js); err != nil {
			return nil, adapters.Wrap(op, adapters.KindOther, err)
		}
		var f monitor.Firing
		if err := json.Unmarshal([]byte(js), &f); err != nil {
			return nil, adapters.E(op, adapters.KindInvalid, "vault %s monitor %s: state: %v", vaultID, name, err)
		}
		f.Monitor, f.Since, f.Notified = name, time.Unix(since, 0).UTC(), time.Unix(notified, 0).UTC()
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, adapters.Wrap(op, adapters.KindOther, err)
	}
	return out, nil
}

func (s *Store) writeVault(ctx context.Context, tx *sql.Tx, u *VaultUpdate, intent string, at time.Time) error {
	const op = "service.Commit"
	cfg, err := json.Marshal(u.Config)
	if err != nil {
		return err
	}
	st, err := json.Marshal(u.State)
	if err != nil {
		return err
	}
	kp, err := json.Marshal(u.Ticks)
	if err != nil {
		return err
	}
	if u.Create {
		if _, err := s.exec(ctx, tx, "INSERT INTO vaults ("+vaultCols+") VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?, ?)",
			u.ID, string(cfg), string(st), string(kp), u.Paused, at.Unix(), at.Unix(), unix(u.LastHarvest), unix(u.LastRebalance)); err != nil {
			if s.drv.isUnique(err) {
				return conflictf(op, "vault %q exists", u.ID)
			}
			return err
		}
	} else {
		r, err := s.exec(ctx, tx, "UPDATE vaults SET state_json = ?, keeper_json = ?, version = version + 1, paused = ?, updated_at = ?, last_harvest = COALESCE(?, last_harvest), last_rebalance = COALESCE(?, last_rebalance) WHERE id = ? AND version = ?",
			string(st), string(kp), u.Paused, at.Unix(), unix(u.LastHarvest), unix(u.LastRebalance), u.ID, u.Version)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n != 1 {
			return conflictf(op, "vault %q changed since version %d", u.ID, u.Version)
		}
	}
	if !u.Create && u.Values == nil && u.Entries == nil {
		return nil // the state did not change: balances and positions stand
	}
	if _, err := s.exec(ctx, tx, "DELETE FROM shares WHERE vault_id = ?", u.ID); err != nil {
		return err
	}
	for user, sh := range u.State.Balances {
		if _, err := s.exec(ctx, tx, "INSERT INTO shares (vault_id, \"user\", shares) VALUES (?, ?, ?)", u.ID, user, sh.String()); err != nil {
			return err
		}
	}
	for i, p := range u.State.Positions {
		pj, err := json.Marshal(p)
		if err != nil {
			return err
		}
		val := decimal.Zero
		if i < len(u.Values) {
			val = u.Values[i]
		}
		if _, err := s.exec(ctx, tx, "INSERT INTO positions (vault_id, market, units, value, json) VALUES (?, ?, ?, ?, ?) ON CONFLICT(vault_id, market) DO UPDATE SET units = excluded.units, value = excluded.value, json = excluded.json",
			u.ID, p.Market, p.Units.String(), val.String(), string(pj)); err != nil {
			return err
		}
	}
	for _, e := range u.Entries {
		if _, err := s.exec(ctx, tx, "INSERT INTO ledger (vault_id, seq, time, type, \"user\", market, amount, shares, gas, slippage, fee, reason, tick, intent_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			u.ID, e.Seq, e.Time.Unix(), string(e.Type), e.User, e.Market, e.Amount.String(), e.Shares.String(), e.Gas.String(), e.Slippage.String(), e.Fee.String(), e.Reason, unix(e.Tick), intent); err != nil {
			return err
		}
	}
	return nil
}

// Lease is the lease row: as AcquireLease found it when another process
// holds it, as this process now holds it when it took or renewed it.
type Lease struct {
	Holder    string
	Nonce     string
	ExpiresMs int64 // wall ms; 0 when there was no lease
	// Generation goes up by one each time the lease changes hands (a
	// renewal keeps it): the fencing token a holder's writes name
	// (LeaseCheck.Gen), so that a process that lost the lease, even one
	// that took it back since, is refused for what it began before.
	Generation int64
}

// AcquireLease takes or renews the scheduler lease for the process
// (holder, nonce) until nowMs+ttl, unless another process's lease is
// still valid: another holder's, or one under the same holder name with
// another nonce (a second process started with the same name waits for
// the first one's lease to expire). It reports whether the process has
// the lease, and the lease: the one it now holds (with its generation),
// else the one it found.
func (s *Store) AcquireLease(ctx context.Context, holder, nonce string, nowMs int64, ttl time.Duration) (bool, Lease, error) {
	ok := false
	var cur Lease
	const q = "SELECT holder, nonce, expires_at, generation FROM lease WHERE name = 'scheduler'"
	// Read first, without the write lock: a standby facing a valid lease
	// does not contend for the lock, and knows whose lease it is when the
	// write below cannot take the lock.
	err := s.queryRow(ctx, nil, q).Scan(&cur.Holder, &cur.Nonce, &cur.ExpiresMs, &cur.Generation)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, cur, adapters.Wrap("service.AcquireLease", adapters.KindOther, err)
	}
	if err == nil && (cur.Holder != holder || cur.Nonce != nonce) && cur.ExpiresMs > nowMs {
		return false, cur, nil
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		cur = Lease{}
		err := s.queryRow(ctx, tx, q).Scan(&cur.Holder, &cur.Nonce, &cur.ExpiresMs, &cur.Generation)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		renew := err == nil && cur.Holder == holder && cur.Nonce == nonce
		if err == nil && !renew && cur.ExpiresMs > nowMs {
			return nil
		}
		gen := cur.Generation
		if !renew {
			gen++ // the lease changes hands
		}
		_, err = s.exec(ctx, tx, "INSERT INTO lease (name, holder, nonce, expires_at, generation) VALUES ('scheduler', ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, nonce = excluded.nonce, expires_at = excluded.expires_at, generation = excluded.generation",
			holder, nonce, nowMs+ttl.Milliseconds(), gen)
		if err == nil {
			ok, cur = true, Lease{Holder: holder, Nonce: nonce, ExpiresMs: nowMs + ttl.Milliseconds(), Generation: gen}
		}
		return err
	})
	if err != nil {
		return false, cur, adapters.Wrap("service.AcquireLease", adapters.KindOther, err)
	}
	return ok, cur, nil
}

// ReleaseLease gives the lease up if the process (holder, nonce) has it:
// the row stays, expired and naming no one, so that its generation keeps
// counting (the next process to take it gets a new one).
func (s *Store) ReleaseLease(ctx context.Context, holder, nonce string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := s.exec(ctx, tx, "UPDATE lease SET holder = '', nonce = '', expires_at = 0 WHERE name = 'scheduler' AND holder = ? AND nonce = ?", holder, nonce)
		return err
	})
}
