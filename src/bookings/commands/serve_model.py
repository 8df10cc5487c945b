"""``bookings serve-model``: a local SageMaker-compatible endpoint for a trained model."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from bookings.ml.cli_support import guarded

    parser = subparsers.add_parser(
        "serve-model",
        help="serve a model locally (GET /ping, POST /invocations, "
        "POST /endpoints/NAME/invocations)",
        description="Serve MODEL (model.tar.gz or its directory) with the shipped inference "
        "code. Point the Score step at it with SAGEMAKER_RUNTIME_URL=http://HOST:PORT.",
    )
    parser.add_argument("--model", required=True, help="model.tar.gz, or the directory holding it")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--host", default="127.0.0.1")
    parser.set_defaults(func=guarded(run))


def run(args: argparse.Namespace) -> int:
    from bookings.ml.inference import load_model
    from bookings.ml.server import make_server

    model = load_model(args.model)
    try:
        server = make_server(model, args.host, args.port)
    except OSError as exc:
        raise ValueError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    host, port = str(server.server_address[0]), int(server.server_address[1])
    print(f"serving model {model.model_version} on http://{host}:{port}", file=sys.stderr)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0
