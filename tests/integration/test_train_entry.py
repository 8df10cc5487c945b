"""The SageMaker training code: ``bookings package-training-code`` and its ``train_entry.py``.

The archive is built with the command, extracted, and its entry point run in a fresh interpreter
that sees only the extracted code and the third-party packages (``python -S``: the project's
editable install is not on the path), as the framework container runs it. The training channel
is written as Athena UNLOAD writes the export of the Glue ``bookings`` table: Parquet files
without an extension, one column per table column with the table's types, the export's filter
applied.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import tarfile
import tomllib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from booking_core.pipeline import process_stream
from sklearn.metrics import roc_auc_score
from support.paths import ROOT

from bookings.cli import main as bookings_main
from bookings.generator import generate_rows, write_csv
from bookings.ml import inference, train_entry
from bookings.ml.inference import load_model
from bookings.ml.search import default_time_budget
from bookings.offline.template import load_template

pytestmark = pytest.mark.slow

SITE_PACKAGES = sysconfig.get_paths()["purelib"]
GLUE_TO_ARROW = {
    "int": pa.int32(),
    "bigint": pa.int64(),
    "double": pa.float64(),
    "string": pa.string(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("ms"),
}
MODEL_FILES = {"model.txt", "feature_spec.json", "calibration.json", "metadata.json"}
REPEATED_DELIVERIES = 25


def _bookings_table_schema() -> pa.Schema:
    """The columns of ``SELECT * FROM bookings``: the Glue table's, then its partition key."""
    table = load_template(ROOT / "template.yaml")["Resources"]["BookingsTable"]
    table_input = table["Properties"]["TableInput"]
    columns = [*table_input["StorageDescriptor"]["Columns"], *table_input["PartitionKeys"]]
    return pa.schema([pa.field(c["Name"], GLUE_TO_ARROW[c["Type"]]) for c in columns])


def _enriched(path: Path, source_file: str) -> list[dict[str, Any]]:
    with path.open("rb") as stream:
        run = process_stream(stream, source_file=source_file, ingested_at=datetime.now(UTC))
        return [record for kind, record in run if kind == "valid"]


def _unload_name() -> str:
    # Athena names UNLOAD files <query time>_<query id>_<uuid>, with no extension.
    return f"20261101_030000_00042_abcde_{uuid.uuid4()}"


def _write_unload(records: list[dict[str, Any]], directory: Path, files: int) -> None:
    schema = _bookings_table_schema()
    rows = [
        {
            **record,
            "ingested_at": datetime.fromisoformat(record["ingested_at"]),
            "ingest_date": record["ingested_at"][:10],
        }
        for record in records
        if record.get("booking_complete") is not None and not record["is_duplicate"]
    ]
    directory.mkdir(parents=True, exist_ok=True)
    size = -(-len(rows) // files)
    for start in range(0, len(rows), size):
        part = rows[start : start + size]
        columns = [pa.array([row.get(f.name) for row in part], type=f.type) for f in schema]
        table = pa.Table.from_arrays(columns, schema=schema)
        pq.write_table(
            table,
            directory / _unload_name(),
            compression="snappy",
            use_deprecated_int96_timestamps=True,
        )


@dataclass(frozen=True)
class TrainingRun:
    sourcedir: Path
    archive: Path
    channel: Path
    model_dir: Path
    output_dir: Path
    result: subprocess.CompletedProcess[str]
    exported_rows: int


def _entry_environment(sourcedir: Path, channel: Path, tmp: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp),
        "PYTHONPATH": os.pathsep.join([str(sourcedir), SITE_PACKAGES]),
        "PYTHONDONTWRITEBYTECODE": "1",
        "SM_CHANNEL_TRAIN": str(channel),
        "SM_MODEL_DIR": str(tmp / "model"),
        "SM_OUTPUT_DATA_DIR": str(tmp / "output" / "data"),
        "SM_OUTPUT_DIR": str(tmp / "output"),
    }


