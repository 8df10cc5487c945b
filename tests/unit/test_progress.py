"""The progress of a run: one line per file off a terminal, bars with chunks, rows, rate and
time left on one, nothing with --quiet or --json."""

from __future__ import annotations

import io

from rich.console import Console

from bookings.progress import LINE_INTERVAL_SECONDS, BarProgress, LineProgress, SilentProgress


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_plain_lines_say_which_file_of_how_many_its_rows_and_rate() -> None:
    stream = io.StringIO()
    clock = Clock()
    progress = LineProgress(stream, clock=clock)
    progress.expect({"a.csv": 100, "b.csv": 300})
    task = progress.start("a.csv")
    for step in range(1, 4):  # short updates: no line of their own
        progress.update(task, completed=step, total=8, stage="Enrich", rows=step * 100)
    assert stream.getvalue() == ""
    clock.now += LINE_INTERVAL_SECONDS + 1
    progress.update(task, completed=4, total=8, stage="Deliver", rows=4_000)
    clock.now += 4
    progress.update(task, completed=8, total=8, rows=8_000)
    progress.finish(task, "succeeded: 8,000 delivered")
    task = progress.start("b.csv")
    clock.now += 2
    progress.update(task, completed=1, total=1, rows=300)
    progress.finish(task, "quarantined")
    lines = stream.getvalue().splitlines()
    assert lines == [
        "[1/2] a.csv: Deliver, chunks 4/8, 4,000 rows, 250 rows/s",
        "[1/2] a.csv: succeeded: 8,000 delivered (20.0 s, 400 rows/s)",
        "[2/2] b.csv: quarantined (2.0 s, 150 rows/s)",
    ]


def _rendered(progress: BarProgress) -> str:
    console = Console(file=io.StringIO(), width=200, record=True, color_system=None)
    console.print(progress.bars.make_tasks_table(progress.bars.tasks))
    return console.export_text()


def test_bars_show_the_run_and_the_file_in_hand() -> None:
    console = Console(file=io.StringIO(), width=200, force_terminal=True)
    progress = BarProgress(console.file, console=console)
    try:
        progress.expect({"a.csv": 1_000, "b.csv": 3_000})
        task = progress.start("a.csv")
        progress.update(task, completed=3, total=4, stage="Score", rows=1_500)
        text = _rendered(progress)
        assert "all files" in text
        assert "files 0/2" in text
        assert "a.csv" in text
        assert "chunks 3/4" in text
        assert "Score" in text
        assert "1,500 rows" in text
        assert "rows/s" in text
        run_task = next(t for t in progress.bars.tasks if t.description == "all files")
        assert run_task.total == 4_000
        assert run_task.completed == 750  # three quarters of the first file's bytes
        progress.finish(task, "succeeded")
        text = _rendered(progress)
        assert "files 1/2" in text
        assert "a.csv" not in text
        assert "a.csv: succeeded" in console.file.getvalue()
    finally:
        progress.close()
    assert "1 of 2 files, 1,500 rows" in console.file.getvalue()


def test_silent_progress_prints_nothing(capsys) -> None:
    progress = SilentProgress()
    progress.expect({"a.csv": 1})
    task = progress.start("a.csv")
    progress.update(task, completed=1, total=1, rows=5)
    progress.finish(task, "done")
    progress.note("hello")
    progress.close()
    assert capsys.readouterr() == ("", "")
