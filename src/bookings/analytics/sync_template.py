"""Mirrors ``sql/`` into template.yaml's analytics section (CloudFormation cannot read files).

Generated between two marker comments, from the same files DuckDB runs offline:

- one Glue ``VIRTUAL_VIEW`` table per file of ``sql/views`` (the Athena view, its Trino text in
  ``ViewOriginalText``, its columns typed from the offline plan);
- one Athena named query per view (``SELECT * FROM view``, for the console) and per file of
  ``sql/queries``;
- QuickSight (behind ``QuickSightEnabled``): a SPICE dataset over each view a dashboard shows,
  and the three dashboards (marketing, direction, analyst) as definitions.

``python -m bookings.analytics.sync_template`` rewrites the block; ``--check`` exits 1 when the
template differs from what ``sql/`` gives (tests/integration/test_sql_cli.py runs it).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from bookings.analytics import sql_files
from bookings.analytics.engine import connect
from bookings.project_files import repository_file

BEGIN = (
    "  # BEGIN generated from sql/ by `python -m bookings.analytics.sync_template`: do not edit\n"
)
END = "  # END generated from sql/\n"
SECTION = "  # Analytics (named queries, views, QuickSight)\n"

# The views each QuickSight dashboard reads; each view is one SPICE dataset, shared.
DASHBOARD_VIEWS = {
    "marketing": (
        "completion_by_sales_channel",
        "completion_by_origin_region",
        "monthly_summary",
        "segment_opportunities",
        "live_bookings_by_segment",
        "latest_ingests",
    ),
    "direction": (
        "yearly_summary",
        "monthly_summary",
        "completion_by_origin_region",
        "data_quality_summary",
    ),
    "analyst": (
        "data_quality_summary",
        "data_quality_by_file",
        "rejected_by_reason",
        "unknown_origins",
    ),
}
QUICKSIGHT_VIEWS = tuple(dict.fromkeys(v for views in DASHBOARD_VIEWS.values() for v in views))
# The marketing team's near real-time panels: datasets that query Athena when the dashboard loads
# (DIRECT_QUERY), so bookings the stream delivers show within Firehose's buffer time; a SPICE
# dataset shows only what its last refresh imported, and live traffic triggers none. Small
# aggregates over recent partitions, so each load scans little. RefreshSpice leaves them out
# (QuickSight refuses an ingestion of a DIRECT_QUERY dataset).
DIRECT_QUERY_VIEWS = ("live_bookings_by_segment", "latest_ingests")
BOOKINGS_DATASET_SUFFIX = "bookings"

_HIVE_TYPES = {
    "VARCHAR": "string",
    "BIGINT": "bigint",
    "INTEGER": "int",
    "DOUBLE": "double",
    "DATE": "date",
    "BOOLEAN": "boolean",
    "TIMESTAMP WITH TIME ZONE": "timestamp",
    "TIMESTAMP": "timestamp",
    "HUGEINT": "bigint",
}
_PRESTO_TYPES = {"string": "varchar", "int": "integer"}
_QUICKSIGHT_TYPES = {
    "string": "STRING",
    "bigint": "INTEGER",
    "int": "INTEGER",
    "double": "DECIMAL",
    "date": "DATETIME",
    "timestamp": "DATETIME",
    "boolean": "BOOLEAN",
}


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def view_columns() -> dict[str, list[tuple[str, str]]]:
    """Each view's columns as Glue (Hive) types, from DuckDB's plan over an empty lake."""
    with tempfile.TemporaryDirectory() as empty:
        (Path(empty) / "lake").mkdir()
        con = connect(empty)
        try:
            result = {}
            for view in sql_files.views():
                rows = con.execute(f"DESCRIBE {view.name}").fetchall()
                result[view.name] = [(r[0], _hive_type(str(r[1]))) for r in rows]
            return result
        finally:
            con.close()


def _hive_type(duck_type: str) -> str:
    if duck_type.endswith("[]"):
        return f"array<{_hive_type(duck_type[:-2])}>"
    if duck_type.startswith("DECIMAL"):
        return "double"
    return _HIVE_TYPES[duck_type]


def _presto_type(hive_type: str) -> str:
    """The type Athena's view definition names for a Glue (Hive) column type."""
    if hive_type.startswith("array<") and hive_type.endswith(">"):
        return f"array({_presto_type(hive_type[6:-1])})"
    return _PRESTO_TYPES.get(hive_type, hive_type)


