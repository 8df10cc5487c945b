-- kpi: Completion by service tier (Basic: no extra service, Pro: one or two, Premium: all three)
-- definition: Bookings (duplicates excluded), completed bookings and completion rate
--   (completed / bookings with an outcome) per service tier (Basic: no extra service, Pro: one or two, Premium: all three).
-- users: marketing, direction
-- chart: bars per tier with the completion rate; filterable
-- order: strpos('BasicProPremium', service_tier)
SELECT
    service_tier,
    count(*) AS bookings,
    count(*) FILTER (WHERE booking_complete = 1) AS completed,
    avg(CAST(booking_complete AS double)) AS completion_rate
FROM booking_facts
GROUP BY service_tier
