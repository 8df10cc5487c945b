"""JSON Lines output (what Firehose takes): one object per line.

Dates are ``yyyy-MM-dd``; the records' timestamps are text in the one form that both Firehose's
Parquet conversion and ISO 8601 readers take (``firehose_timestamp``).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, Protocol

import orjson
from pydantic import BaseModel

_OPTIONS = orjson.OPT_APPEND_NEWLINE


class BinaryWriter(Protocol):
    """Anything with a binary ``write``: a file, a buffer, a ``BackgroundWriter``."""

    def write(self, data: bytes, /) -> object: ...


# The delivery stream converts records to Parquet with the OpenX JSON SerDe (its Deserializer in
# template.yaml). Firehose's developer guide ("Convert input data format", choosing the JSON
# deserializer) lists the time stamps that SerDe reads: "yyyy-MM-dd'T'HH:mm:ss[.S]'Z', where
# the fraction can have up to 9 digits - For example, 2017-02-07T15:13:01.39256Z";
# "yyyy-[M]M-[d]d HH:mm:ss[.S]"; epoch seconds, epoch milliseconds and floating point epoch
# seconds. An offset ("+00:00", what ``datetime.isoformat`` and orjson write) is not among them:
# such a record goes to the stream's error prefix, not to the lake.
@lru_cache(maxsize=64)
def firehose_timestamp(moment: datetime) -> str:
    """``moment`` in UTC as ``yyyy-MM-ddTHH:mm:ss.ffffffZ`` (the first form above).

    Raises ValueError for a datetime without a time zone: its instant is unknown.
    """
    if moment.utcoffset() is None:
        raise ValueError(f"a timestamp needs a time zone: {moment.isoformat()}")
    utc = moment.astimezone(UTC)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}"
        f"T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{utc.microsecond:06d}Z"
    )


def _default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps_line(record: dict[str, Any] | BaseModel) -> bytes:
    """One record as a newline-terminated line of UTF-8 JSON."""
    return orjson.dumps(record, default=_default, option=_OPTIONS)


def write_jsonl(
    path_or_stream: str | Path | IO[bytes], records: Iterable[dict[str, Any] | BaseModel]
) -> int:
    """Write ``records`` as JSON Lines to a path or a binary stream; the number written."""
    if isinstance(path_or_stream, (str, Path)):
        with open(path_or_stream, "wb") as stream:
            return _write(stream, records)
    return _write(path_or_stream, records)


def _write(stream: IO[bytes], records: Iterable[dict[str, Any] | BaseModel]) -> int:
    count = 0
    write = stream.write
    dumps = orjson.dumps
    for record in records:
        write(dumps(record, default=_default, option=_OPTIONS))
        count += 1
    return count


class BackgroundWriter:
    """Writes blocks to a binary stream from a second thread, in order.

    While the disk takes one block the caller builds the next: ``write`` returns at once unless
    ``depth`` blocks are already waiting (which bounds the memory). An error of the underlying
    stream is raised by the next ``write`` or by ``close``.
    """

    def __init__(self, stream: IO[bytes], depth: int = 4) -> None:
        self._stream = stream
        self._blocks: queue.Queue[bytes | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, name="jsonl-writer", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        write = self._stream.write
        while True:
            block = self._blocks.get()
            if block is None:
                return
            if self._error is None:
                try:
                    write(block)
                except BaseException as exc:  # handed to the caller's thread
                    self._error = exc

    def write(self, block: bytes) -> int:
        if self._error is not None:
            raise self._error
        self._blocks.put(block)
        return len(block)

    def close(self) -> None:
        if self._thread.is_alive():
            self._blocks.put(None)
            self._thread.join()
        if self._error is not None:
            raise self._error

    def __enter__(self) -> BackgroundWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