def _run_entry(
    sourcedir: Path, channel: Path, tmp: Path, *arguments: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-S", str(sourcedir / "train_entry.py"), *arguments],
        env=_entry_environment(sourcedir, channel, tmp),
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _build_sourcedir(tmp: Path) -> tuple[Path, Path]:
    assert bookings_main(["package-training-code", "--out", str(tmp / "code")]) == 0
    archive = tmp / "code" / "sourcedir.tar.gz"
    sourcedir = tmp / "sourcedir"
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(sourcedir, filter="data")
    return archive, sourcedir


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return _build_sourcedir(tmp_path_factory.mktemp("training-code"))


@pytest.fixture(scope="module")
def training_run(tmp_path_factory: pytest.TempPathFactory, built: tuple[Path, Path]) -> TrainingRun:
    archive, sourcedir = built
    tmp = tmp_path_factory.mktemp("training-job")
    records: list[dict[str, Any]] = []
    for seed, rows in ((21, 4000), (22, 3000)):
        csv_path = tmp / f"bookings-{seed}.csv"
        write_csv(csv_path, generate_rows(rows, seed), dirty=0.02, seed=seed)
        records += _enriched(csv_path, f"s3://raw/incoming/bookings-{seed}.csv")
    channel = tmp / "input" / "data" / "train"
    _write_unload(records, channel, files=3)
    exported = sum(pq.read_metadata(path).num_rows for path in channel.iterdir())
    # The same bookings delivered to the lake a second time (Firehose is at-least-once).
    labelled = [r for r in records if not r["is_duplicate"]]
    _write_unload(labelled[:REPEATED_DELIVERIES], channel, files=1)
    exported += REPEATED_DELIVERIES
    result = _run_entry(
        sourcedir,
        channel,
        tmp,
        *("--compare_tiers", "false", "--seed", "7"),
        # a tiny search, and the job's time limit as the workflow passes it
        *("--trials", "2", "--search_folds", "2", "--max_runtime_seconds", "3600"),
    )
    return TrainingRun(
        sourcedir=sourcedir,
        archive=archive,
        channel=channel,
        model_dir=tmp / "model",
        output_dir=tmp / "output" / "data",
        result=result,
        exported_rows=exported,
    )


def test_the_sourcedir_holds_the_entry_point_its_modules_and_nothing_else(
    built: tuple[Path, Path],
) -> None:
    archive, _ = built
    with tarfile.open(archive, "r:gz") as tar:
        members = tar.getmembers()
    names = {m.name for m in members}
    assert all(m.isfile() for m in members)
    assert {"train_entry.py", "requirements.txt"} <= names
    stray = [
        name
        for name in names - {"train_entry.py", "requirements.txt"}
        if not name.endswith(".py")
        or not name.startswith(("booking_core/", "bookings/"))
        or "__pycache__" in name
        or "test" in name
        or name.startswith(
            (
                "booking_core/aws/",
                "booking_core/usecases/",
                "bookings/commands/",
                "bookings/offline/",
            )
        )
    ]
    assert stray == []
    for needed in (
        "booking_core/features.py",
        "booking_core/schema.py",
        "bookings/__init__.py",
        "bookings/ml/__init__.py",
        "bookings/ml/data.py",
        "bookings/ml/training.py",
        "bookings/ml/packaging.py",
        "bookings/ml/inference.py",
    ):
        assert needed in names
    assert (ROOT / "src/bookings/ml/train_entry.py").read_bytes() == _member(
        archive, "train_entry.py"
    )


def _member(archive: Path, name: str) -> bytes:
    with tarfile.open(archive, "r:gz") as tar:
        handle = tar.extractfile(name)
        assert handle is not None
        return handle.read()


def test_the_requirements_pin_lightgbm_and_optuna_like_the_project(
    built: tuple[Path, Path],
) -> None:
    archive, _ = built
    requirements = _member(archive, "requirements.txt").decode().split()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    pins = {
        spec.split("==")[0].split("[")[0].lower(): spec.split("==")[1]
        for spec in pyproject["project"]["dependencies"]
    }
    assert f"lightgbm=={pins['lightgbm']}" in requirements
    # the search of the settings runs in the training job too
    assert f"optuna=={pins['optuna']}" in requirements
    for requirement in requirements:
        name, version = requirement.split("==")
        assert pins[name.lower()] == version
        assert name.lower() not in {"pandas", "numpy", "scikit-learn", "pyarrow", "boto3"}


def test_the_archive_is_reproducible(tmp_path: Path, built: tuple[Path, Path]) -> None:
    archive, _ = built
    assert bookings_main(["package-training-code", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "sourcedir.tar.gz").read_bytes() == archive.read_bytes()


def test_the_entry_point_imports_only_the_extracted_code(
    tmp_path: Path, built: tuple[Path, Path]
) -> None:
    _, sourcedir = built
    probe = "import booking_core.features, bookings.ml.training as t; print(t.__file__)"
    result = subprocess.run(
        [sys.executable, "-S", "-c", probe],
        env=_entry_environment(sourcedir, tmp_path, tmp_path),
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(result.stdout.strip()).is_relative_to(sourcedir)


def test_the_training_job_writes_a_servable_model(training_run: TrainingRun) -> None:
    result = training_run.result
    assert result.returncode == 0, result.stderr
    assert "roc_auc_cv=" in result.stdout
    model_dir = training_run.model_dir
    top_level = {path.name for path in model_dir.iterdir()}
    assert top_level == MODEL_FILES | {"code"}
    assert (model_dir / "code" / "inference.py").read_bytes() == (
        training_run.sourcedir / "bookings" / "ml" / "inference.py"
    ).read_bytes()
    for module in (training_run.sourcedir / "booking_core").glob("*.py"):
        assert (model_dir / "code" / "booking_core" / module.name).read_bytes() == (
            module.read_bytes()
        )
    assert not list(model_dir.rglob("__pycache__"))

    model = inference.model_fn(str(model_dir))
    fresh = [
        r
        for r in _enriched_generated(3000, seed=99, directory=training_run.output_dir.parent)
        if not r["is_duplicate"]
    ]
    answers = inference.predict_fn(fresh, model)
    probabilities = np.array([a["booking_complete_probability"] for a in answers], dtype=float)
    assert len(answers) == len(fresh)
    assert {a["model_version"] for a in answers} == {model.model_version}
    assert np.all((probabilities >= 0.0) & (probabilities <= 1.0))
    outcomes = np.array([r["booking_complete"] for r in fresh])
    assert roc_auc_score(outcomes, probabilities) > 0.7


def _enriched_generated(n: int, seed: int, directory: Path) -> list[dict[str, Any]]:
    path = directory / f"fresh-{seed}.csv"
    write_csv(path, generate_rows(n, seed))
    return _enriched(path, f"s3://raw/incoming/fresh-{seed}.csv")


def test_the_model_metadata_and_metrics_account_for_every_exported_row(
    training_run: TrainingRun,
) -> None:
    assert training_run.result.returncode == 0, training_run.result.stderr
    metadata = json.loads((training_run.model_dir / "metadata.json").read_text())
    metrics = json.loads((training_run.output_dir / "metrics.json").read_text())
    assert (training_run.output_dir / "model_card.md").read_text().startswith("# Model card")
    assert metrics["model_version"] == metadata["model_version"]
    # What EvaluateModel compares.
    assert isinstance(metadata["roc_auc_test"], float)
    assert metadata["roc_auc_test"] == metrics["test"]["roc_auc"]
    data = metrics["data"]
    assert data["files"] == 4
    assert data["rows_read"] == training_run.exported_rows
    assert data["excluded_repeated_booking_id"] == REPEATED_DELIVERIES
    assert data["excluded_without_outcome"] == 0
    assert data["excluded_duplicates"] == 0
    assert data["n_train"] + data["n_test"] == data["rows_read"] - REPEATED_DELIVERIES
    assert metadata["hyperparameters"]["seed"] == 7
    assert metrics["tiers"] == []
    search = metrics["search"]
    assert search["max_trials"] == 2
    assert search["folds"] == 2
    assert search["trials_completed"] == 2
    assert [t["trial"] for t in search["trials"]] == [0, 1]
    assert search["chosen"] == search["trials"][search["chosen_trial"]]["settings"]
    assert search["selection"]["eligible_trials"]
    assert "search: 2 trials" in training_run.result.stdout


def test_the_search_gets_its_share_of_the_jobs_time_limit() -> None:
    asl = (ROOT / "statemachines" / "train_model.asl.json").read_text()
    marked = re.sub(r"\$\{(\w+)\}", lambda m: "9999" if m[1] == "TrainingMaxSeconds" else "1", asl)
    train = json.loads(marked)["States"]["Train"]["Parameters"]
    # the job's own limit is what the entry point is told
    assert train["StoppingCondition"]["MaxRuntimeInSeconds"] == 9999
    assert train["HyperParameters"]["max_runtime_seconds"] == "9999"
    template = load_template(ROOT / "template.yaml")
    substitutions = template["Resources"]["TrainModelStateMachine"]["Properties"][
        "DefinitionSubstitutions"
    ]
    limit = int(substitutions["TrainingMaxSeconds"])
    args = train_entry.parse_arguments(["--max_runtime_seconds", str(limit)])
    share = train_entry.SEARCH_SHARE_OF_RUNTIME * limit
    # a huge export gets half the job's time; a 50,000-row file its usual two minutes
    assert train_entry.search_budget(args, 10_000_000) == share
    assert train_entry.search_budget(args, 40_000) == default_time_budget(40_000) < share
    asked = train_entry.parse_arguments(["--time_budget", "5000", "--max_runtime_seconds", "600"])
    assert train_entry.search_budget(asked, 40_000) == 300
    assert train_entry.search_budget(train_entry.parse_arguments(["--time_budget", "30"]), 9) == 30


def test_the_model_directory_archived_as_sagemaker_does_loads(
    training_run: TrainingRun, tmp_path: Path
) -> None:
    assert training_run.result.returncode == 0, training_run.result.stderr
    archive = tmp_path / "model.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(training_run.model_dir.rglob("*")):
            tar.add(path, arcname=path.relative_to(training_run.model_dir).as_posix())
    model = load_model(archive)
    version = json.loads((training_run.model_dir / "metadata.json").read_text())["model_version"]
    assert model.model_version == version


def test_the_shipped_inference_code_serves_the_model_on_its_own(
    training_run: TrainingRun, tmp_path: Path
) -> None:
    assert training_run.result.returncode == 0, training_run.result.stderr
    code = training_run.model_dir / "code"
    script = (
        "import sys, inference\n"
        "model = inference.model_fn(sys.argv[1])\n"
        "rows = inference.input_fn(sys.stdin.read(), 'text/csv')\n"
        "body, kind = inference.output_fn(inference.predict_fn(rows, model), None)\n"
        "print(inference.__file__); print(body, end='')\n"
    )
    csv_rows = (
        "2,Internet,RoundTrip,262,19,7,Sat,AKLDEL,New Zealand,1,0,0,5.52\n"
        "1,Mobile,OneWay,3,0,23,Mon,PENTPE,Malaysia,0,1,1,4.67\n"
        "1,Mobile,OneWay,x,0,23,Mon,PENTPE,Malaysia,0,1,1,4.67\n"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-c", script, str(training_run.model_dir)],
        input=csv_rows,
        env={
            **_entry_environment(code, tmp_path, tmp_path),
            "PYTHONPATH": f"{code}:{SITE_PACKAGES}",
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    origin, *lines = result.stdout.splitlines()
    assert Path(origin).is_relative_to(code)
    answers = [json.loads(line) for line in lines]
    assert len(answers) == 3
    assert all(0.0 <= a["booking_complete_probability"] <= 1.0 for a in answers[:2])
    assert answers[2]["booking_complete_probability"] is None
    assert "purchase_lead" in answers[2]["error"]


def _failing_run(tmp_path: Path, built: tuple[Path, Path], channel: Path) -> tuple[str, str]:
    _, sourcedir = built
    result = _run_entry(sourcedir, channel, tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    failure = (tmp_path / "output" / "failure").read_text().strip()
    assert lines[0] == f"error: {failure}"
    assert not (tmp_path / "model").exists()
    return lines[0], failure


def test_an_empty_channel_fails_with_one_line(tmp_path: Path, built: tuple[Path, Path]) -> None:
    channel = tmp_path / "train"
    channel.mkdir()
    line, _ = _failing_run(tmp_path, built, channel)
    assert str(channel) in line
    assert "no Parquet file" in line


def test_a_file_that_is_not_parquet_is_named(tmp_path: Path, built: tuple[Path, Path]) -> None:
    channel = tmp_path / "train"
    channel.mkdir()
    (channel / "notes.csv").write_text("num_passengers\n1\n")
    line, _ = _failing_run(tmp_path, built, channel)
    assert "notes.csv: not a Parquet file" in line


def test_a_bad_outcome_names_the_file_row_and_field(
    tmp_path: Path, built: tuple[Path, Path]
) -> None:
    path = tmp_path / "bookings.csv"
    write_csv(path, generate_rows(300, 5))
    records = _enriched(path, "s3://raw/incoming/bookings.csv")
    clean = [r for r in records if not r["is_duplicate"]]
    clean[41] = {**clean[41], "booking_complete": 7}
    channel = tmp_path / "train"
    _write_unload(clean, channel, files=1)
    (exported,) = list(channel.iterdir())
    line, _ = _failing_run(tmp_path, built, channel)
    assert f"{exported}: row 42: booking_complete is 7" in line


def test_a_channel_missing_a_feature_column_is_refused(
    tmp_path: Path, built: tuple[Path, Path]
) -> None:
    channel = tmp_path / "train"
    channel.mkdir()
    table = pa.table({"booking_id": ["a"], "booking_complete": pa.array([1], pa.int32())})
    pq.write_table(table, channel / _unload_name())
    line, _ = _failing_run(tmp_path, built, channel)
    assert "missing column(s)" in line
    assert "route" in line
