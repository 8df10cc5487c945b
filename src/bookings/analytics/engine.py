"""The offline SQL engine: the Trino SQL of ``sql/`` run on DuckDB over the lake, via sqlglot.

``connect(lake)`` opens DuckDB in memory with the views ``bookings``, ``rejected_bookings`` and
``ingest_audit`` over the lake's Parquet files and every view of ``sql/views`` transpiled from
Trino; ``build_catalog`` writes the same to ``DIR/catalog.duckdb`` and ``open_catalog`` opens
that file again, rebuilding it only when it no longer matches ``sql/`` or the lake.
``fetch_rows`` runs an analyst's Trino statement (``run_sql`` the report's, as Arrow tables).
Errors become ``QueryError``: one line, no traceback.

What an analyst's Athena statement finds offline:

- the same names: the tables, every view, and each under the Glue database's name too
  (``airline_bookings_dev.bookings``, as in Athena; ``awsdatacatalog.`` in front is accepted);
- the same meaning: ``bookings.analytics.trino`` puts right or refuses the functions sqlglot
  would translate to something else, and the session divides integers as Trino does;
- the order a view's header gives (``-- order:``), and columns named after the expression that
  computes them when the statement gives no alias (``count(*)``, not ``count_star()``).

The catalog's views read the lake through paths relative to the catalog's folder (DuckDB's
``file_search_path`` is set to it on opening), so the folder can be moved, copied or shared.

This module imports only DuckDB and sqlglot at start: ``bookings sql`` answers a query on an
up-to-date catalog without loading pyarrow, pandas or the lake writer.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from bookings import fault_points
from bookings.analytics import trino
from bookings.durable_files import publish, temporary_path

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlglot import exp

    from bookings.analytics.sql_files import SqlEntry

# The lake's layout as bookings.lake defines it, repeated here so that opening the catalog loads
# no Parquet code (a unit test holds the two equal).
CATALOG_FILE = "catalog.duckdb"
LAKE_DIR = "lake"
PARTITION_COLUMN = "ingest_date"
# What the catalog records about itself; a catalog of another format is rebuilt.
CATALOG_FORMAT = "1"
CATALOG_INFO_TABLE = "bookings_catalog_info"
# Athena's name for the account's Glue catalog, accepted in front of a database name.
ATHENA_CATALOG = "awsdatacatalog"


class QueryError(Exception):
    """A statement that cannot be parsed, planned or run; the message is one line."""


_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


def _one_line(text: object) -> str:
    return " ".join(_ANSI_ESCAPE.sub("", str(text)).split())


# --- Trino to DuckDB --------------------------------------------------------------------------


def _first_select(tree: exp.Expr) -> exp.Select | None:
    from sqlglot import exp

    while isinstance(tree, exp.SetOperation | exp.Subquery):
        tree = tree.this
    return tree if isinstance(tree, exp.Select) else None


def _name_computed_columns(tree: exp.Expr) -> None:
    """Columns computed without an alias are named after their Trino expression."""
    from sqlglot import exp

    select = _first_select(tree)
    if select is None:
        return
    named = []
    for projection in select.expressions:
        if isinstance(projection, exp.Alias | exp.Column | exp.Star) or projection.is_star:
            named.append(projection)
            continue
        name = projection.sql(dialect="trino", normalize_functions="lower")
        named.append(exp.alias_(projection, name, quoted=True))
    select.set("expressions", named)


def _unqualify_glue_tables(tree: exp.Expr, databases: Callable[[], Iterable[str]]) -> None:
    """``awsdatacatalog.airline_bookings_dev.bookings`` and ``airline_bookings_dev.bookings``
    are the offline ``bookings``: the Glue database is the whole offline catalog."""
    from sqlglot import exp

    qualified = [table for table in tree.find_all(exp.Table) if table.db]
    if not qualified:
        return
    names = {name.lower() for name in databases()}
    for table in qualified:
        catalog = table.catalog.lower()
        if table.db.lower() in names and catalog in {"", ATHENA_CATALOG}:
            table.set("db", None)
            table.set("catalog", None)


def _no_databases() -> list[str]:
    return []


def transpile(
    trino_sql: str,
    *,
    name_columns: bool = False,
    databases: Callable[[], Iterable[str]] = _no_databases,
) -> str:
    """One Trino statement as DuckDB SQL with Trino's meaning (see ``bookings.analytics.trino``).

    ``name_columns`` names computed columns after their Trino expression (an analyst's query);
    ``databases`` gives the Glue database names that qualify a table in Athena (asked for only
    when the statement qualifies one)."""
    import sqlglot
    from sqlglot.errors import ErrorLevel, ParseError, TokenError

    try:
        statements = [s for s in sqlglot.parse(trino_sql, read="trino") if s is not None]
    except (ParseError, TokenError) as exc:
        raise QueryError(f"syntax error: {_one_line(exc)}") from None
    if len(statements) != 1:
        raise QueryError(f"expected one SQL statement, got {len(statements)}")
    tree = statements[0]
    if name_columns:
        _name_computed_columns(tree)
    _unqualify_glue_tables(tree, databases)
    try:
        tree = trino.rewrite(tree)
        return tree.sql(dialect="duckdb", unsupported_level=ErrorLevel.RAISE)
    except trino.Refused as exc:
        raise QueryError(str(exc)) from None
    except sqlglot.errors.SqlglotError as exc:
        raise QueryError(f"cannot translate to DuckDB: {_one_line(exc)}") from None


# --- the lake's tables and the views -------------------------------------------------------------


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _duckdb_type(arrow_type: pa.DataType) -> str:
    import pyarrow as pa

    if pa.types.is_list(arrow_type):
        return _duckdb_type(arrow_type.value_type) + "[]"
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMPTZ" if arrow_type.tz else "TIMESTAMP"
    names = {
        pa.int32(): "INTEGER",
        pa.int64(): "BIGINT",
        pa.float64(): "DOUBLE",
        pa.string(): "VARCHAR",
        pa.bool_(): "BOOLEAN",
        pa.date32(): "DATE",
    }
    return names[arrow_type]


def _table_pattern(name: str) -> str:
    """The table's Parquet files, relative to the lake's folder (DIR)."""
    return f"{LAKE_DIR}/{name}/{PARTITION_COLUMN}=*/*.parquet"


def _has_files(root: Path, pattern: str) -> bool:
    return any(root.glob(pattern))


def _table_view_sql(name: str, root: Path, schema: pa.Schema) -> str:
    pattern = _table_pattern(name)
    if _has_files(root, pattern):
        # Names and paths are the project's own, quoted; no user text reaches this statement.
        return (
            f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet({_quote(pattern)}, "  # noqa: S608
            f"hive_partitioning = true, union_by_name = true, "
            f"hive_types = {{'{PARTITION_COLUMN}': DATE}})"
        )
    # No file yet: an empty view with the lake's columns, so every KPI still plans and runs.
    columns = [f"CAST(NULL AS {_duckdb_type(f.type)}) AS {f.name}" for f in schema]
    columns.append(f"CAST(NULL AS DATE) AS {PARTITION_COLUMN}")
    return f"CREATE OR REPLACE VIEW {name} AS SELECT {', '.join(columns)} WHERE false"


def _ordered_body(view: SqlEntry) -> str:
    """The view's statement, sorted as its header's ``order`` says (the order analysts see)."""
    order = view.meta.get("order")
    if not order:
        return view.body
    return f"SELECT * FROM ({view.body}) AS {view.name} ORDER BY {order}"  # noqa: S608


@cache
def glue_database_names() -> list[str]:
    """The Glue database's name in each environment the template allows
    (``airline_bookings_${EnvironmentName}``)."""
    import yaml

    from bookings.project_files import template_path

    class Loader(yaml.CSafeLoader):
        """libyaml's loader, CloudFormation's tags kept as {tag: value} (10 times faster than
        the pure-Python loader the offline stack uses, for the two values needed here)."""

    def tagged(loader: yaml.CSafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            return {suffix: loader.construct_scalar(node)}
        if isinstance(node, yaml.SequenceNode):
            return {suffix: loader.construct_sequence(node, deep=True)}
        return {suffix: loader.construct_mapping(node, deep=True)}  # type: ignore[arg-type]

    Loader.add_multi_constructor("!", tagged)
    template = yaml.load(template_path().read_text(encoding="utf-8"), Loader)  # noqa: S506
    name = template["Resources"]["GlueDatabase"]["Properties"]["DatabaseInput"]["Name"]
    pattern = name["Sub"] if isinstance(name, dict) else str(name)
    names = {pattern}
    for parameter, spec in template.get("Parameters", {}).items():
        if f"${{{parameter}}}" in pattern:
            values = spec.get("AllowedValues") or [spec.get("Default", "")]
            names = {n.replace(f"${{{parameter}}}", str(v)) for n in names for v in values}
    return sorted(names)


def _session(con: duckdb.DuckDBPyConnection, root: Path) -> None:
    for statement in trino.SESSION_SETTINGS:
        con.execute(statement)
    # The views read the lake relative to DIR: the catalog's folder, wherever it is now.
    con.execute(f"SET file_search_path = {_quote(str(root.resolve()))}")


def _populate(con: duckdb.DuckDBPyConnection, root: Path, sql_directory: Path | None) -> None:
    from bookings.analytics import sql_files
    from bookings.lake import LAKE_TABLES

    for statement in trino.MACROS:
        con.execute(statement)
    for name, (schema, _) in LAKE_TABLES.items():
        con.execute(_table_view_sql(name, root, schema))
    for view in sql_files.views(sql_directory):
        try:
            con.execute(f"CREATE OR REPLACE VIEW {view.name} AS {transpile(_ordered_body(view))}")
        except (QueryError, duckdb.Error) as exc:
            raise QueryError(f"{view.path}: {_one_line(exc)}") from None


def resolve_root(lake: str | Path) -> Path:
    """``DIR`` given either ``DIR`` or ``DIR/lake``; FileNotFoundError when neither holds a lake."""
    candidate = Path(lake)
    if (candidate / LAKE_DIR).is_dir() or (candidate / CATALOG_FILE).is_file():
        return candidate
    if candidate.name == LAKE_DIR and candidate.is_dir():
        return candidate.parent
    raise FileNotFoundError(f"{candidate}: no lake here (expected {candidate / LAKE_DIR})")


def connect(
    lake: str | Path,
    *,
    database: str | Path = ":memory:",
    sql_directory: Path | None = None,
) -> duckdb.DuckDBPyConnection:
    """DuckDB with the lake's tables and every view of ``sql/views`` (in memory by default)."""
    from bookings.lake import resolve_lake

    root = resolve_lake(lake)
    con = duckdb.connect(str(database))
    try:
        _session(con, root)
        _populate(con, root, sql_directory)
    except BaseException:
        con.close()
        raise
    return con


# --- the catalog file -------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogState:
    """What a catalog's views depend on: the SQL that defines them and which tables have files."""

    sql: str
    tables: dict[str, bool]

    def as_rows(self) -> list[tuple[str, str]]:
        return [
            ("format", CATALOG_FORMAT),
            ("sql", self.sql),
            ("tables", json.dumps(self.tables, sort_keys=True)),
        ]


def _sql_fingerprint(sql_directory: Path | None) -> str:
    from bookings.project_files import sql_dir

    directory = sql_directory or sql_dir()
    digest = hashlib.sha256(CATALOG_FORMAT.encode())
    for path in sorted((directory / "views").glob("*.sql")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for statement in (*trino.SESSION_SETTINGS, *trino.MACROS):
        digest.update(statement.encode())
    digest.update(Path(trino.__file__).read_bytes())
    return digest.hexdigest()


def _table_patterns(root: Path) -> dict[str, str]:
    """``lake/<table>/ingest_date=*/*.parquet`` for each table folder of the lake."""
    lake = root / LAKE_DIR
    if not lake.is_dir():
        return {}
    return {
        child.name: _table_pattern(child.name)
        for child in sorted(lake.iterdir())
        if child.is_dir() and not child.name.startswith(".")
    }


def current_state(root: Path, sql_directory: Path | None = None) -> CatalogState:
    tables = {name: _has_files(root, pattern) for name, pattern in _table_patterns(root).items()}
    return CatalogState(sql=_sql_fingerprint(sql_directory), tables=tables)


def _recorded_state(con: duckdb.DuckDBPyConnection) -> CatalogState | None:
    try:
        rows = dict(con.execute(f"SELECT key, value FROM {CATALOG_INFO_TABLE}").fetchall())  # noqa: S608
    except duckdb.Error:
        return None
    if rows.get("format") != CATALOG_FORMAT:
        return None
    return CatalogState(sql=rows.get("sql", ""), tables=json.loads(rows.get("tables", "{}")))


def build_catalog(out_dir: str | Path, *, sql_directory: Path | None = None) -> Path:
    """Writes ``out_dir/catalog.duckdb`` with the lake's tables and every KPI view; returns it.

    Built under a temporary name, flushed, then renamed over the old catalog: a reader opens
    either the old catalog or the new one, never half of one."""
    root = Path(out_dir)
    target = root / CATALOG_FILE
    scratch = temporary_path(target)
    state = current_state(root, sql_directory)
    try:
        con = connect(root, database=scratch, sql_directory=sql_directory)
        try:
            con.execute(f"CREATE TABLE {CATALOG_INFO_TABLE} (key VARCHAR, value VARCHAR)")
            rows = [*state.as_rows(), ("glue_databases", json.dumps(glue_database_names()))]
            con.executemany(f"INSERT INTO {CATALOG_INFO_TABLE} VALUES (?, ?)", rows)  # noqa: S608
            con.execute("CHECKPOINT")
        finally:
            con.close()
        fault_points.reached("catalog")
        descriptor = os.open(scratch, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        publish(scratch, target)
    finally:
        scratch.unlink(missing_ok=True)
        Path(f"{scratch}.wal").unlink(missing_ok=True)
    return target


def _open_current(path: Path, root: Path, sql_directory: Path | None) -> duckdb.DuckDBPyConnection:
    """The catalog at ``path`` opened read-only, or ``LookupError`` when it must be rebuilt."""
    if not path.is_file():
        raise LookupError(f"{path}: no catalog")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise LookupError(f"{path}: {_one_line(exc)}") from None
    if _recorded_state(con) != current_state(root, sql_directory):
        con.close()
        raise LookupError(f"{path}: built from other SQL or another lake")
    _session(con, root)
    return con


def open_catalog(
    lake: str | Path, *, sql_directory: Path | None = None
) -> duckdb.DuckDBPyConnection:
    """The lake's catalog, reused while it matches ``sql/`` and the lake, else rebuilt (or, when
    the folder cannot be written, the same views built in memory)."""
    root = resolve_root(lake)
    path = root / CATALOG_FILE
    try:
        return _open_current(path, root, sql_directory)
    except LookupError:
        pass
    try:
        build_catalog(root, sql_directory=sql_directory)
        return _open_current(path, root, sql_directory)
    except (OSError, LookupError, duckdb.IOException):
        return connect(root, sql_directory=sql_directory)


# --- running statements -----------------------------------------------------------------------


@dataclass
class Rows:
    """A query's result as plain Python values: column names, DuckDB type names, rows."""

    columns: list[str]
    types: list[str]
    rows: list[tuple[Any, ...]]

    @property
    def num_rows(self) -> int:
        return len(self.rows)

    @classmethod
    def from_arrow(cls, table: pa.Table) -> Rows:
        types = [_duckdb_type_name(field.type) for field in table.schema]
        columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
        return cls(list(table.column_names), types, list(zip(*columns, strict=True)))


def _duckdb_type_name(arrow_type: Any) -> str:
    import pyarrow as pa

    if pa.types.is_floating(arrow_type):
        return "DOUBLE"
    if pa.types.is_integer(arrow_type):
        return "BIGINT"
    if pa.types.is_decimal(arrow_type):
        return "DECIMAL"
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMP WITH TIME ZONE" if arrow_type.tz else "TIMESTAMP"
    if pa.types.is_date(arrow_type):
        return "DATE"
    if pa.types.is_boolean(arrow_type):
        return "BOOLEAN"
    return "VARCHAR"


def _glue_databases(con: duckdb.DuckDBPyConnection) -> Callable[[], list[str]]:
    """The Glue database names the connection's catalog recorded (the template's otherwise)."""

    def names() -> list[str]:
        try:
            rows = con.execute(
                f"SELECT value FROM {CATALOG_INFO_TABLE} WHERE key = 'glue_databases'"  # noqa: S608
            ).fetchall()
        except duckdb.Error:
            rows = []
        return list(json.loads(rows[0][0])) if rows else glue_database_names()

    return names


def fetch_rows(con: duckdb.DuckDBPyConnection, trino_sql: str) -> Rows:
    """Runs an analyst's Trino statement; its result as ``Rows`` (no pyarrow involved)."""
    duck_sql = transpile(trino_sql, name_columns=True, databases=_glue_databases(con))
    try:
        relation = con.sql(duck_sql)
        if relation is None:
            return Rows([], [], [])
        return Rows(list(relation.columns), [str(t) for t in relation.types], relation.fetchall())
    except duckdb.Error as exc:
        raise QueryError(_one_line(exc)) from None


def copy_to_parquet(con: duckdb.DuckDBPyConnection, trino_sql: str, path: Path) -> int:
    """Writes an analyst's statement's result to a Parquet file; returns its row count."""
    duck_sql = transpile(trino_sql, name_columns=True, databases=_glue_databases(con))
    try:
        con.execute(f"COPY ({duck_sql}) TO {_quote(str(path))} (FORMAT PARQUET)")
        count = con.execute(f"SELECT count(*) FROM read_parquet({_quote(str(path))})").fetchone()  # noqa: S608
    except duckdb.Error as exc:
        raise QueryError(_one_line(exc)) from None
    return int(count[0]) if count else 0


def run_sql(con: duckdb.DuckDBPyConnection, trino_sql: str) -> pa.Table:
    """Runs one Trino statement and returns its result as an Arrow table."""
    import pyarrow as pa

    duck_sql = transpile(trino_sql, databases=_glue_databases(con))
    try:
        result = con.sql(duck_sql)
        if result is None:
            return pa.table({})
        return result.to_arrow_table()
    except duckdb.Error as exc:
        raise QueryError(_one_line(exc)) from None


def kpi_query(entry: SqlEntry) -> str:
    """The Trino statement the report runs for a KPI view: every column, in the KPI's order."""
    order = entry.meta.get("order")
    statement = f"SELECT * FROM {entry.name}"  # noqa: S608 (a view name of sql/views)
    return statement + (f" ORDER BY {order}" if order else "")


def parquet_scans(con: duckdb.DuckDBPyConnection, trino_sql: str) -> list[dict[str, Any]]:
    """The Parquet scans of a statement's plan, each with the columns it reads and its filters
    (from DuckDB's EXPLAIN): the proof that a query reads only the columns it needs."""
    plan = con.execute("EXPLAIN (FORMAT JSON) " + transpile(trino_sql)).fetchall()[0][1]
    scans: list[dict[str, Any]] = []

    def walk(node: dict[str, Any]) -> None:
        info = node.get("extra_info") or {}
        if info.get("Function") == "READ_PARQUET" or node.get("name") == "READ_PARQUET":
            projections = info.get("Projections") or []
            if isinstance(projections, str):
                projections = [p.strip() for p in projections.split(",") if p.strip()]
            scans.append({"columns": list(projections), "filters": info.get("Filters")})
        for child in node.get("children", []):
            walk(child)

    for root in json.loads(plan):
        walk(root)
    return scans
