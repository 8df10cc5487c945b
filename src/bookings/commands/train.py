"""``bookings train``: train, evaluate and package the booking-completion model."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bookings.ml.cli_support import describe_load, guarded, load


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train the booking-completion model (LightGBM, cross-validated, calibrated)",
        description="Train on labelled booking files; writes DIR/model.tar.gz (SageMaker layout), "
        "DIR/model_card.md and DIR/metrics.json. A stratified 20%% test split is held out and "
        "reported separately.",
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
    parser.add_argument("--seed", type=int, default=42, help="seed of the splits and the model")
    parser.set_defaults(func=guarded(run))


def run(args: argparse.Namespace) -> int:
    from bookings.ml.data import training_set
    from bookings.ml.packaging import metrics_document, save_training
    from bookings.ml.training import TrainingOptions, train_model

    loaded = load(args.data)
    print(describe_load(loaded), file=sys.stderr)
    labelled = training_set(loaded.records)
    if labelled.frame.empty:
        raise ValueError(
            f"{', '.join(args.data)}: no row has an outcome (booking_complete); nothing to train on"
        )
    result = train_model(labelled.frame, TrainingOptions(compare_tiers=args.tiers, seed=args.seed))
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
        print(f"model {written.model_version} -> {written.archive}")
        print(
            f"CV ROC AUC {m['roc_auc_cv']:.4f}  PR AUC {m['pr_auc_cv']:.4f}  "
            f"Brier {m['brier_cv']:.4f}  (n_train {result.data['n_train']})"
        )
        print(
            f"test ROC AUC {m['test']['roc_auc']:.4f}  PR AUC {m['test']['pr_auc']:.4f}  "
            f"(n_test {result.data['n_test']}; logistic regression "
            f"{m['baselines']['logistic_regression_test']['roc_auc']:.4f})"
        )
        for tier in result.tiers:
            print(f"  {tier['tiers']:<20} CV ROC AUC {tier['roc_auc_cv']:.4f}")
        print(f"model card: {written.card}")
    return 0
