-- chain_deposits also holds the transfers out of the vault's address
-- that API withdrawals were booked on (propose and send modes: the
-- Safe's owners pay withdrawals themselves): direction is 'in' for a
-- deposit, 'out' for a withdrawal. A transfer is still booked once per
-- vault, whichever its direction.
ALTER TABLE chain_deposits ADD COLUMN direction TEXT NOT NULL DEFAULT 'in';
