"""Training the booking-completion model, with settings chosen on the data and an honest test.

1. A stratified 20% test split is set aside first (or a separate labelled file is the test) and
   used for nothing but the final report.
2. The settings are searched for on the training part only (``bookings.ml.search``): LightGBM's
   learning rate, tree size and regularisation, the categorical smoothing, the vocabulary cut-off,
   how high-cardinality categories are encoded and which features are used, each setting scored
   by stratified cross-validation, within a time budget and a number of trials, with a seed.
3. The chosen setting is cross-validated again (5 folds, same code); its out-of-fold predictions
   give the isotonic calibration, the decision threshold (maximum F1) and the number of rounds.
4. The final model is trained on the whole training part; its feature spec (vocabularies at the
   cut-off, target rates from every training row) ships with it.
5. Baselines on the same test rows: always "no", a logistic regression on the model's features,
   and a plain LightGBM on the source columns (LightGBM's defaults, and common light settings).
Nothing is resampled: the class balance of every split is the data's own.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Final

import lightgbm
import numpy as np
import pandas as pd
from booking_core.features import FeatureSpec, tiers_up_to
from booking_core.schema import OUTCOME_FIELD, TIERS
from sklearn.isotonic import IsotonicRegression
from sklearn.model_selection import train_test_split

from bookings.ml.baselines import logistic_baseline, plain_lightgbm_scores
from bookings.ml.crossval import (
    EARLY_STOPPING_ROUNDS,
    INNER_VALIDATION_FRACTION,
    MAX_ROUNDS,
    THREADS,
    booster_params,
    cross_validate,
    dataset,
)
from bookings.ml.design import EncodedTraining, Settings
from bookings.ml.frame import encode_frame
from bookings.ml.inference import Calibration
from bookings.ml.metrics import (
    best_f1_threshold,
    calibration_table,
    lift_table,
    probability_metrics,
    threshold_metrics,
)
from bookings.ml.search import SearchOptions, SearchResult, search_settings

# The final model sees all training rows, about 1/(0.8*0.9) times a fold's fitting rows; more
# data supports somewhat more rounds, but far less than proportionally.
FINAL_ROUNDS_FACTOR: Final = 1.1
DEFAULT_FOLDS: Final = 5

__all__ = ["TrainingOptions", "TrainingResult", "labels_of", "logistic_baseline", "train_model"]


@dataclass
class TrainingOptions:
    folds: int = DEFAULT_FOLDS
    test_fraction: float = 0.2
    seed: int = 42
    compare_tiers: bool = True
    search: SearchOptions = field(default_factory=SearchOptions)

    def __post_init__(self) -> None:
        if not 0 < self.test_fraction < 1:
            raise ValueError(f"the test fraction must be between 0 and 1, not {self.test_fraction}")


@dataclass
class TrainingResult:
    booster: lightgbm.Booster
    spec: FeatureSpec
    calibration: Calibration
    settings: Settings
    search: SearchResult
    metrics: dict[str, Any]
    importance: list[dict[str, Any]]
    tiers: list[dict[str, Any]]
    hyperparameters: dict[str, Any]
    data: dict[str, Any]
    seconds: float
    test_source: str


def fit_calibration(y: np.ndarray, raw: np.ndarray) -> Calibration:
    """Isotonic regression on out-of-fold predictions, stored as breakpoints: the centre (mean raw
    score) of each of its steps and the step's rate. Interpolating between the centres rather
    than along the steps keeps distinct scores distinct, so the ranking (and the ROC AUC)
    survives calibration but for the scores beyond the first and last centre."""
    isotonic = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, y)
    fitted = isotonic.predict(raw)
    rates, step = np.unique(fitted, return_inverse=True)
    centres = np.bincount(step, weights=raw) / np.bincount(step)
    calibration = Calibration(
        method="isotonic",
        x=[float(v) for v in centres],
        y=[float(v) for v in rates],
        threshold=0.5,
    )
    calibration.threshold = best_f1_threshold(y, calibration.apply(raw))
    return calibration


def _importance(booster: lightgbm.Booster, spec: FeatureSpec) -> list[dict[str, Any]]:
    gains = booster.feature_importance(importance_type="gain")
    total = float(np.sum(gains)) or 1.0
    rows = [
        {"feature": f.name, "tier": f.tier, "gain": float(g), "share": float(g) / total}
        for f, g in zip(spec.features, gains, strict=True)
    ]
    return sorted(rows, key=lambda row: -row["gain"])


def labels_of(frame: pd.DataFrame) -> np.ndarray:
    labels: np.ndarray = frame[OUTCOME_FIELD].astype(np.int64).to_numpy()
    return labels


def _check_outcomes(y: np.ndarray, folds: int, what: str) -> None:
    positives = int(y.sum())
    if positives < folds * 2 or len(y) - positives < folds * 2:
        raise ValueError(
            f"too few bookings of each outcome to {what} ({positives} completed, "
            f"{len(y) - positives} not completed; need at least {folds * 2} of each)"
        )


def train_model(frame: pd.DataFrame, options: TrainingOptions | None = None) -> TrainingResult:
    """Hold out a stratified test split of ``frame`` (labelled enriched bookings, one booking per
    row), then train and evaluate (``train_on_split``)."""
    options = options or TrainingOptions()
    y_all = labels_of(frame)
    _check_outcomes(y_all, options.folds, "train")
    train_idx, test_idx = train_test_split(
        np.arange(len(frame)),
        test_size=options.test_fraction,
        stratify=y_all,
        random_state=options.seed,
    )
    return train_on_split(
        frame.iloc[train_idx],
        frame.iloc[test_idx],
        options,
        test_source=f"a stratified {options.test_fraction:.0%} split of the labelled bookings",
    )


def _tier_comparison(
    data: EncodedTraining,
    settings: Settings,
    features: list[Any],
    full: dict[str, float],
    options: TrainingOptions,
) -> list[dict[str, Any]]:
    tiers: list[dict[str, Any]] = []
    for tier in TIERS:
        included = tiers_up_to(tier)
        chosen = [f for f in features if f.tier in included]
        if tier == TIERS[-1]:
            tier_metrics = full
        else:
            tier_metrics = cross_validate(
                data,
                settings,
                chosen,
                folds=options.folds,
                seed=options.seed,
                workers=options.search.workers,
            ).metrics
        tiers.append(
            {
                "tiers": "+".join(included),
                "features": len(chosen),
                "roc_auc_cv": tier_metrics["roc_auc"],
                "pr_auc_cv": tier_metrics["pr_auc"],
                "brier_cv": tier_metrics["brier"],
            }
        )
    return tiers


def train_on_split(
    train_frame: pd.DataFrame,
    test_frame: pd.DataFrame,
    options: TrainingOptions | None = None,
    *,
    test_source: str = "labelled bookings given apart",
) -> TrainingResult:
    """Search, train and evaluate on a training part; ``test_frame`` is used only to report."""
    options = options or TrainingOptions()
    started = time.perf_counter()
    y_train, y_test = labels_of(train_frame), labels_of(test_frame)
    _check_outcomes(y_train, max(options.folds, options.search.folds), "train")
    if y_test.min(initial=1) == y_test.max(initial=0):
        raise ValueError("the test bookings need both outcomes; ROC AUC is undefined otherwise")

    data = EncodedTraining(train_frame, y_train)
    search = search_settings(data, options.search, seed=options.seed)
    settings = search.chosen
    features = data.features(settings)
    cv = cross_validate(
        data,
        settings,
        features,
        folds=options.folds,
        seed=options.seed,
        workers=options.search.workers,
    )
    calibration = fit_calibration(y_train, cv.oof)
    oof_calibrated = calibration.apply(cv.oof)

    final_rounds = max(1, math.ceil(float(np.median(cv.best_rounds)) * FINAL_ROUNDS_FACTOR))
    spec = data.spec(settings, features)
    every_row = np.arange(len(data))
    x_train, _ = data.matrices(settings, features, every_row, every_row[:0], options.seed)
    booster = lightgbm.train(
        booster_params(settings, options.seed),
        dataset(features, x_train, y_train),
        num_boost_round=final_rounds,
    )
    x_test = encode_frame(spec, test_frame)
    test_probability = calibration.apply(np.asarray(booster.predict(x_test, num_threads=THREADS)))

    logistic = logistic_baseline(spec, x_train, y_train).predict_proba(x_test)[:, 1]
    plain = plain_lightgbm_scores(train_frame, y_train, test_frame, options.seed)

    metrics: dict[str, Any] = {
        "roc_auc_cv": cv.metrics["roc_auc"],
        "pr_auc_cv": cv.metrics["pr_auc"],
        "brier_cv": cv.metrics["brier"],
        "log_loss_cv": cv.metrics["log_loss"],
        "cv_fold_roc_auc": cv.fold_roc_auc,
        "cv_best_rounds": cv.best_rounds,
        "final_rounds": final_rounds,
        "cv_at_threshold": threshold_metrics(y_train, oof_calibrated, calibration.threshold),
        "test": {
            **probability_metrics(y_test, test_probability),
            **threshold_metrics(y_test, test_probability, calibration.threshold),
            "n": len(y_test),
            "positive_rate": float(np.mean(y_test)),
        },
        "baselines": {
            "always_no_accuracy_test": float(1.0 - np.mean(y_test)),
            "logistic_regression_test": probability_metrics(y_test, logistic),
            **{f"{name}_test": probability_metrics(y_test, p) for name, p in plain.items()},
        },
        "calibration_test": calibration_table(y_test, test_probability),
        "lift_test": lift_table(y_test, test_probability),
        "search": search.summary(),
    }
    tiers = (
        _tier_comparison(data, settings, features, cv.metrics, options)
        if options.compare_tiers
        else []
    )
    return TrainingResult(
        booster=booster,
        spec=spec,
        calibration=calibration,
        settings=settings,
        search=search,
        metrics=metrics,
        importance=_importance(booster, spec),
        tiers=tiers,
        hyperparameters={
            **settings.describe(),
            "max_rounds": MAX_ROUNDS,
            "early_stopping_rounds": EARLY_STOPPING_ROUNDS,
            "inner_validation_fraction": INNER_VALIDATION_FRACTION,
            "folds": options.folds,
            "test": test_source,
            "seed": options.seed,
            "final_rounds_factor": FINAL_ROUNDS_FACTOR,
            "search_trials_completed": metrics["search"]["trials_completed"],
            "search_folds": options.search.folds,
            "search_time_budget_seconds": round(search.time_budget, 1),
        },
        data={
            "n_labelled": len(y_train) + len(y_test),
            "n_train": len(y_train),
            "n_test": len(y_test),
            "positive_rate": float(np.mean(np.concatenate([y_train, y_test]))),
        },
        seconds=time.perf_counter() - started,
        test_source=test_source,
    )
