"""Documents generated from the code (docs/kpis.md, docs/sql.md, docs/openapi.json): written, or
checked to be current (``--check``, what the tests run)."""

from __future__ import annotations

import sys
from pathlib import Path


def write_or_check(path: Path, text: str, *, check: bool, regenerate: str) -> int:
    """Writes ``text`` to ``path``; with ``check``, exits 1 when ``path`` differs, naming the
    command that ``regenerate``s it."""
    if check:
        current = path.read_text(encoding="utf-8") if path.is_file() else ""
        if current != text:
            print(f"{path} is out of date: run {regenerate}", file=sys.stderr)
            return 1
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return 0
