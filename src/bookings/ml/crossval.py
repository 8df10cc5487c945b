"""Stratified cross-validation of one setting on the training part.

Inside each fold, early stopping watches an inner stratified validation split carved from the
fold's fitting rows, never the fold's held-out rows; target encodings of the held-out rows come
from the fitting rows only (``EncodedTraining.matrices``). Each booster runs on one thread and the
folds run side by side: the result does not depend on how many run at once, and LightGBM's
threads never wait on each other on a busy machine.

LightGBM keeps one thread count for the whole process, and every call that takes parameters
(building a Dataset, creating a Booster, predicting) sets it; a call that names none sets "every
core". Two calls running at once with different counts make one of them index per-thread buffers
sized for the other's count: a segmentation fault, not an exception. So every LightGBM call made
here names ``THREADS``, predictions included (``Booster.predict`` does not take the booster's
parameters: only its own keyword arguments).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Final

import lightgbm
import numpy as np
from booking_core.features import FeatureDefinition
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split

from bookings.ml.design import EncodedTraining, Settings
from bookings.ml.metrics import probability_metrics

INNER_VALIDATION_FRACTION: Final = 0.1
MAX_ROUNDS: Final = 2000
EARLY_STOPPING_ROUNDS: Final = 50
# The one thread count of every LightGBM call made while folds run side by side.
THREADS: Final = 1
# What every booster of this project shares, whatever the setting.
FIXED_PARAMS: Final[dict[str, Any]] = {
    "objective": "binary",
    "num_threads": THREADS,
    "deterministic": True,
    "force_col_wise": True,
    "verbosity": -1,
}


class OutOfTime(Exception):
    """The time budget ran out while a model was being fitted."""


@dataclass
class CrossValidation:
    oof: np.ndarray
    best_rounds: list[int]
    fold_roc_auc: list[float]
    metrics: dict[str, float]

    @property
    def mean_roc_auc(self) -> float:
        return float(np.mean(self.fold_roc_auc))


def categorical_positions(features: Sequence[FeatureDefinition]) -> list[int]:
    return [i for i, f in enumerate(features) if f.kind == "categorical"]


def dataset(
    features: Sequence[FeatureDefinition], x: np.ndarray, y: np.ndarray
) -> lightgbm.Dataset:
    return lightgbm.Dataset(
        x,
        label=y,
        feature_name=[f.name for f in features],
        categorical_feature=categorical_positions(features),
        free_raw_data=False,
        params={"verbosity": -1, "num_threads": THREADS},
    )


def booster_params(settings: Settings, seed: int) -> dict[str, Any]:
    return {**settings.params, **FIXED_PARAMS, "seed": seed}


def _deadline_callback(deadline: float) -> Any:
    def check(_env: Any) -> None:
        if time.monotonic() > deadline:
            raise OutOfTime

    return check


def fit_fold(
    data: EncodedTraining,
    settings: Settings,
    features: Sequence[FeatureDefinition],
    fit_rows: np.ndarray,
    held_rows: np.ndarray,
    seed: int,
    deadline: float | None = None,
) -> tuple[np.ndarray, int]:
    """Fit on ``fit_rows`` with early stopping on an inner split; predict ``held_rows``."""
    inner_fit, inner_valid = train_test_split(
        fit_rows,
        test_size=INNER_VALIDATION_FRACTION,
        stratify=data.y[fit_rows],
        random_state=seed,
    )
    apply_rows = np.concatenate([inner_valid, held_rows])
    x_fit, x_apply = data.matrices(settings, features, inner_fit, apply_rows, seed)
    train_set = dataset(features, x_fit, data.y[inner_fit])
    valid_set = train_set.create_valid(x_apply[: len(inner_valid)], label=data.y[inner_valid])
    callbacks: list[Callable[..., Any]] = [
        lightgbm.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)
    ]
    if deadline is not None:
        callbacks.append(_deadline_callback(deadline))
    booster = lightgbm.train(
        {**booster_params(settings, seed), "metric": "binary_logloss"},
        train_set,
        num_boost_round=MAX_ROUNDS,
        valid_sets=[valid_set],
        callbacks=callbacks,
    )
    best = int(booster.best_iteration or booster.current_iteration())
    held = np.asarray(
        booster.predict(x_apply[len(inner_valid) :], num_iteration=best, num_threads=THREADS)
    )
    return held, best


def cross_validate(
    data: EncodedTraining,
    settings: Settings,
    features: Sequence[FeatureDefinition],
    *,
    folds: int,
    seed: int,
    workers: int = 1,
    deadline: float | None = None,
) -> CrossValidation:
    """Out-of-fold predictions of ``settings`` on every training row, with the fold metrics."""
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    splits = list(splitter.split(np.zeros(len(data)), data.y))

    def run(fold: int) -> tuple[np.ndarray, int]:
        fit_rows, held_rows = splits[fold]
        return fit_fold(data, settings, features, fit_rows, held_rows, seed + fold, deadline)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        results = list(pool.map(run, range(folds)))
    oof = np.zeros(len(data), dtype=np.float64)
    fold_auc: list[float] = []
    for (_, held_rows), (held, _) in zip(splits, results, strict=True):
        oof[held_rows] = held
        fold_auc.append(float(roc_auc_score(data.y[held_rows], held)))
    return CrossValidation(
        oof=oof,
        best_rounds=[best for _, best in results],
        fold_roc_auc=fold_auc,
        metrics=probability_metrics(data.y, oof),
    )
