"""The model card: what the model was trained on, how good it is, and how far to trust it."""

from __future__ import annotations

from typing import Any

from bookings.ml.search import scoring_cost, trial_trees
from bookings.ml.training import TrainingResult


def _f(value: float, digits: int = 4) -> str:
    return f"{value:.{digits}f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


BASELINE_LABELS = {
    "plain_lightgbm_defaults_test": "plain LightGBM, defaults (100 trees)",
    "plain_lightgbm_common_test": "plain LightGBM, 400 trees, rate 0.03, 50 per leaf, smoothing 50",
    "logistic_regression_test": "logistic regression",
}
TRIALS_SHOWN = 10


def _baseline_rows(metrics: dict[str, Any]) -> list[tuple[str, dict[str, float]]]:
    rows = [("this model", metrics["test"])]
    rows += [
        (label, metrics["baselines"][key])
        for key, label in BASELINE_LABELS.items()
        if key in metrics["baselines"]
    ]
    return rows


def _setting_text(settings: dict[str, Any]) -> str:
    keys = (
        "learning_rate",
        "num_leaves",
        "min_data_in_leaf",
        "lambda_l2",
        "cat_smooth",
        "min_category_count",
        "category_encoding",
        "feature_set",
    )
    return ", ".join(
        f"{k} {settings[k]:.3g}" if isinstance(settings[k], float) else f"{k} {settings[k]}"
        for k in keys
        if k in settings
    )


def _trial_row(trial: dict[str, Any], search: dict[str, Any]) -> list[str]:
    marks = [
        mark
        for mark, number in (("best", search["best_trial"]), ("chosen", search["chosen_trial"]))
        if trial["trial"] == number
    ]
    return [
        f"{trial['trial']} ({', '.join(marks)})" if marks else str(trial["trial"]),
        _f(trial["roc_auc_cv"]),
        f"{trial_trees(trial):.0f}",
        f"{scoring_cost(trial):.0f}",
        f"{trial['seconds']:.1f}",
        _setting_text(trial["settings"]),
    ]


def _search_section(result: TrainingResult) -> list[str]:
    search = result.metrics["search"]
    selection = search["selection"]
    completed = [t for t in search["trials"] if t["state"] == "complete"]
    ranked = sorted(completed, key=lambda t: (-t["roc_auc_cv"], t["trial"]))
    shown = ranked[:TRIALS_SHOWN]
    shown += [t for t in completed if t["trial"] == search["chosen_trial"] and t not in shown]
    if search["chosen_trial"] == search["best_trial"]:
        outcome = f"Trial {search['chosen_trial']} was chosen: no cheaper trial was within it."
    else:
        outcome = (
            f"Trial {search['chosen_trial']} was chosen with "
            f"{_f(search['chosen_roc_auc_cv'])}: as good as the best within the rule, and "
            "cheaper to score."
        )
    return [
        "## How the settings were chosen",
        f"A seeded search (Optuna TPE, seed {search['seed']}) over the learning rate, tree size, "
        "regularisation, categorical smoothing, the vocabulary cut-off, the encoding of the "
        "high-cardinality categories (LightGBM categoricals, out-of-fold target encoding, or both) "
        "and the feature set (all engineered features, or the source columns and the route's "
        f"airports). Each setting was scored by the mean ROC AUC of a stratified {search['folds']}"
        "-fold cross-validation of the training part; the test rows were not used. "
        f"{search['trials_completed']} trials completed in {search['seconds']:.0f} s (at most "
        f"{search['max_trials']} trials and {search['time_budget_seconds']:.0f} s; stopped by the "
        f"{'time budget' if search['stopped_by'] == 'time' else 'number of trials'}). Trial 0 is "
        "the project's former settings, trial 1 a plain model's common settings. Trial "
        f"{search['best_trial']} won with {_f(search['best_roc_auc_cv'])}.",
        f"Rule (one standard error): of the trials within one standard error "
        f"({_f(selection['standard_error'])}, from the best trial's fold AUCs) of the best, "
        f"that is at least {_f(selection['threshold_roc_auc_cv'])}, the one cheapest to score "
        "(trees x log2 leaves: node tests per booking) is chosen. Trials within: "
        f"{', '.join(str(n) for n in selection['eligible_trials'])}. {outcome}",
        _table(
            ["trial", "CV ROC AUC", "trees", "scoring cost", "seconds", "setting"],
            [_trial_row(t, search) for t in shown],
        ),
        f"The {min(len(completed), TRIALS_SHOWN)} best of {len(completed)} completed trials"
        f"{' and the chosen one' if len(shown) > TRIALS_SHOWN else ''} (trees: median of the "
        "folds' early-stopped rounds); every trial is in `metrics.json` (`search.trials`). The "
        "chosen setting's cross-validated figures below are a little optimistic (it was chosen "
        "on the same rows); the test figures are not.",
    ]


