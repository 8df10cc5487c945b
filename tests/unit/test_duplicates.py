"""Exact duplicates in bounded memory: the index, and whole files with keys spilled to disk."""

from __future__ import annotations

import io
import tracemalloc
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from booking_core.duplicates import DuplicateIndex
from booking_core.pipeline import ValidRow, process_stream, validate_stream
from hypothesis import given, settings
from hypothesis import strategies as st

from bookings.fastpath.writer import write_jsonl
from bookings.generator import generate_rows, write_csv

INGESTED_AT = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)


def test_keys_are_found_in_memory_and_after_they_moved_to_disk() -> None:
    index = DuplicateIndex(memory_keys=3)
    try:
        assert [index.seen_before(key) for key in (1, 2, 1)] == [False, False, True]
        assert not index.spilled
        assert index.seen_before(3) is False  # the third distinct key fills memory: spilled
        assert index.spilled == 3
        assert index.recent == set()
        assert [index.seen_before(key) for key in (1, 2, 3, -(2**63), 2**63 - 1)] == [
            True,
            True,
            True,
            False,
            False,
        ]
        assert [index.seen_before(key) for key in (-(2**63), 2**63 - 1)] == [True, True]
        assert len(index) == 5
    finally:
        index.close()
    assert len(index) == 3  # what went to disk; the database itself is gone


def test_memory_keys_must_be_positive() -> None:
    with pytest.raises(ValueError, match="memory_keys"):
        DuplicateIndex(memory_keys=0)


@settings(max_examples=200, deadline=None)
@given(
    keys=st.lists(st.integers(-(2**63), 2**63 - 1) | st.integers(0, 20), max_size=80),
    memory_keys=st.integers(1, 10),
)
def test_the_index_answers_like_a_set(keys: list[int], memory_keys: int) -> None:
    index = DuplicateIndex(memory_keys=memory_keys)
    model: set[int] = set()
    try:
        for key in keys:
            assert index.seen_before(key) == (key in model)
            model.add(key)
        assert len(index) == len(model)
    finally:
        index.close()


@pytest.fixture(scope="module")
def repeated_file(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Generated rows with their 1.4% duplicates, then the first 300 rows again at the end."""
    path = tmp_path_factory.mktemp("duplicates") / "bookings.csv"
    write_csv(path, generate_rows(3000, seed=3), dirty=0.02, seed=3)
    data = path.read_bytes()
    lines = data.split(b"\r\n")
    return data + b"\r\n" + b"\r\n".join(lines[1:301])


def _json_lines(data: bytes, memory_keys: int) -> tuple[bytes, bytes, object, int]:
    run = process_stream(
        io.BytesIO(data),
        source_file="bookings.csv",
        booking_date=date(2026, 11, 24),
        ingested_at=INGESTED_AT,
        duplicate_memory_keys=memory_keys,
    )
    enriched, rejected = io.BytesIO(), io.BytesIO()
    write_jsonl(run, enriched, rejected)
    spilled = run.validation.duplicate_keys_spilled
    return enriched.getvalue(), rejected.getvalue(), run.summary, spilled


def test_spilling_keys_to_disk_changes_no_byte_of_the_output(repeated_file: bytes) -> None:
    in_memory = _json_lines(repeated_file, memory_keys=1_000_000)
    spilling = _json_lines(repeated_file, memory_keys=97)
    assert in_memory[3] == 0
    assert spilling[3] > 2500  # most keys went to disk, many times over
    assert spilling[:3] == in_memory[:3]
    summary = in_memory[2]
    assert summary.duplicates >= 300  # the repeated rows at the end are found, across spills
    assert summary.rows == summary.valid + summary.rejected


def test_spilling_keys_gives_the_same_flags_to_the_lambdas_path(repeated_file: bytes) -> None:
    def flags(memory_keys: int) -> list[bool]:
        run = validate_stream(
            io.BytesIO(repeated_file), source_file="b.csv", duplicate_memory_keys=memory_keys
        )
        found = [o.is_duplicate for o in run if isinstance(o, ValidRow)]
        assert (run.duplicate_keys_spilled > 0) == (memory_keys < 100)
        return found

    assert flags(50) == flags(1_000_000)
    assert sum(flags(50)) >= 300


@pytest.mark.slow
def test_memory_stops_growing_once_keys_spill(tmp_path: Path) -> None:
    """Distinct rows grow the set of keys until it spills; then Python's heap stops growing."""
    files = {}
    for rows in (20_000, 40_000):
        path = tmp_path / f"distinct_{rows}.csv"
        write_csv(path, generate_rows(rows, seed=8), seed=8)
        files[rows] = path.read_bytes()

    def peak(rows: int, memory_keys: int) -> int:
        data = files[rows]
        tracemalloc.start()
        try:
            run = validate_stream(
                io.BytesIO(data), source_file="d.csv", duplicate_memory_keys=memory_keys
            )
            for _ in run:
                pass
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    # 20,000 more distinct keys take at least 640 kB (32-byte integers), plus any resize of the
    # set's table.
    unbounded_growth = peak(40_000, 1_000_000) - peak(20_000, 1_000_000)
    bounded_growth = peak(40_000, 2_000) - peak(20_000, 2_000)
    assert unbounded_growth > 600_000, unbounded_growth
    assert bounded_growth < 250_000, bounded_growth
