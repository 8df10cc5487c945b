-- kpi: Completion by number of extra services asked for (0 to 3)
-- definition: Bookings (duplicates excluded), completed bookings and completion rate
--   (completed / bookings with an outcome) per number of extra services asked for (0 to 3).
-- users: marketing, analyst
-- chart: bars 0..3 with the completion rate; filterable
-- order: extra_services_count
SELECT
    extra_services_count,
    count(*) AS bookings,
    count(*) FILTER (WHERE booking_complete = 1) AS completed,
    avg(CAST(booking_complete AS double)) AS completion_rate
FROM booking_facts
GROUP BY extra_services_count
