"""Invoices and credit notes for B2B orders.

An order is invoiced when it ships, for what actually shipped. Most accounts pay
within their terms; late payers pay weeks after the due date, and some invoices
are never paid (more often in the months before an account churns). Returns of
damaged, faulty or wrong goods are credited with a negative invoice.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from wmsight.demo.customers import Population
from wmsight.demo.orders import B2BLines, B2BOrders, business_hours
from wmsight.demo.timeline import HOUR, NEVER, SECONDS_PER_DAY, Timeline

UNPAID_RATE = 0.02
UNPAID_BEFORE_CHURN = 0.3  # invoices of a churner's last two months left unpaid
CREDIT_NOTE_RATE = 0.6  # share of damaged / quality / wrong-item returns credited
CREDITED_REASONS = ("damaged", "quality", "wrong_item")


def build_invoices(
    pop: Population,
    orders: B2BOrders,
    lines: B2BLines,
    returns: pl.DataFrame,
    timeline: Timeline,
    rng: np.random.Generator,
) -> pl.DataFrame:
    """invoices.csv rows (times as naive-local seconds, NEVER = not yet)."""
    shipped = np.maximum(lines.shipped_qty, 0)
    value = shipped * lines.unit_price - lines.discount * np.where(
        lines.qty > 0, shipped / lines.qty, 0
    )
    amount = np.bincount(lines.order, weights=value, minlength=orders.n)
    invoiced = np.flatnonzero((orders.shipped_at < NEVER) & (amount > 0))
    n = len(invoiced)
    cust = orders.customer[invoiced]
    # billing runs in office hours, shortly after the goods leave
    issued = business_hours(
        orders.shipped_at[invoiced] + rng.integers(1 * HOUR, 4 * HOUR, n), 9 * HOUR, 18 * HOUR
    )
    terms = pop.payment_terms[cust]
    due = issued + terms * SECONDS_PER_DAY
    on_time = issued + (rng.uniform(0.1, 1.0, n) * np.maximum(terms, 2) * SECONDS_PER_DAY).astype(
        np.int64
    )
    late_days = np.where(rng.random(n) < 0.2, rng.uniform(60, 120, n), rng.uniform(1, 45, n))
    late = due + (late_days * SECONDS_PER_DAY).astype(np.int64)
    paid = np.where(pop.late_payer[cust] & (rng.random(n) < 0.7), late, on_time)
    near_churn = timeline.day_index(issued) > pop.end_day[cust] - 60
    unpaid = (rng.random(n) < UNPAID_RATE) | (
        (pop.segment[cust] == "churner") & near_churn & (rng.random(n) < UNPAID_BEFORE_CHURN)
    )
    paid = np.where(unpaid, NEVER, paid)
    invoices = pl.DataFrame(
        {
            "erp_code": orders.erp_code[invoiced].astype(str),
            "order_no": orders.order_no[invoiced].astype(str),
            "issued_at": issued,
            "due_at": due,
            "amount_cny": np.round(amount[invoiced], 2),
            "paid_at": paid,
            "_credit": np.zeros(n, dtype=bool),
        }
    )
    return (
        pl.concat([invoices, _credit_notes(orders, lines, returns, rng)])
        .sort("issued_at", "order_no", "amount_cny", maintain_order=True)
        .with_columns(
            invoice_no=pl.when(pl.col("_credit"))
            .then(pl.format("CN{}", (pl.col("_credit").cum_sum()).cast(pl.Utf8).str.zfill(8)))
            .otherwise(
                pl.format("INV{}", ((~pl.col("_credit")).cum_sum()).cast(pl.Utf8).str.zfill(8))
            ),
        )
        .drop("_credit")
    )


def _credit_notes(
    orders: B2BOrders, lines: B2BLines, returns: pl.DataFrame, rng: np.random.Generator
) -> pl.DataFrame:
    r = returns.filter((pl.col("kind") == 0) & pl.col("reason").is_in(CREDITED_REASONS))
    r = r.filter(pl.Series(rng.random(r.height) < CREDIT_NOTE_RATE))
    line = r["line_idx"].to_numpy()
    order = r["order_idx"].to_numpy()
    received = r["received_at"].to_numpy()
    n = r.height
    base = np.where(received < NEVER, received, r["requested_at"].to_numpy() + 5 * SECONDS_PER_DAY)
    issued = base + rng.integers(1 * HOUR, 72 * HOUR, n)
    settled = issued + rng.integers(0, 10 * SECONDS_PER_DAY, n)
    return pl.DataFrame(
        {
            "erp_code": orders.erp_code[order].astype(str) if n else np.empty(0, dtype=str),
            "order_no": orders.order_no[order].astype(str) if n else np.empty(0, dtype=str),
            "issued_at": issued,
            "due_at": issued,
            "amount_cny": -np.round(r["qty"].to_numpy() * lines.unit_price[line], 2),
            "paid_at": np.where(rng.random(n) < 0.7, settled, NEVER),
            "_credit": np.ones(n, dtype=bool),
        },
        schema={
            "erp_code": pl.Utf8,
            "order_no": pl.Utf8,
            "issued_at": pl.Int64,
            "due_at": pl.Int64,
            "amount_cny": pl.Float64,
            "paid_at": pl.Int64,
            "_credit": pl.Boolean,
        },
    )
