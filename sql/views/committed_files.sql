-- The files whose rows users see: a file counts once its latest outcome in the audit trail
-- (committed, quarantined or failed; a duplicate or superseded row says nothing of the file's
-- own rows) is committed, and it is the latest committed version of its S3 key (the greatest
-- S3 event sequencer: events may arrive out of order). Firehose cannot take rows back, so a file
-- that failed after delivering keeps its rows in `bookings`; they stay out of every view.
WITH outcomes AS (
    SELECT
        bucket,
        object_key,
        source_file,
        status,
        sequencer,
        finished_at,
        row_number() OVER (PARTITION BY source_file ORDER BY finished_at DESC) AS recency
    FROM ingest_audit
    WHERE status IN ('committed', 'quarantined', 'failed')
),
committed AS (
    SELECT bucket, object_key, source_file, sequencer, finished_at
    FROM outcomes
    WHERE recency = 1 AND status = 'committed'
),
versions AS (
    SELECT
        *,
        row_number() OVER (
            PARTITION BY bucket, object_key ORDER BY sequencer DESC, finished_at DESC
        ) AS version_rank
    FROM committed
)
SELECT
    bucket,
    object_key,
    source_file,
    sequencer,
    finished_at AS committed_at
FROM versions
WHERE version_rank = 1
