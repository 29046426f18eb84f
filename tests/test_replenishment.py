"""The replenishment plan: textbook formulas, rounding, transfers, and a run on generated data."""

from __future__ import annotations

import json
import math
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest
from conftest import private_copy, query
from typer.testing import CliRunner

from models_ml import policy
from models_ml.replenishment import PlanConfig, plan_transfers, run_replenishment
from wmsight.publish import publish_feeds

AS_OF = date(2025, 11, 30)


# ---------------------------------------------------------------------------- formulas
def test_eoq_matches_the_textbook_case() -> None:
    # K = 8 per order, h = 0.225 per unit and year, D = 1300 a year
    assert float(policy.eoq(1300, 8, 0.225)) == pytest.approx(304.05, abs=0.01)
    assert float(policy.eoq(0, 8, 0.225)) == 0.0
    assert float(policy.eoq(1300, 8, 0.0)) == 0.0  # no holding cost: no EOQ


def test_safety_stock_and_reorder_point_match_hand_computation() -> None:
    z = policy.z_for(0.95)
    assert float(z[0]) == pytest.approx(1.6449, abs=1e-4)
    assert float(policy.z_for(0.98)[0]) == pytest.approx(2.0537, abs=1e-4)
    # σ_e = 10 a day over a 9-day lead time: 1.645 × 10 × 3
    ss = float(policy.safety_stock(z, 10.0, 9)[0])
    assert ss == pytest.approx(49.35, abs=0.01)
    # reorder point = lead-time demand (20/d × 9 d) + safety stock
    assert 20 * 9 + ss == pytest.approx(229.35, abs=0.01)
    # a lead time that varies (σ_L = 2 d) adds d² σ_L²: √(9·100 + 400·4) = 50
    assert float(policy.safety_stock(z, 10.0, 9, 20.0, 2.0)[0]) == pytest.approx(
        1.6449 * 50, abs=0.01
    )
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        policy.z_for(1.0)


def test_orders_are_at_least_the_moq_in_whole_packs() -> None:
    got = policy.round_order(np.array([5, 50, 61, 0, -3, 120]), moq=50, pack_size=12)
    assert got.tolist() == [60, 60, 72, 0, 0, 120]
    # pack size 1 and no MOQ: just whole units
    assert policy.round_order(np.array([2.2]), 1, 1).tolist() == [3]
    # an order only when the position is at or below the reorder point
    qty = policy.order_quantity(
        np.array([40.0, 46.0, -10.0]), np.array([45.0, 45.0, 45.0]), np.array([100.0] * 3), 10, 5
    )
    assert qty.tolist() == [60, 0, 110]


def test_stockout_day_walks_demand_down_from_stock_and_arrivals() -> None:
    demand = np.full((3, 10), 10.0)
    arrivals = np.zeros((3, 10))
    arrivals[1, 2] = 100  # arrives on day 2
    out = policy.stockout_day(np.array([25.0, 25.0, 1000.0]), demand, arrivals)
    # 25 → 15 → 5 → runs out on day 2; with 100 arriving on day 2 it lasts to day 12
    assert out.tolist() == [2, -1, -1]


