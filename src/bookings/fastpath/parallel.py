"""Validate and enrich one large booking file on every core, into one JSON Lines file.

``bookings validate FILE --out DIR`` runs here when FILE is a plain (not compressed) file of
at least ``MIN_BYTES`` in an 8-bit or UTF-8 encoding and the machine has two cores or more.
The outputs are byte for byte those of the single-process path
(``bookings.fastpath.writer.write_jsonl``), which the test suite checks.

The file's data is cut into blocks of about ``BLOCK_BYTES`` at line breaks (every process finds
the same cuts on its own). Forked workers take the blocks in turn: worker ``j`` of ``n`` encodes
blocks ``j``, ``j + n``, ... (``bookings.fastpath.blocks.BlockEncoder``) and sends what placing the
block needs: its row count, the keys of its valid rows, the length of its lines without their
row numbers. This process places the blocks strictly in file order
(``bookings.fastpath.blocks.BlockSequencer``, which holds the one index of duplicate keys), answers
with the block's first row number, which of its rows are exact copies of earlier ones and the
offset of its lines in the output file, where the worker writes them itself (``pwrite``), and
writes the rejected rows. A few kilobytes per block cross between processes.

Each block is decoded on its own as the reader would decode it from the state it had when the
workers started (``booking_core.reader.DecodingState.decode_part``), and this process follows
the blocks' decodings in file order as the reader would have. A block holding a double quote
(a quoted field may hold a line break: lines are then not records), or one that only the
reader's sequential decoding can read (UTF-8 letters in a block after the file turned out to be
CP1252), stops the workers: the caller then reads the file in one process, which copes with
both, and rewrites the outputs.
"""

from __future__ import annotations

import contextlib
import gc
import io
import multiprocessing
import os
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Final

from booking_core import geo
from booking_core.jsonl import dumps_line
from booking_core.pipeline import ValidationRun, rejected_row_dict, validate_stream
from booking_core.reader import complete_lines_end

from bookings.fastpath.blocks import BlockEncoder, BlockInfo, BlockSequencer, EncodedBlock
from bookings.fastpath.enriched_json import RecordFragments
from bookings.fastpath.writer import garbage_collection_paused

BLOCK_BYTES: Final = 1 << 16
# Smaller files are read in one process: starting the workers would cost more than it saves.
MIN_BYTES: Final = 8 << 20
# A block stretched past this by a single line is left to the reader, which bounds lines.
MAX_BLOCK_BYTES: Final = 16 << 20
# Every worker adds about 12 MB: two keep a whole run under 200 MB whatever the file's size
# (``--workers`` takes more; this process places about 4 million rows a second).
MAX_DEFAULT_WORKERS: Final = 2
# Blocks a worker has sent and not yet written.
PIPELINE_DEPTH: Final = 2
ENCODINGS: Final = frozenset({"latin-1", "cp1252", "utf-8", "utf-8-sig"})
_LOOKAHEAD: Final = 4096


class Stopped(Exception):
    """A worker met what only the single-process path reads correctly."""


@dataclass(frozen=True)
class ParallelResult:
    run: ValidationRun
    workers: int


