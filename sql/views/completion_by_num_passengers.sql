-- kpi: Completion by number of passengers
-- definition: Bookings (duplicates excluded), completed bookings and completion rate
--   (completed / bookings with an outcome) per number of passengers.
-- users: analyst, marketing
-- chart: bars 1..9 with the completion rate; filterable
-- order: num_passengers
SELECT
    num_passengers,
    count(*) AS bookings,
    count(*) FILTER (WHERE booking_complete = 1) AS completed,
    avg(CAST(booking_complete AS double)) AS completion_rate
FROM booking_facts
GROUP BY num_passengers