def test_order_size_cover_is_a_units_weighted_quantile_of_daily_demand() -> None:
    # days with 10, 40 and 50 units: 10 % of units came on days of ≤ 10, 50 % on ≤ 40
    daily = np.array([[0, 10, 0, 40, 50], [0, 0, 0, 0, 0]], dtype=float)
    assert policy.order_size_cover(daily, 0.10).tolist() == [10, 0]
    assert policy.order_size_cover(daily, 0.50).tolist() == [40, 0]
    assert policy.order_size_cover(daily, 0.51).tolist() == [50, 0]
    assert policy.order_size_cover(daily, np.array([0.9, 0.9])).tolist() == [50, 0]
    # the network's: rows 0–2 are one SKU (days 10, 40, 50, 5, 100 together), row 3 another
    daily = np.array([[0, 10, 0, 40, 50], [0, 0, 0, 0, 0], [5, 0, 0, 0, 100], [1] * 5], float)
    group = np.array([0, 0, 0, 1])
    assert policy.network_order_size_cover(daily, group, 0.5).tolist() == [50, 50, 50, 1]
    levels = np.array([0.9, 0.1, 0.99, 0.5])
    assert policy.network_order_size_cover(daily, group, levels).tolist() == [100, 40, 100, 1]
    # capped at 30 days of each row's demand (2.5/d → 75, 0.1/d → 3); None leaves it
    cover, rate = np.array([100.0, 40.0, 0.0]), np.array([2.5, 0.1, 0.0])
    assert policy.cap_cover(cover, rate, 30).tolist() == [75, 3, 0]
    assert policy.cap_cover(cover, rate, None).tolist() == [100, 40, 0]


def test_need_and_spare_by_hand() -> None:
    # receiver: position 20 ≤ ROP 60 and 20 on hand < its cover 30 → needs S − position = 100
    # giver: position 500 (200 on order), 300 on hand, ROP 60, cover 30 → can spare
    #   min(500 − 60, 300 − 30) = 270 keeping its reorder point, or 300 − 120 = 180 above S
    # third: position 200 (190 on order) above its ROP, but 10 on hand < cover 30 and nothing
    #   arrives within the transfer time → needs 20 (only with the local-cover trigger)
    args = dict(
        position=np.array([20.0, 500.0, 200.0]),
        available=np.array([20.0, 300.0, 10.0]),
        reorder_point=np.array([60.0, 60.0, 60.0]),
        order_up_to=np.array([120.0, 120.0, 120.0]),
        active=np.array([True, True, True]),
        cover=np.array([30.0, 30.0, 30.0]),
    )
    need, spare, purchase, runs_short = policy.transfer_need_and_spare(**args)
    assert need.tolist() == [100, 0, 20] and spare.tolist() == [0, 270, 0]
    assert purchase.tolist() == [True, False, False]
    assert runs_short.tolist() == [True, False, True]
    need, spare, *_ = policy.transfer_need_and_spare(**args, source="above_order_up_to")
    assert spare.tolist() == [0, 180, 0]
    need, spare, *_ = policy.transfer_need_and_spare(**args, trigger="reorder_point")
    assert need.tolist() == [100, 0, 0] and spare.tolist() == [0, 270, 0]
    # the third arrives within the transfer time: not short
    need, *_ = policy.transfer_need_and_spare(**args, arriving_soon=np.array([0, 0, 25.0]))
    assert need.tolist() == [100, 0, 0]
    with pytest.raises(ValueError, match="unknown transfer source"):
        policy.transfer_need_and_spare(**args, source="anything")


# ---------------------------------------------------------------------------- transfers
def _cells(rows: list[tuple]) -> pl.DataFrame:
    cols = [
        "warehouse_id",
        "sku",
        "position",
        "available",
        "reorder_point",
        "order_up_to",
        "stockout_day",
        "lead_time_days",
    ]
    return pl.DataFrame(rows, schema=cols, orient="row").with_columns(
        pl.lit(1).alias("pack_size"), pl.lit(True).alias("active")
    )


DIST = {("W1", "W2"): 100.0, ("W2", "W1"): 100.0, ("W1", "W3"): 2000.0, ("W3", "W1"): 2000.0}


def test_a_transfer_says_why_a_cell_above_its_reorder_point_is_short() -> None:
    """W1 is backordered now (available -9) with 1,200 on order arriving after its lead
    time's first day: its position is far above its reorder point, so its reason is its
    local cover, never "position ≤ reorder point"."""
    cells = _cells(
        [("W1", "S", 1191, -9, 45, 175, 0, 14), ("W2", "S", 491, 491, 0, 0, -1, 14)]
    ).with_columns(local_cover=pl.lit(3), cover_days=pl.lit(3), arriving_soon=pl.lit(0))
    [moved] = plan_transfers(cells, DIST, trigger="reorder_point_or_cover").rows(named=True)
    assert (moved["from_warehouse_id"], moved["qty"]) == ("W2", 12)
    assert moved["reason"].startswith(
        "W1 will not last until a transfer could arrive (available -9 + arriving 0 < 3-day cover 3)"
    )
    assert "≤ reorder point" not in moved["reason"]


