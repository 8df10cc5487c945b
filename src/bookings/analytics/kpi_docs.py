"""Writes docs/kpis.md from the headers of sql/views and sql/queries (one source for both).

``python -m bookings.analytics.kpi_docs`` rewrites the file; ``--check`` exits 1 when it is stale.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import sqlglot
from sqlglot import exp

from bookings.analytics import sql_files
from bookings.generated_docs import write_or_check
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

### The month in progress

The lake's **as-of date** is the UTC date of its latest ingest (`max(ingest_date)` over the
bookings). The month holding it is **in progress**: its end has not been reached in the data,
whatever today's date is (a lake whose last file arrived on 12 February reads as "February, 12
days so far" in March too: February is not complete *in the data*, and comparing its 12 days
with whole months would mislead). Every earlier month is **complete**. So:

- `monthly_summary` says `month_status` ('complete' or 'in progress') and `days_covered` (the
  month's length, or the days the month in progress has had: days 1 to the as-of day);
- a complete month is compared with the whole previous month (`*_mom_change`) and the whole same
  month a year earlier (`*_yoy_change`); the month in progress **month to date**: its days 1 to
  `days_covered` against the same days of the previous month and of the same month a year
  earlier (31 March against 1-31 February counts every February day);
- the "last complete month" tile and the report's figure never name the month in progress (with
  only a month in progress, they say "none yet"); the month in progress has a tile of its own,
  striped bars in the charts, a shaded row in the tables, and its changes are not coloured as
  gains or losses;
- `yearly_summary` counts each year's complete months (`complete_months`, and
  `has_month_in_progress`), and compares a year's complete months with the same months of the
  year before: never a partial year with a whole one;
- the direction's macro figures are over the last 12 complete months, against the 12 before when
  the lake holds them (else they say so).

### Campaign targeting: the comparable segment and the estimated rate

A segment (booking origin × sales channel × lead-time band) is compared with its **comparable
segment**: the bookings of the same channel and lead-time band from every *other* origin (for
example "Internet, 31-90 days, other origins"). Leaving the segment out matters for the large
ones: Australia is a third of the bookings, and a benchmark that included it would mostly be
Australia itself. The comparison is with the other origins' *pooled* rate, not with the best
origin: "if this segment converted like the average booking of its channel and lead time".

A segment of 8 bookings with no completion says little, so its rate is **shrunk** towards the
comparable rate before it is compared (empirical Bayes, a beta-binomial model): estimated rate =
(completed + k × comparable rate) / (bookings with an outcome + k). The prior's strength k
(`prior_bookings`, in bookings) is estimated from the data by the method of moments: how far
segment rates spread around their comparables beyond what chance explains (the binomial noise
of each segment). A segment with many outcomes keeps nearly its own rate; one with a few moves
most of the way to its comparable. `rate_gap` = comparable rate − estimated rate, and
`opportunity` = bookings × the gap (floored at 0): the completions gained if the segment
converted like its comparable segment. The table names the comparable segment and shows both
rates, so a marketer can judge the assumption.

### Predicted completion of live bookings

Live bookings (no outcome yet) carry the model's `booking_complete_probability`. Their mean is
the **predicted completion rate** and their sum the **expected completions** (the number of
completions the model expects among them). `live_bookings_by_segment` ranks the segments by
`completions_below_average` = live bookings scored × (the predicted completion of every live
booking − the segment's): large where predicted completion is low *and* the volume is large.
The marketing dashboard charts each segment's volume against its predicted completion and lists
the segments that lack the most completions, beside their completion rate so far.

### Rates in the charts

Every completion rate is drawn with its 95% **Wilson interval** (bookings with an outcome as
the trials), so a rate over a few bookings shows as the wide, uncertain figure it is; a rate
over fewer than 30 bookings with an outcome is drawn faded. Rate axes start at 0 and end at the
first round step above the widest interval, never past 100%.

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
    return write_or_check(
        docs_path(), render(), check=args.check, regenerate="python -m bookings.analytics.kpi_docs"
    )


if __name__ == "__main__":
    raise SystemExit(main())
