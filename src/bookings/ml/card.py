"""The model card: what the model was trained on, how good it is, and how far to trust it."""

from __future__ import annotations

from typing import Any

from bookings.ml.training import TrainingResult


def _f(value: float, digits: int = 4) -> str:
    return f"{value:.{digits}f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def render_model_card(result: TrainingResult, version: str, data: dict[str, Any]) -> str:
    m = result.metrics
    test = m["test"]
    lr = m["baselines"]["logistic_regression_test"]
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
        "so that no booking sits on both sides of a split. A stratified "
        f"{result.hyperparameters['test_fraction']:.0%} test split is held out before anything "
        "is fitted and is used for nothing but the test column below.",
        "## Metrics",
        _table(
            [
                "metric",
                f"cross-validation ({result.hyperparameters['folds']} folds)",
                "held-out test",
                "logistic regression (test)",
            ],
            [
                ["ROC AUC", _f(m["roc_auc_cv"]), _f(test["roc_auc"]), _f(lr["roc_auc"])],
                ["PR AUC", _f(m["pr_auc_cv"]), _f(test["pr_auc"]), _f(lr["pr_auc"])],
                ["Brier score", _f(m["brier_cv"]), _f(test["brier"]), _f(lr["brier"])],
                ["log loss", _f(m["log_loss_cv"]), _f(test["log_loss"]), _f(lr["log_loss"])],
            ],
        ),
        "Cross-validation figures are on raw out-of-fold probabilities; test figures on the "
        "shipped (calibrated) model.",
        f"Decision threshold {_f(test['threshold'])} (maximum F1 on calibrated out-of-fold "
        f"predictions). On the test split: accuracy {_f(test['accuracy'])} against "
        f'{_f(test["always_no_accuracy"])} for always answering "no"; precision '
        f"{_f(test['precision'])}, recall {_f(test['recall'])}, F1 {_f(test['f1'])}. "
        "Accuracy is not the measure of this model: the classes are unbalanced.",
        "## Calibration (test split, deciles of predicted probability)",
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
        'airports) share one "other" value: scores for new routes lean on the route\'s region, '
        "distance and the booking's other fields.\n"
        "- The probabilities rank bookings for targeting; they do not explain causes. Feature "
        "contributions (`bookings score --explain`) describe the model, not the customer.",
    ]
    return "\n\n".join(sections) + "\n"
