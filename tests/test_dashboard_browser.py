"""The dashboard end to end: `wmsight dashboard` serving a real published run, driven in
Debian's headless Chromium by Playwright. Every page loads without an exception in both
languages (screenshots of each go to docs/screenshots/, linked from the README); a
planner logs in, approves one recommendation and changes another, and both appear in
the published approval feeds; nobody without a login can approve.

Needs /usr/bin/chromium (`make browser` installs it with the CJK fonts; `make test`
runs it first)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from conftest import PublishedWorld
from playwright.sync_api import Page, expect, sync_playwright

from dashboards import review
from dashboards.data import latest_publication

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parents[1] / "docs" / "screenshots"
PAGES = {  # url path: title in Chinese, in English
    "": ("总览", "Overview"),
    "customers": ("客户", "Customers"),
    "alerts": ("流失预警", "Churn alerts"),
    "review": ("补货审批", "Replenishment review"),
    "accuracy": ("预测准确度", "Forecast accuracy"),
    "quality": ("数据质量", "Data quality"),
}
# the flags this machine's closed network needs (no background connections)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serving(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=5) as answer:
            return answer.status == 200
    except OSError:
        return False


def test_stopping_the_dashboard_stops_its_server(tmp_path: Path) -> None:
    """A service manager stops `wmsight dashboard` with SIGTERM: the server must go with
    it, not run on orphaned (as it did when the command was the server's parent)."""
    url = f"http://localhost:{(port := _free_port())}"
    server = subprocess.Popen(
        [sys.executable, "-m", "wmsight.cli", "dashboard", "--feeds", str(tmp_path / "feeds"),
         "--db", str(tmp_path / "w.duckdb"), "--port", str(port), "--no-open"],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 180
    while not _serving(url):
        assert server.poll() is None and time.monotonic() < deadline, "the dashboard did not start"
        time.sleep(0.5)
    server.terminate()
    server.wait(timeout=30)
    deadline = time.monotonic() + 15
    while _serving(url) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _serving(url), "the dashboard's server outlived the stopped command"


@pytest.fixture(scope="module")
def served(published_world: PublishedWorld, tmp_path_factory: pytest.TempPathFactory):
    """`wmsight dashboard` on a copy of the published run, until the module ends."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (Debian chromium + CJK fonts)")
    world = published_world.copy(tmp_path_factory.mktemp("served"))
    port = _free_port()
    log = tmp_path_factory.mktemp("log") / "dashboard.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "wmsight.cli", "dashboard", "--feeds", str(world.feeds),
             "--db", str(world.db_path), "--port", str(port), "--no-open"],
            stdout=out, stderr=subprocess.STDOUT, env=os.environ | {"WMSIGHT_LOG_LEVEL": "INFO"},
        )  # fmt: skip
    url = f"http://localhost:{port}"
    deadline = time.monotonic() + 180
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=5) as answer:
                if answer.status == 200:
                    break
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            pytest.fail(f"the dashboard did not start: {log.read_text()[-2000:]}")
        time.sleep(0.5)
    yield url, world
    server.terminate()
    server.wait(timeout=30)


@pytest.fixture
def page(served) -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
        yield context.new_page()
        browser.close()


def _settle(page: Page, title: str) -> None:
    """Wait until the page's script has run: its title shows and Streamlit is idle."""
    expect(page.locator("h1").filter(has_text=title)).to_be_visible(timeout=120_000)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"stApp\"]')"
        "?.getAttribute('data-test-script-state') === 'notRunning'",
        timeout=120_000,
    )
    page.wait_for_timeout(500)  # charts draw after the script ends


def _no_exception(page: Page) -> None:
    errors = page.locator('[data-testid="stException"]')
    assert errors.count() == 0, errors.first.inner_text()


def _goto(page: Page, base: str, path: str, title: str) -> None:
    page.goto(f"{base}/{path}")
    _settle(page, title)
    _no_exception(page)


def test_every_page_loads_in_both_languages(served, page: Page) -> None:
    base, world = served
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for path, (chinese, _) in PAGES.items():
        _goto(page, base, path, chinese)
        page.screenshot(path=SCREENSHOTS / f"{path or 'overview'}.png", full_page=True)
    # a customer 360: the customer merged from the most source records, found by name
    sources = latest_publication(world.feeds).dataset("customer_sources")
    key = sources.group_by("customer_key").len().sort(["len", "customer_key"]).row(-1)[0]
    name = sources.filter(pl.col("customer_key") == key)["source_name"].drop_nulls()[0]
    _goto(page, base, "customers", "客户")
    search = page.get_by_role("textbox", name="按名称")
    search.fill(name)
    search.press("Enter")
    expect(page.get_by_text("合并的来源记录")).to_be_visible(timeout=60_000)
    _settle(page, "客户")
    _no_exception(page)
    page.get_by_text("合并的来源记录").scroll_into_view_if_needed()
    page.screenshot(path=SCREENSHOTS / "customer_360.png", full_page=True)
    # the language switch: every label follows
    page.get_by_text("English", exact=True).click()
    _settle(page, "Customers")
    for _, english in PAGES.values():
        page.get_by_role("link", name=english, exact=True).click()
        _settle(page, english)
        _no_exception(page)
    page.screenshot(path=SCREENSHOTS / "quality_en.png", full_page=True)
    page.get_by_role("link", name="Overview", exact=True).click()
    _settle(page, "Overview")
    expect(page.get_by_text("Fill rate").first).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "overview_en.png", full_page=True)


