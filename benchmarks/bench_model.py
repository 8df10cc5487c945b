"""Model benchmarks: held-out ROC AUC, training time, batch scoring speed, endpoint latency.

Targets: ROC AUC >= 0.80 on a held-out 20% of 50,000 generated rows; training on them < 60 s;
batch scoring >= 100,000 rows/s in process; p99 of one-record endpoint requests < 20 ms.
"""

from __future__ import annotations

import json
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

ROWS = 50_000
SEED = 2024
SCORING_ROWS = 200_000
LATENCY_REQUESTS = 500
LATENCY_WARMUP = 20


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


def run() -> dict[str, Any]:
    from bookings.ml.data import training_set
    from bookings.ml.frame import records_to_frame
    from bookings.ml.inference import load_model
    from bookings.ml.packaging import save_training
    from bookings.ml.scoring import score_frame
    from bookings.ml.server import start_server, stop_server
    from bookings.ml.training import TrainingOptions, train_model

    labelled = training_set(_enriched(ROWS, SEED))
    started = time.perf_counter()
    result = train_model(labelled.frame, TrainingOptions(compare_tiers=False))
    training_seconds = time.perf_counter() - started

    with tempfile.TemporaryDirectory(prefix="bench-model-") as tmp:
        written = save_training(result, Path(tmp), {"rows_read": ROWS})
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
        "rows": ROWS,
        "n_train": result.data["n_train"],
        "n_test": result.data["n_test"],
        "roc_auc_test": round(result.metrics["test"]["roc_auc"], 4),
        "roc_auc_cv": round(result.metrics["roc_auc_cv"], 4),
        "pr_auc_test": round(result.metrics["test"]["pr_auc"], 4),
        "logistic_regression_roc_auc_test": round(
            result.metrics["baselines"]["logistic_regression_test"]["roc_auc"], 4
        ),
        "training_seconds": round(training_seconds, 2),
        "scoring_rows": len(probabilities),
        "scoring_rows_per_second": round(rows_per_second),
        "endpoint_requests": len(timings),
        "endpoint_p50_ms": round(float(np.percentile(timings, 50)), 2),
        "endpoint_p99_ms": round(p99, 2),
        "targets_met": {
            "roc_auc_test>=0.80": result.metrics["test"]["roc_auc"] >= 0.80,
            "training_seconds<60": training_seconds < 60,
            "scoring_rows_per_second>=100000": rows_per_second >= 100_000,
            "endpoint_p99_ms<20": p99 < 20,
        },
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
