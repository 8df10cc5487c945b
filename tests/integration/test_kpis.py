"""Every KPI of sql/views, run through sqlglot on DuckDB, equals a plain-Python computation over
the same generated bookings (read and enriched by the project's pipeline)."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any

import pytest
from support.lake_builder import BuiltLake, build_lake

from bookings.analytics import kpi_docs, sql_files
from bookings.analytics.engine import connect
from bookings.analytics.report import run_kpis

Record = dict[str, Any]
ONE_DAY = timedelta(days=1)


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> BuiltLake:
    return build_lake(tmp_path_factory.mktemp("kpi-lake"), rows_per_file=1_500)


@pytest.fixture(scope="module")
def results(lake: BuiltLake) -> dict[str, list[Record]]:
    con = connect(lake.root)
    try:
        return {name: table.to_pylist() for name, table in run_kpis(con).items()}
    finally:
        con.close()


def counted(lake: BuiltLake) -> list[Record]:
    return [r for r in lake.bookings if not r["is_duplicate"]]


def completion(rows: Iterable[Record]) -> dict[str, Any]:
    rows = list(rows)
    outcomes = [r["booking_complete"] for r in rows if r["booking_complete"] is not None]
    completed = sum(1 for o in outcomes if o == 1)
    return {
        "bookings": len(rows),
        "completed": completed,
        "completion_rate": completed / len(outcomes) if outcomes else None,
    }


def grouped(rows: Iterable[Record], key: Callable[[Record], Any]) -> dict[Any, list[Record]]:
    groups: dict[Any, list[Record]] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    return groups


def assert_close(actual: Any, expected: Any, what: str) -> None:
    if expected is None or actual is None:
        assert actual == expected, what
    elif isinstance(expected, float):
        assert math.isclose(actual, expected, rel_tol=1e-9, abs_tol=1e-12), what
    else:
        assert actual == expected, what


def assert_rows(actual: list[Record], expected: dict[Any, dict[str, Any]], key: str) -> None:
    assert {row[key] for row in actual} == set(expected), key
    for row in actual:
        for column, value in expected[row[key]].items():
            assert_close(row[column], value, f"{key}={row[key]} {column}")


def test_the_lake_has_duplicates_live_rows_and_rejections(lake: BuiltLake) -> None:
    # Otherwise the exclusions below would test nothing.
    assert any(r["is_duplicate"] for r in lake.bookings)
    assert any(r["booking_complete"] is None for r in lake.bookings)
    assert lake.rejected


@pytest.mark.parametrize(
    ("kpi", "column"),
    [
        ("completion_by_sales_channel", "sales_channel"),
        ("completion_by_trip_type", "trip_type"),
        ("completion_by_flight_day", "flight_day"),
        ("completion_by_booking_origin", "booking_origin"),
        ("completion_by_origin_region", "booking_origin_region"),
        ("completion_by_route", "route"),
        ("completion_by_destination_region", "destination_region"),
        ("completion_by_service_tier", "service_tier"),
        ("completion_by_extras_count", "extra_services_count"),
        ("completion_by_num_passengers", "num_passengers"),
        ("completion_by_lead_time_band", "lead_time_band"),
        ("completion_by_stay_band", "stay_band"),
        ("completion_by_departure_hour_band", "departure_hour_band"),
    ],
)
def test_completion_by_dimension(
    kpi: str, column: str, lake: BuiltLake, results: dict[str, list[Record]]
) -> None:
    expected = {k: completion(v) for k, v in grouped(counted(lake), lambda r: r[column]).items()}
    assert_rows(results[kpi], expected, column)


def test_the_five_marketing_tables_have_the_agreed_columns(
    results: dict[str, list[Record]],
) -> None:
    for dimension in ("sales_channel", "trip_type", "flight_day", "booking_origin", "route"):
        rows = results[f"completion_by_{dimension}"]
        assert list(rows[0]) == [dimension, "bookings", "completed", "completion_rate"]


def test_flight_days_come_in_week_order(results: dict[str, list[Record]]) -> None:
    days = [row["flight_day"] for row in results["completion_by_flight_day"]]
    week = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert days == [d for d in week if d in days]


def test_overall_completion(lake: BuiltLake, results: dict[str, list[Record]]) -> None:
    rows = counted(lake)
    (overall,) = results["completion_overall"]
    expected = completion(rows)
    expected["with_outcome"] = sum(1 for r in rows if r["booking_complete"] is not None)
    expected["avg_passengers"] = sum(r["num_passengers"] for r in rows) / len(rows)
    expected["extras_share"] = sum(1 for r in rows if r["extra_services_count"]) / len(rows)
    for column, value in expected.items():
        assert_close(overall[column], value, column)


def test_completion_by_extra_service(lake: BuiltLake, results: dict[str, list[Record]]) -> None:
    expected = {}
    for service in ("extra_baggage", "preferred_seat", "in_flight_meals"):
        field = f"wants_{service}"
        for wanted, rows in grouped(counted(lake), lambda r, f=field: r[f]).items():
            expected[(service, wanted)] = completion(rows)
    actual = results["completion_by_extra_service"]
    assert {(r["service"], r["wanted"]) for r in actual} == set(expected)
    for row in actual:
        for column, value in expected[(row["service"], row["wanted"])].items():
            assert_close(row[column], value, f"{row['service']} {column}")


def test_segment_opportunities(lake: BuiltLake, results: dict[str, list[Record]]) -> None:
    segments = grouped(
        counted(lake), lambda r: (r["booking_origin"], r["sales_channel"], r["lead_time_band"])
    )
    rated = {}
    for key, rows in segments.items():
        outcomes = [r["booking_complete"] for r in rows if r["booking_complete"] is not None]
        rate = sum(outcomes) / len(outcomes) if outcomes else None
        rated[key] = (len(rows), len(outcomes), rate)
    best: dict[tuple[str, str], float] = {}
    for (_, channel, band), (_, with_outcome, rate) in rated.items():
        if with_outcome >= 30 and rate is not None:
            best[(channel, band)] = max(best.get((channel, band), 0.0), rate)
    actual = results["segment_opportunities"]
    assert len(actual) == len(rated)
    for row in actual:
        key = (row["booking_origin"], row["sales_channel"], row["lead_time_band"])
        bookings, _, rate = rated[key]
        benchmark = best.get(key[1:])
        opportunity = 0.0
        if benchmark is not None and rate is not None and benchmark > rate:
            opportunity = bookings * (benchmark - rate)
        assert row["bookings"] == bookings
        assert_close(row["completion_rate"], rate, f"{key} rate")
        assert_close(row["best_comparable_rate"], benchmark, f"{key} benchmark")
        assert_close(row["opportunity"], opportunity, f"{key} opportunity")
    ordered = [row["opportunity"] for row in actual]
    assert ordered == sorted(ordered, reverse=True)
    assert actual[0]["opportunity_rank"] == 1
    assert actual[0]["opportunity"] > 0


def _month(day: date) -> date:
    return day.replace(day=1)


def test_monthly_summary_with_month_over_month_and_year_over_year(
    lake: BuiltLake, results: dict[str, list[Record]]
) -> None:
    months = {
        m: completion(rows)
        for m, rows in grouped(counted(lake), lambda r: _month(r["ingested_at"].date())).items()
    }
    actual = results["monthly_summary"]
    assert [r["month"] for r in actual] == sorted(months)
    compared_yoy = 0
    for row in actual:
        month = row["month"]
        for column, value in months[month].items():
            assert_close(row[column], value, f"{month} {column}")
        previous = months.get(_month(month - ONE_DAY))
        if previous:
            expected = (row["bookings"] - previous["bookings"]) / previous["bookings"]
            assert_close(row["bookings_mom_change"], expected, f"{month} mom")
        else:
            assert row["bookings_mom_change"] is None
        last_year = months.get(month.replace(year=month.year - 1))
        if last_year:
            compared_yoy += 1
            expected = (row["bookings"] - last_year["bookings"]) / last_year["bookings"]
            assert_close(row["bookings_yoy_change"], expected, f"{month} yoy")
            rate_change = (
                None
                if row["completion_rate"] is None or last_year["completion_rate"] is None
                else row["completion_rate"] - last_year["completion_rate"]
            )
            assert_close(row["completion_rate_yoy_change"], rate_change, f"{month} yoy rate")
        else:
            assert row["bookings_yoy_change"] is None
    assert compared_yoy >= 1


def test_yearly_summary(lake: BuiltLake, results: dict[str, list[Record]]) -> None:
    years = {
        y: completion(rows)
        for y, rows in grouped(counted(lake), lambda r: r["ingested_at"].year).items()
    }
    actual = results["yearly_summary"]
    assert [r["year"] for r in actual] == sorted(years)
    for row in actual:
        for column, value in years[row["year"]].items():
            assert_close(row[column], value, f"{row['year']} {column}")


def test_departure_months(lake: BuiltLake, results: dict[str, list[Record]]) -> None:
    rows = [r for r in counted(lake) if r["departure_date"] is not None]
    expected = {
        m: completion(v) for m, v in grouped(rows, lambda r: _month(r["departure_date"])).items()
    }
    assert_rows(results["completion_by_departure_month"], expected, "month")


def test_data_quality(lake: BuiltLake, results: dict[str, list[Record]]) -> None:
    reasons = Counter(r["reason"] for r in lake.rejected)
    rows_read = len(lake.bookings) + len(lake.rejected)
    expected_reasons = {
        reason: {
            "rejected_rows": n,
            "share_of_rejected": n / len(lake.rejected),
            "rejected_rate": n / rows_read,
        }
        for reason, n in reasons.items()
    }
    assert_rows(results["rejected_by_reason"], expected_reasons, "reason")

    files = {r["source_file"] for r in lake.bookings} | {r["source_file"] for r in lake.rejected}
    expected_files = {}
    for name in files:
        valid = [r for r in lake.bookings if r["source_file"] == name]
        rejected = sum(1 for r in lake.rejected if r["source_file"] == name)
        duplicates = sum(1 for r in valid if r["is_duplicate"])
        expected_files[name] = {
            "rows_read": len(valid) + rejected,
            "rejected_rows": rejected,
            "rejected_rate": rejected / (len(valid) + rejected),
            "duplicates": duplicates,
            "duplicate_rate": duplicates / len(valid),
        }
    assert_rows(results["data_quality_by_file"], expected_files, "source_file")

    unknown = Counter(
        r["booking_origin"] for r in counted(lake) if r["booking_origin_code"] == "unknown"
    )
    assert_rows(
        results["unknown_origins"],
        {k: {"bookings": v} for k, v in unknown.items()},
        "booking_origin",
    )
    (summary,) = results["data_quality_summary"]
    assert summary["rows_read"] == rows_read
    assert summary["rejected_rows"] == len(lake.rejected)
    assert summary["duplicates"] == sum(1 for r in lake.bookings if r["is_duplicate"])
    assert summary["unknown_origins"] == sum(unknown.values())
    assert summary["without_outcome"] == sum(
        1 for r in counted(lake) if r["booking_complete"] is None
    )


def test_latest_ingests_lists_the_newest_file_first(
    lake: BuiltLake, results: dict[str, list[Record]]
) -> None:
    newest = max(lake.bookings, key=lambda r: r["ingested_at"])["source_file"]
    first = results["latest_ingests"][0]
    assert first["source_file"] == newest
    assert first["bookings"] == sum(1 for r in counted(lake) if r["source_file"] == newest)


def test_dashboard_cube_adds_up_to_each_kpi(
    lake: BuiltLake, results: dict[str, list[Record]]
) -> None:
    con = connect(lake.root)
    try:
        cube = con.sql(
            "SELECT value, sum(bookings) AS b, sum(completed) AS c FROM dashboard_cube "
            "WHERE dimension = 'flight_day' GROUP BY value"
        ).fetchall()
    finally:
        con.close()
    kpi = {
        r["flight_day"]: (r["bookings"], r["completed"])
        for r in results["completion_by_flight_day"]
    }
    assert {value: (b, c) for value, b, c in cube} == kpi


def test_every_kpi_is_documented_and_the_docs_are_current() -> None:
    for entry in sql_files.kpis():
        for key in ("kpi", "definition", "users", "chart"):
            assert entry.meta.get(key), f"{entry.path}: header has no {key}"
    assert kpi_docs.docs_path().read_text(encoding="utf-8") == kpi_docs.render(), (
        "docs/kpis.md is stale: python -m bookings.analytics.kpi_docs"
    )


def test_each_kpi_reads_only_the_columns_it_needs(lake: BuiltLake) -> None:
    from bookings.analytics.engine import kpi_query, parquet_scans
    from bookings.lake import BOOKINGS_SCHEMA

    con = connect(lake.root)
    try:
        for entry in sql_files.kpis():
            scans = parquet_scans(con, kpi_query(entry))
            assert scans, entry.name
            for scan in scans:
                # count(*) of a table reads no column at all.
                assert len(scan["columns"]) < len(BOOKINGS_SCHEMA) // 2, (entry.name, scan)
        # The bookings' scan: the KPI's columns and what committed_bookings needs to keep each
        # booking of a committed file once; the audit trail's scan: what committed_files needs.
        bookings_scan, audit_scan = parquet_scans(con, "SELECT * FROM completion_by_sales_channel")
        assert set(bookings_scan["columns"]) == {
            "sales_channel",
            "booking_complete",
            "is_duplicate",
            "booking_id",
            "source_file",
            "ingested_at",
        }
        assert set(audit_scan["columns"]) == {
            "bucket",
            "object_key",
            "sequencer",
            "source_file",
            "status",
            "finished_at",
        }
    finally:
        con.close()
