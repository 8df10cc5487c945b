"""Benchmarks: each ``bench_<name>.py`` exposes ``run() -> dict``; see ``__main__``."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path


def bench_file(rows: int, seed: int) -> Path:
    """A generated booking file of ``rows`` rows, made once and kept in the temporary directory.

    The name carries a digest of the generator's source, so a changed generator makes a new file.
    """
    from bookings import generator
    from bookings.generator import generate_rows, write_csv

    version = hashlib.blake2b(Path(generator.__file__).read_bytes(), digest_size=4).hexdigest()
    folder = Path(tempfile.gettempdir()) / "bookings-bench"
    folder.mkdir(exist_ok=True)
    path = folder / f"bookings_{rows}_seed{seed}_{version}.csv"
    if not path.exists():
        partial = path.with_suffix(".partial")
        write_csv(partial, generate_rows(rows, seed), seed=seed)
        partial.replace(path)
    return path
