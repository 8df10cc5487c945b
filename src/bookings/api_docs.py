"""``python -m bookings.api_docs [--check]``: write (or check) docs/openapi.json, the HTTP API's
OpenAPI document generated from the core's models (``booking_core.api_contract``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from booking_core.api_contract import openapi_text

from bookings.generated_docs import write_or_check
from bookings.project_files import checkout_root

DOCUMENT = Path("docs") / "openapi.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bookings.api_docs", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the file is out of date")
    args = parser.parse_args(argv)
    root = checkout_root()
    if root is None:
        print("error: run this from a checkout of the project", file=sys.stderr)
        return 2
    return write_or_check(
        root / DOCUMENT, openapi_text(), check=args.check, regenerate="python -m bookings.api_docs"
    )


if __name__ == "__main__":
    raise SystemExit(main())
