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


def _segment(r: Record) -> tuple[str, str, str]:
    return (r["booking_origin"], r["sales_channel"], r["lead_time_band"])


def test_segment_opportunities(lake: BuiltLake, results: dict[str, list[Record]]) -> None:
    segments = {}
    for key, rows in grouped(counted(lake), _segment).items():
        outcomes = [r["booking_complete"] for r in rows if r["booking_complete"] is not None]
        segments[key] = (len(rows), len(outcomes), sum(outcomes))
    groups: dict[tuple[str, str], tuple[int, int]] = defaultdict(lambda: (0, 0))
    for (_, channel, band), (_, n, x) in segments.items():
        total_n, total_x = groups[(channel, band)]
        groups[(channel, band)] = (total_n + n, total_x + x)
    # The comparable segment: the same channel and lead-time band, every other origin.
    comparable = {}
    for key, (_, n, x) in segments.items():
        group_n, group_x = groups[key[1:]]
        comparable[key] = (group_x - x) / (group_n - n) if group_n - n else None
    # The prior's strength from the spread of rates beyond chance (method of moments).
    spread = [
        (n, x / n, comparable[key])
        for key, (_, n, x) in segments.items()
        if n and comparable[key] is not None
    ]
    outcomes = sum(n for n, _, _ in spread)
    squared = sum(n * (rate - c) ** 2 for n, rate, c in spread)
    chance = sum(c * (1 - c) for _, _, c in spread)
    typical = sum(n * c * (1 - c) for n, _, c in spread) / outcomes
    prior = max(typical / max((squared - chance) / outcomes, 1e-6) - 1, 1.0)
    actual = results["segment_opportunities"]
    assert len(actual) == len(segments)
    for row in actual:
        key = _segment(row)
        bookings, n, x = segments[key]
        c = comparable[key]
        estimated = None if c is None else (x + prior * c) / (n + prior)
        opportunity = 0.0 if estimated is None else bookings * max(c - estimated, 0.0)
        assert row["bookings"] == bookings
        assert_close(row["completion_rate"], x / n if n else None, f"{key} rate")
        assert_close(row["comparable_rate"], c, f"{key} comparable")
        assert_close(row["prior_bookings"], prior, f"{key} prior")
        assert_close(row["estimated_rate"], estimated, f"{key} estimated")
        assert_close(row["opportunity"], opportunity, f"{key} opportunity")
        assert row["comparable_segment"] == f"{key[1]}, {key[2]} days, other origins"
    ordered = [row["opportunity"] for row in actual]
    assert ordered == sorted(ordered, reverse=True)
    assert actual[0]["opportunity_rank"] == 1
    assert actual[0]["opportunity"] > 0


def test_a_small_segment_is_shrunk_towards_its_comparable_more_than_a_large_one(
    results: dict[str, list[Record]],
) -> None:
    rows = [
        r
        for r in results["segment_opportunities"]
        if r["comparable_rate"] is not None and r["with_outcome"]
    ]
    small = [r for r in rows if r["with_outcome"] < 10]
    large = [r for r in rows if r["with_outcome"] >= 200]
    assert small
    assert large
    prior = rows[0]["prior_bookings"]

    def pull(r: Record) -> float:
        """The share of the way from the segment's own rate to its comparable."""
        return r["with_outcome"] and prior / (r["with_outcome"] + prior)

    for r in rows:
        expected = r["completion_rate"] + pull(r) * (r["comparable_rate"] - r["completion_rate"])
        assert_close(r["estimated_rate"], expected, "estimated rate")
    assert min(pull(r) for r in small) > max(pull(r) for r in large)


def test_live_bookings_by_segment(lake: BuiltLake, results: dict[str, list[Record]]) -> None:
    live = [r for r in counted(lake) if r["booking_complete"] is None]
    scored = [r["booking_complete_probability"] for r in live]
    assert None in scored
    assert any(p is not None for p in scored)
    probabilities = [p for p in scored if p is not None]
    average = sum(probabilities) / len(probabilities)
    history = grouped([r for r in counted(lake) if r["booking_complete"] is not None], _segment)
    expected = {}
    for key, rows in grouped(live, _segment).items():
        p = [r["booking_complete_probability"] for r in rows]
        p = [v for v in p if v is not None]
        past = history.get(key, [])
        expected[key] = {
            "live_bookings": len(rows),
            "scored": len(p),
            "predicted_completion": sum(p) / len(p) if p else None,
            "expected_completions": float(sum(p)) if p else None,
            "with_outcome": len(past) or None,
            "completion_rate": sum(r["booking_complete"] for r in past) / len(past)
            if past
            else None,
            "completions_below_average": len(p) * max(average - sum(p) / len(p), 0.0) if p else 0.0,
        }
    actual = results["live_bookings_by_segment"]
    assert {_segment(r) for r in actual} == set(expected)
    for row in actual:
        for column, value in expected[_segment(row)].items():
            assert_close(row[column], value, f"{_segment(row)} {column}")
    ordered = [row["completions_below_average"] for row in actual]
    assert ordered == sorted(ordered, reverse=True)
    assert actual[0]["shortfall_rank"] == 1


