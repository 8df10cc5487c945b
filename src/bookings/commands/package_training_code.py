"""``bookings package-training-code``: the SageMaker training job's code as sourcedir.tar.gz."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from bookings.ml.cli_support import guarded

    parser = subparsers.add_parser(
        "package-training-code",
        help="build DIR/sourcedir.tar.gz, the code the retraining workflow's training job runs",
        description="Write DIR/sourcedir.tar.gz: train_entry.py (the entry point), the core and "
        "training modules it imports, and requirements.txt. Upload it to "
        "s3://<LakeBucket>/ml/code/sourcedir.tar.gz before starting the TrainModel state machine.",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.set_defaults(func=guarded(run))


def run(args: argparse.Namespace) -> int:
    from bookings.ml.training_code import build_training_code

    try:
        code = build_training_code(args.out)
    except OSError as exc:
        raise ValueError(f"{args.out}: cannot write the archive ({exc.strerror or exc})") from None
    print(
        f"{code.archive}: {len(code.members)} files "
        f"({len(code.modules)} modules; requirements: {', '.join(code.requirements) or 'none'})"
    )
    return 0
