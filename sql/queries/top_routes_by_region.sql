-- query: Top routes per destination region
-- definition: The five busiest routes of each destination region with their completion rate.
WITH routes AS (
    SELECT
        destination_region,
        route,
        count(*) AS bookings,
        avg(CAST(booking_complete AS double)) AS completion_rate
    FROM booking_facts
    GROUP BY destination_region, route
)
SELECT destination_region, route, bookings, completion_rate
FROM (
    SELECT
        *,
        row_number() OVER (PARTITION BY destination_region ORDER BY bookings DESC, route) AS rank
    FROM routes
) AS ranked
WHERE rank <= 5
ORDER BY destination_region, rank
