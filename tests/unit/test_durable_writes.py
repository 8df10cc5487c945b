"""Files that appear whole or not at all, the output folder's writer lock, and the commit
journal's recovery: the pieces the offline lake's crash safety stands on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from bookings.durable_files import atomic_file, remove_temporaries, write_text
from bookings.lake import LakeWriter, committed_file_record
from bookings.offline.commit import JOURNAL, STAGING_DIR, StagedFile, recover
from bookings.offline.ledger import Ledger
from bookings.offline.lock import LOCK_FILE, OutputFolderBusyError, OutputLock


def test_an_atomic_write_is_all_or_nothing(tmp_path: Path) -> None:
    target = tmp_path / "ledger.json"
    write_text(target, "first")

    def killed_half_way() -> None:
        with atomic_file(target) as handle:
            handle.write(b"half of the second")
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        killed_half_way()
    assert target.read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["ledger.json"]


def test_a_lake_file_is_invisible_until_it_is_complete(tmp_path: Path) -> None:
    record = committed_file_record("a.csv", valid=1, rejected=0, finished_at=datetime.now(UTC))
    writer = LakeWriter(tmp_path, row_group_rows=1)
    writer.add_audit([record, {**record, "source_file": "b.csv"}])
    table_dir = tmp_path / "lake" / "ingest_audit"
    # Row groups are written, the footer is not: only a temporary name exists, which neither
    # DuckDB's *.parquet glob nor pyarrow's discovery (a leading dot) matches.
    written = [p for p in table_dir.rglob("*") if p.is_file()]
    assert len(written) == 1
    assert written[0].name.startswith(".part-")
    assert written[0].name.endswith(".tmp")
    assert not list(table_dir.rglob("*.parquet"))
    writer.close()
    (final,) = table_dir.rglob("*.parquet")
    assert pq.read_table(final).num_rows == 2
    assert not [p for p in table_dir.rglob(".*") if p.is_file()]


def test_an_abandoned_writer_leaves_nothing(tmp_path: Path) -> None:
    record = committed_file_record("a.csv", valid=1, rejected=0, finished_at=datetime.now(UTC))

    def failing_export() -> None:
        with LakeWriter(tmp_path, row_group_rows=1) as writer:
            writer.add_audit([record, record])
            raise RuntimeError("the export failed")

    with pytest.raises(RuntimeError):
        failing_export()
    assert not [p for p in (tmp_path / "lake").rglob("*") if p.is_file()]


def test_remove_temporaries_takes_only_unfinished_files(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    keep = [tmp_path / "a" / "part-1.parquet", tmp_path / "a" / ".hidden", tmp_path / "b.tmp"]
    drop = [tmp_path / "a" / ".part-2.parquet.123-ab.tmp"]
    for path in keep + drop:
        path.write_text("x")
    assert remove_temporaries(tmp_path) == drop
    assert all(path.exists() for path in keep)


# -- the writer lock ------------------------------------------------------------------------------


def test_a_second_writer_is_refused_in_one_line_naming_the_holder(tmp_path: Path) -> None:
    with OutputLock(tmp_path):
        with pytest.raises(OutputFolderBusyError) as refused:
            OutputLock(tmp_path).acquire()
        assert str(refused.value) == (
            f"{tmp_path}: another bookings process (pid {os.getpid()}) is writing to this "
            "folder; wait for it to end, or pass --wait"
        )
    # Released: the next writer gets it.
    with OutputLock(tmp_path):
        pass


HOLDER = """
import sys, time
from bookings.offline.lock import OutputLock
lock = OutputLock(sys.argv[1])
lock.acquire()
print("held", flush=True)
time.sleep(120)
"""


def test_the_lock_of_a_killed_writer_is_released_by_the_system(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(OutputFolderBusyError, match=f"pid {holder.pid}"):
            OutputLock(tmp_path).acquire()
        holder.kill()
        holder.wait(timeout=30)
        started = time.monotonic()
        with OutputLock(tmp_path, wait=True):
            assert (tmp_path / LOCK_FILE).read_text().strip() == str(os.getpid())
        assert time.monotonic() - started < 5
    finally:
        if holder.poll() is None:
            holder.kill()


# -- the commit journal --------------------------------------------------------------------------


def staged_file(out: Path, name: str, source_file: str) -> StagedFile:
    staged = StagedFile(out, name)
    record = committed_file_record(source_file, valid=2, rejected=0, finished_at=datetime.now(UTC))
    booking = {"booking_id": f"{name}-1", "source_file": source_file, "row_number": 1}
    stamp = {"ingested_at": "2025-03-01T10:00:00Z"}
    with staged.writer(row_group_rows=10) as writer:
        writer.add_bookings([{**booking, **stamp}, {**booking, **stamp, "row_number": 2}])
        writer.add_audit([record])
    return staged


def test_a_journal_left_by_a_killed_commit_is_rolled_forward(tmp_path: Path) -> None:
    ledger = Ledger.load(tmp_path)
    staged = staged_file(tmp_path, "exec-1", "a.csv")
    moves = staged.moves(keep_rows=True)
    assert [m.split("/")[1] for m in moves] == ["bookings", "ingest_audit"]  # the audit last
    journal = {"version": 1, "moves": moves, "ledger": {"raw/a.csv#e": {"status": "succeeded"}}}
    write_text(staged.root / JOURNAL, json.dumps(journal))
    # As if killed after the first rename.
    first = moves[0]
    (tmp_path / first).parent.mkdir(parents=True)
    os.replace(staged.root / first, tmp_path / first)
    recovery = recover(tmp_path, ledger)
    assert recovery.rolled_forward == ["exec-1"]
    assert all((tmp_path / move).is_file() for move in moves)
    assert Ledger.load(tmp_path).completed("raw/a.csv#e")
    assert not (tmp_path / STAGING_DIR).exists()


def test_a_staging_folder_without_a_journal_is_rolled_back(tmp_path: Path) -> None:
    ledger = Ledger.load(tmp_path)
    staged_file(tmp_path, "exec-2", "b.csv")
    (tmp_path / "lake" / "bookings").mkdir(parents=True)
    stray = tmp_path / "lake" / "bookings" / ".part-x.parquet.1-a.tmp"
    stray.write_text("no footer")
    recovery = recover(tmp_path, ledger)
    assert recovery.rolled_back == ["exec-2"]
    assert recovery.temporaries == [str(stray)]
    assert recovery.describe() == "1 unfinished export(s) removed; 1 partial file(s) removed"
    assert not list((tmp_path / "lake").rglob("*.parquet"))
    assert ledger.objects == {}


def test_a_file_not_committed_keeps_only_its_audit_rows(tmp_path: Path) -> None:
    ledger = Ledger.load(tmp_path)
    staged = staged_file(tmp_path, "exec-3", "c.csv")
    staged.commit(ledger, {}, keep_rows=False)
    tables = {p.relative_to(tmp_path / "lake").parts[0] for p in tmp_path.rglob("*.parquet")}
    assert tables == {"ingest_audit"}
    assert not (tmp_path / STAGING_DIR).exists()
