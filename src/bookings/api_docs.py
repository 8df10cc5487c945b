"""``python -m bookings.api_docs [--check]``: write (or check) docs/openapi.json, the HTTP API's
OpenAPI document generated from the core's models (``booking_core.api_contract``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from booking_core.api_contract import openapi_text

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
    path = root / DOCUMENT
    text = openapi_text()
    if args.check:
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            print(f"{path} is out of date: run python -m bookings.api_docs", file=sys.stderr)
            return 1
        return 0
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
