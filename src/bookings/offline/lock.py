"""One writer per output folder: a lock file in ``DIR`` held with ``flock`` while a session runs.

``bookings run``, ``watch`` and ``demo`` write the lake, the ledger and the catalog of their
``--out``; two at once would store every row twice and lose ledger entries. The lock is taken
on ``DIR/.bookings.lock`` (``fcntl.flock``, exclusive): the operating system releases it when the
process ends, however it ends, so a killed run never leaves the folder locked. The holder writes
its pid into the file, for the message the next writer shows. Readers (``sql``, ``report``,
``audit``) never take it: the lake's files appear whole (renamed into place), so reading while a
writer writes is safe.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path

LOCK_FILE = ".bookings.lock"
WAIT_POLL_SECONDS = 0.2


class OutputFolderBusyError(RuntimeError):
    """Another process writes to the output folder; the message is one line naming both."""


class OutputLock:
    """The exclusive writer's lock of an output folder (a context manager)."""

    def __init__(self, out_dir: str | Path, *, wait: bool = False) -> None:
        self.out_dir = Path(out_dir)
        self.path = self.out_dir / LOCK_FILE
        self.wait = wait
        self._descriptor: int | None = None

    def holder(self) -> str:
        """The pid the current holder wrote, or ``unknown``."""
        try:
            text = self.path.read_text(encoding="utf-8").strip()
        except OSError:
            return "unknown"
        return text if text.isdigit() else "unknown"

    def acquire(self) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            while True:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if not self.wait:
                        raise OutputFolderBusyError(
                            f"{self.out_dir}: another bookings process (pid {self.holder()}) "
                            "is writing to this folder; wait for it to end, or pass --wait"
                        ) from None
                    time.sleep(WAIT_POLL_SECONDS)
            os.ftruncate(descriptor, 0)
            os.write(descriptor, f"{os.getpid()}\n".encode())
            os.fsync(descriptor)
        except BaseException:
            os.close(descriptor)
            raise
        self._descriptor = descriptor

    def release(self) -> None:
        if self._descriptor is None:
            return
        descriptor, self._descriptor = self._descriptor, None
        with contextlib.suppress(OSError):
            os.ftruncate(descriptor, 0)
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        os.close(descriptor)

    def __enter__(self) -> OutputLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()
