"""``bookings train``: train, evaluate and package the booking-completion model."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bookings.ml.cli_support import describe_load, guarded, load

# Literal copies of bookings.ml.search's defaults: the CLI starts without importing optuna.
DEFAULT_TRIALS = 100
DEFAULT_SEARCH_FOLDS = 3


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train the booking-completion model (LightGBM, cross-validated, calibrated)",
        description="Train on labelled booking files; writes DIR/model.tar.gz (SageMaker layout), "
        "DIR/model_card.md and DIR/metrics.json. A stratified 20% test split is held out (or "
        "--test-data is the test) and reported separately. The model's settings are chosen by a "
        "seeded search scored by cross-validation on the training part only, bounded by "
        "--time-budget and --trials.",
    )
    parser.add_argument("--data", nargs="+", required=True, metavar="PATH", help="booking CSVs")
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.add_argument("--json", action="store_true", help="print the metrics as JSON")
    parser.add_argument(
        "--tiers",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="compare models on the Basic, Basic+Pro and Basic+Pro+Premium features (default on)",
    )
    parser.add_argument(
        "--seed", type=int, default=42, help="seed of the splits, the search and the model"
    )
    parser.add_argument(
        "--time-budget",
        type=float,
        metavar="SECONDS",
        help="seconds for the search of the settings (default: 3 per 1,000 training rows, "
        "at least 10; about 2 minutes for a 50,000-row file)",
    )
    parser.add_argument(
        "--trials",
        type=int,
        default=DEFAULT_TRIALS,
        metavar="N",
        help=f"at most N settings tried (default {DEFAULT_TRIALS})",
    )
    parser.add_argument(
        "--search-folds",
        type=int,
        default=DEFAULT_SEARCH_FOLDS,
        metavar="K",
        help=f"cross-validation folds of each trial of the search (default {DEFAULT_SEARCH_FOLDS})",
    )
    parser.add_argument(
        "--test-data",
        nargs="+",
        metavar="PATH",
        help="labelled booking CSVs to test on instead of holding out 20%% of --data",
    )
    parser.set_defaults(func=guarded(run))


def run(args: argparse.Namespace) -> int:
    from bookings.ml.data import training_set
    from bookings.ml.packaging import metrics_document, save_training
    from bookings.ml.search import SearchOptions
    from bookings.ml.training import TrainingOptions, train_model, train_on_split

    options = TrainingOptions(
        compare_tiers=args.tiers,
        seed=args.seed,
        search=SearchOptions(
            time_budget=args.time_budget, trials=args.trials, folds=args.search_folds
        ),
    )
    loaded = load(args.data)
    print(describe_load(loaded), file=sys.stderr)
    labelled = training_set(loaded.records)
    if labelled.frame.empty:
        raise ValueError(
            f"{', '.join(args.data)}: no row has an outcome (booking_complete); nothing to train on"
        )
    if args.test_data:
        test_loaded = load(args.test_data)
        print(f"test data: {describe_load(test_loaded)}", file=sys.stderr)
        test = training_set(test_loaded.records)
        if test.frame.empty:
            raise ValueError(f"{', '.join(args.test_data)}: no row has an outcome to test on")
        result = train_on_split(
            labelled.frame,
            test.frame,
            options,
            test_source=f"the labelled bookings of {', '.join(args.test_data)}",
        )
    else:
        result = train_model(labelled.frame, options)
    data = {
        "files": len(loaded.files),
        "rows_read": loaded.rows,
        "rows_valid": loaded.valid,
        "rows_rejected": loaded.rejected,
        "excluded_without_outcome": labelled.excluded_unlabelled,
        "excluded_duplicates": labelled.excluded_duplicates,
    }
    written = save_training(result, Path(args.out), data)
    if args.json:
        print(json.dumps(metrics_document(result, written.model_version, data), indent=1))
    else:
        m = result.metrics
        search = m["search"]
        print(f"model {written.model_version} -> {written.archive}")
        print(
            f"search: {search['trials_completed']} trials in {search['seconds']:.0f} s, "
            f"best CV ROC AUC {search['best_roc_auc_cv']:.4f} (trial {search['best_trial']}), "
            f"chosen trial {search['chosen_trial']} ({search['chosen_roc_auc_cv']:.4f}, the "
            "cheapest to score within one standard error of the best)"
        )
        print(
            f"CV ROC AUC {m['roc_auc_cv']:.4f}  PR AUC {m['pr_auc_cv']:.4f}  "
            f"Brier {m['brier_cv']:.4f}  (n_train {result.data['n_train']})"
        )
        print(
            f"test ROC AUC {m['test']['roc_auc']:.4f}  PR AUC {m['test']['pr_auc']:.4f}  "
            f"(n_test {result.data['n_test']})"
        )
        baselines = m["baselines"]
        print(
            "baselines test ROC AUC: plain LightGBM "
            f"{baselines['plain_lightgbm_defaults_test']['roc_auc']:.4f} (defaults), "
            f"{baselines['plain_lightgbm_common_test']['roc_auc']:.4f} (common settings); "
            f"logistic regression {baselines['logistic_regression_test']['roc_auc']:.4f}"
        )
        for tier in result.tiers:
            print(f"  {tier['tiers']:<20} CV ROC AUC {tier['roc_auc_cv']:.4f}")
        print(f"model card: {written.card}")
    return 0
