-- Sending is fenced by the lease. The lease row's generation goes up by
-- one each time the lease changes hands (a takeover, or a take after a
-- release): the record of a signed transaction in execution_journal
-- checks, in its own transaction, that the lease still has the
-- generation the recording process took it at, so a process that lost
-- the lease (a pause, a partition) records, and so broadcasts, nothing.
ALTER TABLE lease ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;
-- Each journalled transaction's sending account (0x-hex, checksummed):
-- the next nonce is above every nonce journalled for the account, and
-- one nonce is journalled for one transaction only. Rows of earlier
-- versions have '' (no account) and take part in neither.
ALTER TABLE execution_journal ADD COLUMN sender TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX execution_journal_sender_nonce ON execution_journal (sender, nonce) WHERE sender != '';
