"""Helpers of the model tests: generated bookings, enriched, and a small trained model."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

from bookings.generator import generate_rows
from bookings.ml.data import enrich_typed_rows, training_set
from bookings.ml.packaging import WrittenModel, save_training
from bookings.ml.search import SearchOptions
from bookings.ml.training import TrainingOptions, TrainingResult, train_model

# The search as the tests run it: bounded to two trials of two folds (the search's own tests
# check its bounds; the others need a model, not the best one).
TINY_SEARCH_TRIALS = 2
TINY_SEARCH_FOLDS = 2
TINY_SEARCH_SECONDS = 120.0


def tiny_search() -> SearchOptions:
    return SearchOptions(
        trials=TINY_SEARCH_TRIALS, folds=TINY_SEARCH_FOLDS, time_budget=TINY_SEARCH_SECONDS
    )


def enriched_bookings(n: int, seed: int) -> list[dict[str, Any]]:
    return list(enrich_typed_rows(generate_rows(n, seed), source_file=f"generated-{seed}"))


def train_small_model(
    out_dir: Path, n: int = 4000, seed: int = 5, tiers: bool = False
) -> tuple[TrainingResult, WrittenModel]:
    labelled = training_set(enriched_bookings(n, seed))
    result = train_model(
        labelled.frame, TrainingOptions(compare_tiers=tiers, seed=seed, search=tiny_search())
    )
    written = save_training(result, out_dir, {"rows_read": n})
    return result, written


def with_metadata(archive: bytes, **changes: Any) -> bytes:
    """The same model archive with its metadata.json changed (another model's figures)."""
    out = io.BytesIO()
    with (
        tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as source,
        tarfile.open(fileobj=out, mode="w:gz") as target,
    ):
        for member in source.getmembers():
            data = source.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "metadata.json":
                data = json.dumps({**json.loads(data), **changes}).encode()
            member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    return out.getvalue()
