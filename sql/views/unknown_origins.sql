-- kpi: Unknown booking origins
-- definition: Booking origin values that match no country (booking_origin_code = 'unknown'),
--   with their bookings (duplicates excluded): what the country lookup needs to learn.
-- users: analyst
-- chart: table
-- order: bookings DESC, booking_origin
SELECT
    booking_origin,
    count(*) AS bookings
FROM booking_facts
WHERE booking_origin_code = 'unknown'
GROUP BY booking_origin
