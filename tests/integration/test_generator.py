"""The booking file generator: determinism, marginals and quirks of the public file, faults."""

from __future__ import annotations

import csv
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from booking_core import geo
from booking_core.schema import SOURCE_FIELDS, BookingSource
from pydantic import ValidationError
from support.paths import ROOT

from bookings.cli import main
from bookings.generator import (
    FAULT_WEIGHTS,
    MAX_DURATION_HOURS,
    MIN_DURATION_HOURS,
    generate_rows,
    write_csv,
)

REPOSITORY = ROOT
ROWS = 50_000


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    return list(generate_rows(ROWS, seed=2024))


def share(rows: list[dict[str, Any]], name: str, value: Any) -> float:
    return sum(row[name] == value for row in rows) / len(rows)


def test_same_seed_same_rows_other_seed_other_rows() -> None:
    first = list(generate_rows(2_000, seed=5))
    assert first == list(generate_rows(2_000, seed=5))
    assert first != list(generate_rows(2_000, seed=6))


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    for name in ("a.csv", "b.csv"):
        write_csv(tmp_path / name, generate_rows(3_000, seed=9), dirty=0.1, seed=9)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_rows_carry_the_fourteen_source_fields(rows: list[dict[str, Any]]) -> None:
    assert all(tuple(row) == SOURCE_FIELDS for row in rows[:1000])
    assert len(rows) == ROWS


@pytest.mark.parametrize(
    ("value", "expected", "tolerance"),
    [(1, 0.627, 0.01), (2, 0.256, 0.01), (3, 0.059, 0.005), (4, 0.036, 0.004), (9, 0.0013, 0.001)],
)
def test_passenger_shares(
    rows: list[dict[str, Any]], value: int, expected: float, tolerance: float
) -> None:
    assert share(rows, "num_passengers", value) == pytest.approx(expected, abs=tolerance)


def test_categorical_marginals(rows: list[dict[str, Any]]) -> None:
    assert share(rows, "sales_channel", "Internet") == pytest.approx(0.888, abs=0.01)
    assert share(rows, "trip_type", "RoundTrip") == pytest.approx(0.990, abs=0.003)
    assert share(rows, "trip_type", "OneWay") == pytest.approx(0.0077, abs=0.002)
    assert share(rows, "trip_type", "CircleTrip") == pytest.approx(0.0023, abs=0.001)
    for day, expected in {"Mon": 0.162, "Sat": 0.116, "Sun": 0.131}.items():
        assert share(rows, "flight_day", day) == pytest.approx(expected, abs=0.01)
    assert share(rows, "wants_extra_baggage", 1) == pytest.approx(0.669, abs=0.02)
    assert share(rows, "wants_preferred_seat", 1) == pytest.approx(0.297, abs=0.015)
    assert share(rows, "wants_in_flight_meals", 1) == pytest.approx(0.427, abs=0.015)


def test_purchase_lead_has_a_long_tail(rows: list[dict[str, Any]]) -> None:
    leads = [row["purchase_lead"] for row in rows]
    assert statistics.mean(leads) == pytest.approx(85, abs=8)
    assert statistics.median(leads) == pytest.approx(51, abs=6)
    assert statistics.stdev(leads) == pytest.approx(90, abs=10)
    assert min(leads) == 0
    assert 600 < max(leads) <= 867
    assert 0 < sum(lead > 365 for lead in leads) < 0.05 * len(leads)


def test_length_of_stay_shape_and_gaps(rows: list[dict[str, Any]]) -> None:
    stays = [row["length_of_stay"] for row in rows]
    assert statistics.mean(stays) == pytest.approx(23, abs=3)
    assert statistics.median(stays) == pytest.approx(17, abs=2)
    assert statistics.quantiles(stays, n=4)[2] == pytest.approx(28, abs=3)
    assert max(stays) <= 778
    counts = Counter(stays)
    # Two peaks: short holidays (4-6 days) and two to four weeks; a dip in between.
    assert min(counts[d] for d in (4, 5, 6)) > 2 * counts[10]
    assert max(counts[d] for d in range(17, 31)) > 2 * counts[10]
    # Gaps: most values above two months never occur.
    long_values = {s for s in stays if s > 60}
    assert 20 < len(long_values) < 0.2 * (778 - 60)


