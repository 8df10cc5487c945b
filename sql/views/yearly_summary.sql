-- kpi: Yearly summary (by ingest year)
-- definition: Bookings (duplicates excluded), completed bookings, completion rate, average lead
--   time and share of bookings with extra services per ingest year, with the change against
--   the previous year (bookings relative, completion rate in points).
-- users: direction
-- chart: table in the direction's report
-- order: year
WITH years AS (
    SELECT
        ingest_year AS year,
        count(*) AS bookings,
        count(booking_complete) AS with_outcome,
        count(*) FILTER (WHERE booking_complete = 1) AS completed,
        avg(CAST(purchase_lead AS double)) AS avg_purchase_lead,
        CAST(count(*) FILTER (WHERE extra_services_count > 0) AS double) / count(*) AS extras_share
    FROM booking_facts
    GROUP BY ingest_year
),
rated AS (
    SELECT *, CAST(completed AS double) / nullif(with_outcome, 0) AS completion_rate
    FROM years
)
SELECT
    y.year,
    y.bookings,
    y.completed,
    y.completion_rate,
    y.avg_purchase_lead,
    y.extras_share,
    CAST(y.bookings - p.bookings AS double) / nullif(p.bookings, 0) AS bookings_yoy_change,
    y.completion_rate - p.completion_rate AS completion_rate_yoy_change
FROM rated AS y
LEFT JOIN rated AS p ON p.year = y.year - 1