def test_nobody_without_a_login_can_approve(served, page: Page) -> None:
    base, _ = served
    _goto(page, base, "review", "补货审批")
    expect(page.get_by_text("只读模式").first).to_be_visible()
    assert page.get_by_role("button", name="保存决定").count() == 0
    assert page.get_by_role("button", name="应用到所选行").count() == 0


def _login(page: Page, base: str, username: str, password: str) -> None:
    _goto(page, base, "", "总览")
    page.get_by_text("English", exact=True).click()
    _settle(page, "Overview")
    page.get_by_text("Log in", exact=True).first.click()  # the sidebar's expander
    page.get_by_role("textbox", name="Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Logged in as")).to_be_visible(timeout=60_000)


def _choose(page: Page, label: str, option: str) -> None:
    """Pick an option of a Streamlit selectbox by its label and the option's text."""
    page.get_by_test_id("stSelectbox").filter(has_text=label).click()
    page.get_by_role("option", name=option, exact=True).click()
    page.wait_for_timeout(300)


def _saved(page: Page) -> None:
    expect(page.get_by_text("decision(s) saved")).to_be_visible(timeout=60_000)
    _settle(page, "Replenishment review")
    _no_exception(page)


def test_a_planner_approves_one_line_and_changes_another(served, page: Page) -> None:
    base, world = served
    publication = latest_publication(world.feeds)
    # the page lists purchases, then transfers
    lines = [
        review.purchase_line(r) for r in review.purchases(publication, []).iter_rows(named=True)
    ]
    lines += [
        review.transfer_line(r) for r in review.transfers(publication, []).iter_rows(named=True)
    ]
    first, second = lines[:2]
    _login(page, base, "planner", "planner-demo")
    page.get_by_role("link", name="Replenishment review", exact=True).click()
    _settle(page, "Replenishment review")

    # the one-line decision (the bulk form has no "Change quantity")
    decision = page.get_by_test_id("stRadio").filter(has_text="Change quantity")
    _choose(page, "Line", review.line_label(first))
    decision.get_by_text("Approve", exact=True).click()
    page.get_by_role("button", name="Save decision").click()
    _saved(page)

    _choose(page, "Line", review.line_label(second))
    decision.get_by_text("Change quantity", exact=True).click()
    page.wait_for_timeout(300)
    quantity = page.get_by_role("spinbutton", name="Quantity", exact=True)
    quantity.fill(str(second.recommended_qty + 12))
    quantity.press("Enter")
    comment = page.get_by_role("textbox", name="Comment", exact=True)
    comment.fill("a full pallet")
    comment.press("Enter")
    page.wait_for_timeout(300)
    page.get_by_role("button", name="Save decision").click()
    _saved(page)
    page.screenshot(path=SCREENSHOTS / "review_planner.png", full_page=True)

    published = latest_publication(world.feeds)
    rows = {}
    for feed in ("approved_purchase_orders", "approved_transfers"):
        approved = published.feed(feed)
        assert set(approved["decided_by"]) <= {"planner"}
        assert approved.filter(pl.col("decision") == "reject").is_empty()
        for r in approved.iter_rows(named=True):
            warehouse = r.get("warehouse_id") or r["to_warehouse_id"]
            rows[(warehouse, r["sku"], r.get("from_warehouse_id") or "")] = (
                r["approved_qty"], r["decision"], r["comment"],
            )  # fmt: skip
    assert rows == {
        (first.warehouse_id, first.sku, first.from_warehouse_id): (
            first.recommended_qty, "approve", None,
        ),
        (second.warehouse_id, second.sku, second.from_warehouse_id): (
            second.recommended_qty + 12, "change", "a full pallet",
        ),
    }  # fmt: skip
