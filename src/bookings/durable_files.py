"""Files that appear whole or not at all: written under a temporary name, flushed to disk, then
renamed into place.

The temporary name is in the same folder (a rename within one file system is atomic) and no
reader's glob matches it: it starts with a dot (pyarrow's dataset discovery skips such files)
and ends in ``.tmp`` (DuckDB's ``*.parquet`` glob and the catalog's name do not match it). A
process killed half-way leaves only such a file behind; ``remove_temporaries`` clears them on
the next start, by the one writer of the folder.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO

TEMPORARY_SUFFIX = ".tmp"


def temporary_path(final: Path) -> Path:
    """A name beside ``final`` that only this writer uses and no reader matches."""
    return final.with_name(f".{final.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}{TEMPORARY_SUFFIX}")


def is_temporary(path: Path) -> bool:
    return path.name.startswith(".") and path.name.endswith(TEMPORARY_SUFFIX)


def fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (its entry is written with the directory)."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def publish(temporary: Path, final: Path) -> None:
    """Rename a complete, flushed file into place, durably."""
    os.replace(temporary, final)
    fsync_directory(final.parent)


@contextlib.contextmanager
def atomic_file(final: Path) -> Iterator[IO[bytes]]:
    """A binary file that appears as ``final`` only once the block ends without an error."""
    final.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_path(final)
    try:
        with temporary.open("wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        publish(temporary, final)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_bytes(final: Path, data: bytes) -> None:
    with atomic_file(final) as handle:
        handle.write(data)


def write_text(final: Path, text: str) -> None:
    write_bytes(final, text.encode("utf-8"))


def remove_temporaries(root: Path) -> list[Path]:
    """Delete the temporary files a killed writer left under ``root``; returns them."""
    if not root.is_dir():
        return []
    removed = []
    for path in root.rglob(f".*{TEMPORARY_SUFFIX}"):
        if path.is_file() and is_temporary(path):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
