"""Self-contained HTML dashboards (marketing, analyst, direction) and the direction's report.

Each page embeds its data as JSON (a cube of the bookings crossed with the filters, and KPI
tables), the charting library and ``assets/dashboard.js``, which applies the filters (kept in
the URL and carried by the links between the pages) and draws the charts and tables. The
library is Chart.js, committed as ``assets/vendor/chart.umd.min.js``: the file npm installs for
the version ``tools/dashboards/package-lock.json`` pins (a test holds the two byte for byte). No
CDN, nothing fetched: the pages open from disk.

Months are ingest months; the month of the latest ingest is in progress (``monthly_summary``
says which, and how many days it has had): it is marked on every page and compared only month
to date, with the same days of the previous month and of the same month a year earlier.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import pyarrow as pa
from markupsafe import Markup, escape

from bookings.analytics import sql_files
from bookings.analytics.engine import run_sql
from bookings.analytics.exports import rows_as_json

PAGES = (("marketing", "Marketing"), ("analyst", "Analyst"), ("direction", "Direction"))
FILTER_DIMENSIONS = ("sales_channel", "trip_type", "booking_origin_region")
CHART_LIBRARY = "vendor/chart.umd.min.js"
# The KPI table that gives each cube dimension its display order.
ORDER_SOURCES = {
    "sales_channel": "completion_by_sales_channel",
    "trip_type": "completion_by_trip_type",
    "booking_origin_region": "completion_by_origin_region",
    "flight_day": "completion_by_flight_day",
    "departure_hour_band": "completion_by_departure_hour_band",
    "lead_time_band": "completion_by_lead_time_band",
    "stay_band": "completion_by_stay_band",
    "service_tier": "completion_by_service_tier",
    "num_passengers": "completion_by_num_passengers",
    "extra_services_count": "completion_by_extras_count",
    "destination_region": "completion_by_destination_region",
}
SEGMENTS_EMBEDDED = 400
LATEST_INGESTS_EMBEDDED = 25
IN_PROGRESS = "in progress"


@dataclass(frozen=True)
class Column:
    """A column of a dashboard table: the KPI column, its title, how its values read
    (``int``, ``decimal``, ``pct``, ``signed``, ``points``, ``month``, ``time``, ``text``) and
    the column whose value is the cell's tooltip."""

    key: str
    title: str
    kind: str = "text"
    title_key: str | None = None
    plain: bool = False  # a signed figure that is no trend: not coloured as a gain or a loss

    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"key": self.key, "title": self.title, "kind": self.kind}
        if self.title_key:
            spec["title_key"] = self.title_key
        if self.plain:
            spec["plain"] = True
        return spec


