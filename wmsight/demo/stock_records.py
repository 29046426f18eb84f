"""From the stock simulation's logs to the records the ERP keeps.

The simulation (inventory.py) logs numbers: cells, quantities, instants, codes.
Here they become tables with the ERP's numbering: PO numbers per day, movement ids
in time order, count ids, return ids, and every movement's reference (order number,
PO number, transfer number, count id).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from wmsight.demo import schema
from wmsight.demo.orders import B2BOrders, EcomOrders
from wmsight.demo.products import Catalogue
from wmsight.demo.timeline import Timeline

# what a movement's `ref` points at
REF_ORDER, REF_ONLINE_ORDER, REF_PO, REF_TRANSFER, REF_COUNT, REF_NONE = range(6)
RECEIPT = schema.MOVEMENT_TYPES.index("receipt")


class Log:
    """Column-wise accumulation of record batches (one numpy array per batch)."""

    def __init__(self, *columns: str) -> None:
        self._cols: dict[str, list[np.ndarray]] = {c: [] for c in columns}
        self.rows = 0

    def add(self, **arrays: np.ndarray | int) -> None:
        n = max(len(v) for v in arrays.values() if np.ndim(v) > 0)
        if n == 0:
            return
        self.rows += n
        for name, parts in self._cols.items():
            value = arrays[name]
            parts.append(np.full(n, value) if np.ndim(value) == 0 else np.asarray(value))

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            c: (np.concatenate(p) if p else np.empty(0, dtype=np.int64))
            for c, p in self._cols.items()
        }


@dataclass
class StockResult:
    """Warehouse and SKU are indexes (wh_idx, sku_idx); instants are seconds."""

    movements: pl.DataFrame
    snapshots: pl.DataFrame
    counts: pl.DataFrame
    purchase_orders: pl.DataFrame
    returns: pl.DataFrame


def build_stock_result(
    logs: dict[str, Log],
    cat: Catalogue,
    timeline: Timeline,
    orders: B2BOrders,
    eorders: EcomOrders,
) -> StockResult:
    n_sku = cat.n
    pos = logs["pos"].arrays()
    po_frame = _purchase_orders(pos, cat, timeline, n_sku)
    po_no_of_row = po_frame.sort("_row", maintain_order=True)["po_no"].to_numpy()
    moves = _with_receipts(logs["moves"].arrays(), pos)
    return StockResult(
        movements=_movements(moves, po_no_of_row, orders, eorders, n_sku),
        snapshots=_snapshots(logs["snaps"].arrays(), n_sku),
        counts=_counts(logs["counts"].arrays(), n_sku),
        purchase_orders=po_frame.drop("_row"),
        returns=_returns(logs["returns"].arrays(), orders, eorders, n_sku),
    )


def _id(prefix: str, width: int) -> pl.Expr:
    """prefix + 1-based row number, zero-padded: the ERP's running numbers."""
    return pl.format(
        "{}{}", pl.lit(prefix), (pl.int_range(pl.len()) + 1).cast(pl.Utf8).str.zfill(width)
    )


def _purchase_orders(
    po: dict[str, np.ndarray], cat: Catalogue, timeline: Timeline, n_sku: int
) -> pl.DataFrame:
    """PO lines grouped into POs: one PO per warehouse, supplier and day, released
    at the time of its first line and numbered per day in release order."""
    sku = po["cell"] % n_sku
    df = pl.DataFrame(
        {
            "_row": np.arange(len(sku)),
            "supplier_id": pl.Series(cat.supplier_id, dtype=pl.Utf8).gather(sku),
            "sku_idx": sku,
            "wh_idx": po["cell"] // n_sku,
            "qty": po["qty"],
            "ordered_at": po["ordered_at"],
            "expected_at": po["expected_at"],
            "received_at": po["received_at"],
            "_day": timeline.day_index(po["ordered_at"]),
        }
    )
    group = ["_day", "wh_idx", "supplier_id"]
    df = df.with_columns(ordered_at=pl.col("ordered_at").min().over(group)).sort(
        ["_day", "ordered_at", "wh_idx", "supplier_id", "sku_idx"], maintain_order=True
    )
    header = (
        df.select(group)
        .unique(maintain_order=True)
        .with_columns(_seq=pl.int_range(pl.len()).over("_day") + 1)
    )
    df = df.join(header, on=group, how="left", maintain_order="left")
    ymd = pl.from_epoch(pl.col("_day") + timeline.day0, time_unit="d").dt.strftime("%Y%m%d")
    return (
        df.with_columns(po_no=pl.format("PO{}{}", ymd, pl.col("_seq").cast(pl.Utf8).str.zfill(4)))
        .with_columns(line_no=pl.int_range(pl.len()).over("po_no") + 1)
        .select(
            "_row",
            "po_no",
            "line_no",
            "supplier_id",
            "sku_idx",
            "wh_idx",
            "qty",
            "ordered_at",
            "expected_at",
            "received_at",
        )
    )


