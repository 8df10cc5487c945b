"""Choosing the model's settings on the data it is given: a bounded, seeded search.

Optuna's TPE sampler proposes settings (``suggest``: learning rate, tree size, regularisation,
categorical smoothing, the vocabulary cut-off, the encoding of high-cardinality categories and the
feature set); each is scored by the mean ROC AUC of a stratified ``folds``-fold cross-validation of
the training part (``bookings.ml.crossval``). The test split is never passed here.

The first two trials are fixed starting points: the project's former defaults, and the common
light settings of a plain model on the source columns (learning rate 0.03, 50 rows per leaf,
categorical smoothing 50).

The choice among the completed trials follows the one-standard-error rule (``choose_trial``): the
best trial's mean AUC is uncertain by about the standard error of its fold AUCs, so every trial
within one standard error of it is as good as far as the cross-validation can tell, and of those
the one cheapest to score is chosen (``scoring_cost``: trees times the depth of a balanced tree of
that many leaves). Ties in cost go to the higher AUC. The best trial and the chosen one are both
recorded.

Bounds: at most ``trials`` trials and ``time_budget`` seconds. A trial still running when the
budget runs out is stopped and left out, except the first (there must be one result). Trials are
run one after another (each one's folds side by side), so the same seed and the same number of
completed trials give the same settings on any machine; a tighter budget only cuts the list short.
"""

from __future__ import annotations

import logging
import math
import os
import statistics
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import optuna

from bookings.ml.crossval import OutOfTime, cross_validate
from bookings.ml.design import ENCODINGS, FEATURE_SETS, EncodedTraining, Settings

# About two minutes for the 40,000 training rows of a 50,000-row file on two cores: the time of
# a trial grows with the rows, so the budget does too, and small files train quickly.
SECONDS_PER_THOUSAND_ROWS: Final = 3.0
MIN_TIME_BUDGET: Final = 10.0
DEFAULT_TRIALS: Final = 100
DEFAULT_FOLDS: Final = 3
RANDOM_START_TRIALS: Final = 8

# The project's settings before they were searched for (a conservative starting point).
FORMER_DEFAULTS: Final = Settings(
    params={
        "learning_rate": 0.05,
        "num_leaves": 31,
        "min_data_in_leaf": 50,
        "feature_fraction": 0.8,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "lambda_l2": 1.0,
        "cat_smooth": 20.0,
        "cat_l2": 10.0,
        "min_data_per_group": 50,
        "max_cat_threshold": 32,
    },
    min_category_count=20,
)
# Common light settings of a plain LightGBM on the source columns (LightGBM's defaults but for
# the learning rate, the leaf size and the categorical smoothing).
PLAIN_COMMON = Settings(
    params={
        "learning_rate": 0.03,
        "num_leaves": 31,
        "min_data_in_leaf": 50,
        "feature_fraction": 1.0,
        "bagging_fraction": 1.0,
        "bagging_freq": 0,
        "lambda_l2": 0.001,
        "cat_smooth": 50.0,
        "cat_l2": 10.0,
        "min_data_per_group": 100,
        "max_cat_threshold": 32,
    },
    min_category_count=5,
    feature_set="source",
)
# The ranges searched. The lower bounds keep rare values from carrying a split alone: a category
# needs 5 bookings to get its own code, and a leaf or categorical group 10.
MIN_CATEGORY_COUNT_RANGE: Final = (5, 200)


def default_time_budget(training_rows: int) -> float:
    return max(MIN_TIME_BUDGET, SECONDS_PER_THOUSAND_ROWS * training_rows / 1000)


def default_workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


@dataclass
class SearchOptions:
    time_budget: float | None = None  # seconds; None: default_time_budget(rows)
    trials: int = DEFAULT_TRIALS
    folds: int = DEFAULT_FOLDS
    workers: int = field(default_factory=default_workers)

    def __post_init__(self) -> None:
        if self.trials < 1:
            raise ValueError(f"the search needs at least 1 trial, not {self.trials}")
        if self.folds < 2:
            raise ValueError(f"cross-validation needs at least 2 folds, not {self.folds}")
        if self.time_budget is not None and self.time_budget <= 0:
            raise ValueError(f"the time budget must be positive, not {self.time_budget}")


SELECTION_RULE: Final = (
    "the cheapest to score (trees x log2 leaves) of the trials whose cross-validated ROC AUC is "
    "within one standard error (of the best trial's fold AUCs) of the best"
)


