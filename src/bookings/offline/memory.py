"""Give freed heap memory back to the operating system between chunks.

A large file streams through the emulated stack in chunks: each one allocates and frees a few
megabytes of request and response bodies in several threads. glibc keeps what was freed in its
heaps (one per thread) for reuse, and fragmentation makes the process's footprint creep up with
the number of chunks although the live data stays the same. ``malloc_trim`` returns the free
pages; where there is no glibc (macOS, musl), nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def release_free_memory() -> bool:
    """Return free heap pages to the system; False where that is not possible."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
