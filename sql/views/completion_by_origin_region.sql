-- kpi: Completion by booking origin region (the region of the booking country)
-- definition: Bookings (duplicates excluded), completed bookings and completion rate
--   (completed / bookings with an outcome) per booking origin region (the region of the booking country).
-- users: marketing, direction
-- chart: bars per region with the completion rate; filterable
-- order: bookings DESC
SELECT
    booking_origin_region,
    count(*) AS bookings,
    count(*) FILTER (WHERE booking_complete = 1) AS completed,
    avg(CAST(booking_complete AS double)) AS completion_rate
FROM booking_facts
GROUP BY booking_origin_region
