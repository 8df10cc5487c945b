"""No import circle among the project's modules (imports inside functions count too): a module
that needs another's function at run time while that one needs its constants is one module
split wrongly, or a function in the wrong place."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from support.paths import ROOT

SOURCE_ROOTS = (ROOT / "src", ROOT / "layers" / "core")


def module_files(source_root: Path) -> dict[str, Path]:
    modules = {}
    for path in source_root.rglob("*.py"):
        parts = list(path.relative_to(source_root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def imported_names(name: str, path: Path) -> set[str]:
    """Every module name an import statement of ``path`` names, wherever the statement is."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    return {
        name: {other for other in imported_names(name, path) if other in modules and other != name}
        for name, path in modules.items()
    }


# A depth-first search with its bookkeeping: one function on purpose.
def circles(graph: dict[str, set[str]]) -> list[list[str]]:  # noqa: C901
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        order[module] = low[module] = len(order)
        stack.append(module)
        for other in sorted(graph[module]):
            if other not in order:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], order[other])
        if low[module] == order[module]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph):
        if module not in order:
            visit(module)
    return found


def test_a_circle_through_an_import_inside_a_function_is_found(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "lake.py").write_text("from pkg.engine import connect\n")
    (package / "engine.py").write_text("def connect():\n    from . import lake\n")
    (package / "report.py").write_text("import pkg.engine\n")
    assert circles(import_graph(module_files(tmp_path))) == [["pkg.engine", "pkg.lake"]]


@pytest.mark.parametrize("source_root", SOURCE_ROOTS, ids=lambda p: p.name)
def test_no_module_imports_one_that_imports_it_back(source_root: Path) -> None:
    modules = module_files(source_root)
    assert len(modules) > 10
    assert circles(import_graph(modules)) == []
