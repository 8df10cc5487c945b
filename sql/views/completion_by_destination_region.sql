-- kpi: Completion by destination region (the region of the destination airport)
-- definition: Bookings (duplicates excluded), completed bookings and completion rate
--   (completed / bookings with an outcome) per destination region (the region of the destination airport).
-- users: marketing, analyst
-- chart: bars per region with the completion rate; filterable
-- order: bookings DESC
SELECT
    destination_region,
    count(*) AS bookings,
    count(*) FILTER (WHERE booking_complete = 1) AS completed,
    avg(CAST(booking_complete AS double)) AS completion_rate
FROM booking_facts
GROUP BY destination_region
