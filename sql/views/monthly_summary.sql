-- kpi: Monthly summary (by ingest month)
-- definition: Bookings (duplicates excluded), completed bookings and completion rate per
--   month the bookings were ingested, with the change against the previous month (mom) and the same month a year
--   earlier (yoy): bookings as a relative change, completion rate in points.
-- users: direction, marketing
-- chart: line of bookings and completion rate per month, table of the changes
-- order: month
WITH months AS (
    SELECT
        ingest_month AS month,
        count(*) AS bookings,
        count(booking_complete) AS with_outcome,
        count(*) FILTER (WHERE booking_complete = 1) AS completed
    FROM booking_facts
    WHERE ingest_month IS NOT NULL
    GROUP BY ingest_month
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
