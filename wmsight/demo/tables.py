"""One typed table per extract file, built from the simulated world.

Indexes become ids here (warehouse 2 → WH-SHA, SKU 41 → SKU-00042), instants stay
int64 seconds until formatting, and each table says how a drop slices it (see
drops.py). Every frame is built in the order its file is written (by time, then
key), which slicing preserves, so nothing is re-sorted per drop.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from wmsight.demo.customers import Population
from wmsight.demo.drops import KNOWN_AT, Events, Lifecycle, Table, Versioned, status_by_events
from wmsight.demo.geography import PROVINCES, WAREHOUSES
from wmsight.demo.orders import B2BLines, B2BOrders, EcomItems, EcomOrders
from wmsight.demo.products import Catalogue
from wmsight.demo.promotions import PLATFORMS, Promotions
from wmsight.demo.stock_records import StockResult
from wmsight.demo.timeline import SECONDS_PER_DAY, Timeline

WAREHOUSE_IDS = [w.warehouse_id for w in WAREHOUSES]
# platforms that report the fulfilling warehouse; the others leave it to the pipeline
PLATFORMS_WITH_WAREHOUSE = ("jd", "own_site")


def lookup(values: list[str], idx: np.ndarray) -> pl.Series:
    """Ids by index, null where idx < 0."""
    s = pl.Series(values, dtype=pl.Utf8)
    idx = np.asarray(idx, dtype=np.int64)
    out = s.gather(np.maximum(idx, 0))
    return out.zip_with(pl.Series(idx >= 0), pl.Series([None] * len(idx), dtype=pl.Utf8))


def build_tables(
    timeline: Timeline,
    cat: Catalogue,
    products: pl.DataFrame,
    promos: Promotions,
    pop: Population,
    orders: B2BOrders,
    lines: B2BLines,
    eorders: EcomOrders,
    items: EcomItems,
    stock: StockResult,
    invoices: pl.DataFrame,
    feedback: pl.DataFrame,
) -> dict[str, Table]:
    return {
        "crm/customers.csv": Versioned(pop.crm, ("crm_id",)),
        "crm/feedback.csv": Events(feedback.with_columns(pl.col("submitted_at").alias(KNOWN_AT))),
        "erp/customers.csv": Versioned(pop.erp, ("erp_code",)),
        "erp/warehouses.csv": Events(_warehouses(timeline)),
        "erp/products.csv": Versioned(products, ("sku",)),
        "erp/sales_orders.csv": _sales_orders(orders),
        "erp/sales_order_lines.csv": _order_lines(cat, orders, lines),
        "erp/invoices.csv": Lifecycle(invoices, created="issued_at", events=("paid_at",)),
        "erp/purchase_orders.csv": _purchase_orders(cat, stock),
        "erp/stock_snapshots.csv": _snapshots(cat, timeline, stock),
        "erp/stock_movements.csv": _movements(cat, stock),
        "erp/stock_counts.csv": _counts(cat, stock),
        "erp/returns.csv": _returns(cat, stock),
        "ecommerce/orders.jsonl": _ecom_orders(cat, pop, eorders, items),
        "ecommerce/promotions.csv": Events(promos.frame),
    }


def _warehouses(timeline: Timeline) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "warehouse_id": WAREHOUSE_IDS,  # already in region order, the ERP's order
            "name": [w.name for w in WAREHOUSES],
            "region": [w.region for w in WAREHOUSES],
            "province": [w.province for w in WAREHOUSES],
            "city": [w.city for w in WAREHOUSES],
            "latitude": [w.lat for w in WAREHOUSES],
            "longitude": [w.lon for w in WAREHOUSES],
            "capacity_units": [w.capacity_units for w in WAREHOUSES],
            KNOWN_AT: [int(timeline.seconds(-30, 9 * 3600))] * len(WAREHOUSES),
        }
    )


def _sales_orders(o: B2BOrders) -> Table:
    frame = pl.DataFrame(
        {
            "order_no": o.order_no.astype(str),
            "erp_code": o.erp_code.astype(str),
            "warehouse_id": lookup(WAREHOUSE_IDS, o.warehouse),
            "ordered_at": o.ordered_at,
            "promised_at": o.promised_at,
            "shipped_at": o.shipped_at,
            "delivered_at": o.delivered_at,
            "cancelled_at": o.cancelled_at,
            "_allocated_at": o.allocated_at,
            "_picked_at": o.picked_at,
        }
    )
    ladder = [
        ("cancelled_at", "cancelled"),
        ("delivered_at", "delivered"),
        ("shipped_at", "shipped"),
        ("_picked_at", "picked"),
        ("_allocated_at", "allocated"),
    ]
    return Lifecycle(
        frame,
        created="ordered_at",
        events=("_allocated_at", "_picked_at", "shipped_at", "delivered_at", "cancelled_at"),
        status=lambda hi: status_by_events(hi, ladder, "open"),
        updated_at=True,
    )


def _order_lines(cat: Catalogue, o: B2BOrders, lines: B2BLines) -> Table:
    shipped = lines.shipped_qty >= 0
    frame = pl.DataFrame(
        {
            "order_no": o.order_no[lines.order].astype(str),
            "line_no": lines.line_no,
            "sku": lookup(cat.sku, lines.sku),
            "qty": lines.qty,
            "unit_price_cny": lines.unit_price,
            "discount_cny": lines.discount,
            "shipped_sku": lookup(cat.sku, np.where(shipped, lines.shipped_sku, -1)),
            "shipped_qty": pl.Series(np.where(shipped, lines.shipped_qty, 0)).zip_with(
                pl.Series(shipped), pl.Series([None] * lines.n, dtype=pl.Int64)
            ),
            "_ordered_at": o.ordered_at[lines.order],
            "_shipped_at": o.shipped_at[lines.order],
        }
    )
    return Lifecycle(
        frame,
        created="_ordered_at",
        events=("_shipped_at",),
        reveal={"shipped_sku": "_shipped_at", "shipped_qty": "_shipped_at"},
    )


def _purchase_orders(cat: Catalogue, stock: StockResult) -> Table:
    frame = stock.purchase_orders.with_columns(
        sku=lookup(cat.sku, stock.purchase_orders["sku_idx"].to_numpy()),
        warehouse_id=lookup(WAREHOUSE_IDS, stock.purchase_orders["wh_idx"].to_numpy()),
    ).drop("sku_idx", "wh_idx")
    return Lifecycle(frame, created="ordered_at", events=("received_at",), updated_at=True)


def _snapshots(cat: Catalogue, timeline: Timeline, stock: StockResult) -> Table:
    s = stock.snapshots
    day = s["day"].to_numpy()
    frame = pl.DataFrame(
        {
            "snapshot_date": pl.Series(day + timeline.day0, dtype=pl.Int32).cast(pl.Date),
            "warehouse_id": lookup(WAREHOUSE_IDS, s["wh_idx"].to_numpy()),
            "sku": lookup(cat.sku, s["sku_idx"].to_numpy()),
            "on_hand": s["on_hand"],
            "reserved": s["reserved"],
            "in_transit": s["in_transit"],
            "damaged": s["damaged"],
            KNOWN_AT: timeline.seconds(day, SECONDS_PER_DAY - 1),  # the end-of-day snapshot
        }
    )
    return Events(frame)


def _movements(cat: Catalogue, stock: StockResult) -> Table:
    m = stock.movements
    frame = (
        m.with_columns(
            warehouse_id=lookup(WAREHOUSE_IDS, m["wh_idx"].to_numpy()),
            sku=lookup(cat.sku, m["sku_idx"].to_numpy()),
        )
        .drop("wh_idx", "sku_idx")
        .with_columns(pl.col("moved_at").alias(KNOWN_AT))
    )
    return Events(frame)


def _counts(cat: Catalogue, stock: StockResult) -> Table:
    c = stock.counts
    frame = (
        c.with_columns(
            warehouse_id=lookup(WAREHOUSE_IDS, c["wh_idx"].to_numpy()),
            sku=lookup(cat.sku, c["sku_idx"].to_numpy()),
        )
        .drop("wh_idx", "sku_idx")
        .with_columns(pl.col("counted_at").alias(KNOWN_AT))
    )
    return Events(frame)


def _returns(cat: Catalogue, stock: StockResult) -> Table:
    r = stock.returns
    frame = r.with_columns(
        warehouse_id=lookup(WAREHOUSE_IDS, r["wh_idx"].to_numpy()),
        sku=lookup(cat.sku, r["sku_idx"].to_numpy()),
    ).drop("wh_idx", "sku_idx")
    return Lifecycle(frame, created="requested_at", events=("received_at",))


def _ecom_orders(cat: Catalogue, pop: Population, o: EcomOrders, it: EcomItems) -> Table:
    acc = pop.accounts
    owner = acc.owner[o.account]
    items = (
        pl.DataFrame(
            {
                "_o": it.order,
                "sku": lookup(cat.sku, it.sku),
                "qty": it.qty,
                "unit_price_cny": it.unit_price,
                "discount_cny": it.discount,
            }
        )
        .group_by("_o", maintain_order=True)
        .agg(pl.struct("sku", "qty", "unit_price_cny", "discount_cny").alias("items"))
    )
    platform = np.array(PLATFORMS, dtype=object)[o.platform]
    shows_wh = np.isin(platform, PLATFORMS_WITH_WAREHOUSE)
    city = [
        PROVINCES[p].cities[c].name
        for p, c in zip(o.province.tolist(), o.city.tolist(), strict=True)
    ]
    frame = pl.DataFrame(
        {
            "_o": np.arange(o.n),
            "order_id": o.order_id.astype(str),
            "platform": platform.astype(str),
            "buyer_id": lookup(acc.buyer_id, o.account),
            "nickname": pl.Series([acc.nickname[a] for a in o.account.tolist()], dtype=pl.Utf8),
            "phone": pl.Series([acc.phone[a] for a in o.account.tolist()], dtype=pl.Utf8),
            "email": pl.Series([acc.email[a] for a in o.account.tolist()], dtype=pl.Utf8),
            "province": lookup([p.name for p in PROVINCES], o.province),
            "city": pl.Series(city, dtype=pl.Utf8),
            "district": pl.Series(o.district.tolist(), dtype=pl.Utf8),
            "created_at": o.created_at,
            "paid_at": o.paid_at,
            "shipped_at": o.shipped_at,
            "delivered_at": o.delivered_at,
            "cancelled_at": o.cancelled_at,
            "_refunded_at": o.refunded_at,
            "warehouse_id": lookup(WAREHOUSE_IDS, np.where(shows_wh, o.warehouse, -1)),
            "_dropped": o.items_dropped,
            "_owner": owner,
        }
    ).join(items, on="_o", how="left", maintain_order="left")
    empty = pl.lit([], dtype=items.schema["items"])
    frame = frame.with_columns(
        items=pl.when(pl.col("items").is_null() | pl.col("_dropped"))
        .then(empty)
        .otherwise(pl.col("items"))
    ).drop("_o", "_dropped")
    ladder = [
        ("_refunded_at", "refunded"),
        ("cancelled_at", "cancelled"),
        ("delivered_at", "delivered"),
        ("shipped_at", "shipped"),
        ("paid_at", "paid"),
    ]
    return Lifecycle(
        frame,
        created="created_at",
        events=("paid_at", "shipped_at", "delivered_at", "cancelled_at", "_refunded_at"),
        status=lambda hi: status_by_events(hi, ladder, "created"),
        updated_at=True,
    )
