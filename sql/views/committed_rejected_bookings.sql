-- The rejected rows users query: those of committed files (committed_files), each row once.
-- A quarantined file's rejected rows stay out, as its bookings do.
WITH visible AS (
    SELECT
        r.*,
        row_number() OVER (
            PARTITION BY r.source_file, r.row_number ORDER BY r.rejected_at
        ) AS copy_number
    FROM rejected_bookings AS r
    WHERE r.source_file IN (SELECT source_file FROM committed_files)
)
SELECT
    schema_version,
    source_file,
    CAST(row_number AS integer) AS row_number,
    raw,
    reason,
    reasons,
    message,
    rejected_at,
    CAST(ingest_date AS varchar) AS ingest_date
FROM visible
WHERE copy_number = 1