TABLES: dict[str, list[Column]] = {
    "latest_ingests": [
        Column("file_name", "File", title_key="source_file"),
        Column("status", "Status"),
        Column("last_ingested_at", "Ingested (UTC)", "time"),
        Column("bookings", "Bookings", "int"),
        Column("completion_rate", "Completion", "pct"),
        Column("rejected_rows", "Rejected rows", "int"),
        Column("reason", "Why quarantined"),
    ],
    "monthly_summary": [
        Column("month", "Month", "month"),
        Column("month_status", "Status"),
        Column("days_covered", "Days", "int"),
        Column("bookings", "Bookings", "int"),
        Column("completion_rate", "Completion", "pct"),
        Column("bookings_mom_change", "Bookings vs previous month", "signed"),
        Column("completion_rate_mom_change", "Completion vs previous month", "points"),
        Column("bookings_yoy_change", "Bookings vs a year earlier", "signed"),
        Column("completion_rate_yoy_change", "Completion vs a year earlier", "points"),
    ],
    "yearly_summary": [
        Column("year", "Year"),
        Column("months_label", "Months"),
        Column("bookings", "Bookings", "int"),
        Column("completion_rate", "Completion", "pct"),
        Column("extras_share", "With extras", "pct"),
        Column("avg_purchase_lead", "Average lead time (days)", "decimal"),
        Column("bookings_yoy_change", "Bookings vs same months a year earlier", "signed"),
        Column("completion_rate_yoy_change", "Completion vs same months", "points"),
    ],
    "data_quality_by_file": [
        Column("file_name", "File", title_key="source_file"),
        Column("status", "Status"),
        Column("reason", "Why quarantined"),
        Column("rows_read", "Rows read", "int"),
        Column("rejected_rows", "Rejected", "int"),
        Column("rejected_rate", "Rejected rate", "pct"),
        Column("duplicates", "Duplicates", "int"),
        Column("unknown_origins", "Unknown origins", "int"),
    ],
    "unknown_origins": [
        Column("booking_origin", "Booking origin"),
        Column("bookings", "Bookings", "int"),
    ],
    "segment_opportunities": [
        Column("booking_origin", "Origin"),
        Column("sales_channel", "Channel"),
        Column("lead_time_band", "Lead time (days)"),
        Column("bookings", "Bookings", "int"),
        Column("completion_rate", "Completion", "pct"),
        Column("estimated_rate", "Estimated rate", "pct"),
        Column("comparable_segment", "Comparable segment"),
        Column("comparable_rate", "Comparable rate", "pct"),
        Column("rate_gap", "Gap", "points", plain=True),
        Column("opportunity", "Opportunity (completions)", "int"),
    ],
    "live_bookings_by_segment": [
        Column("booking_origin", "Origin"),
        Column("sales_channel", "Channel"),
        Column("lead_time_band", "Lead time (days)"),
        Column("scored", "Live bookings scored", "int"),
        Column("predicted_completion", "Predicted completion", "pct"),
        Column("expected_completions", "Expected completions", "int"),
        Column("completion_rate", "Completion so far (with an outcome)", "pct"),
        Column("completions_below_average", "Completions below the average", "int"),
    ],
}


def _asset(name: str) -> str:
    return resources.files("bookings.analytics").joinpath("assets", name).read_text("utf-8")


def chart_library() -> str:
    """The minified Chart.js build the pages embed."""
    return _asset(CHART_LIBRARY)


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(_asset),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def _script_json(payload: Any) -> Markup:
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    # Inside <script>, "</" could close the element early.
    return Markup(text.replace("</", "<\\/"))  # noqa: S704 (JSON with "</" escaped)


def _script(source: str) -> Markup:
    if "</script" in source.lower():
        raise ValueError("a script to embed contains '</script': it would end the element")
    return Markup(source)  # noqa: S704 (the project's own script or the pinned library)


CUBE_MEASURES = (
    "bookings",
    "with_outcome",
    "completed",
    "with_extras",
    "live_scored",
    "live_predicted",
)


def encode_cube(cube: pa.Table) -> dict[str, Any]:
    """The cube as compact rows: [dimension index, value index, channel, trip, region, then
    the measures of ``CUBE_MEASURES``]."""
    dimensions: list[str] = []
    values: list[str] = []
    value_index: dict[str, int] = {}
    rows = []
    for row in cube.to_pylist():
        dimension = row["dimension"]
        if dimension not in dimensions:
            dimensions.append(dimension)
        value = "" if row["value"] is None else str(row["value"])
        if value not in value_index:
            value_index[value] = len(values)
            values.append(value)
        measures: list[int | float] = [int(row[name] or 0) for name in CUBE_MEASURES[:-1]]
        measures.append(round(float(row["live_predicted"] or 0.0), 4))
        rows.append(
            [
                dimensions.index(dimension),
                value_index[value],
                row["sales_channel"],
                row["trip_type"],
                row["booking_origin_region"],
                *measures,
            ]
        )
    return {"dimensions": dimensions, "values": values, "rows": rows}


def _orders(tables: Mapping[str, pa.Table]) -> dict[str, list[str]]:
    orders = {}
    for dimension, source in ORDER_SOURCES.items():
        table = tables.get(source)
        if table is not None and table.num_rows:
            orders[dimension] = ["" if v is None else str(v) for v in table.column(0).to_pylist()]
    return orders


