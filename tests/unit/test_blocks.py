"""The block sequencer: row numbers, exact duplicates in file order, and where blocks go."""

from __future__ import annotations

from datetime import UTC, datetime

from booking_core.schema import SOURCE_FIELDS
from hypothesis import given, settings
from hypothesis import strategies as st

from bookings.fastpath.blocks import BlockInfo, BlockSequencer, provenance_digits
from bookings.fastpath.enriched_json import RecordFragments


def fragments() -> RecordFragments:
    return RecordFragments(
        fields=SOURCE_FIELDS,
        source_file="s3://raw/incoming/b.csv#1",
        ingested_at=datetime(2026, 11, 30, tzinfo=UTC),
        booking_date=None,
    )


@given(
    start=st.one_of(
        st.integers(1, 10_000), st.integers(10**8 - 50, 10**8 + 50), st.integers(1, 10**10)
    ),
    count=st.integers(0, 300),
    gaps=st.booleans(),
)
def test_provenance_digits_count_every_digit_written(start: int, count: int, gaps: bool) -> None:
    numbers = list(range(start, start + count * (2 if gaps else 1), 2 if gaps else 1))
    written = sum(len(b"%08d" % number) + len(b"%d" % number) for number in numbers)
    assert provenance_digits(numbers) == written
    if not gaps:
        assert provenance_digits(range(start, start + count)) == written


@settings(max_examples=150, deadline=None)
@given(
    blocks=st.lists(st.lists(st.integers(0, 40), max_size=30), max_size=12),
    memory_keys=st.integers(1, 50),
)
def test_duplicates_are_the_keys_seen_earlier_in_the_file(
    blocks: list[list[int]], memory_keys: int
) -> None:
    sequencer = BlockSequencer(fragments(), duplicate_memory_keys=memory_keys)
    seen: set[int] = set()
    first_row = 1
    try:
        for keys in blocks:
            placement = sequencer.place(BlockInfo(len(keys), None, list(keys)))
            expected = []
            for position, key in enumerate(keys):
                if key in seen:
                    expected.append(position)
                seen.add(key)
            assert placement.duplicates == expected
            assert placement.first_row == first_row
            first_row += len(keys)
        assert sequencer.duplicates == sum(len(keys) for keys in blocks) - len(seen)
        assert sequencer.rows == sequencer.valid == first_row - 1
    finally:
        sequencer.close()


def test_blocks_are_placed_one_after_the_other() -> None:
    records = fragments()
    sequencer = BlockSequencer(records)
    # The provenance pieces without the nine digits of row 1 ("00000001" and "1").
    unique = len(records.provenance(1, is_duplicate=False)) - 9
    duplicate = len(records.provenance(1, is_duplicate=True)) - 9
    assert unique == duplicate + 1  # false, true
    first = sequencer.place(BlockInfo(3, [0, 2], [7, 7], pieces_length=100))
    assert (first.first_row, first.duplicates, first.offset) == (1, [1], 0)
    second = sequencer.place(BlockInfo(1, None, [8], pieces_length=10))
    # Rows 1 and 3 of the first block are valid, the second is a copy: row numbers of one digit.
    assert second.offset == 100 + unique + duplicate + 2 * (8 + 1)
    assert second.first_row == 4
    assert sequencer.offset == second.offset + 10 + unique + 8 + 1
