-- 0004: a lending market's variable borrow index (adapters.FieldBorrowIndex):
-- the debt value of one scaled debt unit, as Aave's variableBorrowIndex, so a
-- borrow position accrues exactly as the protocol's debt did. NULL means
-- "not observed".
ALTER TABLE observations ADD COLUMN borrow_index REAL;
