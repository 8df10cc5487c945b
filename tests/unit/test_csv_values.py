"""CSV cells as Athena's CSV results write them: booleans in lower case, NULL empty, floats
whole."""

from __future__ import annotations

import pyarrow as pa

from bookings.analytics.exports import csv_text


def test_booleans_nulls_and_floats_are_written_as_athena_writes_them() -> None:
    table = pa.table(
        {
            "has_month_in_progress": [True, False, None],
            "rate": [0.125, None, 1 / 3],
        }
    )
    assert csv_text(table).splitlines() == [
        "has_month_in_progress,rate",
        "true,0.125",
        "false,",
        f",{1 / 3!r}",
    ]
