"""Partial data is normal: a business without a CRM or stock records, or one that only
sells online, runs `wmsight run` to the end and gets every feed its data supports; every
other feed is skipped with a reason, never published empty and never a crash (issue 6).
A first try with only the CRM exported so far has no order line at all: it too runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wmsight.cli import app
from wmsight.demo import generate_world
from wmsight.publish import LATEST, MANIFEST

pytestmark = pytest.mark.slow

STOCK_FILES = ("stock_snapshots.csv", "stock_movements.csv", "stock_counts.csv")


@pytest.fixture(scope="module")
def full_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    extracts = tmp_path_factory.mktemp("full") / "extracts"
    generate_world(extracts, scale=0.02, seed=9, days=120, delta_drops=1)
    shutil.rmtree(extracts / "_truth")
    return extracts


def _without(full: Path, target: Path, folders: tuple[str, ...], files: tuple[str, ...]) -> Path:
    shutil.copytree(full, target)
    for drop in target.iterdir():
        for folder in folders:
            shutil.rmtree(drop / folder, ignore_errors=True)
        for name in files:
            (drop / "erp" / name).unlink(missing_ok=True)
    return target


def _run(extracts: Path, root: Path) -> tuple[str, dict]:
    feeds = root / "feeds"
    result = CliRunner().invoke(
        app,
        ["run", "--extracts", str(extracts), "--db", str(root / "w.duckdb"),
         "--feeds", str(feeds)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    manifest = json.loads(((feeds / LATEST).resolve() / MANIFEST).read_text())
    return " ".join(result.output.split()), manifest["feeds"]


def _published(feeds: dict) -> set[str]:
    return {name for name, entry in feeds.items() if entry["status"] == "published"}


def test_a_business_without_crm_or_stock_records(full_world: Path, tmp_path: Path) -> None:
    extracts = _without(full_world, tmp_path / "extracts", ("crm",), STOCK_FILES)
    output, feeds = _run(extracts, tmp_path)
    assert _published(feeds) == {
        "customer_360", "churn_alerts", "demand_forecast", "rule_actions", "kpi_daily",
    }  # fmt: skip
    assert "no crm/feedback.csv in any drop" in feeds["feedback_routing"]["note"]
    assert "not computed: the plan has not run" in feeds["replenishment_plan"]["note"]
    assert "no replenishment plan" in feeds["approved_purchase_orders"]["note"]
    assert "plan" in output and "skipped" in output
    for name in ("customer_360", "demand_forecast", "kpi_daily"):  # rules may fire on none
        assert feeds[name]["rows"] > 0, name


def test_a_business_that_only_sells_online(full_world: Path, tmp_path: Path) -> None:
    extracts = _without(full_world, tmp_path / "extracts", ("crm", "erp"), ())
    output, feeds = _run(extracts, tmp_path)
    assert _published(feeds) == {"customer_360", "churn_alerts", "rule_actions", "kpi_daily"}
    assert "no order line has a known warehouse" in output
    assert "(warehouses come from erp/warehouses.csv)" in output
    assert "not computed" in feeds["demand_forecast"]["note"]
    for name in ("customer_360", "kpi_daily"):
        assert feeds[name]["rows"] > 0, name


def test_a_business_with_only_its_crm_so_far(full_world: Path, tmp_path: Path) -> None:
    """No order line anywhere: nothing to forecast, plan or score, which is no failure."""
    extracts = _without(full_world, tmp_path / "extracts", ("erp", "ecommerce"), ())
    output, feeds = _run(extracts, tmp_path)
    assert _published(feeds) == {"customer_360", "feedback_routing", "kpi_daily"}
    assert "skipped — marts.fct_order_lines holds no order lines" in output  # the forecast
    assert "orders come from erp/sales_orders.csv + erp/sales_order_lines.csv" in output
    assert "not computed: forecasts have not run" in feeds["demand_forecast"]["note"]
    for name in ("customer_360", "feedback_routing", "kpi_daily"):  # satisfaction, NPS
        assert feeds[name]["rows"] > 0, name
    # the forecast command alone says why, without a traceback
    alone = CliRunner().invoke(app, ["forecast", "--db", str(tmp_path / "w.duckdb")])
    assert alone.exit_code == 1 and "no forecast: marts.fct_order_lines holds no" in alone.output
    assert "Traceback" not in alone.output