def test_transfers_fire_only_when_one_side_is_short_and_the_other_in_excess() -> None:
    # W1 runs out on day 3 within its 10-day lead time; W2 holds 50 above order-up-to
    both = _cells([("W1", "S", 20, 20, 60, 120, 3, 10), ("W2", "S", 170, 170, 60, 120, -1, 10)])
    moved = plan_transfers(both, DIST)
    assert moved.select("from_warehouse_id", "to_warehouse_id", "qty").rows() == [("W2", "W1", 50)]
    assert "transfer before purchasing" in moved["reason"][0]
    # short, but nobody holds more than its order-up-to: no transfer
    no_excess = _cells(
        [("W1", "S", 20, 20, 60, 120, 3, 10), ("W2", "S", 110, 110, 60, 120, -1, 10)]
    )
    assert plan_transfers(no_excess, DIST).height == 0
    # excess, but the other side does not run out within its lead time: no transfer
    not_short = _cells(
        [("W1", "S", 20, 20, 60, 120, 15, 10), ("W2", "S", 500, 500, 60, 120, -1, 10)]
    )
    assert plan_transfers(not_short, DIST).height == 0
    # with the "reorder_point" trigger, a warehouse about to purchase takes surplus first
    moved = plan_transfers(not_short, DIST, trigger="reorder_point")
    assert moved.select("from_warehouse_id", "to_warehouse_id", "qty").rows() == [("W2", "W1", 100)]
    assert "W1 would purchase" in moved["reason"][0]
    # above its reorder point nobody takes anything, whatever the trigger
    above = _cells([("W1", "S", 70, 70, 60, 120, 15, 10), ("W2", "S", 500, 500, 60, 120, -1, 10)])
    assert plan_transfers(above, DIST, trigger="reorder_point").height == 0
    # never more than the need, nearest first
    nearest = _cells(
        [
            ("W1", "S", 0, 0, 60, 120, 0, 10),
            ("W2", "S", 200, 200, 60, 120, -1, 10),
            ("W3", "S", 900, 900, 60, 120, -1, 10),
        ]
    )
    moved = plan_transfers(nearest, DIST)
    assert moved.select("from_warehouse_id", "qty").rows() == [("W2", 80), ("W3", 40)]


