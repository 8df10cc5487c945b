-- kpi: Completion by length-of-stay band (days)
-- definition: Bookings (duplicates excluded), completed bookings and completion rate
--   (completed / bookings with an outcome) per length-of-stay band (days); band_start is the smallest length_of_stay
--   seen in the band, to order the bands.
-- users: marketing, analyst
-- chart: bars per band in band order with the completion rate; filterable
-- order: band_start
SELECT
    stay_band,
    min(length_of_stay) AS band_start,
    count(*) AS bookings,
    count(*) FILTER (WHERE booking_complete = 1) AS completed,
    avg(CAST(booking_complete AS double)) AS completion_rate
FROM booking_facts
GROUP BY stay_band
