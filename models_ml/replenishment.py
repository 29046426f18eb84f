"""Per warehouse × SKU replenishment plan, cross-warehouse transfers and purchase proposals.

Reads the warehouse marts and the forecasts in schema `ml` (`demand_forecast`,
`forecast_accuracy`), and writes `ml.replenishment_plan` (one row per warehouse × SKU,
every input beside the output and a `reason` a planner can check),
`ml.transfer_recommendations` and `ml.purchase_proposals` (one per warehouse × supplier).

The arithmetic lives in `models_ml/policy.py`; docs/REPLENISHMENT.md gives the formulas.
Writes are idempotent: each warehouse's rows are replaced in one transaction.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from models_ml import policy
from models_ml.plan_config import PlanConfig

log = logging.getLogger(__name__)


# Where stock positions come from (../shared/EXTRACTS.md), for messages a planner acts on
STOCK_SOURCES = "erp/stock_snapshots.csv, erp/stock_movements.csv"


@dataclass
class PlanInputs:
    as_of: date
    cells: pl.DataFrame  # one row per warehouse × SKU with every scalar input
    daily_demand: np.ndarray  # cells × horizon, forecast units per day from as_of + 1
    arrivals: np.ndarray  # cells × horizon, open purchase orders and transfers arriving
    warehouses: pl.DataFrame  # warehouse_id, latitude, longitude
    history_daily: np.ndarray | None = None  # cells × cover_history_days, units ordered a day


@dataclass
class PlanResult:
    as_of: date
    plan: pl.DataFrame
    transfers: pl.DataFrame
    proposals: pl.DataFrame
    warnings: list[str] = field(default_factory=list)  # for the planner, with the run's summary

    def summary(self) -> str:
        ordering = self.plan.filter(pl.col("recommended_order_qty") > 0)
        return (
            f"plan as of {self.as_of}: {self.plan.height:,} warehouse × SKU rows, "
            f"{ordering.height:,} to order in {self.proposals.height:,} proposal(s), "
            f"{self.transfers.height:,} transfer(s)"
        )


class PlanInputError(RuntimeError):
    """The marts the plan needs are missing or empty."""


# ---------------------------------------------------------------------------- inputs
def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    [(found,)] = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, name],
    ).fetchall()
    return bool(found)


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pl.DataFrame:
    return con.sql(sql, params=params or None).pl()


def load_inputs(
    con: duckdb.DuckDBPyConnection, as_of: date | None = None, config: PlanConfig | None = None
) -> PlanInputs:
    """Everything the plan needs, as of the latest inventory position on or before `as_of`."""
    config = config or PlanConfig()
    for table in ("fct_inventory_daily", "dim_product", "fct_order_lines", "dim_warehouse"):
        if not _table_exists(con, "marts", table):
            raise PlanInputError(f"marts.{table} is missing: run `wmsight transform` first")
    limit = as_of or date(9999, 12, 31)
    [(latest,)] = con.execute(
        "SELECT max(position_date) FROM marts.fct_inventory_daily WHERE position_date <= ?",
        [limit],
    ).fetchall()
    if latest is None:
        when = f" on or before {as_of}" if as_of else ""
        raise PlanInputError(
            f"marts.fct_inventory_daily has no stock position{when} "
            f"(positions come from {STOCK_SOURCES})"
        )
    as_of = latest  # the plan is as of the position it starts from
    since = as_of - timedelta(days=365)
    hist_since = as_of - timedelta(days=config.history_days)

    positions = _frame(
        con,
        """
        SELECT warehouse_id, sku, position_date, on_hand, reserved, in_transit, damaged,
               available, on_order
        FROM marts.fct_inventory_daily
        WHERE position_date <= ?
        QUALIFY row_number() OVER (PARTITION BY warehouse_id, sku
                                   ORDER BY position_date DESC) = 1""",
        [as_of],
    )
    products = _frame(
        con,
        """
        SELECT sku, product_name, category, cast(unit_cost_cny AS double) AS unit_cost_cny,
               lead_time_days, moq, pack_size, product_status
        FROM marts.dim_product WHERE NOT is_unknown_member""",
    )
    history = _frame(
        con,
        """
        WITH launched AS (
            -- a SKU sold here lately is averaged over the days since its first sale
            SELECT warehouse_id, sku,
                   least(?, greatest(7, date_diff('day', min(cast(ordered_at AS date)), ?) + 1))
                       AS span
            FROM marts.fct_order_lines
            WHERE warehouse_id IS NOT NULL AND cast(ordered_at AS date) <= ?
            GROUP BY ALL
        ),
        days AS (
            SELECT warehouse_id, sku, cast(ordered_at AS date) AS d, sum(ordered_qty) AS q
            FROM marts.fct_order_lines
            WHERE warehouse_id IS NOT NULL AND cast(ordered_at AS date) > ?
              AND cast(ordered_at AS date) <= ?
            GROUP BY ALL
        )
        SELECT warehouse_id, sku, sum(q) / any_value(span) AS hist_mean,
               sqrt(greatest(sum(q * q) / any_value(span)
                             - power(sum(q) / any_value(span), 2), 0)) AS hist_sd
        FROM days JOIN launched USING (warehouse_id, sku) GROUP BY ALL""",
        [config.history_days, as_of, as_of, hist_since, as_of],
    )
    daily_history = _frame(
        con,
        """
        SELECT warehouse_id, sku, cast(ordered_at AS date) AS d, sum(ordered_qty) AS q
        FROM marts.fct_order_lines
        WHERE warehouse_id IS NOT NULL AND cast(ordered_at AS date) > ?
          AND cast(ordered_at AS date) <= ?
        GROUP BY ALL""",
        [as_of - timedelta(days=config.cover_history_days), as_of],
    )
    forecasts = pl.DataFrame(
        schema={
            "warehouse_id": pl.Utf8,
            "sku": pl.Utf8,
            "date": pl.Date,
            "yhat": pl.Float64,
            "model": pl.Utf8,
        }
    )
    if _table_exists(con, "ml", "demand_forecast"):
        forecasts = _frame(
            con,
            """SELECT warehouse_id, sku, cast(date AS date) AS date,
                      greatest(cast(yhat AS double), 0) AS yhat, cast(model AS varchar) AS model
               FROM ml.demand_forecast WHERE cast(date AS date) > ?""",
            [as_of],
        )
    accuracy = pl.DataFrame(
        schema={
            "warehouse_id": pl.Utf8,
            "sku": pl.Utf8,
            "model": pl.Utf8,
            "error_sd_daily": pl.Float64,
            "wape": pl.Float64,
        }
    )
    if _table_exists(con, "ml", "forecast_accuracy"):
        accuracy = _frame(
            con,
            """SELECT warehouse_id, sku, cast(model AS varchar) AS model,
                      cast(error_sd_daily AS double) AS error_sd_daily,
                      cast(wape AS double) AS wape
               FROM ml.forecast_accuracy WHERE error_sd_daily IS NOT NULL""",
        )
    classes = pl.DataFrame(schema={"warehouse_id": pl.Utf8, "sku": pl.Utf8, "abc_class": pl.Utf8})
    if _table_exists(con, "marts", "fct_sku_classification"):
        classes = _frame(
            con, "SELECT warehouse_id, sku, abc_class FROM marts.fct_sku_classification"
        )
    high_value = pl.DataFrame(
        schema={"warehouse_id": pl.Utf8, "sku": pl.Utf8, "high_value_share": pl.Float64}
    )
    if _table_exists(con, "marts", "customer_segments"):
        high_value = _frame(
            con,
            """
            SELECT ol.warehouse_id, ol.sku,
                   sum(CASE WHEN list_contains(?::VARCHAR[], cs.tier) THEN ol.ordered_qty
                       ELSE 0 END)
                       / sum(ol.ordered_qty) AS high_value_share
            FROM marts.fct_order_lines AS ol
            LEFT JOIN marts.customer_segments AS cs USING (customer_key)
            WHERE NOT ol.is_cancelled AND ol.warehouse_id IS NOT NULL
              AND cast(ol.ordered_at AS date) > ? AND cast(ol.ordered_at AS date) <= ?
            GROUP BY ALL""",
            [list(config.high_value_tiers), since, as_of],
        )
    purchase_orders = _table_exists(con, "staging", "stg_erp__purchase_orders")
    suppliers = pl.DataFrame(
        schema={"warehouse_id": pl.Utf8, "sku": pl.Utf8, "supplier_id": pl.Utf8}
    )
    sku_suppliers = pl.DataFrame(schema={"sku": pl.Utf8, "sku_supplier_id": pl.Utf8})
    lead_stats = pl.DataFrame(
        schema={
            "sku": pl.Utf8,
            "lead_time_observed_days": pl.Float64,
            "lead_time_sd_days": pl.Float64,
            "receipts": pl.Int64,
        }
    )
    open_po = pl.DataFrame(
        schema={"warehouse_id": pl.Utf8, "sku": pl.Utf8, "due": pl.Date, "qty": pl.Int64}
    )
    if purchase_orders:
        # no purchase-order mart yet: the staging model is the cleaned, current version
        suppliers = _frame(
            con,
            """SELECT warehouse_id, sku, supplier_id FROM staging.stg_erp__purchase_orders
               WHERE supplier_id IS NOT NULL AND cast(ordered_at AS date) <= ?
               QUALIFY row_number() OVER (PARTITION BY warehouse_id, sku
                                          ORDER BY ordered_at DESC, po_no DESC) = 1""",
            [as_of],
        )
        sku_suppliers = _frame(
            con,
            """SELECT sku, supplier_id AS sku_supplier_id FROM staging.stg_erp__purchase_orders
               WHERE supplier_id IS NOT NULL AND cast(ordered_at AS date) <= ?
               QUALIFY row_number() OVER (PARTITION BY sku
                                          ORDER BY ordered_at DESC, po_no DESC) = 1""",
            [as_of],
        )
        lead_stats = _frame(
            con,
            """SELECT sku,
                      avg(date_diff('day', ordered_at, received_at)) AS lead_time_observed_days,
                      coalesce(stddev_samp(date_diff('day', ordered_at, received_at)), 0)
                          AS lead_time_sd_days,
                      count(*) AS receipts
               FROM staging.stg_erp__purchase_orders
               WHERE received_at IS NOT NULL AND cast(received_at AS date) <= ?
                 AND cast(received_at AS date) > ?
               GROUP BY sku""",
            [as_of, since],
        )
        open_po = _frame(
            con,
            """SELECT warehouse_id, sku,
                      greatest(cast(coalesce(expected_at, ordered_at) AS date), ?) AS due,
                      cast(sum(ordered_qty) AS bigint) AS qty
               FROM staging.stg_erp__purchase_orders
               WHERE cast(ordered_at AS date) <= ?
                 AND (received_at IS NULL OR cast(received_at AS date) > ?)
               GROUP BY ALL""",
            [as_of + timedelta(days=1), as_of, as_of],
        )
    warehouses = _frame(
        con,
        "SELECT warehouse_id, latitude, longitude FROM marts.dim_warehouse "
        "WHERE NOT is_unknown_member ORDER BY warehouse_id",
    )

    # the cells: every stocked position, and every cell with a forecast
    keys = pl.concat(
        [positions.select("warehouse_id", "sku"), forecasts.select("warehouse_id", "sku")]
    ).unique()
    keys = keys.join(products.select("sku"), on="sku", how="semi").join(
        warehouses.select("warehouse_id"), on="warehouse_id", how="semi"
    )
    model = forecasts.group_by("warehouse_id", "sku").agg(
        pl.col("model").first().alias("forecast_model"), pl.len().alias("forecast_days")
    )
    acc = model.join(
        accuracy,
        left_on=["warehouse_id", "sku", "forecast_model"],
        right_on=["warehouse_id", "sku", "model"],
        how="inner",
    ).select("warehouse_id", "sku", "error_sd_daily")
    # when the stored accuracy is for another model than the forecast, take the best one
    acc_any = (
        accuracy.sort("wape", nulls_last=True)
        .group_by("warehouse_id", "sku")
        .agg(pl.col("error_sd_daily").first().alias("error_sd_any"))
    )
    cells = (
        keys.join(positions, on=["warehouse_id", "sku"], how="left")
        .join(products, on="sku", how="left")
        .join(model, on=["warehouse_id", "sku"], how="left")
        .join(acc, on=["warehouse_id", "sku"], how="left")
        .join(acc_any, on=["warehouse_id", "sku"], how="left")
        .join(history, on=["warehouse_id", "sku"], how="left")
        .join(classes, on=["warehouse_id", "sku"], how="left")
        .join(high_value, on=["warehouse_id", "sku"], how="left")
        .join(suppliers, on=["warehouse_id", "sku"], how="left")
        .join(sku_suppliers, on="sku", how="left")
        .join(lead_stats, on="sku", how="left")
        .with_columns(
            pl.col("on_hand", "reserved", "in_transit", "damaged", "available", "on_order")
            .fill_null(0)
            .cast(pl.Int64),
            pl.col("hist_mean", "hist_sd").fill_null(0.0),
            pl.coalesce("supplier_id", "sku_supplier_id").alias("supplier_id"),
            pl.col("abc_class").fill_null("C"),
            pl.col("high_value_share").fill_null(0.0),
            pl.col("forecast_days").fill_null(0),
            pl.col("moq").fill_null(1).clip(lower_bound=1),
            pl.col("pack_size").fill_null(1).clip(lower_bound=1),
            pl.col("lead_time_days").fill_null(0),
            pl.col("unit_cost_cny").fill_null(0.0),
        )
        .drop("sku_supplier_id")
        .sort("warehouse_id", "sku")
    )
    horizon = int(max(56, cells["lead_time_days"].max() or 0) + 1) if cells.height else 56
    index = cells.select("warehouse_id", "sku").with_row_index("cell")
    daily = np.zeros((cells.height, horizon))
    f = (
        forecasts.join(index, on=["warehouse_id", "sku"])
        .with_columns(((pl.col("date") - as_of).dt.total_days() - 1).alias("day"))
        .filter(pl.col("day") < horizon)
    )
    np.add.at(daily, (f["cell"].to_numpy(), f["day"].to_numpy()), f["yhat"].to_numpy())
    has_forecast = cells["forecast_days"].to_numpy() > 0
    last_day = np.where(has_forecast, cells["forecast_days"].to_numpy(), 0)
    mean_fc = np.where(has_forecast, daily.sum(axis=1) / np.maximum(last_day, 1), 0.0)
    # beyond the forecast's horizon (and without a forecast) demand goes on at its mean
    fill = np.where(has_forecast, mean_fc, cells["hist_mean"].to_numpy())
    beyond = np.arange(horizon)[None, :] >= last_day[:, None]
    daily = np.where(beyond, fill[:, None], daily)
    arrivals = np.zeros_like(daily)
    a = open_po.join(index, on=["warehouse_id", "sku"]).with_columns(
        ((pl.col("due") - as_of).dt.total_days() - 1).clip(0, horizon - 1).alias("day")
    )
    np.add.at(arrivals, (a["cell"].to_numpy(), a["day"].to_numpy()), a["qty"].to_numpy())
    # transfers on the way in arrive within days: counted as arriving tomorrow
    arrivals[:, 0] += cells["in_transit"].to_numpy()
    # stored open purchase orders and the mart's on_order agree; the mart wins when not
    po_total = arrivals.sum(axis=1) - cells["in_transit"].to_numpy()
    missing = cells["on_order"].to_numpy() - po_total
    arrivals[:, 0] += np.maximum(missing, 0)
    cells = cells.with_columns(pl.Series("forecast_mean", mean_fc))
    # the last year's daily demand per cell, oldest day first (for the order-size cover)
    history_daily = np.zeros((cells.height, config.cover_history_days))
    h = (
        daily_history.join(index, on=["warehouse_id", "sku"])
        .with_columns(
            (config.cover_history_days - 1 - (as_of - pl.col("d")).dt.total_days()).alias("day")
        )
        .filter(pl.col("day") >= 0)
    )
    np.add.at(
        history_daily,
        (h["cell"].to_numpy(), h["day"].to_numpy()),
        h["q"].cast(pl.Float64).to_numpy(),
    )
    return PlanInputs(as_of, cells, daily, arrivals, warehouses, history_daily)


# ---------------------------------------------------------------------------- the plan
def _km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def distance_km(warehouses: pl.DataFrame) -> dict[tuple[str, str], float]:
    """Great-circle distance between every pair of warehouses (NaN without coordinates)."""
    ids = warehouses["warehouse_id"].to_list()
    lat = warehouses["latitude"].cast(pl.Float64).to_numpy()
    lon = warehouses["longitude"].cast(pl.Float64).to_numpy()
    d = _km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    return {(a, b): float(d[i, j]) for i, a in enumerate(ids) for j, b in enumerate(ids)}


def service_level_targets(
    abc: Sequence[str], high_value_share: np.ndarray, config: PlanConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Target per row by ABC class, raised for SKUs high-value customers depend on."""
    base = np.array([config.service_levels.get(c, config.service_levels["C"]) for c in abc])
    raised = np.asarray(high_value_share) >= config.high_value_share
    return np.where(raised, np.maximum(base, config.high_value_service_level), base), raised