def _view_resource(view: sql_files.SqlEntry, columns: list[tuple[str, str]]) -> dict[str, Any]:
    presto = {
        "originalSql": view.body,
        "catalog": "awsdatacatalog",
        "schema": "${Database}",
        "columns": [{"name": n, "type": _presto_type(t)} for n, t in columns],
    }
    return {
        "Type": "AWS::Glue::Table",
        "Properties": {
            "CatalogId": {"Ref": "AWS::AccountId"},
            "DatabaseName": {"Ref": "GlueDatabase"},
            "TableInput": {
                "Name": view.name,
                "Description": view.meta.get("kpi", "helper view")[:255],
                "TableType": "VIRTUAL_VIEW",
                "Parameters": {"presto_view": "true", "comment": "Presto View"},
                # Athena's view format: base64 JSON of the Trino text inside a comment.
                "ViewOriginalText": {
                    "Fn::Join": [
                        "",
                        [
                            "/* Presto View: ",
                            {
                                "Fn::Base64": {
                                    "Fn::Sub": [
                                        json.dumps(presto, separators=(",", ":")),
                                        {"Database": {"Ref": "GlueDatabase"}},
                                    ]
                                }
                            },
                            " */",
                        ],
                    ]
                },
                "ViewExpandedText": "/* Presto View */",
                "StorageDescriptor": {
                    "Columns": [{"Name": n, "Type": t} for n, t in columns],
                    "SerdeInfo": {},
                },
            },
        },
    }


def _named_query(name: str, description: str, sql: str) -> dict[str, Any]:
    return {
        "Type": "AWS::Athena::NamedQuery",
        "Properties": {
            "Name": {"Fn::Sub": f"${{AWS::StackName}}-{name}"},
            "Description": description[:1024],
            "Database": {"Ref": "GlueDatabase"},
            "WorkGroup": {"Ref": "AthenaWorkGroup"},
            "QueryString": sql,
        },
    }


def dataset_id(view: str) -> str:
    return f"${{AWS::StackName}}-{view.replace('_', '-')}"


def quicksight_dataset_ids() -> list[str]:
    """Every SPICE dataset id of the stack (as ``Fn::Sub`` text), the bookings table's first:
    the datasets RefreshSpice refreshes."""
    return [f"${{AWS::StackName}}-{BOOKINGS_DATASET_SUFFIX}"] + [
        dataset_id(v) for v in QUICKSIGHT_VIEWS if v not in DIRECT_QUERY_VIEWS
    ]


def _dataset(view: str, columns: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "Type": "AWS::QuickSight::DataSet",
        "Condition": "QuickSightEnabled",
        "DependsOn": [f"View{_camel(view)}"],
        "Properties": {
            "AwsAccountId": {"Ref": "AWS::AccountId"},
            "DataSetId": {"Fn::Sub": dataset_id(view)},
            "Name": {"Fn::Sub": f"${{AWS::StackName}} {view}"},
            "ImportMode": "DIRECT_QUERY" if view in DIRECT_QUERY_VIEWS else "SPICE",
            "PhysicalTableMap": {
                "view": {
                    "RelationalTable": {
                        "DataSourceArn": {"Fn::GetAtt": ["QuickSightAthenaDataSource", "Arn"]},
                        "Catalog": "AwsDataCatalog",
                        "Schema": {"Ref": "GlueDatabase"},
                        "Name": view,
                        "InputColumns": [
                            {"Name": n, "Type": _QUICKSIGHT_TYPES[t]} for n, t in columns
                        ],
                    }
                }
            },
            "Permissions": [
                {
                    "Principal": {"Ref": "QuickSightPrincipalArn"},
                    "Actions": [
                        "quicksight:DescribeDataSet",
                        "quicksight:DescribeDataSetPermissions",
                        "quicksight:PassDataSet",
                        "quicksight:DescribeIngestion",
                        "quicksight:ListIngestions",
                        "quicksight:UpdateDataSet",
                        "quicksight:DeleteDataSet",
                        "quicksight:CreateIngestion",
                        "quicksight:CancelIngestion",
                        "quicksight:UpdateDataSetPermissions",
                    ],
                }
            ],
        },
    }


def _column(dataset: str, name: str) -> dict[str, Any]:
    return {"DataSetIdentifier": dataset, "ColumnName": name}


def _category(field_id: str, dataset: str, name: str) -> dict[str, Any]:
    return {"CategoricalDimensionField": {"FieldId": field_id, "Column": _column(dataset, name)}}


def _month(field_id: str, dataset: str, name: str) -> dict[str, Any]:
    return {
        "DateDimensionField": {
            "FieldId": field_id,
            "Column": _column(dataset, name),
            "DateGranularity": "MONTH",
        }
    }


def _measure(field_id: str, dataset: str, name: str, aggregation: str = "SUM") -> dict[str, Any]:
    return {
        "NumericalMeasureField": {
            "FieldId": field_id,
            "Column": _column(dataset, name),
            "AggregationFunction": {"SimpleNumericalAggregation": aggregation},
        }
    }


def _title(text: str) -> dict[str, Any]:
    return {"Visibility": "VISIBLE", "FormatText": {"PlainText": text}}


