"""Progress of long work on stderr: rich bars on a terminal, one line per file otherwise.

``create_progress(quiet=...)`` picks the display: nothing at all with ``--quiet`` (and with
``--json``, whose caller passes ``quiet``), live bars when stderr is a terminal, and short lines
when it is a log file or a pipe, so that CI logs stay readable.

The offline session reports, for each file, the chunks the state machine has finished and the
rows moved to the lake; ``expect(sizes)`` announces the files of a run (name -> bytes) so that
the display can also show the whole run: files done, rows, rows per second and time left (from
the bytes processed so far).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TextIO

if TYPE_CHECKING:
    from rich.progress import Task, TaskID
else:
    TaskID = int

# A file still running after this long gets a line of its own now and then (plain lines only).
LINE_INTERVAL_SECONDS = 15.0


class Progress(Protocol):
    def expect(self, sizes: Mapping[str, int]) -> None: ...

    def start(self, label: str, total: int | None = None) -> int: ...

    def update(
        self,
        task: int,
        *,
        completed: int | None = None,
        total: int | None = None,
        stage: str = "",
        rows: int | None = None,
    ) -> None: ...

    def finish(self, task: int, message: str = "") -> None: ...

    def note(self, message: str) -> None: ...

    def close(self) -> None: ...


class SilentProgress:
    """``--quiet`` and ``--json``: no progress at all."""

    def expect(self, sizes: Mapping[str, int]) -> None:
        return None

    def start(self, label: str, total: int | None = None) -> int:
        return 0

    def update(
        self,
        task: int,
        *,
        completed: int | None = None,
        total: int | None = None,
        stage: str = "",
        rows: int | None = None,
    ) -> None:
        return None

    def finish(self, task: int, message: str = "") -> None:
        return None

    def note(self, message: str) -> None:
        return None

    def close(self) -> None:
        return None


@dataclass
class _FileState:
    label: str
    started: float
    size: int = 0
    completed: int = 0
    total: int | None = None
    rows: int = 0
    last_line: float = 0.0

    def fraction(self) -> float:
        if not self.total:
            return 0.0
        return min(1.0, self.completed / self.total)


@dataclass
class _Run:
    """What a run has done so far: files, bytes and rows, and since when."""

    sizes: dict[str, int] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    files_done: int = 0
    bytes_done: int = 0
    rows_done: int = 0

    @property
    def files(self) -> int:
        return len(self.sizes)

    @property
    def total_bytes(self) -> int:
        return sum(self.sizes.values())


def _rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f} rows/s" if seconds > 0 and rows else "- rows/s"


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    minutes, second = divmod(seconds, 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}:{minute:02d}:{second:02d}" if hours else f"{minute}:{second:02d}"


class LineProgress:
    """Not a terminal: one line when a file ends (and, for a long file, now and then)."""

    def __init__(self, stream: TextIO, *, clock: Any = time.monotonic) -> None:
        self.stream = stream
        self.clock = clock
        self.run = _Run(started=clock())
        self.files: dict[int, _FileState] = {}

    def _write(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def expect(self, sizes: Mapping[str, int]) -> None:
        self.run = _Run(sizes=dict(sizes), started=self.clock())

    def start(self, label: str, total: int | None = None) -> int:
        task = len(self.files) + 1
        now = self.clock()
        self.files[task] = _FileState(
            label, now, size=self.run.sizes.get(label, 0), total=total, last_line=now
        )
        return task

    def update(
        self,
        task: int,
        *,
        completed: int | None = None,
        total: int | None = None,
        stage: str = "",
        rows: int | None = None,
    ) -> None:
        state = self.files.get(task)
        if state is None:
            return
        state.completed = completed if completed is not None else state.completed
        state.total = total if total is not None else state.total
        state.rows = rows if rows is not None else state.rows
        now = self.clock()
        if now - state.last_line >= LINE_INTERVAL_SECONDS:
            state.last_line = now
            chunks = f"{state.completed}/{state.total}" if state.total else f"{state.completed}"
            self._write(
                f"{self._counter()} {state.label}: {stage or 'running'}, chunks {chunks}, "
                f"{state.rows:,} rows, {_rate(state.rows, now - state.started)}"
            )

    def _counter(self) -> str:
        done = self.run.files_done + 1
        return f"[{done}/{self.run.files}]" if self.run.files else f"[{done}]"

    def finish(self, task: int, message: str = "") -> None:
        state = self.files.pop(task, None)
        if state is None:
            return
        now = self.clock()
        seconds = now - state.started
        line = f"{self._counter()} {state.label}: {message or 'done'} ({seconds:.1f} s"
        line += f", {_rate(state.rows, seconds)})" if state.rows else ")"
        self.run.files_done += 1
        self.run.bytes_done += state.size
        self.run.rows_done += state.rows
        self._write(line)

    def note(self, message: str) -> None:
        self._write(message)

    def close(self) -> None:
        return None


class BarProgress:
    """A terminal: a bar for the run (files, rows, rate, time left) and one for the file in
    hand (chunks done of the file's chunks, rows, its stage); each file leaves one line."""

    def __init__(self, stream: TextIO, *, console: Any = None) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, TextColumn, TimeRemainingColumn
        from rich.progress import Progress as RichProgress

        self.console = console or Console(file=stream, stderr=stream is sys.stderr)
        self.bars = RichProgress(
            TextColumn("[bold]{task.description}", table_column=None),
            BarColumn(bar_width=28),
            TextColumn("{task.fields[done]}"),
            TextColumn("{task.fields[rows]:>12}"),
            TextColumn("{task.fields[rate]:>14}"),
            TimeRemainingColumn(compact=True, elapsed_when_finished=True),
            TextColumn("{task.fields[stage]}"),
            console=self.console,
            transient=True,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self.run = _Run()
        self.run_task: TaskID | None = None
        self.files: dict[int, _FileState] = {}
        self.bars.start()

    def _fields(self, done: str, rows: int, seconds: float, stage: str = "") -> dict[str, Any]:
        return {
            "done": done,
            "rows": f"{rows:,} rows",
            "rate": _rate(rows, seconds),
            "stage": stage,
        }

    def expect(self, sizes: Mapping[str, int]) -> None:
        self.run = _Run(sizes=dict(sizes))
        if self.run_task is not None:
            self.bars.remove_task(self.run_task)
        self.run_task = self.bars.add_task(
            "all files",
            total=max(1, self.run.total_bytes),
            **self._fields(f"files 0/{self.run.files}", 0, 0.0),
        )

    def _refresh_run(self) -> None:
        if self.run_task is None:
            return
        running = sum(s.size * s.fraction() for s in self.files.values())
        rows = self.run.rows_done + sum(s.rows for s in self.files.values())
        self.bars.update(
            self.run_task,
            completed=self.run.bytes_done + running,
            **self._fields(
                f"files {self.run.files_done}/{self.run.files}",
                rows,
                time.monotonic() - self.run.started,
            ),
        )

    def start(self, label: str, total: int | None = None) -> int:
        state = _FileState(label, time.monotonic(), size=self.run.sizes.get(label, 0), total=total)
        task = int(self.bars.add_task(label, total=total, **self._fields("chunks -", 0, 0.0)))
        self.files[task] = state
        return task

    def update(
        self,
        task: int,
        *,
        completed: int | None = None,
        total: int | None = None,
        stage: str = "",
        rows: int | None = None,
    ) -> None:
        state = self.files.get(task)
        if state is None:
            return
        state.completed = completed if completed is not None else state.completed
        state.total = total if total is not None else state.total
        state.rows = rows if rows is not None else state.rows
        chunks = f"chunks {state.completed}" + (f"/{state.total}" if state.total else "")
        fields = self._fields(chunks, state.rows, time.monotonic() - state.started, stage)
        if not stage:
            fields.pop("stage")
        self.bars.update(TaskID(task), completed=state.completed, total=state.total, **fields)
        self._refresh_run()

    def finish(self, task: int, message: str = "") -> None:
        state = self.files.pop(task, None)
        if state is None:
            return
        self.bars.remove_task(TaskID(task))
        seconds = time.monotonic() - state.started
        self.run.files_done += 1
        self.run.bytes_done += state.size
        self.run.rows_done += state.rows
        rate = f", {_rate(state.rows, seconds)}" if state.rows else ""
        self.bars.console.print(
            f"{state.label}: {message or 'done'} ({seconds:.1f} s{rate})",
            markup=False,
            highlight=False,
        )
        self._refresh_run()

    def note(self, message: str) -> None:
        self.bars.console.print(message, markup=False, highlight=False)

    def close(self) -> None:
        if self.run_task is not None:
            task: Task = next(t for t in self.bars.tasks if t.id == self.run_task)
            elapsed = task.elapsed or 0.0
            self.bars.stop()
            self.console.print(
                f"{self.run.files_done} of {self.run.files} files, {self.run.rows_done:,} rows "
                f"in {_duration(elapsed)} ({_rate(self.run.rows_done, elapsed)})",
                markup=False,
                highlight=False,
            )
            self.run_task = None
            return
        self.bars.stop()


def create_progress(*, quiet: bool, stream: TextIO | None = None) -> Progress:
    """The progress display for a command: silent, bars on a terminal, plain lines elsewhere."""
    stream = stream or sys.stderr
    if quiet:
        return SilentProgress()
    if stream.isatty():
        return BarProgress(stream)
    return LineProgress(stream)
