-- kpi: Completion by day of the flight
-- definition: Bookings (duplicates excluded), completed bookings and completion rate
--   (completed / bookings with an outcome) per day of the flight.
-- users: marketing, analyst
-- chart: bars Mon..Sun with the completion rate; filterable
-- order: strpos('MonTueWedThuFriSatSun', flight_day)
SELECT
    flight_day,
    count(*) AS bookings,
    count(*) FILTER (WHERE booking_complete = 1) AS completed,
    avg(CAST(booking_complete AS double)) AS completion_rate
FROM booking_facts
GROUP BY flight_day
