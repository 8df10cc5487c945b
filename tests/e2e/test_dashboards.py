"""The dashboards in headless Chromium: they load from disk with no console error and no network
request, their charts render, and a filter changes the numbers. Screenshots go to
tests/artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.lake_builder import build_lake
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


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dashboards")
    build_lake(root, rows_per_file=1_000)
    out = root / "report"
    build_report(root, out)
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


def open_page(browser, path: Path):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    problems: list[str] = []
    requests: list[str] = []
    page.on(
        "console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, problems, requests


@pytest.mark.parametrize("name", PAGES)
def test_dashboard_loads_from_disk_without_errors_or_network(
    browser, report_dir: Path, name: str
) -> None:
    path = report_dir / f"{name}.html"
    page, problems, requests = open_page(browser, path)
    if name != "direction_report":
        page.wait_for_selector("body[data-ready='1']", timeout=10_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    assert problems == []
    assert requests == [path.as_uri()], "the page asked for something beyond itself"
    charts = page.locator("svg")
    assert charts.count() >= 1
    for index in range(charts.count()):
        chart = charts.nth(index)
        drawn = chart.locator("rect, circle, path, polyline").count()
        assert drawn > 0, f"{name}: chart {index} ({chart.get_attribute('aria-label')}) is empty"
    page.close()


@pytest.mark.parametrize("name", ["marketing", "analyst", "direction"])
def test_filters_change_the_numbers(browser, report_dir: Path, name: str) -> None:
    page, problems, _ = open_page(browser, report_dir / f"{name}.html")
    page.wait_for_selector("body[data-ready='1']")
    everything = int(page.text_content("#tile-bookings").replace(",", ""))
    bars_before = page.locator("svg[data-widget] rect").evaluate_all(
        "els => els.map(e => e.getAttribute('height')).join()"
    )
    page.select_option("#filter-sales_channel", "Mobile")
    mobile = int(page.text_content("#tile-bookings").replace(",", ""))
    assert 0 < mobile < everything
    assert "Mobile" in page.text_content("#filter-summary")
    page.select_option("#filter-trip_type", "RoundTrip")
    mobile_round = int(page.text_content("#tile-bookings").replace(",", ""))
    assert 0 < mobile_round <= mobile
    regions = page.locator("#filter-booking_origin_region option").all_text_contents()
    page.select_option("#filter-booking_origin_region", regions[1])
    narrowed = int(page.text_content("#tile-bookings").replace(",", ""))
    assert 0 < narrowed < mobile_round
    bars_after = page.locator("svg[data-widget] rect").evaluate_all(
        "els => els.map(e => e.getAttribute('height')).join()"
    )
    assert bars_after != bars_before
    page.screenshot(path=str(ARTIFACTS / f"{name}-filtered.png"), full_page=True)
    page.select_option("#filter-sales_channel", "")
    page.select_option("#filter-trip_type", "")
    page.select_option("#filter-booking_origin_region", "")
    assert int(page.text_content("#tile-bookings").replace(",", "")) == everything
    assert problems == []
    page.close()


def test_marketing_filter_matches_the_lake(browser, report_dir: Path) -> None:
    """The number the filtered dashboard shows is the KPI table's number for that channel."""
    import csv

    with (report_dir / "completion_by_sales_channel.csv").open() as handle:
        by_channel = {row["sales_channel"]: row for row in csv.DictReader(handle)}
    page, _, _ = open_page(browser, report_dir / "marketing.html")
    page.wait_for_selector("body[data-ready='1']")
    page.select_option("#filter-sales_channel", "Internet")
    shown = int(page.text_content("#tile-bookings").replace(",", ""))
    rate = page.text_content("#tile-completion")
    assert shown == int(by_channel["Internet"]["bookings"])
    assert rate == f"{100 * float(by_channel['Internet']['completion_rate']):.1f}%"
    page.close()
