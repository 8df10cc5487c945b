-- kpi: Monthly summary (by ingest month)
-- definition: Bookings (duplicates excluded), bookings with an outcome, completed bookings and
--   completion rate per month the bookings were ingested. The month of the latest ingest is in
--   progress (month_status 'in progress', days_covered = the days it has had so far, up to the
--   latest ingest date); every earlier month is complete (days_covered = its length). Changes
--   (bookings relative, completion rate in points) compare a complete month with the whole
--   previous month (mom) and the whole same month a year earlier (yoy); the month in progress
--   is compared month to date: its days 1 to days_covered against the same days of the previous
--   month and of the same month a year earlier, never with whole months.
-- users: direction, marketing
-- chart: bars of bookings per month (the month in progress marked) with the completion rate,
--   table of the changes, newest month first
-- order: month DESC
WITH latest AS (
    SELECT max(ingest_date) AS last_ingest_date
    FROM booking_facts
),
months AS (
    SELECT
        f.ingest_month AS month,
        count(*) AS bookings,
        count(f.booking_complete) AS with_outcome,
        count(*) FILTER (WHERE f.booking_complete = 1) AS completed,
        -- The same counts over the month's first days, as many as the month in progress has had.
        count(*) FILTER (WHERE day_of_month(f.ingest_date) <= day_of_month(l.last_ingest_date))
            AS bookings_to_day,
        count(f.booking_complete)
            FILTER (WHERE day_of_month(f.ingest_date) <= day_of_month(l.last_ingest_date))
            AS with_outcome_to_day,
        count(*)
            FILTER (WHERE f.booking_complete = 1
                AND day_of_month(f.ingest_date) <= day_of_month(l.last_ingest_date))
            AS completed_to_day,
        f.ingest_month < CAST(date_trunc('month', l.last_ingest_date) AS date) AS is_complete,
        day_of_month(l.last_ingest_date) AS days_so_far
    FROM booking_facts AS f
    CROSS JOIN latest AS l
    WHERE f.ingest_month IS NOT NULL
    GROUP BY f.ingest_month, l.last_ingest_date
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
