"""Streaming S3 reads and writes: objects are never held whole in memory.

A zip archive needs random access (its directory is at the end), so a zip is spooled to a
temporary file (``/tmp`` in a Lambda); every other object is read as a stream. A digest given to
``open_object`` sees every byte of the object once, as it is read (``drain`` reads what the
reader left), so the object's checksum costs no second pass.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import orjson

ZIP_MAGIC = b"PK\x03\x04"
_READ_BLOCK = 1 << 20


class _PrefixedRaw(io.RawIOBase):
    """A raw stream that returns already-peeked bytes, then the rest of a botocore body
    (shown to ``digest`` as they arrive)."""

    def __init__(self, prefix: bytes, body: Any, digest: Any | None = None) -> None:
        self._prefix = prefix
        self._body = body
        self._digest = digest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._prefix:
            size = min(len(view), len(self._prefix))
            view[:size] = self._prefix[:size]
            self._prefix = self._prefix[size:]
            return size
        data = self._body.read(len(view))
        if self._digest is not None:
            self._digest.update(data)
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._body.close()
        super().close()


def open_object(
    s3: Any,
    bucket: str,
    key: str,
    *,
    version_id: str | None = None,
    spool_dir: str | None = None,
    digest: Any | None = None,
) -> IO[bytes]:
    """Open an S3 object as a binary stream (a seekable spooled copy for a zip archive);
    ``digest`` (a hashlib object) is updated with every byte of the object as it is read."""
    kwargs: dict[str, str] = {"Bucket": bucket, "Key": key}
    if version_id:
        kwargs["VersionId"] = version_id
    body = s3.get_object(**kwargs)["Body"]
    head: bytes = body.read(len(ZIP_MAGIC))
    if digest is not None:
        digest.update(head)
    if head == ZIP_MAGIC:
        spooled = tempfile.TemporaryFile(dir=spool_dir)  # noqa: SIM115 (returned to the caller)
        spooled.write(head)
        while block := body.read(_READ_BLOCK):
            if digest is not None:
                digest.update(block)
            spooled.write(block)
        body.close()
        spooled.seek(0)
        return spooled
    return io.BufferedReader(_PrefixedRaw(head, body, digest), buffer_size=_READ_BLOCK)


def drain(stream: IO[bytes]) -> None:
    """Read what is left of a stream ``open_object`` gave (a reader may stop before the end, a
    digest must see every byte); a spooled zip was read whole already."""
    if isinstance(stream, io.BufferedReader):
        while stream.read(_READ_BLOCK):
            pass


def iter_json_lines(s3: Any, bucket: str, key: str) -> Iterator[dict[str, Any]]:
    """Yield the records of a JSON Lines object, streaming it line by line."""
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    try:
        for line in body.iter_lines(chunk_size=_READ_BLOCK):
            if line.strip():
                record: dict[str, Any] = orjson.loads(line)
                yield record
    finally:
        body.close()


def put_json_lines(s3: Any, bucket: str, key: str, records: Iterable[Any]) -> int:
    """Write records as one JSON Lines object; returns the number of records written."""
    count = 0
    buffer = io.BytesIO()
    for record in records:
        buffer.write(orjson.dumps(record))
        buffer.write(b"\n")
        count += 1
    s3.put_object(
        Bucket=bucket, Key=key, Body=buffer.getvalue(), ContentType="application/jsonlines"
    )
    return count


@dataclass
class ChunkWriter:
    """Writes records as numbered JSON Lines chunks of at most ``chunk_size`` records:
    ``<prefix>chunk-00001.jsonl``, ``<prefix>chunk-00002.jsonl``, ...

    Only one chunk is held in memory at a time.
    """

    s3: Any
    bucket: str
    prefix: str
    chunk_size: int
    keys: list[str] = field(default_factory=list)
    records: int = 0
    _buffer: io.BytesIO = field(default_factory=io.BytesIO)
    _in_buffer: int = 0

    def __post_init__(self) -> None:
        if self.chunk_size < 1:
            raise ValueError(f"chunk size must be at least 1, got {self.chunk_size}")

    def add(self, record: Any) -> None:
        self._buffer.write(orjson.dumps(record))
        self._buffer.write(b"\n")
        self._in_buffer += 1
        self.records += 1
        if self._in_buffer >= self.chunk_size:
            self._flush()

    def close(self) -> list[str]:
        """Write the last partial chunk; returns every chunk key in order."""
        if self._in_buffer:
            self._flush()
        return self.keys

    def _flush(self) -> None:
        key = f"{self.prefix}chunk-{len(self.keys) + 1:05d}.jsonl"
        self.s3.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=self._buffer.getvalue(),
            ContentType="application/jsonlines",
        )
        self.keys.append(key)
        self._buffer = io.BytesIO()
        self._in_buffer = 0
