"""Where the repository's files are, for tests in any tier."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
EVENTS = ROOT / "events"
DATA = ROOT / "data"
ARTIFACTS = ROOT / "tests" / "artifacts"