def _bar(
    visual_id: str,
    title: str,
    dataset: str,
    category: dict[str, Any],
    value: str,
    *,
    aggregation: str = "SUM",
    colors: str | None = None,
) -> dict[str, Any]:
    wells: dict[str, Any] = {
        "Category": [category],
        "Values": [_measure(f"{visual_id}-value", dataset, value, aggregation)],
    }
    if colors:
        wells["Colors"] = [_category(f"{visual_id}-colors", dataset, colors)]
    return {
        "BarChartVisual": {
            "VisualId": visual_id,
            "Title": _title(title),
            "ChartConfiguration": {
                "FieldWells": {"BarChartAggregatedFieldWells": wells},
                "Orientation": "VERTICAL",
            },
        }
    }


def _table(visual_id: str, title: str, dataset: str, columns: list[str]) -> dict[str, Any]:
    return {
        "TableVisual": {
            "VisualId": visual_id,
            "Title": _title(title),
            "ChartConfiguration": {
                "FieldWells": {
                    "TableUnaggregatedFieldWells": {
                        "Values": [
                            {"FieldId": f"{visual_id}-{c}", "Column": _column(dataset, c)}
                            for c in columns
                        ]
                    }
                }
            },
        }
    }


def _months_by_status(visual_id: str) -> dict[str, Any]:
    """Bookings per ingest month, the month in progress in a colour of its own."""
    return _bar(
        visual_id,
        "Bookings per ingest month (the month in progress apart: compare it on the same days)",
        "monthly_summary",
        _month(f"{visual_id}-month", "monthly_summary", "month"),
        "bookings",
        colors="month_status",
    )


MONTHLY_COLUMNS = [
    "month",
    "month_status",
    "days_covered",
    "bookings",
    "completion_rate",
    "bookings_mom_change",
    "completion_rate_mom_change",
    "bookings_yoy_change",
    "completion_rate_yoy_change",
]
DATA_QUALITY_SUMMARY_COLUMNS = [
    "rows_read",
    "rejected_rows",
    "rejected_rate",
    "duplicates",
    "unknown_origins",
    "quarantined_files",
]


def _visuals() -> dict[str, list[dict[str, Any]]]:
    """Each dashboard's visuals: the same views and figures as the offline dashboards."""
    return {
        "marketing": [
            _bar(
                "channels",
                "Bookings by sales channel",
                "completion_by_sales_channel",
                _category("channels-category", "completion_by_sales_channel", "sales_channel"),
                "bookings",
            ),
            _bar(
                "channel-rates",
                "Completion rate by sales channel",
                "completion_by_sales_channel",
                _category("channel-rates-category", "completion_by_sales_channel", "sales_channel"),
                "completion_rate",
                aggregation="AVERAGE",
            ),
            _bar(
                "regions",
                "Bookings by origin region",
                "completion_by_origin_region",
                _category(
                    "regions-category", "completion_by_origin_region", "booking_origin_region"
                ),
                "bookings",
            ),
            _months_by_status("months"),
            _table(
                "live-segments",
                "Live bookings: predicted completion by segment, lowest against volume first",
                "live_bookings_by_segment",
                [
                    "booking_origin",
                    "sales_channel",
                    "lead_time_band",
                    "scored",
                    "predicted_completion",
                    "expected_completions",
                    "completion_rate",
                    "completions_below_average",
                ],
            ),
            _table(
                "segments",
                "Campaign targeting: segments against their comparable segment",
                "segment_opportunities",
                [
                    "booking_origin",
                    "sales_channel",
                    "lead_time_band",
                    "bookings",
                    "completion_rate",
                    "estimated_rate",
                    "comparable_segment",
                    "comparable_rate",
                    "opportunity",
                ],
            ),
            _table(
                "latest",
                "Latest ingests (UTC)",
                "latest_ingests",
                [
                    "file_name",
                    "status",
                    "last_ingested_at",
                    "bookings",
                    "completion_rate",
                    "rejected_rows",
                    "reason",
                ],
            ),
        ],
        "direction": [
            _table(
                "years",
                "Yearly summary: complete months, changes over the same months a year earlier",
                "yearly_summary",
                [
                    "year",
                    "complete_months",
                    "has_month_in_progress",
                    "bookings",
                    "completion_rate",
                    "extras_share",
                    "bookings_yoy_change",
                    "completion_rate_yoy_change",
                ],
            ),
            _months_by_status("months"),
            _table("monthly", "Monthly summary", "monthly_summary", MONTHLY_COLUMNS),
            _bar(
                "region-rates",
                "Completion rate by origin region",
                "completion_by_origin_region",
                _category(
                    "region-rates-category", "completion_by_origin_region", "booking_origin_region"
                ),
                "completion_rate",
                aggregation="AVERAGE",
            ),
            _table(
                "quality",
                "Data quality",
                "data_quality_summary",
                DATA_QUALITY_SUMMARY_COLUMNS,
            ),
        ],
        "analyst": [
            _table(
                "quality",
                "Data quality",
                "data_quality_summary",
                DATA_QUALITY_SUMMARY_COLUMNS,
            ),
            _table(
                "files",
                "Data quality by file (quarantined files with their reason)",
                "data_quality_by_file",
                [
                    "file_name",
                    "status",
                    "reason",
                    "rows_read",
                    "rejected_rows",
                    "rejected_rate",
                    "duplicates",
                    "unknown_origins",
                ],
            ),
            _bar(
                "reasons",
                "Rejected rows by reason",
                "rejected_by_reason",
                _category("reasons-category", "rejected_by_reason", "reason"),
                "rejected_rows",
            ),
            _table(
                "unknown",
                "Unknown booking origins",
                "unknown_origins",
                ["booking_origin", "bookings"],
            ),
        ],
    }


