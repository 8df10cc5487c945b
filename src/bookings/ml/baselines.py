"""Baselines of the model card: what the engineered, searched model adds.

- A logistic regression on the model's own features (one-hot categories, scaled numbers).
- A plain LightGBM on the reference file's 13 input columns as they are, plus the route's two
  airports, the text columns as LightGBM (pandas) categoricals with every value kept: once with
  LightGBM's defaults, once with common light settings (400 trees, learning rate 0.03, 50 rows per
  leaf, categorical smoothing 50). This is what a reader would try first.
"""

from __future__ import annotations

from typing import Any, Final

import lightgbm
import numpy as np
import pandas as pd
from booking_core.features import FeatureSpec
from booking_core.schema import REQUIRED_FIELDS
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from bookings.ml.crossval import THREADS

PLAIN_COLUMNS: Final = (*REQUIRED_FIELDS, "origin_airport", "destination_airport")
PLAIN_BASELINES: Final[dict[str, tuple[dict[str, Any], int]]] = {
    "plain_lightgbm_defaults": ({}, 100),
    "plain_lightgbm_common": (
        {"learning_rate": 0.03, "min_data_in_leaf": 50, "cat_smooth": 50.0},
        400,
    ),
}


def logistic_baseline(spec: FeatureSpec, x: np.ndarray, y: np.ndarray) -> Pipeline:
    """Logistic regression on the same encoded features: one-hot categories, scaled numbers."""
    categorical = [i for i, f in enumerate(spec.features) if f.kind == "categorical"]
    numeric = [i for i in range(len(spec.features)) if i not in categorical]
    model = Pipeline(
        [
            (
                "encode",
                ColumnTransformer(
                    [
                        (
                            "numeric",
                            Pipeline(
                                [
                                    ("impute", SimpleImputer(strategy="median")),
                                    ("scale", StandardScaler()),
                                ]
                            ),
                            numeric,
                        ),
                        ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
                    ]
                ),
            ),
            ("model", LogisticRegression(max_iter=2000, C=1.0)),
        ]
    )
    return model.fit(x, y)


def _is_text(column: pd.Series) -> bool:
    return bool(pd.api.types.is_string_dtype(column) or column.dtype == object)


class PlainColumns:
    """The plain baselines' input: source columns as they are, text columns as categoricals with
    the categories of the training rows (unseen values become missing, as LightGBM expects)."""

    def __init__(self, train: pd.DataFrame) -> None:
        self.categories: dict[str, list[str]] = {}
        for name in PLAIN_COLUMNS:
            if name in train.columns and _is_text(train[name]):
                values = train[name].dropna().astype(str)
                self.categories[name] = sorted(values.unique())

    def frame(self, bookings: pd.DataFrame) -> pd.DataFrame:
        columns: dict[str, Any] = {}
        for name in PLAIN_COLUMNS:
            if name not in bookings.columns:
                columns[name] = np.full(len(bookings), np.nan)
            elif name in self.categories:
                text = bookings[name].astype("string")
                columns[name] = pd.Categorical(text, categories=self.categories[name])
            else:
                number = pd.to_numeric(bookings[name], errors="coerce")
                columns[name] = number.to_numpy(dtype=np.float64, na_value=np.nan)
        return pd.DataFrame(columns, index=bookings.index)


def plain_lightgbm_scores(
    train: pd.DataFrame, y_train: np.ndarray, test: pd.DataFrame, seed: int
) -> dict[str, np.ndarray]:
    """Test-split probabilities of each plain LightGBM baseline, trained on ``train``."""
    columns = PlainColumns(train)
    x_train, x_test = columns.frame(train), columns.frame(test)
    scores: dict[str, np.ndarray] = {}
    for name, (params, rounds) in PLAIN_BASELINES.items():
        booster = lightgbm.train(
            {
                "objective": "binary",
                "verbosity": -1,
                "num_threads": THREADS,
                "deterministic": True,
                "seed": seed,
                **params,
            },
            lightgbm.Dataset(x_train, label=y_train, categorical_feature="auto"),
            num_boost_round=rounds,
        )
        scores[name] = np.asarray(booster.predict(x_test, num_threads=THREADS), dtype=np.float64)
    return scores
