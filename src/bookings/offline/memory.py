"""Keep the offline run's memory independent of the file's size.

A large file streams through the emulated stack in chunks: each one allocates and frees a few
megabytes of request and response bodies in several threads. Three things made the process's
footprint grow with the number of chunks although the live data stays the same:

- Garbage that only the cyclic collector frees. moto turns every request into objects that
  refer to each other (its ``Request``, the WSGI environment, the body stream), so a request's
  body (a Firehose batch: about 800 KB, twice, botocore's and werkzeug's copies) is freed by the
  garbage collector, not when the call returns. Requests still in flight when a young collection
  runs reach the oldest generation, which CPython collects only once the objects added since the
  last full collection outnumber a quarter of those already there: the stack's start-up leaves
  about a million long-lived objects (botocore's service models, moto's resource tables), so
  full collections came seconds apart and the bodies piled up in between (84 MB of unreachable
  moto requests at one point of a 200,000-row run: five full collections in 150,000 rows).
  ``frozen_startup_objects`` moves what exists once the stack is built to the collector's
  permanent generation: full collections then look only at what the run itself created, run as
  often as the collector intends, and cost little.
- Per-thread heaps. glibc gives each thread that allocates at the same time as another its own
  heap (up to eight per core); a body allocated by the state machine's thread and freed by the
  exporting one goes back to its own heap, and each heap keeps its free space for itself. As the
  threads take turns holding the GIL, nothing is gained by more than two: ``limit_heap_arenas``.
- Free pages kept in the heaps: ``release_free_memory`` (``malloc_trim``) gives them back between
  executions.

Where there is no glibc (macOS, musl), the two heap settings do nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import gc
import sys
from collections.abc import Iterator

# mallopt's parameter for the most heaps (arenas) the process may have, from glibc's malloc.h.
M_ARENA_MAX = -8
HEAP_ARENAS = 2


@functools.cache
def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.malloc_trim.restype = ctypes.c_int
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.mallopt.restype = ctypes.c_int
    except (OSError, AttributeError):
        return None
    return libc


def release_free_memory() -> bool:
    """Return free heap pages to the system; False where that is not possible."""
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


def limit_heap_arenas(arenas: int = HEAP_ARENAS) -> bool:
    """Let the threads started from now on share at most ``arenas`` heaps (for the rest of the
    process: glibc fixes the limit the first time it needs one); False where that is not
    possible."""
    libc = _libc()
    if libc is None:
        return False
    return bool(libc.mallopt(M_ARENA_MAX, arenas))


@contextlib.contextmanager
def frozen_startup_objects() -> Iterator[None]:
    """Exclude the objects that exist now from the garbage collector's full collections while
    the block runs (they are long-lived: see the module's docstring); they are collected again
    afterwards."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