def _with_receipts(
    moves: dict[str, np.ndarray], po: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Every PO line is received in full at its receipt time (which may lie after
    the last drop: then the movement is simply never exported)."""
    n = len(po["received_at"])
    return {
        "moved_at": np.r_[moves["moved_at"], po["received_at"]],
        "cell": np.r_[moves["cell"], po["cell"]],
        "qty": np.r_[moves["qty"], po["qty"]],
        "type": np.r_[moves["type"], np.full(n, RECEIPT)],
        "ref_kind": np.r_[moves["ref_kind"], np.full(n, REF_PO)],
        "ref": np.r_[moves["ref"], np.arange(n)],
    }


def _movements(
    m: dict[str, np.ndarray],
    po_no_of_row: np.ndarray,
    orders: B2BOrders,
    eorders: EcomOrders,
    n_sku: int,
) -> pl.DataFrame:
    kind, ref = m["ref_kind"], m["ref"]
    refs = np.full(len(kind), None, dtype=object)
    refs[kind == REF_ORDER] = orders.order_no[ref[kind == REF_ORDER]]
    refs[kind == REF_ONLINE_ORDER] = eorders.order_id[ref[kind == REF_ONLINE_ORDER]]
    refs[kind == REF_PO] = po_no_of_row[ref[kind == REF_PO]]
    refs[kind == REF_TRANSFER] = [f"TR{r + 1:08d}" for r in ref[kind == REF_TRANSFER].tolist()]
    refs[kind == REF_COUNT] = [f"CC{r + 1:08d}" for r in ref[kind == REF_COUNT].tolist()]
    df = pl.DataFrame(
        {
            "moved_at": m["moved_at"],
            "wh_idx": m["cell"] // n_sku,
            "sku_idx": m["cell"] % n_sku,
            "qty": m["qty"],
            "movement_type": pl.Series(schema.MOVEMENT_TYPES, dtype=pl.Utf8).gather(m["type"]),
            "ref": pl.Series(refs.tolist(), dtype=pl.Utf8),
        }
    ).sort(["moved_at", "wh_idx", "sku_idx", "qty"], maintain_order=True)
    return df.with_columns(movement_id=_id("MV", 10))


def _snapshots(s: dict[str, np.ndarray], n_sku: int) -> pl.DataFrame:
    """Logged day by day in cell order: already in file order."""
    return pl.DataFrame(
        {
            "day": s["day"],
            "wh_idx": s["cell"] // n_sku,
            "sku_idx": s["cell"] % n_sku,
            "on_hand": s["on_hand"],
            "reserved": s["reserved"],
            "in_transit": s["in_transit"],
            "damaged": s["damaged"],
        }
    )


def _counts(c: dict[str, np.ndarray], n_sku: int) -> pl.DataFrame:
    """Logged in time order, so the running count id follows the log row (the
    count adjustments refer to it by row)."""
    return pl.DataFrame(
        {
            "counted_at": c["counted_at"],
            "wh_idx": c["cell"] // n_sku,
            "sku_idx": c["cell"] % n_sku,
            "book_qty": c["book"],
            "counted_qty": c["counted"],
        }
    ).with_columns(count_id=_id("CC", 8))


def _returns(
    r: dict[str, np.ndarray], orders: B2BOrders, eorders: EcomOrders, n_sku: int
) -> pl.DataFrame:
    kind, order = r["kind"], r["order"]
    ref = np.where(
        kind == 0,
        orders.order_no[np.where(kind == 0, order, 0)] if orders.n else "",
        eorders.order_id[np.where(kind == 1, order, 0)] if eorders.n else "",
    )
    df = pl.DataFrame(
        {
            "kind": kind,
            "order_idx": order,
            "line_idx": r["line"],
            "order_ref": ref.astype(str),
            "sku_idx": r["sku"],
            "wh_idx": r["cell"] // n_sku,
            "qty": r["qty"],
            "reason": pl.Series(schema.RETURN_REASONS, dtype=pl.Utf8).gather(r["reason"]),
            "requested_at": r["requested_at"],
            "received_at": r["received_at"],
        }
    ).sort(["requested_at", "order_ref", "sku_idx"], maintain_order=True)
    return df.with_columns(return_id=_id("RT", 8))