@dataclass(frozen=True)
class MonthInProgress:
    """The month of the latest ingest, still filling up, and how far the data reach."""

    month: str | None  # YYYY-MM, None when the lake holds no booking
    days_covered: int | None
    last_ingested_at: datetime | None

    def note(self) -> str:
        if self.last_ingested_at is None:
            return "no bookings yet"
        stamp = self.last_ingested_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        days = "1 day" if self.days_covered == 1 else f"{self.days_covered} days"
        return f"data up to {stamp} · {self.month} in progress ({days})"

    def as_json(self) -> dict[str, Any]:
        return {
            "month_in_progress": self.month,
            "days_covered": self.days_covered,
            "last_ingested_at": None
            if self.last_ingested_at is None
            else self.last_ingested_at.isoformat(),
        }


def month_in_progress(tables: Mapping[str, pa.Table]) -> MonthInProgress:
    in_progress = [
        row for row in tables["monthly_summary"].to_pylist() if row["month_status"] == IN_PROGRESS
    ]
    latest_booking = max(
        (
            row["last_ingested_at"]
            for row in tables["latest_ingests"].to_pylist()
            if row["status"] == "delivered" and row["last_ingested_at"] is not None
        ),
        default=None,
    )
    if not in_progress or latest_booking is None:
        return MonthInProgress(None, None, None)
    row = in_progress[0]
    return MonthInProgress(_month(row["month"]), int(row["days_covered"]), latest_booking)


def yearly_rows(yearly: pa.Table) -> list[dict[str, Any]]:
    """The yearly summary with a ``months_label``: the complete months, and the month in
    progress when the year holds it ("11 + 1 in progress")."""
    rows = rows_as_json(yearly)
    for row in rows:
        label = str(row["complete_months"])
        if row["has_month_in_progress"]:
            label += " + 1 in progress"
        row["months_label"] = label
    return rows


def _table_spec(name: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"columns": [c.spec() for c in TABLES[name]], "rows": rows}


def dashboard_data(
    con: duckdb.DuckDBPyConnection,
    tables: Mapping[str, pa.Table],
    progress: MonthInProgress | None = None,
) -> dict[str, Any]:
    progress = progress or month_in_progress(tables)
    cube = run_sql(con, "SELECT * FROM dashboard_cube")
    segments = rows_as_json(tables["segment_opportunities"].slice(0, SEGMENTS_EMBEDDED))
    live_segments = rows_as_json(tables["live_bookings_by_segment"])
    return {
        "as_of": progress.as_json(),
        "cube": encode_cube(cube),
        "orders": _orders(tables),
        "segments": segments,
        "live_segments": live_segments,
        "distributions": rows_as_json(tables["distributions"]),
        "reasons": rows_as_json(tables["rejected_by_reason"]),
        "tables": {
            "latest_ingests": _table_spec(
                "latest_ingests",
                rows_as_json(tables["latest_ingests"].slice(0, LATEST_INGESTS_EMBEDDED)),
            ),
            "monthly_summary": _table_spec(
                "monthly_summary", rows_as_json(tables["monthly_summary"])
            ),
            "yearly_summary": _table_spec("yearly_summary", yearly_rows(tables["yearly_summary"])),
            "data_quality_by_file": _table_spec(
                "data_quality_by_file", rows_as_json(tables["data_quality_by_file"])
            ),
            "unknown_origins": _table_spec(
                "unknown_origins", rows_as_json(tables["unknown_origins"])
            ),
            # Rows come with the widgets (filtered there); the spec gives the columns.
            "segment_opportunities": _table_spec("segment_opportunities", []),
            "live_bookings_by_segment": _table_spec("live_bookings_by_segment", []),
        },
    }


# -- the same formats in Python, for the printable report --------------------------------------
def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


def _pct(value: Any) -> str:
    return "–" if _missing(value) else f"{100 * float(value):.1f}%"


def _with_sign(value: Any, unit: str) -> str:
    """The sign of the figure as printed: a change that rounds to zero is "+0.0"."""
    if _missing(value):
        return "–"
    text = f"{abs(100 * float(value)):.1f}"
    negative = float(value) < 0 and float(text) != 0
    return f"{'−' if negative else '+'}{text}{unit}"


