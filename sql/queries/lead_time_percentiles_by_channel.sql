-- query: Lead-time percentiles by sales channel
-- definition: Median, 90th percentile and maximum purchase lead (days) per sales channel, for
--   completed and not completed bookings.
SELECT
    sales_channel,
    booking_complete,
    count(*) AS bookings,
    approx_percentile(purchase_lead, 0.5) AS median_purchase_lead,
    approx_percentile(purchase_lead, 0.9) AS p90_purchase_lead,
    max(purchase_lead) AS max_purchase_lead
FROM booking_facts
WHERE booking_complete IS NOT NULL
GROUP BY sales_channel, booking_complete
ORDER BY sales_channel, booking_complete
