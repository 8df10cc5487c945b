"""The row path (the Lambdas') and the CLI's block path on the same bytes, side by side.

The reference is iterating ``process_stream`` and writing ``dumps_line`` of each outcome
(``enrich_row`` for valid rows); the block path is ``bookings.fastpath.writer.write_jsonl``.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import orjson
from booking_core.jsonl import dumps_line
from booking_core.pipeline import process_stream
from booking_core.schema import FileSummary

from bookings.fastpath.writer import write_jsonl

INGESTED_AT = datetime(2026, 11, 24, 8, 30, 15, 123456, tzinfo=UTC)

Outputs = tuple[bytes, bytes, FileSummary]  # enriched JSON Lines, rejected JSON Lines, summary


def row_path_outputs(
    data: bytes, *, source_file: str, booking_date: date | None, ingested_at: datetime
) -> Outputs:
    run = process_stream(
        io.BytesIO(data),
        source_file=source_file,
        booking_date=booking_date,
        ingested_at=ingested_at,
    )
    enriched, rejected = io.BytesIO(), io.BytesIO()
    for kind, record in run:
        (enriched if kind == "valid" else rejected).write(dumps_line(record))
    return enriched.getvalue(), rejected.getvalue(), run.summary


def block_path_outputs(
    data: bytes, *, source_file: str, booking_date: date | None, ingested_at: datetime
) -> Outputs:
    run = process_stream(
        io.BytesIO(data),
        source_file=source_file,
        booking_date=booking_date,
        ingested_at=ingested_at,
    )
    enriched, rejected = io.BytesIO(), io.BytesIO()
    write_jsonl(run, enriched, rejected)
    return enriched.getvalue(), rejected.getvalue(), run.summary


def outputs(
    data: bytes,
    *,
    source_file: str,
    booking_date: date | None,
    ingested_at: datetime = INGESTED_AT,
) -> tuple[Outputs, Outputs]:
    """(enriched, rejected, summary) the reference way and the block way."""
    return (
        row_path_outputs(
            data, source_file=source_file, booking_date=booking_date, ingested_at=ingested_at
        ),
        block_path_outputs(
            data, source_file=source_file, booking_date=booking_date, ingested_at=ingested_at
        ),
    )


def assert_same(expected: Outputs, got: Outputs) -> None:
    expected_lines = expected[0].splitlines()
    got_lines = got[0].splitlines()
    assert len(got_lines) == len(expected_lines) == expected[2].valid
    for want, have in zip(expected_lines, got_lines, strict=True):
        assert orjson.loads(have) == orjson.loads(want)
    assert got[0] == expected[0]
    assert got[1] == expected[1]
    assert got[2] == expected[2]
    assert got[2].rows == got[2].valid + got[2].rejected
