"""SageMaker training entry point of the booking-completion model.

The retraining workflow (``statemachines/train_model.asl.json``) starts a training job in a
SageMaker framework container with this file as ``sagemaker_program`` (``train_entry.py``) and
``s3://<LakeBucket>/ml/code/sourcedir.tar.gz`` as ``sagemaker_submit_directory``; that archive
is built by ``bookings package-training-code`` and holds this file at its root next to the
modules it imports (``booking_core``, ``bookings.ml``) and a ``requirements.txt``.

What a run does:

1. Reads every Parquet file of the ``train`` channel (``SM_CHANNEL_TRAIN``): the Athena UNLOAD of
   the labelled, de-duplicated bookings, one column per column of the Glue ``bookings`` table.
   UNLOAD names its files without an extension, so files are recognised by their content.
2. Builds the training set and trains with the code of ``bookings train``
   (``bookings.ml.data.training_set``, ``bookings.ml.training.train_model``: the features of
   ``booking_core.features``). A booking delivered to the lake twice (same ``booking_id``) is
   used once.
3. Writes the model into ``SM_MODEL_DIR`` in the layout of ``model.tar.gz``
   (``bookings.ml.packaging.stage_model``); SageMaker archives that directory as
   ``<job>/output/model.tar.gz``, which EvaluateModel reads (``metadata.json``) and PromoteModel
   serves. ``metrics.json`` and ``model_card.md`` go to ``SM_OUTPUT_DATA_DIR``.

The training job's hyperparameters arrive as arguments: ``--seed N``, ``--compare_tiers
true|false``, and the bounds of the search of the model's settings (the same search as ``bookings
train``): ``--time_budget SECONDS``, ``--trials N``, ``--search_folds K``. The workflow passes the
job's own time limit as ``--max_runtime_seconds`` (``StoppingCondition.MaxRuntimeInSeconds``); the
search then takes at most ``SEARCH_SHARE_OF_RUNTIME`` of it, so that reading, the final fits and
writing the model fit in the rest. Bad input ends the run with one line on stderr, also written to
``/opt/ml/output/failure`` (SageMaker shows it as the job's FailureReason); the counts of the
rows read, excluded and used are printed and reconcile.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

MINIMUM_PYTHON = (3, 12)
CHANNEL = "train"
PARQUET_MAGIC = b"PAR1"
DEFAULT_CHANNEL_DIR = f"/opt/ml/input/data/{CHANNEL}"
DEFAULT_MODEL_DIR = "/opt/ml/model"
DEFAULT_OUTPUT_DIR = "/opt/ml/output"
METRICS_NAME = "metrics.json"
CARD_NAME = "model_card.md"
# Metrics printed as ``name=value`` lines, for the training job's metric definitions.
LOGGED_METRICS = ("roc_auc_cv", "pr_auc_cv", "brier_cv", "log_loss_cv")
SEARCH_SHARE_OF_RUNTIME = 0.5


class TrainingInputError(ValueError):
    """The training channel cannot be trained on; the message is one line naming the file."""


def _flag(text: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, not {text!r}")


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    env = os.environ
    parser = argparse.ArgumentParser(
        prog="train_entry.py",
        description="Train the booking-completion model on the Parquet files of a channel.",
    )
    parser.add_argument("--seed", type=int, default=42, help="seed of the splits and the model")
    parser.add_argument(
        "--compare_tiers",
        "--compare-tiers",
        type=_flag,
        default=True,
        help="also cross-validate on the Basic and Basic+Pro features (default true)",
    )
    parser.add_argument(
        "--time_budget",
        "--time-budget",
        type=float,
        default=None,
        help="seconds for the search of the settings (default: as bookings train, "
        "at most half the job's time limit)",
    )
    parser.add_argument("--trials", type=int, default=None, help="at most this many settings")
    parser.add_argument(
        "--search_folds", "--search-folds", type=int, default=None, help="folds of each trial"
    )
    parser.add_argument(
        "--max_runtime_seconds",
        "--max-runtime-seconds",
        type=float,
        default=None,
        help="the training job's time limit (StoppingCondition.MaxRuntimeInSeconds)",
    )
    parser.add_argument(
        "--train",
        default=env.get(f"SM_CHANNEL_{CHANNEL.upper()}", DEFAULT_CHANNEL_DIR),
        help="directory of the training channel (default: SM_CHANNEL_TRAIN)",
    )
    parser.add_argument(
        "--model-dir",
        default=env.get("SM_MODEL_DIR", DEFAULT_MODEL_DIR),
        help="where the model files go (default: SM_MODEL_DIR)",
    )
    parser.add_argument(
        "--output-data-dir",
        default=env.get("SM_OUTPUT_DATA_DIR", f"{DEFAULT_OUTPUT_DIR}/data"),
        help="where metrics.json and model_card.md go (default: SM_OUTPUT_DATA_DIR)",
    )
    parser.add_argument(
        "--failure-file",
        default=str(Path(env.get("SM_OUTPUT_DIR", DEFAULT_OUTPUT_DIR)) / "failure"),
        help="where a failure's one-line reason goes (default: /opt/ml/output/failure)",
    )
    return parser.parse_args(argv)


def parquet_files(channel: Path) -> list[Path]:
    """The Parquet files under ``channel`` in name order; hidden and marker files are skipped,
    anything else that is not Parquet is an error."""
    if not channel.is_dir():
        raise TrainingInputError(f"{channel}: the training channel is not a directory")
    files: list[Path] = []
    for path in sorted(channel.rglob("*")):
        if not path.is_file() or path.name.startswith((".", "_")):
            continue
        if path.stat().st_size == 0:
            continue
        with path.open("rb") as handle:
            magic = handle.read(len(PARQUET_MAGIC))
        if magic != PARQUET_MAGIC:
            raise TrainingInputError(
                f"{path}: not a Parquet file (the channel holds only the "
                "Parquet files of the UNLOAD)"
            )
        files.append(path)
    if not files:
        raise TrainingInputError(f"{channel}: no Parquet file in the training channel")
    return files


def required_columns() -> list[str]:
    from booking_core.features import FEATURE_DEFINITIONS
    from booking_core.schema import OUTCOME_FIELD

    names = [OUTCOME_FIELD, "booking_id"]
    names += [f.source for f in FEATURE_DEFINITIONS if f.source not in names]
    return names


def _check_outcomes(path: Path, values: Any) -> None:
    from booking_core.schema import OUTCOME_FIELD

    present = values[values.notna()]
    invalid = present[~present.isin([0, 1, True, False])]
    if len(invalid):
        position = int(invalid.index[0]) + 1
        value = invalid.iloc[0]
        value = value.item() if hasattr(value, "item") else value
        raise TrainingInputError(
            f"{path}: row {position}: {OUTCOME_FIELD} is {value!r}; expected 0 or 1"
        )


def read_channel(files: Sequence[Path]) -> Any:
    """One frame of the bookings in every file, in a stable order (source file, row number)."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq
    from booking_core.schema import OUTCOME_FIELD

    required = required_columns()
    frames = []
    for path in files:
        try:
            table = pq.read_table(path)
        except (pa.ArrowException, OSError) as exc:
            raise TrainingInputError(f"{path}: unreadable Parquet ({exc})") from None
        missing = [name for name in required if name not in table.column_names]
        if missing:
            raise TrainingInputError(
                f"{path}: missing column(s) {', '.join(missing)} (the export must select the "
                "columns of the bookings table)"
            )
        frame = table.to_pandas()
        _check_outcomes(path, frame[OUTCOME_FIELD])
        frames.append(frame)
    bookings = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    order = [name for name in ("source_file", "row_number") if name in bookings.columns]
    if order:
        bookings = bookings.sort_values(order, kind="stable", ignore_index=True)
    return bookings


