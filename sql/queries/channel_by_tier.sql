-- query: Sales channel by service tier
-- definition: Completion rate of each sales channel within each service tier, with the tier's
--   share of the channel's bookings.
SELECT
    sales_channel,
    service_tier,
    count(*) AS bookings,
    CAST(count(*) AS double) / sum(count(*)) OVER (PARTITION BY sales_channel) AS share_of_channel,
    avg(CAST(booking_complete AS double)) AS completion_rate
FROM booking_facts
GROUP BY sales_channel, service_tier
ORDER BY sales_channel, service_tier
