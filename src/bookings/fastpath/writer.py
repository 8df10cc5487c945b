"""A file's enriched records and rejected rows as JSON Lines, a block of lines at a time.

``write_jsonl(processing, enriched, rejected)`` writes what iterating ``processing`` (a
``booking_core.pipeline.ProcessRun``) and serialising each outcome with ``dumps_line`` would
write, byte for byte, in a fraction of the time (``bookings.fastpath``).
"""

from __future__ import annotations

import csv
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from booking_core.jsonl import BinaryWriter, dumps_line
from booking_core.pipeline import ProcessRun, RejectedRecord, ValidationRun, rejected_row_dict
from booking_core.reader import MalformedRecord

from bookings.fastpath.blocks import CSV_BLOCK_ROWS, BlockEncoder, BlockSequencer, EncodedBlock
from bookings.fastpath.enriched_json import RecordFragments


def write_jsonl(processing: ProcessRun, enriched: BinaryWriter, rejected: BinaryWriter) -> None:
    """Write the enriched records and the rejected rows of ``processing``, in input order.

    ``processing`` is read here: it is not to be iterated as well.
    """
    run = processing.validation
    fragments = RecordFragments(
        fields=run.fields,
        source_file=run.source_file,
        ingested_at=processing.ingested_at,
        booking_date=processing.booking_date,
    )
    write_rejected = rejected.write

    def reject(record: RejectedRecord) -> None:
        row = rejected_row_dict(
            record, source_file=run.source_file, rejected_at=processing.ingested_at
        )
        write_rejected(dumps_line(row))

    write_json_lines(run, fragments, enriched.write, reject)


def write_json_lines(
    run: ValidationRun,
    fragments: RecordFragments,
    write_enriched: Callable[[bytes], object],
    on_rejected: Callable[[RejectedRecord], object],
) -> None:
    """Validate and enrich every row of ``run``, writing enriched records as JSON Lines in blocks.

    The same outcomes as iterating the run and serialising ``enrich_row`` of each valid row
    (byte for byte). Rejected rows go to ``on_rejected`` in input order.
    """
    run.start_reading()
    csv_file = run.csv_file
    encoder = BlockEncoder(csv_file, fragments, run.records)
    sequencer = BlockSequencer(fragments, duplicate_memory_keys=run.duplicate_memory_keys)
    try:
        with garbage_collection_paused():
            for block in _encoded_blocks(run, encoder):
                info = block.info
                placement = sequencer.place(info)
                for position, rejection in info.rejected:
                    on_rejected(run.rejected_record(placement.first_row + position, rejection))
                if info.keys:
                    write_enriched(block.finish(placement.first_row, placement.duplicates))
        run.take_counts(sequencer)
    finally:
        sequencer.close()
        csv_file.close()


def _encoded_blocks(run: ValidationRun, encoder: BlockEncoder) -> Iterator[EncodedBlock]:
    csv_file = run.csv_file
    for text in csv_file.text_blocks():
        block = encoder.encode(text)
        if block is None:
            # A double quote: a quoted field may hold a line break, the csv module reads on.
            yield from _csv_blocks(run, encoder, csv_file.csv_reader_from(text))
            return
        yield block


def _csv_blocks(
    run: ValidationRun, encoder: BlockEncoder, reader: Iterator[list[str]]
) -> Iterator[EncodedBlock]:
    batch: list[list[str] | MalformedRecord] = []
    while True:
        try:
            for cells in reader:
                batch.append(cells)
                if len(batch) >= CSV_BLOCK_ROWS:
                    yield encoder.encode_records(batch)
                    batch = []
            break
        except csv.Error as exc:
            batch.append(run.csv_file.malformed(exc))
    if batch:
        yield encoder.encode_records(batch)


@contextmanager
def garbage_collection_paused() -> Iterator[None]:
    """No cyclic garbage collection while a file's blocks are encoded.

    Each block keeps a thousand tuples alive for a moment; with the collector on, they are
    promoted and soon trigger full collections of every object the process holds (the
    packages' included), which would cost about a fifth of the run. The blocks make no
    reference cycles, so nothing is left for the collector.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
