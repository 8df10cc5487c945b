-- The bookings users query (every booking KPI reads them through booking_facts): the rows of
-- committed files (committed_files: the latest version of each key) and the bookings posted to
-- the HTTP API (committed per request, source_file 'api#...'), each booking_id once (Firehose
-- delivers at least once; a file uploaded again after a failure delivers its rows again).
-- Columns keep the Glue table's types (the offline lake stores row_number as a 64-bit integer,
-- the table declares int; ingest_date is the table's string partition).
WITH visible AS (
    SELECT
        b.*,
        row_number() OVER (PARTITION BY b.booking_id ORDER BY b.ingested_at) AS copy_number
    FROM bookings AS b
    WHERE
        b.source_file IN (SELECT source_file FROM committed_files)
        OR b.source_file LIKE 'api#%'
)
SELECT
    num_passengers,
    sales_channel,
    trip_type,
    purchase_lead,
    length_of_stay,
    flight_hour,
    flight_day,
    route,
    booking_origin,
    wants_extra_baggage,
    wants_preferred_seat,
    wants_in_flight_meals,
    flight_duration,
    booking_complete,
    schema_version,
    booking_id,
    source_file,
    CAST(row_number AS integer) AS row_number,
    ingested_at,
    origin_airport,
    origin_city,
    origin_country,
    origin_region,
    origin_timezone,
    destination_airport,
    destination_city,
    destination_country,
    destination_region,
    destination_timezone,
    route_distance_km,
    is_domestic,
    booking_origin_code,
    booking_origin_region,
    lead_time_band,
    stay_band,
    departure_hour_band,
    is_weekend,
    extra_services_count,
    service_tier,
    is_duplicate,
    booking_date,
    departure_date,
    return_date,
    departure_month,
    booking_complete_probability,
    model_version,
    CAST(ingest_date AS varchar) AS ingest_date
FROM visible
WHERE copy_number = 1