def plan_transfers(
    frame: pl.DataFrame,
    distances: dict[tuple[str, str], float],
    trigger: str = "stockout_within_lead_time",
    source: str = "above_order_up_to",
) -> pl.DataFrame:
    """Per SKU: each warehouse that is short (`policy.transfer_need_and_spare`: by
    `trigger`, it would purchase, runs out within its lead time, or will not last until a
    transfer could arrive) takes stock from warehouses that can spare it (by `source`:
    above their order-up-to, or whatever keeps them at their reorder point and local
    cover) before it purchases: nearest first, the largest spare first among equally near
    ones. A transfer never exceeds the giver's spare nor the receiver's need, and moves
    whole packs.

    `frame` needs warehouse_id, sku, position, available, reorder_point, order_up_to,
    pack_size, lead_time_days, stockout_day, active; and local_cover, cover_days,
    arriving_soon for the local-cover trigger and source (0 when absent).
    """
    for name in ("local_cover", "cover_days", "arriving_soon"):
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(0).alias(name))
    out = frame["stockout_day"].to_numpy()
    need, spare, purchase, runs_short = policy.transfer_need_and_spare(
        frame["position"].to_numpy().astype(np.float64),
        frame["available"].to_numpy().astype(np.float64),
        frame["reorder_point"].to_numpy().astype(np.float64),
        frame["order_up_to"].to_numpy().astype(np.float64),
        frame["active"].to_numpy().astype(bool),
        trigger=trigger,
        source=source,
        arriving_soon=frame["arriving_soon"].to_numpy().astype(np.float64),
        cover=frame["local_cover"].to_numpy().astype(np.float64),
        stockout_within_lead_time=(out >= 0) & (out < frame["lead_time_days"].to_numpy()),
    )
    frame = frame.with_columns(
        pl.Series("need", need.astype(np.int64)),
        pl.Series("spare", spare.astype(np.int64)),
        pl.Series("would_purchase", purchase),
        pl.Series("runs_short", runs_short),
    )
    short = frame.filter(pl.col("need") > 0)
    givers = frame.filter(pl.col("spare") > 0)
    if short.height == 0 or givers.height == 0:
        return _empty_transfers()
    left = {(r["warehouse_id"], r["sku"]): r["spare"] for r in givers.iter_rows(named=True)}
    by_sku: dict[str, list[dict]] = {}
    for r in givers.iter_rows(named=True):
        by_sku.setdefault(r["sku"], []).append(r)
    rows = []
    short = short.sort(["sku", "need", "warehouse_id"], descending=[False, True, False])
    for r in short.iter_rows(named=True):
        candidates = [g for g in by_sku.get(r["sku"], []) if g["warehouse_id"] != r["warehouse_id"]]
        candidates.sort(
            key=lambda g: (
                distances.get((g["warehouse_id"], r["warehouse_id"]), math.inf),
                -left[(g["warehouse_id"], r["sku"])],
                g["warehouse_id"],
            )
        )
        need_left = int(r["need"])
        for g in candidates:
            if need_left <= 0:
                break
            key = (g["warehouse_id"], r["sku"])
            pack = max(int(r["pack_size"] or 1), 1)
            qty = min(need_left, left[key]) // pack * pack  # a broken pack is not worth a trip
            if qty <= 0:
                continue
            left[key] -= qty
            need_left -= qty
            km = distances.get((g["warehouse_id"], r["warehouse_id"]), math.nan)
            rows.append(
                {
                    "from_warehouse_id": g["warehouse_id"],
                    "to_warehouse_id": r["warehouse_id"],
                    "sku": r["sku"],
                    "qty": int(qty),
                    "distance_km": None if math.isnan(km) else round(km, 0),
                    "reason": _transfer_reason(r, g, source, km),
                }
            )
    if not rows:
        return _empty_transfers()
    return (
        pl.DataFrame(rows)
        .group_by("from_warehouse_id", "to_warehouse_id", "sku", maintain_order=True)
        .agg(pl.col("qty").sum(), pl.col("distance_km").first(), pl.col("reason").first())
    )


