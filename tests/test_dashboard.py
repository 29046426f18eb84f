"""The dashboard's logic on a real published run (tests/conftest.py::published_world):
the numbers each page shows, the customer 360 search, planners' decisions flowing out
as the approval feeds; then every page through Streamlit's AppTest, in both languages,
with and without a login."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from conftest import PublishedWorld
from streamlit.testing.v1 import AppTest

from dashboards import accuracy, alerts, customers, overview, quality, review
from dashboards.data import NoPublication, latest_publication
from wmsight import decisions as store
from wmsight.publish import LATEST, MANIFEST, publish_feeds

APP = Path(__file__).parents[1] / "dashboards" / "app.py"
PAGES = ("customers", "alerts", "review", "accuracy", "quality")


@pytest.fixture
def world(published_world: PublishedWorld, tmp_path: Path) -> PublishedWorld:
    """A copy of the published run this test may change."""
    return published_world.copy(tmp_path / "world")


# ------------------------------------------------------------------------ page logic


def test_company_kpis_are_the_feeds_company_rows(published_world: PublishedWorld) -> None:
    publication = latest_publication(published_world.feeds)
    start, end = overview.default_range(publication, days=30)
    feed = publication.feed("kpi_daily")
    everything = overview.daily_values(publication, overview.KpiSlice(start, end))
    company = feed.filter((pl.col("warehouse_id") == "ALL") & pl.col("date").is_between(start, end))
    joined = everything.join(company, on=["date", "metric"], suffix="_feed")
    assert joined.height == company.drop_nulls("value").height > 0
    assert (joined["value"] - joined["value_feed"]).abs().max() < 1e-6
    # every channel chosen (orders of no known channel too): still the company's numbers
    channels = overview.slice_options(publication)["channels"]
    assert overview.can_slice(publication) and {"b2b", "ecommerce"} <= set(channels)
    every_channel = overview.daily_values(
        publication, overview.KpiSlice(start, end, channels=tuple(channels))
    )
    again = every_channel.join(company, on=["date", "metric"], suffix="_feed")
    assert again.height == joined.height
    assert (again["value"] - again["value_feed"]).abs().max() < 1e-6
    # one channel: its own orders only, so a different fulfilment time somewhere
    b2b = overview.daily_values(publication, overview.KpiSlice(start, end, channels=("b2b",)))
    hours = b2b.filter(pl.col("metric") == "fulfillment_hours_avg").join(
        company, on=["date", "metric"], suffix="_feed"
    )
    assert hours.height and (hours["value"] - hours["value_feed"]).abs().max() > 1e-3


def test_one_warehouse_shows_its_own_kpis_and_targets(published_world: PublishedWorld) -> None:
    publication = latest_publication(published_world.feeds)
    start, end = overview.default_range(publication, days=30)
    warehouse = overview.slice_options(publication)["warehouses"][0]
    values = overview.daily_values(publication, overview.KpiSlice(start, end, (warehouse,)))
    feed = publication.feed("kpi_daily").filter(
        (pl.col("warehouse_id") == warehouse) & pl.col("date").is_between(start, end)
    )
    joined = values.join(feed, on=["date", "metric"], suffix="_feed")
    assert joined.height == feed.drop_nulls("value").height > 0
    assert (joined["value"] - joined["value_feed"]).abs().max() < 1e-6
    assert joined.filter(pl.col("target") != pl.col("target_feed")).is_empty()


def test_a_return_rate_over_one_is_capped_as_the_feed_caps_it(world: PublishedWorld) -> None:
    """Returns requested on a day can outnumber the 30 days' shipments they are divided
    by; the feed publishes the rate as a fraction (capped at 1), and so does the page."""
    publication = latest_publication(world.feeds)
    path = publication.folder / publication.manifest["app_datasets"]["kpi_components"]["file"]
    components = pl.read_parquet(path)  # (not .dataset(): the app caches by path)
    day = publication.as_of + timedelta(days=1)  # a day of its own
    template = components.filter(pl.col("metric") == "return_rate").head(1)
    big_return = template.with_columns(
        date=pl.lit(day),
        numerator=pl.lit(9.0),
        denominator=pl.lit(5.0),
        observations=pl.lit(1).cast(template["observations"].dtype),
    )
    pl.concat([components, big_return]).write_parquet(path)
    warehouse = template["warehouse_id"][0]
    values = overview.daily_values(
        latest_publication(world.feeds), overview.KpiSlice(day, day, (warehouse,))
    )
    assert values.filter(pl.col("metric") == "return_rate")["value"].to_list() == [1.0]


def test_the_summary_says_what_changed_since_the_day_before(
    published_world: PublishedWorld,
) -> None:
    publication = latest_publication(published_world.feeds)
    kpi_slice = overview.KpiSlice(*overview.default_range(publication))
    summary = overview.summary(publication, kpi_slice)
    daily = overview.daily_values(publication, kpi_slice).drop_nulls("value")
    for row in summary.iter_rows(named=True):
        series = daily.filter(pl.col("metric") == row["metric"]).sort("date")
        assert row["value"] == series["value"][-1] and row["date"] == series["date"][-1]
        if series.height > 1:
            assert row["change"] == pytest.approx(series["value"][-1] - series["value"][-2])
            if row["change"]:
                higher = overview.METRICS_BY_NAME[row["metric"]].higher_is_better
                assert row["improved"] == ((row["change"] > 0) == higher)
        if row["target"] is not None:
            assert row["meets_target"] == overview.meets(row["metric"], row["value"], row["target"])
    assert overview.meets("fulfillment_hours_avg", 50.0, 48.0) is False  # lower is better
    assert overview.meets("satisfaction_rate", 0.95, 0.9) is True
    changes = overview.changes_since_yesterday(publication, kpi_slice)
    assert set(changes["metric"]) <= set(summary["metric"])


def test_a_region_is_its_warehouses(published_world: PublishedWorld) -> None:
    publication = latest_publication(published_world.feeds)
    warehouses = publication.dataset("warehouses")
    region = warehouses["region"][0]
    assert overview.warehouses_in_regions(publication, [region]) == tuple(
        sorted(warehouses.filter(pl.col("region") == region)["warehouse_id"])
    )


def test_customer_search_by_phone_in_any_format_source_id_and_email(
    published_world: PublishedWorld,
) -> None:
    publication = latest_publication(published_world.feeds)
    sources = publication.dataset("customer_sources")
    with_phone = sources.filter(pl.col("phone").str.contains(r"^1\d{10}$")).row(0, named=True)
    phone = with_phone["phone"]
    written = f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}"
    found = customers.search(publication, written)
    assert with_phone["customer_key"] in found["customer_key"].to_list()
    assert (
        "phone"
        in found.filter(pl.col("customer_key") == with_phone["customer_key"])["matched_on"][0]
    )
    landline = sources.filter(pl.col("phone").str.contains(r"^0\d{9,11}$")).row(0, named=True)
    number = landline["phone"]
    for written in (f"+86 (0){number[1:4]} {number[4:]}", f"86-{number[1:4]}-{number[4:]}"):
        found = customers.search(publication, written)
        assert landline["customer_key"] in found["customer_key"].to_list(), written
    for system in ("crm", "erp", "ecommerce"):
        record = sources.filter(pl.col("source_system") == system).row(0, named=True)
        hits = customers.search(publication, record["source_id"])
        assert record["customer_key"] in hits["customer_key"].to_list(), system
    with_email = sources.filter(pl.col("email").is_not_null()).row(0, named=True)
    hits = customers.search(publication, with_email["email"].upper())
    assert with_email["customer_key"] in hits["customer_key"].to_list()
    assert customers.search(publication, "no such customer anywhere").is_empty()
    assert customers.search(publication, "   ").is_empty()


def test_a_customer_profile_merges_every_source_record(published_world: PublishedWorld) -> None:
    publication = latest_publication(published_world.feeds)
    with duckdb.connect(str(published_world.db_path), read_only=True) as con:
        key, records = con.execute(
            """SELECT customer_key, count(*) FROM marts.customer_identity_map
            GROUP BY customer_key ORDER BY count(*) DESC, customer_key LIMIT 1"""
        ).fetchone()
        orders = con.execute(
            "SELECT count(DISTINCT order_id) FROM marts.fct_order_lines WHERE customer_key = ?",
            [key],
        ).fetchone()[0]
    found = customers.profile(publication, key)
    assert records > 1 and found.sources.height == records
    assert found.orders.height == orders
    assert found.customer["customer_key"] == key
    monthly = customers.monthly_orders(found.orders)
    assert monthly["orders"].sum() == orders
    assert customers.profile(publication, "cust_does_not_exist") is None


def test_tiers_and_tier_movement_count_every_customer(published_world: PublishedWorld) -> None:
    publication = latest_publication(published_world.feeds)
    assert customers.tier_distribution(publication)["customers"].sum() == (
        publication.feed("customer_360").height
    )
    month = customers.tier_months(publication)[0]
    history = publication.dataset("tier_history").filter(pl.col("month") == month)
    assert customers.tier_movement(publication, month)["customers"].sum() == history.height


def test_alerts_filter_and_export_without_formulas(published_world: PublishedWorld) -> None:
    publication = latest_publication(published_world.feeds)
    frame = alerts.alerts(publication, [])
    assert frame.height == publication.feed("churn_alerts").height
    severity = frame["severity"][0]
    only = alerts.filter_alerts(frame, alerts.AlertFilter(severities=(severity,)))
    assert only.height == frame.filter(pl.col("severity") == severity).height
    hostile = pl.DataFrame(
        {"reason": ['=HYPERLINK("http://x")', "+1", "-2", "@a", "\tx", "plain"], "n": range(6)}
    )
    text = alerts.export_csv(hostile).decode("utf-8-sig")
    assert text.splitlines()[1:] == [
        '"\'=HYPERLINK(""http://x"")",0',
        "'+1,1",
        "'-2,2",
        "'@a,3",
        "'\tx,4",
        "plain,5",
    ]


def test_handled_alerts_show_who_handled_them(world: PublishedWorld) -> None:
    publication = latest_publication(world.feeds)
    first = publication.feed("churn_alerts").row(0, named=True)
    path = store.decisions_path(world.db_path)
    store.record_alert_handled(
        path,
        [(first["customer_key"], first["alert_type"], first["raised_on"])],
        "called",
        "manager",
        "Wang",
    )
    frame = alerts.alerts(publication, store.handled_alerts(path))
    handled = frame.filter(pl.col("handled"))
    assert handled.height == 1 and handled["handled_by"][0] == "Wang"
    assert alerts.filter_alerts(frame, alerts.AlertFilter(include_handled=False)).height == (
        frame.height - 1
    )


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_decisions_are_published_as_the_approval_feeds(world: PublishedWorld) -> None:
    before = latest_publication(world.feeds)
    purchases = review.purchases(before, [])
    transfers = review.transfers(before, [])
    assert purchases.height >= 1 and transfers.height >= 3, "the world needs more lines"
    approve = review.purchase_line(purchases.row(0, named=True))
    change, moved, rejected = (
        review.transfer_line(r) for r in transfers.head(3).iter_rows(named=True)
    )
    decisions = [
        store.Decision(approve, store.APPROVE),
        store.Decision(change, store.CHANGE, change.recommended_qty + 7, "round up to a pallet"),
        store.Decision(moved, store.APPROVE),
        store.Decision(rejected, store.REJECT, None, "truck full"),
    ]
    assert review.decide(before, world.db_path, decisions, "planner", "Chen") == 4

    after = latest_publication(world.feeds)
    assert after.folder != before.folder and after.as_of == before.as_of
    ordered = after.feed("approved_purchase_orders")
    assert ordered.select("warehouse_id", "sku", "approved_qty", "decision").rows() == [
        (approve.warehouse_id, approve.sku, approve.recommended_qty, "approve")
    ]
    assert ordered.select("plan_date", "decided_by", "supplier_id", "proposal_id").rows() == [
        (before.as_of, "planner", approve.supplier_id, purchases["proposal_id"][0])
    ]
    moves = after.feed("approved_transfers").sort("decision")
    assert moves.select(
        "from_warehouse_id", "to_warehouse_id", "sku", "approved_qty", "decision", "comment"
    ).rows() == [
        (moved.from_warehouse_id, moved.warehouse_id, moved.sku, moved.recommended_qty,
         "approve", None),
        (change.from_warehouse_id, change.warehouse_id, change.sku,
         change.recommended_qty + 7, "change", "round up to a pallet"),
    ]  # fmt: skip
    # every other file is the one published before, byte for byte
    old, new = before.manifest, after.manifest
    for feed, entry in old["feeds"].items():
        if not feed.startswith("approved_") and "file" in entry:
            assert new["feeds"][feed]["sha256"] == entry["sha256"], feed
            assert _sha(after.folder / entry["file"]) == entry["sha256"], feed
    assert new["app_datasets"] == old["app_datasets"]
    assert new["feeds"]["approved_transfers"]["rows"] == 2
    assert before.folder.exists()  # readers of the replaced version keep it for a while
    # what the review page shows now
    current = store.current_decisions(store.decisions_path(world.db_path), before.as_of)
    shown = review.transfers(after, current).filter(pl.col("sku") == change.sku)
    decided = shown.filter(
        (pl.col("from_warehouse_id") == change.from_warehouse_id)
        & (pl.col("to_warehouse_id") == change.warehouse_id)
    )
    assert decided.select("decision", "final_qty").rows() == [
        ("change", change.recommended_qty + 7)
    ]


def test_decisions_republish_the_data_docs_with_the_approval_feeds(world: PublishedWorld) -> None:
    before = latest_publication(world.feeds)
    line = review.purchase_line(review.purchases(before, []).row(0, named=True))
    review.decide(before, world.db_path, [store.Decision(line, store.APPROVE)], "planner")
    after = latest_publication(world.feeds)
    docs = after.folder / "_data_docs"
    runs = {
        path.stem: json.loads(path.read_text())["run_name"]
        for path in (docs / "results").glob("*.json")
    }
    # the approval feeds validated now, the other feeds' validations carried over
    assert runs["approved_purchase_orders"] == runs["approved_transfers"] == after.folder.name
    assert runs["kpi_daily"] == before.folder.name
    assert set(runs) == set(after.manifest["data_docs"]["validations"])
    page = after.folder / after.manifest["data_docs"]["validations"]["approved_purchase_orders"]
    assert page.is_file() and after.folder.name in page.read_text()
    assert "feed.approved_purchase_orders" in (docs / "index.html").read_text()
    rules = after.manifest["feeds"]["approved_purchase_orders"]["expectations"]
    assert rules and all(r["success"] for r in rules)


def test_a_rerun_of_the_date_publishes_the_decisions_again(world: PublishedWorld) -> None:
    publication = latest_publication(world.feeds)
    line = review.purchase_line(review.purchases(publication, []).row(0, named=True))
    store.record_decisions(
        store.decisions_path(world.db_path),
        publication.as_of,
        [store.Decision(line, store.APPROVE)],
        "planner",
    )  # recorded, not yet published: the next run of the date must not lose it
    result = publish_feeds(world.db_path, world.feeds, as_of=publication.as_of)
    approved = latest_publication(world.feeds).feed("approved_purchase_orders")
    assert approved.select("warehouse_id", "sku", "approved_qty").rows() == [
        (line.warehouse_id, line.sku, line.recommended_qty)
    ]
    assert result.folder == world.feeds / publication.as_of.isoformat()


def test_a_decision_on_a_line_the_plan_no_longer_has_is_not_an_order(
    world: PublishedWorld,
) -> None:
    publication = latest_publication(world.feeds)
    gone = store.Line(store.PURCHASE, "WH-NOWHERE", "SKU-99999", 10)
    review.decide(publication, world.db_path, [store.Decision(gone, store.APPROVE)], "planner")
    after = latest_publication(world.feeds)
    assert after.feed("approved_purchase_orders").is_empty()
    assert "no longer in the plan" in after.manifest["feeds"]["approved_purchase_orders"]["note"]


def test_stock_projection_draws_down_by_the_forecast_and_adds_the_order() -> None:
    as_of = date(2025, 11, 30)
    forecast = pl.DataFrame(
        {"date": [as_of + timedelta(days=d) for d in range(1, 5)], "yhat": [10.0] * 4}
    )
    row = {
        "inventory_position": 35,
        "recommended_order_qty": 50,
        "lead_time_days": 2,
        "reorder_point": 30,
        "safety_stock": 12,
    }
    projected = review.stock_projection(row, forecast, as_of)
    assert projected["without_order"].to_list() == [25.0, 15.0, 5.0, -5.0]
    assert projected["with_order"].to_list() == [25.0, 65.0, 55.0, 45.0]
    assert set(projected["reorder_point"]) == {30.0} and set(projected["safety_stock"]) == {12.0}


def test_accuracy_by_warehouse_is_the_forecast_stages_own_figure(
    published_world: PublishedWorld,
) -> None:
    publication = latest_publication(published_world.feeds)
    shown = accuracy.accuracy_by(publication, "warehouse_id")
    with duckdb.connect(str(published_world.db_path), read_only=True) as con:
        stage = dict(
            con.execute(
                """SELECT warehouse_id, wape FROM ml.forecast_accuracy_overall
                WHERE model = 'ALL' AND warehouse_id <> 'ALL'"""
            ).fetchall()
        )
    assert dict(zip(shown["warehouse_id"], shown["wape"], strict=True)) == pytest.approx(stage)
    assert accuracy.overall(publication)["series"] == shown["series"].sum()
    simulation = accuracy.simulation(publication)
    assert set(simulation["policy"]) >= {"plan", "erp_rule", "static_minmax"}
    with pytest.raises(ValueError, match="group by one of"):
        accuracy.accuracy_by(publication, "customer_key")


def test_quality_shows_every_file_and_every_feed_of_every_run(
    published_world: PublishedWorld,
) -> None:
    publication = latest_publication(published_world.feeds)
    with duckdb.connect(str(published_world.db_path), read_only=True) as con:
        files, read = con.execute("SELECT count(*), sum(rows_read) FROM raw.load_log").fetchone()
    drops = quality.drops(publication)
    assert drops["files"].sum() == files and drops["rows_read"].sum() == read
    results = quality.contract_results(publication)
    assert set(results["feed"]) == set(publication.manifest["feeds"])
    assert quality.quarantine(publication, "nothing matches this").is_empty()


def test_quality_lists_every_rule_checked_and_where_the_data_docs_are(
    published_world: PublishedWorld,
) -> None:
    publication = latest_publication(published_world.feeds)
    feeds = publication.manifest["feeds"]
    published = {name for name, entry in feeds.items() if entry["status"] == "published"}
    rules = quality.expectation_results(publication)
    assert set(rules["feed"]) == published and set(rules["outcome"]) == {"passed"}
    for feed in published:
        assert rules.filter(pl.col("feed") == feed).height == len(feeds[feed]["expectations"])
    kpi = quality.expectation_results(publication, ("kpi_daily",), ("passed",))
    assert set(kpi["rule"]) >= {"unique_key", "required", "rate_between_0_and_1"}
    assert kpi["rows"].unique().to_list() == [feeds["kpi_daily"]["rows"]]
    assert quality.expectation_results(publication, outcomes=("failed", "error")).is_empty()
    results = quality.contract_results(publication)
    assert (results.filter(pl.col("status") == "published")["rules_broken"] == 0).all()
    index = quality.data_docs_index(publication)
    assert index == published_world.feeds.absolute() / LATEST / "_data_docs" / "index.html"
    assert index.is_file()
    with zipfile.ZipFile(io.BytesIO(quality.data_docs_zip(publication))) as site:
        names = set(site.namelist())
    assert {"index.html", "expectations/feed/kpi_daily.html", "results/kpi_daily.json"} <= names


def test_the_quality_page_shows_the_rules_and_the_data_docs(
    published_world: PublishedWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app(published_world, monkeypatch, "en")
    app.switch_page("views/quality.py").run()
    _no_errors(app)
    [rules] = [d.value for d in app.dataframe if "outcome" in d.value.columns]
    assert set(rules["outcome"]) == {"Passed"} and "rate_between_0_and_1" in set(rules["rule"])
    index = published_world.feeds.absolute() / LATEST / "_data_docs" / "index.html"
    assert any(str(index) in m.value for m in app.markdown)
    app.multiselect(key="dq_outcome").set_value(["failed"]).run()
    assert any(c.value == "No rule matches." for c in app.caption)
    app.sidebar.radio(key="language").set_value("zh").run()
    _no_errors(app)
    assert any(s.value == "每次运行检查的契约规则" for s in app.subheader)


def test_a_manifest_cannot_point_outside_its_publication(world: PublishedWorld) -> None:
    from dashboards import data

    manifest_path = latest_publication(world.feeds).folder / MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest["feeds"]["kpi_daily"]["file"] = "../../../../etc/passwd"
    manifest_path.write_text(json.dumps(manifest))
    data._manifest.cache_clear()  # publications never change, so manifests are cached
    with pytest.raises(data.MissingData, match="outside the run"):
        latest_publication(world.feeds).feed("kpi_daily")


def test_no_publication_is_said_plainly(tmp_path: Path) -> None:
    with pytest.raises(NoPublication, match="run `wmsight run` first"):
        latest_publication(tmp_path / "feeds")


# ------------------------------------------------------------------- the app (AppTest)


def _app(world: PublishedWorld, monkeypatch: pytest.MonkeyPatch, language: str = "zh") -> AppTest:
    monkeypatch.setenv("WMSIGHT_FEEDS_DIR", str(world.feeds))
    monkeypatch.setenv("WMSIGHT_DB_PATH", str(world.db_path))
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.run()
    if language != "zh":
        app.sidebar.radio(key="language").set_value(language).run()
    return app


def _login(app: AppTest, username: str, password: str) -> None:
    # the login form's widgets have no keys: found by their labels
    fields = {w.label: w for w in app.text_input}
    (fields.get("用户名") or fields["Username"]).input(username)
    (fields.get("密码") or fields["Password"]).input(password)
    next(b for b in app.button if b.label in ("登录", "Log in")).click()
    app.run()
    assert app.session_state["authentication_status"], "login failed"


def _no_errors(app: AppTest) -> None:
    assert not app.exception, [e.value for e in app.exception]


@pytest.mark.parametrize(
    ("language", "title"), [("zh", "补货审批"), ("en", "Replenishment review")]
)
def test_every_page_runs_in_both_languages(
    published_world: PublishedWorld, monkeypatch: pytest.MonkeyPatch, language: str, title: str
) -> None:
    app = _app(published_world, monkeypatch, language)
    _no_errors(app)
    assert app.title[0].value == ("总览" if language == "zh" else "Overview")
    assert len(app.metric) >= 8  # the KPI tiles
    for page in PAGES:
        app.switch_page(f"views/{page}.py").run()
        _no_errors(app)
    app.switch_page("views/review.py").run()
    assert app.title[0].value == title


def test_without_a_login_nothing_can_be_decided(
    world: PublishedWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app(world, monkeypatch)
    app.switch_page("views/review.py").run()
    _no_errors(app)
    assert not [b for b in app.button if b.key == "rv_save"]
    assert "rv_decision" not in _keys(app) and "rv_bulk_lines" not in _keys(app)
    assert any("只读" in c.value for c in app.caption)
    app.switch_page("views/alerts.py").run()
    assert "al_pick" not in _keys(app)


def _keys(app: AppTest) -> set[str]:
    return {w.key for w in (*app.radio, *app.multiselect, *app.selectbox) if w.key}


def test_an_analyst_who_logs_in_still_cannot_decide(
    world: PublishedWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app(world, monkeypatch, "en")
    _login(app, "analyst", "analyst-demo")
    app.switch_page("views/review.py").run()
    _no_errors(app)
    assert "rv_decision" not in _keys(app)
    assert any("planner" in w.value for w in app.warning)


def test_a_wrong_password_is_refused(
    world: PublishedWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app(world, monkeypatch, "en")
    fields = {w.label: w for w in app.text_input}
    fields["Username"].input("planner")
    fields["Password"].input("not-the-password")
    next(b for b in app.button if b.label == "Log in").click()
    app.run()
    assert not app.session_state["authentication_status"]
    assert any("incorrect" in e.value for e in app.error)


def test_a_planner_approves_and_changes_lines_in_the_app(
    world: PublishedWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app(world, monkeypatch, "en")
    _login(app, "planner", "planner-demo")
    app.switch_page("views/review.py").run()
    _no_errors(app)
    publication = latest_publication(world.feeds)  # the page lists purchases, then transfers
    lines = [
        review.purchase_line(r) for r in review.purchases(publication, []).iter_rows(named=True)
    ]
    lines += [
        review.transfer_line(r) for r in review.transfers(publication, []).iter_rows(named=True)
    ]
    first, second = (line.key for line in lines[:2])
    app.selectbox(key="rv_line").set_value(first).run()
    app.radio(key="rv_decision").set_value(store.APPROVE).run()
    app.button(key="rv_save").click().run()
    _no_errors(app)
    assert any("1 decision(s) saved" in s.value for s in app.success)

    app.selectbox(key="rv_line").set_value(second).run()
    app.radio(key="rv_decision").set_value(store.CHANGE).run()
    app.number_input(key=f"rv_qty_{second}").set_value(5).run()
    app.text_input(key=f"rv_comment_{second}").input("only 5 fit").run()
    app.button(key="rv_save").click().run()
    _no_errors(app)

    publication = latest_publication(world.feeds)
    approved = {
        **_approved(publication.feed("approved_purchase_orders"), "purchase"),
        **_approved(publication.feed("approved_transfers"), "transfer"),
    }
    assert approved[second] == (5, "change")
    assert approved[first][1] == "approve"


def _approved(feed: pl.DataFrame, kind: str) -> dict[str, tuple[int, str]]:
    if kind == "purchase":
        keys = [f"purchase|{w}|{s}" for w, s in zip(feed["warehouse_id"], feed["sku"], strict=True)]
    else:
        keys = [
            f"transfer|{f}|{t}|{s}"
            for f, t, s in zip(
                feed["from_warehouse_id"], feed["to_warehouse_id"], feed["sku"], strict=True
            )
        ]
    return dict(zip(keys, zip(feed["approved_qty"], feed["decision"], strict=True), strict=True))


def test_an_account_manager_marks_an_alert_handled(
    world: PublishedWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app(world, monkeypatch, "en")
    _login(app, "manager", "manager-demo")
    app.switch_page("views/alerts.py").run()
    _no_errors(app)
    publication = latest_publication(world.feeds)
    first = alerts.alerts(publication, []).row(0, named=True)
    app.multiselect(key="al_pick").set_value([alerts.alert_key(first)])
    app.text_input(key="al_note").input("called: reorders next week")
    next(b for b in app.button if b.label == "Mark handled").click().run()
    _no_errors(app)
    [handled] = store.handled_alerts(store.decisions_path(world.db_path))
    assert handled["handled_by"] == "manager" and handled["note"] == "called: reorders next week"
    assert (handled["customer_key"], handled["alert_type"]) == (
        first["customer_key"],
        first["alert_type"],
    )


def test_the_app_says_when_nothing_is_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WMSIGHT_FEEDS_DIR", str(tmp_path / "feeds"))
    monkeypatch.setenv("WMSIGHT_DB_PATH", str(tmp_path / "w.duckdb"))
    app = AppTest.from_file(str(APP), default_timeout=120).run()
    _no_errors(app)
    assert any("wmsight run" in i.value for i in app.info)


@pytest.mark.parametrize("kept_days", [0, 5], ids=["no_kpi_yet", "kpis_end_before_the_run"])
def test_the_overview_runs_when_the_kpis_stop_short_of_the_run_date(
    world: PublishedWorld, monkeypatch: pytest.MonkeyPatch, kept_days: int
) -> None:
    """A first run may have no KPI at all (only a CRM so far), and the last days none
    when nothing was delivered, no feedback came and no stock is recorded."""
    publication = latest_publication(world.feeds)
    manifest = publication.manifest
    kpi_path = publication.folder / manifest["feeds"]["kpi_daily"]["file"]
    first = pl.read_parquet(kpi_path)["date"].min()  # (not .feed(): the app caches by path)
    for entry in (manifest["feeds"]["kpi_daily"], manifest["app_datasets"]["kpi_components"]):
        path = publication.folder / entry["file"]
        kept = pl.read_parquet(path).filter(pl.col("date") < first + timedelta(days=kept_days))
        kept.write_parquet(path)
    assert overview.date_bounds(latest_publication(world.feeds)) == (
        publication.as_of if kept_days == 0 else first,
        publication.as_of,
    )
    app = _app(world, monkeypatch, "en")
    _no_errors(app)
    if kept_days == 0:
        assert any("No KPI values" in i.value for i in app.info)
    else:  # the default range, up to the run date, still holds the KPIs of its first days
        picked = app.date_input(key="ov_dates").value
        assert picked[1] == publication.as_of


def test_the_manifest_lists_the_apps_datasets(published_world: PublishedWorld) -> None:
    folder = (published_world.feeds / LATEST).resolve()
    manifest = json.loads((folder / MANIFEST).read_text())
    for name, entry in manifest["app_datasets"].items():
        if entry["status"] == "published":
            assert _sha(folder / entry["file"]) == entry["sha256"], name
        else:
            assert entry["note"], name


def test_pages_and_decisions_work_while_a_run_holds_the_warehouse(
    world: PublishedWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB has one writer: a running pipeline holds the file. The app reads only the
    publication and writes only the decision store, so it neither waits nor fails."""
    import subprocess
    import sys

    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "c.execute('CREATE TABLE IF NOT EXISTS held (x INT)'); print('held', flush=True); "
         "time.sleep(600)", str(world.db_path)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(duckdb.IOException):  # the warehouse is really taken
            duckdb.connect(str(world.db_path), read_only=True)
        app = _app(world, monkeypatch, "en")
        _no_errors(app)
        for page in PAGES:
            app.switch_page(f"views/{page}.py").run()
            _no_errors(app)
        _login(app, "planner", "planner-demo")
        app.switch_page("views/review.py").run()
        app.button(key="rv_save").click().run()  # approve the first line
        _no_errors(app)
        assert (
            latest_publication(world.feeds).feed("approved_purchase_orders").height
            + (latest_publication(world.feeds).feed("approved_transfers").height)
            == 1
        )
    finally:
        holder.kill()
        holder.wait()


