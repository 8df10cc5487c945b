"""The yearly summary compares a year with the same complete months of the year before."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest

from bookings.analytics.dashboards import yearly_rows


def _monthly(counts: dict[str, tuple[int, int, int]]) -> pa.Table:
    rows = [
        {
            "month": date.fromisoformat(f"{month}-01"),
            "bookings": bookings,
            "with_outcome": with_outcome,
            "completed": completed,
        }
        for month, (bookings, with_outcome, completed) in sorted(counts.items())
    ]
    return pa.Table.from_pylist(rows)


def _yearly(years: list[int]) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                "year": y,
                "bookings": 0,
                "bookings_yoy_change": 1.0,
                "completion_rate_yoy_change": 1.0,
            }
            for y in years
        ]
    )


def test_a_partial_year_is_compared_with_the_same_months_of_the_year_before() -> None:
    monthly = _monthly(
        {
            "2025-01": (100, 100, 10),
            "2025-02": (100, 100, 10),
            "2025-03": (400, 400, 100),
            "2026-01": (110, 100, 20),
            "2026-02": (130, 100, 20),
        }
    )
    rows = yearly_rows(_yearly([2025, 2026]), monthly).to_pylist()
    first, second = rows
    assert first["months"] == 3
    assert first["bookings_yoy_change"] is None  # no 2024 to compare with
    assert second["months"] == 2
    # January and February only: 240 bookings against 200; 40/200 completed against 20/200.
    assert second["bookings_yoy_change"] == pytest.approx(0.2)
    assert second["completion_rate_yoy_change"] == pytest.approx(0.1)


def test_the_month_in_progress_is_left_out_of_the_comparison() -> None:
    monthly = _monthly(
        {
            "2025-01": (100, 100, 10),
            "2025-02": (100, 100, 10),
            "2026-01": (150, 100, 10),
            "2026-02": (900, 100, 10),  # still filling up
        }
    )
    rows = yearly_rows(_yearly([2025, 2026]), monthly, current_month="2026-02").to_pylist()
    assert rows[1]["months"] == 2
    assert rows[1]["bookings_yoy_change"] == pytest.approx(0.5)


def test_no_change_without_the_same_months_a_year_earlier() -> None:
    monthly = _monthly({"2025-06": (100, 100, 10), "2026-05": (100, 100, 10)})
    rows = yearly_rows(_yearly([2025, 2026]), monthly).to_pylist()
    assert rows[1]["bookings_yoy_change"] is None
    assert rows[1]["completion_rate_yoy_change"] is None
