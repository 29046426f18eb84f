"""The dbt warehouse built for real (dbtRunner, dbt-duckdb) on a small generated world."""

from __future__ import annotations

import csv
import io
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import FAILING_DATA_TEST, break_a_data_test, built_copy, query
from typer.testing import CliRunner

from ingest.load import ingest_extracts
from wmsight.cli import app
from wmsight.demo import generate_world
from wmsight.transform import DbtFailed, build_warehouse, run_dbt

# seeds and models without their tests (which other tests here run), to keep this quick
MODELS_ONLY = ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]


@pytest.fixture(scope="module")
def warehouse(small_warehouse_two_drops: Path) -> Path:
    """Scale 0.03, seed 21, two daily drops, built (shared with tests/test_inventory.py)."""
    return small_warehouse_two_drops


def test_staging_keeps_one_current_row_per_key(warehouse: Path) -> None:
    [(orders, versions)] = query(
        warehouse,
        """
        SELECT (SELECT count(*) FROM staging.stg_erp__sales_orders),
               (SELECT count(DISTINCT order_no) FROM raw.erp__sales_orders)""",
    )
    assert orders == versions > 0
    # an order updated in a delta drop shows its newest state
    [(stale,)] = query(
        warehouse,
        """
        SELECT count(*) FROM staging.stg_erp__sales_orders AS s
        JOIN raw.erp__sales_orders AS r ON r.order_no = s.order_no
        WHERE r.updated_at > s.updated_at""",
    )
    assert stale == 0


def test_items_follow_the_current_order_version(warehouse: Path) -> None:
    [(orphans,)] = query(
        warehouse,
        """
        SELECT count(*) FROM staging.stg_ecommerce__order_items AS i
        LEFT JOIN staging.stg_ecommerce__orders AS o USING (order_id)
        WHERE o.order_id IS NULL""",
    )
    assert orphans == 0


def test_provinces_seed_covers_every_delivered_province(warehouse: Path) -> None:
    [(unmatched,)] = query(
        warehouse,
        """
        SELECT count(*) FROM staging.stg_ecommerce__orders AS o
        LEFT JOIN reference.province_regions AS p
            ON o.ship_province_raw IN (p.province, p.province_short)
        WHERE o.ship_province_raw IS NOT NULL AND p.province IS NULL""",
    )
    assert unmatched == 0
    assert query(warehouse, "SELECT count(*) FROM reference.province_regions") == [(31,)]


def test_a_failing_test_is_reported_by_name(warehouse: Path, tmp_path: Path) -> None:
    # with its build markers: build_warehouse's build is lean, `wmsight transform` builds
    # everything; the failing data test is named by both
    broken = built_copy(warehouse, tmp_path)
    with duckdb.connect(str(broken)) as con:
        break_a_data_test(con)
    with pytest.raises(DbtFailed) as failed:
        build_warehouse(broken)
    assert FAILING_DATA_TEST in str(failed.value)
    result = CliRunner().invoke(app, ["transform", "--db", str(broken)])
    assert result.exit_code == 1
    assert FAILING_DATA_TEST in result.output


def test_dbt_docs_generate_works(warehouse: Path) -> None:
    result = run_dbt(warehouse, "docs generate")
    assert result.success, result.summary()


