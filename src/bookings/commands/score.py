"""``bookings score``: completion probabilities for every valid booking of a file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bookings.ml.cli_support import describe_load, guarded, load


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "score",
        help="score booking files with a trained model",
        description="Writes one row per valid input row, in input order: row_number, booking_id, "
        "booking_complete_probability (rows with or without an outcome alike). Rejected rows are "
        "counted and reported, not scored.",
    )
    parser.add_argument("--model", required=True, help="model.tar.gz, or the directory holding it")
    parser.add_argument("--data", nargs="+", required=True, metavar="PATH", help="booking CSVs")
    parser.add_argument("--out", required=True, metavar="PRED.csv")
    parser.add_argument(
        "--explain",
        type=int,
        default=0,
        metavar="K",
        help="add the K largest feature contributions (log-odds) of each booking",
    )
    parser.add_argument(
        "--segments",
        metavar="SEGMENTS.csv",
        help="also write expected completions per origin x channel x lead-time band",
    )
    parser.set_defaults(func=guarded(run))


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from bookings.ml.frame import encode_frame
    from bookings.ml.inference import load_model
    from bookings.ml.scoring import explain, format_explanation, segment_table

    if args.explain < 0:
        raise ValueError(f"--explain must be 0 or more, not {args.explain}")
    model = load_model(args.model)
    loaded = load(args.data)
    frame = loaded.frame()
    matrix = encode_frame(model.spec, frame)
    probability = model.probabilities(matrix)
    out = pd.DataFrame(
        {
            "row_number": frame["row_number"] if len(frame) else [],
            "booking_id": frame["booking_id"] if len(frame) else [],
            "booking_complete_probability": probability.round(6),
        }
    )
    if len(args.data) > 1 and len(frame):
        out.insert(0, "source_file", frame["source_file"])
    if args.explain and len(frame):
        explanations = explain(model, matrix, args.explain)
        out["top_contributions"] = [format_explanation(items) for items in explanations]
    out["model_version"] = model.model_version
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    out.to_csv(args.out, index=False)
    print(describe_load(loaded), file=sys.stderr)
    print(
        f"{len(out)} bookings scored with model {model.model_version} -> {args.out}; "
        f"expected completions {probability.sum():.1f}",
        file=sys.stderr,
    )
    if args.segments:
        table = segment_table(frame, probability) if len(frame) else pd.DataFrame()
        table.to_csv(args.segments, index=False)
        print(f"{len(table)} segments -> {args.segments}", file=sys.stderr)
    return 0
