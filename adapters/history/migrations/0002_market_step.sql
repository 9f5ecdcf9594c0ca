-- 0002: markets.step, the median time in seconds between consecutive
-- observations of the market (0 below two rows), kept by history.Write so
-- that DB.Markets lists markets without reading their observations.
-- Existing rows are filled in here from the stored observations.
ALTER TABLE markets ADD COLUMN step INTEGER NOT NULL DEFAULT 0;

UPDATE markets SET step = COALESCE((
    SELECT d FROM (
        SELECT d, ROW_NUMBER() OVER (ORDER BY d) - 1 AS i, COUNT(*) OVER () AS n
        FROM (
            SELECT ts - LAG(ts) OVER (ORDER BY ts) AS d
            FROM observations WHERE market_id = markets.pk
        )
        WHERE d IS NOT NULL
    )
    WHERE i = n / 2
), 0);