def test_a_users_file_with_plain_passwords_is_refused_and_the_app_stays_read_only(
    published_world: PublishedWorld, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    users = tmp_path / "users.yaml"
    users.write_text(
        "credentials:\n  usernames:\n    planner:\n      name: P\n      password: hunter2\n"
        "      roles: [planner]\ncookie:\n  name: c\n  key: k\n  expiry_days: 1\n"
    )
    monkeypatch.setenv("WMSIGHT_DASHBOARD_USERS", str(users))
    app = _app(published_world, monkeypatch, "en")
    _no_errors(app)
    assert any("plain-text passwords are refused" in e.value for e in app.sidebar.error)
    assert "hunter2" not in " ".join(e.value for e in app.sidebar.error)
    assert not [w for w in app.text_input if w.label == "Password"]
    app.switch_page("views/review.py").run()
    _no_errors(app)
    assert "rv_decision" not in _keys(app)


@pytest.mark.parametrize("language", ["en", "zh"])
def test_chart_dates_are_written_as_the_pages_write_them(language: str) -> None:
    from dashboards import charts
    from dashboards.i18n import Translator

    t = Translator(language)
    day = date(2025, 11, 3)
    # d3's date directives used here mean what strftime's do (glibc: %-d, %-m)
    assert day.strftime(t.chart_dates()) == t.day(day)
    assert day.strftime(t.chart_dates("month")) == (
        "Nov 2025" if language == "en" else "2025年11月"
    )
    daily = pl.DataFrame({"date": [day], "metric": ["fill_rate"], "value": [0.9], "target": [0.95]})
    history = pl.DataFrame({"date": [day], "ordered": [3]})
    forecast = pl.DataFrame(
        {"date": [day], "yhat": [2.0], "yhat_lower": [1.0], "yhat_upper": [3.0]}
    )
    monthly = pl.DataFrame({"month": [day], "channel": ["b2b"], "amount_cny": [10.0]})
    for figure, period in (
        (charts.kpi_trend(daily, "fill_rate", "rate", t), "day"),
        (charts.demand(history, forecast, t), "day"),
        (charts.orders_timeline(monthly, t), "month"),
    ):
        assert figure.layout.xaxis.tickformat == t.chart_dates(period)
        assert figure.layout.xaxis.hoverformat == t.chart_dates(period)
