-- kpi: Yearly summary (by ingest year)
-- definition: Per ingest year: how many complete months it has (complete_months, from the
--   monthly summary: the month in progress is not one of them, has_month_in_progress says the
--   year holds it), bookings (duplicates excluded, the month in progress included), completed
--   bookings, completion rate, average lead time and share of bookings with extra services. The
--   changes against the previous year (bookings relative, completion rate in points) compare
--   the year's complete months with the same months of the year before: a partial year is never
--   compared with a whole one, and there is no change when the year before lacks one of them.
-- users: direction
-- chart: table up front on the direction dashboard and in its report
-- order: year DESC
WITH years AS (
    SELECT
        ingest_year AS year,
        count(*) AS bookings,
        count(booking_complete) AS with_outcome,
        count(*) FILTER (WHERE booking_complete = 1) AS completed,
        avg(CAST(purchase_lead AS double)) AS avg_purchase_lead,
        CAST(count(*) FILTER (WHERE extra_services_count > 0) AS double) / count(*) AS extras_share
    FROM booking_facts
    WHERE ingest_year IS NOT NULL
    GROUP BY ingest_year
),
same_months AS (
    -- Each complete month beside the same month a year earlier.
    SELECT
        year(m.month) AS year,
        count(*) AS complete_months,
        count(b.month) AS months_with_year_before,
        sum(m.bookings) AS bookings,
        sum(m.with_outcome) AS with_outcome,
        sum(m.completed) AS completed,
        sum(b.bookings) AS year_before_bookings,
        sum(b.with_outcome) AS year_before_with_outcome,
        sum(b.completed) AS year_before_completed
    FROM monthly_summary AS m
    LEFT JOIN monthly_summary AS b ON b.month = date_add('year', -1, m.month)
    WHERE m.month_status = 'complete'
    GROUP BY year(m.month)
),
in_progress AS (
    SELECT DISTINCT year(month) AS year
    FROM monthly_summary
    WHERE month_status = 'in progress'
),
compared AS (
    SELECT
        y.*,
        coalesce(s.complete_months, 0) AS complete_months,
        p.year IS NOT NULL AS has_month_in_progress,
        s.months_with_year_before = s.complete_months AS comparable,
        s.bookings AS same_months_bookings,
        s.year_before_bookings,
        CAST(s.completed AS double) / nullif(s.with_outcome, 0) AS same_months_rate,
        CAST(s.year_before_completed AS double) / nullif(s.year_before_with_outcome, 0)
            AS year_before_rate
    FROM years AS y
    LEFT JOIN same_months AS s ON s.year = y.year
    LEFT JOIN in_progress AS p ON p.year = y.year
)
SELECT
    year,
    complete_months,
    has_month_in_progress,
    bookings,
    completed,
    CAST(completed AS double) / nullif(with_outcome, 0) AS completion_rate,
    avg_purchase_lead,
    extras_share,
    IF(
        comparable,
        CAST(same_months_bookings - year_before_bookings AS double)
            / nullif(year_before_bookings, 0)
    ) AS bookings_yoy_change,
    IF(comparable, same_months_rate - year_before_rate) AS completion_rate_yoy_change
FROM compared
