-- kpi: Data quality by file
-- definition: Per source file: rows read (valid + rejected), rejected rows and rate, exact
--   duplicate rows and rate (duplicates are stored but left out of every booking KPI), and
--   bookings whose origin country is unknown.
-- users: analyst
-- chart: table, worst rejected rate first
-- order: rejected_rate DESC, source_file
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
files AS (
    SELECT
        coalesce(v.source_file, r.source_file) AS source_file,
        coalesce(v.valid_rows, 0) AS valid_rows,
        coalesce(r.rejected_rows, 0) AS rejected_rows,
        coalesce(v.duplicates, 0) AS duplicates,
        coalesce(v.unknown_origins, 0) AS unknown_origins
    FROM valid AS v
    FULL OUTER JOIN rejected AS r ON v.source_file = r.source_file
)
SELECT
    source_file,
    valid_rows + rejected_rows AS rows_read,
    valid_rows,
    rejected_rows,
    CAST(rejected_rows AS double) / nullif(valid_rows + rejected_rows, 0) AS rejected_rate,
    duplicates,
    CAST(duplicates AS double) / nullif(valid_rows, 0) AS duplicate_rate,
    unknown_origins
FROM files
