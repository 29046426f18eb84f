"""Daily inventory positions and the inventory KPIs, built for real on a small generated world.

The positions are checked against the extracts by a different route than the model takes
(an as-of join to the last snapshot and a range sum of movements), so a mistake in the
roll-forward does not check itself.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import query

from wmsight.transform import run_dbt

MODELS_ONLY = ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]

# the last day positions are known for: the newest drop that delivered stock records
HORIZON = """(SELECT max(_drop_date) FROM (
    SELECT _drop_date FROM raw.erp__stock_snapshots
    UNION ALL SELECT _drop_date FROM raw.erp__stock_movements))"""


@pytest.fixture(scope="module")
def warehouse(small_warehouse_two_drops: Path) -> Path:
    """Scale 0.03, seed 21, two daily drops, built (shared with tests/test_transform.py)."""
    return small_warehouse_two_drops


def test_every_cell_has_a_position_for_every_day_from_its_first_snapshot(warehouse: Path) -> None:
    [(cells, short, horizon, last_position)] = query(
        warehouse,
        f"""
        WITH spans AS (
            SELECT p.warehouse_id, p.sku, count(*) AS days,
                   date_diff('day', min(s.first_snapshot), {HORIZON}) + 1 AS expected,
                   min(p.position_date) = min(s.first_snapshot) AS starts_on_first_snapshot
            FROM marts.fct_inventory_daily AS p
            JOIN (SELECT warehouse_id, sku, min(snapshot_date) AS first_snapshot
                  FROM staging.stg_erp__stock_snapshots GROUP BY ALL) AS s USING (warehouse_id, sku)
            GROUP BY p.warehouse_id, p.sku)
        SELECT count(*),
               count(*) FILTER (WHERE days <> expected OR NOT starts_on_first_snapshot),
               {HORIZON},
               (SELECT max(position_date) FROM marts.fct_inventory_daily)
        FROM spans""",
    )
    assert cells > 50
    assert short == 0
    assert last_position == horizon
    # every cell with a snapshot has positions
    [(without,)] = query(
        warehouse,
        """
        SELECT count(*) FROM (SELECT DISTINCT warehouse_id, sku
                              FROM staging.stg_erp__stock_snapshots) AS s
        ANTI JOIN marts.fct_inventory_daily AS p USING (warehouse_id, sku)""",
    )
    assert without == 0


def test_on_hand_is_the_last_snapshot_plus_the_movements_since(warehouse: Path) -> None:
    [(rows, wrong, between_snapshots)] = query(
        warehouse,
        """
        WITH anchored AS (
            SELECT p.position_date, p.warehouse_id, p.sku, p.on_hand, p.reserved, p.damaged,
                   p.available, s.snapshot_date, s.on_hand AS snap_on_hand,
                   s.reserved AS snap_reserved, s.damaged AS snap_damaged
            FROM marts.fct_inventory_daily AS p
            ASOF JOIN staging.stg_erp__stock_snapshots AS s
                ON p.warehouse_id = s.warehouse_id AND p.sku = s.sku
                AND p.position_date >= s.snapshot_date),
        moved AS (
            SELECT a.position_date, a.warehouse_id, a.sku, coalesce(sum(m.qty), 0) AS qty
            FROM anchored AS a
            LEFT JOIN staging.stg_erp__stock_movements AS m
                ON m.warehouse_id = a.warehouse_id AND m.sku = a.sku
                AND CAST(m.moved_at AS DATE) > a.snapshot_date
                AND CAST(m.moved_at AS DATE) <= a.position_date
            GROUP BY a.position_date, a.warehouse_id, a.sku),
        expected AS (
            SELECT a.*, a.snap_on_hand + moved.qty AS expected_on_hand
            FROM anchored AS a JOIN moved USING (position_date, warehouse_id, sku))
        SELECT count(*),
               count(*) FILTER (WHERE on_hand <> expected_on_hand
                                OR reserved <> snap_reserved OR damaged <> snap_damaged
                                OR available <> on_hand - reserved - damaged),
               count(*) FILTER (WHERE position_date > snapshot_date
                                AND expected_on_hand <> snap_on_hand)
        FROM expected""",
    )
    assert rows > 5000
    assert wrong == 0
    # the roll-forward actually moved something between snapshots
    assert between_snapshots > 100


def test_a_snapshot_reanchors_on_hand_and_keeps_the_drift(warehouse: Path) -> None:
    [(snapshot_days, not_anchored, wrong_drift, zero_drift, drift_off_snapshot)] = query(
        warehouse,
        """
        WITH days AS (
            SELECT p.*, s.on_hand AS snap_on_hand,
                   lag(p.on_hand) OVER (PARTITION BY p.warehouse_id, p.sku
                                        ORDER BY p.position_date) AS day_before
            FROM marts.fct_inventory_daily AS p
            LEFT JOIN staging.stg_erp__stock_snapshots AS s
                ON s.warehouse_id = p.warehouse_id AND s.sku = p.sku
                AND s.snapshot_date = p.position_date)
        SELECT count(*) FILTER (WHERE is_snapshot_day),
               count(*) FILTER (WHERE is_snapshot_day AND on_hand <> snap_on_hand),
               count(*) FILTER (WHERE is_snapshot_day AND day_before IS NOT NULL
                                AND on_hand_drift <> day_before + net_movement_qty - snap_on_hand),
               count(*) FILTER (WHERE on_hand_drift = 0),
               count(*) FILTER (WHERE NOT is_snapshot_day AND on_hand_drift IS NOT NULL)
        FROM days""",
    )
    assert snapshot_days > 1000
    assert not_anchored == wrong_drift == drift_off_snapshot == 0
    # the generated ERP books every change of on_hand as a movement: the book hardly drifts
    # (only where ingest quarantined a movement row)
    assert zero_drift / snapshot_days > 0.95


def test_on_order_is_what_open_purchase_orders_hold(warehouse: Path) -> None:
    [(rows, wrong, with_orders)] = query(
        warehouse,
        """
        WITH expected AS (
            SELECT p.position_date, p.warehouse_id, p.sku, p.on_order,
                   coalesce(sum(po.ordered_qty), 0) AS open_qty
            FROM marts.fct_inventory_daily AS p
            LEFT JOIN staging.stg_erp__purchase_orders AS po
                ON po.warehouse_id = p.warehouse_id AND po.sku = p.sku
                AND CAST(po.ordered_at AS DATE) <= p.position_date
                AND (po.received_at IS NULL OR CAST(po.received_at AS DATE) > p.position_date)
            GROUP BY ALL)
        SELECT count(*), count(*) FILTER (WHERE on_order <> open_qty),
               count(*) FILTER (WHERE on_order > 0)
        FROM expected""",
    )
    assert rows > 5000 and with_orders > 100
    assert wrong == 0


def test_a_stockout_is_demand_with_nothing_available(warehouse: Path) -> None:
    [(stockouts, inconsistent, demand_days)] = query(
        warehouse,
        """
        SELECT count(*) FILTER (WHERE is_stockout),
               count(*) FILTER (WHERE is_stockout <> (ordered_qty > 0 AND available <= 0)),
               count(*) FILTER (WHERE ordered_qty > 0)
        FROM marts.fct_inventory_daily""",
    )
    assert inconsistent == 0
    # the simulated network runs out now and then, but not most of the time
    assert 0 < stockouts < 0.5 * demand_days
    # the KPI counts the same flags
    [(kpi_mismatch,)] = query(
        warehouse,
        """
        WITH per_day AS (
            SELECT position_date, warehouse_id,
                   count(*) FILTER (WHERE is_stockout)
                   / count(*) FILTER (WHERE ordered_qty > 0) AS rate
            FROM marts.fct_inventory_daily GROUP BY ALL
            HAVING count(*) FILTER (WHERE ordered_qty > 0) > 0)
        SELECT count(*) FROM per_day
        JOIN marts.fct_kpi_daily AS k
            ON k.date = per_day.position_date AND k.warehouse_id = per_day.warehouse_id
            AND k.metric = 'stockout_rate'
            -- fct_kpi_daily rounds values to 9 decimals (repeatable feed bytes)
        WHERE abs(k.value - per_day.rate) > 1e-9""",
    )
    assert kpi_mismatch == 0


def test_turnover_per_sku_is_goods_shipped_over_average_stock(warehouse: Path) -> None:
    [(cells, position_cells)] = query(
        warehouse,
        """
        SELECT (SELECT count(*) FROM marts.fct_inventory_sku_performance),
               (SELECT count(DISTINCT (warehouse_id, sku)) FROM marts.fct_inventory_daily)""",
    )
    assert cells == position_cells > 50
    [(wrong, with_turnover, out_of_range, classed)] = query(
        warehouse,
        """
        WITH expected AS (
            SELECT warehouse_id, sku, sum(shipped_qty) / nullif(avg(on_hand), 0) AS turnover,
                   count(*) FILTER (WHERE is_stockout) AS stockout_days
            FROM marts.fct_inventory_daily
            WHERE position_date > (SELECT max(position_date) FROM marts.fct_inventory_daily)
                                  - INTERVAL 365 DAYS
            GROUP BY ALL)
        SELECT count(*) FILTER (WHERE NOT coalesce(
                                    abs(f.inventory_turnover - e.turnover)
                                    <= 1e-9 * greatest(1, e.turnover),
                                    f.inventory_turnover IS NULL AND e.turnover IS NULL)
                                OR f.stockout_days <> e.stockout_days),
               count(*) FILTER (WHERE f.inventory_turnover > 0),
               count(*) FILTER (WHERE NOT (f.stockout_rate BETWEEN 0 AND 1)
                                OR NOT (f.fill_rate BETWEEN 0 AND 1)
                                OR NOT (f.inventory_accuracy BETWEEN 0 AND 1)
                                OR f.inventory_turnover < 0 OR f.days_of_inventory < 0),
               count(*) FILTER (WHERE f.abc_class IS NOT NULL AND f.xyz_class IS NOT NULL)
        FROM marts.fct_inventory_sku_performance AS f
        JOIN expected AS e USING (warehouse_id, sku)""",
    )
    assert wrong == out_of_range == 0
    # most stocked SKUs sell: turnover is positive, and they have an ABC / XYZ class
    assert with_turnover > 0.5 * cells
    assert classed > 0.5 * cells
    # a fast mover turns over faster than a slow one: the A class out-turns the C class
    turnover = dict(
        query(
            warehouse,
            """
            SELECT abc_class, median(inventory_turnover)
            FROM marts.fct_inventory_sku_performance
            WHERE abc_class IS NOT NULL GROUP BY abc_class""",
        )
    )
    assert turnover["A"] > turnover["C"]


INCREMENTAL_INVENTORY = (
    "intermediate.int_stock_movements_daily",
    "marts.fct_inventory_daily",
    "marts.fct_inventory_sku_performance",
)


def differing_rows(con: duckdb.DuckDBPyConnection, table: str, other: str) -> tuple[int, int]:
    """Rows of `table` not in the same table of the attached database `other`, and back
    (as multisets: a duplicated row counts)."""
    mine, theirs = f"SELECT * FROM {table}", f"SELECT * FROM {other}.{table}"
    [(extra, missing)] = con.execute(
        f"SELECT (SELECT count(*) FROM ({mine} EXCEPT ALL {theirs})), "
        f"(SELECT count(*) FROM ({theirs} EXCEPT ALL {mine}))"
    ).fetchall()
    return extra, missing


def test_late_and_corrected_stock_records_rebuild_only_their_days_like_a_full_refresh(
    warehouse: Path, tmp_path: Path
) -> None:
    """A drop that corrects an old snapshot, brings a forgotten movement, and re-delivers an
    old movement ten days later in another warehouse: the incremental build recomputes the
    movement days of every version, rolls both cells forward again from there, and equals
    a full refresh."""
    stepwise, full = tmp_path / "stepwise.duckdb", tmp_path / "full.duckdb"
    shutil.copy(warehouse, stepwise)
    [(wh, sku, old_date, on_hand, horizon)] = query(
        warehouse,
        f"""
        SELECT warehouse_id, sku, snapshot_date, on_hand, {HORIZON}
        FROM staging.stg_erp__stock_snapshots
        WHERE snapshot_date < {HORIZON} - INTERVAL 20 DAYS
        ORDER BY snapshot_date DESC, warehouse_id, sku LIMIT 1""",
    )
    # an old movement of a SKU that another warehouse stocks too, a day after a snapshot
    [(moved_id, moved_wh, moved_sku, moved_at, moved_qty, moved_type, other_wh)] = query(
        warehouse,
        f"""
        SELECT m.movement_id, m.warehouse_id, m.sku, m.moved_at, m.qty, m.movement_type,
               min(other.warehouse_id)
        FROM staging.stg_erp__stock_movements AS m
        JOIN staging.stg_erp__stock_snapshots AS other
            ON other.sku = m.sku AND other.warehouse_id <> m.warehouse_id
            AND other.snapshot_date < CAST(m.moved_at AS DATE)
        WHERE m.moved_at < {HORIZON} - INTERVAL 40 DAYS
        GROUP BY ALL ORDER BY m.moved_at DESC, m.movement_id LIMIT 1""",
    )
    new_drop = horizon + timedelta(days=1)  # delivered the day after the newest drop
    with duckdb.connect(str(stepwise)) as con:
        con.execute(
            """INSERT INTO raw.erp__stock_snapshots
            (snapshot_date, warehouse_id, sku, on_hand, reserved, in_transit, damaged,
             _drop_date, _source_file, _line, _loaded_at)
            VALUES (?, ?, ?, ?, 0, 0, 0, ?, 'late', 2, now())""",
            [old_date, wh, sku, on_hand + 7, new_drop],
        )
        con.execute(
            """INSERT INTO raw.erp__stock_movements
            (movement_id, moved_at, warehouse_id, sku, qty, movement_type, ref,
             _drop_date, _source_file, _line, _loaded_at)
            VALUES ('MV-LATE', ? + INTERVAL 3 DAY + INTERVAL 10 HOUR, ?, ?, 5, 'adjustment',
                    NULL, ?, 'late', 2, now()),
                   (?, ? + INTERVAL 10 DAY, ?, ?, ?, ?, NULL, ?, 'late', 3, now())""",
            [old_date, wh, sku, new_drop]
            + [moved_id, moved_at, other_wh, moved_sku, moved_qty, moved_type, new_drop],
        )
    shutil.copy(stepwise, full)
    assert run_dbt(stepwise, "build", MODELS_ONLY).success
    assert run_dbt(full, "build", [*MODELS_ONLY, "--full-refresh"]).success
    with duckdb.connect(str(stepwise)) as con:
        con.execute(f"ATTACH '{full}' AS full_build (READ_ONLY)")
        for table in INCREMENTAL_INVENTORY:
            assert differing_rows(con, table, "full_build") == (0, 0), table
        # the corrected snapshot holds from its day, the movement from three days later
        rows = con.execute(
            """SELECT position_date, on_hand FROM marts.fct_inventory_daily
            WHERE warehouse_id = ? AND sku = ? AND position_date IN (?, ? + INTERVAL 3 DAY)
            ORDER BY position_date""",
            [wh, sku, old_date, old_date],
        ).fetchall()
        # the re-delivered movement left its old day and warehouse for the new ones
        days = dict(
            con.execute(
                """SELECT warehouse_id || ' ' || movement_date, net_qty
                FROM intermediate.int_stock_movements_daily
                WHERE sku = ? AND (warehouse_id, movement_date) IN ((?, ?), (?, ?))""",
                [
                    moved_sku,
                    moved_wh,
                    moved_at.date(),
                    other_wh,
                    moved_at.date() + timedelta(days=10),
                ],
            ).fetchall()
        )
    before = dict(
        query(
            warehouse,
            """SELECT position_date, on_hand FROM marts.fct_inventory_daily
            WHERE warehouse_id = ? AND sku = ? AND position_date IN (?, ? + INTERVAL 3 DAY)""",
            [wh, sku, old_date, old_date],
        )
    )
    (d0, after0), (d3, after3) = rows
    assert after0 == before[d0] + 7
    # unless a snapshot re-anchored the cell in between, both corrections carry forward
    assert after3 in (before[d3] + 12, before[d3] + 5, before[d3])
    days_before = dict(
        query(
            warehouse,
            """SELECT warehouse_id || ' ' || movement_date, net_qty
            FROM intermediate.int_stock_movements_daily
            WHERE sku = ? AND (warehouse_id, movement_date) IN ((?, ?), (?, ?))""",
            [moved_sku, moved_wh, moved_at.date(), other_wh, moved_at.date() + timedelta(days=10)],
        )
    )
    old_day = f"{moved_wh} {moved_at.date()}"
    new_day = f"{other_wh} {moved_at.date() + timedelta(days=10)}"
    assert days[old_day] == days_before[old_day] - moved_qty
    assert days[new_day] == days_before.get(new_day, 0) + moved_qty