def test_a_fact_waits_on_its_master_and_resolves_when_it_arrives(tmp_path: Path) -> None:
    from extract_builder import good, good_order, write_csv, write_orders

    extracts, db_path = tmp_path / "extracts", tmp_path / "w.duckdb"
    write_csv(extracts, "2025-03-01", "erp/warehouses.csv", [good("erp/warehouses.csv")])
    write_csv(extracts, "2025-03-01", "erp/products.csv", [good("erp/products.csv")])
    write_csv(
        extracts,
        "2025-03-01",
        "erp/stock_snapshots.csv",
        [good("erp/stock_snapshots.csv"), good("erp/stock_snapshots.csv", sku="SKU-NEW")],
    )
    # feedback from a CRM account about an ERP order, before either master arrived
    write_csv(extracts, "2025-03-01", "crm/feedback.csv", [good("crm/feedback.csv")])
    # an online order of a SKU the product master does not hold yet
    write_orders(extracts, "2025-03-01", [good_order()])
    ingest_extracts(extracts, db_path)
    build_warehouse(db_path)
    unresolved = (
        "SELECT source_file, fact_key, missing_reference, missing_id, first_seen_drop, "
        "last_seen_drop FROM marts.fct_unresolved_references ORDER BY ALL"
    )
    first = date(2025, 3, 1)
    assert query(db_path, unresolved) == [
        ("crm/feedback.csv", "FB-1", "customer", "CRM-1", first, first),
        ("crm/feedback.csv", "FB-1", "order", "SO-1", first, first),
        ("ecommerce/orders.jsonl", "TM20250301000123/0", "sku", "SKU-00042", first, first),
        ("erp/stock_snapshots.csv", "2025-03-01/WH-EC/SKU-NEW", "sku", "SKU-NEW", first, first),
    ]

    # delivered again, still without their masters: they have waited since the first drop
    # (the online order through the incremental staging table)
    write_csv(extracts, "2025-03-02", "crm/feedback.csv", [good("crm/feedback.csv")])
    write_orders(extracts, "2025-03-02", [good_order(updated_at="2025-03-02T09:00:00+08:00")])
    ingest_extracts(extracts, db_path)
    build_warehouse(db_path)
    second = date(2025, 3, 2)
    assert query(db_path, unresolved) == [
        ("crm/feedback.csv", "FB-1", "customer", "CRM-1", first, second),
        ("crm/feedback.csv", "FB-1", "order", "SO-1", first, second),
        ("ecommerce/orders.jsonl", "TM20250301000123/0", "sku", "SKU-00042", first, second),
        ("erp/stock_snapshots.csv", "2025-03-01/WH-EC/SKU-NEW", "sku", "SKU-NEW", first, first),
    ]
    # the facts are kept, pointing at the unknown member
    assert query(db_path, "SELECT sku, sku_key FROM marts.fct_inventory_daily ORDER BY sku") == [
        ("SKU-1", "SKU-1"),
        ("SKU-NEW", "(unknown)"),
    ]
    assert query(db_path, "SELECT customer_key, customer_match FROM marts.fct_feedback") == [
        ("(unknown)", "unknown")
    ]

    write_csv(
        extracts,
        "2025-03-03",
        "erp/products.csv",
        [
            good("erp/products.csv", sku="SKU-NEW", name="新品"),
            good("erp/products.csv", sku="SKU-00042", name="保温杯"),
        ],
    )
    write_csv(extracts, "2025-03-03", "crm/customers.csv", [good("crm/customers.csv")])
    write_csv(extracts, "2025-03-03", "erp/customers.csv", [good("erp/customers.csv")])
    write_csv(extracts, "2025-03-03", "erp/sales_orders.csv", [good("erp/sales_orders.csv")])
    write_csv(
        extracts, "2025-03-03", "erp/sales_order_lines.csv", [good("erp/sales_order_lines.csv")]
    )
    ingest_extracts(extracts, db_path)
    build_warehouse(db_path)
    assert query(db_path, "SELECT count(*) FROM marts.fct_unresolved_references") == [(0,)]
    assert query(db_path, "SELECT sku_key FROM marts.fct_inventory_daily ORDER BY sku") == [
        ("SKU-1",),
        ("SKU-NEW",),
    ]
    [(crm_customer,)] = query(
        db_path,
        "SELECT customer_key FROM marts.customer_identity_map "
        "WHERE source_system = 'crm' AND source_id = 'CRM-1'",
    )
    assert query(
        db_path, "SELECT customer_key, customer_match, warehouse_id FROM marts.fct_feedback"
    ) == [(crm_customer, "crm_id", "WH-EC")]


def test_every_online_order_line_has_a_fulfilling_warehouse(warehouse: Path) -> None:
    [(lines, without_warehouse)] = query(
        warehouse,
        """
        SELECT count(*), count(*) FILTER (WHERE warehouse_id IS NULL)
        FROM intermediate.int_order_lines WHERE channel = 'ecommerce'""",
    )
    assert lines > 0 and without_warehouse == 0


