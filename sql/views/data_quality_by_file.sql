-- kpi: Data quality by file
-- definition: Per source file: its name (file_name, the object key's last part), status
--   ('delivered', or 'quarantined' for a file quarantined whole, with the reason), rows read
--   (valid + rejected), rejected rows and rate, exact duplicate rows and rate (duplicates are
--   stored but left out of every booking KPI), and bookings whose origin country is unknown. A
--   quarantined file has no rows here: none of its rows counts (the audit trail's
--   quarantined_files view says how far it got).
-- users: analyst, direction
-- chart: table, quarantined files and the worst rejected rate first
-- order: status DESC, rejected_rate DESC, source_file
WITH valid AS (
    SELECT
        source_file,
        count(*) AS valid_rows,
        count(*) FILTER (WHERE is_duplicate) AS duplicates,
        count(*) FILTER (WHERE booking_origin_code = 'unknown') AS unknown_origins
    FROM committed_bookings
    GROUP BY source_file
),
rejected AS (
    SELECT source_file, count(*) AS rejected_rows
    FROM committed_rejected_bookings
    GROUP BY source_file
),
quarantined AS (
    SELECT source_file, reason FROM quarantined_files
),
files AS (
    SELECT
        coalesce(v.source_file, r.source_file, q.source_file) AS source_file,
        coalesce(v.valid_rows, 0) AS valid_rows,
        coalesce(r.rejected_rows, 0) AS rejected_rows,
        coalesce(v.duplicates, 0) AS duplicates,
        coalesce(v.unknown_origins, 0) AS unknown_origins,
        q.reason
    FROM valid AS v
    FULL OUTER JOIN rejected AS r ON v.source_file = r.source_file
    FULL OUTER JOIN quarantined AS q ON coalesce(v.source_file, r.source_file) = q.source_file
)
SELECT
    regexp_extract(source_file, '([^/#]+)(#[^/]*)?$', 1) AS file_name,
    IF(reason IS NULL, 'delivered', 'quarantined') AS status,
    reason,
    valid_rows + rejected_rows AS rows_read,
    valid_rows,
    rejected_rows,
    CAST(rejected_rows AS double) / nullif(valid_rows + rejected_rows, 0) AS rejected_rate,
    duplicates,
    CAST(duplicates AS double) / nullif(valid_rows, 0) AS duplicate_rate,
    unknown_origins,
    source_file
FROM files