def test_flight_hour(rows: list[dict[str, Any]]) -> None:
    hours = [row["flight_hour"] for row in rows]
    assert statistics.mean(hours) == pytest.approx(9.1, abs=0.4)
    assert statistics.stdev(hours) == pytest.approx(5.4, abs=0.4)
    assert sum(h >= 18 for h in hours) < 0.12 * len(hours)


def test_routes_are_real_sorted_and_have_a_fixed_duration(rows: list[dict[str, Any]]) -> None:
    durations: dict[str, set[float]] = {}
    for row in rows:
        durations.setdefault(row["route"], set()).add(row["flight_duration"])
    assert 700 <= len(durations) <= 850
    for route, values in durations.items():
        assert len(values) == 1, route
        (duration,) = values
        assert MIN_DURATION_HOURS <= duration <= MAX_DURATION_HOURS
        assert round(duration, 2) == duration
        origin, destination = route[:3], route[3:]
        assert origin < destination
        assert origin in geo.airports()
        assert destination in geo.airports()
    mean_duration = statistics.mean(row["flight_duration"] for row in rows)
    assert mean_duration == pytest.approx(7.28, abs=0.3)
    popularity = Counter(row["route"] for row in rows)
    assert 2 <= sum(count > 0.01 * ROWS for count in popularity.values()) <= 30
    assert statistics.median(popularity.values()) < 0.001 * ROWS


def test_booking_origins(rows: list[dict[str, Any]]) -> None:
    origins = Counter(row["booking_origin"] for row in rows)
    assert 90 <= len(origins) <= 104
    for name, expected in {"Australia": 0.357, "Malaysia": 0.143, "South Korea": 0.091}.items():
        assert origins[name] / ROWS == pytest.approx(expected, abs=0.01)
    assert origins["(not set)"] > 0
    assert all(geo.country_code(name) for name in origins if name != "(not set)")


def test_origins_correlate_with_routes(rows: list[dict[str, Any]]) -> None:
    def home_share(origin: str, country: str) -> float:
        mine = [row for row in rows if row["booking_origin"] == origin]
        touching = [
            row
            for row in mine
            if country
            in (geo.airport(row["route"][:3]).country, geo.airport(row["route"][3:]).country)
        ]
        return len(touching) / len(mine)

    assert home_share("Malaysia", "MY") > 0.7
    assert home_share("Australia", "AU") > 0.7
    assert home_share("Japan", "AU") < home_share("Australia", "AU") - 0.3


def test_completion_depends_on_origin_extras_channel(rows: list[dict[str, Any]]) -> None:
    def rate(selected: list[dict[str, Any]]) -> float:
        return sum(row["booking_complete"] for row in selected) / len(selected)

    overall = rate(rows)
    assert 0.13 <= overall <= 0.17
    assert rate([r for r in rows if r["booking_origin"] == "Australia"]) < 0.09
    assert rate([r for r in rows if r["booking_origin"] == "Malaysia"]) > 2 * overall
    assert rate([r for r in rows if r["booking_origin"] == "Indonesia"]) > 1.5 * overall
    by_extras = [
        rate(
            [
                r
                for r in rows
                if r["wants_extra_baggage"] + r["wants_preferred_seat"] + r["wants_in_flight_meals"]
                == count
            ]
        )
        for count in range(4)
    ]
    assert by_extras == sorted(by_extras)
    assert rate([r for r in rows if r["sales_channel"] == "Mobile"]) < rate(
        [r for r in rows if r["sales_channel"] == "Internet"]
    )
    assert rate([r for r in rows if r["length_of_stay"] > 30]) < overall