def _signed(value: Any) -> str:
    return _with_sign(value, "%")


def _points(value: Any) -> str:
    return _with_sign(value, " pts")


def _int(value: Any) -> str:
    return "–" if _missing(value) else f"{round(float(value)):,}"


def _decimal(value: Any) -> str:
    return "–" if _missing(value) else f"{float(value):.1f}"


def _month(value: Any) -> str:
    return "–" if _missing(value) else str(value)[:7]


def _time(value: Any) -> str:
    if _missing(value):
        return "–"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return str(value).replace("T", " ")[:16] + " UTC"


def _text(value: Any) -> str:
    return "–" if _missing(value) else str(value)


FORMATS: dict[str, Callable[[Any], str]] = {
    "pct": _pct,
    "signed": _signed,
    "points": _points,
    "int": _int,
    "decimal": _decimal,
    "month": _month,
    "time": _time,
    "text": _text,
}
NUMERIC_KINDS = frozenset({"int", "decimal", "pct", "signed", "points"})


def _html_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column]) -> Markup:
    head = "".join(
        f"<th{' class=num' if c.kind in NUMERIC_KINDS else ''}>{escape(c.title)}</th>"
        for c in columns
    )
    body = []
    for row in rows:
        marked = row.get("month_status") == IN_PROGRESS or row.get("status") == "quarantined"
        cells = "".join(
            f"<td{' class=num' if c.kind in NUMERIC_KINDS else ''}>"
            f"{escape(FORMATS[c.kind](row.get(c.key)))}</td>"
            for c in columns
        )
        body.append(f"<tr{' class=marked' if marked else ''}>{cells}</tr>")
    return Markup(  # noqa: S704 (every value is escaped above)
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def _first(table: pa.Table) -> dict[str, Any]:
    rows = table.to_pylist()
    return rows[0] if rows else {}


def _dq_view(tables: Mapping[str, pa.Table]) -> dict[str, str]:
    dq = _first(tables["data_quality_summary"])
    quarantined = [
        row for row in tables["data_quality_by_file"].to_pylist() if row["status"] == "quarantined"
    ]
    notes = [f"{row['file_name']}: {row['reason']}" for row in quarantined]
    return {
        "rows_read": _int(dq.get("rows_read")),
        "valid_rows": _int(dq.get("valid_rows")),
        "rejected_rows": _int(dq.get("rejected_rows")),
        "rejected_rate": _pct(dq.get("rejected_rate")),
        "duplicates": _int(dq.get("duplicates")),
        "duplicate_rate": _pct(dq.get("duplicate_rate")),
        "unknown_origins": _int(dq.get("unknown_origins")),
        "unknown_origin_rate": _pct(dq.get("unknown_origin_rate")),
        "quarantined_files": _int(dq.get("quarantined_files") or 0),
        "quarantined_note": "; ".join(notes) if notes else "every file could be read",
        "quarantined_note_short": quarantined[0]["file_name"]
        + (f" and {len(quarantined) - 1} more" if len(quarantined) > 1 else "")
        if quarantined
        else "",
    }


def _report_context(
    tables: Mapping[str, pa.Table], progress: MonthInProgress, dq: Mapping[str, str]
) -> dict[str, Any]:
    """What the printable report says: figures of complete months, the month in progress
    apart and compared on the same days, the quarantined files with their reasons."""
    overall = _first(tables["completion_overall"])
    monthly = tables["monthly_summary"].to_pylist()  # newest first
    complete = [row for row in monthly if row["month_status"] != IN_PROGRESS]
    current = [row for row in monthly if row["month_status"] == IN_PROGRESS]
    last = complete[0] if complete else None
    quarantined = [
        row for row in tables["data_quality_by_file"].to_pylist() if row["status"] == "quarantined"
    ]
    chart_rows = [
        {
            "month": _month(row["month"]),
            "bookings": int(row["bookings"]),
            "with_outcome": int(row["with_outcome"]),
            "completed": int(row["completed"]),
            "in_progress": row["month_status"] == IN_PROGRESS,
        }
        for row in reversed(monthly)
    ]
    return {
        "overall": {
            "bookings": _int(overall.get("bookings")),
            "with_outcome": _int(overall.get("with_outcome")),
            "completed": _int(overall.get("completed")),
            "completion_rate": _pct(overall.get("completion_rate")),
            "extras_share": _pct(overall.get("extras_share")),
        },
        "last": None
        if last is None
        else {
            "month": _month(last["month"]),
            "bookings": _int(last["bookings"]),
            "mom": _signed(last["bookings_mom_change"]),
            "yoy": _signed(last["bookings_yoy_change"]),
            "completion_rate": _pct(last["completion_rate"]),
        },
        "progress": None
        if not current
        else {
            "month": _month(current[0]["month"]),
            "days": "day 1"
            if current[0]["days_covered"] == 1
            else f"days 1-{current[0]['days_covered']}",
            "bookings": _int(current[0]["bookings"]),
            "mom": _signed(current[0]["bookings_mom_change"]),
            "yoy": _signed(current[0]["bookings_yoy_change"]),
        },
        "as_of_note": progress.note(),
        "monthly_table": _html_table(monthly, TABLES["monthly_summary"]),
        "yearly_table": _html_table(
            yearly_rows(tables["yearly_summary"]), TABLES["yearly_summary"]
        ),
        "regions_table": _html_table(
            tables["completion_by_origin_region"].to_pylist(),
            [
                Column("booking_origin_region", "Origin region"),
                Column("bookings", "Bookings", "int"),
                Column("completed", "Completed", "int"),
                Column("completion_rate", "Completion", "pct"),
            ],
        ),
        "quarantined_table": _html_table(
            quarantined,
            [
                Column("file_name", "File"),
                Column("reason", "Why it was quarantined"),
            ],
        )
        if quarantined
        else None,
        "dq_sentence": (
            f"{dq['rows_read']} rows read, {dq['rejected_rows']} rejected "
            f"({dq['rejected_rate']}), {dq['duplicates']} exact duplicates "
            f"({dq['duplicate_rate']}) left out of the figures, "
            f"{dq['unknown_origins']} bookings from an unknown origin; "
            f"{dq['quarantined_files']} file{'' if dq['quarantined_files'] == '1' else 's'} "
            "quarantined whole."
        ),
        "chart_json": _script_json(chart_rows),
    }


def write_dashboards(
    con: duckdb.DuckDBPyConnection, tables: Mapping[str, pa.Table], out_dir: Path
) -> list[Path]:
    env = _environment()
    generated_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    progress = month_in_progress(tables)
    overall = _first(tables["completion_overall"])
    dq = _dq_view(tables)
    lake_note = f"{_int(overall.get('bookings'))} bookings, {dq['rows_read']} rows read"
    common = {
        "pages": PAGES,
        "generated_at": generated_at,
        "as_of_note": progress.note(),
        "lake_note": lake_note,
        "css": Markup(_asset("dashboard.css")),  # noqa: S704 (the project's own stylesheet)
        "chart_js": _script(chart_library()),
        "js": _script(_asset("dashboard.js")),
        "data_json": _script_json(dashboard_data(con, tables, progress)),
        "dq": dq,
    }
    example_queries = [
        {"name": q.name, "title": q.title, "body": q.body} for q in sql_files.queries()
    ]
    written = []
    for page, label in PAGES:
        html = env.get_template(f"{page}.html").render(
            title=f"{label} dashboard", current=page, queries=example_queries, **common
        )
        path = out_dir / f"{page}.html"
        path.write_text(html, encoding="utf-8")
        written.append(path)

    report = env.get_template("direction_report.html").render(
        generated_at=generated_at,
        lake_note=lake_note,
        chart_js=common["chart_js"],
        **_report_context(tables, progress, dq),
    )
    path = out_dir / "direction_report.html"
    path.write_text(report, encoding="utf-8")
    written.append(path)
    return written


__all__ = [
    "PAGES",
    "TABLES",
    "Column",
    "MonthInProgress",
    "chart_library",
    "dashboard_data",
    "encode_cube",
    "month_in_progress",
    "write_dashboards",
    "yearly_rows",
]
