"""SageMaker inference handlers for the booking-completion model.

This file ships inside ``model.tar.gz`` as ``code/inference.py`` next to a copy of the core package
(``code/booking_core``), so a SageMaker framework container serves the model with exactly the code
that trained it; the local server (``bookings serve-model``) and the batch scorer use it too.
It depends on numpy, lightgbm and booking_core only.

Protocol:

- ``application/jsonlines`` (or ``application/x-jsonlines``, ``application/json`` with one object
  or a list): one enriched booking (``EnrichedBooking`` fields) per line.
- ``text/csv``: the 13 source columns, in the reference file's order, header optional; the rows are
  validated and enriched by the core first. A row that fails validation is answered with a null
  probability and the validation message.
- The answer is ``application/jsonlines``: one
  ``{"booking_complete_probability": float, "model_version": str}`` per input record, same order.
"""

from __future__ import annotations

import io
import json
import math
import os
import tarfile
import tempfile
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np
from booking_core.features import FeatureSpec
from booking_core.schema import REQUIRED_FIELDS, SOURCE_FIELDS

MODEL_FILE = "model.txt"
SPEC_FILE = "feature_spec.json"
CALIBRATION_FILE = "calibration.json"
METADATA_FILE = "metadata.json"

JSONLINES_TYPES = ("application/jsonlines", "application/x-jsonlines", "application/jsonl")
JSON_TYPE = "application/json"
CSV_TYPE = "text/csv"
RESPONSE_TYPE = "application/jsonlines"
INVOCATION_SOURCE = "invocation"
# One-record requests are latency-bound: thread start-up costs more than it saves.
SMALL_BATCH_ROWS = 512
# LightGBM keeps one thread count for the whole process and every prediction sets it (one thread
# for a small batch, every core for a large one). Two predictions overlapping with different
# counts index each other's per-thread buffers: the process dies of a segmentation fault. The
# threaded servers (``bookings serve-model``, the emulated endpoint) answer requests side by
# side, so predictions take turns; a large batch has every core to itself anyway.
_PREDICTING = threading.Lock()


class RequestError(ValueError):
    """The request cannot be answered (unsupported content type, malformed body)."""


@dataclass
class Calibration:
    """A monotone map from the booster's raw probability to a calibrated one (piecewise linear)."""

    method: str
    x: list[float]
    y: list[float]
    threshold: float
    _x: np.ndarray = field(init=False, repr=False)
    _y: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._x = np.asarray(self.x, dtype=np.float64)
        self._y = np.asarray(self.y, dtype=np.float64)

    def apply(self, raw: np.ndarray) -> np.ndarray:
        if self.method == "none" or len(self.x) == 0:
            return raw
        calibrated: np.ndarray = np.clip(np.interp(raw, self._x, self._y), 0.0, 1.0)
        return calibrated

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "x": self.x, "y": self.y, "threshold": self.threshold}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibration:
        return cls(
            method=str(data["method"]),
            x=[float(v) for v in data["x"]],
            y=[float(v) for v in data["y"]],
            threshold=float(data["threshold"]),
        )


