"""Mirrors ``sql/`` into template.yaml's analytics section (CloudFormation cannot read files).

Generated between two marker comments, from the same files DuckDB runs offline:

- one Glue ``VIRTUAL_VIEW`` table per file of ``sql/views`` (the Athena view, its Trino text in
  ``ViewOriginalText``, its columns typed from the offline plan);
- one Athena named query per view (``SELECT * FROM view``, for the console) and per file of
  ``sql/queries``;
- QuickSight (behind ``QuickSightEnabled``): a SPICE dataset over each view the marketing
  dashboard shows, and the marketing dashboard definition.

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

# The views the marketing dashboard reads, each a SPICE dataset.
QUICKSIGHT_VIEWS = (
    "completion_by_sales_channel",
    "completion_by_origin_region",
    "segment_opportunities",
    "monthly_summary",
    "latest_ingests",
)
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
    """Every SPICE dataset id of the stack (as ``Fn::Sub`` text), the bookings table's first."""
    return [f"${{AWS::StackName}}-{BOOKINGS_DATASET_SUFFIX}"] + [
        dataset_id(v) for v in QUICKSIGHT_VIEWS
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
            "ImportMode": "SPICE",
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


def _measure(field_id: str, dataset: str, name: str, aggregation: str = "SUM") -> dict[str, Any]:
    return {
        "NumericalMeasureField": {
            "FieldId": field_id,
            "Column": _column(dataset, name),
            "AggregationFunction": {"SimpleNumericalAggregation": aggregation},
        }
    }


def _bar(visual_id: str, title: str, dataset: str, category: str, value: str) -> dict[str, Any]:
    return {
        "BarChartVisual": {
            "VisualId": visual_id,
            "Title": {"Visibility": "VISIBLE", "FormatText": {"PlainText": title}},
            "ChartConfiguration": {
                "FieldWells": {
                    "BarChartAggregatedFieldWells": {
                        "Category": [_category(f"{visual_id}-category", dataset, category)],
                        "Values": [_measure(f"{visual_id}-value", dataset, value)],
                    }
                },
                "Orientation": "VERTICAL",
            },
        }
    }


def _dashboard() -> dict[str, Any]:
    declarations = [
        {
            "Identifier": view,
            "DataSetArn": {"Fn::GetAtt": [f"DataSet{_camel(view)}", "Arn"]},
        }
        for view in QUICKSIGHT_VIEWS
    ]
    segment_columns = [
        "booking_origin",
        "sales_channel",
        "lead_time_band",
        "bookings",
        "completion_rate",
        "best_comparable_rate",
        "opportunity",
    ]
    visuals = [
        _bar(
            "channels",
            "Bookings by sales channel",
            "completion_by_sales_channel",
            "sales_channel",
            "bookings",
        ),
        _bar(
            "channel-rates",
            "Completion rate by sales channel",
            "completion_by_sales_channel",
            "sales_channel",
            "completion_rate",
        ),
        _bar(
            "regions",
            "Bookings by origin region",
            "completion_by_origin_region",
            "booking_origin_region",
            "bookings",
        ),
        {
            "LineChartVisual": {
                "VisualId": "months",
                "Title": {
                    "Visibility": "VISIBLE",
                    "FormatText": {"PlainText": "Bookings per ingest month"},
                },
                "ChartConfiguration": {
                    "FieldWells": {
                        "LineChartAggregatedFieldWells": {
                            "Category": [
                                {
                                    "DateDimensionField": {
                                        "FieldId": "months-month",
                                        "Column": _column("monthly_summary", "month"),
                                        "DateGranularity": "MONTH",
                                    }
                                }
                            ],
                            "Values": [_measure("months-bookings", "monthly_summary", "bookings")],
                        }
                    }
                },
            }
        },
        {
            "TableVisual": {
                "VisualId": "segments",
                "Title": {
                    "Visibility": "VISIBLE",
                    "FormatText": {"PlainText": "Campaign targeting: segment opportunities"},
                },
                "ChartConfiguration": {
                    "FieldWells": {
                        "TableUnaggregatedFieldWells": {
                            "Values": [
                                {
                                    "FieldId": f"segments-{c}",
                                    "Column": _column("segment_opportunities", c),
                                }
                                for c in segment_columns
                            ]
                        }
                    }
                },
            }
        },
        {
            "TableVisual": {
                "VisualId": "latest",
                "Title": {"Visibility": "VISIBLE", "FormatText": {"PlainText": "Latest ingests"}},
                "ChartConfiguration": {
                    "FieldWells": {
                        "TableUnaggregatedFieldWells": {
                            "Values": [
                                {"FieldId": f"latest-{c}", "Column": _column("latest_ingests", c)}
                                for c in (
                                    "source_file",
                                    "last_ingested_at",
                                    "bookings",
                                    "completion_rate",
                                    "rejected_rows",
                                )
                            ]
                        }
                    }
                },
            }
        },
    ]
    return {
        "Type": "AWS::QuickSight::Dashboard",
        "Condition": "QuickSightEnabled",
        "Properties": {
            "AwsAccountId": {"Ref": "AWS::AccountId"},
            "DashboardId": {"Fn::Sub": "${AWS::StackName}-marketing"},
            "Name": {"Fn::Sub": "${AWS::StackName} marketing"},
            "Definition": {
                "DataSetIdentifierDeclarations": declarations,
                "Sheets": [{"SheetId": "marketing", "Name": "Marketing", "Visuals": visuals}],
            },
            "Permissions": [
                {
                    "Principal": {"Ref": "QuickSightPrincipalArn"},
                    "Actions": [
                        "quicksight:DescribeDashboard",
                        "quicksight:ListDashboardVersions",
                        "quicksight:UpdateDashboardPermissions",
                        "quicksight:QueryDashboard",
                        "quicksight:UpdateDashboard",
                        "quicksight:DeleteDashboard",
                        "quicksight:DescribeDashboardPermissions",
                        "quicksight:UpdateDashboardPublishedVersion",
                    ],
                }
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
    result["MarketingDashboard"] = _dashboard()
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
