-- Send mode's execution journal (execution.JournalStore), in the state
-- database so that every instance on it sees what another sent: each
-- signed transaction under its intent key and call index (idx from 0),
-- committed before the transaction is broadcast (raw is the hex of its
-- binary encoding); and the gas price in gwei an intent decided at (idx
-- -1, no transaction), so that its re-run decides the same; and the
-- collateral rates its loop calls were encoded at (idx -2, rates_json by
-- market), so that its re-run encodes the same calls.
CREATE TABLE execution_journal (
    intent_key TEXT    NOT NULL,
    idx        INTEGER NOT NULL,
    hash       TEXT    NOT NULL,
    nonce      BIGINT  NOT NULL,
    raw        TEXT    NOT NULL,
    gas_gwei   TEXT    NOT NULL,
    rates_json TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (intent_key, idx)
);