def test_completion_has_non_linear_shapes_and_interactions(rows: list[dict[str, Any]]) -> None:
    def rate(selected: list[dict[str, Any]]) -> float:
        return sum(row["booking_complete"] for row in selected) / len(selected)

    def odds(probability: float) -> float:
        return probability / (1 - probability)

    def band(name: str, low: int, high: int) -> list[dict[str, Any]]:
        return [r for r in rows if low <= r[name] <= high]

    # Completion peaks for mid-range lead times, falling for very short and very long ones.
    peak = rate(band("purchase_lead", 31, 60))
    assert peak > 2 * rate(band("purchase_lead", 0, 14))
    assert peak > 2 * rate(band("purchase_lead", 251, 867))
    # Short stays complete far more often than long ones; beyond a month the stay is flat.
    beyond_a_month = rate(band("length_of_stay", 31, 60))
    assert rate(band("length_of_stay", 3, 6)) > 2 * beyond_a_month
    assert abs(rate(band("length_of_stay", 61, 778)) - beyond_a_month) < 0.03
    # The best flight hours differ by route: overnight on long-haul, morning on shorter ones.
    long_haul = [r for r in rows if r["flight_duration"] >= 8]
    shorter = [r for r in rows if r["flight_duration"] < 8]
    overnight = [r for r in long_haul if r["flight_hour"] <= 4 or r["flight_hour"] >= 21]
    assert rate(overnight) > rate([r for r in long_haul if 10 <= r["flight_hour"] <= 16]) + 0.05
    morning = [r for r in shorter if 6 <= r["flight_hour"] <= 11]
    assert rate(morning) > rate([r for r in shorter if r["flight_hour"] <= 4]) + 0.05

    # Extra baggage matters more to customers of a long-haul origin than of a short-haul one.
    def baggage_odds_ratio(origin: str) -> float:
        mine = [r for r in rows if r["booking_origin"] == origin]
        with_bags = rate([r for r in mine if r["wants_extra_baggage"]])
        without = rate([r for r in mine if not r["wants_extra_baggage"]])
        return odds(with_bags) / odds(without)

    assert baggage_odds_ratio("Australia") > 1.7
    assert baggage_odds_ratio("Malaysia") < 1.6