def test_daily_kpis_cover_every_metric_per_warehouse_and_company_wide(warehouse: Path) -> None:
    metrics = {
        "fulfillment_hours_avg",
        "on_time_rate",
        "fill_rate",
        "stockout_rate",
        "mis_shipment_rate",
        "return_rate",
        "satisfaction_rate",
        "nps",
        "inventory_turnover",
        "days_of_inventory",
        "inventory_accuracy",
    }
    found = {
        m
        for (m,) in query(
            warehouse, "SELECT DISTINCT metric FROM marts.fct_kpi_daily WHERE warehouse_id = 'ALL'"
        )
    }
    assert found == metrics
    [(warehouses,)] = query(
        warehouse,
        "SELECT count(DISTINCT warehouse_id) FROM marts.fct_kpi_daily WHERE warehouse_id <> 'ALL'",
    )
    assert warehouses == 7
    [(out_of_range,)] = query(
        warehouse,
        """
        SELECT count(*) FROM marts.fct_kpi_daily
        WHERE metric LIKE '%rate' AND NOT value BETWEEN 0 AND 1""",
    )
    assert out_of_range == 0
    # targets the business set: satisfaction >= 90 %, fulfillment <= 48 h
    assert set(
        query(
            warehouse,
            "SELECT DISTINCT metric, target FROM marts.fct_kpi_daily "
            "WHERE target IS NOT NULL AND metric <> 'return_rate'",
        )
    ) == {("satisfaction_rate", 0.9), ("fulfillment_hours_avg", 48.0)}


# Each KPI straight from the facts by its FEEDS.md definition, per group of warehouses
# (`groups`: warehouse_id -> grp) and channel; inventory metrics have no channel.
KPIS_FROM_FACTS = """
WITH lines AS (
    SELECT l.*, g.grp FROM marts.fct_order_lines AS l JOIN groups AS g USING (warehouse_id)
),
orders AS (
    SELECT order_id, any_value(warehouse_id) AS warehouse_id, any_value(channel) AS channel,
           max(delivered_at) AS delivered_at, bool_and(is_on_time) AS is_on_time
    FROM marts.fct_order_lines GROUP BY order_id
),
fill AS (
    SELECT CAST(shipped_at AS DATE) AS date, grp, channel, 'fill_rate' AS metric,
           sum(shipped_qty) / sum(ordered_qty) AS value
    FROM lines WHERE shipped_at IS NOT NULL GROUP BY ALL
),
on_time AS (
    SELECT CAST(delivered_at AS DATE), g.grp, channel, 'on_time_rate',
           avg(CAST(is_on_time AS INTEGER))
    FROM orders JOIN groups AS g USING (warehouse_id)
    WHERE delivered_at IS NOT NULL AND is_on_time IS NOT NULL GROUP BY ALL
),
returned AS (
    SELECT CAST(r.requested_at AS DATE) AS date, g.grp, o.channel,
           sum(r.returned_qty) AS returned_qty
    FROM staging.stg_erp__returns AS r JOIN orders AS o ON o.order_id = r.order_ref
    JOIN groups AS g ON g.warehouse_id = coalesce(r.warehouse_id, o.warehouse_id)
    GROUP BY ALL
),
return_rate AS (
    SELECT returned.date, returned.grp, returned.channel, 'return_rate',
           any_value(returned.returned_qty) / sum(lines.shipped_qty)
    FROM returned JOIN lines
      ON lines.grp = returned.grp AND lines.channel = returned.channel
      AND CAST(lines.shipped_at AS DATE) BETWEEN returned.date - 29 AND returned.date
    GROUP BY ALL
),
feedback AS (
    SELECT f.submitted_on AS date, g.grp, f.order_channel AS channel,
           avg(CAST(f.is_satisfied AS INTEGER)) AS satisfaction_rate,
           (avg(CAST(f.nps_group = 'promoter' AS INTEGER))
            - avg(CAST(f.nps_group = 'detractor' AS INTEGER))) * 100 AS nps
    FROM marts.fct_feedback AS f JOIN groups AS g USING (warehouse_id) GROUP BY ALL
),
stock AS (
    SELECT p.position_date AS date, g.grp, sum(p.on_hand * d.unit_cost_cny) AS value
    FROM marts.fct_inventory_daily AS p JOIN groups AS g USING (warehouse_id)
    JOIN marts.dim_product AS d USING (sku) GROUP BY ALL
),
cogs AS (
    SELECT CAST(shipped_at AS DATE) AS date, grp, sum(shipped_qty * d.unit_cost_cny) AS cogs
    FROM lines JOIN marts.dim_product AS d ON d.sku = lines.shipped_sku
    WHERE shipped_at IS NOT NULL AND shipped_qty > 0 GROUP BY ALL
),
stock_windows AS (
    SELECT s.date, s.grp, s.value,
           (SELECT coalesce(sum(c.cogs), 0) FROM cogs AS c
            WHERE c.grp = s.grp AND c.date BETWEEN s.date - 364 AND s.date) AS cogs_365d,
           (SELECT coalesce(sum(c.cogs), 0) FROM cogs AS c
            WHERE c.grp = s.grp AND c.date BETWEEN s.date - 89 AND s.date) AS cogs_90d,
           (SELECT avg(w.value) FROM stock AS w
            WHERE w.grp = s.grp AND w.date BETWEEN s.date - 364 AND s.date) AS avg_value_365d
    FROM stock AS s
)
SELECT * FROM fill UNION ALL SELECT * FROM on_time UNION ALL SELECT * FROM return_rate
UNION ALL SELECT date, grp, channel, 'satisfaction_rate', satisfaction_rate FROM feedback
UNION ALL SELECT date, grp, channel, 'nps', nps FROM feedback
UNION ALL SELECT date, grp, NULL, 'inventory_turnover', cogs_365d / avg_value_365d
    FROM stock_windows WHERE avg_value_365d <> 0
UNION ALL SELECT date, grp, NULL, 'days_of_inventory', value * 90 / cogs_90d
    FROM stock_windows WHERE cogs_90d <> 0
"""

