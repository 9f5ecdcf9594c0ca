-- The on-chain transfers API deposits were booked on (propose and send
-- modes), written in the same transaction as the deposit: a transfer is
-- booked once per vault. tx_hash is the transfer's 0x hash (lowercase),
-- amount the deposit (base units, a decimal string), booked_at service
-- time.
CREATE TABLE chain_deposits (
    vault_id   TEXT NOT NULL,
    tx_hash    TEXT NOT NULL,
    intent_key TEXT NOT NULL,
    amount     TEXT NOT NULL,
    booked_at  BIGINT NOT NULL,
    PRIMARY KEY (vault_id, tx_hash)
);