def test_about_one_and_a_half_percent_exact_duplicates_interleaved(
    rows: list[dict[str, Any]],
) -> None:
    seen: set[tuple[Any, ...]] = set()
    positions = []
    for index, row in enumerate(rows):
        key = tuple(row.values())
        if key in seen:
            positions.append(index)
        seen.add(key)
    assert 0.010 * ROWS <= len(positions) <= 0.018 * ROWS
    assert positions[0] < ROWS // 10
    assert sum(p < ROWS // 2 for p in positions) > 0.3 * len(positions)


def read_raw(path: Path, encoding: str) -> list[list[str]]:
    with open(path, encoding=encoding, newline="") as handle:
        return list(csv.reader(handle))


def test_default_file_is_written_like_the_public_one(tmp_path: Path) -> None:
    path = tmp_path / "bookings.csv"
    sample = list(generate_rows(500, seed=3))
    sample[10] = {**sample[10], "booking_origin": "Réunion"}
    write_csv(path, sample)
    data = path.read_bytes()
    assert data.startswith(b"num_passengers,sales_channel,")
    assert not data.startswith(b"\xef\xbb\xbf")
    assert b"R\xe9union" in data
    assert data.count(b"\r\n") == 500
    assert data.count(b"\n") == 500
    assert not data.endswith(b"\n")
    lines = data.decode("latin-1").split("\r\n")
    assert lines[0] == ",".join(SOURCE_FIELDS)
    assert len(lines) == 501


@pytest.mark.parametrize(
    ("encoding", "bom", "reunion"),
    [
        ("utf-8", b"", "Réunion".encode()),
        ("utf-8-sig", b"\xef\xbb\xbf", "Réunion".encode()),
        ("latin-1", b"", b"R\xe9union"),
    ],
)
def test_encodings_and_line_endings(
    tmp_path: Path, encoding: str, bom: bytes, reunion: bytes
) -> None:
    path = tmp_path / "bookings.csv"
    sample = [{**row, "booking_origin": "Réunion"} for row in generate_rows(50, seed=4)]
    write_csv(path, sample, encoding=encoding, line_endings="lf")
    data = path.read_bytes()
    assert data.startswith(bom + b"num_passengers,")
    assert reunion in data
    assert b"\r" not in data
    assert data.count(b"\n") == 50


def test_live_file_has_no_outcome_column(tmp_path: Path) -> None:
    path = tmp_path / "live.csv"
    write_csv(path, generate_rows(100, seed=5), outcome=False)
    table = read_raw(path, "latin-1")
    assert table[0] == list(SOURCE_FIELDS[:-1])
    assert all(len(line) == 13 for line in table)


def test_clean_rows_all_fit_the_source_schema(tmp_path: Path) -> None:
    path = tmp_path / "clean.csv"
    summary = write_csv(path, generate_rows(5_000, seed=8), dirty=0.0)
    table = read_raw(path, "latin-1")
    assert summary.faulty_rows == 0
    assert len(table) == 5_001
    for line in table[1:]:
        BookingSource.model_validate(dict(zip(table[0], line, strict=True)))


def invalid_rows(table: list[list[str]]) -> int:
    header, invalid = table[0], 0
    for line in table[1:]:
        if not line:
            continue
        if len(line) != len(header):
            invalid += 1
            continue
        try:
            BookingSource.model_validate(dict(zip(header, line, strict=True)))
        except ValidationError:
            invalid += 1
    return invalid


def test_dirty_fraction_and_fault_kinds(tmp_path: Path) -> None:
    path = tmp_path / "dirty.csv"
    rows = 20_000
    summary = write_csv(
        path,
        generate_rows(rows, seed=12),
        dirty=0.1,
        encoding="utf-8-sig",
        line_endings="lf",
        seed=12,
    )
    assert summary.rows == rows
    # Binomial(20000, 0.1): standard deviation ~42.
    assert abs(summary.faulty_rows - 0.1 * rows) < 200
    assert set(summary.faults) == set(FAULT_WEIGHTS)
    table = read_raw(path, "utf-8-sig")
    blank = sum(1 for line in table if not line)
    assert blank == summary.blank_lines > 0
    assert len(table) - 1 - blank == rows
    # Every fault but a mangled origin makes the raw row break the source schema.
    assert invalid_rows(table) == summary.faulty_rows - summary.faults["mangled_origin"]
    text = path.read_text(encoding="utf-8-sig")
    assert "RÃ©union" in text
    assert text.count(",".join(SOURCE_FIELDS)) == 1 + summary.faults["repeated_header"]


def test_shipped_samples_match_their_documented_commands(tmp_path: Path) -> None:
    readme = (REPOSITORY / "data" / "README.md").read_text(encoding="utf-8")
    commands = [
        ("sample_bookings.csv", ["--rows", "1000", "--seed", "26"]),
        (
            "sample_dirty.csv",
            ["--rows", "1000", "--seed", "2", "--dirty", "0.05", "--encoding", "utf-8-sig",
             "--line-endings", "lf"],
        ),
        ("sample_live.csv", ["--rows", "200", "--seed", "3", "--no-outcome"]),
    ]  # fmt: skip
    for name, arguments in commands:
        documented = " ".join(["bookings generate", *arguments, "--out", f"data/{name}"])
        assert documented in readme
        out = tmp_path / name
        assert main(["generate", *arguments, "--out", str(out)]) == 0
        assert out.read_bytes() == (REPOSITORY / "data" / name).read_bytes(), name


def test_cli_rejects_a_bad_fraction_and_a_missing_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["generate", "--rows", "10", "--dirty", "1.5", "--out", str(tmp_path / "x.csv")])
    assert exited.value.code == 2
    assert main(["generate", "--rows", "10", "--out", str(tmp_path / "no" / "x.csv")]) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert "does not exist" in error
    assert "Traceback" not in error


def test_generated_file_round_trips_through_csv(tmp_path: Path) -> None:
    path = tmp_path / "round.csv"
    original = list(generate_rows(1_000, seed=21))
    write_csv(path, original, encoding="utf-8")
    table = read_raw(path, "utf-8")
    parsed = [
        BookingSource.model_validate(dict(zip(table[0], line, strict=True))).model_dump()
        for line in table[1:]
    ]
    assert parsed == original
