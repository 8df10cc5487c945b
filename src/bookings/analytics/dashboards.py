"""Self-contained HTML dashboards (marketing, analyst, direction) and the direction report.

Each page embeds its data as JSON (a pre-aggregated cube of the KPI views plus a few KPI tables)
and a small inline script that applies the filters (sales channel, trip type, origin region) and
draws SVG charts: no library, no CDN, nothing fetched; the files open from disk.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
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

TABLE_COLUMNS: dict[str, list[tuple[str, str, str | None]]] = {
    "latest_ingests": [
        ("source_file", "File", None),
        ("last_ingested_at", "Ingested (UTC)", None),
        ("bookings", "Bookings", "int"),
        ("completion_rate", "Completion", "pct"),
        ("rejected_rows", "Rejected", "int"),
    ],
    "monthly_summary": [
        ("month", "Month", "month"),
        ("bookings", "Bookings", "int"),
        ("completion_rate", "Completion", "pct"),
        ("bookings_mom_change", "Bookings MoM", "signed"),
        ("completion_rate_mom_change", "Completion MoM", "points"),
        ("bookings_yoy_change", "Bookings YoY", "signed"),
        ("completion_rate_yoy_change", "Completion YoY", "points"),
    ],
    "yearly_summary": [
        ("year", "Year", None),
        ("months", "Months", "int"),
        ("bookings", "Bookings", "int"),
        ("completion_rate", "Completion", "pct"),
        ("extras_share", "With extras", "pct"),
        ("bookings_yoy_change", "Bookings YoY (same months)", "signed"),
        ("completion_rate_yoy_change", "Completion YoY (same months)", "points"),
    ],
    "data_quality_by_file": [
        ("source_file", "File", None),
        ("rows_read", "Rows read", "int"),
        ("rejected_rows", "Rejected", "int"),
        ("rejected_rate", "Rejected rate", "pct"),
        ("duplicates", "Duplicates", "int"),
        ("unknown_origins", "Unknown origins", "int"),
    ],
    "unknown_origins": [
        ("booking_origin", "Booking origin", None),
        ("bookings", "Bookings", "int"),
    ],
}


def _asset(name: str) -> str:
    return resources.files("bookings.analytics").joinpath("assets", name).read_text("utf-8")


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


def encode_cube(cube: pa.Table) -> dict[str, Any]:
    """The cube as compact rows: [dimension index, value index, channel, trip, region, bookings,
    with_outcome, completed]."""
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
        rows.append(
            [
                dimensions.index(dimension),
                value_index[value],
                row["sales_channel"],
                row["trip_type"],
                row["booking_origin_region"],
                int(row["bookings"]),
                int(row["with_outcome"]),
                int(row["completed"]),
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


def _table_spec(name: str, table: pa.Table, limit: int | None = None) -> dict[str, Any]:
    rows = rows_as_json(table if limit is None else table.slice(0, limit))
    columns = [{"key": k, "title": t, "format": f} for k, t, f in TABLE_COLUMNS[name]]
    return {"columns": columns, "rows": rows}


def dashboard_data(
    con: duckdb.DuckDBPyConnection,
    tables: Mapping[str, pa.Table],
    current_month: str | None = None,
) -> dict[str, Any]:
    cube = run_sql(con, "SELECT * FROM dashboard_cube")
    return {
        "cube": encode_cube(cube),
        "orders": _orders(tables),
        "segments": rows_as_json(tables["segment_opportunities"].slice(0, SEGMENTS_EMBEDDED)),
        "distributions": rows_as_json(tables["distributions"]),
        "reasons": rows_as_json(tables["rejected_by_reason"]),
        "tables": {
            "latest_ingests": _table_spec(
                "latest_ingests", tables["latest_ingests"], LATEST_INGESTS_EMBEDDED
            ),
            "monthly_summary": _table_spec("monthly_summary", tables["monthly_summary"]),
            "yearly_summary": _table_spec(
                "yearly_summary",
                yearly_rows(tables["yearly_summary"], tables["monthly_summary"], current_month),
            ),
            "data_quality_by_file": _table_spec(
                "data_quality_by_file", tables["data_quality_by_file"]
            ),
            "unknown_origins": _table_spec("unknown_origins", tables["unknown_origins"]),
        },
    }


def _pct(value: Any) -> str:
    return "–" if value is None else f"{100 * float(value):.1f}%"


def _signed(value: Any) -> str:
    return "–" if value is None else f"{100 * float(value):+.1f}%"


def _points(value: Any) -> str:
    return "–" if value is None else f"{100 * float(value):+.1f} pts"


def _int(value: Any) -> str:
    return "–" if value is None else f"{int(value):,}"


def _month(value: Any) -> str:
    return "–" if value is None else str(value)[:7]


FORMATTERS: dict[str | None, Callable[[Any], str]] = {
    "pct": _pct,
    "signed": _signed,
    "points": _points,
    "int": _int,
    "month": _month,
    None: str,
}


def yearly_rows(yearly: pa.Table, monthly: pa.Table, current_month: str | None = None) -> pa.Table:
    """The yearly summary with the number of ingest months each year covers, and year-over-year
    changes over the same months: a partial first or current year is compared with the same
    months of the year before, never a few months with twelve. Without those months, no change.
    The month in progress (``current_month``, YYYY-MM) is left out of the comparison."""
    by_year: dict[int, dict[int, Mapping[str, Any]]] = {}
    complete: dict[int, dict[int, Mapping[str, Any]]] = {}
    for row in monthly.to_pylist():
        if row["month"] is not None:
            month = row["month"]
            by_year.setdefault(month.year, {})[month.month] = row
            if current_month is None or f"{month.year:04d}-{month.month:02d}" < current_month:
                complete.setdefault(month.year, {})[month.month] = row

    def totals(months: Iterable[Mapping[str, Any]]) -> tuple[int, float | None]:
        rows = list(months)
        bookings = sum(int(r["bookings"] or 0) for r in rows)
        with_outcome = sum(int(r["with_outcome"] or 0) for r in rows)
        completed = sum(int(r["completed"] or 0) for r in rows)
        return bookings, (completed / with_outcome if with_outcome else None)

    rows = yearly.to_pylist()
    for row in rows:
        row["months"] = len(by_year.get(row["year"], {}))
        months = complete.get(row["year"], {})
        previous = by_year.get(row["year"] - 1, {})
        row["bookings_yoy_change"] = None
        row["completion_rate_yoy_change"] = None
        if months and all(number in previous for number in months):
            bookings, rate = totals(months.values())
            before, rate_before = totals(previous[number] for number in months)
            if before:
                row["bookings_yoy_change"] = (bookings - before) / before
            if rate is not None and rate_before is not None:
                row["completion_rate_yoy_change"] = rate - rate_before
    return (
        pa.Table.from_pylist(rows)
        if rows
        else yearly.append_column("months", pa.array([], pa.int64()))
    )


def _html_table(
    rows: Sequence[Mapping[str, Any]], columns: list[tuple[str, str, str | None]]
) -> Markup:
    head = "".join(f"<th>{escape(title)}</th>" for _, title, _ in columns)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{escape(FORMATTERS[fmt](row[key]))}</td>" for key, _, fmt in columns)
        + "</tr>"
        for row in rows
    )
    return Markup(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")  # noqa: S704


def monthly_svg(rows: Sequence[Mapping[str, Any]]) -> Markup:
    """Bars of bookings and a line of the completion rate per month, as static SVG for print."""
    width, height, left, right, top, bottom = 640, 220, 50, 44, 10, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = [f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="monthly bookings">']
    if not rows:
        parts.append('<text x="320" y="110" text-anchor="middle">no bookings yet</text></svg>')
        return Markup("".join(parts))  # noqa: S704
    max_bookings = max(int(r["bookings"]) for r in rows) or 1
    rates = [float(r["completion_rate"]) for r in rows if r["completion_rate"] is not None]
    max_rate = (max(rates) if rates else 0.01) * 1.15 or 0.01
    step = plot_w / len(rows)
    bar_w = max(2.0, step * 0.6)
    line = []
    parts.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" '
        f'y2="{top + plot_h}" stroke="#999"/>'
    )
    # A label is about 44 units wide: with many months, label every few (always the last).
    label_every = max(1, -(-44 // int(step)) if step >= 1 else len(rows))
    for i, row in enumerate(rows):
        x = left + i * step + (step - bar_w) / 2
        h = plot_h * int(row["bookings"]) / max_bookings
        parts.append(
            f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" '
            f'height="{max(h, 0.5):.1f}" fill="#2f6db5"/>'
        )
        label = str(row["month"])[:7]
        cx = x + bar_w / 2
        if (len(rows) - 1 - i) % label_every == 0:
            parts.append(
                f'<text x="{cx:.1f}" y="{top + plot_h + 14}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
        if row["completion_rate"] is not None:
            cy = top + plot_h - plot_h * float(row["completion_rate"]) / max_rate
            line.append(f"{cx:.1f},{cy:.1f}")
            parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3" fill="#e07b24"/>')
    if len(line) > 1:
        parts.append(
            f'<polyline points="{" ".join(line)}" fill="none" stroke="#e07b24" stroke-width="2"/>'
        )
    parts.append(f'<text x="{left - 4}" y="{top + 8}" text-anchor="end">{max_bookings:,}</text>')
    parts.append(f'<text x="{left + plot_w + 4}" y="{top + 8}">{100 * max_rate:.0f}%</text>')
    parts.append(
        f'<text x="{left}" y="{height - 6}">bars: bookings · dots: completion rate</text></svg>'
    )
    return Markup("".join(parts))  # noqa: S704


def _first(table: pa.Table) -> dict[str, Any]:
    rows = table.to_pylist()
    return rows[0] if rows else {}


def write_dashboards(
    con: duckdb.DuckDBPyConnection, tables: Mapping[str, pa.Table], out_dir: Path
) -> list[Path]:
    env = _environment()
    generated = datetime.now(UTC)
    generated_at = generated.strftime("%Y-%m-%d %H:%M UTC")
    current_month = generated.strftime("%Y-%m")
    overall = _first(tables["completion_overall"])
    dq = _first(tables["data_quality_summary"])
    lake_note = f"{_int(overall.get('bookings'))} bookings, {_int(dq.get('rows_read'))} rows read"
    common = {
        "pages": PAGES,
        "generated_at": generated_at,
        "current_month": current_month,
        "lake_note": lake_note,
        "css": Markup(_asset("dashboard.css")),  # noqa: S704 (the project's own stylesheet)
        "js": Markup(_asset("dashboard.js")),  # noqa: S704 (the project's own script)
        "data_json": _script_json(dashboard_data(con, tables, current_month)),
    }
    written = []
    dq_view = {
        "rows_read": _int(dq.get("rows_read")),
        "valid_rows": _int(dq.get("valid_rows")),
        "rejected_rows": _int(dq.get("rejected_rows")),
        "rejected_rate": _pct(dq.get("rejected_rate")),
        "duplicates": _int(dq.get("duplicates")),
        "duplicate_rate": _pct(dq.get("duplicate_rate")),
        "unknown_origins": _int(dq.get("unknown_origins")),
        "unknown_origin_rate": _pct(dq.get("unknown_origin_rate")),
    }
    example_queries = [
        {"name": q.name, "title": q.title, "body": q.body} for q in sql_files.queries()
    ]
    for page, label in PAGES:
        html = env.get_template(f"{page}.html").render(
            title=f"{label} dashboard",
            current=page,
            dq=dq_view,
            queries=example_queries,
            **common,
        )
        path = out_dir / f"{page}.html"
        path.write_text(html, encoding="utf-8")
        written.append(path)

    monthly = tables["monthly_summary"].to_pylist()
    # The month in progress is incomplete: the report speaks of the last complete month.
    complete = [row for row in monthly if str(row.get("month", ""))[:7] < current_month]
    latest = (complete or monthly)[-1] if monthly else {}
    report = env.get_template("direction_report.html").render(
        generated_at=generated_at,
        lake_note=lake_note,
        overall={
            "bookings": _int(overall.get("bookings")),
            "with_outcome": _int(overall.get("with_outcome")),
            "completed": _int(overall.get("completed")),
            "completion_rate": _pct(overall.get("completion_rate")),
            "extras_share": _pct(overall.get("extras_share")),
        },
        latest={
            "month": str(latest.get("month", "–"))[:7],
            "bookings": _int(latest.get("bookings")),
            "yoy": _signed(latest.get("bookings_yoy_change")),
        },
        monthly_svg=monthly_svg(monthly),
        monthly_table=_html_table(monthly, TABLE_COLUMNS["monthly_summary"]),
        yearly_table=_html_table(
            yearly_rows(
                tables["yearly_summary"], tables["monthly_summary"], current_month
            ).to_pylist(),
            TABLE_COLUMNS["yearly_summary"],
        ),
        regions_table=_html_table(
            tables["completion_by_origin_region"].to_pylist(),
            [
                ("booking_origin_region", "Origin region", None),
                ("bookings", "Bookings", "int"),
                ("completed", "Completed", "int"),
                ("completion_rate", "Completion", "pct"),
            ],
        ),
        dq_sentence=(
            f"{dq_view['rows_read']} rows read, {dq_view['rejected_rows']} rejected "
            f"({dq_view['rejected_rate']}), {dq_view['duplicates']} exact duplicates "
            f"({dq_view['duplicate_rate']}) left out of the figures, "
            f"{dq_view['unknown_origins']} bookings from an unknown origin."
        ),
    )
    path = out_dir / "direction_report.html"
    path.write_text(report, encoding="utf-8")
    written.append(path)
    return written
