"""The table of Trino functions (bookings.analytics.trino_functions), run offline.

Every "supported" or "rewritten" row runs on DuckDB through the project's translation and must
give the result the table says Trino gives; that result was written by hand from Trino's
documentation (an example of the documentation, or what it says the function does: the row's
``source``), not from running DuckDB. Every "refused" row must stop at translation with one line
that names the function. docs/sql.md is generated from the same table.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import duckdb
import pytest

from bookings.analytics import sql_docs, trino
from bookings.analytics.engine import QueryError, transpile
from bookings.analytics.trino_functions import CASES, REFUSED, REWRITTEN, SUPPORTED, Case

RUNNABLE = [case for case in CASES if case.status in {SUPPORTED, REWRITTEN}]
REFUSALS = [case for case in CASES if case.status == REFUSED]


@pytest.fixture(scope="module")
def session() -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB session set up as every offline session is (settings and macros)."""
    con = duckdb.connect()
    for statement in (*trino.SESSION_SETTINGS, *trino.MACROS):
        con.execute(statement)
    yield con
    con.close()


def _same(actual: Any, expected: Any, tolerance: float) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected
    if isinstance(expected, float) and tolerance:
        return actual is not None and math.isclose(
            actual, expected, rel_tol=tolerance, abs_tol=tolerance
        )
    if isinstance(expected, list) and tolerance:
        return len(actual) == len(expected) and all(
            _same(a, e, tolerance) for a, e in zip(actual, expected, strict=True)
        )
    return bool(actual == expected)


def _label(case: Case) -> str:
    return case.example[:70]


@pytest.mark.parametrize("case", RUNNABLE, ids=_label)
def test_offline_gives_trinos_result(case: Case, session: duckdb.DuckDBPyConnection) -> None:
    rows = session.execute(transpile(case.statement)).fetchall()
    actual = [row[0] for row in rows] if case.rows else rows[0][0]
    assert _same(actual, case.expected, case.tolerance), (
        f"{case.example}: offline {actual!r}, Trino {case.expected!r}"
    )


@pytest.mark.parametrize("case", REFUSALS, ids=_label)
def test_refused_in_one_line_naming_the_function(case: Case) -> None:
    with pytest.raises(QueryError) as raised:
        transpile(case.statement)
    message = str(raised.value)
    assert "\n" not in message
    names = [name.strip().split(" ")[0].lower() for name in case.function.split("/")]
    assert any(name in message.lower() for name in names), message


def test_the_table_has_every_kind_of_row() -> None:
    statuses = {case.status for case in CASES}
    assert statuses == {SUPPORTED, REWRITTEN, REFUSED}
    # Each rewrite of the translation is exercised by at least one row of the table.
    functions = " ".join(case.function for case in CASES)
    for name in (*trino.RENAMED, *trino.SAME_NAME_IN_DUCKDB, *trino.REFUSED):
        assert name in functions, f"{name}: handled by bookings.analytics.trino, not in the table"


def test_results_come_from_the_documentation_or_its_stated_semantics() -> None:
    assert {case.source for case in CASES} == {"docs", "semantics"}
    for case in CASES:
        assert case.status == REFUSED or case.expected is not None or case.note or case.rows, (
            f"{case.example}: a null result needs a note saying why it is Trino's"
        )


def test_the_issue_example_no_longer_returns_the_pattern(
    session: duckdb.DuckDBPyConnection,
) -> None:
    sql = transpile(
        "SELECT format('%s-%s', route, sales_channel) FROM (VALUES ('SYDMEL', 'Internet')) "
        "AS t(route, sales_channel)"
    )
    assert session.execute(sql).fetchone() == ("SYDMEL-Internet",)


def test_an_unknown_function_is_refused_not_passed_through() -> None:
    with pytest.raises(QueryError, match=r"url_extract_host\(\) is not available offline"):
        transpile("SELECT url_extract_host('https://example.com/a')")


def test_docs_sql_md_is_generated_from_the_table() -> None:
    assert sql_docs.docs_path().read_text(encoding="utf-8") == sql_docs.render(), (
        "docs/sql.md is stale: python -m bookings.analytics.sql_docs"
    )
