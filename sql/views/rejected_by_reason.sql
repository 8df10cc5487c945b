-- kpi: Rejected rows by reason
-- definition: Rows quarantined by validation per first reason code ('field:rule'), their share
--   of all rejected rows and their rate against every row read (valid + rejected).
-- users: analyst
-- chart: horizontal bars of rejected rows per reason
-- order: rejected_rows DESC, reason
WITH totals AS (
    SELECT
        (SELECT count(*) FROM committed_bookings) + (SELECT count(*) FROM committed_rejected_bookings) AS rows_read,
        (SELECT count(*) FROM committed_rejected_bookings) AS rejected
)
SELECT
    r.reason,
    count(*) AS rejected_rows,
    CAST(count(*) AS double) / max(t.rejected) AS share_of_rejected,
    CAST(count(*) AS double) / max(t.rows_read) AS rejected_rate
FROM committed_rejected_bookings AS r
CROSS JOIN totals AS t
GROUP BY r.reason