def render_model_card(result: TrainingResult, version: str, data: dict[str, Any]) -> str:
    m = result.metrics
    test = m["test"]
    sections = [
        f"# Model card: booking completion, version `{version}`",
        "Predicts the probability that a booking completes (`booking_complete = 1`) from the "
        "booking's enriched fields. LightGBM gradient boosting, isotonic calibration on "
        "out-of-fold predictions, features built by `booking_core.features` (the same code "
        "scores in the Lambda, the endpoint and the batch scorer).",
        "## Data",
        _table(
            ["", "rows"],
            [
                [key.replace("_", " "), str(value)]
                for key, value in {**data, **result.data}.items()
                if isinstance(value, int | float) and not isinstance(value, bool)
            ],
        ),
        "Rows without an outcome are not used for training; exact duplicate rows are left out "
        f"so that no booking sits on both sides of a split. The test rows ({result.test_source}) "
        "are set aside before anything is fitted and used for nothing but the test figures.",
        *_search_section(result),
        "## Metrics",
        _table(
            ["metric", f"cross-validation ({result.hyperparameters['folds']} folds)", "test"],
            [
                ["ROC AUC", _f(m["roc_auc_cv"]), _f(test["roc_auc"])],
                ["PR AUC", _f(m["pr_auc_cv"]), _f(test["pr_auc"])],
                ["Brier score", _f(m["brier_cv"]), _f(test["brier"])],
                ["log loss", _f(m["log_loss_cv"]), _f(test["log_loss"])],
            ],
        ),
        "## Baselines (same training rows, same test rows)",
        _table(
            ["model", "ROC AUC", "PR AUC", "Brier score", "log loss"],
            [
                [
                    label,
                    _f(scores["roc_auc"]),
                    _f(scores["pr_auc"]),
                    _f(scores["brier"]),
                    _f(scores["log_loss"]),
                ]
                for label, scores in _baseline_rows(m)
            ],
        ),
        "The plain LightGBM baselines see the 13 input columns as they are plus the route's two "
        "airports, text columns as LightGBM categoricals with every value kept; the logistic "
        "regression sees this model's features (one-hot categories, scaled numbers).",
        "Cross-validation figures are on raw out-of-fold probabilities; test figures on the "
        "shipped (calibrated) model.",
        f"Decision threshold {_f(test['threshold'])} (maximum F1 on calibrated out-of-fold "
        f"predictions). On the test split: accuracy {_f(test['accuracy'])} against "
        f'{_f(test["always_no_accuracy"])} for always answering "no"; precision '
        f"{_f(test['precision'])}, recall {_f(test['recall'])}, F1 {_f(test['f1'])}. "
        "Accuracy is not the measure of this model: the classes are unbalanced.",
        f"## Calibration (test split, deciles of predicted probability; Brier score "
        f"{_f(test['brier'])})",
        _table(
            ["decile", "bookings", "mean predicted", "observed rate"],
            [
                [
                    str(r["decile"]),
                    str(r["n"]),
                    _f(r["mean_predicted"], 3),
                    _f(r["observed_rate"], 3),
                ]
                for r in m["calibration_test"]
            ],
        ),
        "## Lift (test split, highest scores first)",
        _table(
            ["decile", "bookings", "completion rate", "lift", "cumulative capture"],
            [
                [
                    str(r["decile"]),
                    str(r["n"]),
                    _f(r["completion_rate"], 3),
                    _f(r["lift"], 2),
                    f"{r['cumulative_capture']:.1%}",
                ]
                for r in m["lift_test"]
            ],
        ),
        "## Feature importance (total gain)",
        _table(
            ["feature", "tier", "share of gain"],
            [[r["feature"], r["tier"], f"{r['share']:.1%}"] for r in result.importance],
        ),
    ]
    if result.tiers:
        sections += [
            "## What each tier of data is worth (cross-validated)",
            _table(
                ["features from", "features", "ROC AUC", "PR AUC", "Brier"],
                [
                    [
                        t["tiers"],
                        str(t["features"]),
                        _f(t["roc_auc_cv"]),
                        _f(t["pr_auc_cv"]),
                        _f(t["brier_cv"]),
                    ]
                    for t in result.tiers
                ],
            ),
        ]
    sections += [
        "## Hyperparameters",
        _table(
            ["parameter", "value"], [[k, str(v)] for k, v in sorted(result.hyperparameters.items())]
        ),
        f"CV best rounds per fold: {m['cv_best_rounds']}; final model: {m['final_rounds']} "
        "rounds (median of the folds, scaled for the larger training set).",
        "## Limits",
        "- Trained on the bookings supplied; completion rates shift with markets, prices and "
        "seasons: retrain monthly (the training workflow does) and watch the calibration table.\n"
        "- Categories seen fewer than "
        f"{result.hyperparameters['min_category_count']} times in training (routes, countries, "
        'airports) share one "other" value (and its completion rate): scores for new routes lean '
        "on the booking's other fields.\n"
        "- The probabilities rank bookings for targeting; they do not explain causes. Feature "
        "contributions (`bookings score --explain`) describe the model, not the customer.",
    ]
    return "\n\n".join(sections) + "\n"
