"""JSON Lines output (what Firehose takes): one object per line, dates and times in ISO 8601."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import orjson
from pydantic import BaseModel

_OPTIONS = orjson.OPT_APPEND_NEWLINE


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