# ---------------------------------------------------------------------------- a tiny known world
def _known_world(db_path: Path) -> None:
    """Three warehouses (Shanghai, Hangzhou, Urumqi), one SKU with a flat forecast of
    10 a day and a daily error σ of 5, lead time 9 d, MOQ 50, pack 12, cost 10."""
    con = duckdb.connect(str(db_path))
    con.execute("CREATE SCHEMA marts; CREATE SCHEMA ml; CREATE SCHEMA staging")
    con.execute("""CREATE TABLE marts.dim_warehouse AS SELECT * FROM (VALUES
        ('W1', 31.2, 121.5, false), ('W2', 30.3, 120.2, false), ('W3', 43.8, 87.6, false),
        ('(unknown)', NULL, NULL, true)) AS t(warehouse_id, latitude, longitude,
        is_unknown_member)""")
    con.execute("""CREATE TABLE marts.dim_product AS SELECT * FROM (VALUES
        ('S1', 'thing', 'cat', 10.0, 15.0, 9, 50, 12, 'active', false),
        ('S2', 'old thing', 'cat', 10.0, 15.0, 9, 50, 12, 'discontinued', false))
        AS t(sku, product_name, category, unit_cost_cny, unit_price_cny, lead_time_days, moq,
             pack_size, product_status, is_unknown_member)""")
    con.execute(
        """CREATE TABLE marts.fct_inventory_daily AS SELECT * FROM (VALUES
        (DATE '2025-11-20', 'W1', 'S1', 500, 0, 0, 0, 500, 0),
        (?, 'W1', 'S1', 65, 5, 0, 0, 60, 0),
        (?, 'W2', 'S1', 1200, 0, 0, 0, 1200, 0),
        (?, 'W3', 'S1', 1000, 0, 0, 0, 1000, 0),
        (?, 'W1', 'S2', 3, 0, 0, 0, 3, 0))
        AS t(position_date, warehouse_id, sku, on_hand, reserved, in_transit, damaged,
             available, on_order)""",
        [AS_OF] * 4,
    )
    con.execute("""CREATE TABLE marts.fct_order_lines AS SELECT * FROM (VALUES
        ('W1', 'S1', TIMESTAMP '2025-11-01 10:00:00', 40, false, 'C1'),
        ('W1', 'S1', TIMESTAMP '2025-11-02 10:00:00', 10, false, 'C2'))
        AS t(warehouse_id, sku, ordered_at, ordered_qty, is_cancelled, customer_key)""")
    con.execute("""CREATE TABLE marts.customer_segments AS SELECT * FROM (VALUES
        ('C1', 'high_value'), ('C2', 'small')) AS t(customer_key, tier)""")
    con.execute("""CREATE TABLE marts.fct_sku_classification AS SELECT * FROM (VALUES
        ('W1', 'S1', 'B'), ('W2', 'S1', 'B'), ('W3', 'S1', 'A'))
        AS t(warehouse_id, sku, abc_class)""")
    con.execute("""CREATE TABLE staging.stg_erp__purchase_orders AS SELECT * FROM (VALUES
        ('PO1', 1, 'SUP-OLD', 'S1', 'W1', 100, TIMESTAMP '2025-09-01 09:00:00',
         TIMESTAMP '2025-09-10 09:00:00', TIMESTAMP '2025-09-10 12:00:00'),
        ('PO2', 1, 'SUP-NEW', 'S1', 'W1', 100, TIMESTAMP '2025-10-01 09:00:00',
         TIMESTAMP '2025-10-10 09:00:00', TIMESTAMP '2025-10-10 12:00:00'))
        AS t(po_no, line_no, supplier_id, sku, warehouse_id, ordered_qty, ordered_at,
             expected_at, received_at)""")
    days = [AS_OF + timedelta(days=i) for i in range(1, 57)]
    forecast = pl.DataFrame(
        {
            "warehouse_id": [w for w in ("W1", "W2", "W3") for _ in days],
            "sku": "S1",
            "date": days * 3,
            "yhat": 10.0,
            "yhat_lower": 5.0,
            "yhat_upper": 15.0,
            "model": "prophet",
        }
    )
    accuracy = pl.DataFrame(
        {
            "warehouse_id": ["W1", "W2", "W3", "W1"],
            "sku": "S1",
            "model": ["prophet", "prophet", "prophet", "seasonal_naive"],
            "wape": [0.3, 0.3, 0.3, 0.5],
            "error_sd_daily": [5.0, 5.0, 5.0, 50.0],
        }
    )
    con.register("f", forecast.to_arrow())
    con.register("a", accuracy.to_arrow())
    con.execute("CREATE TABLE ml.demand_forecast AS SELECT * FROM f")
    con.execute("CREATE TABLE ml.forecast_accuracy AS SELECT * FROM a")
    con.close()


TEXTBOOK = PlanConfig(order_cost_cny=8, holding_rate=0.0225, high_value_share=0.5)


