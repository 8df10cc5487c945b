-- kpi: Latest ingests
-- definition: Per source file, most recent first: its name (file_name, the object key's last
--   part), when it was ingested (UTC), its bookings (duplicates excluded), completed bookings,
--   completion rate and rejected rows; a file quarantined whole is listed too (status
--   'quarantined', when it was quarantined and why, no bookings): near real-time tracking of
--   what just arrived.
-- users: marketing, analyst
-- chart: table of the latest files
-- order: last_ingested_at DESC, source_file
WITH files AS (
    SELECT
        source_file,
        min(ingested_at) AS first_ingested_at,
        max(ingested_at) AS last_ingested_at,
        count(*) AS bookings,
        count(*) FILTER (WHERE booking_complete = 1) AS completed,
        avg(CAST(booking_complete AS double)) AS completion_rate
    FROM booking_facts
    GROUP BY source_file
),
rejected AS (
    SELECT source_file, count(*) AS rejected_rows
    FROM committed_rejected_bookings
    GROUP BY source_file
),
ingests AS (
    SELECT
        f.source_file,
        'delivered' AS status,
        CAST(NULL AS varchar) AS reason,
        f.first_ingested_at,
        f.last_ingested_at,
        f.bookings,
        f.completed,
        f.completion_rate,
        coalesce(r.rejected_rows, 0) AS rejected_rows
    FROM files AS f
    LEFT JOIN rejected AS r ON f.source_file = r.source_file
    UNION ALL
    SELECT
        source_file,
        'quarantined' AS status,
        reason,
        quarantined_at AS first_ingested_at,
        quarantined_at AS last_ingested_at,
        0 AS bookings,
        0 AS completed,
        CAST(NULL AS double) AS completion_rate,
        0 AS rejected_rows
    FROM quarantined_files
)
SELECT
    regexp_extract(source_file, '([^/#]+)(#[^/]*)?$', 1) AS file_name,
    *
FROM ingests
