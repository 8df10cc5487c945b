"""The training code of a SageMaker training job: ``sourcedir.tar.gz``.

::

    train_entry.py        the entry point (bookings/ml/train_entry.py)
    requirements.txt      what the framework container lacks, pinned to this environment
    booking_core/...      the core modules the entry point imports, directly or not
    bookings/ml/...       the training modules it imports, directly or not

The modules are found by following the ``import`` statements of the entry point (those inside
functions too, and those of ``code/inference.py``, which the model archive carries) through the
project's two packages; nothing else goes in: no tests, no caches, no other tooling. The
requirements are the third-party distributions those modules import, minus the ones the
SageMaker scikit-learn framework container already has. The archive is reproducible: the same
code gives the same bytes.
"""

from __future__ import annotations

import ast
import gzip
import importlib.util
import io
import sys
import tarfile
from dataclasses import dataclass
from importlib import metadata as package_metadata
from pathlib import Path

ENTRY_POINT = "train_entry.py"
ARCHIVE_NAME = "sourcedir.tar.gz"
REQUIREMENTS_NAME = "requirements.txt"
PROJECT_PACKAGES = ("booking_core", "bookings")
ENTRY_MODULE = "bookings.ml.train_entry"
# Distributions the scikit-learn framework container ships (its Python environment).
CONTAINER_DISTRIBUTIONS = frozenset({"numpy", "pandas", "scikit-learn", "scipy", "pyarrow"})


@dataclass(frozen=True)
class TrainingCode:
    archive: Path
    modules: tuple[str, ...]
    requirements: tuple[str, ...]
    members: tuple[str, ...]


def _module_file(name: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported_names(source: str, module: str, is_package: bool) -> set[str]:
    """Every module name an ``import`` of ``source`` may load (type-checking blocks aside)."""
    names: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for orelse in child.orelse:
                    visit(orelse)
                continue
            if isinstance(child, ast.Import):
                names.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parent = package.split(".")
                    parent = parent[: len(parent) - (child.level - 1)]
                    base = ".".join([*parent, base] if base else parent)
                names.add(base)
                # ``from package import module`` loads a submodule.
                names.update(f"{base}.{alias.name}" for alias in child.names)
            visit(child)

    visit(ast.parse(source))
    return names


def _with_parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def module_closure(start: str) -> tuple[dict[str, Path], set[str]]:
    """The project modules ``start`` needs (name -> file) and the top-level names of the
    third-party modules they import."""
    found: dict[str, Path] = {}
    third_party: set[str] = set()
    pending = [start]
    while pending:
        name = pending.pop()
        if name in found:
            continue
        path = _module_file(name)
        if path is None:
            continue
        found[name] = path
        is_package = path.name == "__init__.py"
        for imported in _imported_names(path.read_text("utf-8"), name, is_package):
            top = imported.split(".")[0]
            if top in PROJECT_PACKAGES:
                pending.extend(_with_parents(imported))
            elif top and top not in sys.stdlib_module_names and top != "__future__":
                third_party.add(top)
    return found, third_party


def requirements_for(top_level_modules: set[str]) -> list[str]:
    """Pinned requirements (installed versions) of the distributions providing the modules,
    without those the framework container has."""
    providers = package_metadata.packages_distributions()
    pinned: set[str] = set()
    for module in top_level_modules:
        for distribution in providers.get(module, []):
            name = package_metadata.metadata(distribution)["Name"]
            if name.lower() in CONTAINER_DISTRIBUTIONS or name.lower() == "airline-bookings":
                continue
            pinned.add(f"{name}=={package_metadata.version(distribution)}")
    return sorted(pinned, key=str.lower)


def _add_file(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    tar.addfile(info, io.BytesIO(data))


def build_training_code(out_dir: str | Path) -> TrainingCode:
    """Write ``out_dir/sourcedir.tar.gz``."""
    modules, third_party = module_closure(ENTRY_MODULE)
    entry = modules.pop(ENTRY_MODULE)
    requirements = requirements_for(third_party)
    members: dict[str, bytes] = {
        ENTRY_POINT: entry.read_bytes(),
        REQUIREMENTS_NAME: ("\n".join(requirements) + "\n").encode("utf-8"),
    }
    for name, path in modules.items():
        parts = name.split(".")
        member = [*parts, "__init__.py"] if path.name == "__init__.py" else [*parts[:-1], path.name]
        members["/".join(member)] = path.read_bytes()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    archive = out / ARCHIVE_NAME
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for member_name in sorted(members):
            _add_file(tar, member_name, members[member_name])
    with archive.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(buffer.getvalue())
    return TrainingCode(
        archive=archive,
        modules=tuple(sorted(modules)),
        requirements=tuple(requirements),
        members=tuple(sorted(members)),
    )
