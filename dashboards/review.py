"""The Replenishment review: the plan's purchase and transfer recommendations with every
input and their reason, the planner's current decision on each, and for one SKU its
demand history, forecast and projected stock against the reorder point.

Decisions are recorded in the decision store (wmsight.decisions) and published as the
`approved_purchase_orders` and `approved_transfers` feeds (wmsight.publish).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl

from dashboards.data import Publication, require
from wmsight import decisions as store
from wmsight.publish import publish_decisions

ALL_SUPPLIERS = "*"
HISTORY_DAYS = 120
PURCHASE_COLUMNS = (
    "warehouse_id",
    "sku",
    "product_name",
    "supplier_id",
    "proposal_id",
    "abc_class",
    "available",
    "on_order",
    "in_transit",
    "transfer_in_qty",
    "lead_time_days",
    "demand_per_day",
    "forecast_demand_lead_time",
    "service_level_target",
    "safety_stock",
    "reorder_point",
    "order_up_to",
    "eoq",
    "moq",
    "pack_size",
    "recommended_order_qty",
    "order_value_cny",
    "days_of_cover",
    "projected_stockout_date",
    "reason",
)


def _decision_frame(current: list[dict], kind: str) -> pl.DataFrame:
    rows = [d for d in current if d["kind"] == kind]
    return pl.DataFrame(
        {
            "warehouse_id": [d["warehouse_id"] for d in rows],
            "sku": [d["sku"] for d in rows],
            "from_warehouse_id": [d["from_warehouse_id"] for d in rows],
            "decision": [d["decision"] for d in rows],
            "final_qty": [d["final_qty"] for d in rows],
            "comment": [d["comment"] for d in rows],
            "decided_by": [d["decided_by_name"] or d["decided_by"] for d in rows],
            "decided_at": [d["decided_at"] for d in rows],
        },
        schema={
            "warehouse_id": pl.String,
            "sku": pl.String,
            "from_warehouse_id": pl.String,
            "decision": pl.String,
            "final_qty": pl.Int64,
            "comment": pl.String,
            "decided_by": pl.String,
            "decided_at": pl.String,
        },
    )


def purchases(
    publication: Publication,
    current: list[dict],
    warehouse: str | None = None,
    supplier: str = ALL_SUPPLIERS,
    only_to_order: bool = True,
) -> pl.DataFrame:
    """The plan's lines (those with a recommended order, unless `only_to_order` is off)
    of a warehouse and supplier, with the current decision on each."""
    plan = require(publication.feed("replenishment_plan"), "replenishment_plan", publication)
    if warehouse:
        plan = plan.filter(pl.col("warehouse_id") == warehouse)
    if supplier != ALL_SUPPLIERS:
        plan = plan.filter(pl.col("supplier_id").fill_null("") == supplier)
    if only_to_order:
        plan = plan.filter(pl.col("recommended_order_qty") > 0)
    columns = [c for c in PURCHASE_COLUMNS if c in plan.columns]
    return (
        plan.select(columns)
        .join(
            _decision_frame(current, store.PURCHASE).drop("from_warehouse_id"),
            on=["warehouse_id", "sku"],
            how="left",
        )
        .sort("warehouse_id", "supplier_id", "sku", nulls_last=True)
    )


def transfers(
    publication: Publication, current: list[dict], warehouse: str | None = None
) -> pl.DataFrame:
    """Transfers into or out of `warehouse` (all, when None), with the current decision."""
    frame = publication.feed("transfer_recommendations")
    if frame is None:
        return pl.DataFrame()
    if warehouse:
        frame = frame.filter(
            (pl.col("to_warehouse_id") == warehouse) | (pl.col("from_warehouse_id") == warehouse)
        )
    decided = _decision_frame(current, store.TRANSFER).rename({"warehouse_id": "to_warehouse_id"})
    keep = [
        c
        for c in ("from_warehouse_id", "to_warehouse_id", "sku", "qty", "distance_km", "reason")
        if c in frame.columns
    ]
    return (
        frame.select(keep)
        .join(decided, on=["to_warehouse_id", "sku", "from_warehouse_id"], how="left")
        .sort("to_warehouse_id", "sku", "from_warehouse_id")
    )


def suppliers(publication: Publication, warehouse: str | None) -> list[str]:
    plan = require(publication.feed("replenishment_plan"), "replenishment_plan", publication)
    if warehouse:
        plan = plan.filter(pl.col("warehouse_id") == warehouse)
    plan = plan.filter(pl.col("recommended_order_qty") > 0)
    return plan["supplier_id"].drop_nulls().unique().sort().to_list()


def purchase_line(row: dict) -> store.Line:
    return store.Line(
        kind=store.PURCHASE,
        warehouse_id=row["warehouse_id"],
        sku=row["sku"],
        recommended_qty=int(round(row["recommended_order_qty"])),
        supplier_id=row.get("supplier_id"),
    )


def transfer_line(row: dict) -> store.Line:
    return store.Line(
        kind=store.TRANSFER,
        warehouse_id=row["to_warehouse_id"],
        sku=row["sku"],
        recommended_qty=int(round(row["qty"])),
        from_warehouse_id=row["from_warehouse_id"],
    )


def line_label(line: store.Line) -> str:
    qty = line.recommended_qty
    if line.kind == store.TRANSFER:
        return f"{line.sku} · {line.from_warehouse_id} → {line.warehouse_id} · {qty}"
    return f"{line.sku} · {line.warehouse_id} · {line.supplier_id or '—'} · {qty}"


def decide(
    publication: Publication,
    db_path: Path,
    decisions: list[store.Decision],
    username: str,
    display_name: str = "",
) -> int:
    """Record the decisions on this publication's plan, then publish them as the approval
    feeds (a new version of the run date's publication). Returns how many were recorded."""
    if not decisions:
        return 0
    recorded = store.record_decisions(
        store.decisions_path(db_path), publication.as_of, decisions, username, display_name
    )
    publish_decisions(db_path, publication.root, publication.as_of)
    return recorded


def sku_history(
    publication: Publication, warehouse: str, sku: str, days: int = HISTORY_DAYS
) -> pl.DataFrame:
    """Daily ordered units and available stock of one SKU at one warehouse."""
    history = publication.dataset("demand_history")
    if history is None:
        return pl.DataFrame(schema={"date": pl.Date, "ordered": pl.Int64, "available": pl.Int64})
    start = publication.as_of - timedelta(days=days - 1)
    return (
        history.filter(
            (pl.col("warehouse_id") == warehouse)
            & (pl.col("sku") == sku)
            & (pl.col("date") >= start)
        )
        .select("date", "ordered", "available")
        .sort("date")
    )


def sku_forecast(publication: Publication, warehouse: str, sku: str) -> pl.DataFrame:
    forecast = publication.feed("demand_forecast")
    if forecast is None:
        return pl.DataFrame(
            schema={
                "date": pl.Date,
                "yhat": pl.Float64,
                "yhat_lower": pl.Float64,
                "yhat_upper": pl.Float64,
                "model": pl.String,
            }
        )
    return (
        forecast.filter((pl.col("warehouse_id") == warehouse) & (pl.col("sku") == sku))
        .select("date", "yhat", "yhat_lower", "yhat_upper", "model")
        .sort("date")
    )


def stock_projection(plan_row: dict, forecast: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Inventory position day by day if forecast demand comes true: without ordering,
    and with the recommended order arriving after the lead time. The reorder point and
    safety stock are drawn beside it."""
    position = float(
        plan_row.get("inventory_position")
        if plan_row.get("inventory_position") is not None
        else (plan_row.get("available") or 0) + (plan_row.get("on_order") or 0)
    )
    order = float(plan_row.get("recommended_order_qty") or 0)
    arrival = as_of + timedelta(days=int(round(plan_row.get("lead_time_days") or 0)))
    if forecast.is_empty():
        return pl.DataFrame(
            schema={
                "date": pl.Date,
                "without_order": pl.Float64,
                "with_order": pl.Float64,
                "reorder_point": pl.Float64,
                "safety_stock": pl.Float64,
            }
        )
    return forecast.select(
        "date",
        (position - pl.col("yhat").cum_sum()).alias("without_order"),
        (
            position
            - pl.col("yhat").cum_sum()
            + pl.when(pl.col("date") >= arrival).then(order).otherwise(0.0)
        ).alias("with_order"),
        pl.lit(float(plan_row.get("reorder_point") or 0)).alias("reorder_point"),
        pl.lit(float(plan_row.get("safety_stock") or 0)).alias("safety_stock"),
    )
