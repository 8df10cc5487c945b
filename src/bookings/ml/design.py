"""A setting of the model, and the model's input matrices for it.

A setting (``Settings``) fixes the LightGBM parameters, the vocabulary cut-off (a category seen
fewer times than ``min_category_count`` in the training part shares the "other" code), how the
high-cardinality categories (route, country, airports) are encoded (``native`` LightGBM
categoricals, ``target``-encoded completion rates, or ``both``), the target encoding's smoothing,
and the feature set (``all`` the engineered features, or only ``source``: the reference file's
columns and the route's two airports). The search (``bookings.ml.search``) chooses one by
cross-validation.

The training part is encoded once with every category kept (``EncodedTraining``); a setting
re-codes from it: the vocabulary is sorted by frequency, so the categories kept at any cut-off are
a prefix of the full vocabulary.

Target encoding never sees the labels of the rows it encodes: rows a model is fitted on get
out-of-fold rates (``TARGET_FOLDS`` folds inside those rows); rows it is validated or tested on get
the rates of all its fitting rows, as the shipped spec gives new bookings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd
from booking_core.features import (
    FEATURE_DEFINITIONS,
    SOURCE_FEATURE_NAMES,
    TARGET_SUFFIX,
    FeatureDefinition,
    FeatureSpec,
    TargetEncoding,
    target_feature,
)
from sklearn.model_selection import KFold

from bookings.ml.frame import encode_frame, fit_spec_frame

# A categorical with more distinct values than this in the training part is high-cardinality:
# the setting decides how it is encoded. The others stay native categoricals.
HIGH_CARDINALITY: Final = 10
TARGET_FOLDS: Final = 5
ENCODINGS: Final = ("native", "target", "both")
FEATURE_SETS: Final = ("all", "source")


@dataclass(frozen=True)
class Settings:
    """What the search chooses: LightGBM parameters and the encoding of the features."""

    params: Mapping[str, Any] = field(hash=False)
    min_category_count: int
    encoding: str = "native"
    target_smoothing: float = 0.0
    feature_set: str = "all"

    def __post_init__(self) -> None:
        if self.encoding not in ENCODINGS:
            raise ValueError(f"unknown encoding {self.encoding!r}; expected one of {ENCODINGS}")
        if self.feature_set not in FEATURE_SETS:
            raise ValueError(f"unknown feature set {self.feature_set!r}")
        if self.min_category_count < 1:
            raise ValueError("min_category_count must be at least 1")
        if self.encoding != "native" and self.target_smoothing <= 0:
            raise ValueError("target encoding needs a positive smoothing")

    def describe(self) -> dict[str, Any]:
        """The setting as one flat mapping (model card, metrics, metadata)."""
        described: dict[str, Any] = {
            **self.params,
            "min_category_count": self.min_category_count,
            "category_encoding": self.encoding,
            "feature_set": self.feature_set,
        }
        if self.encoding != "native":
            described["target_smoothing"] = self.target_smoothing
        return described


def target_rates(codes: np.ndarray, y: np.ndarray, kept: int, smoothing: float) -> np.ndarray:
    """Smoothed completion rate of each code (0 = "other", then 1..kept), from these rows."""
    prior = float(np.mean(y)) if len(y) else 0.0
    sums = np.bincount(codes, weights=y, minlength=kept + 1)
    counts = np.bincount(codes, minlength=kept + 1)
    return (sums + smoothing * prior) / (counts + smoothing)


class EncodedTraining:
    """The training part encoded once, every category kept; the matrices of any setting."""

    def __init__(
        self,
        frame: pd.DataFrame,
        y: np.ndarray,
        definitions: Sequence[FeatureDefinition] = FEATURE_DEFINITIONS,
    ) -> None:
        self.full_spec = fit_spec_frame(frame, min_category_count=1, definitions=definitions)
        self.x = encode_frame(self.full_spec, frame)
        self.y = np.asarray(y, dtype=np.int64)
        self.position = {f.name: i for i, f in enumerate(self.full_spec.features)}
        self.counts: dict[str, np.ndarray] = {}
        for name, vocabulary in self.full_spec.vocabularies.items():
            codes = self.x[:, self.position[name]].astype(np.int64)
            self.counts[name] = np.bincount(codes, minlength=len(vocabulary) + 1)
        self.high_cardinality = frozenset(
            name
            for name, vocabulary in self.full_spec.vocabularies.items()
            if len(vocabulary) > HIGH_CARDINALITY
        )

    def __len__(self) -> int:
        return len(self.y)

    def kept(self, name: str, min_count: int) -> int:
        """How many categories of ``name`` are seen at least ``min_count`` times."""
        return int(np.sum(self.counts[name][1:] >= min_count))

    def codes(self, name: str, min_count: int, rows: np.ndarray | slice) -> np.ndarray:
        """The categorical codes of ``name`` at a cut-off (rare categories become "other")."""
        full = self.x[rows, self.position[name]].astype(np.int64)
        return np.where(full <= self.kept(name, min_count), full, 0)

    def features(self, settings: Settings) -> list[FeatureDefinition]:
        """The model's features under a setting, in the order of the feature definitions."""
        chosen: list[FeatureDefinition] = []
        for feature in self.full_spec.features:
            if settings.feature_set == "source" and feature.name not in SOURCE_FEATURE_NAMES:
                continue
            if feature.kind == "categorical" and feature.name in self.high_cardinality:
                if settings.encoding in ("native", "both"):
                    chosen.append(feature)
                if settings.encoding in ("target", "both"):
                    chosen.append(target_feature(feature))
            else:
                chosen.append(feature)
        return chosen

    def matrices(
        self,
        settings: Settings,
        features: Sequence[FeatureDefinition],
        fit_rows: np.ndarray,
        apply_rows: np.ndarray,
        seed: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The matrices of the rows a model is fitted on and of the rows it is applied to."""
        x_fit = np.empty((len(fit_rows), len(features)), dtype=np.float64)
        x_apply = np.empty((len(apply_rows), len(features)), dtype=np.float64)
        y_fit = self.y[fit_rows]
        inner: list[tuple[np.ndarray, np.ndarray]] | None = None
        mc = settings.min_category_count
        for column, feature in enumerate(features):
            if feature.kind == "numeric":
                x_fit[:, column] = self.x[fit_rows, self.position[feature.name]]
                x_apply[:, column] = self.x[apply_rows, self.position[feature.name]]
            elif feature.kind == "categorical":
                x_fit[:, column] = self.codes(feature.name, mc, fit_rows)
                x_apply[:, column] = self.codes(feature.name, mc, apply_rows)
            else:
                base = feature.name.removesuffix(TARGET_SUFFIX)
                kept = self.kept(base, mc)
                fit_codes = self.codes(base, mc, fit_rows)
                table = target_rates(fit_codes, y_fit, kept, settings.target_smoothing)
                x_apply[:, column] = table[self.codes(base, mc, apply_rows)]
                if inner is None:
                    folds = KFold(n_splits=TARGET_FOLDS, shuffle=True, random_state=seed)
                    inner = list(folds.split(fit_rows))
                for rest, held in inner:
                    fold_table = target_rates(
                        fit_codes[rest], y_fit[rest], kept, settings.target_smoothing
                    )
                    x_fit[held, column] = fold_table[fit_codes[held]]
        return x_fit, x_apply

    def spec(self, settings: Settings, features: Sequence[FeatureDefinition]) -> FeatureSpec:
        """The spec shipped with a model of this setting: vocabularies at the cut-off and target
        rates from every training row."""
        mc = settings.min_category_count
        vocabularies: dict[str, list[str]] = {}
        encodings: dict[str, TargetEncoding] = {}
        for feature in features:
            if feature.kind == "categorical":
                vocabulary = self.full_spec.vocabularies[feature.name]
                vocabularies[feature.name] = vocabulary[: self.kept(feature.name, mc)]
            elif feature.kind == "target":
                base = feature.name.removesuffix(TARGET_SUFFIX)
                kept = self.kept(base, mc)
                table = target_rates(
                    self.codes(base, mc, slice(None)), self.y, kept, settings.target_smoothing
                )
                vocabulary = self.full_spec.vocabularies[base][:kept]
                encodings[feature.name] = TargetEncoding(
                    rates={value: float(table[i + 1]) for i, value in enumerate(vocabulary)},
                    other=float(table[0]),
                    smoothing=float(settings.target_smoothing),
                )
        return FeatureSpec(
            features=list(features),
            vocabularies=vocabularies,
            min_category_count=mc,
            target_encodings=encodings,
        )
