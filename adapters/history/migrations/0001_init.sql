-- 0001: the market history schema.
--
-- markets: one row per market; pk is the compact key observations and
-- events refer to, id the public "protocol/name". rows, first_ts, last_ts
-- and fields summarise the market's observations (kept by history.Write) so
-- that listings and loads need no scan.
CREATE TABLE markets (
    pk       INTEGER PRIMARY KEY,
    id       TEXT    NOT NULL UNIQUE,
    kind     TEXT    NOT NULL,
    base     TEXT    NOT NULL,
    protocol TEXT    NOT NULL,
    token    TEXT    NOT NULL DEFAULT '',
    name     TEXT    NOT NULL DEFAULT '',
    tags     TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(tags)),
    params   TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(params)),
    rows     INTEGER NOT NULL DEFAULT 0,
    first_ts INTEGER,
    last_ts  INTEGER,
    fields   INTEGER NOT NULL DEFAULT 0 -- bit i set: adapters.Field(i) observed in some row
);

-- observations: one row per market per second (ts is unix seconds, UTC).
-- One nullable column per adapters.Field, named by Field.String(); NULL
-- means "not observed".
CREATE TABLE observations (
    market_id        INTEGER NOT NULL REFERENCES markets(pk),
    ts               INTEGER NOT NULL,
    apy              REAL,
    reward_apy       REAL,
    exchange_rate    REAL,
    price            REAL,
    tvl              REAL,
    exit_liquidity   REAL,
    utilization      REAL,
    borrow_apy       REAL,
    volume           REAL,
    fee_tier         REAL,
    balance0         REAL,
    balance1         REAL,
    balance2         REAL,
    withdrawal_days  REAL,
    liquidity_index  REAL,
    supply           REAL,
    borrows          REAL,
    gas_price        REAL,
    base_usd         REAL,
    PRIMARY KEY (market_id, ts)
) WITHOUT ROWID;

-- events: slashes, depegs, pauses. size is a fraction; scope a risk tag or ''.
CREATE TABLE events (
    market_id INTEGER NOT NULL REFERENCES markets(pk),
    ts        INTEGER NOT NULL,
    type      TEXT    NOT NULL,
    size      REAL    NOT NULL,
    scope     TEXT    NOT NULL DEFAULT '',
    note      TEXT    NOT NULL DEFAULT '',
    UNIQUE (market_id, ts, type, scope)
);

-- imports: the import log, one row per history.Write. sha256 digests the
-- batch's canonical content; imported_at is NULL when no clock was given.
CREATE TABLE imports (
    id          INTEGER PRIMARY KEY,
    source      TEXT    NOT NULL,
    format      TEXT    NOT NULL,
    sha256      TEXT    NOT NULL,
    rows        INTEGER NOT NULL,
    inserted    INTEGER NOT NULL,
    updated     INTEGER NOT NULL,
    unchanged   INTEGER NOT NULL,
    events      INTEGER NOT NULL,
    imported_at TEXT
);
