-- The KPI completion_by_booking_origin read from the compaction job's monthly summary table (one
-- row per month and booking_origin value) instead of a scan of the bookings: the same columns and
-- the same counts. The report reads it when the summary tables are current.
-- summary_of: completion_by_booking_origin
SELECT
    value AS booking_origin,
    CAST(sum(bookings) AS bigint) AS bookings,
    CAST(sum(completed) AS bigint) AS completed,
    CAST(sum(completed) AS double) / nullif(sum(with_outcome), 0) AS completion_rate
FROM booking_monthly_summary
WHERE dimension = 'booking_origin'
GROUP BY value
