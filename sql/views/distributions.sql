-- kpi: Distributions
-- definition: Histograms of the numeric fields (bookings, duplicates excluded, bookings with an
--   outcome, completed bookings and completion rate per bucket): purchase_lead in 30-day buckets, length_of_stay in 7-day buckets,
--   flight_hour per hour, flight_duration per half hour, num_passengers per passenger.
--   bucket_start is the bucket's lower bound.
-- users: analyst
-- chart: one histogram per measure
-- order: measure, bucket_start
WITH buckets AS (
    SELECT 'purchase_lead' AS measure, floor(purchase_lead / 30.0) * 30 AS bucket_start,
        booking_complete
    FROM booking_facts
    UNION ALL
    SELECT 'length_of_stay' AS measure, floor(length_of_stay / 7.0) * 7 AS bucket_start,
        booking_complete
    FROM booking_facts
    UNION ALL
    SELECT 'flight_hour' AS measure, CAST(flight_hour AS double) AS bucket_start,
        booking_complete
    FROM booking_facts
    UNION ALL
    SELECT 'flight_duration' AS measure, floor(flight_duration * 2) / 2 AS bucket_start,
        booking_complete
    FROM booking_facts
    UNION ALL
    SELECT 'num_passengers' AS measure, CAST(num_passengers AS double) AS bucket_start,
        booking_complete
    FROM booking_facts
)
SELECT
    measure,
    bucket_start,
    count(*) AS bookings,
    count(booking_complete) AS with_outcome,
    count(*) FILTER (WHERE booking_complete = 1) AS completed,
    avg(CAST(booking_complete AS double)) AS completion_rate
FROM buckets
GROUP BY measure, bucket_start
