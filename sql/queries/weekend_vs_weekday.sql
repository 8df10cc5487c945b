-- query: Weekend against weekday flights
-- definition: Bookings, completion rate and average stay of weekend and weekday flights per trip
--   type.
SELECT
    trip_type,
    CASE WHEN is_weekend THEN 'weekend' ELSE 'weekday' END AS flight_days,
    count(*) AS bookings,
    avg(CAST(booking_complete AS double)) AS completion_rate,
    avg(CAST(length_of_stay AS double)) AS avg_length_of_stay
FROM booking_facts
GROUP BY trip_type, CASE WHEN is_weekend THEN 'weekend' ELSE 'weekday' END
ORDER BY trip_type, flight_days