# what a dashboard does with the components: add them up over the chosen warehouses
KPIS_FROM_COMPONENTS = """
SELECT c.date, g.grp, c.channel, c.metric, sum(c.numerator) / sum(c.denominator) AS value
FROM marts.fct_kpi_daily_components AS c JOIN groups AS g USING (warehouse_id)
WHERE c.metric IN ('fill_rate', 'on_time_rate', 'return_rate', 'satisfaction_rate', 'nps',
                   'inventory_turnover', 'days_of_inventory')
GROUP BY ALL
HAVING sum(c.observations) > 0 AND sum(c.denominator) <> 0
"""


@pytest.mark.parametrize(
    "grouping",
    ["region", "CASE WHEN region IN ('东北', '华北', '西北') THEN 'north' ELSE 'south' END"],
    ids=["per_region", "north_and_south"],
)
def test_kpi_components_add_up_to_the_kpi_of_any_warehouses_and_channel(
    warehouse: Path, grouping: str
) -> None:
    """sum(numerator) / sum(denominator) over a set of warehouses and a channel is that
    set's KPI as computed from the facts, also for the trailing windows."""
    rows = query(
        warehouse,
        f"""
        WITH groups AS (
            SELECT warehouse_id, {grouping} AS grp FROM marts.dim_warehouse
            WHERE region IS NOT NULL),
        facts AS ({KPIS_FROM_FACTS}),
        components AS ({KPIS_FROM_COMPONENTS})
        SELECT coalesce(f.metric, c.metric), count(*),
               count(*) FILTER (WHERE f.value IS NULL OR c.value IS NULL
                                OR abs(f.value - c.value) > 1e-9 * greatest(1, abs(f.value)))
        FROM facts AS f FULL JOIN components AS c
            ON f.date = c.date AND f.grp = c.grp AND f.metric = c.metric
            AND f.channel IS NOT DISTINCT FROM c.channel
        GROUP BY ALL""",
    )
    assert {metric for metric, _, _ in rows} == {
        "fill_rate",
        "on_time_rate",
        "return_rate",
        "satisfaction_rate",
        "nps",
        "inventory_turnover",
        "days_of_inventory",
    }
    assert all(compared > 0 for _, compared, _ in rows), rows
    assert [(metric, differing) for metric, _, differing in rows if differing] == []


def redeliver_a_movement_elsewhere(extracts: Path, drops: list[Path]) -> tuple[dict, dict]:
    """A last drop that re-delivers the first drop's first movement nine days later in
    another warehouse (the ERP corrected it). Returns the movement before and after."""
    from extract_builder import write_csv

    text = (drops[0] / "erp" / "stock_movements.csv").read_bytes().decode("gb18030")
    rows = list(csv.DictReader(io.StringIO(text)))
    before = rows[0]
    moved_at = datetime.fromisoformat(before["moved_at"].replace("/", "-"))
    after = before | {
        "moved_at": (moved_at + timedelta(days=9)).isoformat(sep=" "),
        "warehouse_id": next(
            r["warehouse_id"] for r in rows if r["warehouse_id"] != before["warehouse_id"]
        ),
    }
    last_drop = date.fromisoformat(drops[-1].name)
    write_csv(extracts, str(last_drop + timedelta(days=1)), "erp/stock_movements.csv", [after])
    return before, after


