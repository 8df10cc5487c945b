"""``bookings watch DIR --out DIR``: a drop folder processed by the offline stack as files land.

Every file that appears in the folder is processed once its size has stopped changing between
two looks (a file still being copied is left alone), unless it is a hidden, temporary or partial
file (``.name``, ``~name``, ``*.tmp``, ``*.part``, ``*.partial``, ``*.crdownload``, ``*.swp``).
The emulated account stays up between files; the lake and its catalog are updated after each
file. Ctrl-C ends it cleanly.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bookings.commands.run import add_wait_option
from bookings.errors import CommandError

TEMPORARY_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".swp", ".download")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "watch",
        help="process every booking file dropped into a folder, as it lands",
        description="Watches DIR and runs each new booking file through the offline stack "
        "(as `bookings run` does) once it is completely written, until interrupted (Ctrl-C).",
    )
    parser.add_argument("folder", metavar="DIR", help="the drop folder")
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.add_argument(
        "--interval", type=float, default=1.0, metavar="S", help="seconds between looks (1)"
    )
    parser.add_argument("--model", metavar="MODEL", help="model.tar.gz to score with")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    parser.add_argument(
        "--max-files", type=int, metavar="N", help="stop after N files (for scripts and tests)"
    )
    parser.add_argument(
        "--timeout", type=float, metavar="S", help="stop after S seconds (for scripts and tests)"
    )
    add_wait_option(parser)
    parser.set_defaults(func=run)


def is_candidate(path: Path) -> bool:
    name = path.name
    if name.startswith((".", "~")) or name.lower().endswith(TEMPORARY_SUFFIXES):
        return False
    return path.is_file()


@dataclass
class _Seen:
    size: int
    mtime_ns: int


class DropFolder:
    """New files of a folder that have stopped growing."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.pending: dict[Path, _Seen] = {}
        self.done: set[tuple[Path, int, int]] = set()

    def ready(self) -> list[Path]:
        ready = []
        for path in sorted(self.folder.iterdir()):
            if not is_candidate(path):
                continue
            try:
                stat = path.stat()
            except OSError:
                continue  # removed between the listing and the look
            seen = _Seen(stat.st_size, stat.st_mtime_ns)
            if (path, seen.size, seen.mtime_ns) in self.done:
                continue
            if self.pending.get(path) == seen and seen.size > 0:
                ready.append(path)
                del self.pending[path]
            else:
                self.pending[path] = seen
        return ready

    def mark_done(self, path: Path) -> None:
        try:
            stat = path.stat()
        except OSError:
            return
        self.done.add((path, stat.st_size, stat.st_mtime_ns))


# The watch loop: stop signals, new files, failures, the catalog: one function on purpose.
def run(args: argparse.Namespace) -> int:  # noqa: C901
    from bookings.commands.run import describe_file
    from bookings.offline.ledger import LedgerError
    from bookings.offline.session import FAILED, OfflineRunError, OfflineSession, lake_counts
    from bookings.progress import create_progress

    folder = Path(args.folder)
    if not folder.is_dir():
        raise CommandError(f"{folder}: not a directory")
    if args.interval <= 0:
        raise CommandError("--interval must be more than 0 seconds")
    progress = create_progress(quiet=args.quiet)
    processed = 0
    broken = False
    started = time.monotonic()
    out = sys.stdout
    try:
        with OfflineSession(
            args.out, model=args.model, progress=progress, wait=args.wait
        ) as session:
            out = session.stdout
            progress.note(f"watching {folder} (Ctrl-C to stop); results in {args.out}")
            drop = DropFolder(folder)
            while True:
                for path in drop.ready():
                    result = session.process(path)
                    drop.mark_done(path)
                    session.build_catalog()
                    processed += 1
                    broken = broken or result.status == FAILED
                    for line in describe_file(result):
                        print(line, file=out, flush=True)
                    if args.max_files is not None and processed >= args.max_files:
                        break
                if args.max_files is not None and processed >= args.max_files:
                    break
                if args.timeout is not None and time.monotonic() - started >= args.timeout:
                    break
                time.sleep(args.interval)
    except (OfflineRunError, LedgerError) as exc:
        progress.close()
        raise CommandError(str(exc)) from None
    except KeyboardInterrupt:
        progress.note("stopped")
    finally:
        progress.close()
    summary = f"{processed} file(s) processed"
    if (Path(args.out) / "lake").is_dir():
        counts = lake_counts(Path(args.out))
        summary += (
            f"; lake: {counts['bookings']:,} bookings, {counts['rejected_bookings']:,} "
            f"rejected rows in {Path(args.out) / 'lake'}"
        )
    print(summary, file=out)
    return 1 if broken else 0