def trial_trees(trial: Mapping[str, Any]) -> float:
    """The trees a model of this trial grows: the median of its folds' early-stopped rounds."""
    return float(statistics.median(trial["best_rounds"]))


def scoring_cost(trial: Mapping[str, Any]) -> float:
    """Node tests per scored booking, as trees times the depth of a balanced tree of the trial's
    leaves. Prediction walks one root-to-leaf path per tree: its time grows with the number of
    trees and about the logarithm of the leaves, not with the leaves themselves."""
    leaves = max(2, int(trial["settings"]["num_leaves"]))
    return trial_trees(trial) * math.log2(leaves)


def standard_error(fold_roc_auc: Sequence[float]) -> float:
    """The standard error of a mean of fold AUCs (sample standard deviation over sqrt(folds))."""
    if len(fold_roc_auc) < 2:
        return 0.0
    return statistics.stdev(fold_roc_auc) / math.sqrt(len(fold_roc_auc))


@dataclass(frozen=True)
class Selection:
    best: Mapping[str, Any]
    chosen: Mapping[str, Any]
    standard_error: float
    threshold: float
    eligible: list[int]


def choose_trial(completed: Sequence[Mapping[str, Any]]) -> Selection:
    """The one-standard-error rule over completed trials (each with ``trial``, ``roc_auc_cv``,
    ``fold_roc_auc``, ``best_rounds`` and ``settings``): among the trials whose mean AUC is at
    least the best's less one standard error of the best's fold AUCs, the cheapest to score;
    ties go to the higher AUC, then the earlier trial."""
    if not completed:
        raise ValueError("no completed trial to choose from")
    best = max(completed, key=lambda t: (t["roc_auc_cv"], -t["trial"]))
    error = standard_error(best["fold_roc_auc"])
    threshold = best["roc_auc_cv"] - error
    eligible = [t for t in completed if t["roc_auc_cv"] >= threshold]
    chosen = min(eligible, key=lambda t: (scoring_cost(t), -t["roc_auc_cv"], t["trial"]))
    return Selection(
        best=best,
        chosen=chosen,
        standard_error=error,
        threshold=threshold,
        eligible=sorted(t["trial"] for t in eligible),
    )


@dataclass
class SearchResult:
    chosen: Settings
    chosen_trial: int
    chosen_roc_auc_cv: float
    best_trial: int
    best_roc_auc_cv: float
    selection_standard_error: float
    selection_threshold: float
    selection_eligible: list[int]
    trials: list[dict[str, Any]]
    folds: int
    seed: int
    time_budget: float
    max_trials: int
    seconds: float
    stopped_by: str  # "trials" or "time"

    def summary(self) -> dict[str, Any]:
        return {
            "best_trial": self.best_trial,
            "best_roc_auc_cv": self.best_roc_auc_cv,
            "folds": self.folds,
            "seed": self.seed,
            "time_budget_seconds": round(self.time_budget, 1),
            "max_trials": self.max_trials,
            "trials_completed": sum(t["state"] == "complete" for t in self.trials),
            "stopped_by": self.stopped_by,
            "seconds": round(self.seconds, 2),
            "selection": {
                "rule": SELECTION_RULE,
                "standard_error": self.selection_standard_error,
                "threshold_roc_auc_cv": self.selection_threshold,
                "eligible_trials": self.selection_eligible,
            },
            "chosen_trial": self.chosen_trial,
            "chosen_roc_auc_cv": self.chosen_roc_auc_cv,
            "chosen": self.chosen.describe(),
            "trials": self.trials,
        }


def _as_trial_values(settings: Settings) -> dict[str, Any]:
    values = {key: settings.params[key] for key in _SEARCHED_PARAMS}
    values.update(
        min_category_count=settings.min_category_count,
        encoding=settings.encoding,
        feature_set=settings.feature_set,
    )
    if settings.encoding != "native":
        values["target_smoothing"] = settings.target_smoothing
    return values


_SEARCHED_PARAMS: Final = (
    "learning_rate",
    "num_leaves",
    "min_data_in_leaf",
    "lambda_l2",
    "feature_fraction",
    "bagging_fraction",
    "cat_smooth",
    "min_data_per_group",
    "max_cat_threshold",
)


