"""``bookings train``, ``evaluate`` and ``score`` on generated booking files."""

from __future__ import annotations

import contextlib
import csv
import io
import json
from pathlib import Path

import pytest

from bookings.cli import main
from bookings.generator import generate_rows, write_csv

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("ml-commands")
    paths = {
        "train": root / "train.csv",
        "labelled": root / "labelled.csv",
        "live": root / "live.csv",
    }
    write_csv(paths["train"], generate_rows(4000, 31), seed=1)
    write_csv(paths["labelled"], generate_rows(1500, 32), seed=2, dirty=0.05)
    write_csv(paths["live"], generate_rows(500, 33), seed=3, outcome=False)
    return paths


@pytest.fixture(scope="module")
def trained(files: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("model")
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        code = main(
            [
                *("train", "--data", str(files["train"]), "--out", str(out), "--json"),
                *("--no-tiers", "--trials", "2", "--search-folds", "2", "--seed", "9"),
            ]
        )
    assert code == 0
    return {"out": out, "metrics": json.loads(stdout.getvalue())}


def test_train_writes_the_artefacts_and_prints_the_metrics(trained: dict) -> None:
    out, metrics = trained["out"], trained["metrics"]
    for name in ("model.tar.gz", "model_card.md", "metrics.json"):
        assert (out / name).is_file()
    for key in ("roc_auc_cv", "pr_auc_cv", "brier_cv", "n_train"):
        assert key in metrics
    assert 0.7 < metrics["roc_auc_cv"] < 0.95
    data = metrics["data"]
    assert data["rows_read"] == 4000
    assert data["rows_read"] == data["rows_valid"] + data["rows_rejected"]
    labelled = data["rows_valid"] - data["excluded_without_outcome"] - data["excluded_duplicates"]
    assert metrics["n_train"] + metrics["n_test"] == labelled
    assert (
        json.loads((out / "metrics.json").read_text())["model_version"] == metrics["model_version"]
    )


def test_train_reports_its_search_and_the_plain_baseline(trained: dict) -> None:
    metrics = trained["metrics"]
    search = metrics["search"]
    assert search["trials_completed"] == 2
    assert search["seed"] == 9
    assert metrics["hyperparameters"]["seed"] == 9
    assert metrics["hyperparameters"]["search_folds"] == 2
    assert 0.5 < metrics["baselines"]["plain_lightgbm_defaults_test"]["roc_auc"] < 1
    card = (trained["out"] / "model_card.md").read_text()
    assert "2 trials completed" in card
    assert "plain LightGBM, defaults" in card


def test_train_tests_on_a_file_given_apart(
    files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            *("train", "--data", str(files["train"]), "--out", str(tmp_path), "--json"),
            *("--no-tiers", "--trials", "1", "--search-folds", "2"),
            *("--test-data", str(files["labelled"])),
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    metrics = json.loads(captured.out)
    data = metrics["data"]
    # every labelled training row is trained on; the test rows are the other file's
    labelled = data["rows_valid"] - data["excluded_without_outcome"] - data["excluded_duplicates"]
    assert metrics["n_train"] == labelled
    assert metrics["n_test"] == metrics["test"]["n"] < 1500
    assert "test data: 1500 rows read" in captured.err
    assert str(files["labelled"]) in (tmp_path / "model_card.md").read_text()


def test_evaluate_reports_against_the_baselines(
    trained: dict, files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["evaluate", "--model", str(trained["out"]), "--data", str(files["labelled"]), "--json"]
    )
    assert code == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert "rejected" in captured.err
    assert report["data"]["rows_rejected"] > 0
    assert report["model"]["roc_auc"] > 0.7
    assert 0.5 < report["baselines"]["logistic_regression_cv"]["roc_auc"] < 1
    assert report["baselines"]["always_no_accuracy"] == pytest.approx(1 - report["positive_rate"])
    assert len(report["calibration"]) == 10
    assert sum(row["n"] for row in report["lift"]) == report["n"]


def test_score_writes_one_row_per_valid_row_in_input_order(
    trained: dict, files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "pred.csv"
    segments = tmp_path / "segments.csv"
    code = main(
        [
            "score",
            "--model",
            str(trained["out"] / "model.tar.gz"),
            "--data",
            str(files["labelled"]),
            "--out",
            str(out),
            "--explain",
            "3",
            "--segments",
            str(segments),
        ]
    )
    assert code == 0
    err = capsys.readouterr().err
    rows = list(csv.DictReader(out.open()))
    valid = int(err.split(" valid")[0].split(": ")[-1])
    assert len(rows) == valid < 1500
    numbers = [int(r["row_number"]) for r in rows]
    assert numbers == sorted(numbers)
    assert len({r["booking_id"] for r in rows}) == len(rows)
    assert all(0.0 <= float(r["booking_complete_probability"]) <= 1.0 for r in rows)
    assert all(len(r["top_contributions"].split("; ")) == 3 for r in rows)
    seg = list(csv.DictReader(segments.open()))
    assert sum(int(s["bookings"]) for s in seg) == len(rows)
    total = sum(float(s["expected_completions"]) for s in seg)
    assert total == pytest.approx(
        sum(float(r["booking_complete_probability"]) for r in rows), rel=1e-3
    )


def test_rows_without_an_outcome_are_scored(
    trained: dict, files: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "live.csv"
    assert (
        main(
            [
                "score",
                "--model",
                str(trained["out"]),
                "--data",
                str(files["live"]),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 500
    probabilities = [float(r["booking_complete_probability"]) for r in rows]
    assert len(set(probabilities)) > 10
    assert 0.05 < sum(probabilities) / len(probabilities) < 0.4


def test_bad_inputs_get_a_one_line_error(
    trained: dict, files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "score",
                "--model",
                str(tmp_path),
                "--data",
                str(files["live"]),
                "--out",
                str(tmp_path / "p.csv"),
            ]
        )
        == 1
    )
    err = capsys.readouterr().err.strip()
    assert err.startswith("bookings: error:")
    assert "\n" not in err
    assert "Traceback" not in err
    assert main(["train", "--data", str(tmp_path / "missing.csv"), "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert "missing.csv" in err
    assert "\n" not in err
    assert main(["train", "--data", str(files["live"]), "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "no row has an outcome" in err