def test_plan_on_a_known_world(db_path: Path) -> None:
    _known_world(db_path)
    result = run_replenishment(db_path, config=TEXTBOOK)
    plan = {r["warehouse_id"] + r["sku"]: r for r in result.plan.iter_rows(named=True)}
    w1 = plan["W1S1"]
    # W1: high-value customers buy 80 % of its units → 99 % instead of class B's 95 %
    assert w1["service_level_target"] == 0.99
    z = 2.3263
    assert w1["z"] == pytest.approx(z, abs=1e-3)
    assert w1["error_sd_daily"] == 5.0  # the forecast's own model's error, not another's
    assert w1["forecast_demand_lead_time"] == 90.0
    assert w1["safety_stock"] == math.ceil(z * 5 * 3)  # 35
    assert w1["reorder_point"] == math.ceil(90 + z * 5 * 3)  # 125
    # EOQ: D = 3650 a year, K = 8, h = 0.0225 × 10 = 0.225 per unit and year
    assert w1["eoq"] == pytest.approx(math.sqrt(2 * 3650 * 8 / 0.225), abs=0.1)
    assert w1["order_up_to"] == math.ceil(90 + z * 5 * 3 + math.sqrt(2 * 3650 * 8 / 0.225))
    assert w1["supplier_id"] == "SUP-NEW"  # the most recent purchase order's
    assert w1["available"] == 60 and w1["reserved"] == 5  # the latest row, not 2025-11-20
    assert w1["projected_stockout_date"] == AS_OF + timedelta(days=6)
    assert w1["days_of_cover"] == 6.0
    # W1 runs out in 6 days, within its 9-day lead time; W2 (Hangzhou) is nearer than W3
    [transfer] = result.transfers.rows(named=True)
    assert (transfer["from_warehouse_id"], transfer["to_warehouse_id"]) == ("W2", "W1")
    need = w1["order_up_to"] - 60
    assert transfer["qty"] == need // 12 * 12  # whole packs; the rest is not worth a trip
    assert "W1 runs out in 6 d, within its lead time of 9 d" in transfer["reason"]
    assert w1["transfer_in_qty"] == transfer["qty"]
    # what the transfer leaves below the order-up-to is not worth an order above the ROP
    assert w1["recommended_order_qty"] == 0
    assert "reorder point 125" in w1["reason"] and "transfer in" in w1["reason"]
    # W3 (class A, no high-value buyers there) holds plenty: no order, a reason why
    w3 = plan["W3S1"]
    assert w3["service_level_target"] == 0.98 and w3["recommended_order_qty"] == 0
    assert "no order" in w3["reason"]
    # a discontinued SKU is never bought
    assert plan["W1S2"]["recommended_order_qty"] == 0
    assert plan["W1S2"]["reason"].startswith("discontinued")


def test_plan_settings_describe_themselves_in_one_line() -> None:
    assert PlanConfig().describe() == (
        "service levels A 98% / B 95% / C 90% (high-value 99%); order cost 100 CNY, holding "
        "25% a year; review every 1 d; order-size cover: the network's and the warehouse's, "
        "no cap; transfers: reorder_point_or_cover, from above_reorder_point"
    )
    own_capped = PlanConfig(order_size_cover_network=False, order_size_cover_max_days=60)
    assert "order-size cover: the warehouse's own, capped at 60 days of demand;" in (
        own_capped.describe()
    )
    assert "order-size cover: off;" in PlanConfig(order_size_cover=False).describe()


