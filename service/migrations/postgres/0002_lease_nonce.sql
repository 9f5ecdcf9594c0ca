-- The lease carries the holding process's nonce: two processes started
-- under one holder name are told apart, so only one of them leads.
ALTER TABLE lease ADD COLUMN nonce TEXT NOT NULL DEFAULT '';