DASHBOARD_ACTIONS = [
    "quicksight:DescribeDashboard",
    "quicksight:ListDashboardVersions",
    "quicksight:UpdateDashboardPermissions",
    "quicksight:QueryDashboard",
    "quicksight:UpdateDashboard",
    "quicksight:DeleteDashboard",
    "quicksight:DescribeDashboardPermissions",
    "quicksight:UpdateDashboardPublishedVersion",
]


def _dashboard(name: str, visuals: list[dict[str, Any]]) -> dict[str, Any]:
    declarations = [
        {
            "Identifier": view,
            "DataSetArn": {"Fn::GetAtt": [f"DataSet{_camel(view)}", "Arn"]},
        }
        for view in DASHBOARD_VIEWS[name]
    ]
    return {
        "Type": "AWS::QuickSight::Dashboard",
        "Condition": "QuickSightEnabled",
        "Properties": {
            "AwsAccountId": {"Ref": "AWS::AccountId"},
            "DashboardId": {"Fn::Sub": f"${{AWS::StackName}}-{name}"},
            "Name": {"Fn::Sub": f"${{AWS::StackName}} {name}"},
            "Definition": {
                "DataSetIdentifierDeclarations": declarations,
                "Sheets": [{"SheetId": name, "Name": name.capitalize(), "Visuals": visuals}],
            },
            "Permissions": [
                {"Principal": {"Ref": "QuickSightPrincipalArn"}, "Actions": DASHBOARD_ACTIONS}
            ],
        },
    }


def resources() -> dict[str, Any]:
    columns = view_columns()
    result: dict[str, Any] = {}
    for view in sql_files.views():
        result[f"View{_camel(view.name)}"] = _view_resource(view, columns[view.name])
        result[f"Query{_camel(view.name)}"] = _named_query(
            view.name,
            view.meta.get("kpi", "helper view"),
            f"SELECT * FROM {view.name}",  # noqa: S608
        )
    for query in sql_files.queries():
        result[f"Query{_camel(query.name)}"] = _named_query(query.name, query.title, query.body)
    for dataset_view in QUICKSIGHT_VIEWS:
        result[f"DataSet{_camel(dataset_view)}"] = _dataset(dataset_view, columns[dataset_view])
    for name, visuals in _visuals().items():
        result[f"{name.capitalize()}Dashboard"] = _dashboard(name, visuals)
    return result


def render_block() -> str:
    body = yaml.safe_dump(resources(), sort_keys=False, width=100, allow_unicode=True)
    indented = "".join(f"  {line}" if line.strip() else line for line in body.splitlines(True))
    return BEGIN + indented + END


def template_path() -> Path:
    return repository_file("template.yaml")


def current_block(text: str) -> str | None:
    if BEGIN not in text:
        return None
    start = text.index(BEGIN)
    end = text.index(END, start) + len(END)
    return text[start:end]


def synced(text: str, block: str) -> str:
    existing = current_block(text)
    if existing is not None:
        return text.replace(existing, block)
    if SECTION not in text:
        raise ValueError("template.yaml has no '# Analytics (named queries, views, QuickSight)'")
    # After the section's banner (its title line and the rule under it).
    start = text.index(SECTION) + len(SECTION)
    rule_end = text.index("\n", start) + 1
    return text[:rule_end] + block + text[rule_end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 when the template is stale")
    args = parser.parse_args(argv)
    path = template_path()
    text = path.read_text(encoding="utf-8")
    block = render_block()
    if args.check:
        if current_block(text) != block:
            print(
                f"{path}: the analytics section differs from sql/: run "
                "python -m bookings.analytics.sync_template",
                file=sys.stderr,
            )
            return 1
        return 0
    path.write_text(synced(text, block), encoding="utf-8")
    print(f"{path}: analytics section written from sql/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
