"""Batch scoring: probabilities, explanations and expected completions per segment."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from bookings.ml.frame import encode_frame
from bookings.ml.inference import BookingModel

SEGMENT_COLUMNS = ("booking_origin", "sales_channel", "lead_time_band")


def score_frame(model: BookingModel, frame: pd.DataFrame) -> np.ndarray:
    """Calibrated completion probabilities for a frame of enriched bookings, in frame order."""
    return model.probabilities(encode_frame(model.spec, frame))


def _display(value: float, kind: str, vocabulary: list[str] | None) -> str:
    if np.isnan(value):
        return "missing"
    if kind == "categorical" and vocabulary is not None:
        code = int(value)
        return vocabulary[code - 1] if code > 0 else "other"
    return f"{value:g}"


def explain(model: BookingModel, matrix: np.ndarray, top: int) -> list[list[dict[str, Any]]]:
    """The ``top`` largest feature contributions of each booking (LightGBM's own SHAP values, in
    log-odds), largest absolute value first."""
    contributions = model.contributions(matrix)[:, :-1]
    features = model.spec.features
    order = np.argsort(-np.abs(contributions), axis=1, kind="stable")[:, :top]
    explanations = []
    for row, positions in enumerate(order):
        explanations.append(
            [
                {
                    "feature": features[p].name,
                    "value": _display(
                        matrix[row, p],
                        features[p].kind,
                        model.spec.vocabularies.get(features[p].name),
                    ),
                    "contribution": float(contributions[row, p]),
                }
                for p in positions
            ]
        )
    return explanations


def format_explanation(items: list[dict[str, Any]]) -> str:
    return "; ".join(f"{i['feature']}={i['value']}:{i['contribution']:+.3f}" for i in items)


def segment_table(frame: pd.DataFrame, probability: np.ndarray) -> pd.DataFrame:
    """Expected completions per origin x channel x lead-time band, highest expected first: the
    sum of probabilities is the number of completions a campaign on that segment can expect."""
    columns = [c for c in SEGMENT_COLUMNS if c in frame.columns]
    data = frame[columns].copy()
    data["probability"] = probability
    grouped = data.groupby(columns, dropna=False, observed=True)["probability"]
    table = grouped.agg(bookings="size", expected_completions="sum", mean_probability="mean")
    table = table.reset_index().sort_values(
        ["expected_completions", *columns], ascending=[False, *([True] * len(columns))]
    )
    table["expected_completions"] = table["expected_completions"].round(3)
    table["mean_probability"] = table["mean_probability"].round(4)
    return table.reset_index(drop=True)
