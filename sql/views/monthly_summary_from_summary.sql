-- The KPI monthly_summary read from the compaction job's monthly summary table (the
-- "overall" row of each month) instead of a scan of the bookings: the same columns and
-- the same counts. The report reads it when the summary tables are current.
-- summary_of: monthly_summary
WITH months AS (
    SELECT
        CAST(ingest_month AS date) AS month,
        CAST(sum(bookings) AS bigint) AS bookings,
        CAST(sum(with_outcome) AS bigint) AS with_outcome,
        CAST(sum(completed) AS bigint) AS completed
    FROM booking_monthly_summary
    WHERE dimension = 'overall' AND ingest_month IS NOT NULL
    GROUP BY CAST(ingest_month AS date)
),
rated AS (
    SELECT *, CAST(completed AS double) / nullif(with_outcome, 0) AS completion_rate
    FROM months
)
SELECT
    m.month,
    m.bookings,
    m.with_outcome,
    m.completed,
    m.completion_rate,
    CAST(m.bookings - p.bookings AS double) / nullif(p.bookings, 0) AS bookings_mom_change,
    m.completion_rate - p.completion_rate AS completion_rate_mom_change,
    CAST(m.bookings - y.bookings AS double) / nullif(y.bookings, 0) AS bookings_yoy_change,
    m.completion_rate - y.completion_rate AS completion_rate_yoy_change
FROM rated AS m
LEFT JOIN rated AS p ON p.month = date_add('month', -1, m.month)
LEFT JOIN rated AS y ON y.month = date_add('year', -1, m.month)
