-- kpi: Completion by booking origin country (as the source names it)
-- definition: Bookings (duplicates excluded), completed bookings and completion rate
--   (completed / bookings with an outcome) per booking origin country (as the source names it).
-- users: marketing, analyst, direction
-- chart: horizontal bars of the top countries by volume, with their completion rate; filterable
-- order: bookings DESC, booking_origin
SELECT
    booking_origin,
    count(*) AS bookings,
    count(*) FILTER (WHERE booking_complete = 1) AS completed,
    avg(CAST(booking_complete AS double)) AS completion_rate
FROM booking_facts
GROUP BY booking_origin
