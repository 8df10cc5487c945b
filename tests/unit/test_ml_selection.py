"""The choice among the search's trials: the cheapest to score of those as good as the best."""

from __future__ import annotations

import math
import statistics
from typing import Any

import pytest

from bookings.ml.search import choose_trial, scoring_cost, standard_error, trial_trees


def _trial(number: int, folds: list[float], rounds: list[int], leaves: int) -> dict[str, Any]:
    return {
        "trial": number,
        "state": "complete",
        "roc_auc_cv": statistics.fmean(folds),
        "fold_roc_auc": folds,
        "best_rounds": rounds,
        "settings": {"num_leaves": leaves, "learning_rate": 0.05},
    }


# the best trial's fold AUCs: mean 0.825, sample standard deviation 0.006
BEST_FOLDS = [0.819, 0.825, 0.831]
BEST_ERROR = 0.006 / math.sqrt(3)


def test_the_standard_error_is_that_of_a_mean_of_folds() -> None:
    assert standard_error(BEST_FOLDS) == pytest.approx(BEST_ERROR)
    assert standard_error([0.8, 0.8, 0.8]) == 0.0
    assert standard_error([0.81]) == 0.0


def test_the_scoring_cost_is_trees_times_log2_leaves() -> None:
    trial = _trial(0, BEST_FOLDS, rounds=[700, 782, 900], leaves=6)
    assert trial_trees(trial) == 782
    assert scoring_cost(trial) == pytest.approx(782 * math.log2(6))
    # many small trees cost more to walk than fewer large ones
    assert scoring_cost(trial) > scoring_cost(_trial(1, BEST_FOLDS, [140, 142, 150], 31))


def test_the_cheapest_trial_within_one_standard_error_is_chosen() -> None:
    best = _trial(3, BEST_FOLDS, rounds=[780, 782, 790], leaves=6)
    trials = [
        _trial(0, [0.818, 0.823, 0.825], rounds=[150, 160, 170], leaves=31),  # 0.822: within
        _trial(1, [0.820, 0.823, 0.826], rounds=[100, 110, 120], leaves=16),  # 0.823: cheapest
        _trial(2, [0.815, 0.818, 0.821], rounds=[20, 25, 30], leaves=4),  # 0.818: outside
        best,
        _trial(4, [0.821, 0.824, 0.827], rounds=[400, 420, 440], leaves=8),  # 0.824: dearer
    ]
    selection = choose_trial(trials)
    assert selection.best is best
    assert selection.standard_error == pytest.approx(BEST_ERROR)
    assert selection.threshold == pytest.approx(0.825 - BEST_ERROR)
    assert selection.eligible == [0, 1, 3, 4]
    assert selection.chosen["trial"] == 1
    # the order of the trials does not matter
    assert choose_trial(list(reversed(trials))).chosen["trial"] == 1


def test_the_best_is_chosen_when_no_other_trial_is_within_one_standard_error() -> None:
    best = _trial(5, BEST_FOLDS, rounds=[780, 782, 790], leaves=6)
    trials = [
        _trial(0, [0.815, 0.818, 0.821], rounds=[150, 160, 170], leaves=31),
        _trial(1, [0.816, 0.819, 0.822], rounds=[20, 25, 30], leaves=4),
        best,
    ]
    selection = choose_trial(trials)
    assert selection.chosen is best
    assert selection.eligible == [5]


def test_equal_costs_go_to_the_higher_auc_then_the_earlier_trial() -> None:
    best = _trial(2, BEST_FOLDS, rounds=[780, 782, 790], leaves=6)
    lower = _trial(0, [0.821, 0.824, 0.826], rounds=[100], leaves=16)
    higher = _trial(1, [0.822, 0.824, 0.827], rounds=[100], leaves=16)
    assert choose_trial([lower, higher, best]).chosen is higher
    twin = _trial(3, [0.822, 0.824, 0.827], rounds=[100], leaves=16)
    assert choose_trial([twin, higher, best]).chosen is higher


def test_there_must_be_a_trial_to_choose() -> None:
    with pytest.raises(ValueError, match="no completed trial"):
        choose_trial([])
