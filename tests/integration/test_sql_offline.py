"""`bookings sql` as an analyst uses it: Athena's names and meaning, real files of the format the
extension asks for, readable results, a catalog that is reused, rebuilt when stale and can move
with its folder; and the report's workbook written for reading."""

from __future__ import annotations

import csv
import json
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook
from support.lake_builder import BuiltLake, build_lake
from support.paths import ROOT

from bookings.analytics import sql_files
from bookings.analytics.engine import CATALOG_FILE, build_catalog, open_catalog
from bookings.analytics.report import build_report
from bookings.cli import main
from bookings.project_files import SQL_DIR_VARIABLE


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> BuiltLake:
    return build_lake(tmp_path_factory.mktemp("sql-offline"), rows_per_file=300)


def sql(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["sql", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def json_rows(capsys: pytest.CaptureFixture[str], query: str, root: Path) -> list[dict[str, Any]]:
    code, out, err = sql(capsys, query, "--lake", str(root), "--format", "json")
    assert code == 0, err
    return json.loads(out)


def deploy_example() -> str:
    text = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sql\n(.*?)```", text, flags=re.S)
    (query,) = [b for b in blocks if "airline_bookings_dev." in b]
    return query.strip()


def test_the_athena_example_of_docs_deploy_md_runs_offline(
    lake: BuiltLake, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = json_rows(capsys, deploy_example(), lake.root)
    expected: dict[str, list[int]] = {}
    for record in lake.bookings:
        expected.setdefault(record["sales_channel"], []).append(record["booking_complete"])
    assert {r["sales_channel"]: r["bookings"] for r in rows} == {
        channel: len(values) for channel, values in expected.items()
    }
    for row in rows:
        outcomes = [v for v in expected[row["sales_channel"]] if v is not None]
        assert row["completion"] == pytest.approx(sum(outcomes) / len(outcomes))


def test_the_glue_database_names_views_too_with_or_without_the_catalog(
    lake: BuiltLake, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = json_rows(capsys, "SELECT * FROM completion_by_sales_channel", lake.root)
    for name in (
        "airline_bookings_dev.completion_by_sales_channel",
        "airline_bookings_prod.completion_by_sales_channel",
        "awsdatacatalog.airline_bookings_dev.completion_by_sales_channel",
    ):
        assert json_rows(capsys, f"SELECT * FROM {name}", lake.root) == plain


def test_trino_format_builds_the_labels_offline(
    lake: BuiltLake, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = json_rows(
        capsys,
        "SELECT format('%s-%s', route, sales_channel) AS label, count(*) AS n "
        "FROM bookings GROUP BY 1",
        lake.root,
    )
    expected = Counter(f"{r['route']}-{r['sales_channel']}" for r in lake.bookings)
    assert {r["label"]: r["n"] for r in rows} == dict(expected)


def test_a_view_comes_in_the_order_its_header_defines(
    lake: BuiltLake, capsys: pytest.CaptureFixture[str]
) -> None:
    days = [
        r["flight_day"]
        for r in json_rows(capsys, "SELECT * FROM completion_by_flight_day", lake.root)
    ]
    week = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert days == [d for d in week if d in days]
    assert len(days) == 7
    origins = json_rows(capsys, "SELECT * FROM completion_by_booking_origin", lake.root)
    keys = [(-r["bookings"], r["booking_origin"]) for r in origins]
    assert keys == sorted(keys)


def test_computed_columns_are_named_after_their_expression(
    lake: BuiltLake, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = sql(
        capsys,
        "SELECT sales_channel, count(*), avg(purchase_lead) FROM bookings GROUP BY sales_channel",
        "--lake",
        str(lake.root),
        "--format",
        "csv",
    )
    assert code == 0, err
    assert next(csv.reader(out.splitlines())) == ["sales_channel", "count(*)", "avg(purchase_lead)"]


def test_floats_print_in_fixed_point(lake: BuiltLake, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = sql(
        capsys,
        "SELECT to_unixtime(max(ingested_at)) AS latest, 0.25E0 AS quarter FROM bookings",
        "--lake",
        str(lake.root),
    )
    assert code == 0, err
    latest = max(r["ingested_at"] for r in lake.bookings).timestamp()
    assert f"{latest:.0f}" in out
    assert "0.25" in out
    assert "e+" not in out
    assert "e-" not in out


QUERY = "SELECT trip_type, bookings, completion_rate FROM completion_by_trip_type"


def _read(path: Path) -> list[list[Any]]:
    suffix = path.suffix
    if suffix == ".csv":
        with path.open(encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        return [rows[0]] + [[r[0], int(r[1]), float(r[2])] for r in rows[1:]]
    if suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        return [list(data[0])] + [list(r.values()) for r in data]
    if suffix == ".xlsx":
        values = list(load_workbook(path)["query"].values)
        return [list(values[0])] + [list(v) for v in values[1:]]
    if suffix == ".parquet":
        table = pq.read_table(path)
        return [table.column_names] + [list(r.values()) for r in table.to_pylist()]
    lines = path.read_text(encoding="utf-8").splitlines()
    return [lines[0].split()] + [
        [p[0], int(p[1]), float(p[2])] for p in (line.split() for line in lines[2:-1])
    ]


@pytest.mark.parametrize("suffix", [".csv", ".json", ".xlsx", ".parquet", ".txt"])
def test_the_out_extension_chooses_the_format(
    suffix: str, lake: BuiltLake, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / f"q{suffix}"
    code, _, err = sql(capsys, QUERY, "--lake", str(lake.root), "--out", str(out))
    assert code == 0, err
    expected = json_rows(capsys, QUERY, lake.root)
    rows = _read(out)
    assert rows[0] == ["trip_type", "bookings", "completion_rate"]
    assert [r[0] for r in rows[1:]] == [e["trip_type"] for e in expected]
    assert [r[1] for r in rows[1:]] == [e["bookings"] for e in expected]
    for got, want in zip(rows[1:], expected, strict=True):
        assert got[2] == pytest.approx(want["completion_rate"], rel=1e-5)


def test_format_overrides_the_extension_and_an_unknown_one_is_one_line(
    lake: BuiltLake, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "q.txt"
    code, _, err = sql(
        capsys, QUERY, "--lake", str(lake.root), "--out", str(out), "--format", "csv"
    )
    assert code == 0, err
    assert out.read_text(encoding="utf-8").splitlines()[0] == "trip_type,bookings,completion_rate"
    code, _, err = sql(capsys, QUERY, "--lake", str(lake.root), "--out", str(tmp_path / "q.data"))
    assert code == 2
    assert err.startswith("bookings: error: ")
    assert "--format" in err
    assert len(err.strip().splitlines()) == 1


def test_the_output_folder_can_be_moved(
    lake: BuiltLake, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    query = "SELECT route, count(*) AS n FROM bookings GROUP BY route ORDER BY route"
    before = json_rows(capsys, query, lake.root)
    original = tmp_path / "original"
    shutil.copytree(lake.root, original)
    build_catalog(original)
    moved = tmp_path / "shared" / "moved"
    moved.parent.mkdir()
    original.rename(moved)  # nothing is left where the catalog was built
    catalog = moved / CATALOG_FILE
    stamp = catalog.stat().st_mtime_ns
    assert json_rows(capsys, query, moved) == before
    assert catalog.stat().st_mtime_ns == stamp  # the moved catalog was reused, not rebuilt
    # In DuckDB's own shell: with the folder on the search path, the views read the moved lake.
    con = duckdb.connect(str(catalog), read_only=True)
    try:
        con.execute(f"SET file_search_path = '{moved}'")
        assert con.execute("SELECT count(*) FROM bookings").fetchone() == (len(lake.bookings),)
    finally:
        con.close()


def test_a_lake_in_the_working_directory_is_not_read_instead(
    lake: BuiltLake,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    decoy = build_lake(tmp_path / "decoy", rows_per_file=40, live_files=0)
    assert len(decoy.bookings) != len(lake.bookings)
    monkeypatch.chdir(decoy.root)
    rows = json_rows(capsys, "SELECT count(*) AS n FROM bookings", lake.root)
    assert rows == [{"n": len(lake.bookings)}]


def test_the_catalog_is_reused_until_the_sql_or_the_lake_changes(
    lake: BuiltLake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "lake"
    shutil.copytree(lake.root, root)
    shutil.rmtree(root / "lake" / "rejected_bookings")
    (root / "lake" / "rejected_bookings").mkdir()
    catalog = root / CATALOG_FILE
    open_catalog(root).close()
    built = catalog.stat().st_mtime_ns
    open_catalog(root).close()
    assert catalog.stat().st_mtime_ns == built  # reused
    # The rejected rows arrive: the empty stand-in view must give way to the files.
    shutil.copytree(
        lake.root / "lake" / "rejected_bookings",
        root / "lake" / "rejected_bookings",
        dirs_exist_ok=True,
    )
    con = open_catalog(root)
    try:
        assert con.execute("SELECT count(*) FROM rejected_bookings").fetchone() == (
            len(lake.rejected),
        )
    finally:
        con.close()
    assert catalog.stat().st_mtime_ns != built
    # A new view in sql/views: the catalog is rebuilt with it.
    sql_copy = tmp_path / "sql"
    shutil.copytree(ROOT / "sql", sql_copy)
    (sql_copy / "views" / "zz_channel_count.sql").write_text(
        "SELECT count(DISTINCT sales_channel) AS channels FROM bookings\n", encoding="utf-8"
    )
    monkeypatch.setenv(SQL_DIR_VARIABLE, str(sql_copy))
    sql_files._read_sql_directory.cache_clear()
    try:
        con = open_catalog(root)
        try:
            channels = {r["sales_channel"] for r in lake.bookings}
            assert con.execute("SELECT channels FROM zz_channel_count").fetchone() == (
                len(channels),
            )
        finally:
            con.close()
    finally:
        sql_files._read_sql_directory.cache_clear()


def test_a_catalog_is_replaced_whole(lake: BuiltLake, tmp_path: Path) -> None:
    root = tmp_path / "lake"
    shutil.copytree(lake.root, root)
    reader = open_catalog(root)  # a reader holding the old catalog open
    try:
        build_catalog(root)
        assert reader.execute("SELECT count(*) FROM bookings").fetchone() == (len(lake.bookings),)
    finally:
        reader.close()
    assert not [p for p in root.iterdir() if p.name.endswith(".partial")]


PERCENT = "0.0%"


def test_the_workbook_is_written_for_reading(lake: BuiltLake, tmp_path: Path) -> None:
    result = build_report(lake.root, tmp_path / "report", dashboards=False)
    assert result.workbook is not None
    book = load_workbook(result.workbook)
    kpis = sql_files.kpis()
    assert book.sheetnames[:2] == ["index", "definitions"]
    index = list(book["index"].values)
    assert index[0][:2] == ("sheet", "table (full name)")
    sheets = {row[1]: row[0] for row in index[1:]}
    assert set(sheets) == {entry.name for entry in kpis}  # every KPI, under its full name
    for name, sheet in sheets.items():
        assert sheet in book.sheetnames
        assert len(sheet) <= 31
        if len(name) <= 31:
            assert sheet == name
    definitions = "\n".join(str(v) for row in book["definitions"].values for v in row if v)
    for entry in kpis:
        assert entry.meta["definition"] in definitions
    assert "UTC" in definitions
    monthly = book[sheets["monthly_summary"]]
    header = [c.value for c in monthly[1]]
    assert all(c.font.b for c in monthly[1])
    assert monthly.auto_filter.ref == f"A1:{chr(64 + len(header))}{monthly.max_row}"
    assert monthly.freeze_panes == "A2"
    row = dict(zip(header, monthly[2], strict=True))
    assert row["completion_rate"].number_format == PERCENT
    assert row["bookings"].number_format == "#,##0"
    assert row["month"].number_format == "yyyy-mm-dd"
    for letter, name in zip("ABCDEFGHI", header, strict=False):
        assert monthly.column_dimensions[letter].width >= len(name)
    ingests = book[sheets["latest_ingests"]]
    times = [c.value for c in ingests[1] if c.value and "ingested_at" in c.value]
    assert times
    assert all(t.endswith("(UTC)") for t in times)
    overall = book[sheets["completion_overall"]]
    header = [c.value for c in overall[1]]
    cells = dict(zip(header, overall[2], strict=True))
    assert cells["extras_share"].number_format == PERCENT
    assert cells["avg_passengers"].number_format == "#,##0.00"


def test_sql_leaves_no_traceback_for_an_unwritable_out(
    lake: BuiltLake, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "missing" / "q.csv"
    code, _, err = sql(capsys, QUERY, "--lake", str(lake.root), "--out", str(out))
    assert code == 2
    assert err.startswith(f"bookings: error: {out}: cannot write")
    assert len(err.strip().splitlines()) == 1


def test_the_engine_knows_the_lake_layout_as_the_lake_defines_it() -> None:
    from bookings import lake as lake_layout
    from bookings.analytics import engine

    assert engine.CATALOG_FILE == lake_layout.CATALOG_FILE
    assert engine.PARTITION_COLUMN == lake_layout.PARTITION_COLUMN
