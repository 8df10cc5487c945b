-- A pre-aggregated cube for the interactive dashboards: for each charted dimension, bookings,
-- bookings with an outcome and completed bookings per value of that dimension crossed with the
-- filter dimensions (sales channel, trip type, booking origin region). Duplicates excluded.
WITH facts AS (
    SELECT
        sales_channel,
        trip_type,
        booking_origin_region,
        booking_complete,
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
        CAST(departure_month AS varchar) AS departure_month
    FROM booking_facts
),
dimensions (dimension) AS (
    VALUES
        'flight_day', 'departure_hour_band', 'lead_time_band', 'stay_band', 'service_tier',
        'num_passengers', 'extra_services_count', 'booking_origin', 'destination_region',
        'route', 'ingest_month', 'departure_month', 'sales_channel', 'trip_type',
        'booking_origin_region'
),
long AS (
    SELECT
        f.sales_channel,
        f.trip_type,
        f.booking_origin_region,
        f.booking_complete,
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
    count(*) FILTER (WHERE booking_complete = 1) AS completed
FROM long
GROUP BY dimension, value, sales_channel, trip_type, booking_origin_region
