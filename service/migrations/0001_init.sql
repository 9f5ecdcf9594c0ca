-- The service's state database. Times are unix seconds (UTC); amounts
-- are decimal strings at 18 places.

-- One row per vault: the latest committed snapshot (vault.State JSON),
-- the keeper's last tick per scheduled action, and a version bumped by
-- every commit (optimistic concurrency: a commit names the version it
-- started from).
CREATE TABLE vaults (
    id             TEXT PRIMARY KEY,
    config_json    TEXT    NOT NULL,
    state_json     TEXT    NOT NULL,
    keeper_json    TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    paused         INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    last_harvest   INTEGER,
    last_rebalance INTEGER
);

-- Share balances and positions as of the snapshot (derived from
-- state_json in the same transaction, for queries and reconciliation).
CREATE TABLE shares (
    vault_id TEXT NOT NULL REFERENCES vaults(id),
    user     TEXT NOT NULL,
    shares   TEXT NOT NULL,
    PRIMARY KEY (vault_id, user)
);

CREATE TABLE positions (
    vault_id TEXT NOT NULL REFERENCES vaults(id),
    market   TEXT NOT NULL,
    units    TEXT NOT NULL,
    value    TEXT NOT NULL,
    json     TEXT NOT NULL,
    PRIMARY KEY (vault_id, market)
);

-- The ledger: every vault.Entry, with the intent that produced it.
CREATE TABLE ledger (
    vault_id   TEXT    NOT NULL REFERENCES vaults(id),
    seq        INTEGER NOT NULL,
    time       INTEGER NOT NULL,
    type       TEXT    NOT NULL,
    user       TEXT    NOT NULL DEFAULT '',
    market     TEXT    NOT NULL DEFAULT '',
    amount     TEXT    NOT NULL,
    shares     TEXT    NOT NULL,
    gas        TEXT    NOT NULL,
    slippage   TEXT    NOT NULL,
    fee        TEXT    NOT NULL,
    reason     TEXT    NOT NULL DEFAULT '',
    tick       INTEGER,
    intent_key TEXT    NOT NULL,
    PRIMARY KEY (vault_id, seq)
);
CREATE INDEX ledger_intent ON ledger(intent_key);

-- The intent journal. A row is inserted (pending) before an action runs
-- and set done in the transaction that commits the action's effects.
CREATE TABLE intents (
    key          TEXT PRIMARY KEY,
    vault_id     TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    tick         INTEGER,
    source       TEXT    NOT NULL,
    request_json TEXT    NOT NULL DEFAULT '{}',
    request_hash TEXT    NOT NULL DEFAULT '',
    status       TEXT    NOT NULL CHECK (status IN ('pending', 'done')),
    outcome      TEXT    NOT NULL DEFAULT '',
    result_json  TEXT    NOT NULL DEFAULT '',
    holder       TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    done_at      INTEGER
);
CREATE INDEX intents_pending ON intents(status) WHERE status = 'pending';
CREATE INDEX intents_vault ON intents(vault_id, action, tick);

-- The decision log: one row per action that decided something.
CREATE TABLE decisions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    vault_id   TEXT    NOT NULL,
    intent_key TEXT    NOT NULL UNIQUE,
    time       INTEGER NOT NULL,
    tick       INTEGER,
    action     TEXT    NOT NULL,
    outcome    TEXT    NOT NULL,
    summary    TEXT    NOT NULL,
    json       TEXT    NOT NULL
);
CREATE INDEX decisions_vault ON decisions(vault_id, id);

-- The single-writer lease.
CREATE TABLE lease (
    name       TEXT PRIMARY KEY,
    holder     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL  -- unix milliseconds, wall clock
);

-- Files a folder source has processed, so each is imported once.
CREATE TABLE processed_files (
    history    TEXT    NOT NULL,
    path       TEXT    NOT NULL,
    size       INTEGER NOT NULL,
    mtime      INTEGER NOT NULL,
    sha256     TEXT    NOT NULL,
    status     TEXT    NOT NULL,
    rows       INTEGER NOT NULL DEFAULT 0,
    error      TEXT    NOT NULL DEFAULT '',
    at         INTEGER NOT NULL,
    PRIMARY KEY (history, path, size, mtime)
);

CREATE TABLE source_state (
    name      TEXT PRIMARY KEY,
    last_run  INTEGER,
    last_ok   INTEGER,
    data_time INTEGER,
    inserted  INTEGER NOT NULL DEFAULT 0,
    error     TEXT    NOT NULL DEFAULT ''
);
