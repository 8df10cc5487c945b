-- kpi: Overall completion
-- definition: The headline figures: bookings (duplicates excluded), bookings with an outcome,
--   completed bookings, completion rate (completed / bookings with an outcome), average
--   passengers, lead time and stay, and the share of bookings asking for any extra service.
-- users: direction, marketing, analyst
-- chart: headline tiles
SELECT
    count(*) AS bookings,
    count(booking_complete) AS with_outcome,
    count(*) FILTER (WHERE booking_complete = 1) AS completed,
    avg(CAST(booking_complete AS double)) AS completion_rate,
    avg(CAST(num_passengers AS double)) AS avg_passengers,
    avg(CAST(purchase_lead AS double)) AS avg_purchase_lead,
    avg(CAST(length_of_stay AS double)) AS avg_length_of_stay,
    CAST(count(*) FILTER (WHERE extra_services_count > 0) AS double) / nullif(count(*), 0) AS extras_share
FROM booking_facts
