"""The chart library the dashboards embed is the pinned npm package's own build, byte for byte.

``src/bookings/analytics/assets/vendor/chart.umd.min.js`` is committed (an installed package
builds dashboards without Node); ``tools/dashboards/package.json`` pins the version and its lock
file the exact package, which ``make tools`` installs into ``tools/dashboards/node_modules`` with
``npm ci``. Nothing is downloaded here: the test compares the two copies on disk.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from support.paths import ROOT

from bookings.analytics.dashboards import chart_library

TOOLS = ROOT / "tools" / "dashboards"
VENDOR = ROOT / "src" / "bookings" / "analytics" / "assets" / "vendor"
BUILD = Path("dist") / "chart.umd.min.js"


def _locked_version() -> str:
    lock = json.loads((TOOLS / "package-lock.json").read_text(encoding="utf-8"))
    return str(lock["packages"]["node_modules/chart.js"]["version"])


def test_the_pin_is_exact_and_the_lock_agrees() -> None:
    manifest = json.loads((TOOLS / "package.json").read_text(encoding="utf-8"))
    pinned = manifest["dependencies"]["chart.js"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned), f"chart.js is pinned loosely: {pinned}"
    lock = json.loads((TOOLS / "package-lock.json").read_text(encoding="utf-8"))
    assert lock["packages"][""]["dependencies"]["chart.js"] == pinned
    assert _locked_version() == pinned
    assert lock["packages"]["node_modules/chart.js"]["integrity"].startswith("sha512-")


def test_the_committed_build_is_the_one_npm_installs() -> None:
    installed = TOOLS / "node_modules" / "chart.js"
    assert installed.is_dir(), (
        f"{installed} is missing: run `make tools` (npm ci in tools/dashboards, no download here)"
    )
    package = json.loads((installed / "package.json").read_text(encoding="utf-8"))
    assert package["version"] == _locked_version()
    committed = (VENDOR / "chart.umd.min.js").read_bytes()
    assert committed == (installed / BUILD).read_bytes()
    assert (VENDOR / "chart.js-LICENSE.md").read_bytes() == (installed / "LICENSE.md").read_bytes()


def test_the_build_names_the_locked_version_and_is_what_the_pages_embed() -> None:
    text = (VENDOR / "chart.umd.min.js").read_text(encoding="utf-8")
    banner = re.search(r"Chart\.js v(\d+\.\d+\.\d+)", text[:200])
    assert banner is not None
    assert banner.group(1) == _locked_version()
    assert chart_library() == text
    # Embedded in a <script> element, the text must not end it early.
    assert "</script" not in text.lower()
