-- A pre-aggregated cube for the interactive dashboards: for each charted dimension, bookings,
-- bookings with an outcome, completed bookings, bookings with an extra service, and the live
-- bookings (no outcome yet) the model scored with the sum of their probabilities, per value of
-- that dimension crossed with the filter dimensions (sales channel, trip type, booking origin
-- region). Duplicates excluded. ingest_month_to_day counts each month's first days only, as many
-- as the month of the latest ingest has had: what a month in progress is compared with.
WITH latest AS (
    SELECT max(ingest_date) AS last_ingest_date
    FROM booking_facts
),
facts AS (
    SELECT
        sales_channel,
        trip_type,
        booking_origin_region,
        booking_complete,
        IF(extra_services_count > 0, 1, 0) AS with_extras,
        IF(booking_complete IS NULL, booking_complete_probability) AS live_probability,
        flight_day,
        departure_hour_band,
        lead_time_band,
        stay_band,
        service_tier,
        CAST(num_passengers AS varchar) AS num_passengers,
        CAST(extra_services_count AS varchar) AS extra_services_count,
        booking_origin,
        destination_region,
        route,
        CAST(ingest_month AS varchar) AS ingest_month,
        CAST(departure_month AS varchar) AS departure_month,
        IF(
            day_of_month(ingest_date) <= day_of_month(l.last_ingest_date),
            CAST(ingest_month AS varchar)
        ) AS ingest_month_to_day
    FROM booking_facts
    CROSS JOIN latest AS l
),
dimensions (dimension) AS (
    VALUES
        'flight_day', 'departure_hour_band', 'lead_time_band', 'stay_band', 'service_tier',
        'num_passengers', 'extra_services_count', 'booking_origin', 'destination_region',
        'route', 'ingest_month', 'ingest_month_to_day', 'departure_month', 'sales_channel',
        'trip_type', 'booking_origin_region'
),
long AS (
    SELECT
        f.sales_channel,
        f.trip_type,
        f.booking_origin_region,
        f.booking_complete,
        f.with_extras,
        f.live_probability,
        d.dimension,
        CASE d.dimension
            WHEN 'flight_day' THEN f.flight_day
            WHEN 'departure_hour_band' THEN f.departure_hour_band
            WHEN 'lead_time_band' THEN f.lead_time_band
            WHEN 'stay_band' THEN f.stay_band
            WHEN 'service_tier' THEN f.service_tier
            WHEN 'num_passengers' THEN f.num_passengers
            WHEN 'extra_services_count' THEN f.extra_services_count
            WHEN 'booking_origin' THEN f.booking_origin
            WHEN 'destination_region' THEN f.destination_region
            WHEN 'route' THEN f.route
            WHEN 'ingest_month' THEN f.ingest_month
            WHEN 'ingest_month_to_day' THEN f.ingest_month_to_day
            WHEN 'departure_month' THEN f.departure_month
            WHEN 'sales_channel' THEN f.sales_channel
            WHEN 'trip_type' THEN f.trip_type
            WHEN 'booking_origin_region' THEN f.booking_origin_region
        END AS value
    FROM facts AS f
    CROSS JOIN dimensions AS d
)
SELECT
    dimension,
    value,
    sales_channel,
    trip_type,
    booking_origin_region,
    count(*) AS bookings,
    count(booking_complete) AS with_outcome,
    count(*) FILTER (WHERE booking_complete = 1) AS completed,
    sum(with_extras) AS with_extras,
    count(live_probability) AS live_scored,
    sum(live_probability) AS live_predicted
FROM long
WHERE value IS NOT NULL OR dimension <> 'ingest_month_to_day'
GROUP BY dimension, value, sales_channel, trip_type, booking_origin_region