def _transfer_reason(r: dict, g: dict, source: str, km: float) -> str:
    """Why the receiver `r` is short and what the giver `g` can spare, with the numbers."""
    # a cell above its reorder point that runs out anyway (what is on order comes too
    # late) is short by its local cover: the third reason, not "position ≤ reorder point"
    if r["would_purchase"] and 0 <= r["stockout_day"] < r["lead_time_days"]:
        why = (
            f"{r['warehouse_id']} runs out in {r['stockout_day'] + 1} d, within its lead "
            f"time of {r['lead_time_days']} d (position {r['position']:,} ≤ reorder point "
            f"{r['reorder_point']:,})"
        )
    elif r["would_purchase"]:
        why = (
            f"{r['warehouse_id']} would purchase (position {r['position']:,} ≤ reorder point "
            f"{r['reorder_point']:,})"
        )
    else:
        why = (
            f"{r['warehouse_id']} will not last until a transfer could arrive (available "
            f"{r['available']:,} + arriving {r['arriving_soon']:,} < {r['cover_days']}-day "
            f"cover {r['local_cover']:,})"
        )
    if source == "above_order_up_to":
        has = (
            f"{g['warehouse_id']} holds {g['available']:,} available, {g['spare']:,} above "
            f"its order-up-to {g['order_up_to']:,}"
        )
    else:
        has = (
            f"{g['warehouse_id']} can spare {g['spare']:,} of {g['available']:,} available "
            f"(it keeps its reorder point {g['reorder_point']:,} and its {g['cover_days']}-day "
            f"cover {g['local_cover']:,})"
        )
    return (
        f"{why}; {has}"
        + ("" if math.isnan(km) else f", {km:,.0f} km away")
        + ": transfer before purchasing"
    )