@dataclass
class BookingModel:
    """A trained booster with its feature spec, calibration and metadata."""

    booster: lightgbm.Booster
    spec: FeatureSpec
    calibration: Calibration
    metadata: dict[str, Any]

    @property
    def model_version(self) -> str:
        return str(self.metadata["model_version"])

    @property
    def threshold(self) -> float:
        return self.calibration.threshold

    def raw_probabilities(self, matrix: np.ndarray) -> np.ndarray:
        if matrix.shape[0] == 0:
            return np.zeros(0, dtype=np.float64)
        threads = 1 if matrix.shape[0] <= SMALL_BATCH_ROWS else 0
        with _PREDICTING:
            raw = self.booster.predict(matrix, num_threads=threads)
        return np.asarray(raw, dtype=np.float64)

    def probabilities(self, matrix: np.ndarray) -> np.ndarray:
        """Calibrated completion probabilities for an encoded matrix."""
        return self.calibration.apply(self.raw_probabilities(matrix))

    def encode(self, records: Iterable[Mapping[str, Any]]) -> np.ndarray:
        rows = self.spec.encode_records(records)
        width = len(self.spec.features)
        if not rows:
            return np.zeros((0, width), dtype=np.float64)
        return np.asarray(rows, dtype=np.float64)

    def predict_records(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        return self.probabilities(self.encode(records))

    def contributions(self, matrix: np.ndarray) -> np.ndarray:
        """Per-feature contributions (log-odds, the booster's own SHAP values); last column is
        the expected value."""
        with _PREDICTING:
            contributions = self.booster.predict(matrix, pred_contrib=True, num_threads=0)
        return np.asarray(contributions, dtype=np.float64)


def load_model_dir(model_dir: str | os.PathLike[str]) -> BookingModel:
    directory = Path(model_dir)
    missing = [
        name
        for name in (MODEL_FILE, SPEC_FILE, CALIBRATION_FILE, METADATA_FILE)
        if not (directory / name).is_file()
    ]
    if missing:
        raise FileNotFoundError(
            f"{directory}: not a model directory (missing {', '.join(missing)})"
        )
    booster = lightgbm.Booster(model_file=str(directory / MODEL_FILE))
    spec = FeatureSpec.from_dict(json.loads((directory / SPEC_FILE).read_text("utf-8")))
    calibration = Calibration.from_dict(
        json.loads((directory / CALIBRATION_FILE).read_text("utf-8"))
    )
    metadata = json.loads((directory / METADATA_FILE).read_text("utf-8"))
    if booster.feature_name() != spec.feature_names:
        raise ValueError(f"{directory}: the model's features do not match its feature spec")
    return BookingModel(booster=booster, spec=spec, calibration=calibration, metadata=metadata)


def load_model(path: str | os.PathLike[str]) -> BookingModel:
    """A model from its directory, its ``model.tar.gz``, or a directory holding ``model.tar.gz``."""
    location = Path(path)
    if location.is_dir() and not (location / MODEL_FILE).is_file():
        location = location / "model.tar.gz"
    if location.is_dir():
        return load_model_dir(location)
    if not location.is_file():
        raise FileNotFoundError(f"{path}: no model here (expected model.tar.gz or a model dir)")
    with tempfile.TemporaryDirectory(prefix="booking-model-") as tmp:
        with tarfile.open(location, "r:gz") as archive:
            members = [
                m
                for m in archive.getmembers()
                if m.isfile() and "/" not in m.name.removeprefix("./")
            ]
            archive.extractall(tmp, members=members, filter="data")
        return load_model_dir(tmp)


# SageMaker handler functions -------------------------------------------------------------------


def model_fn(model_dir: str) -> BookingModel:
    return load_model_dir(model_dir)


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def _parse_jsonlines(text: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise RequestError(f"line {line_number}: not valid JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise RequestError(f"line {line_number}: expected a JSON object")
        records.append(record)
    return records


def _parse_json(text: str) -> list[dict[str, Any]]:
    try:
        body = json.loads(text)
    except json.JSONDecodeError:
        return _parse_jsonlines(text)
    items = body if isinstance(body, list) else body.get("instances", [body])
    if not all(isinstance(item, dict) for item in items):
        raise RequestError("expected a JSON object or a list of objects")
    return list(items)


def _parse_csv(text: str) -> list[dict[str, Any]]:
    # Imported here: only CSV requests need the reader and the enrichment (and their data).
    from booking_core.pipeline import process_stream

    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return []
    if "num_passengers" not in lines[0].lower():
        has_outcome = lines[0].count(",") >= len(SOURCE_FIELDS) - 1
        lines.insert(0, ",".join(SOURCE_FIELDS if has_outcome else REQUIRED_FIELDS))
    payload = ("\r\n".join(lines) + "\r\n").encode("utf-8")
    run = process_stream(
        io.BytesIO(payload), source_file=INVOCATION_SOURCE, ingested_at=datetime.now(UTC)
    )
    return [record if kind == "valid" else {"_error": record["message"]} for kind, record in run]


def input_fn(request_body: str | bytes, request_content_type: str | None) -> list[dict[str, Any]]:
    text = request_body.decode("utf-8") if isinstance(request_body, bytes) else request_body
    media_type = _media_type(request_content_type)
    if media_type in JSONLINES_TYPES:
        return _parse_jsonlines(text)
    if media_type == JSON_TYPE:
        return _parse_json(text)
    if media_type == CSV_TYPE:
        return _parse_csv(text)
    raise RequestError(
        f"unsupported content type {request_content_type!r}; "
        f"send {JSONLINES_TYPES[0]} (enriched bookings) or {CSV_TYPE} (source columns)"
    )


def predict_fn(input_data: list[dict[str, Any]], model: BookingModel) -> list[dict[str, Any]]:
    valid = [record for record in input_data if "_error" not in record]
    probabilities = iter(model.predict_records(valid).tolist()) if valid else iter(())
    answers: list[dict[str, Any]] = []
    for record in input_data:
        if "_error" in record:
            answers.append(
                {
                    "booking_complete_probability": None,
                    "model_version": model.model_version,
                    "error": record["_error"],
                }
            )
            continue
        probability = next(probabilities)
        answers.append(
            {
                "booking_complete_probability": None if math.isnan(probability) else probability,
                "model_version": model.model_version,
            }
        )
    return answers


def output_fn(prediction: list[dict[str, Any]], accept: str | None) -> tuple[str, str]:
    media_type = _media_type(accept)
    if media_type == JSON_TYPE:
        return json.dumps({"predictions": prediction}), JSON_TYPE
    if media_type in ("", "*/*", *JSONLINES_TYPES):
        body = "".join(json.dumps(answer) + "\n" for answer in prediction)
        return body, RESPONSE_TYPE
    raise RequestError(f"unsupported accept type {accept!r}; ask for {RESPONSE_TYPE}")
