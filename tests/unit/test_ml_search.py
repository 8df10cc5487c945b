"""The search of the model's settings: bounded, seeded, blind to the test split, on the record."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from booking_core.features import SOURCE_FEATURE_NAMES, TARGET_SUFFIX
from support.ml_helpers import enriched_bookings

from bookings.commands import train as train_command
from bookings.ml import search as search_module
from bookings.ml.design import EncodedTraining, Settings
from bookings.ml.frame import encode_frame, fit_spec_frame, records_to_frame
from bookings.ml.packaging import save_training
from bookings.ml.search import (
    FORMER_DEFAULTS,
    PLAIN_COMMON,
    SearchOptions,
    choose_trial,
    scoring_cost,
    search_settings,
    standard_error,
)
from bookings.ml.training import TrainingOptions, labels_of, train_on_split

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def bookings() -> pd.DataFrame:
    return records_to_frame(enriched_bookings(2500, seed=41))


@pytest.fixture(scope="module")
def training(bookings: pd.DataFrame) -> EncodedTraining:
    return EncodedTraining(bookings, labels_of(bookings))


def _without_seconds(trials: list[dict[str, object]]) -> list[dict[str, object]]:
    return [{k: v for k, v in t.items() if k != "seconds"} for t in trials]


@pytest.fixture(scope="module")
def split() -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = records_to_frame(enriched_bookings(3000, seed=42))
    return frame.iloc[:2400].reset_index(drop=True), frame.iloc[2400:].reset_index(drop=True)


def _options(trials: int = 3, seed: int = 3) -> TrainingOptions:
    return TrainingOptions(
        compare_tiers=False,
        folds=2,
        seed=seed,
        search=SearchOptions(trials=trials, folds=2, time_budget=300),
    )


def test_the_search_stops_at_its_number_of_trials(training: EncodedTraining) -> None:
    result = search_settings(training, SearchOptions(trials=3, folds=2, time_budget=300), seed=1)
    assert [t["trial"] for t in result.trials] == [0, 1, 2]
    assert all(t["state"] == "complete" for t in result.trials)
    assert result.stopped_by == "trials"
    best = max(result.trials, key=lambda t: t["roc_auc_cv"])
    assert result.best_trial == best["trial"]
    assert result.best_roc_auc_cv == best["roc_auc_cv"]
    # the chosen trial is the cheapest to score of those within one standard error of the best
    selection = choose_trial(result.trials)
    assert result.chosen_trial == selection.chosen["trial"]
    chosen = result.trials[result.chosen_trial]
    assert result.chosen.describe() == chosen["settings"]
    assert result.chosen_roc_auc_cv == chosen["roc_auc_cv"]
    assert chosen["roc_auc_cv"] >= best["roc_auc_cv"] - standard_error(best["fold_roc_auc"])
    for trial in result.trials:
        assert trial["scoring_cost"] == pytest.approx(scoring_cost(trial), abs=0.05)
        if trial["roc_auc_cv"] >= result.summary()["selection"]["threshold_roc_auc_cv"]:
            assert scoring_cost(trial) >= scoring_cost(chosen)
    # the fixed starting points come first
    assert result.trials[0]["settings"] == FORMER_DEFAULTS.describe()
    assert result.trials[1]["settings"] == PLAIN_COMMON.describe()


def test_the_search_stops_when_its_time_is_up(training: EncodedTraining) -> None:
    result = search_settings(training, SearchOptions(trials=50, folds=2, time_budget=0.01), seed=1)
    # the first trial always completes (there must be a result); none starts after the budget
    assert [t["state"] for t in result.trials] == ["complete"]
    assert result.stopped_by == "time"
    assert result.summary()["trials_completed"] == 1


def test_the_search_is_reproducible_with_its_seed(training: EncodedTraining) -> None:
    options = SearchOptions(trials=4, folds=2, time_budget=300, workers=2)
    first = search_settings(training, options, seed=7)
    again = search_settings(
        training, SearchOptions(trials=4, folds=2, time_budget=300, workers=1), seed=7
    )
    assert _without_seconds(first.trials) == _without_seconds(again.trials)
    assert first.chosen == again.chosen
    other = search_settings(training, options, seed=8)
    # the starting points are fixed; the proposals after them follow the seed
    assert other.trials[2]["settings"] != first.trials[2]["settings"]


def test_the_test_split_changes_nothing_in_the_choice(
    split: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    train, test = split
    shuffled = test.copy()
    rng = np.random.default_rng(0)
    shuffled["booking_complete"] = rng.permutation(shuffled["booking_complete"].to_numpy())
    for column in ("route", "booking_origin_code", "purchase_lead"):
        shuffled[column] = rng.permutation(shuffled[column].to_numpy())
    honest = train_on_split(train, test, _options())
    blind = train_on_split(train, shuffled, _options())
    assert _without_seconds(blind.search.trials) == _without_seconds(honest.search.trials)
    assert blind.settings == honest.settings
    assert blind.metrics["roc_auc_cv"] == honest.metrics["roc_auc_cv"]
    assert blind.booster.model_to_string() == honest.booster.model_to_string()
    assert blind.spec.to_dict() == honest.spec.to_dict()
    # the test figures do move: the test rows are only ever scored
    assert blind.metrics["test"]["roc_auc"] != honest.metrics["test"]["roc_auc"]


def test_the_card_and_metrics_record_the_search_and_the_baselines(
    split: tuple[pd.DataFrame, pd.DataFrame], tmp_path: Path
) -> None:
    train, test = split
    result = train_on_split(train, test, _options(trials=3))
    written = save_training(result, tmp_path, {"rows_read": 3000})
    metrics = json.loads(written.metrics.read_text())
    search = metrics["search"]
    assert search["trials_completed"] == 3
    assert [t["trial"] for t in search["trials"]] == [0, 1, 2]
    assert search["chosen"] == result.settings.describe()
    assert metrics["hyperparameters"]["min_category_count"] == result.settings.min_category_count
    baselines = metrics["baselines"]
    for name in (
        "plain_lightgbm_defaults_test",
        "plain_lightgbm_common_test",
        "logistic_regression_test",
    ):
        assert 0.5 < baselines[name]["roc_auc"] < 1, name
    # the two plain settings are different models
    assert (
        baselines["plain_lightgbm_defaults_test"]["roc_auc"]
        != baselines["plain_lightgbm_common_test"]["roc_auc"]
    )
    card = written.card.read_text()
    assert "## How the settings were chosen" in card
    assert f"Trial {search['best_trial']} won with {search['best_roc_auc_cv']:.4f}" in card
    assert search["chosen"] == search["trials"][search["chosen_trial"]]["settings"]
    selection = search["selection"]
    assert "one standard error" in selection["rule"]
    assert f"Trials within: {', '.join(map(str, selection['eligible_trials']))}." in card
    for trial in search["trials"]:
        marks = [
            mark
            for mark, number in (("best", search["best_trial"]), ("chosen", search["chosen_trial"]))
            if number == trial["trial"]
        ]
        label = f"{trial['trial']} ({', '.join(marks)})" if marks else str(trial["trial"])
        trees = statistics.median(trial["best_rounds"])
        assert f"| {label} | {trial['roc_auc_cv']:.4f} | {trees:.0f} |" in card
    assert "plain LightGBM, defaults" in card
    assert f"{baselines['plain_lightgbm_defaults_test']['roc_auc']:.4f}" in card
    assert f"Brier score {metrics['test']['brier']:.4f}" in card


def test_features_follow_the_encoding_and_the_feature_set(training: EncodedTraining) -> None:
    assert {"route", "booking_origin", "origin_airport", "destination_airport"} <= set(
        training.high_cardinality
    )
    assert "sales_channel" not in training.high_cardinality

    def names(encoding: str, feature_set: str = "all") -> list[str]:
        settings = Settings(
            params={},
            min_category_count=5,
            encoding=encoding,
            target_smoothing=10.0,
            feature_set=feature_set,
        )
        return [f.name for f in training.features(settings)]

    native = names(encoding="native")
    assert not any(name.endswith(TARGET_SUFFIX) for name in native)
    target = names(encoding="target")
    assert "route" not in target
    assert "route" + TARGET_SUFFIX in target
    assert "sales_channel" in target
    both = names(encoding="both")
    assert {"route", "route" + TARGET_SUFFIX} <= set(both)
    assert set(names(encoding="native", feature_set="source")) == set(SOURCE_FEATURE_NAMES)


def test_target_encoding_never_sees_the_label_of_the_row_it_encodes(
    bookings: pd.DataFrame, training: EncodedTraining
) -> None:
    settings = Settings(params={}, min_category_count=5, encoding="target", target_smoothing=20.0)
    features = training.features(settings)
    column = [f.name for f in features].index("route" + TARGET_SUFFIX)
    rows = np.arange(len(training))
    fit_rows, apply_rows = rows[:2000], rows[2000:]
    # a fitting row and an applied row of the most frequent route
    route_codes = training.codes("route", 5, slice(None))
    fit_row = int(np.flatnonzero(route_codes[:2000] == 1)[0])
    applied_row = 2000 + int(np.flatnonzero(route_codes[2000:] == 1)[0])

    def matrices(*flipped_rows: int) -> tuple[np.ndarray, np.ndarray]:
        y = training.y.copy()
        for row in flipped_rows:
            y[row] = 1 - y[row]
        return EncodedTraining(bookings, y).matrices(
            settings, features, fit_rows, apply_rows, seed=0
        )

    x_fit, x_apply = matrices()
    x_fit_flip, x_apply_flip = matrices(fit_row)
    # a fitting row's own value is out of fold; its label moves the other rows of its route
    assert x_fit_flip[fit_row, column] == x_fit[fit_row, column]
    assert not np.array_equal(x_fit_flip[:, column], x_fit[:, column])
    assert x_apply_flip[applied_row - 2000, column] != x_apply[applied_row - 2000, column]
    # applied rows take the rates of the fitting rows only: their own labels change nothing
    x_fit_applied, x_apply_applied = matrices(applied_row)
    np.testing.assert_array_equal(x_fit_applied, x_fit)
    np.testing.assert_array_equal(x_apply_applied, x_apply)


def test_the_shipped_spec_encodes_like_the_training_matrices(
    bookings: pd.DataFrame, training: EncodedTraining
) -> None:
    frame = bookings
    for encoding in ("native", "both"):
        settings = Settings(
            params={}, min_category_count=12, encoding=encoding, target_smoothing=30.0
        )
        features = training.features(settings)
        spec = training.spec(settings, features)
        rows = np.arange(len(training))
        _, x_apply = training.matrices(settings, features, rows, rows, seed=0)
        # applied to the training rows, the matrices use every training row's rates: the spec's
        np.testing.assert_array_equal(encode_frame(spec, frame), x_apply)
        np.testing.assert_array_equal(
            np.asarray(spec.encode_records(frame.head(50).to_dict("records"))), x_apply[:50]
        )
        fitted = fit_spec_frame(frame, min_category_count=12)
        for name, vocabulary in spec.vocabularies.items():
            assert vocabulary == fitted.vocabularies[name]


def test_rare_categories_share_the_other_code(training: EncodedTraining) -> None:
    kept = training.kept("route", 20)
    counts = training.counts["route"]
    assert 0 < kept < len(counts) - 1
    codes = training.codes("route", 20, slice(None))
    full = training.x[:, training.position["route"]].astype(int)
    assert np.all(counts[full[codes == 0]] < 20)
    assert np.all(counts[codes[codes > 0]] >= 20)


def test_the_command_defaults_are_the_search_defaults() -> None:
    assert train_command.DEFAULT_TRIALS == search_module.DEFAULT_TRIALS
    assert train_command.DEFAULT_SEARCH_FOLDS == search_module.DEFAULT_FOLDS


def test_the_default_budget_grows_with_the_rows() -> None:
    assert search_module.default_time_budget(40_000) == pytest.approx(120)
    assert search_module.default_time_budget(100) == search_module.MIN_TIME_BUDGET
    with pytest.raises(ValueError, match="at least 1 trial"):
        SearchOptions(trials=0)
    with pytest.raises(ValueError, match="time budget"):
        SearchOptions(time_budget=0)
