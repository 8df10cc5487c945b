"""The model artefact: ``model.tar.gz`` in the layout a SageMaker framework container serves.

::

    model.txt            the LightGBM booster
    feature_spec.json    features, tiers and category vocabularies (booking_core.features)
    calibration.json     isotonic breakpoints and the decision threshold
    metadata.json        model version, metrics, hyperparameters, data counts
    code/inference.py    model_fn / input_fn / predict_fn / output_fn
    code/requirements.txt
    code/booking_core/   the core package the inference code imports

The model version is the UTC training time plus a content hash of the booster, spec and calibration,
so two different models never share a version and the same model is recognisable anywhere.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Any

import booking_core

from bookings.ml import inference
from bookings.ml.inference import CALIBRATION_FILE, METADATA_FILE, MODEL_FILE, SPEC_FILE
from bookings.ml.training import TrainingResult

ARCHIVE_NAME = "model.tar.gz"
METRICS_NAME = "metrics.json"
CARD_NAME = "model_card.md"
# What code/inference.py and code/booking_core need in the serving container.
SERVING_REQUIREMENTS = (
    "lightgbm",
    "numpy",
    "pydantic",
    "airportsdata",
    "pycountry",
    "orjson",
)


@dataclass(frozen=True)
class WrittenModel:
    archive: Path
    metrics: Path
    card: Path
    model_version: str


def _pinned(name: str) -> str:
    try:
        return f"{name}=={package_metadata.version(name)}"
    except package_metadata.PackageNotFoundError:
        return name


def model_version(model_text: str, spec_text: str, calibration_text: str, when: datetime) -> str:
    digest = hashlib.sha256()
    for part in (model_text, spec_text, calibration_text):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return f"{when.strftime('%Y%m%dT%H%M%SZ')}-{digest.hexdigest()[:12]}"


def _copy_core(destination: Path) -> None:
    source = Path(booking_core.__file__).parent
    shutil.copytree(
        source,
        destination,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "tests"),
    )


def stage_model(result: TrainingResult, directory: Path, extra: dict[str, Any]) -> str:
    """Write the model files and the serving code into ``directory``; returns the model version."""
    directory.mkdir(parents=True, exist_ok=True)
    model_text = result.booster.model_to_string()
    spec_text = json.dumps(result.spec.to_dict(), indent=1, ensure_ascii=False)
    calibration_text = json.dumps(result.calibration.to_dict())
    trained_at = datetime.now(UTC).replace(microsecond=0)
    version = model_version(model_text, spec_text, calibration_text, trained_at)
    (directory / MODEL_FILE).write_text(model_text, "utf-8")
    (directory / SPEC_FILE).write_text(spec_text, "utf-8")
    (directory / CALIBRATION_FILE).write_text(calibration_text, "utf-8")
    metadata = {
        "model_version": version,
        "trained_at": trained_at.isoformat(),
        "framework": _pinned("lightgbm"),
        "feature_spec_version": result.spec.spec_version,
        "schema_version": result.spec.schema_version,
        "threshold": result.calibration.threshold,
        "roc_auc_cv": result.metrics["roc_auc_cv"],
        "pr_auc_cv": result.metrics["pr_auc_cv"],
        "brier_cv": result.metrics["brier_cv"],
        "roc_auc_test": result.metrics["test"]["roc_auc"],
        "baselines_test_roc_auc": {
            name: scores["roc_auc"]
            for name, scores in result.metrics["baselines"].items()
            if isinstance(scores, dict)
        },
        "data": {**result.data, **extra},
        "hyperparameters": result.hyperparameters,
        "training_seconds": round(result.seconds, 3),
    }
    (directory / METADATA_FILE).write_text(json.dumps(metadata, indent=1), "utf-8")
    code = directory / "code"
    code.mkdir(exist_ok=True)
    shutil.copyfile(inference.__file__, code / "inference.py")
    (code / "requirements.txt").write_text(
        "\n".join(_pinned(name) for name in SERVING_REQUIREMENTS) + "\n", "utf-8"
    )
    if (code / "booking_core").exists():
        shutil.rmtree(code / "booking_core")
    _copy_core(code / "booking_core")
    return version


def archive_model(staged: Path, archive: Path) -> None:
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(staged.rglob("*")):
            if path.is_file():
                tar.add(path, arcname=str(path.relative_to(staged)))


def metrics_document(result: TrainingResult, version: str, data: dict[str, Any]) -> dict[str, Any]:
    """Everything measured during training (``DIR/metrics.json``; ``bookings train --json``)."""
    m = result.metrics
    return {
        "model_version": version,
        "roc_auc_cv": m["roc_auc_cv"],
        "pr_auc_cv": m["pr_auc_cv"],
        "brier_cv": m["brier_cv"],
        "log_loss_cv": m["log_loss_cv"],
        "n_train": result.data["n_train"],
        "n_test": result.data["n_test"],
        "threshold": result.calibration.threshold,
        "test": m["test"],
        "baselines": m["baselines"],
        "cv_at_threshold": m["cv_at_threshold"],
        "tiers": result.tiers,
        "feature_importance": result.importance,
        "calibration_test": m["calibration_test"],
        "lift_test": m["lift_test"],
        "cv_fold_roc_auc": m["cv_fold_roc_auc"],
        "cv_best_rounds": m["cv_best_rounds"],
        "final_rounds": m["final_rounds"],
        "search": m["search"],
        "hyperparameters": result.hyperparameters,
        "data": {**data, **result.data},
        "training_seconds": round(result.seconds, 3),
    }


def save_training(result: TrainingResult, out_dir: Path, data: dict[str, Any]) -> WrittenModel:
    """Write ``model.tar.gz``, ``model_card.md`` and ``metrics.json`` into ``out_dir``."""
    from bookings.ml.card import render_model_card

    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="booking-model-") as tmp:
        staged = Path(tmp)
        version = stage_model(result, staged, data)
        archive_model(staged, out_dir / ARCHIVE_NAME)
    metrics_path = out_dir / METRICS_NAME
    metrics_path.write_text(json.dumps(metrics_document(result, version, data), indent=1), "utf-8")
    card_path = out_dir / CARD_NAME
    card_path.write_text(render_model_card(result, version, data), "utf-8")
    return WrittenModel(
        archive=out_dir / ARCHIVE_NAME, metrics=metrics_path, card=card_path, model_version=version
    )
