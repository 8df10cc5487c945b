-- kpi: Completion by departure hour band (local hour of the flight)
-- definition: Bookings (duplicates excluded), completed bookings and completion rate
--   (completed / bookings with an outcome) per departure hour band (local hour of the flight); band_start is the smallest flight_hour
--   seen in the band, to order the bands.
-- users: marketing, analyst
-- chart: bars per band in band order with the completion rate; filterable
-- order: band_start
SELECT
    departure_hour_band,
    min(flight_hour) AS band_start,
    count(*) AS bookings,
    count(*) FILTER (WHERE booking_complete = 1) AS completed,
    avg(CAST(booking_complete AS double)) AS completion_rate
FROM booking_facts
GROUP BY departure_hour_band
