"""Model benchmarks: held-out ROC AUC against the plain LightGBM baselines, training time with the
default search budget, batch scoring speed, endpoint latency.

Targets: on a held-out 20% of 50,000 generated rows, ROC AUC >= 0.80 and above the plain LightGBM
on the source columns with common settings; training (search included) < 240 s on two cores;
batch scoring >= 100,000 rows/s in process; p99 of one-record endpoint requests < 20 ms.

The same module checks a real copy of the reference file, which the project cannot ship::

    python -m benchmarks.bench_model --holdout customer_booking.csv

splits the file's labelled rows 80/20 (stratified, seed 42), trains as ``bookings train`` does on
the 80% (exact duplicates within it left out) and scores every row of the 20% with the shipped
model, next to the plain LightGBM baselines trained on the same 80%.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

ROWS = 50_000
SEED = 2024
HOLDOUT_SEED = 42
HOLDOUT_FRACTION = 0.2
SCORING_ROWS = 200_000
LATENCY_REQUESTS = 500
LATENCY_WARMUP = 20
TRAINING_SECONDS_TARGET = 240


def _enriched(n: int, seed: int) -> list[dict[str, Any]]:
    from bookings.generator import generate_rows
    from bookings.ml.data import enrich_typed_rows

    return list(enrich_typed_rows(generate_rows(n, seed), source_file=f"bench-{seed}"))


def _latency_ms(url: str, body: bytes) -> list[float]:
    timings = []
    for index in range(LATENCY_WARMUP + LATENCY_REQUESTS):
        request = urllib.request.Request(
            f"{url}/invocations",
            data=body,
            method="POST",
            headers={"Content-Type": "application/jsonlines"},
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
        if index >= LATENCY_WARMUP:
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def _auc(scores: dict[str, Any]) -> float:
    return round(float(scores["roc_auc"]), 4)


def run(rows: int = ROWS) -> dict[str, Any]:
    from bookings.ml.data import training_set
    from bookings.ml.frame import records_to_frame
    from bookings.ml.inference import load_model
    from bookings.ml.packaging import save_training
    from bookings.ml.scoring import score_frame
    from bookings.ml.server import start_server, stop_server
    from bookings.ml.training import TrainingOptions, train_model

    labelled = training_set(_enriched(rows, SEED))
    started = time.perf_counter()
    result = train_model(labelled.frame, TrainingOptions(compare_tiers=False))
    training_seconds = time.perf_counter() - started
    metrics = result.metrics
    search = metrics["search"]
    baselines = metrics["baselines"]
    plain_common = baselines["plain_lightgbm_common_test"]["roc_auc"]

    with tempfile.TemporaryDirectory(prefix="bench-model-") as tmp:
        written = save_training(result, Path(tmp), {"rows_read": rows})
        model = load_model(written.archive)

        scoring_frame = records_to_frame(_enriched(SCORING_ROWS // 4, SEED + 1) * 4)
        score_frame(model, scoring_frame.head(1000))
        started = time.perf_counter()
        probabilities = score_frame(model, scoring_frame)
        scoring_seconds = time.perf_counter() - started

        server, url = start_server(written.archive)
        try:
            record = json.dumps(_enriched(1, SEED + 2)[0], default=str) + "\n"
            timings = _latency_ms(url, record.encode())
        finally:
            stop_server(server)

    rows_per_second = len(probabilities) / scoring_seconds
    p99 = float(np.percentile(timings, 99))
    return {
        "rows": rows,
        "n_train": result.data["n_train"],
        "n_test": result.data["n_test"],
        "roc_auc_test": round(metrics["test"]["roc_auc"], 4),
        "roc_auc_cv": round(metrics["roc_auc_cv"], 4),
        "pr_auc_test": round(metrics["test"]["pr_auc"], 4),
        "brier_test": round(metrics["test"]["brier"], 4),
        "plain_lightgbm_defaults_roc_auc_test": _auc(baselines["plain_lightgbm_defaults_test"]),
        "plain_lightgbm_common_roc_auc_test": _auc(baselines["plain_lightgbm_common_test"]),
        "logistic_regression_roc_auc_test": _auc(baselines["logistic_regression_test"]),
        "search_trials_completed": search["trials_completed"],
        "search_best_trial": search["best_trial"],
        "search_best_roc_auc_cv": round(search["best_roc_auc_cv"], 4),
        "search_chosen_trial": search["chosen_trial"],
        "search_chosen_roc_auc_cv": round(search["chosen_roc_auc_cv"], 4),
        "search_selection_threshold_roc_auc_cv": round(
            search["selection"]["threshold_roc_auc_cv"], 4
        ),
        "search_former_defaults_roc_auc_cv": round(search["trials"][0]["roc_auc_cv"], 4),
        "search_seconds": round(search["seconds"], 1),
        "search_time_budget_seconds": search["time_budget_seconds"],
        "chosen_settings": search["chosen"],
        "model_trees": result.booster.num_trees(),
        "training_seconds": round(training_seconds, 2),
        "scoring_rows": len(probabilities),
        "scoring_rows_per_second": round(rows_per_second),
        "endpoint_requests": len(timings),
        "endpoint_p50_ms": round(float(np.percentile(timings, 50)), 2),
        "endpoint_p99_ms": round(p99, 2),
        "targets_met": {
            "roc_auc_test>=0.80": metrics["test"]["roc_auc"] >= 0.80,
            "roc_auc_test>plain_lightgbm_common": metrics["test"]["roc_auc"] > plain_common,
            f"training_seconds<{TRAINING_SECONDS_TARGET}": (
                training_seconds < TRAINING_SECONDS_TARGET
            ),
            "scoring_rows_per_second>=100000": rows_per_second >= 100_000,
            "endpoint_p99_ms<20": p99 < 20,
        },
    }


def holdout(
    path: str, *, seed: int = HOLDOUT_SEED, time_budget: float | None = None
) -> dict[str, Any]:
    """Train on a stratified 80% of a labelled booking file and score the other 20%."""
    from booking_core.schema import SOURCE_FIELDS
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    from bookings.ml.cli_support import load
    from bookings.ml.inference import load_model
    from bookings.ml.packaging import save_training
    from bookings.ml.scoring import score_frame
    from bookings.ml.search import SearchOptions
    from bookings.ml.training import TrainingOptions, labels_of, train_on_split

    loaded = load([path])
    frame = loaded.frame()
    frame = frame[frame["booking_complete"].notna()].reset_index(drop=True)
    y = labels_of(frame)
    train_rows, test_rows = train_test_split(
        np.arange(len(frame)), test_size=HOLDOUT_FRACTION, stratify=y, random_state=seed
    )
    train_part = frame.iloc[np.sort(train_rows)]
    # as `bookings train` on the 80% written to a file: exact copies of an earlier row left out
    repeated = train_part.duplicated(subset=list(SOURCE_FIELDS))
    train_part = train_part[~repeated].reset_index(drop=True)
    test_part = frame.iloc[np.sort(test_rows)]
    started = time.perf_counter()
    result = train_on_split(
        train_part,
        test_part,
        TrainingOptions(
            compare_tiers=False, seed=seed, search=SearchOptions(time_budget=time_budget)
        ),
        test_source=f"a stratified {HOLDOUT_FRACTION:.0%} of {path} (seed {seed})",
    )
    training_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory(prefix="holdout-model-") as tmp:
        written = save_training(result, Path(tmp), {"rows_read": loaded.rows})
        shipped = load_model(written.archive)
        scored = score_frame(shipped, test_part)
    baselines = result.metrics["baselines"]
    return {
        "file": path,
        "rows_read": loaded.rows,
        "rows_rejected": loaded.rejected,
        "n_train": result.data["n_train"],
        "excluded_duplicates_train": int(repeated.sum()),
        "n_test": len(test_part),
        "roc_auc_test": round(float(roc_auc_score(labels_of(test_part), scored)), 4),
        "brier_test": round(result.metrics["test"]["brier"], 4),
        "roc_auc_cv": round(result.metrics["roc_auc_cv"], 4),
        "plain_lightgbm_defaults_roc_auc_test": _auc(baselines["plain_lightgbm_defaults_test"]),
        "plain_lightgbm_common_roc_auc_test": _auc(baselines["plain_lightgbm_common_test"]),
        "logistic_regression_roc_auc_test": _auc(baselines["logistic_regression_test"]),
        "search_trials_completed": result.metrics["search"]["trials_completed"],
        "chosen_settings": result.metrics["search"]["chosen"],
        "training_seconds": round(training_seconds, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_model", description=__doc__)
    parser.add_argument("--holdout", metavar="CSV", help="a labelled booking file to check")
    parser.add_argument("--seed", type=int, default=HOLDOUT_SEED, help="seed of the 80/20 split")
    parser.add_argument("--time-budget", type=float, help="seconds for the search (default: auto)")
    args = parser.parse_args(argv)
    if args.holdout:
        report = holdout(args.holdout, seed=args.seed, time_budget=args.time_budget)
    else:
        report = run()
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
