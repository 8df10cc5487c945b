-- query: Model calibration by score decile
-- definition: For scored bookings that have an outcome: the mean predicted completion
--   probability against the observed completion rate, per decile of the score.
SELECT
    least(CAST(floor(booking_complete_probability * 10) AS integer), 9) AS score_decile,
    count(*) AS bookings,
    avg(booking_complete_probability) AS mean_predicted,
    avg(CAST(booking_complete AS double)) AS observed_rate
FROM booking_facts
WHERE booking_complete_probability IS NOT NULL AND booking_complete IS NOT NULL
GROUP BY least(CAST(floor(booking_complete_probability * 10) AS integer), 9)
ORDER BY score_decile
