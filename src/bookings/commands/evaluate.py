"""``bookings evaluate``: how good a trained model is on labelled bookings."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from bookings.ml.cli_support import describe_load, guarded, load


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="evaluate a trained model on labelled bookings",
        description="ROC AUC, PR AUC, Brier score, log loss, a calibration table and lift by "
        "decile, against always answering 'no' and a logistic regression cross-validated on the "
        "same data.",
    )
    parser.add_argument("--model", required=True, help="model.tar.gz, or the directory holding it")
    parser.add_argument("--data", nargs="+", required=True, metavar="LABELED", help="booking CSVs")
    parser.add_argument("--json", action="store_true", help="print the evaluation as JSON")
    parser.set_defaults(func=guarded(run))


def _print_report(report: dict[str, Any]) -> None:
    m = report["model"]
    lr = report["baselines"]["logistic_regression_cv"]
    print(
        f"model {report['model_version']} on {report['n']} labelled bookings "
        f"(completion rate {report['positive_rate']:.3f})"
    )
    print(f"{'':<22}{'model':>10}{'logistic':>10}")
    for key, label in (
        ("roc_auc", "ROC AUC"),
        ("pr_auc", "PR AUC"),
        ("brier", "Brier score"),
        ("log_loss", "log loss"),
    ):
        print(f"{label:<22}{m[key]:>10.4f}{lr[key]:>10.4f}")
    at = report["at_threshold"]
    print(
        f"accuracy at threshold {at['threshold']:.3f}: {at['accuracy']:.4f} "
        f"(always 'no': {at['always_no_accuracy']:.4f}); precision {at['precision']:.3f}, "
        f"recall {at['recall']:.3f}, F1 {at['f1']:.3f}"
    )
    print("\ncalibration (deciles of predicted probability)")
    print(f"{'decile':>6}{'n':>8}{'predicted':>11}{'observed':>10}")
    for row in report["calibration"]:
        print(
            f"{row['decile']:>6}{row['n']:>8}{row['mean_predicted']:>11.3f}"
            f"{row['observed_rate']:>10.3f}"
        )
    print("\nlift (highest scores first)")
    print(f"{'decile':>6}{'n':>8}{'rate':>8}{'lift':>7}{'captured':>10}")
    for row in report["lift"]:
        print(
            f"{row['decile']:>6}{row['n']:>8}{row['completion_rate']:>8.3f}"
            f"{row['lift']:>7.2f}{row['cumulative_capture']:>10.1%}"
        )


def run(args: argparse.Namespace) -> int:
    from bookings.ml.data import training_set
    from bookings.ml.evaluation import evaluate_model
    from bookings.ml.inference import load_model

    model = load_model(args.model)
    loaded = load(args.data)
    print(describe_load(loaded), file=sys.stderr)
    labelled = training_set(loaded.records)
    report = evaluate_model(model, labelled.frame)
    report["data"] = {
        "rows_read": loaded.rows,
        "rows_rejected": loaded.rejected,
        "excluded_without_outcome": labelled.excluded_unlabelled,
        "excluded_duplicates": labelled.excluded_duplicates,
    }
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        _print_report(report)
    return 0