def test_a_planner_sets_the_business_parameters_in_the_environment(
    db_path: Path, tmp_path: Path, monkeypatch
) -> None:
    """WMSIGHT_PLAN__* settings reach `wmsight plan` (and, through the run context, the
    plan stage of `wmsight run` and Airflow); a bad one exits naming it, planning nothing."""
    from wmsight.cli import app
    from wmsight.config import load_settings
    from wmsight.runner import RunContext
    from wmsight.stages import plan_stage

    _known_world(db_path)
    monkeypatch.setenv("WMSIGHT_PLAN__SERVICE_LEVELS", '{"A": 0.9, "B": 0.8, "C": 0.7}')
    monkeypatch.setenv("WMSIGHT_PLAN__HIGH_VALUE_SHARE", "0.9")  # W1's 80 % is not enough
    monkeypatch.setenv("WMSIGHT_PLAN__ORDER_COST_CNY", "8")
    monkeypatch.setenv("WMSIGHT_PLAN__HOLDING_RATE", "0.0225")
    result = CliRunner().invoke(app, ["plan", "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    targets = "SELECT warehouse_id, service_level_target, eoq FROM ml.replenishment_plan "
    textbook_eoq = pytest.approx(math.sqrt(2 * 3650 * 8 / 0.225), abs=0.1)
    # classes B, B, A; the defaults would give 0.99 (W1's high-value buyers), 0.95, 0.98
    assert query(db_path, targets + "WHERE sku = 'S1' ORDER BY 1") == [
        ("W1", 0.8, textbook_eoq),
        ("W2", 0.8, textbook_eoq),
        ("W3", 0.9, textbook_eoq),
    ]
    settings = load_settings()
    plan_stage(RunContext(tmp_path, db_path, tmp_path / "feeds", plan=settings.plan))
    assert query(db_path, targets + "WHERE warehouse_id = 'W3'")[0][1] == 0.9

    monkeypatch.setenv("WMSIGHT_PLAN__SERVICE_LEVELS", '{"A": 98, "B": 0.95, "C": 0.9}')
    monkeypatch.setenv("WMSIGHT_PLAN__HOLDING_RATE", "-1")
    with duckdb.connect(str(db_path)) as con:
        con.execute("DELETE FROM ml.replenishment_plan")
    result = CliRunner().invoke(app, ["plan", "--db", str(db_path)])
    assert result.exit_code == 2
    output = " ".join(result.output.split())
    assert "WMSIGHT_PLAN__SERVICE_LEVELS" in output and "class A: 98" in output
    assert "WMSIGHT_PLAN__HOLDING_RATE" in output and "greater than 0" in output
    assert query(db_path, "SELECT count(*) FROM ml.replenishment_plan") == [(0,)]


def test_a_plan_from_an_old_stock_position_says_so(db_path: Path, tmp_path: Path) -> None:
    """Weeks of drops without stock records: the plan still starts from the last position
    (a missing file means unchanged), and the planner is told how old it is."""
    from wmsight.runner import RunContext
    from wmsight.stages import plan_stage

    _known_world(db_path)
    assert run_replenishment(db_path, as_of=AS_OF + timedelta(days=7)).warnings == []
    later = AS_OF + timedelta(days=30)
    outcome = plan_stage(RunContext(tmp_path, db_path, tmp_path / "feeds", later))
    [warning] = outcome.warnings
    assert warning.startswith(
        f"the plan starts from the stock position of {AS_OF}, 30 days before the run date "
        f"{later}: no drop since brought stock records"
    )
    assert f"plan as of {AS_OF}" in outcome.summary
    # and so is whoever takes the plan from the feed
    published = {
        f.feed: f for f in publish_feeds(db_path, tmp_path / "feeds", as_of=later).published
    }
    for feed in ("replenishment_plan", "transfer_recommendations"):
        assert published[feed].note.startswith(
            f"the plan starts from the stock position of {AS_OF}, 30 days before"
        ), feed
    manifest = json.loads((tmp_path / "feeds/latest/_manifest.json").read_text())
    assert manifest["feeds"]["replenishment_plan"]["note"] == published["replenishment_plan"].note


def test_a_single_large_order_raises_the_reorder_point(db_path: Path) -> None:
    """W3 sold once in the last year, 900 units to one customer: a lead-time forecast of 90
    plus safety stock would not serve such an order, so the reorder point covers it."""
    _known_world(db_path)
    with duckdb.connect(str(db_path)) as con:
        con.execute(
            "INSERT INTO marts.fct_order_lines VALUES "
            "('W3', 'S1', TIMESTAMP '2025-10-01 10:00:00', 900, false, 'C2')"
        )
    result = run_replenishment(db_path, config=TEXTBOOK)
    w3 = result.plan.filter(pl.col("warehouse_id") == "W3").row(0, named=True)
    forecast_rop = math.ceil(90 + float(policy.z_for(0.98)[0]) * 5 * 3)
    assert w3["order_size_cover"] == 900 and w3["reorder_point"] == 900
    assert f"raised from {forecast_rop} to cover single orders" in w3["reason"]
    assert "days of up to 900 made 98% of last year's units of it here" in w3["reason"]
    # W1 sold 40 and 10: too few orders to know; the SKU's days at every warehouse
    # (10, 40, 900) say an order of 900 makes 99 % of its units: W1 covers it too
    w1 = result.plan.filter(pl.col("warehouse_id") == "W1", pl.col("sku") == "S1").row(
        0, named=True
    )
    assert w1["order_size_cover"] == 900 and w1["reorder_point"] == 900
    assert "made 99% of last year's units of it at all warehouses (40 here)" in w1["reason"]
    # with the warehouse's own orders only, W1 keeps its forecast reorder point
    own = run_replenishment(
        db_path, config=TEXTBOOK.model_copy(update={"order_size_cover_network": False})
    )
    w1 = own.plan.filter(pl.col("warehouse_id") == "W1", pl.col("sku") == "S1").row(0, named=True)
    assert w1["order_size_cover"] == 40 and w1["reorder_point"] == 125
    assert "single orders" not in w1["reason"]
    # a planner who agrees large orders with the customer ahead caps the cover: W3 sells
    # 10 a day, so 60 days of its demand is 600, and the reason says what was capped
    capped = run_replenishment(
        db_path, config=TEXTBOOK.model_copy(update={"order_size_cover_max_days": 60})
    )
    w3 = capped.plan.filter(pl.col("warehouse_id") == "W3").row(0, named=True)
    assert w3["order_size_cover"] == 600 and w3["reorder_point"] == 600
    assert (
        "days of up to 900 made 98% of last year's units of it here, capped at 60 days of "
        "demand (600): a larger order needs notice from the customer"
    ) in w3["reason"]


def test_default_transfers_keep_the_giver_at_its_reorder_point(db_path: Path) -> None:
    """W2 holds 1,200 with a reorder point near 125: by default it gives W1 what W1 needs;
    with the issue's rule only stock above W2's order-up-to moves."""
    _known_world(db_path)
    default = run_replenishment(db_path, config=TEXTBOOK)
    issue = run_replenishment(
        db_path,
        config=TEXTBOOK.model_copy(
            update={
                "transfer_trigger": "stockout_within_lead_time",
                "transfer_source": "above_order_up_to",
            }
        ),
    )
    for result in (default, issue):
        plan = {r["warehouse_id"]: r for r in result.plan.iter_rows(named=True)}
        for t in result.transfers.iter_rows(named=True):
            giver = plan[t["from_warehouse_id"]]
            if result is default:
                assert giver["inventory_position"] - t["qty"] >= giver["reorder_point"]
                assert giver["available"] - t["qty"] >= giver["local_cover"]
                assert "can spare" in t["reason"] and "keeps its reorder point" in t["reason"]
            else:
                assert giver["available"] - t["qty"] >= giver["order_up_to"]
                assert "above its order-up-to" in t["reason"]
    assert default.transfers.height >= 1 and issue.transfers.height >= 1


def test_orders_respect_moq_and_packs_and_are_grouped_by_supplier(db_path: Path) -> None:
    _known_world(db_path)
    with duckdb.connect(str(db_path)) as con:  # nobody has stock to spare
        con.execute(
            "UPDATE marts.fct_inventory_daily SET available = 20 WHERE warehouse_id <> 'W1'"
        )
    result = run_replenishment(db_path, config=TEXTBOOK)
    assert result.transfers.height == 0
    rows = result.plan.filter(pl.col("recommended_order_qty") > 0)
    assert set(rows["warehouse_id"]) == {"W1", "W2", "W3"}
    for r in rows.iter_rows(named=True):
        assert r["recommended_order_qty"] % 12 == 0 and r["recommended_order_qty"] >= 50
        gap = r["order_up_to"] - r["inventory_position"]
        assert gap <= r["recommended_order_qty"] < gap + 12
        assert "≤ reorder point" in r["reason"] and "order " in r["reason"]
    # one proposal per warehouse and supplier
    assert result.proposals.height == 3
    assert result.proposals["proposal_id"].n_unique() == 3


def test_writes_replace_a_warehouse_partition(db_path: Path) -> None:
    _known_world(db_path)
    run_replenishment(db_path, config=TEXTBOOK)
    first = query(db_path, "SELECT * FROM ml.replenishment_plan ORDER BY warehouse_id, sku")
    run_replenishment(db_path, config=TEXTBOOK)
    run_replenishment(db_path, config=TEXTBOOK, warehouses=["W1"])
    again = query(db_path, "SELECT * FROM ml.replenishment_plan ORDER BY warehouse_id, sku")
    assert again == first
    assert query(db_path, "SELECT count(*) FROM ml.transfer_recommendations") == [(1,)]


# ---------------------------------------------------------------------------- generated world
@pytest.fixture(scope="module")
def warehouse(small_warehouse_one_drop: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Scale 0.03, seed 21, one daily drop, built: this module's own copy."""
    return private_copy(small_warehouse_one_drop, tmp_path_factory, "replenishment")


@pytest.mark.slow
def test_plan_on_a_generated_world_has_a_row_and_reason_per_active_cell(warehouse: Path) -> None:
    result = run_replenishment(warehouse)
    [(expected,)] = query(
        warehouse,
        """
        SELECT count(*) FROM (
            SELECT DISTINCT i.warehouse_id, i.sku FROM marts.fct_inventory_daily AS i
            JOIN marts.dim_product AS p ON p.sku = i.sku AND NOT p.is_unknown_member
            JOIN marts.dim_warehouse AS w ON w.warehouse_id = i.warehouse_id
                AND NOT w.is_unknown_member)""",
    )
    assert result.plan.height == expected > 0
    assert query(warehouse, "SELECT count(*) FROM ml.replenishment_plan") == [(expected,)]
    assert result.plan["reason"].null_count() == 0
    assert (result.plan["reason"].str.len_chars() > 40).all()
    assert (result.plan["recommended_order_qty"] >= 0).all()
    assert result.plan.select(pl.struct("warehouse_id", "sku").is_unique().all()).item()


@pytest.mark.slow
def test_simulate_command_on_a_generated_world(warehouse: Path, monkeypatch) -> None:
    from wmsight.cli import app

    # the replay uses the plan's settings from the environment, and says which
    monkeypatch.setenv("WMSIGHT_PLAN__ORDER_SIZE_COVER_MAX_DAYS", "90")
    result = CliRunner().invoke(
        app, ["simulate", "--db", str(warehouse), "--weeks", "4", "--warmup-weeks", "2"]
    )
    assert result.exit_code == 0, result.output
    assert "order-size cover: the network's and the warehouse's, capped at 90 days of demand" in (
        " ".join(result.output.split())
    )
    rows = query(
        warehouse,
        "SELECT policy, count(*) FROM ml.simulation_results GROUP BY policy ORDER BY policy",
    )
    [(n_wh,)] = query(
        warehouse, "SELECT count(*) FROM marts.dim_warehouse WHERE NOT is_unknown_member"
    )
    policies = ["erp_rule", "plan", "plan_lean", "static_minmax"]
    assert rows == [(p, n_wh + 1) for p in policies]
    assert "goal" in result.output and "plan_lean" in result.output
    [(fill,)] = query(
        warehouse,
        "SELECT min(fill_rate) FROM ml.simulation_results WHERE warehouse_id = 'ALL'",
    )
    assert 0 <= fill <= 1
