-- kpi: Predicted completion of live bookings by segment
-- definition: Live bookings (no outcome yet, booking_complete is null) per segment of booking
--   origin x sales channel x lead-time band (the campaign targeting segments): live bookings,
--   those the model scored, predicted_completion (the mean booking_complete_probability of the
--   scored ones), expected_completions (the sum of those probabilities) and, for comparison,
--   the segment's completion rate over its bookings with an outcome. completions_below_average =
--   scored x (the predicted completion of every scored live booking - the segment's), floored
--   at 0: the completions the segment lacks for converting below the average live booking,
--   large where predicted completion is low against a large volume. Ranked by it (1 = first).
-- users: marketing
-- chart: scatter of live bookings against predicted completion per segment, table of the
--   segments with the most completions below average; filterable
-- order: shortfall_rank, live_bookings DESC, booking_origin
WITH live AS (
    SELECT
        booking_origin,
        booking_origin_region,
        sales_channel,
        lead_time_band,
        count(*) AS live_bookings,
        count(booking_complete_probability) AS scored,
        avg(booking_complete_probability) AS predicted_completion,
        sum(booking_complete_probability) AS expected_completions
    FROM booking_facts
    WHERE booking_complete IS NULL
    GROUP BY booking_origin, booking_origin_region, sales_channel, lead_time_band
),
history AS (
    SELECT
        booking_origin,
        sales_channel,
        lead_time_band,
        count(booking_complete) AS with_outcome,
        avg(CAST(booking_complete AS double)) AS completion_rate
    FROM booking_facts
    WHERE booking_complete IS NOT NULL
    GROUP BY booking_origin, sales_channel, lead_time_band
),
average AS (
    SELECT avg(booking_complete_probability) AS predicted_completion
    FROM booking_facts
    WHERE booking_complete IS NULL
),
compared AS (
    SELECT
        l.*,
        h.with_outcome,
        h.completion_rate,
        coalesce(l.scored * greatest(a.predicted_completion - l.predicted_completion, 0.0), 0.0)
            AS completions_below_average
    FROM live AS l
    CROSS JOIN average AS a
    LEFT JOIN history AS h
        ON h.booking_origin = l.booking_origin
        AND h.sales_channel = l.sales_channel
        AND h.lead_time_band = l.lead_time_band
)
SELECT
    *,
    rank() OVER (ORDER BY completions_below_average DESC) AS shortfall_rank
FROM compared
