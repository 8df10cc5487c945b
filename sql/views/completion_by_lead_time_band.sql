-- kpi: Completion by lead-time band (days between purchase and departure)
-- definition: Bookings (duplicates excluded), completed bookings and completion rate
--   (completed / bookings with an outcome) per lead-time band (days between purchase and departure); band_start is the smallest purchase_lead
--   seen in the band, to order the bands.
-- users: marketing, analyst
-- chart: bars per band in band order with the completion rate; filterable
-- order: band_start
SELECT
    lead_time_band,
    min(purchase_lead) AS band_start,
    count(*) AS bookings,
    count(*) FILTER (WHERE booking_complete = 1) AS completed,
    avg(CAST(booking_complete AS double)) AS completion_rate
FROM booking_facts
GROUP BY lead_time_band
