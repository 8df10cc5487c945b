-- kpi: Segment opportunities
-- definition: Segments of booking origin x sales channel x lead-time band with their bookings,
--   completed bookings and completion rate. A segment's comparables share its sales channel
--   and lead-time band; the best comparable rate is the highest completion rate among those
--   with at least 30 bookings with an outcome. opportunity = bookings x (best comparable rate
--   - completion rate), floored at 0: the completions gained if the segment converted like its
--   best comparable. Ranked by volume, completion and opportunity (1 = first).
-- users: marketing (campaign targeting), analyst
-- chart: campaign targeting table of the top segments by opportunity; filterable
-- order: opportunity_rank, volume_rank
WITH segments AS (
    SELECT
        booking_origin,
        booking_origin_region,
        sales_channel,
        lead_time_band,
        count(*) AS bookings,
        count(booking_complete) AS with_outcome,
        count(*) FILTER (WHERE booking_complete = 1) AS completed
    FROM booking_facts
    GROUP BY booking_origin, booking_origin_region, sales_channel, lead_time_band
),
rated AS (
    SELECT
        *,
        CAST(completed AS double) / nullif(with_outcome, 0) AS completion_rate
    FROM segments
),
benchmarks AS (
    SELECT sales_channel, lead_time_band, max(completion_rate) AS best_comparable_rate
    FROM rated
    WHERE with_outcome >= 30
    GROUP BY sales_channel, lead_time_band
),
scored AS (
    SELECT
        r.booking_origin,
        r.booking_origin_region,
        r.sales_channel,
        r.lead_time_band,
        r.bookings,
        r.with_outcome,
        r.completed,
        r.completion_rate,
        b.best_comparable_rate,
        CASE
            WHEN b.best_comparable_rate IS NULL OR r.completion_rate IS NULL THEN 0.0
            WHEN b.best_comparable_rate > r.completion_rate
                THEN r.bookings * (b.best_comparable_rate - r.completion_rate)
            ELSE 0.0
        END AS opportunity
    FROM rated AS r
    LEFT JOIN benchmarks AS b
        ON r.sales_channel = b.sales_channel AND r.lead_time_band = b.lead_time_band
)
SELECT
    *,
    rank() OVER (ORDER BY bookings DESC) AS volume_rank,
    rank() OVER (ORDER BY completion_rate DESC NULLS LAST) AS completion_rank,
    rank() OVER (ORDER BY opportunity DESC) AS opportunity_rank
FROM scored
