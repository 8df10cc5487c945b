-- The KPI completion_by_route read from the compaction job's monthly summary table (one
-- row per month and route value) instead of a scan of the bookings: the same columns and
-- the same counts. The report reads it when the summary tables are current.
-- summary_of: completion_by_route
SELECT
    value AS route,
    CAST(sum(bookings) AS bigint) AS bookings,
    CAST(sum(completed) AS bigint) AS completed,
    CAST(sum(completed) AS double) / nullif(sum(with_outcome), 0) AS completion_rate
FROM booking_monthly_summary
WHERE dimension = 'route'
GROUP BY value
