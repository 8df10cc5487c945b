-- kpi: Completion by route (origin + destination IATA codes)
-- definition: Bookings (duplicates excluded), completed bookings and completion rate
--   (completed / bookings with an outcome) per route (origin + destination IATA codes).
-- users: marketing, analyst
-- chart: table of the top routes by volume with their completion rate; filterable
-- order: bookings DESC, route
SELECT
    route,
    count(*) AS bookings,
    count(*) FILTER (WHERE booking_complete = 1) AS completed,
    avg(CAST(booking_complete AS double)) AS completion_rate
FROM booking_facts
GROUP BY route