def search_budget(args: argparse.Namespace, training_rows: int) -> float:
    """The search's time budget: the one asked for, or ``bookings train``'s default; never more
    than its share of the job's time limit."""
    from bookings.ml.search import default_time_budget

    budget = default_time_budget(training_rows) if args.time_budget is None else args.time_budget
    if args.max_runtime_seconds is not None:
        budget = min(budget, SEARCH_SHARE_OF_RUNTIME * args.max_runtime_seconds)
    return budget


def search_options(args: argparse.Namespace, training_rows: int) -> Any:
    from bookings.ml.search import SearchOptions

    defaults = SearchOptions()
    return SearchOptions(
        time_budget=search_budget(args, training_rows),
        trials=args.trials if args.trials is not None else defaults.trials,
        folds=args.search_folds if args.search_folds is not None else defaults.folds,
    )


def train(args: argparse.Namespace) -> dict[str, Any]:
    """Read, train and write; returns the metrics document (also in ``metrics.json``)."""
    from bookings.ml.card import render_model_card
    from bookings.ml.data import training_set
    from bookings.ml.packaging import metrics_document, stage_model
    from bookings.ml.training import TrainingOptions, train_model

    files = parquet_files(Path(args.train))
    bookings = read_channel(files)
    rows_read = len(bookings)
    repeated = bookings["booking_id"].duplicated(keep="first")
    bookings = bookings[~repeated]
    labelled = training_set(bookings.to_dict("records"))
    if labelled.frame.empty:
        raise TrainingInputError(
            f"{args.train}: no booking with an outcome (booking_complete) in {len(files)} "
            "file(s); nothing to train on"
        )
    data = {
        "files": len(files),
        "rows_read": rows_read,
        "excluded_repeated_booking_id": int(repeated.sum()),
        "excluded_without_outcome": labelled.excluded_unlabelled,
        "excluded_duplicates": labelled.excluded_duplicates,
    }
    print(
        f"{rows_read} rows read from {len(files)} file(s): {len(labelled.frame)} used, "
        f"{data['excluded_repeated_booking_id']} repeated booking ids, "
        f"{data['excluded_without_outcome']} without outcome, "
        f"{data['excluded_duplicates']} exact duplicates left out",
        flush=True,
    )
    try:
        options = TrainingOptions(compare_tiers=args.compare_tiers, seed=args.seed)
        # the search sees the training part only: the rows less the test split
        options.search = search_options(
            args, round(len(labelled.frame) * (1 - options.test_fraction))
        )
        result = train_model(labelled.frame, options)
    except ValueError as exc:
        raise TrainingInputError(f"{args.train}: {exc}") from None

    model_dir = Path(args.model_dir)
    version = stage_model(result, model_dir, data)
    document = metrics_document(result, version, data)
    output_dir = Path(args.output_data_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / METRICS_NAME).write_text(json.dumps(document, indent=1), "utf-8")
    (output_dir / CARD_NAME).write_text(render_model_card(result, version, data), "utf-8")

    print(f"model {version} -> {model_dir}", flush=True)
    for name in LOGGED_METRICS:
        print(f"{name}={document[name]:.6f}", flush=True)
    print(f"roc_auc_test={document['test']['roc_auc']:.6f}", flush=True)
    search = document["search"]
    print(
        f"search: {search['trials_completed']} trials in {search['seconds']:.0f} s "
        f"(budget {search['time_budget_seconds']:.0f} s), best trial {search['best_trial']}, "
        f"chosen trial {search['chosen_trial']}",
        flush=True,
    )
    return document


def _report_failure(failure_file: str, message: str) -> None:
    print(f"error: {message}", file=sys.stderr, flush=True)
    try:
        path = Path(failure_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(message + "\n", "utf-8")
    except OSError:
        pass


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_arguments(argv)
    if sys.version_info < MINIMUM_PYTHON:
        _report_failure(
            args.failure_file,
            f"train_entry.py needs Python {'.'.join(map(str, MINIMUM_PYTHON))} or later; this "
            f"container has {sys.version.split()[0]} (choose a training image with a newer Python)",
        )
        return 1
    try:
        train(args)
    except TrainingInputError as exc:
        _report_failure(args.failure_file, str(exc))
        return 1
    except Exception as exc:
        # Unexpected: keep the traceback in the job's log, and the reason in the job.
        _report_failure(args.failure_file, f"{type(exc).__name__}: {exc}")
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
