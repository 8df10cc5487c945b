"""The offline SQL engine: the Trino SQL of ``sql/`` run on DuckDB over the lake, via sqlglot.

``connect(lake)`` opens DuckDB with the views ``bookings``, ``rejected_bookings`` and
``ingest_audit`` over the lake's Parquet files and every view of ``sql/views`` transpiled from
Trino; ``run_sql`` runs an analyst's Trino statement the same way; ``build_catalog`` writes the
same views to ``DIR/catalog.duckdb`` (a new file renamed over the old one: a reader opens the
old or the new catalog, never half of one). Errors become ``QueryError``: one line, no
traceback.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot.errors import ErrorLevel, ParseError, TokenError

from bookings import fault_points
from bookings.analytics import sql_files
from bookings.durable_files import publish, temporary_path
from bookings.lake import CATALOG_FILE, LAKE_TABLES, PARTITION_COLUMN, resolve_lake


class QueryError(Exception):
    """A statement that cannot be parsed, planned or run; the message is one line."""


_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


def _one_line(text: object) -> str:
    return " ".join(_ANSI_ESCAPE.sub("", str(text)).split())


def transpile(trino_sql: str) -> str:
    """One Trino statement as DuckDB SQL."""
    try:
        statements = sqlglot.transpile(
            trino_sql, read="trino", write="duckdb", unsupported_level=ErrorLevel.RAISE
        )
    except (ParseError, TokenError) as exc:
        raise QueryError(f"syntax error: {_one_line(exc)}") from None
    except sqlglot.errors.SqlglotError as exc:
        raise QueryError(f"cannot translate to DuckDB: {_one_line(exc)}") from None
    statements = [s for s in statements if s.strip()]
    if len(statements) != 1:
        raise QueryError(f"expected one SQL statement, got {len(statements)}")
    return statements[0]


def _duckdb_type(arrow_type: pa.DataType) -> str:
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


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _table_view_sql(name: str, table_dir: Path, schema: pa.Schema) -> str:
    if any(table_dir.glob(f"{PARTITION_COLUMN}=*/*.parquet")):
        pattern = _quote(str(table_dir.resolve() / f"{PARTITION_COLUMN}=*" / "*.parquet"))
        # Names and paths are the project's own, quoted; no user text reaches this statement.
        return (
            f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet({pattern}, "  # noqa: S608
            f"hive_partitioning = true, union_by_name = true, "
            f"hive_types = {{'{PARTITION_COLUMN}': DATE}})"
        )
    # No file yet: an empty view with the lake's columns, so every KPI still plans and runs.
    columns = [f"CAST(NULL AS {_duckdb_type(f.type)}) AS {f.name}" for f in schema]
    columns.append(f"CAST(NULL AS DATE) AS {PARTITION_COLUMN}")
    return f"CREATE OR REPLACE VIEW {name} AS SELECT {', '.join(columns)} WHERE false"


def connect(
    lake: str | Path,
    *,
    database: str | Path = ":memory:",
    sql_directory: Path | None = None,
) -> duckdb.DuckDBPyConnection:
    """DuckDB with the lake's tables and every view of ``sql/views``."""
    root = resolve_lake(lake)
    con = duckdb.connect(str(database))
    # Months and dates of timestamps are UTC, as in Athena.
    con.execute("SET TimeZone = 'UTC'")
    for name, (schema, _) in LAKE_TABLES.items():
        con.execute(_table_view_sql(name, root / "lake" / name, schema))
    for view in sql_files.views(sql_directory):
        try:
            con.execute(f"CREATE OR REPLACE VIEW {view.name} AS {transpile(view.body)}")
        except (QueryError, duckdb.Error) as exc:
            con.close()
            raise QueryError(f"{view.path}: {_one_line(exc)}") from None
    return con


def build_catalog(out_dir: str | Path) -> Path:
    """Writes ``out_dir/catalog.duckdb`` with the lake's tables and every KPI view; returns it.

    Built under a temporary name, flushed, then renamed over the old catalog."""
    target = Path(out_dir) / CATALOG_FILE
    scratch = temporary_path(target)
    try:
        connect(out_dir, database=scratch).close()
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


def run_sql(con: duckdb.DuckDBPyConnection, trino_sql: str) -> pa.Table:
    """Runs one Trino statement and returns its result as an Arrow table."""
    duck_sql = transpile(trino_sql)
    try:
        result = con.sql(duck_sql)
        if result is None:
            return pa.table({})
        return result.to_arrow_table()
    except duckdb.Error as exc:
        raise QueryError(_one_line(exc)) from None


def kpi_query(entry: sql_files.SqlEntry) -> str:
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