def deliver_order_versions_late(extracts: Path, drops: list[Path]) -> tuple[str, str]:
    """A last drop with versions of the first drop's orders: one older than the current
    version (status cancelled, updated 30 days earlier: must be ignored), one newer
    (shipped to another province, written with spaces and full-width letters), one newer
    with an item fewer; a return moved to another order; a warehouse that takes over
    online orders from another. Returns the ids of the first two orders."""
    import json

    from extract_builder import write_csv, write_orders

    lines = (drops[0] / "ecommerce" / "orders.jsonl").read_text(encoding="utf-8").splitlines()
    stale, newer = json.loads(lines[0]), json.loads(lines[1])
    shrunk = next(o for o in map(json.loads, lines[2:]) if len(o["items"]) >= 2)
    shrunk |= {"items": shrunk["items"][:-1], "updated_at": f"{drops[-1].name}T22:00:00+08:00"}
    text = (drops[0] / "erp" / "returns.csv").read_bytes().decode("gb18030")
    returns = list(csv.DictReader(io.StringIO(text)))
    other = next(r["order_ref"] for r in returns if r["order_ref"] != returns[0]["order_ref"])
    moved = returns[0] | {"order_ref": other}
    # a warehouse opens beside 南宁: online orders to 广西 without one move to it
    opened = {
        "warehouse_id": "WH-NNG",
        "name": "南宁配送中心",
        "region": "华南",
        "province": "广西壮族自治区",
        "city": "南宁市",
        "latitude": "22.8170",
        "longitude": "108.3660",
        "capacity_units": "200000",
    }
    updated = datetime.fromisoformat(stale["updated_at"])
    stale |= {"status": "cancelled", "updated_at": (updated - timedelta(days=30)).isoformat()}
    newer |= {
        "ship_to": newer["ship_to"] | {"province": " 黑龙江 "},
        "buyer": newer["buyer"] | {"email": "ＢＵＹＥＲ@Example.COM"},
        "updated_at": f"{drops[-1].name}T23:00:00+08:00",
    }
    last_drop = date.fromisoformat(drops[-1].name)
    write_orders(extracts, str(last_drop + timedelta(days=1)), [stale, newer, shrunk])
    write_csv(extracts, str(last_drop + timedelta(days=1)), "erp/returns.csv", [moved])
    write_csv(extracts, str(last_drop + timedelta(days=1)), "erp/warehouses.csv", [opened])
    return stale["order_id"], newer["order_id"]


