-- kpi: Segment opportunities (campaign targeting)
-- definition: Segments of booking origin x sales channel x lead-time band. A segment is compared
--   with its comparable segment: the bookings of the same sales channel and lead-time band from
--   every other origin (comparable_segment names it, comparable_rate is its completion rate).
--   A small segment's own rate is mostly noise, so it is shrunk towards the comparable rate
--   (empirical Bayes: estimated_rate = (completed + k x comparable_rate) / (with_outcome + k),
--   with k, prior_bookings, estimated from how far segment rates spread around their
--   comparables beyond what chance explains; a segment with many outcomes keeps nearly its
--   own rate, one with a few moves most of the way). rate_gap = comparable_rate -
--   estimated_rate; opportunity = bookings x rate_gap, floored at 0: the completions gained if
--   the segment converted like the other origins booking through the same channel as far
--   ahead. Ranked by volume, completion and opportunity (1 = first).
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
groups AS (
    SELECT
        sales_channel,
        lead_time_band,
        sum(with_outcome) AS with_outcome,
        sum(completed) AS completed
    FROM segments
    GROUP BY sales_channel, lead_time_band
),
compared AS (
    -- Each segment beside the rest of its channel and lead-time band (the other origins).
    SELECT
        s.*,
        CAST(s.completed AS double) / nullif(s.with_outcome, 0) AS completion_rate,
        s.sales_channel || ', ' || s.lead_time_band || ' days, other origins'
            AS comparable_segment,
        g.with_outcome - s.with_outcome AS comparable_with_outcome,
        CAST(g.completed - s.completed AS double) / nullif(g.with_outcome - s.with_outcome, 0)
            AS comparable_rate
    FROM segments AS s
    JOIN groups AS g ON g.sales_channel = s.sales_channel AND g.lead_time_band = s.lead_time_band
),
spread AS (
    -- Sum of with_outcome x (rate - comparable)^2 is about sum(with_outcome) x the variance of
    -- true segment rates plus sum(comparable x (1 - comparable)), the part chance explains.
    SELECT
        sum(with_outcome * power(completion_rate - comparable_rate, 2)) AS squared_gaps,
        sum(comparable_rate * (1 - comparable_rate)) AS chance_squared_gaps,
        sum(with_outcome) AS outcomes,
        sum(with_outcome * comparable_rate * (1 - comparable_rate)) / sum(with_outcome)
            AS typical_variance
    FROM compared
    WHERE with_outcome > 0 AND comparable_rate IS NOT NULL
),
prior AS (
    -- A Beta prior around the comparable rate whose variance is that of the true rates holds
    -- p(1 - p) / variance - 1 bookings' worth of evidence.
    SELECT
        greatest(
            typical_variance
                / greatest((squared_gaps - chance_squared_gaps) / outcomes, 1e-6) - 1,
            1.0
        ) AS prior_bookings
    FROM spread
),
estimated AS (
    SELECT
        c.*,
        p.prior_bookings,
        (c.completed + p.prior_bookings * c.comparable_rate)
            / (c.with_outcome + p.prior_bookings) AS estimated_rate
    FROM compared AS c
    CROSS JOIN prior AS p
),
scored AS (
    SELECT
        booking_origin,
        booking_origin_region,
        sales_channel,
        lead_time_band,
        bookings,
        with_outcome,
        completed,
        completion_rate,
        estimated_rate,
        comparable_segment,
        comparable_with_outcome,
        comparable_rate,
        comparable_rate - estimated_rate AS rate_gap,
        coalesce(bookings * greatest(comparable_rate - estimated_rate, 0.0), 0.0) AS opportunity,
        prior_bookings
    FROM estimated
)
SELECT
    *,
    rank() OVER (ORDER BY bookings DESC) AS volume_rank,
    rank() OVER (ORDER BY completion_rate DESC NULLS LAST) AS completion_rank,
    rank() OVER (ORDER BY opportunity DESC) AS opportunity_rank
FROM scored
