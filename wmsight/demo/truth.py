"""Ground truth under `<out>/_truth/`, never read by the pipeline.

Later stages are measured against it: identity resolution against identity.csv,
segmentation and churn against customers.csv, forecasts against demand.parquet,
ingest quarantine against dirty_rows.csv, ABC classes against products.csv.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl

from wmsight.demo.customers import Population
from wmsight.demo.dirty import DirtyRow
from wmsight.demo.geography import PROVINCES
from wmsight.demo.orders import B2BLines, B2BOrders, EcomItems, EcomOrders
from wmsight.demo.products import CATEGORIES, Catalogue
from wmsight.demo.promotions import PLATFORMS
from wmsight.demo.timeline import Timeline


def identity_frame(pop: Population, eorders: EcomOrders, horizon: int) -> pl.DataFrame:
    """Every source id that appears in some drop, and whose it is."""
    crm = (
        pop.crm.filter(pl.col("_known_at") <= horizon)
        .group_by("crm_id")
        .agg()
        .get_column("crm_id")
        .to_list()
    )
    erp = (
        pop.erp.filter(pl.col("_known_at") <= horizon)
        .group_by("erp_code")
        .agg()
        .get_column("erp_code")
        .to_list()
    )
    owner_of_crm = {c: i for i, c in enumerate(pop.crm_id_of) if c}
    owner_of_erp = {code: i for i, codes in enumerate(pop.erp_codes) for code, _ in codes}
    acc = pop.accounts
    buying = np.unique(eorders.account[eorders.created_at <= horizon])
    rows = (
        [("crm", c, pop.tc_id[owner_of_crm[c]]) for c in crm]
        + [("erp", e, pop.tc_id[owner_of_erp[e]]) for e in erp]
        + [
            (
                "ecommerce",
                f"{PLATFORMS[acc.platform[a]]}:{acc.buyer_id[a]}",
                pop.tc_id[acc.owner[a]],
            )
            for a in buying.tolist()
        ]
    )
    return pl.DataFrame(
        rows,
        schema={"source_system": pl.Utf8, "source_id": pl.Utf8, "true_customer_id": pl.Utf8},
        orient="row",
    ).sort("source_system", "source_id", maintain_order=True)


def customers_frame(
    pop: Population,
    orders: B2BOrders,
    lines: B2BLines,
    eorders: EcomOrders,
    items: EcomItems,
    timeline: Timeline,
    horizon: int,
) -> pl.DataFrame:
    """One row per true customer: who it is, its story, and its order history up to
    the last drop (churn date = date of its last order)."""
    b2b = orders.ordered_at <= horizon
    eco = eorders.created_at <= horizon
    cust = np.r_[orders.customer[b2b], pop.accounts.owner[eorders.account[eco]]]
    when = np.r_[orders.ordered_at[b2b], eorders.created_at[eco]]
    n = pop.n
    first = np.full(n, np.iinfo(np.int64).max)
    last = np.full(n, np.iinfo(np.int64).min)
    np.minimum.at(first, cust, when)
    np.maximum.at(last, cust, when)
    count = np.bincount(cust, minlength=n)
    has = count > 0

    def as_date(seconds: np.ndarray) -> pl.Series:
        days = np.where(has, timeline.day_index(seconds) + timeline.day0, 0)
        return pl.Series(days, dtype=pl.Int32).cast(pl.Date)

    first_date, last_date = as_date(first), as_date(last)
    null_date = pl.Series([None] * n, dtype=pl.Date)
    churned = pop.segment == "churner"
    return pl.DataFrame(
        {
            "true_customer_id": pop.tc_id,
            "display_name": pop.display_name,
            "customer_type": pop.kind.astype(str),
            "segment": pop.segment.astype(str),
            "churned": churned,
            "churn_date": last_date.zip_with(pl.Series(churned & has), null_date),
            "province": [PROVINCES[p].name for p in pop.province.tolist()],
            "first_order_date": first_date.zip_with(pl.Series(has), null_date),
            "last_order_date": last_date.zip_with(pl.Series(has), null_date),
            "orders": count,
        }
    )


def products_frame(
    cat: Catalogue, timeline: Timeline, lines: B2BLines, items: EcomItems
) -> pl.DataFrame:
    """True SKU facts, including the ABC class by realised revenue (A = top 80 %)."""
    revenue = np.bincount(
        lines.sku, weights=lines.qty * lines.unit_price, minlength=cat.n
    ) + np.bincount(items.sku, weights=items.qty * items.unit_price, minlength=cat.n)
    order = np.argsort(-revenue, kind="stable")
    cum = np.cumsum(revenue[order]) / max(revenue.sum(), 1e-9)
    abc = np.empty(cat.n, dtype=object)
    abc[order] = np.where(cum <= 0.8, "A", np.where(cum <= 0.95, "B", "C"))
    abc[order[0]] = "A"

    def day_or_null(day: np.ndarray, valid: np.ndarray) -> pl.Series:
        s = pl.Series(np.where(valid, day, 0) + timeline.day0, dtype=pl.Int32).cast(pl.Date)
        return s.zip_with(pl.Series(valid), pl.Series([None] * cat.n, dtype=pl.Date))

    horizon = timeline.n_days
    return pl.DataFrame(
        {
            "sku": cat.sku,
            "category": [CATEGORIES[c].name for c in cat.category.tolist()],
            "popularity": cat.popularity,
            "revenue_cny": np.round(revenue, 2),
            "abc_class": abc.astype(str),
            "introduced_on": day_or_null(cat.intro_day, cat.intro_day > 0),
            "discontinued_on": day_or_null(cat.discontinue_day, cat.discontinue_day < horizon),
            "price_changed_on": day_or_null(cat.price_change_day, cat.price_change_day < horizon),
            "lead_time_days": cat.lead_time_days,
            "unreliable_supplier": cat.unreliable_supplier,
            "quality_issue": cat.quality_issue,
        }
    )


def dirty_frame(log: list[tuple[str, str, DirtyRow]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "drop": [d for d, _, _ in log],
            "file": [f for _, f, _ in log],
            "line": [r.line for _, _, r in log],
            "key": [r.key for _, _, r in log],
            "column": [r.column for _, _, r in log],
            "rule": [r.rule for _, _, r in log],
        },
        schema={
            "drop": pl.Utf8,
            "file": pl.Utf8,
            "line": pl.Int64,
            "key": pl.Utf8,
            "column": pl.Utf8,
            "rule": pl.Utf8,
        },
    ).sort("drop", "file", "line", maintain_order=True)


def write_frame_csv(frame: pl.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(path)


def write_manifest(path: Path, params: dict) -> None:
    path.write_text(
        json.dumps(params, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
