"""One style of error across the commands: a single line, `bookings: error: <what>`, never a
traceback; argparse's errors too. And the help texts say what they mean."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bookings import cli
from bookings.cli import main

Case = Callable[[Path], list[str]]

FAILURES: dict[str, Case] = {
    "generate into a missing folder": lambda t: ["generate", "--out", str(t / "no" / "x.csv")],
    "generate onto a folder": lambda t: ["generate", "--rows", "1", "--out", str(t)],
    "validate a missing file": lambda t: ["validate", str(t / "nope.csv")],
    "validate a folder": lambda t: ["validate", str(t)],
    "run a folder": lambda t: ["run", str(t), "--out", str(t / "out")],
    "run a missing file": lambda t: ["run", str(t / "nope.csv"), "--out", str(t / "out")],
    "sql without a lake": lambda t: ["sql", "SELECT 1", "--lake", str(t / "nowhere")],
    "sql xlsx to the terminal": lambda t: ["sql", "SELECT 1", "--format", "xlsx"],
    "sql from a missing file": lambda t: ["sql", str(t / "q.sql"), "--lake", str(t)],
    "watch a missing folder": lambda t: ["watch", str(t / "nope"), "--out", str(t / "out")],
    "invoke with a missing event": lambda t: ["invoke", "validate", "--event", str(t / "e.json")],
    "report without a lake": lambda t: ["report", "--lake", str(t / "nowhere")],
    "train on a missing file": lambda t: ["train", "--data", str(t / "no.csv"), "--out", str(t)],
    "score with a missing model": lambda t: [
        "score",
        "--model",
        str(t / "none"),
        "--data",
        str(t / "no.csv"),
        "--out",
        str(t / "p.csv"),
    ],
    "evaluate with a missing model": lambda t: [
        "evaluate",
        "--model",
        str(t / "none"),
        "--data",
        str(t / "no.csv"),
    ],
    "serve a missing model": lambda t: ["serve-model", "--model", str(t / "none")],
    "demo with no rows": lambda t: ["demo", "--rows", "0", "--out", str(t / "demo")],
}


@pytest.mark.parametrize("name", list(FAILURES))
def test_every_command_fails_in_one_line_of_one_style(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(FAILURES[name](tmp_path))
    err = capsys.readouterr().err
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("bookings: error: ")
    assert "Traceback" not in err


def test_a_folder_given_to_run_is_called_a_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"bookings: error: {tmp_path}: is a directory; give the booking files in it "
        f"(for example {tmp_path}/*.csv)"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sql"], "the following arguments are required: query"),
        (["sql", "SELECT 1", "--format", "pdf"], "argument --format: invalid choice"),
        (["no-such-command"], "argument COMMAND: invalid choice"),
        (["generate", "--rows", "-1", "--out", "x.csv"], "must not be negative"),
    ],
)
def test_argument_errors_have_the_same_style(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    (line,) = err.strip().splitlines()
    assert line.startswith("bookings: error: ")
    assert message in line
    assert "--help" in line


def test_an_unexpected_failure_is_one_line_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(args: object) -> int:
        raise RuntimeError("the disk caught fire\nsecond line")

    parser = cli.build_parser()
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    parser._subparsers._group_actions[0].choices["report"].set_defaults(func=broken)  # type: ignore[union-attr]
    monkeypatch.delenv(cli.DEBUG_VARIABLE, raising=False)
    assert main(["report"]) == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == (
        "bookings: error: internal error: RuntimeError: the disk caught fire "
        f"(set {cli.DEBUG_VARIABLE}=1 to see where)"
    )


def test_train_help_shows_a_percentage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "A stratified 20% test split" in text
    assert "20%%" not in text
