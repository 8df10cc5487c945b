-- kpi: Completion by extra service
-- definition: For each extra service (extra baggage, preferred seat, in-flight meals), the
--   bookings that asked for it (wanted = 1) or not (wanted = 0), completed bookings and
--   completion rate (completed / bookings with an outcome).
-- users: marketing, analyst
-- chart: paired bars per service (wanted / not wanted) of the completion rate; filterable
-- order: service, wanted
WITH services AS (
    SELECT 'extra_baggage' AS service, wants_extra_baggage AS wanted, booking_complete
    FROM booking_facts
    UNION ALL
    SELECT 'preferred_seat' AS service, wants_preferred_seat AS wanted, booking_complete
    FROM booking_facts
    UNION ALL
    SELECT 'in_flight_meals' AS service, wants_in_flight_meals AS wanted, booking_complete
    FROM booking_facts
)
SELECT
    service,
    wanted,
    count(*) AS bookings,
    count(*) FILTER (WHERE booking_complete = 1) AS completed,
    avg(CAST(booking_complete AS double)) AS completion_rate
FROM services
GROUP BY service, wanted
