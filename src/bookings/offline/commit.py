"""File-level commit of the offline lake: a file's rows enter ``DIR/lake/`` together, or not at
all, and a session killed at any point leaves nothing a later one cannot finish or undo.

1. While a file's execution runs, what it delivers is exported into its staging folder,
   ``DIR/.staging/<execution>/lake/<table>/ingest_date=.../part-*.parquet`` (outside the lake:
   no reader ever looks there).
2. When the execution ends, the session decides the file's outcome and writes its audit rows
   into the staging folder too. A file that succeeded and whose export reconciled keeps its
   bookings and rejected rows; any other outcome (quarantined, failed, duplicate) keeps only its
   audit rows: a quarantined file leaves nothing in ``bookings``.
3. The journal, ``commit.json`` in the staging folder, is written (atomically, flushed): the
   files to move, in order, and the ledger entries to record.
4. Each file is renamed into the lake, the bookings and rejected rows first and the audit rows
   last (readers of what users query see a file only once its committed audit row is there);
   then the ledger entries are written and the staging folder removed.

On start, under the output folder's lock, ``recover`` finishes what a killed session left: a
staging folder with a journal is rolled forward (the renames not yet done, the ledger entries),
one without a journal is rolled back (removed; the file was never recorded, so the next run
processes it again).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bookings import fault_points
from bookings.durable_files import fsync_directory, remove_temporaries, write_text
from bookings.lake import AUDIT_TABLE, LakeWriter
from bookings.offline.ledger import Ledger

STAGING_DIR = ".staging"
JOURNAL = "commit.json"
JOURNAL_VERSION = 1


@dataclass
class Recovery:
    """What a start found left by a killed session, and did about it."""

    rolled_forward: list[str] = field(default_factory=list)
    rolled_back: list[str] = field(default_factory=list)
    temporaries: list[str] = field(default_factory=list)

    @property
    def anything(self) -> bool:
        return bool(self.rolled_forward or self.rolled_back or self.temporaries)

    def describe(self) -> str:
        parts = []
        if self.rolled_forward:
            parts.append(f"{len(self.rolled_forward)} interrupted commit(s) finished")
        if self.rolled_back:
            parts.append(f"{len(self.rolled_back)} unfinished export(s) removed")
        if self.temporaries:
            parts.append(f"{len(self.temporaries)} partial file(s) removed")
        return "; ".join(parts)


class StagedFile:
    """The staging folder of one file's execution."""

    def __init__(self, out_dir: Path, name: str) -> None:
        self.out_dir = out_dir
        self.name = name
        self.root = out_dir / STAGING_DIR / name

    def writer(self, *, row_group_rows: int) -> LakeWriter:
        """A writer whose files go to this staging folder's ``lake/``."""
        self.root.mkdir(parents=True, exist_ok=True)
        return LakeWriter(self.root, row_group_rows=row_group_rows)

    def moves(self, *, keep_rows: bool) -> list[str]:
        """The staged files to move, relative to the folder: rows first, audit rows last."""
        lake = self.root / "lake"
        if not lake.is_dir():
            return []
        staged = sorted(str(p.relative_to(self.root)) for p in lake.rglob("*.parquet"))
        audit_prefix = f"lake/{AUDIT_TABLE}/"
        rows = [path for path in staged if not path.startswith(audit_prefix)]
        audit = [path for path in staged if path.startswith(audit_prefix)]
        return (rows if keep_rows else []) + audit

    def commit(
        self, ledger: Ledger, entries: Mapping[str, dict[str, Any]], *, keep_rows: bool
    ) -> None:
        """Journal, move into the lake, record in the ledger, clean up (see the module)."""
        journal = {
            "version": JOURNAL_VERSION,
            "moves": self.moves(keep_rows=keep_rows),
            "ledger": dict(entries),
        }
        write_text(self.root / JOURNAL, json.dumps(journal, indent=1))
        apply_journal(self.out_dir, self.root, journal, ledger)

    def discard(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def apply_journal(out_dir: Path, root: Path, journal: Mapping[str, Any], ledger: Ledger) -> None:
    """Do (or finish) a journal's renames and ledger entries, then remove the staging folder.
    Idempotent: a rename already done (source gone) is skipped."""
    for relative in journal["moves"]:
        source, target = root / relative, out_dir / relative
        if source.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
            fsync_directory(target.parent)
        fault_points.reached("commit-moving")
    entries = journal.get("ledger") or {}
    if entries:
        ledger.objects.update(entries)
        ledger.save()
    _remove_staging(root)


def _remove_staging(root: Path) -> None:
    """Remove a staging folder, its journal last (a folder without a journal is rolled back,
    which is right once the journal's work is done)."""
    for child in root.iterdir():
        if child.name == JOURNAL:
            continue
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()
    (root / JOURNAL).unlink(missing_ok=True)
    root.rmdir()
    with contextlib.suppress(OSError):  # the staging folder itself, once empty
        root.parent.rmdir()


def recover(out_dir: Path, ledger: Ledger) -> Recovery:
    """Finish or undo what a killed session left in ``out_dir`` (call under its lock)."""
    recovery = Recovery()
    staging = out_dir / STAGING_DIR
    if staging.is_dir():
        for root in sorted(p for p in staging.iterdir() if p.is_dir()):
            journal_path = root / JOURNAL
            if journal_path.is_file():
                journal = json.loads(journal_path.read_text(encoding="utf-8"))
                apply_journal(out_dir, root, journal, ledger)
                recovery.rolled_forward.append(root.name)
            else:
                shutil.rmtree(root)
                recovery.rolled_back.append(root.name)
    leftovers = remove_temporaries(out_dir / "lake")
    for pattern in (".*.tmp", ".*.tmp.wal"):
        leftovers += [p for p in out_dir.glob(pattern) if p.is_file()]
    for path in leftovers:
        path.unlink(missing_ok=True)
    recovery.temporaries = [str(p) for p in leftovers]
    return recovery