def test_building_drop_by_drop_gives_the_same_marts_as_a_full_refresh(tmp_path: Path) -> None:
    """Incremental models rebuild only what a new drop touched; the result must not differ,
    also when the last drop moves an old stock movement to another day and warehouse, or
    delivers an order's version older than its current one, and a newer one of another."""
    extracts = tmp_path / "extracts"
    generate_world(extracts, scale=0.02, seed=33, days=90, delta_drops=2)
    drops = sorted(p for p in extracts.iterdir() if p.name[0].isdigit())
    before, after = redeliver_a_movement_elsewhere(extracts, drops)
    stale_order, newer_order = deliver_order_versions_late(extracts, drops)
    drops = sorted(p for p in extracts.iterdir() if p.name[0].isdigit())
    stepwise, full = tmp_path / "stepwise.duckdb", tmp_path / "full.duckdb"
    staged = tmp_path / "staged"
    for drop in drops:  # deliver the drops one at a time, building after each
        shutil.copytree(drop, staged / drop.name)
        ingest_extracts(staged, stepwise)
        assert run_dbt(stepwise, "build", MODELS_ONLY).success
    ingest_extracts(extracts, full)
    assert run_dbt(full, "build", MODELS_ONLY).success
    # sums of doubles depend on the order they are added in: compare KPIs to 1e-9
    kpis = "SELECT date, warehouse_id, metric, round(value, 9), round(target, 9) FROM {}"
    for table, select in [
        ("staging.stg_ecommerce__orders", "SELECT * FROM {}"),
        ("intermediate.int_order_lines", "SELECT * FROM {}"),
        # identity links may differ between the two near the match threshold until the
        # model is retrained (docs/SCALING.md): customer_key is checked on its own below
        ("marts.fct_order_lines", "SELECT * EXCLUDE (customer_key) FROM {}"),
        ("intermediate.int_stock_movements_daily", "SELECT * FROM {}"),
        ("marts.fct_inventory_daily", "SELECT * FROM {}"),
        ("marts.fct_kpi_daily", kpis),
        # its components are sums of whole numbers and decimals: equal to the last bit
        ("marts.fct_kpi_daily_components", "SELECT * FROM {}"),
    ]:
        with duckdb.connect(str(stepwise)) as con:
            con.execute(f"ATTACH '{full}' AS full_build (READ_ONLY)")
            mine, theirs = select.format(table), select.format(f"full_build.{table}")
            # as multisets: a row an incremental build failed to replace counts twice
            differing = con.execute(
                f"SELECT (SELECT count(*) FROM ({mine} EXCEPT ALL {theirs})), "
                f"(SELECT count(*) FROM ({theirs} EXCEPT ALL {mine})), "
                f"(SELECT count(*) FROM {table})"
            ).fetchall()[0]
        assert differing[:2] == (0, 0), table
        assert differing[2] > 0, table
    # the day the movement left is marked by the drop that moved it (positions roll forward
    # again from there), and the movement counts where it is now
    [(left_marked, now_counted)] = query(
        stepwise,
        """
        SELECT bool_or(movement_date = ? AND warehouse_id = ? AND last_source_drop_date = ?),
               bool_or(movement_date = ? AND warehouse_id = ? AND movements >= 1)
        FROM intermediate.int_stock_movements_daily WHERE sku = ?""",
        [
            datetime.fromisoformat(before["moved_at"].replace("/", "-")).date(),
            before["warehouse_id"],
            date.fromisoformat(drops[-1].name),
            datetime.fromisoformat(after["moved_at"]).date(),
            after["warehouse_id"],
            before["sku"],
        ],
    )
    assert left_marked and now_counted
    # every line carries the customer_key its customer maps to now
    [(reallocated,)] = query(
        stepwise,
        """SELECT count(*) FROM marts.fct_order_lines
           WHERE warehouse_id = 'WH-NNG' AND channel = 'ecommerce'""",
    )
    assert reallocated > 0
    [(stale_keys,)] = query(
        stepwise,
        """SELECT count(*) FROM marts.fct_order_lines AS f
           LEFT JOIN marts.customer_identity_map AS m
             ON f.customer_source_system = m.source_system AND f.customer_source_id = m.source_id
           WHERE f.customer_key <> coalesce(m.customer_key, '(unknown)')""",
    )
    assert stale_keys == 0
    # a customer that maps to another key now (links found since) is rebuilt next time
    with duckdb.connect(str(stepwise)) as con:
        [(order_id,)] = con.execute(
            "SELECT min(order_id) FROM marts.fct_order_lines WHERE customer_key <> '(unknown)'"
        ).fetchall()
        con.execute(
            "UPDATE marts.fct_order_lines SET customer_key = 'merged away' WHERE order_id = ?",
            [order_id],
        )
    assert run_dbt(stepwise, "build", MODELS_ONLY).success
    assert query(
        stepwise, "SELECT count(*) FROM marts.fct_order_lines WHERE customer_key = 'merged away'"
    ) == [(0,)]
    orders = dict(
        query(
            stepwise,
            """SELECT order_id, concat_ws(' ', order_status, ship_province_raw, buyer_email)
               FROM staging.stg_ecommerce__orders WHERE order_id IN (?, ?)""",
            [stale_order, newer_order],
        )
    )
    assert not orders[stale_order].startswith("cancelled")
    assert orders[newer_order].endswith(" 黑龙江 buyer@example.com")


def test_every_customer_with_orders_has_a_tier_and_an_rfm_segment(warehouse: Path) -> None:
    [(customers, segmented)] = query(
        warehouse,
        """
        SELECT (SELECT count(DISTINCT customer_key) FROM marts.fct_order_lines
                WHERE NOT is_cancelled AND customer_key <> '(unknown)'),
               (SELECT count(*) FROM marts.customer_segments)""",
    )
    assert customers == segmented > 0
    tiers = {t for (t,) in query(warehouse, "SELECT DISTINCT tier FROM marts.customer_segments")}
    assert tiers <= {"high_value", "growth", "regular", "small", "churn_risk", "lapsed"}
    assert len(tiers) >= 3