def _empty_transfers() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "from_warehouse_id": pl.Utf8,
            "to_warehouse_id": pl.Utf8,
            "sku": pl.Utf8,
            "qty": pl.Int64,
            "distance_km": pl.Float64,
            "reason": pl.Utf8,
        }
    )


def _rate(x: float) -> str:
    """A daily rate with the digits that matter: 2.6, 0.04, 0."""
    return "0" if x == 0 else f"{x:,.1f}" if x >= 0.95 else f"{x:.2g}"


def compute_plan(inputs: PlanInputs, config: PlanConfig | None = None) -> PlanResult:
    """The plan, transfers and proposals from the inputs; no I/O."""
    config = config or PlanConfig()
    c = inputs.cells
    as_of = inputs.as_of
    n = c.height
    lead = c["lead_time_days"].to_numpy().astype(np.int64)
    has_fc = c["forecast_days"].to_numpy() > 0
    demand_per_day = np.where(has_fc, c["forecast_mean"].to_numpy(), c["hist_mean"].to_numpy())
    horizon = inputs.daily_demand.shape[1]
    lt_mask = np.arange(horizon)[None, :] < lead[:, None]
    lt_demand = (inputs.daily_demand * lt_mask).sum(axis=1)
    sd = np.where(
        c["error_sd_daily"].is_not_null().to_numpy(),
        c["error_sd_daily"].fill_null(0).to_numpy(),
        np.where(
            c["error_sd_any"].is_not_null().to_numpy(),
            c["error_sd_any"].fill_null(0).to_numpy(),
            c["hist_sd"].to_numpy(),
        ),
    ).astype(np.float64)
    receipts = c["receipts"].fill_null(0).to_numpy()
    lt_sd = np.where(
        config.lead_time_variability & (receipts >= config.min_receipts_for_lead_time_sd),
        c["lead_time_sd_days"].fill_null(0.0).to_numpy(),
        0.0,
    )
    target, raised = service_level_targets(
        c["abc_class"].to_list(), c["high_value_share"].to_numpy(), config
    )
    z = policy.z_for(target) if n else np.zeros(0)
    ss = np.ceil(policy.safety_stock(z, sd, lead, demand_per_day, lt_sd) - 1e-9)
    rop_forecast = np.ceil(lt_demand + ss - 1e-9)
    own_cover, network_cover = np.zeros(n), np.zeros(n)
    if config.order_size_cover and inputs.history_daily is not None and n:
        own_cover = np.ceil(policy.order_size_cover(inputs.history_daily, target) - 1e-9)
        if config.order_size_cover_network:
            network_cover = policy.network_order_size_cover(
                inputs.history_daily, c["sku"].to_numpy(), target
            )
            network_cover = np.ceil(network_cover - 1e-9)
    uncapped_cover = np.where(demand_per_day > 0, np.maximum(own_cover, network_cover), 0.0)
    size_cover = policy.cap_cover(uncapped_cover, demand_per_day, config.order_size_cover_max_days)
    cover_capped = size_cover < uncapped_cover
    rop = np.maximum(rop_forecast, size_cover)
    cover_binds = size_cover > rop_forecast
    unit_cost = c["unit_cost_cny"].to_numpy()
    q_eoq = policy.eoq(
        365.0 * demand_per_day, config.order_cost_cny, config.holding_rate * unit_cost
    )
    cycle = np.maximum(q_eoq, demand_per_day * config.review_days)
    order_up_to = np.ceil(rop + cycle - 1e-9)
    available = c["available"].to_numpy()
    in_transit = c["in_transit"].to_numpy()
    on_order = c["on_order"].to_numpy()
    position = available + in_transit + on_order
    active = (c["product_status"].fill_null("active") == "active").to_numpy()
    out_day = policy.stockout_day(available, inputs.daily_demand, inputs.arrivals)
    # a transfer from the nearest sister warehouse arrives after its road days (+ review)
    km = distance_km(inputs.warehouses)
    road = {
        w: min(
            (
                max(1, math.ceil(d / config.transfer_km_per_day))
                for (a, b), d in km.items()
                if a == w and b != w and not math.isnan(d)
            ),
            default=0,
        )
        for w in inputs.warehouses["warehouse_id"].to_list()
    }
    transfer_days = np.array([road.get(w, 0) for w in c["warehouse_id"].to_list()], np.int64)
    cover_days = transfer_days + config.review_days
    local = np.ceil(policy.local_cover(demand_per_day, z, sd, cover_days) - 1e-9)
    horizon_cum = np.cumsum(inputs.arrivals, axis=1)
    soon = horizon_cum[np.arange(n), np.clip(cover_days - 1, 0, horizon - 1)] if n else np.zeros(0)

    frame = c.select("warehouse_id", "sku", "pack_size", "lead_time_days").with_columns(
        pl.Series("position", position),
        pl.Series("available", available),
        pl.Series("reorder_point", rop.astype(np.int64)),
        pl.Series("order_up_to", order_up_to.astype(np.int64)),
        pl.Series("stockout_day", out_day),
        pl.Series("active", active),
        pl.Series("local_cover", local.astype(np.int64)),
        pl.Series("cover_days", cover_days),
        pl.Series("arriving_soon", soon.astype(np.int64)),
    )
    transfers = plan_transfers(
        frame, km, trigger=config.transfer_trigger, source=config.transfer_source
    )
    key = ["warehouse_id", "sku"]
    t_in = (
        frame.select(key)
        .join(
            transfers.group_by(pl.col("to_warehouse_id").alias("warehouse_id"), "sku").agg(
                pl.col("qty").sum().alias("transfer_in_qty")
            ),
            on=key,
            how="left",
        )
        .join(
            transfers.group_by(pl.col("from_warehouse_id").alias("warehouse_id"), "sku").agg(
                pl.col("qty").sum().alias("transfer_out_qty")
            ),
            on=key,
            how="left",
        )
        .fill_null(0)
    )
    tin = t_in["transfer_in_qty"].to_numpy()
    tout = t_in["transfer_out_qty"].to_numpy()
    moq, pack = c["moq"].to_numpy(), c["pack_size"].to_numpy()
    after = position + tin - tout
    qty = np.where(active, policy.order_quantity(after, rop, order_up_to, moq, pack), 0)
    cover = policy.days_of_cover(available, demand_per_day)
    stockout_date = [
        as_of + timedelta(days=int(d) + 1) if d >= 0 else None for d in out_day.tolist()
    ]
    model = np.where(has_fc, c["forecast_model"].fill_null("").to_numpy(), "history_mean")

    reasons = []
    for i in range(n):
        inputs_txt = (
            f"lead time {lead[i]} d, demand {_rate(demand_per_day[i])}/d, safety stock "
            f"{ss[i]:,.0f} for {target[i]:.0%}"
            + (" (raised: high-value customers buy it)" if raised[i] else "")
            + (
                f"; raised from {rop_forecast[i]:,.0f} to cover single orders: days of up to "
                f"{uncapped_cover[i]:,.0f} made {target[i]:.0%} of last year's units of it "
                + (
                    "here"
                    if own_cover[i] >= network_cover[i]
                    else f"at all warehouses ({own_cover[i]:,.0f} here)"
                )
                + (
                    f", capped at {config.order_size_cover_max_days:g} days of demand "
                    f"({size_cover[i]:,.0f}): a larger order needs notice from the customer"
                    if cover_capped[i]
                    else ""
                )
                if cover_binds[i]
                else ""
            )
        )
        pos_txt = f"available {available[i]:,}"
        if in_transit[i]:
            pos_txt += f" + in transit {in_transit[i]:,}"
        pos_txt += f" + on order {on_order[i]:,}"
        if tin[i]:
            pos_txt += f" + transfer in {tin[i]:,}"
        if tout[i]:
            pos_txt += f" − transfer out {tout[i]:,}"
        if not active[i]:
            reasons.append(f"discontinued: no purchase ({pos_txt}; {inputs_txt})")
            continue
        if qty[i] > 0:
            binding = []
            if qty[i] == moq[i] and order_up_to[i] - after[i] < moq[i]:
                binding.append(f"MOQ {moq[i]:,}")
            if pack[i] > 1:
                binding.append(f"packs of {pack[i]:,}")
            reasons.append(
                f"{pos_txt} ≤ reorder point {rop[i]:,.0f} ({inputs_txt}): order {qty[i]:,} "
                f"to reach order-up-to {order_up_to[i]:,.0f}"
                + (f" ({', '.join(binding)})" if binding else "")
            )
        elif after[i] <= rop[i]:
            reasons.append(
                f"{pos_txt} ≤ reorder point {rop[i]:,.0f} ({inputs_txt}) but nothing to order "
                f"below order-up-to {order_up_to[i]:,.0f}"
            )
        else:
            reasons.append(
                f"{pos_txt} > reorder point {rop[i]:,.0f} ({inputs_txt}): no order"
                + (f", {tout[i]:,} sent to another warehouse" if tout[i] else "")
            )

    plan = (
        c.select(
            "warehouse_id",
            "sku",
            "supplier_id",
            "product_name",
            "category",
            "on_hand",
            "reserved",
            "damaged",
            "available",
            "in_transit",
            "on_order",
        )
        .with_columns(
            pl.lit(as_of).alias("as_of_date"),
            pl.Series("inventory_position", position.astype(np.int64)),
            pl.col("sku").alias("_sku"),
            c["lead_time_days"].cast(pl.Int64),
            c["lead_time_observed_days"].round(1),
            pl.Series("lead_time_sd_days", np.round(lt_sd, 2)),
            pl.Series("forecast_model", model.astype(str)),
            pl.Series("demand_per_day", np.round(demand_per_day, 3)),
            pl.Series("forecast_demand_lead_time", np.round(lt_demand, 1)),
            pl.Series("error_sd_daily", np.round(sd, 3)),
            pl.Series("service_level_target", target),
            pl.Series("z", np.round(z, 3)),
            c["abc_class"],
            pl.Series("high_value_share", np.round(c["high_value_share"].to_numpy(), 3)),
            pl.Series("safety_stock", ss.astype(np.int64)),
            pl.Series("order_size_cover", size_cover.astype(np.int64)),
            pl.Series("reorder_point", rop.astype(np.int64)),
            pl.Series("local_cover", local.astype(np.int64)),
            pl.Series("order_up_to", order_up_to.astype(np.int64)),
            pl.Series("eoq", np.round(q_eoq, 1)),
            c["moq"].cast(pl.Int64),
            c["pack_size"].cast(pl.Int64),
            c["unit_cost_cny"],
            pl.Series("transfer_in_qty", tin.astype(np.int64)),
            pl.Series("transfer_out_qty", tout.astype(np.int64)),
            pl.Series("recommended_order_qty", qty.astype(np.int64)),
            pl.Series("days_of_cover", np.round(cover, 1)).replace(np.inf, None),
            pl.Series("projected_stockout_date", stockout_date, dtype=pl.Date),
            c["product_status"],
            pl.Series("reason", reasons, dtype=pl.Utf8),
        )
        .drop("_sku")
        .with_columns(
            (pl.col("recommended_order_qty") * pl.col("unit_cost_cny"))
            .round(2)
            .alias("order_value_cny"),
            pl.when(pl.col("recommended_order_qty") > 0)
            .then(
                pl.concat_str(
                    [
                        pl.lit("PP"),
                        pl.lit(as_of.isoformat()),
                        pl.col("warehouse_id"),
                        pl.col("supplier_id").fill_null("UNKNOWN"),
                    ],
                    separator="-",
                )
            )
            .alias("proposal_id"),
        )
    )
    proposals = (
        plan.filter(pl.col("recommended_order_qty") > 0)
        .group_by("proposal_id", "warehouse_id", "supplier_id")
        .agg(
            pl.len().alias("lines"),
            pl.col("recommended_order_qty").sum().alias("units"),
            pl.col("order_value_cny").sum().round(2).alias("value_cny"),
            pl.col("projected_stockout_date").min().alias("earliest_stockout_date"),
        )
        .with_columns(pl.lit(as_of).alias("as_of_date"))
        .sort("warehouse_id", "supplier_id")
    )
    transfers = transfers.with_columns(pl.lit(as_of).alias("as_of_date"))
    return PlanResult(as_of, plan, transfers, proposals)


