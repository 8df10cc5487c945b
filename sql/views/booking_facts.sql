-- Bookings as every booking KPI counts them: those of committed files, each booking once
-- (committed_bookings). Exact duplicates of an earlier row of the same file (is_duplicate) are
-- left out, so a re-sent row never counts twice; rows without an outcome
-- (live bookings, booking_complete is null) stay in the volumes and are left out of completion
-- rates by count(booking_complete) in each KPI.
SELECT
    booking_id,
    source_file,
    row_number,
    ingested_at,
    CAST(ingest_date AS date) AS ingest_date,
    CAST(date_trunc('month', CAST(ingest_date AS date)) AS date) AS ingest_month,
    year(CAST(ingest_date AS date)) AS ingest_year,
    num_passengers,
    sales_channel,
    trip_type,
    purchase_lead,
    length_of_stay,
    flight_hour,
    flight_day,
    route,
    booking_origin,
    booking_origin_code,
    booking_origin_region,
    origin_region,
    destination_region,
    wants_extra_baggage,
    wants_preferred_seat,
    wants_in_flight_meals,
    extra_services_count,
    service_tier,
    flight_duration,
    lead_time_band,
    stay_band,
    departure_hour_band,
    is_weekend,
    departure_date,
    CAST(date_trunc('month', departure_date) AS date) AS departure_month,
    booking_complete,
    booking_complete_probability
FROM committed_bookings
WHERE coalesce(is_duplicate, false) = false
