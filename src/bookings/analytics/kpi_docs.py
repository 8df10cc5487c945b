"""Writes docs/kpis.md from the headers of sql/views and sql/queries (one source for both).

``python -m bookings.analytics.kpi_docs`` rewrites the file; ``--check`` exits 1 when it is stale.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import sqlglot
from sqlglot import exp

from bookings.analytics import sql_files
from bookings.project_files import repository_file

INTRO = """\
# The KPIs

Every KPI is one SQL file in `sql/views/`, written in Trino, the dialect Athena runs. The same
text serves both worlds: in AWS, template.yaml creates each file as an Athena view (the
template's analytics section is generated from `sql/` by `python -m
bookings.analytics.sync_template`, and a test fails when the two differ); offline, `bookings
report` and `bookings sql` run it on DuckDB over the Parquet lake after sqlglot translates it
(`read="trino"`, `write="duckdb"`). This page is generated from the files' headers by
`python -m bookings.analytics.kpi_docs`.

Conventions shared by every booking KPI (they all read the view `booking_facts`):

- **Duplicates are excluded.** A row that is an exact copy of an earlier row of the same file
  (`is_duplicate`) is stored in the lake, counted by the data-quality KPIs, and left out of every
  booking KPI, so a re-sent row never counts twice.
- **Completion rates only count bookings with an outcome.** Live bookings arrive without
  `booking_complete`; they count in `bookings` but not in `completion_rate`, which is
  completed / bookings with an outcome (the mean of `booking_complete`). A group with no outcome
  at all has an empty rate.
- Months are calendar months of the UTC ingest date (`ingest_date`, the lake's partition) or of
  the departure date; changes are relative for volumes and in points (differences of rates)
  for completion rates.

Who uses what: **marketing** opens the marketing dashboard (channels, segments, campaign
targeting, latest ingests), **analysts** the analyst dashboard, `bookings sql` and the Excel
workbook, the **direction** the direction dashboard and its printable report (`bookings report`
writes them all). In AWS the same views feed the QuickSight SPICE datasets.
"""


def output_columns(entry: sql_files.SqlEntry) -> list[str]:
    tree = sqlglot.parse_one(entry.body, read="trino")
    if not isinstance(tree, exp.Query):
        return []
    return [name for name in tree.named_selects if name != "*"]


def render(sql_directory: Path | None = None) -> str:
    parts = [INTRO]
    parts.append("## Index\n")
    for entry in sql_files.kpis(sql_directory):
        parts.append(f"- [{entry.title}](#{entry.name.replace('_', '-')}): `{entry.name}`")
    parts.append("")
    for entry in sql_files.kpis(sql_directory):
        parts.append(f'<a id="{entry.name.replace("_", "-")}"></a>\n')
        parts.append(f"## {entry.title}\n")
        parts.append(f"- **SQL**: `sql/views/{entry.name}.sql` (view `{entry.name}`)")
        parts.append(f"- **Definition**: {entry.meta.get('definition', '')}")
        columns = output_columns(entry)
        if columns:
            parts.append("- **Columns**: " + ", ".join(f"`{c}`" for c in columns))
        parts.append(f"- **Used by**: {entry.meta.get('users', '')}")
        parts.append(f"- **Charted as**: {entry.meta.get('chart', '')}")
        if entry.meta.get("order"):
            parts.append(f"- **Report order**: `{entry.meta['order']}`")
        parts.append("")
    helpers = [v for v in sql_files.views(sql_directory) if not v.is_kpi]
    if helpers:
        parts.append("## Helper views\n")
        for entry in helpers:
            first = entry.sql.strip().splitlines()[0].lstrip("- ").strip()
            parts.append(f"- `sql/views/{entry.name}.sql`: {first} ...")
        parts.append("")
    queries = sql_files.queries(sql_directory)
    if queries:
        parts.append("## Example queries (Athena named queries)\n")
        for entry in queries:
            parts.append(
                f"- `sql/queries/{entry.name}.sql`: {entry.title}. "
                f"{entry.meta.get('definition', '')}".rstrip()
            )
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"


def docs_path() -> Path:
    return repository_file("docs/kpis.md")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 when docs/kpis.md is stale")
    args = parser.parse_args(argv)
    text = render()
    path = docs_path()
    if args.check:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            print(
                f"{path} is out of date: run python -m bookings.analytics.kpi_docs", file=sys.stderr
            )
            return 1
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
