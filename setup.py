"""The build step pyproject.toml cannot declare: an installed ``bookings`` carries the project's
files (the SAM template, the state machines, the handlers, the SQL) under ``bookings/project/``,
where ``bookings.project_files`` finds them when there is no checkout around the package."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from typing import Any

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def _project_files() -> Any:
    # Loaded by path: importing the bookings package would need its dependencies at build time.
    path = ROOT / "src" / "bookings" / "project_files.py"
    spec = importlib.util.spec_from_file_location("_bookings_project_files", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"{path}: cannot be loaded")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuildWithProjectFiles(build_py):  # type: ignore[misc]
    """build_py, then a copy of the project's files into the built ``bookings`` package."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads the checkout's own files
            return
        project_files = _project_files()
        target = Path(self.build_lib) / "bookings" / project_files.SHIPPED_DIR
        shutil.rmtree(target, ignore_errors=True)
        ignored = shutil.ignore_patterns("__pycache__", "*.pyc")
        for name in project_files.SHIPPED:
            source = ROOT / name
            if source.is_dir():
                shutil.copytree(source, target / name, ignore=ignored)
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target / name)


setup(cmdclass={"build_py": BuildWithProjectFiles})
