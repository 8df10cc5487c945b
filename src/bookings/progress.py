"""Progress of long work on stderr: rich bars on a terminal, one plain line per step otherwise.

``Progress.create(quiet=...)`` picks the right kind: nothing at all with ``--quiet``, bars when
stderr is a terminal, short lines when it is a log file or a pipe (so CI logs stay readable).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Protocol, TextIO

if TYPE_CHECKING:
    from rich.progress import TaskID
else:
    TaskID = int


class Progress(Protocol):
    def start(self, label: str, total: int | None = None) -> int: ...

    def update(
        self, task: int, *, completed: int | None = None, total: int | None = None, stage: str = ""
    ) -> None: ...

    def finish(self, task: int, message: str = "") -> None: ...

    def note(self, message: str) -> None: ...

    def close(self) -> None: ...


class SilentProgress:
    """``--quiet``: no progress at all."""

    def start(self, label: str, total: int | None = None) -> int:
        return 0

    def update(
        self, task: int, *, completed: int | None = None, total: int | None = None, stage: str = ""
    ) -> None:
        return None

    def finish(self, task: int, message: str = "") -> None:
        return None

    def note(self, message: str) -> None:
        return None

    def close(self) -> None:
        return None


class LineProgress:
    """Not a terminal: one line when a task starts, changes stage and ends."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.labels: dict[int, str] = {}
        self.stages: dict[int, str] = {}

    def _write(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def start(self, label: str, total: int | None = None) -> int:
        task = len(self.labels) + 1
        self.labels[task] = label
        self._write(f"{label} ...")
        return task

    def update(
        self, task: int, *, completed: int | None = None, total: int | None = None, stage: str = ""
    ) -> None:
        if stage and self.stages.get(task) != stage:
            self.stages[task] = stage
            self._write(f"{self.labels.get(task, '')}: {stage}")

    def finish(self, task: int, message: str = "") -> None:
        self._write(f"{self.labels.get(task, '')}: {message or 'done'}")

    def note(self, message: str) -> None:
        self._write(message)

    def close(self) -> None:
        return None


class BarProgress:
    """A terminal: one rich bar per task, with its current stage and elapsed time."""

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeElapsedColumn,
        )
        from rich.progress import Progress as RichProgress

        self.console = Console(file=stream, stderr=stream is sys.stderr)
        self.bars = RichProgress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[stage]}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self.bars.start()

    def start(self, label: str, total: int | None = None) -> int:
        return int(self.bars.add_task(label, total=total, stage=""))

    def update(
        self, task: int, *, completed: int | None = None, total: int | None = None, stage: str = ""
    ) -> None:
        fields: dict[str, Any] = {}
        if completed is not None:
            fields["completed"] = completed
        if total is not None:
            fields["total"] = total
        if stage:
            fields["stage"] = stage
        self.bars.update(TaskID(task), **fields)

    def finish(self, task: int, message: str = "") -> None:
        by_id = {int(t.id): t for t in self.bars.tasks}
        total = by_id[task].total if task in by_id else None
        self.bars.update(TaskID(task), completed=total or 1, total=total or 1, stage=message)

    def note(self, message: str) -> None:
        self.bars.console.print(message, markup=False, highlight=False)

    def close(self) -> None:
        self.bars.stop()


def create_progress(*, quiet: bool, stream: TextIO | None = None) -> Progress:
    """The progress display for a command: silent, bars on a terminal, plain lines elsewhere."""
    stream = stream or sys.stderr
    if quiet:
        return SilentProgress()
    if stream.isatty():
        return BarProgress(stream)
    return LineProgress(stream)
