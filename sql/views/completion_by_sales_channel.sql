-- kpi: Completion by sales channel
-- definition: Bookings (duplicates excluded), completed bookings and completion rate
--   (completed / bookings with an outcome) per sales channel.
-- users: marketing, analyst, direction
-- chart: bars of bookings with the completion rate as a line; filterable
-- order: bookings DESC
SELECT
    sales_channel,
    count(*) AS bookings,
    count(*) FILTER (WHERE booking_complete = 1) AS completed,
    avg(CAST(booking_complete AS double)) AS completion_rate
FROM booking_facts
GROUP BY sales_channel
