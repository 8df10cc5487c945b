"""Exact duplicates within one file, found in bounded memory whatever the file size.

A row's key is the 64-bit hash of its normalised values (equal rows, equal keys, in one
process). Keys live in a set while it holds fewer than ``memory_keys`` of them (about 70 bytes
each: 70 MB for the default million, enough for a whole file of that many distinct rows). When
the set is full its keys move to an indexed table of a private SQLite database, which SQLite
keeps in a temporary file and deletes when it is closed, and the set starts again. From then
on a key that is not in the set is first checked against a bitmap of the keys on disk (8 MiB,
one bit per key hash), and only when its bit is set does it cost an indexed look-up on disk (a
few microseconds): with four million keys on disk, about 6% of new keys. Memory stays at one
full set, the bitmap and SQLite's page cache.
"""

from __future__ import annotations

import sqlite3
from typing import Final

DEFAULT_MEMORY_KEYS: Final = 1_000_000
# SQLite's page cache, in KiB (a negative cache_size is KiB, not pages).
CACHE_KIB: Final = 8 * 1024
BITMAP_BITS: Final = 1 << 26


class DuplicateIndex:
    """Which row keys were seen before: ``recent`` in memory, older ones spilled to disk."""

    def __init__(self, memory_keys: int = DEFAULT_MEMORY_KEYS) -> None:
        if memory_keys < 1:
            raise ValueError("memory_keys must be at least 1")
        self.memory_keys = memory_keys
        self.recent: set[int] = set()
        self.spilled = 0
        self._database: sqlite3.Connection | None = None
        self._on_disk_bits = bytearray()

    def seen_before(self, key: int) -> bool:
        """True when ``key`` was given before; otherwise remember it and return False."""
        if key in self.recent:
            return True
        if self._database is not None and self._on_disk(key):
            return True
        self.recent.add(key)
        if len(self.recent) >= self.memory_keys:
            self.spill()
        return False

    def spill(self) -> None:
        """Move the keys in memory to the table on disk (none of them is there yet)."""
        if self._database is None:
            self._on_disk_bits = bytearray(BITMAP_BITS // 8)
            # "" opens a private database that SQLite deletes when it is closed.
            database = sqlite3.connect("", isolation_level=None)
            database.execute("PRAGMA journal_mode = OFF")
            database.execute("PRAGMA synchronous = OFF")
            database.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            database.execute("CREATE TABLE seen (key INTEGER PRIMARY KEY)")
            self._database = database
        database = self._database
        database.execute("BEGIN")
        # In key order the table's B-tree is filled from left to right.
        database.executemany("INSERT INTO seen (key) VALUES (?)", zip(sorted(self.recent)))
        database.execute("COMMIT")
        bits = self._on_disk_bits
        mask = BITMAP_BITS - 1
        for key in self.recent:
            bit = key & mask
            bits[bit >> 3] |= 1 << (bit & 7)
        self.spilled += len(self.recent)
        self.recent.clear()

    def _on_disk(self, key: int) -> bool:
        assert self._database is not None
        bit = key & (BITMAP_BITS - 1)
        if not self._on_disk_bits[bit >> 3] & (1 << (bit & 7)):
            return False
        found = self._database.execute("SELECT 1 FROM seen WHERE key = ?", (key,)).fetchone()
        return found is not None

    def close(self) -> None:
        if self._database is not None:
            self._database.close()
            self._database = None
        self._on_disk_bits = bytearray()
        self.recent.clear()

    def __len__(self) -> int:
        return self.spilled + len(self.recent)
