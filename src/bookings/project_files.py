"""Where the project's own files are: the SAM template, the state machines, the handlers, the SQL.

The offline stack reads ``template.yaml``, ``statemachines/`` and ``functions/``; the analytics
read ``sql/``. Run from a checkout (the tests, an editable install), they are the repository's
files, so an edit shows at once. An installed package carries copies of them under
``bookings/project/``: the build puts them there (``setup.py``), so ``bookings run`` and
``bookings sql`` work wherever the package is installed.
"""

from __future__ import annotations

import os
from pathlib import Path

# The repository's files and folders an installed package needs, copied into it at build time.
SHIPPED = ("template.yaml", "statemachines", "functions", "sql", "events")
# Where the installed package keeps its copies, relative to the ``bookings`` package.
SHIPPED_DIR = "project"
# Lets a test or an analyst point the analytics at another ``sql/`` directory.
SQL_DIR_VARIABLE = "BOOKINGS_SQL_DIR"

_PACKAGE_DIR = Path(__file__).resolve().parent


def checkout_root() -> Path | None:
    """The repository's root when this package runs from a checkout (``src/bookings``)."""
    candidate = _PACKAGE_DIR.parents[1]
    if _PACKAGE_DIR.parent.name == "src" and (candidate / "template.yaml").is_file():
        return candidate
    return None


def project_root() -> Path:
    """The directory holding the project's files: the checkout's root, else the package's copy."""
    return checkout_root() or _PACKAGE_DIR / SHIPPED_DIR


def template_path() -> Path:
    """The SAM template the offline stack runs."""
    return project_root() / "template.yaml"


def sql_dir() -> Path:
    """The ``sql/`` directory (views and named queries); ``BOOKINGS_SQL_DIR`` overrides it."""
    override = os.environ.get(SQL_DIR_VARIABLE)
    if override:
        return Path(override)
    return project_root() / "sql"


def repository_file(relative: str) -> Path:
    """A file of the repository that a maintenance command rewrites (``template.yaml``,
    ``docs/kpis.md``); such commands need a checkout, not an installed package."""
    root = checkout_root()
    if root is None:
        raise FileNotFoundError(
            f"{relative}: this command rewrites the repository's files; run it from a checkout"
        )
    return root / relative
