-- The KPI monthly_summary read from the compaction job's daily summary table (the "overall" row
-- of each ingest date) instead of a scan of the bookings: the same columns and the same counts.
-- Daily rows, not the monthly table, because the month in progress is compared month to date.
-- The report reads it when the summary tables are current.
-- summary_of: monthly_summary
WITH days AS (
    SELECT
        CAST(ingest_date AS date) AS ingest_date,
        CAST(sum(bookings) AS bigint) AS bookings,
        CAST(sum(with_outcome) AS bigint) AS with_outcome,
        CAST(sum(completed) AS bigint) AS completed
    FROM booking_daily_summary
    WHERE dimension = 'overall' AND ingest_date IS NOT NULL
    GROUP BY CAST(ingest_date AS date)
),
latest AS (
    SELECT max(ingest_date) AS last_ingest_date
    FROM days
),
months AS (
    SELECT
        CAST(date_trunc('month', d.ingest_date) AS date) AS month,
        sum(d.bookings) AS bookings,
        sum(d.with_outcome) AS with_outcome,
        sum(d.completed) AS completed,
        -- The same counts over the month's first days, as many as the month in progress has had.
        sum(d.bookings)
            FILTER (WHERE day_of_month(d.ingest_date) <= day_of_month(l.last_ingest_date))
            AS bookings_to_day,
        sum(d.with_outcome)
            FILTER (WHERE day_of_month(d.ingest_date) <= day_of_month(l.last_ingest_date))
            AS with_outcome_to_day,
        sum(d.completed)
            FILTER (WHERE day_of_month(d.ingest_date) <= day_of_month(l.last_ingest_date))
            AS completed_to_day,
        CAST(date_trunc('month', d.ingest_date) AS date)
            < CAST(date_trunc('month', l.last_ingest_date) AS date) AS is_complete,
        day_of_month(l.last_ingest_date) AS days_so_far
    FROM days AS d
    CROSS JOIN latest AS l
    GROUP BY CAST(date_trunc('month', d.ingest_date) AS date), l.last_ingest_date
),
compared AS (
    SELECT
        m.month,
        m.is_complete,
        IF(m.is_complete, day_of_month(last_day_of_month(m.month)), m.days_so_far) AS days_covered,
        m.bookings,
        m.with_outcome,
        m.completed,
        IF(m.is_complete, p.bookings, p.bookings_to_day) AS previous_bookings,
        IF(m.is_complete, p.with_outcome, p.with_outcome_to_day) AS previous_with_outcome,
        IF(m.is_complete, p.completed, p.completed_to_day) AS previous_completed,
        IF(m.is_complete, y.bookings, y.bookings_to_day) AS year_before_bookings,
        IF(m.is_complete, y.with_outcome, y.with_outcome_to_day) AS year_before_with_outcome,
        IF(m.is_complete, y.completed, y.completed_to_day) AS year_before_completed
    FROM months AS m
    LEFT JOIN months AS p ON p.month = date_add('month', -1, m.month)
    LEFT JOIN months AS y ON y.month = date_add('year', -1, m.month)
),
rated AS (
    SELECT
        *,
        CAST(completed AS double) / nullif(with_outcome, 0) AS completion_rate,
        CAST(previous_completed AS double) / nullif(previous_with_outcome, 0) AS previous_rate,
        CAST(year_before_completed AS double) / nullif(year_before_with_outcome, 0)
            AS year_before_rate
    FROM compared
)
SELECT
    month,
    IF(is_complete, 'complete', 'in progress') AS month_status,
    days_covered,
    bookings,
    with_outcome,
    completed,
    completion_rate,
    CAST(bookings - previous_bookings AS double) / nullif(previous_bookings, 0)
        AS bookings_mom_change,
    completion_rate - previous_rate AS completion_rate_mom_change,
    CAST(bookings - year_before_bookings AS double) / nullif(year_before_bookings, 0)
        AS bookings_yoy_change,
    completion_rate - year_before_rate AS completion_rate_yoy_change
FROM rated