def _month(day: date) -> date:
    return day.replace(day=1)


def _shift(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _monthly_expectations(lake: BuiltLake) -> tuple[dict[date, dict[str, Any]], date, int]:
    """Per ingest month: its figures, and those of its first days (as many as the month in
    progress, the month of the latest ingest, has had)."""
    rows = counted(lake)
    last_day = max(r["ingested_at"].date() for r in rows)
    months = {}
    for month, members in grouped(rows, lambda r: _month(r["ingested_at"].date())).items():
        first_days = [r for r in members if r["ingested_at"].day <= last_day.day]
        months[month] = {
            "all": completion(members) | {"with_outcome": _outcomes(members)},
            "to_day": completion(first_days) | {"with_outcome": _outcomes(first_days)},
        }
    return months, _month(last_day), last_day.day


def _outcomes(rows: list[Record]) -> int:
    return sum(1 for r in rows if r["booking_complete"] is not None)


def _change(now: dict[str, Any], before: dict[str, Any] | None) -> tuple[Any, Any]:
    if before is None or not before["bookings"]:
        return None, None
    bookings = (now["bookings"] - before["bookings"]) / before["bookings"]
    rate = (
        None
        if now["completion_rate"] is None or before["completion_rate"] is None
        else now["completion_rate"] - before["completion_rate"]
    )
    return bookings, rate


def test_monthly_summary_marks_the_month_in_progress_and_compares_it_on_the_same_days(
    lake: BuiltLake, results: dict[str, list[Record]]
) -> None:
    months, in_progress, days = _monthly_expectations(lake)
    actual = results["monthly_summary"]
    assert [r["month"] for r in actual] == sorted(months, reverse=True)  # newest first
    assert actual[0]["month"] == in_progress == date(2025, 2, 1)
    assert [r["month_status"] for r in actual] == ["in progress"] + ["complete"] * (len(actual) - 1)
    compared = Counter()
    for row in actual:
        month = row["month"]
        now = months[month]["all"]
        for column, value in now.items():
            assert_close(row[column], value, f"{month} {column}")
        if month == in_progress:
            assert row["days_covered"] == days == 12
            key = "to_day"
        else:
            assert row["days_covered"] == (_shift(month, 1) - month).days
            key = "all"
        for prefix, other in (("mom", _shift(month, -1)), ("yoy", _shift(month, -12))):
            before = months[other][key] if other in months else None
            bookings, rate = _change(now, before)
            assert_close(row[f"bookings_{prefix}_change"], bookings, f"{month} {prefix}")
            assert_close(row[f"completion_rate_{prefix}_change"], rate, f"{month} {prefix} rate")
            compared[(month == in_progress, prefix)] += bookings is not None
    # Each kind of comparison happened: complete months against whole months, the month in
    # progress against the first 12 days of January 2025 (one of its two files) and February 2024.
    assert compared[(False, "mom")]
    assert compared[(False, "yoy")]
    assert compared[(True, "mom")] == compared[(True, "yoy")] == 1
    january = months[date(2025, 1, 1)]
    assert 0 < january["to_day"]["bookings"] < january["all"]["bookings"]


def test_yearly_summary_counts_complete_months_and_compares_the_same_months(
    lake: BuiltLake, results: dict[str, list[Record]]
) -> None:
    months, in_progress, _ = _monthly_expectations(lake)
    years = {
        y: completion(rows)
        for y, rows in grouped(counted(lake), lambda r: r["ingested_at"].year).items()
    }
    actual = results["yearly_summary"]
    assert [r["year"] for r in actual] == sorted(years, reverse=True)
    for row in actual:
        year = row["year"]
        for column, value in years[year].items():
            assert_close(row[column], value, f"{year} {column}")
        complete = sorted(m for m in months if m.year == year and m != in_progress)
        assert row["complete_months"] == len(complete)
        assert row["has_month_in_progress"] == (in_progress.year == year)
        before = [months.get(m.replace(year=year - 1)) for m in complete]
        if complete and all(before):
            now_rows = [months[m]["all"] for m in complete]
            then = [b["all"] for b in before if b]
            total = sum(r["bookings"] for r in now_rows)
            total_before = sum(r["bookings"] for r in then)
            rate = sum(r["completed"] for r in now_rows) / sum(r["with_outcome"] for r in now_rows)
            rate_before = sum(r["completed"] for r in then) / sum(r["with_outcome"] for r in then)
            assert_close(
                row["bookings_yoy_change"], (total - total_before) / total_before, f"{year}"
            )
            assert_close(row["completion_rate_yoy_change"], rate - rate_before, f"{year} rate")
        else:
            assert row["bookings_yoy_change"] is None
            assert row["completion_rate_yoy_change"] is None
    # 2025: January is complete (compared with January 2024), February is in progress.
    assert (actual[0]["year"], actual[0]["complete_months"]) == (2025, 1)
    assert actual[0]["bookings_yoy_change"] is not None


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
    for quarantined in lake.quarantined:
        expected_files[quarantined["source_file"]] = {
            "status": "quarantined",
            "reason": quarantined["reason"],
            "rows_read": 0,
            "rejected_rows": 0,
            "rejected_rate": None,
        }
    for name in files:
        expected_files[name] |= {"status": "delivered", "reason": None}
    by_file = results["data_quality_by_file"]
    assert_rows(by_file, expected_files, "source_file")
    for row in by_file:
        assert row["file_name"] == row["source_file"].split("/")[-1].split("#")[0]
    assert by_file[0]["status"] == "quarantined"  # where the analyst looks first

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
    assert summary["quarantined_files"] == len(lake.quarantined) == 1


def test_latest_ingests_lists_the_newest_file_first_with_readable_names(
    lake: BuiltLake, results: dict[str, list[Record]]
) -> None:
    rows = results["latest_ingests"]
    # The quarantined file came last (11:00 on the last day), with its reason and no bookings.
    (quarantined,) = lake.quarantined
    first = rows[0]
    assert first["source_file"] == quarantined["source_file"]
    assert (first["status"], first["bookings"]) == ("quarantined", 0)
    assert first["reason"] == quarantined["reason"]
    assert first["file_name"] == "export_error_2025-02-12.csv"
    newest = max(lake.bookings, key=lambda r: r["ingested_at"])["source_file"]
    second = rows[1]
    assert (second["source_file"], second["status"]) == (newest, "delivered")
    assert second["bookings"] == sum(1 for r in counted(lake) if r["source_file"] == newest)
    assert second["file_name"] == newest  # the builder's files carry their bare name
    stamps = [r["last_ingested_at"] for r in rows]
    assert stamps == sorted(stamps, reverse=True)


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


def test_dashboard_cube_measures_and_the_months_first_days(lake: BuiltLake) -> None:
    con = connect(lake.root)
    try:
        rows = con.sql(
            "SELECT dimension, value, sum(bookings), sum(with_extras), sum(live_scored), "
            "sum(live_predicted) FROM dashboard_cube "
            "WHERE dimension IN ('sales_channel', 'ingest_month', 'ingest_month_to_day') "
            "GROUP BY dimension, value"
        ).fetchall()
    finally:
        con.close()
    cube = {(d, v): measures for d, v, *measures in rows}
    for channel, members in grouped(counted(lake), lambda r: r["sales_channel"]).items():
        live = [
            r["booking_complete_probability"]
            for r in members
            if r["booking_complete"] is None and r["booking_complete_probability"] is not None
        ]
        bookings, extras, scored, predicted = cube[("sales_channel", channel)]
        assert bookings == len(members)
        assert extras == sum(1 for r in members if r["extra_services_count"] > 0)
        assert scored == len(live)
        assert_close(predicted, sum(live) if live else None, channel)
    months, _, days = _monthly_expectations(lake)
    for month, figures in months.items():
        assert cube[("ingest_month", str(month))][0] == figures["all"]["bookings"]
        first_days = cube.get(("ingest_month_to_day", str(month)), [0])[0]
        assert first_days == figures["to_day"]["bookings"], (month, days)


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