def default_workers() -> int:
    """One worker per usable core, at most ``MAX_DEFAULT_WORKERS``."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return min(cores, MAX_DEFAULT_WORKERS)


def worth_it(path: Path, workers: int) -> bool:
    """Whether a file is large enough, and the machine wide enough, to share the work."""
    return workers >= 2 and path.is_file() and path.stat().st_size >= MIN_BYTES


def _pread_exactly(fd: int, size: int, offset: int) -> bytes:
    parts = []
    while size > 0:
        data = os.pread(fd, size, offset)
        if not data:
            break
        parts.append(data)
        size -= len(data)
        offset += len(data)
    return b"".join(parts)


def _pwrite_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view = view[written:]
        offset += written


class BlockCuts:
    """The byte ranges of a file's data blocks, cut at line breaks the same in every process."""

    def __init__(self, fd: int, data_start: int, size: int) -> None:
        self.fd = fd
        self.data_start = data_start
        self.size = size
        self.count = max(1, -(-(size - data_start) // BLOCK_BYTES))

    def _line_start_from(self, position: int) -> int:
        """The first start of a line at or after ``position`` (a position in the data)."""
        if position >= self.size:
            return self.size
        at = position - 1
        while at < self.size:
            data = os.pread(self.fd, _LOOKAHEAD, at)
            found = data.find(b"\n")
            if found >= 0:
                return at + found + 1
            at += len(data)
        return self.size

    def read(self, block: int) -> tuple[int, bytes]:
        """(offset, bytes) of block number ``block``."""
        nominal = self.data_start + block * BLOCK_BYTES
        start = self.data_start if block == 0 else self._line_start_from(nominal)
        end = self._line_start_from(nominal + BLOCK_BYTES)
        if end - start > MAX_BLOCK_BYTES:
            raise Stopped(f"a line of more than {MAX_BLOCK_BYTES >> 20} MiB near byte {start}")
        return start, _pread_exactly(self.fd, end - start, start)


def data_start(fd: int, *, header_lines: int, bom: int) -> int:
    """The offset of the first data line: after the byte-order mark and ``header_lines``
    lines (the header and any blank lines before it), counted as the reader counts them.

    Line breaks are the same bytes in every encoding taken here, so the bytes are read as
    Latin-1 (one character per byte).
    """
    size = os.fstat(fd).st_size
    length = 1 << 16
    while True:
        text = _pread_exactly(fd, min(length, size - bom), bom).decode("latin-1")
        at_end = bom + len(text) >= size
        cut = len(text) if at_end else complete_lines_end(text)
        lines = io.StringIO(text[:cut], newline="").readlines()
        if len(lines) >= header_lines or at_end:
            return bom + sum(len(line) for line in lines[:header_lines])
        length *= 4


def _work(
    worker: int,
    workers: int,
    connection: Connection,
    inherited: list[Connection],
    run: ValidationRun,
    fragments: RecordFragments,
    cuts: BlockCuts,
    output_fd: int,
) -> None:
    """A worker: encode every ``workers``-th block, have it placed, write it."""
    for other in inherited:  # this process's copies of the parent's ends of the pipes
        other.close()
    gc.disable()
    # The reader's decoding as it stood when the workers started.
    decoding = run.csv_file.decoder.state()
    try:
        encoder = BlockEncoder(run.csv_file, fragments, run.records)
        # Blocks wait for their placement while the next ones are encoded, so that neither
        # this worker nor the parent waits for the other.
        waiting: deque[tuple[int, EncodedBlock]] = deque()
        for block_index in range(worker, cuts.count, workers):
            start, data = cuts.read(block_index)
            decoded = decoding.decode_part(data, start)
            if decoded is None:
                # UTF-8 letters, then bytes that are not: only the sequential reader knows
                # where the file turned.
                raise Stopped(f"UTF-8 then other bytes in the block at byte {start}")
            text, part = decoded
            block = encoder.encode(text)
            if block is None:
                raise Stopped(f"a double quote in the block at byte {start}")
            connection.send(("block", block.measure(), part))
            waiting.append((start, block))
            if len(waiting) > PIPELINE_DEPTH:
                _write_placed(connection, *waiting.popleft(), output_fd)
        while waiting:
            _write_placed(connection, *waiting.popleft(), output_fd)
        connection.send(("done",))
    except Stopped as stop:
        _last_word(connection, ("stopped", str(stop)))
    except BaseException as exc:  # the parent fails the command with this line
        _last_word(connection, ("error", traceback.format_exception_only(exc)[-1].strip()))
    finally:
        connection.close()


def _write_placed(connection: Connection, start: int, block: EncodedBlock, output_fd: int) -> None:
    first_row, duplicates, offset, length = connection.recv()
    lines = block.finish(first_row, duplicates)
    if len(lines) != length:
        raise RuntimeError(f"block at byte {start}: {len(lines)} bytes, {length} placed")
    _pwrite_all(output_fd, lines, offset)


def _last_word(connection: Connection, message: tuple[str, str]) -> None:
    # The parent may have stopped listening (another worker stopped first).
    with contextlib.suppress(OSError):
        connection.send(message)


def write_in_parallel(
    path: Path,
    *,
    enriched_path: Path,
    rejected_path: Path,
    booking_date: date | None,
    ingested_at: datetime,
    workers: int,
    **run_options: Any,
) -> ParallelResult | None:
    """Write ``path``'s enriched and rejected JSON Lines with ``workers`` processes.

    None when the file is not for sharing out (compressed, an encoding whose line breaks are not
    single bytes) or a worker stopped; the caller then runs the single-process path. Raises
    ``UnreadableFileError`` like ``validate_stream``. ``run_options`` go to ``validate_stream``.
    """
    with path.open("rb") as stream:
        run = validate_stream(stream, source_file=str(path), **run_options)
        csv_file = run.csv_file
        try:
            if csv_file.compression is not None or csv_file.encoding not in ENCODINGS:
                return None
            fd = stream.fileno()
            start = data_start(
                fd,
                header_lines=csv_file.header_line_count,
                bom=3 if csv_file.encoding == "utf-8-sig" else 0,
            )
            fragments = RecordFragments(
                fields=run.fields,
                source_file=str(path),
                ingested_at=ingested_at,
                booking_date=booking_date,
            )
            sequencer = BlockSequencer(fragments, duplicate_memory_keys=run.duplicate_memory_keys)
            geo.load_tables()  # once, here: the workers share them
            try:
                shared = _share_out(
                    run,
                    fragments,
                    BlockCuts(fd, start, os.fstat(fd).st_size),
                    sequencer,
                    workers=workers,
                    enriched_path=enriched_path,
                    rejected_path=rejected_path,
                    ingested_at=ingested_at,
                )
                if not shared:
                    return None
                run.take_counts(sequencer)
            finally:
                sequencer.close()
        finally:
            csv_file.close()
    return ParallelResult(run, workers)


# The parent's loop over its workers' blocks and their failures: one function on purpose.
def _share_out(  # noqa: C901
    run: ValidationRun,
    fragments: RecordFragments,
    cuts: BlockCuts,
    sequencer: BlockSequencer,
    *,
    workers: int,
    enriched_path: Path,
    rejected_path: Path,
    ingested_at: datetime,
) -> bool:
    """Place every block in order; False when a worker stopped."""
    decoder = run.csv_file.decoder
    decoding = decoder.state()
    output_fd = os.open(enriched_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    context = multiprocessing.get_context("fork")
    # Keep the collector off what exists now, so off the pages the workers share with this
    # process (no collection first: the few cycles it would free cost more time than memory).
    gc.freeze()
    connections: list[Connection] = []
    processes: list[Any] = []
    finished = False
    try:
        with rejected_path.open("wb") as rejected:
            for worker in range(workers):
                ours, theirs = context.Pipe()
                process = context.Process(
                    target=_work,
                    args=(worker, workers, theirs, [*connections, ours], run, fragments, cuts),
                    kwargs={"output_fd": output_fd},
                    daemon=True,
                )
                process.start()
                theirs.close()
                connections.append(ours)
                processes.append(process)
            with garbage_collection_paused():
                for block_index in range(cuts.count):
                    connection = connections[block_index % workers]
                    message = _receive(connection)
                    if message[0] != "block":
                        return _stopped(message)
                    info: BlockInfo = message[1]
                    if not decoding.follow(message[2]):
                        raise Stopped("UTF-8 letters after bytes that are not UTF-8")
                    placement = sequencer.place(info)
                    reply = (
                        placement.first_row,
                        placement.duplicates,
                        placement.offset,
                        sequencer.offset - placement.offset,
                    )
                    try:
                        connection.send(reply)
                    except OSError:
                        # The worker has gone: its last word explains why.
                        return _stopped(_last_message(connection))
                    _write_rejected(run, info, placement.first_row, rejected.write, ingested_at)
            # Every block is placed: free the duplicate index while the workers finish.
            sequencer.close()
            for connection in connections:
                message = _receive(connection)
                if message[0] != "done":
                    return _stopped(message)
            finished = True
        os.ftruncate(output_fd, sequencer.offset)
        decoder.adopt(decoding)
        return True
    except Stopped:
        return False
    finally:
        os.close(output_fd)
        for connection in connections:
            connection.close()
        for process in processes:
            if not finished:
                process.terminate()
            process.join()
        gc.unfreeze()


def _write_rejected(
    run: ValidationRun,
    info: BlockInfo,
    first_row: int,
    write: Callable[[bytes], object],
    rejected_at: datetime,
) -> None:
    for position, rejection in info.rejected:
        record = run.rejected_record(first_row + position, rejection)
        write(
            dumps_line(
                rejected_row_dict(record, source_file=run.source_file, rejected_at=rejected_at)
            )
        )


def _receive(connection: Connection) -> tuple[Any, ...]:
    try:
        message: tuple[Any, ...] = connection.recv()
    except EOFError:
        raise RuntimeError("a worker ended without a word (killed?)") from None
    return message


def _last_message(connection: Connection) -> tuple[Any, ...]:
    """What a worker that has gone said last (its messages are still in the pipe)."""
    while True:
        message = _receive(connection)
        if message[0] != "block":
            return message


def _stopped(message: tuple[Any, ...]) -> bool:
    """A worker's message other than a block or ``done``: stopped (False), or an error."""
    if message[0] != "stopped":
        raise RuntimeError(f"a worker failed: {message[1]}")
    return False
