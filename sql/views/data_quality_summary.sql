-- kpi: Data quality summary
-- definition: Over every file: rows read, valid and rejected rows, rejected rate, exact
--   duplicates and duplicate rate (of valid rows), bookings with an unknown origin country
--   (duplicates excluded) and their rate, bookings without an outcome yet, and the files
--   quarantined whole (unreadable, or failed on the way: their rows are not among the rows read).
-- users: analyst, direction
-- chart: headline tiles on the analyst dashboard
WITH valid AS (
    SELECT
        count(*) AS valid_rows,
        count(*) FILTER (WHERE is_duplicate) AS duplicates,
        count(*) FILTER (WHERE NOT coalesce(is_duplicate, false) AND booking_origin_code = 'unknown')
            AS unknown_origins,
        count(*) FILTER (WHERE NOT coalesce(is_duplicate, false)) AS bookings,
        count(*) FILTER (WHERE NOT coalesce(is_duplicate, false) AND booking_complete IS NULL)
            AS without_outcome
    FROM committed_bookings
),
rejected AS (
    SELECT count(*) AS rejected_rows FROM committed_rejected_bookings
),
quarantined AS (
    SELECT count(DISTINCT source_file) AS quarantined_files FROM quarantined_files
)
SELECT
    v.valid_rows + r.rejected_rows AS rows_read,
    v.valid_rows,
    r.rejected_rows,
    CAST(r.rejected_rows AS double) / nullif(v.valid_rows + r.rejected_rows, 0) AS rejected_rate,
    v.duplicates,
    CAST(v.duplicates AS double) / nullif(v.valid_rows, 0) AS duplicate_rate,
    v.unknown_origins,
    CAST(v.unknown_origins AS double) / nullif(v.bookings, 0) AS unknown_origin_rate,
    v.without_outcome,
    q.quarantined_files
FROM valid AS v
CROSS JOIN rejected AS r
CROSS JOIN quarantined AS q
