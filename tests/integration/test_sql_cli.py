"""`bookings sql` and `bookings report` from the command line, and the template's analytics
section mirrored from sql/ (one source of SQL)."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook
from support.lake_builder import BuiltLake, build_lake
from support.paths import ROOT

from bookings.analytics import sql_files, sync_template


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> BuiltLake:
    return build_lake(tmp_path_factory.mktemp("sql-lake"), rows_per_file=500)


def bookings(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bookings", *args], capture_output=True, text=True, check=False
    )


def test_sql_runs_trino_sql_on_the_lake(lake: BuiltLake) -> None:
    result = bookings(
        "sql",
        "SELECT sales_channel, count(*) AS n, approx_percentile(purchase_lead, 0.5) AS p50 "
        "FROM bookings GROUP BY sales_channel ORDER BY sales_channel",
        "--lake",
        str(lake.root),
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    expected = {}
    for record in lake.bookings:
        expected[record["sales_channel"]] = expected.get(record["sales_channel"], 0) + 1
    assert {r["sales_channel"]: r["n"] for r in rows} == expected


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("SELECT nope FROM bookings", "nope"),
        ("SELEC route FRM bookings", "syntax error"),
        ("SELECT * FROM no_such_table", "no_such_table"),
    ],
)
def test_bad_sql_is_one_line_and_exit_2(lake: BuiltLake, statement: str, message: str) -> None:
    result = bookings("sql", statement, "--lake", str(lake.root))
    assert result.returncode == 2
    assert result.stderr.startswith("bookings: error: ")
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_a_missing_lake_is_one_line(tmp_path: Path) -> None:
    result = bookings("sql", "SELECT 1", "--lake", str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert "no lake here" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_sql_writes_csv_and_xlsx(lake: BuiltLake, tmp_path: Path) -> None:
    query = "SELECT * FROM completion_by_trip_type ORDER BY trip_type"
    out = tmp_path / "trips.csv"
    assert (
        bookings(
            "sql", query, "--lake", str(lake.root), "--format", "csv", "--out", str(out)
        ).returncode
        == 0
    )
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["trip_type"] for r in rows] == sorted(r["trip_type"] for r in rows)
    book_path = tmp_path / "trips.xlsx"
    result = bookings(
        "sql", query, "--lake", str(lake.root), "--format", "xlsx", "--out", str(book_path)
    )
    assert result.returncode == 0, result.stderr
    sheet = load_workbook(book_path)["query"]
    values = list(sheet.values)
    assert values[0] == ("trip_type", "bookings", "completed", "completion_rate")
    assert [v[1] for v in values[1:]] == [int(r["bookings"]) for r in rows]


@pytest.mark.slow
def test_example_queries_run(lake: BuiltLake) -> None:
    for query in sql_files.queries():
        result = bookings("sql", str(query.path), "--lake", str(lake.root), "--format", "csv")
        assert result.returncode == 0, (query.name, result.stderr)


@pytest.mark.slow
def test_report_writes_csvs_workbook_and_dashboards(lake: BuiltLake, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = bookings("report", "--lake", str(lake.root), "--out", str(out))
    assert result.returncode == 0, result.stderr
    for dimension in ("sales_channel", "trip_type", "flight_day", "booking_origin", "route"):
        with (out / f"completion_by_{dimension}.csv").open() as handle:
            reader = csv.reader(handle)
            assert next(reader) == [dimension, "bookings", "completed", "completion_rate"]
            assert sum(1 for _ in reader) > 0
    book = load_workbook(out / "kpis.xlsx", read_only=True)
    assert len(book.sheetnames) == len(sql_files.kpis()) + 2  # the index and the definitions
    for name in ("marketing", "analyst", "direction", "direction_report"):
        html = (out / f"{name}.html").read_text(encoding="utf-8")
        # Nothing to fetch: no element points outside the page (the browser tests watch the
        # requests themselves; the library's banner names its web site, a comment).
        assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html, re.I)
        assert "url(http" not in html
        assert "@import" not in html


def test_the_template_mirrors_sql() -> None:
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    assert sync_template.current_block(text) == sync_template.render_block(), (
        "template.yaml differs from sql/: python -m bookings.analytics.sync_template"
    )


def _resources() -> dict:
    class Loader(yaml.SafeLoader):
        pass

    def tag(loader, suffix, node):
        if isinstance(node, yaml.ScalarNode):
            return {suffix: loader.construct_scalar(node)}
        if isinstance(node, yaml.SequenceNode):
            return {suffix: loader.construct_sequence(node, deep=True)}
        return {suffix: loader.construct_mapping(node, deep=True)}

    Loader.add_multi_constructor("!", tag)
    return yaml.load((ROOT / "template.yaml").read_text(encoding="utf-8"), Loader)["Resources"]


def test_every_view_and_query_is_in_the_template() -> None:
    resources = _resources()
    views = {
        r["Properties"]["TableInput"]["Name"]
        for r in resources.values()
        if r["Type"] == "AWS::Glue::Table"
        and r["Properties"]["TableInput"].get("TableType") == "VIRTUAL_VIEW"
    }
    assert views == {v.name for v in sql_files.views()}
    named = [
        r["Properties"]["QueryString"]
        for r in resources.values()
        if r["Type"] == "AWS::Athena::NamedQuery"
    ]
    for query in sql_files.queries():
        assert query.body in named


def test_refresh_spice_refreshes_exactly_the_stack_spice_datasets() -> None:
    resources = _resources()
    modes = {
        r["Properties"]["DataSetId"]["Sub"]
        if "Sub" in r["Properties"]["DataSetId"]
        else r["Properties"]["DataSetId"]["Fn::Sub"]: r["Properties"]["ImportMode"]
        for r in resources.values()
        if r["Type"] == "AWS::QuickSight::DataSet"
    }
    datasets = sorted(dataset for dataset, mode in modes.items() if mode == "SPICE")
    # The near real-time panels query Athena directly; every other dataset is SPICE.
    assert {dataset for dataset, mode in modes.items() if mode != "SPICE"} == {
        sync_template.dataset_id(view) for view in sync_template.DIRECT_QUERY_VIEWS
    }
    assert set(modes.values()) == {"SPICE", "DIRECT_QUERY"}
    env = resources["RefreshSpiceFunction"]["Properties"]["Environment"]["Variables"]
    condition, when_enabled, when_disabled = env["QUICKSIGHT_DATASET_IDS"]["If"]
    assert condition == "QuickSightEnabled"
    assert when_disabled == ""
    assert sorted(when_enabled["Sub"].split(",")) == datasets
    assert sorted(sync_template.quicksight_dataset_ids()) == datasets


def _column_references(node: object) -> list[tuple[str, str]]:
    """Every (dataset, column) a QuickSight definition names."""
    if isinstance(node, dict):
        if set(node) == {"DataSetIdentifier", "ColumnName"}:
            return [(node["DataSetIdentifier"], node["ColumnName"])]
        return [ref for value in node.values() for ref in _column_references(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _column_references(value)]
    return []


def test_the_three_quicksight_dashboards_read_columns_their_datasets_have() -> None:
    """Marketing, direction and analyst each get a dashboard; every field a visual names is a
    column of a dataset the dashboard declares, and the month in progress is told apart."""
    resources = _resources()
    datasets = {
        name.removeprefix("DataSet"): {
            c["Name"]
            for c in r["Properties"]["PhysicalTableMap"]["view"]["RelationalTable"]["InputColumns"]
        }
        for name, r in resources.items()
        if r["Type"] == "AWS::QuickSight::DataSet" and name != "BookingsDataSet"
    }
    dashboards = {
        name: r for name, r in resources.items() if r["Type"] == "AWS::QuickSight::Dashboard"
    }
    assert set(dashboards) == {"MarketingDashboard", "DirectionDashboard", "AnalystDashboard"}
    for name, dashboard in dashboards.items():
        assert dashboard["Condition"] == "QuickSightEnabled"
        definition = dashboard["Properties"]["Definition"]
        declared = {}
        for declaration in definition["DataSetIdentifierDeclarations"]:
            logical_id = declaration["DataSetArn"]["Fn::GetAtt"][0]
            declared[declaration["Identifier"]] = datasets[logical_id.removeprefix("DataSet")]
        (sheet,) = definition["Sheets"]
        columns = _column_references(sheet["Visuals"])
        assert columns, name
        for dataset, column in columns:
            assert column in declared[dataset], (name, dataset, column)
        if name != "AnalystDashboard":
            assert ("monthly_summary", "month_status") in columns, name
    analyst = dashboards["AnalystDashboard"]["Properties"]["Definition"]
    assert "data_quality_by_file" in {
        d["Identifier"] for d in analyst["DataSetIdentifierDeclarations"]
    }
