"""The dashboards in headless Chromium, as their users see them.

They open from disk with no console error and no request beyond the page; the charts (Chart.js)
have nice ticks, rate axes within 100%, legends and intervals that widen for small groups; the
month in progress is marked and compared only on the same days; filters change the numbers, stay
in the URL and follow the links to the other pages; tables sort and download as CSV, charts as
PNG; marketing sees predicted completion for live bookings and a campaign table naming each
segment's comparable; the quarantined file shows where users look. Screenshots go to
tests/artifacts/ (open them: they are the review of what the user sees).
"""

from __future__ import annotations

import csv
import math
import re
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from support.lake_builder import QUARANTINED_REASON, BuiltLake, build_lake
from support.paths import ARTIFACTS

from bookings.analytics.report import build_report

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
PAGES = ("marketing", "analyst", "direction", "direction_report")
DASHBOARDS = ("marketing", "analyst", "direction")


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> BuiltLake:
    return build_lake(tmp_path_factory.mktemp("dashboards"), rows_per_file=1_000)


@pytest.fixture(scope="module")
def report_dir(lake: BuiltLake) -> Path:
    out = lake.root / "report"
    build_report(lake.root, out)
    return out


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (make browser)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def open_page(browser, path: Path, fragment: str = "", *, downloads: bool = False):
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=downloads)
    problems: list[str] = []
    requests: list[str] = []
    page.on(
        "console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri() + fragment)
    page.wait_for_selector("body[data-ready='1']", timeout=15_000)
    return page, problems, requests


def shot(page, name: str) -> None:
    """The whole page. The viewport grows to the page's height first and the charts get a moment
    to redraw at their new width (the scroll bar goes): a full-page capture taken while Chart.js
    redraws shows half-drawn charts no user sees."""
    ARTIFACTS.mkdir(exist_ok=True)
    size = page.viewport_size
    height = page.evaluate("() => document.documentElement.scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": height})
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    page.set_viewport_size(size)
    page.wait_for_timeout(100)


def number(text: str) -> int:
    return int(text.replace(",", "").strip())


