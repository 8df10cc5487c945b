"""The vectorised twin of ``booking_core.features``: the same spec, encoded column by column.

Training and batch scoring encode whole frames at once; the Lambda-side code encodes one record at
a time with ``FeatureSpec.encode_record``. Both follow the same rules (see booking_core.features)
and the tests hold them to exactly the same matrix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from booking_core.features import (
    DEFAULT_MIN_CATEGORY_COUNT,
    FEATURE_DEFINITIONS,
    OTHER_CODE,
    FeatureDefinition,
    FeatureSpec,
    TargetEncoding,
    fit_spec_from_counts,
    to_number,
)


def records_to_frame(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame.from_records(list(records))


def _category_strings(column: pd.Series) -> pd.Series:
    if pd.api.types.is_string_dtype(column) or column.dtype == object:
        return column
    return column.astype(str).where(column.notna(), None)


def fit_spec_frame(
    frame: pd.DataFrame,
    *,
    min_category_count: int = DEFAULT_MIN_CATEGORY_COUNT,
    definitions: Sequence[FeatureDefinition] = FEATURE_DEFINITIONS,
) -> FeatureSpec:
    """``booking_core.features.fit_spec`` for a frame of enriched bookings."""
    counts: dict[str, dict[str, int]] = {}
    for feature in definitions:
        if feature.kind != "categorical":
            continue
        if feature.source not in frame.columns:
            counts[feature.name] = {}
            continue
        values = _category_strings(frame[feature.source]).dropna()
        counts[feature.name] = {str(k): int(n) for k, n in values.value_counts().items()}
    return fit_spec_from_counts(
        counts, min_category_count=min_category_count, definitions=definitions
    )


def _numeric_column(column: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
        numbers: np.ndarray = column.to_numpy(dtype=np.float64, na_value=np.nan)
        return numbers
    try:
        converted: np.ndarray = column.astype(np.float64).to_numpy()
        return converted
    except (TypeError, ValueError):
        return np.fromiter((to_number(v) for v in column), dtype=np.float64, count=len(column))


def _categorical_column(column: pd.Series, vocabulary: list[str]) -> np.ndarray:
    codes = pd.Categorical(_category_strings(column), categories=vocabulary).codes
    # pandas marks values outside the vocabulary (and missing ones) with -1: that is "other".
    positions: np.ndarray = (codes.astype(np.int64) + 1).astype(np.float64)
    return positions


def _target_column(column: pd.Series, encoding: TargetEncoding) -> np.ndarray:
    codes = pd.Categorical(_category_strings(column), categories=list(encoding.rates)).codes
    # the same floats as TargetEncoding.rate: position 0 is "other", then the rates in order
    table = np.array([encoding.other, *encoding.rates.values()], dtype=np.float64)
    rates: np.ndarray = table[codes.astype(np.int64) + 1]
    return rates


def _missing_value(spec: FeatureSpec, feature: FeatureDefinition) -> float:
    if feature.kind == "numeric":
        return np.nan
    if feature.kind == "target":
        return spec.target_encodings[feature.name].other
    return float(OTHER_CODE)


def encode_frame(spec: FeatureSpec, frame: pd.DataFrame) -> np.ndarray:
    """The model's input matrix for a frame of enriched bookings (rows in frame order)."""
    matrix = np.empty((len(frame), len(spec.features)), dtype=np.float64)
    for position, feature in enumerate(spec.features):
        if feature.source not in frame.columns:
            matrix[:, position] = _missing_value(spec, feature)
        elif feature.kind == "numeric":
            matrix[:, position] = _numeric_column(frame[feature.source])
        elif feature.kind == "target":
            matrix[:, position] = _target_column(
                frame[feature.source], spec.target_encodings[feature.name]
            )
        else:
            matrix[:, position] = _categorical_column(
                frame[feature.source], spec.vocabularies[feature.name]
            )
    return matrix