def suggest(trial: optuna.trial.BaseTrial) -> Settings:
    """One setting from the search space."""
    bagging_fraction = trial.suggest_float("bagging_fraction", 0.5, 1.0)
    params = {
        "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.15, log=True),
        "num_leaves": trial.suggest_int("num_leaves", 4, 96, log=True),
        "min_data_in_leaf": trial.suggest_int("min_data_in_leaf", 10, 400, log=True),
        "lambda_l2": trial.suggest_float("lambda_l2", 1e-3, 50.0, log=True),
        "feature_fraction": trial.suggest_float("feature_fraction", 0.4, 1.0),
        "bagging_fraction": bagging_fraction,
        "bagging_freq": 1 if bagging_fraction < 1.0 else 0,
        "cat_smooth": trial.suggest_float("cat_smooth", 1.0, 300.0, log=True),
        "cat_l2": 10.0,
        "min_data_per_group": trial.suggest_int("min_data_per_group", 10, 400, log=True),
        "max_cat_threshold": trial.suggest_int("max_cat_threshold", 8, 64, log=True),
    }
    encoding = str(trial.suggest_categorical("encoding", list(ENCODINGS)))
    smoothing = (
        trial.suggest_float("target_smoothing", 1.0, 1000.0, log=True)
        if encoding != "native"
        else 0.0
    )
    return Settings(
        params=params,
        min_category_count=trial.suggest_int(
            "min_category_count", *MIN_CATEGORY_COUNT_RANGE, log=True
        ),
        encoding=encoding,
        target_smoothing=smoothing,
        feature_set=str(trial.suggest_categorical("feature_set", list(FEATURE_SETS))),
    )


def search_settings(
    data: EncodedTraining, options: SearchOptions | None = None, *, seed: int = 42
) -> SearchResult:
    """The setting chosen for ``data`` (the training part only) within the bounds: the cheapest
    to score of those as good as the best in cross-validation (``choose_trial``)."""
    options = options or SearchOptions()
    budget = (
        options.time_budget if options.time_budget is not None else default_time_budget(len(data))
    )
    started = time.monotonic()
    deadline = started + budget
    optuna.logging.set_verbosity(logging.WARNING)
    with warnings.catch_warnings():
        # multivariate TPE is marked experimental; it models the parameters jointly.
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(
            seed=seed, n_startup_trials=RANDOM_START_TRIALS, multivariate=True, group=True
        )
    study = optuna.create_study(direction="maximize", sampler=sampler)
    for start in (FORMER_DEFAULTS, PLAIN_COMMON):
        study.enqueue_trial(_as_trial_values(start))
    records: list[dict[str, Any]] = []
    stopped_by = "trials"

    def objective(trial: optuna.trial.Trial) -> float:
        nonlocal stopped_by
        settings = suggest(trial)
        features = data.features(settings)
        trial_started = time.monotonic()
        record: dict[str, Any] = {"trial": trial.number, "settings": settings.describe()}
        records.append(record)
        try:
            cv = cross_validate(
                data,
                settings,
                features,
                folds=options.folds,
                seed=seed,
                workers=options.workers,
                deadline=None if trial.number == 0 else deadline,
            )
        except OutOfTime:
            stopped_by = "time"
            record.update(state="stopped by the time budget", roc_auc_cv=None)
            raise optuna.TrialPruned from None
        finally:
            record["seconds"] = round(time.monotonic() - trial_started, 2)
        record.update(
            state="complete",
            roc_auc_cv=cv.mean_roc_auc,
            fold_roc_auc=cv.fold_roc_auc,
            best_rounds=cv.best_rounds,
        )
        record["scoring_cost"] = round(scoring_cost(record), 1)
        return cv.mean_roc_auc

    def stop_when_out_of_time(study: optuna.Study, _trial: optuna.trial.FrozenTrial) -> None:
        nonlocal stopped_by
        if time.monotonic() >= deadline:
            stopped_by = "time"
            study.stop()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.optimize(objective, n_trials=options.trials, callbacks=[stop_when_out_of_time])
    selection = choose_trial([r for r in records if r["state"] == "complete"])
    chosen_trial = study.trials[selection.chosen["trial"]]
    return SearchResult(
        chosen=suggest(optuna.trial.FixedTrial(chosen_trial.params)),
        chosen_trial=selection.chosen["trial"],
        chosen_roc_auc_cv=selection.chosen["roc_auc_cv"],
        best_trial=selection.best["trial"],
        best_roc_auc_cv=selection.best["roc_auc_cv"],
        selection_standard_error=selection.standard_error,
        selection_threshold=selection.threshold,
        selection_eligible=selection.eligible,
        trials=records,
        folds=options.folds,
        seed=seed,
        time_budget=budget,
        max_trials=options.trials,
        seconds=time.monotonic() - started,
        stopped_by=stopped_by,
    )
