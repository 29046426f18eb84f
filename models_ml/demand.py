"""Demand history for forecasting, read from the warehouse marts.

What counts as demand (one number per warehouse × SKU × day):
- the units customers ordered (`ordered_qty`), not the units shipped: a stock-out or a
  partial shipment must not hide demand, or the forecast would learn the shortage;
- on the order date (`ordered_at`, Shanghai wall time as stored by ingest);
- at the warehouse that fulfils the line (`warehouse_id`: the ERP order's warehouse,
  or the warehouse an online order was allocated to);
- both channels (B2B and e-commerce), all platforms;
- cancelled lines are left out (a B2B customer's cancellation, an online order never
  paid or cancelled by the buyer). The marts do not say why a line was cancelled, so
  the few orders cancelled for lack of stock are left out too: lost sales are
  slightly understated. `include_cancelled=True` counts every ordered unit instead;
- lines whose warehouse has no master (the unknown member) are left out: nothing can
  be replenished there. A SKU without a master yet is kept (category unknown).

Dates after `as_of` are ignored, so a forecast made "as of" an earlier date sees only
what was known then (the bench uses this for a true hold-out).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl


class NoDemandData(RuntimeError):
    """The marts hold no order lines to forecast from."""


# Where order lines and their warehouses come from (../shared/EXTRACTS.md): a message about
# missing demand names these, as the person reading it knows the files, not the marts
ORDER_SOURCES = "erp/sales_orders.csv + erp/sales_order_lines.csv, ecommerce/orders.jsonl"
WAREHOUSE_SOURCE = "erp/warehouses.csv"


# the columns of ForecastInputs.promotions; no promotion is an empty frame of them
PROMOTIONS_SCHEMA = {
    "promo_id": pl.String,
    "platform": pl.String,
    "sku": pl.String,
    "starts_on": pl.Date,
    "ends_on": pl.Date,
    "discount_pct": pl.Float64,
}


@dataclass(frozen=True)
class ForecastInputs:
    as_of: date
    first_date: date  # first day of the demand history (over every warehouse)
    demand: pl.DataFrame  # warehouse_id, sku, date, qty (days with demand only), sorted
    products: pl.DataFrame  # sku, category, product_status
    promotions: pl.DataFrame  # promo_id, platform, sku, starts_on, ends_on, discount_pct


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pl.DataFrame:
    return pl.from_arrow(con.sql(sql, params=params or None).to_arrow_table())


def latest_order_date(con: duckdb.DuckDBPyConnection) -> date:
    [(latest,)] = con.execute(
        "SELECT max(ordered_at)::DATE FROM marts.fct_order_lines WHERE warehouse_id IS NOT NULL"
    ).fetchall()
    if latest is None:
        raise NoDemandData(
            "marts.fct_order_lines holds no order lines with a warehouse "
            f"(orders come from {ORDER_SOURCES}; warehouses from {WAREHOUSE_SOURCE})"
        )
    return latest


def load_inputs(
    con: duckdb.DuckDBPyConnection,
    as_of: date | None = None,
    warehouses: list[str] | None = None,
    include_cancelled: bool = False,
) -> ForecastInputs:
    """Demand per warehouse × SKU × day up to `as_of` (default: the latest order date)."""
    as_of = as_of or latest_order_date(con)
    params: list = [as_of, include_cancelled]
    warehouse_filter = ""
    if warehouses:
        warehouse_filter = "AND warehouse_id IN (SELECT unnest(?::VARCHAR[]))"
        params.append(sorted(warehouses))
    demand = _frame(
        con,
        f"""
        SELECT warehouse_id, sku, ordered_at::DATE AS date, sum(ordered_qty)::DOUBLE AS qty
        FROM marts.fct_order_lines
        WHERE warehouse_key <> '(unknown)' AND warehouse_id IS NOT NULL AND sku IS NOT NULL
          AND ordered_at::DATE <= ? AND (? OR NOT coalesce(is_cancelled, false))
          {warehouse_filter}
        GROUP BY ALL
        HAVING sum(ordered_qty) > 0
        ORDER BY warehouse_id, sku, date
        """,
        params,
    )
    [(first,)] = con.execute(
        "SELECT min(ordered_at)::DATE FROM marts.fct_order_lines WHERE ordered_at::DATE <= ?",
        [as_of],
    ).fetchall()
    if first is None:
        raise NoDemandData(
            f"marts.fct_order_lines holds no order lines up to {as_of} "
            f"(orders come from {ORDER_SOURCES})"
        )
    products = _frame(
        con,
        """SELECT sku, category, product_status FROM marts.dim_product
           WHERE NOT is_unknown_member ORDER BY sku""",
    )
    promotions = _frame(
        con,
        """SELECT promo_id, platform, sku, starts_on, ends_on, discount_pct
           FROM staging.stg_ecommerce__promotions ORDER BY promo_id""",
    )
    return ForecastInputs(
        as_of=as_of, first_date=first, demand=demand, products=products, promotions=promotions
    )
