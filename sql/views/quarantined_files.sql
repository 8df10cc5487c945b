-- The files quarantined whole, read from the audit trail (one source of truth with
-- committed_files): the files whose latest outcome (committed, quarantined or failed) is
-- quarantined, with the error the workflow caught, its reason without the file's name (which
-- source_file carries) and how far the file got (Validate's counts and what Deliver delivered
-- and scored; NULL where the step never ran). None of their rows is visible in what users
-- query; the same file uploaded again and committed leaves this view.
WITH outcomes AS (
    SELECT
        *,
        row_number() OVER (PARTITION BY source_file ORDER BY finished_at DESC) AS recency
    FROM ingest_audit
    WHERE status IN ('committed', 'quarantined', 'failed')
),
quarantined AS (
    -- QuarantineFile writes the error as "<error name>: <reason>".
    SELECT
        *,
        strpos(coalesce(error, ''), ': ') AS name_end
    FROM outcomes
    WHERE recency = 1 AND status = 'quarantined'
)
SELECT
    bucket,
    object_key,
    version_id,
    source_file,
    IF(name_end > 0, substr(error, 1, name_end - 1), error) AS error_name,
    trim(
        replace(
            IF(name_end > 0, substr(error, name_end + 2), error), concat(source_file, ': '), ''
        )
    ) AS reason,
    rows AS rows_read,
    valid AS valid_rows,
    rejected AS rejected_rows,
    delivered AS delivered_rows,
    scored AS scored_rows,
    execution,
    started_at,
    finished_at AS quarantined_at
FROM quarantined