# ---------------------------------------------------------------------------- writing
def _replace(
    con: duckdb.DuckDBPyConnection,
    table: str,
    frame: pl.DataFrame,
    column: str,
    partitions: Sequence[str],
) -> None:
    arrow = frame.to_arrow()
    con.register("_rows", arrow)
    try:
        con.execute(f"CREATE TABLE IF NOT EXISTS ml.{table} AS SELECT * FROM _rows LIMIT 0")
        # a column added since the table was made is added to it (older rows get null)
        have = {
            name
            for (name,) in con.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = 'ml' AND table_name = ?",
                [table],
            ).fetchall()
        }
        for name, dtype, *_ in con.execute("DESCRIBE SELECT * FROM _rows").fetchall():
            if name not in have:
                con.execute(f'ALTER TABLE ml.{table} ADD COLUMN "{name}" {dtype}')
        con.execute(
            f"DELETE FROM ml.{table} WHERE {column} IN (SELECT unnest(?::varchar[]))",
            [list(partitions)],
        )
        con.execute(f"INSERT INTO ml.{table} BY NAME SELECT * FROM _rows")
    finally:
        con.unregister("_rows")


def write_plan(
    con: duckdb.DuckDBPyConnection, result: PlanResult, warehouses: Sequence[str] | None = None
) -> None:
    """Replace the given warehouses' rows (default: every warehouse in the plan) in
    ml.replenishment_plan, ml.purchase_proposals and ml.transfer_recommendations (by
    receiving warehouse), all in one transaction."""
    parts = sorted(set(warehouses or result.plan["warehouse_id"].unique().to_list()))
    only = pl.col("warehouse_id").is_in(parts)
    con.execute("CREATE SCHEMA IF NOT EXISTS ml")
    con.execute("BEGIN TRANSACTION")
    try:
        _replace(con, "replenishment_plan", result.plan.filter(only), "warehouse_id", parts)
        _replace(con, "purchase_proposals", result.proposals.filter(only), "warehouse_id", parts)
        _replace(
            con,
            "transfer_recommendations",
            result.transfers.filter(pl.col("to_warehouse_id").is_in(parts)),
            "to_warehouse_id",
            parts,
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise


def stale_position_warning(
    position_date: date, run_date: date | None, config: PlanConfig | None = None
) -> str | None:
    """What to tell a planner whose plan starts from a stock position more than
    `stale_position_days` before the run date. EXTRACTS.md: a file missing from a drop is
    unchanged; weeks of that are worth a look before anyone orders from these quantities."""
    config = config or PlanConfig()
    if run_date is None or (run_date - position_date).days <= config.stale_position_days:
        return None
    return (
        f"the plan starts from the stock position of {position_date}, "
        f"{(run_date - position_date).days} days before the run date {run_date}: no drop "
        f"since brought stock records ({STOCK_SOURCES})"
    )


def run_replenishment(
    db_path: Path,
    as_of: date | None = None,
    warehouses: Sequence[str] | None = None,
    config: PlanConfig | None = None,
) -> PlanResult:
    """Load, plan the whole network (transfers need every warehouse), write the given
    warehouses' partitions (default: all)."""
    config = config or PlanConfig()
    with duckdb.connect(str(db_path)) as con:
        inputs = load_inputs(con, as_of, config)
        result = compute_plan(inputs, config)
        stale = stale_position_warning(result.as_of, as_of, config)
        if stale:
            result.warnings.append(stale)
            log.warning(stale)
        log.info("plan: writing %d warehouse × SKU rows as of %s", result.plan.height, result.as_of)
        write_plan(con, result, warehouses)
    log.info(result.summary())
    return result