def csv_rows(report_dir: Path, name: str) -> list[dict[str, str]]:
    with (report_dir / f"{name}.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def signed(value: str, unit: str) -> str:
    """The dashboards' way of printing a change (a fraction) as a signed percentage or points."""
    text = f"{abs(100 * float(value)):.1f}"
    return ("−" if float(value) < 0 and float(text) else "+") + text + unit


CHARTS = """() => Array.from(document.querySelectorAll('canvas')).map(canvas => {
  const chart = Chart.getChart(canvas);
  if (!chart) return {name: canvas.dataset.name || canvas.id, drawn: false};
  const scales = {};
  for (const [id, scale] of Object.entries(chart.scales)) {
    scales[id] = {type: scale.type, min: scale.min, max: scale.max,
                  display: scale.options.display !== false,
                  ticks: scale.ticks.map(t => t.value), labels: scale.ticks.map(t => t.label)};
  }
  return {
    name: canvas.dataset.name || canvas.id, drawn: true,
    width: canvas.getBoundingClientRect().width,
    card: (canvas.closest('.card, .tile') || canvas.parentElement).getBoundingClientRect().width,
    labels: chart.data.labels,
    datasets: chart.data.datasets.map(d => ({label: d.label, type: d.type || chart.config.type,
      data: d.data, interval: !!d.interval, colors: d.pointBackgroundColor, axis: d.yAxisID})),
    legend: chart.options.plugins.legend.display !== false,
    tooltip: chart.options.plugins.tooltip.enabled !== false,
    scales: scales,
  };
})"""


def charts_of(page) -> list[dict[str, Any]]:
    return page.evaluate(CHARTS)


# -- every page --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
def test_pages_open_from_disk_without_errors_or_network_and_every_chart_is_drawn(
    browser, report_dir: Path, name: str
) -> None:
    path = report_dir / f"{name}.html"
    page, problems, requests = open_page(browser, path)
    shot(page, name)
    assert problems == []
    assert requests == [path.as_uri()], "the page asked for something beyond itself"
    charts = charts_of(page)
    assert charts
    for chart in charts:
        assert chart["drawn"], f"{name}: {chart['name']} is not drawn"
        assert any(any(v is not None for v in d["data"]) for d in chart["datasets"]), chart["name"]
    page.close()


def _nice(step: float) -> bool:
    """1, 2, 2.5 or 5 times a power of ten."""
    exponent = math.floor(math.log10(step))
    return any(math.isclose(step, m * 10**exponent, rel_tol=1e-9) for m in (1, 2, 2.5, 5, 10))


@pytest.mark.parametrize("name", DASHBOARDS)
def test_charts_have_nice_ticks_rates_within_100_percent_legends_and_fill_their_card(
    browser, report_dir: Path, name: str
) -> None:
    page, problems, _ = open_page(browser, report_dir / f"{name}.html")
    for chart in charts_of(page):
        if not chart["name"].endswith("-trend"):  # sparklines have no axes, by design
            assert chart["legend"], chart["name"]
            assert chart["width"] >= 0.85 * chart["card"], chart["name"]
        assert chart["tooltip"], chart["name"]
        for axis, scale in chart["scales"].items():
            if scale["type"] != "linear" or not scale["display"] or len(scale["ticks"]) < 2:
                continue
            ticks = scale["ticks"]
            steps = {round(b - a, 12) for a, b in pairwise(ticks)}
            assert len(steps) == 1, (chart["name"], axis, scale["ticks"])
            assert _nice(steps.pop()), (chart["name"], axis, scale["ticks"])
            if axis == "rate" or "%" in "".join(scale["labels"]):
                assert scale["min"] >= 0, (chart["name"], scale)
                assert scale["max"] <= 1, (chart["name"], scale)
    assert problems == []
    page.close()


def test_rates_carry_their_interval_and_small_groups_are_faded(browser, report_dir: Path) -> None:
    page, _, _ = open_page(browser, report_dir / "analyst.html")
    (passengers,) = [c for c in charts_of(page) if c["name"] == "passengers"]
    rates = next(d for d in passengers["datasets"] if d["label"] == "Completion rate")
    intervals = next(d for d in passengers["datasets"] if d["interval"])
    widths = []
    for rate, interval in zip(rates["data"], intervals["data"], strict=True):
        if rate is None:
            continue
        low, high = interval
        assert low <= rate <= high
        widths.append(high - low)
    # Nine passengers are rare: their interval is the widest, their dot faded.
    colors = dict(zip(passengers["labels"], rates["colors"], strict=True))
    assert max(widths) == widths[-1]
    assert colors["9"] != colors["1"]
    assert "0.35" in colors["9"]
    page.close()


# -- the month in progress -----------------------------------------------------------------------


def test_the_month_in_progress_is_marked_and_compared_on_the_same_days(
    browser, report_dir: Path
) -> None:
    monthly = csv_rows(report_dir, "monthly_summary")
    current = monthly[0]
    assert (current["month"], current["month_status"], current["days_covered"]) == (
        "2025-02-01",
        "in progress",
        "12",
    )
    page, problems, _ = open_page(browser, report_dir / "marketing.html")
    shot(page, "marketing-month-in-progress")
    assert page.text_content("#tile-last-month-label") == "Last complete month · 2025-01"
    assert "2025-02 so far (in progress, days 1-12)" in page.text_content("#tile-progress-label")
    note = page.text_content("#tile-progress-note")
    assert f"the same days of 2025-01: {signed(current['bookings_mom_change'], '%')}" in note
    assert f"of 2024-02: {signed(current['bookings_yoy_change'], '%')}" in note
    assert number(page.text_content("#tile-progress")) == int(current["bookings"])
    (months,) = [c for c in charts_of(page) if c["name"] == "bookings-per-month"]
    assert months["labels"][-1] == ["2025-02", "in progress"]
    assert any("Month in progress" in d["label"] for d in months["datasets"])
    assert problems == []
    page.close()

    page, problems, _ = open_page(browser, report_dir / "direction.html")
    shot(page, "direction-month-in-progress")
    first = page.locator("[data-table='monthly_summary'] tbody tr").first
    assert first.get_attribute("class") == "in-progress"
    cells = first.locator("td").all_text_contents()
    assert cells[:3] == ["2025-02", "in progress", "12"]
    assert "up" not in (first.locator("td").nth(5).get_attribute("class") or "")  # not green
    header = page.locator("[data-table='monthly_summary'] thead th").first
    assert header.evaluate("th => getComputedStyle(th).position") == "sticky"
    years = page.locator("[data-table='yearly_summary'] tbody tr").first
    assert years.locator("td").all_text_contents()[:2] == ["2025", "1 + 1 in progress"]
    assert problems == []
    page.close()

    page, problems, _ = open_page(browser, report_dir / "direction_report.html")
    shot(page, "direction-report-month-in-progress")
    assert "Last complete month: 2025-01" in page.text_content("#last-complete-month")
    assert "2025-02, in progress (days 1-12)" in page.text_content("#month-in-progress")
    assert "marked" in (page.locator("tbody tr").nth(2).get_attribute("class") or "") or (
        page.locator("tr.marked").count() >= 1
    )
    assert problems == []
    page.close()


def test_after_files_that_all_arrived_this_month_no_month_is_called_complete(
    browser, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    from support import lake_builder

    today = datetime.now(UTC).date()
    original = lake_builder.INGEST_DATES
    lake_builder.INGEST_DATES = (today, today)
    try:
        built = lake_builder.build_lake(tmp_path, rows_per_file=300, quarantined_files=0)
    finally:
        lake_builder.INGEST_DATES = original
    out = tmp_path / "report"
    build_report(built.root, out)
    page, problems, _ = open_page(browser, out / "marketing.html")
    shot(page, "marketing-only-a-month-in-progress")
    assert page.text_content("#tile-last-month") == "none yet"
    assert f"{today:%Y-%m} so far (in progress" in page.text_content("#tile-progress-label")
    assert problems == []
    page.close()
    (years,) = csv_rows(out, "yearly_summary")
    assert (years["complete_months"], years["has_month_in_progress"]) == ("0", "true")


# -- filters -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "figure"),
    [("marketing", "#tile-bookings"), ("analyst", "#tile-bookings"), ("direction", "#macro-ytd")],
)
def test_filters_change_the_numbers(browser, report_dir: Path, name: str, figure: str) -> None:
    page, problems, _ = open_page(browser, report_dir / f"{name}.html")
    everything = number(page.text_content(figure))
    page.select_option("#filter-sales_channel", "Mobile")
    mobile = number(page.text_content(figure))
    assert 0 < mobile < everything
    assert "Mobile" in page.text_content("#filter-summary")
    page.select_option("#filter-trip_type", "RoundTrip")
    mobile_round = number(page.text_content(figure))
    assert 0 < mobile_round <= mobile
    shot(page, f"{name}-filtered")
    page.select_option("#filter-sales_channel", "")
    page.select_option("#filter-trip_type", "")
    assert number(page.text_content(figure)) == everything
    assert problems == []
    page.close()


def test_marketing_filter_matches_the_lake(browser, report_dir: Path) -> None:
    """The number the filtered dashboard shows is the KPI table's number for that channel."""
    by_channel = {
        r["sales_channel"]: r for r in csv_rows(report_dir, "completion_by_sales_channel")
    }
    page, _, _ = open_page(browser, report_dir / "marketing.html")
    page.select_option("#filter-sales_channel", "Internet")
    assert number(page.text_content("#tile-bookings")) == int(by_channel["Internet"]["bookings"])
    rate = float(by_channel["Internet"]["completion_rate"])
    assert page.text_content("#tile-completion") == f"{100 * rate:.1f}%"
    page.close()


def test_filters_are_kept_in_the_url_and_across_the_pages(browser, report_dir: Path) -> None:
    page, problems, _ = open_page(browser, report_dir / "marketing.html")
    page.select_option("#filter-sales_channel", "Mobile")
    page.select_option("#filter-trip_type", "RoundTrip")
    assert re.search(r"#.*sales_channel=Mobile", page.url)
    assert "trip_type=RoundTrip" in page.url
    link = page.locator("header nav a", has_text="Direction")
    assert link.get_attribute("href") == "direction.html#sales_channel=Mobile&trip_type=RoundTrip"
    link.click()
    page.wait_for_url(re.compile(r"direction\.html#"))
    page.wait_for_selector("body[data-ready='1']")
    assert page.input_value("#filter-sales_channel") == "Mobile"
    assert page.input_value("#filter-trip_type") == "RoundTrip"
    assert page.text_content("#filter-summary") == "filtered: Mobile · RoundTrip"
    shot(page, "direction-filter-kept-from-marketing")
    filtered_ytd = number(page.text_content("#macro-ytd"))
    page.locator("header nav a", has_text="Analyst").click()
    page.wait_for_url(re.compile(r"analyst\.html#"))
    page.wait_for_selector("body[data-ready='1']")
    assert page.input_value("#filter-sales_channel") == "Mobile"
    assert problems == []
    page.close()
    # A link opened afresh (a bookmark, a shared URL) gives the same filtered page.
    page, _, _ = open_page(
        browser, report_dir / "direction.html", "#sales_channel=Mobile&trip_type=RoundTrip"
    )
    assert number(page.text_content("#macro-ytd")) == filtered_ytd
    page.select_option("#filter-sales_channel", "")
    assert "sales_channel" not in page.url
    page.close()


# -- tables and exports --------------------------------------------------------------------------


def test_tables_sort_by_column_and_download_as_csv(browser, report_dir: Path) -> None:
    page, problems, _ = open_page(browser, report_dir / "marketing.html", downloads=True)
    table = page.locator("[data-table='latest_ingests']")
    column = table.locator("thead th", has_text="Bookings")
    column.locator("button").click()
    assert column.get_attribute("aria-sort") == "descending"
    values = [number(t) for t in table.locator("tbody tr td:nth-child(4)").all_text_contents()]
    assert values == sorted(values, reverse=True)
    column.locator("button").click()
    assert column.get_attribute("aria-sort") == "ascending"
    values = [number(t) for t in table.locator("tbody tr td:nth-child(4)").all_text_contents()]
    assert values == sorted(values)
    with page.expect_download() as download_info:
        table.locator("button.csv").click()
    download = download_info.value
    assert download.suggested_filename == "latest_ingests.csv"
    rows = list(csv.reader(Path(download.path()).read_text(encoding="utf-8").splitlines()))
    assert rows[0] == table.locator("thead th").all_text_contents()
    assert [number(r[3]) for r in rows[1:]] == values  # in the order shown, values as stored
    assert problems == []
    page.close()


def test_charts_download_as_png(browser, report_dir: Path) -> None:
    page, problems, _ = open_page(browser, report_dir / "marketing.html", downloads=True)
    card = page.locator(".card", has=page.locator("canvas[data-name='sales-channels']"))
    with page.expect_download() as download_info:
        card.locator("button.png").click()
    download = download_info.value
    assert download.suggested_filename == "sales-channels.png"
    data = Path(download.path()).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 5_000
    assert problems == []
    page.close()


# -- marketing -----------------------------------------------------------------------------------


def test_marketing_shows_predicted_completion_of_live_bookings(
    browser, lake: BuiltLake, report_dir: Path
) -> None:
    live = [r for r in lake.bookings if r["booking_complete"] is None and not r["is_duplicate"]]
    scored = [r["booking_complete_probability"] for r in live]
    scored = [p for p in scored if p is not None]
    page, problems, _ = open_page(browser, report_dir / "marketing.html")
    assert number(page.text_content("#tile-live")) == len(live)
    note = page.text_content("#tile-live-note")
    assert f"predicted completion {100 * sum(scored) / len(scored):.1f}%" in note
    assert f"≈ {round(sum(scored)):,} expected completions" in note
    expected = csv_rows(report_dir, "live_bookings_by_segment")[0]
    first = page.locator("[data-widget='live-segments'] tbody tr").first.locator("td")
    cells = first.all_text_contents()
    assert cells[:3] == [
        expected["booking_origin"],
        expected["sales_channel"],
        expected["lead_time_band"],
    ]
    assert cells[4] == f"{100 * float(expected['predicted_completion']):.1f}%"
    (scatter,) = [c for c in charts_of(page) if c["name"] == "live-segments"]
    assert sum(len(d["data"]) for d in scatter["datasets"]) > 10
    assert scatter["scales"]["x"]["type"] == "logarithmic"
    page.locator("[data-widget='live-segments']").scroll_into_view_if_needed()
    shot(page, "marketing-live-bookings")
    assert problems == []
    page.close()


def test_campaign_targeting_names_the_comparable_segment(browser, report_dir: Path) -> None:
    expected = csv_rows(report_dir, "segment_opportunities")[0]
    page, problems, _ = open_page(browser, report_dir / "marketing.html")
    table = page.locator("[data-widget='segments']")
    titles = table.locator("thead th").all_text_contents()
    first = table.locator("tbody tr").first.locator("td").all_text_contents()
    cells = dict(zip(titles, first, strict=True))
    assert cells["Origin"] == expected["booking_origin"]
    assert cells["Comparable segment"] == expected["comparable_segment"]
    assert cells["Comparable segment"].endswith("days, other origins")
    assert cells["Estimated rate"] == f"{100 * float(expected['estimated_rate']):.1f}%"
    assert cells["Opportunity (completions)"] == f"{round(float(expected['opportunity'])):,}"
    page.select_option("#filter-sales_channel", "Mobile")
    channels = set(table.locator("tbody tr td:nth-child(2)").all_text_contents())
    assert channels == {"Mobile"}
    assert problems == []
    page.close()


def test_latest_ingests_shows_file_names_and_utc_times(browser, report_dir: Path) -> None:
    page, problems, _ = open_page(browser, report_dir / "marketing.html")
    table = page.locator("[data-table='latest_ingests']")
    text = table.inner_text()
    assert "s3://" not in text
    assert "#0d8af" not in text
    assert "Ingested (UTC)" in table.locator("thead").inner_text()
    times = table.locator("tbody tr td:nth-child(3)").all_text_contents()
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", t) for t in times), times
    first = table.locator("tbody tr").first
    assert first.locator("td").first.get_attribute("title").startswith("s3://raw-bucket/")
    assert first.locator("td").all_text_contents()[:2] == [
        "export_error_2025-02-12.csv",
        "quarantined",
    ]
    assert problems == []
    page.close()


# -- the quarantined file ------------------------------------------------------------------------


def test_the_quarantined_file_shows_where_users_look(browser, report_dir: Path) -> None:
    page, problems, _ = open_page(browser, report_dir / "analyst.html")
    tile = page.locator("#tile-quarantined")
    assert number(tile.locator(".value").text_content()) == 1
    assert QUARANTINED_REASON in tile.text_content()
    first = page.locator("[data-table='data_quality_by_file'] tbody tr").first
    assert first.get_attribute("class") == "quarantined"
    assert first.locator("td").all_text_contents()[:3] == [
        "export_error_2025-02-12.csv",
        "quarantined",
        QUARANTINED_REASON,
    ]
    page.locator("[data-table='data_quality_by_file']").scroll_into_view_if_needed()
    shot(page, "analyst-quarantined-file")
    assert problems == []
    page.close()

    page, problems, _ = open_page(browser, report_dir / "direction_report.html")
    section = page.text_content("#data-quality")
    assert "1 file quarantined whole" in section
    assert "export_error_2025-02-12.csv" in section
    assert QUARANTINED_REASON in section
    assert problems == []
    page.close()


# -- the direction ---------------------------------------------------------------------------------


def test_the_direction_sees_macro_kpis_with_trends_and_the_years_first(
    browser, report_dir: Path
) -> None:
    page, problems, _ = open_page(browser, report_dir / "direction.html")
    # Not the marketing tiles: a few macro figures over complete months, with their trend.
    assert page.locator("[data-widget='marketing-tiles']").count() == 0
    assert page.locator("#tile-last-month").count() == 0
    # This lake has 4 complete months: the tiles say so rather than call them a year.
    assert page.text_content("#macro-period") == "4 complete months (2024-01 to 2025-01)"
    assert page.text_content("#macro-bookings-change") == (
        "no 12 complete months before them to compare with"
    )
    sparks = [c for c in charts_of(page) if c["name"].endswith("-trend")]
    assert {c["name"] for c in sparks} == {"bookings-trend", "completion-trend", "extras-trend"}
    for spark in sparks:
        assert spark["labels"] == ["2024-01", "2024-02", "2024-03", "2025-01"]
        assert all(v is not None for v in spark["datasets"][0]["data"])
    # The yearly summary comes first, before the monthly chart and table.
    order = page.evaluate(
        "() => Array.from(document.querySelectorAll('main > section h2')).map(h => h.textContent)"
    )
    assert order[0] == "Yearly summary"
    assert order.index("Yearly summary") < order.index("Monthly summary")
    assert problems == []
    page.close()


def test_the_direction_compares_the_last_12_complete_months_with_the_12_before(
    browser, tmp_path: Path
) -> None:
    from datetime import date

    from support import lake_builder

    # 25 monthly files: 24 complete months and one in progress, as the demo makes them.
    days = tuple(date(2023 + (m // 12), m % 12 + 1, 1) for m in range(25))
    original = lake_builder.INGEST_DATES
    lake_builder.INGEST_DATES = days
    try:
        built = lake_builder.build_lake(tmp_path, rows_per_file=120, quarantined_files=0)
    finally:
        lake_builder.INGEST_DATES = original
    out = tmp_path / "report"
    build_report(built.root, out)
    monthly = [r for r in csv_rows(out, "monthly_summary") if r["month_status"] == "complete"]
    assert len(monthly) == 24
    recent, earlier = monthly[:12], monthly[12:]  # newest first
    bookings = sum(int(r["bookings"]) for r in recent)
    before = sum(int(r["bookings"]) for r in earlier)
    rate = sum(int(r["completed"]) for r in recent) / sum(int(r["with_outcome"]) for r in recent)
    rate_before = sum(int(r["completed"]) for r in earlier) / sum(
        int(r["with_outcome"]) for r in earlier
    )
    page, problems, _ = open_page(browser, out / "direction.html")
    shot(page, "direction-12-months")
    assert page.text_content("#macro-period") == "last 12 complete months (2024-01 to 2024-12)"
    assert number(page.text_content("#macro-bookings")) == bookings
    change = page.text_content("#macro-bookings-change")
    assert change == f"{signed(str((bookings - before) / before), '%')} vs the 12 months before"
    assert page.text_content("#macro-completion") == f"{100 * rate:.1f}%"
    points = signed(str(rate - rate_before), " pts")
    assert page.text_content("#macro-completion-change") == f"{points} vs the 12 months before"
    (spark,) = [c for c in charts_of(page) if c["name"] == "bookings-trend"]
    assert spark["datasets"][0]["data"] == [int(r["bookings"]) for r in reversed(monthly)]
    assert problems == []
    page.close()


def test_long_labels_are_shown_whole_where_they_fit_and_in_the_tooltip_otherwise(
    browser, report_dir: Path
) -> None:
    reasons = [r["reason"] for r in csv_rows(report_dir, "rejected_by_reason")]
    page, _, _ = open_page(browser, report_dir / "analyst.html")
    (chart,) = [c for c in charts_of(page) if c["name"] == "rejected-reasons"]
    assert chart["labels"] == reasons[: len(chart["labels"])]
    axis = chart["scales"]["y"]["labels"]
    assert axis == chart["labels"]  # horizontal bars: whole reason codes, none cut
    page.close()
