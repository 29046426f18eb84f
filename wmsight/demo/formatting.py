"""Typed drop frames → the text each source system actually writes.

Every system has its habits, and the pipeline must cope with all of them: the ERP
writes `2025/03/01 14:05:00` in some modules and ISO in others, money with a fixed
number of decimals, and from one legacy module quantities as `12.0`; the CRM writes
ISO with a `T`; marketplaces write offsets (+08:00); a Tokyo-hosted app backend
stamps some feedback with +09:00.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import polars as pl

from wmsight.demo.schema import FILES_BY_PATH
from wmsight.demo.timeline import HOUR

ISO_T = "%Y-%m-%dT%H:%M:%S"
ISO_SPACE = "%Y-%m-%d %H:%M:%S"
ERP_SLASH = "%Y/%m/%d %H:%M:%S"


def ts(col: str, fmt: str = ISO_SPACE, suffix: str = "", shift_seconds: int = 0) -> pl.Expr:
    """Naive-local epoch seconds → text (null stays null)."""
    moment = pl.from_epoch(pl.col(col) + shift_seconds, time_unit="s")
    text = moment.dt.strftime(fmt)
    return (text + pl.lit(suffix)) if suffix else text


def mixed_ts(col: str, flag: pl.Expr, fmt_true: str, fmt_false: str) -> pl.Expr:
    return pl.when(flag).then(ts(col, fmt_true)).otherwise(ts(col, fmt_false))


def dec(col: str, places: int) -> pl.Expr:
    return pl.col(col).cast(pl.Decimal(20, places)).cast(pl.Utf8)


def integer(col: str, float_style: pl.Expr | None = None) -> pl.Expr:
    """Integers; where `float_style` holds, written the way a float export does: 12.0."""
    text = pl.col(col).cast(pl.Int64).cast(pl.Utf8)
    if float_style is None:
        return text
    return pl.when(float_style).then(text + pl.lit(".0")).otherwise(text)


def _flag(frame: pl.DataFrame, rng: np.random.Generator, share: float) -> pl.Expr:
    return pl.lit(pl.Series(rng.random(frame.height) < share))


def _crm_customers(f: pl.DataFrame, rng: np.random.Generator) -> list[pl.Expr]:
    return [
        pl.col("crm_id"),
        pl.col("company_name"),
        pl.col("contact_name"),
        pl.col("phone"),
        pl.col("email"),
        pl.col("province"),
        pl.col("city"),
        pl.col("industry"),
        pl.col("account_manager"),
        ts("created_at", "%Y-%m-%d"),
        ts("updated_at", ISO_T),
    ]


def _feedback(f: pl.DataFrame, rng: np.random.Generator) -> list[pl.Expr]:
    app = pl.col("channel") == "app"
    tokyo = _flag(f, rng, 0.05)
    stamped = _flag(f, rng, 0.7)
    submitted = (
        pl.when(app & tokyo)
        .then(ts("submitted_at", ISO_T, "+09:00", HOUR))
        .when(app & stamped)
        .then(ts("submitted_at", ISO_T, "+08:00"))
        .otherwise(ts("submitted_at", ISO_SPACE))
    )
    return [
        pl.col("feedback_id"),
        pl.col("crm_id"),
        pl.col("order_ref"),
        pl.col("channel"),
        submitted.alias("submitted_at"),
        integer("score"),
        pl.col("comment"),
    ]


def _erp_customers(f: pl.DataFrame, rng: np.random.Generator) -> list[pl.Expr]:
    return [
        pl.col("erp_code"),
        pl.col("legal_name"),
        pl.col("tax_id"),
        pl.col("phone"),
        pl.col("province"),
        pl.col("city"),
        pl.col("address"),
        integer("payment_terms_days"),
        dec("credit_limit_cny", 2),
        pl.col("crm_id"),
        ts("updated_at", ERP_SLASH),
    ]


def _warehouses(f: pl.DataFrame, rng: np.random.Generator) -> list[pl.Expr]:
    return [
        pl.col("warehouse_id"),
        pl.col("name"),
        pl.col("region"),
        pl.col("province"),
        pl.col("city"),
        dec("latitude", 4),
        dec("longitude", 4),
        integer("capacity_units"),
    ]


def _products(f: pl.DataFrame, rng: np.random.Generator) -> list[pl.Expr]:
    return [
        pl.col("sku"),
        pl.col("name"),
        pl.col("category"),
        pl.col("brand"),
        dec("unit_cost_cny", 4),
        dec("unit_price_cny", 2),
        integer("lead_time_days"),
        integer("moq"),
        integer("pack_size"),
        integer("shelf_life_days"),
        pl.col("status"),
        ts("updated_at", ISO_SPACE),
    ]


def _sales_orders(f: pl.DataFrame, rng: np.random.Generator) -> list[pl.Expr]:
    legacy = _flag(f, rng, 0.2)  # orders keyed in through the old order-entry module
    times = [
        mixed_ts(c, legacy, ERP_SLASH, ISO_SPACE).alias(c)
        for c in ("ordered_at", "promised_at", "shipped_at", "delivered_at", "cancelled_at")
    ]
    return [
        pl.col("order_no"),
        pl.col("erp_code"),
        pl.col("warehouse_id"),
        *times,
        pl.col("status"),
        mixed_ts("updated_at", legacy, ERP_SLASH, ISO_SPACE),
    ]


def _order_lines(f: pl.DataFrame, rng: np.random.Generator) -> list[pl.Expr]:
    return [
        pl.col("order_no"),
        integer("line_no"),
        pl.col("sku"),
        integer("qty", _flag(f, rng, 0.02)),
        dec("unit_price_cny", 4),
        dec("discount_cny", 2),
        pl.col("shipped_sku"),
        integer("shipped_qty"),
    ]


def _invoices(f: pl.DataFrame, rng: np.random.Generator) -> list[pl.Expr]:
    return [
        pl.col("invoice_no"),
        pl.col("erp_code"),
        pl.col("order_no"),
        ts("issued_at", ERP_SLASH),
        ts("due_at", ERP_SLASH),
        dec("amount_cny", 2),
        ts("paid_at", ERP_SLASH),
    ]


def _purchase_orders(f: pl.DataFrame, rng: np.random.Generator) -> list[pl.Expr]:
    return [
        pl.col("po_no"),
        integer("line_no"),
        pl.col("supplier_id"),
        pl.col("sku"),
        pl.col("warehouse_id"),
        integer("qty", _flag(f, rng, 0.1)),
        ts("ordered_at", ERP_SLASH),
        ts("expected_at", ERP_SLASH),
        ts("received_at", ERP_SLASH),
        ts("updated_at", ERP_SLASH),
    ]


def _snapshots(f: pl.DataFrame, rng: np.random.Generator) -> list[pl.Expr]:
    legacy = _flag(f, rng, 0.01)
    return [
        pl.col("snapshot_date").dt.strftime("%Y/%m/%d"),
        pl.col("warehouse_id"),
        pl.col("sku"),
        integer("on_hand", legacy),
        integer("reserved"),
        integer("in_transit"),
        integer("damaged"),
    ]


def _movements(f: pl.DataFrame, rng: np.random.Generator) -> list[pl.Expr]:
    return [
        pl.col("movement_id"),
        mixed_ts("moved_at", _flag(f, rng, 0.1), ERP_SLASH, ISO_SPACE),
        pl.col("warehouse_id"),
        pl.col("sku"),
        integer("qty"),
        pl.col("movement_type"),
        pl.col("ref"),
    ]


def _counts(f: pl.DataFrame, rng: np.random.Generator) -> list[pl.Expr]:
    legacy = _flag(f, rng, 0.03)
    return [
        pl.col("count_id"),
        ts("counted_at", ERP_SLASH),
        pl.col("warehouse_id"),
        pl.col("sku"),
        integer("book_qty", legacy),
        integer("counted_qty", legacy),
    ]


def _returns(f: pl.DataFrame, rng: np.random.Generator) -> list[pl.Expr]:
    return [
        pl.col("return_id"),
        pl.col("order_ref"),
        pl.col("sku"),
        integer("qty"),
        pl.col("reason"),
        ts("requested_at", ISO_T),
        ts("received_at", ISO_T),
        pl.col("warehouse_id"),
    ]


def _promotions(f: pl.DataFrame, rng: np.random.Generator) -> list[pl.Expr]:
    pct = pl.col("discount_pct")
    whole = pct == pct.floor()
    text = pl.when(whole).then(pct.cast(pl.Int64).cast(pl.Utf8)).otherwise(pct.cast(pl.Utf8))
    return [
        pl.col("promo_id"),
        pl.col("platform"),
        pl.col("sku"),
        pl.col("starts_on").dt.strftime("%Y-%m-%d"),
        pl.col("ends_on").dt.strftime("%Y-%m-%d"),
        text.alias("discount_pct"),
    ]


CSV_FORMATTERS: dict[str, Callable[[pl.DataFrame, np.random.Generator], list[pl.Expr]]] = {
    "crm/customers.csv": _crm_customers,
    "crm/feedback.csv": _feedback,
    "erp/customers.csv": _erp_customers,
    "erp/warehouses.csv": _warehouses,
    "erp/products.csv": _products,
    "erp/sales_orders.csv": _sales_orders,
    "erp/sales_order_lines.csv": _order_lines,
    "erp/invoices.csv": _invoices,
    "erp/purchase_orders.csv": _purchase_orders,
    "erp/stock_snapshots.csv": _snapshots,
    "erp/stock_movements.csv": _movements,
    "erp/stock_counts.csv": _counts,
    "erp/returns.csv": _returns,
    "ecommerce/promotions.csv": _promotions,
}


def format_csv(path: str, frame: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """All-text frame with exactly the file's columns, nulls for empty fields."""
    names = FILES_BY_PATH[path].names
    exprs = CSV_FORMATTERS[path](frame, rng)
    out = frame.select([e.alias(n) for e, n in zip(exprs, names, strict=True)])
    return out.with_columns(pl.all().cast(pl.Utf8))


def format_ecom_orders(frame: pl.DataFrame) -> pl.DataFrame:
    """Nested frame whose NDJSON rows are exactly the EXTRACTS.md example's shape."""
    offset = "+08:00"
    return frame.select(
        pl.col("order_id"),
        pl.col("platform"),
        pl.struct(pl.col("buyer_id"), pl.col("nickname"), pl.col("phone"), pl.col("email")).alias(
            "buyer"
        ),
        pl.struct(pl.col("province"), pl.col("city"), pl.col("district")).alias("ship_to"),
        *[
            ts(c, ISO_T, offset).alias(c)
            for c in ("created_at", "paid_at", "shipped_at", "delivered_at", "cancelled_at")
        ],
        pl.col("status"),
        pl.col("warehouse_id"),
        pl.col("items"),
        ts("updated_at", ISO_T, offset).alias("updated_at"),
    )
