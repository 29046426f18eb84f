"""The Customers page's numbers: tiers and RFM segments, how customers moved between
tiers, and the customer 360 (search by name, phone or any source id; the merged source
records, orders, feedback, alerts and rule actions of one customer)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import polars as pl

from dashboards.data import Publication, require

TIER_ORDER = ("high_value", "growth", "regular", "small", "churn_risk", "lapsed")
SEARCH_LIMIT = 50


def tier_distribution(publication: Publication) -> pl.DataFrame:
    """Customers and trailing-12-month revenue per tier (customers without orders in
    the year have no tier: shown as 'none')."""
    customers = require(publication.feed("customer_360"), "customer_360", publication)
    by_tier = (
        customers.with_columns(pl.col("tier").fill_null("none"))
        .group_by("tier")
        .agg(pl.len().alias("customers"), pl.col("revenue_12m").fill_null(0).sum().alias("revenue"))
    )
    total = by_tier["revenue"].sum() or 1.0
    order = {tier: i for i, tier in enumerate((*TIER_ORDER, "none"))}
    return (
        by_tier.with_columns(
            (pl.col("revenue") / total).alias("revenue_share"),
            pl.col("tier").replace_strict(order, default=len(order)).alias("_order"),
        )
        .sort("_order", "tier")
        .drop("_order")
    )


def segment_distribution(publication: Publication) -> pl.DataFrame:
    customers = require(publication.feed("customer_360"), "customer_360", publication)
    return (
        customers.filter(pl.col("rfm_segment").is_not_null())
        .group_by("rfm_segment")
        .agg(pl.len().alias("customers"), pl.col("revenue_12m").fill_null(0).sum().alias("revenue"))
        .sort("customers", descending=True)
    )


def tier_months(publication: Publication) -> list[date]:
    history = require(publication.dataset("tier_history"), "tier_history", publication)
    return sorted(history["month"].unique().to_list(), reverse=True)


def tier_movement(publication: Publication, month: date) -> pl.DataFrame:
    """How many customers went from each tier (the month before) to each tier in `month`."""
    history = require(publication.dataset("tier_history"), "tier_history", publication)
    return (
        history.filter(pl.col("month") == month)
        .with_columns(pl.col("previous_tier").fill_null("new"), pl.col("tier").fill_null("none"))
        .group_by("previous_tier", "tier")
        .agg(pl.len().alias("customers"))
        .sort("previous_tier", "tier")
    )


# The country code as people write it (+86, 0086, (86), 86 set apart), as the warehouse's
# normalize_phone macro strips it.
WRITTEN_COUNTRY_CODE = re.compile(r"^\s*(\+\s*86|00\s*86|\(\s*(\+|00)?\s*86\s*\)|86[\s.-]+)")


def _digits(text: str) -> str:
    """The digits of a phone as typed, without its country code, to find within the stored
    numbers (+86 21 6234 5678 finds 02162345678)."""
    digits = re.sub(r"\D", "", WRITTEN_COUNTRY_CODE.sub("", text, count=1))
    # a glued 86 / 0086 in front of a mobile number, as the warehouse normalises phones
    return re.sub(r"^(0086|86)(?=1\d{10}$)", "", digits)


def search(publication: Publication, query: str, limit: int = SEARCH_LIMIT) -> pl.DataFrame:
    """Customers whose name, any source id, phone or e-mail matches `query` (a plain,
    case-insensitive substring; phones compared on their digits, without +86)."""
    query = query.strip()
    customers = require(publication.feed("customer_360"), "customer_360", publication)
    if not query:
        return customers.head(0).select("customer_key", "display_name", "tier", "region")
    needle = query.lower()
    sources = publication.dataset("customer_sources")
    hits = [
        customers.filter(
            pl.col("display_name").str.to_lowercase().str.contains(needle, literal=True)
            | (pl.col("customer_key") == query)
        )
        .select("customer_key")
        .with_columns(pl.lit("name").alias("matched_on"))
    ]
    if sources is not None:
        text_match = (
            pl.col("source_id").str.to_lowercase().str.contains(needle, literal=True).alias("id"),
            pl.col("source_name")
            .str.to_lowercase()
            .str.contains(needle, literal=True)
            .alias("name"),
            (pl.col("email").str.to_lowercase() == needle).alias("email"),
            pl.col("contact_name").str.contains(query, literal=True).alias("contact"),
        )
        digits = _digits(query)
        flagged = sources.with_columns(
            *text_match,
            (pl.lit(len(digits) >= 6) & pl.col("phone").str.contains(digits, literal=True)).alias(
                "phone_match"
            ),
        )
        for column, label in (
            ("id", "source id"),
            ("name", "name"),
            ("email", "e-mail"),
            ("contact", "contact"),
            ("phone_match", "phone"),
        ):
            hits.append(
                flagged.filter(pl.col(column).fill_null(False))
                .select("customer_key")
                .with_columns(pl.lit(label).alias("matched_on"))
            )
    matched = (
        pl.concat(hits)
        .group_by("customer_key", maintain_order=True)
        .agg(pl.col("matched_on").unique(maintain_order=True).str.join(", "))
    )
    return (
        matched.join(customers, on="customer_key", how="inner")
        .select("customer_key", "display_name", "tier", "region", "revenue_12m", "matched_on")
        .sort("revenue_12m", descending=True, nulls_last=True)
        .head(limit)
    )


@dataclass(frozen=True)
class Profile:
    customer: dict  # the customer_360 row
    sources: pl.DataFrame
    orders: pl.DataFrame
    feedback: pl.DataFrame
    alerts: pl.DataFrame
    rule_actions: pl.DataFrame
    tiers: pl.DataFrame


def _for(frame: pl.DataFrame | None, key: str) -> pl.DataFrame:
    if frame is None:
        return pl.DataFrame()
    return frame.filter(pl.col("customer_key") == key)


def profile(publication: Publication, customer_key: str) -> Profile | None:
    """Everything the publication knows about one customer, or None if it has no such key."""
    customers = require(publication.feed("customer_360"), "customer_360", publication)
    row = customers.filter(pl.col("customer_key") == customer_key)
    if row.is_empty():
        return None
    orders = _for(publication.dataset("orders"), customer_key)
    if not orders.is_empty():
        orders = orders.sort("ordered_at", descending=True)
    feedback = _for(publication.dataset("feedback"), customer_key)
    if not feedback.is_empty():
        feedback = feedback.sort("submitted_at", descending=True)
    return Profile(
        customer=row.row(0, named=True),
        sources=_for(publication.dataset("customer_sources"), customer_key),
        orders=orders,
        feedback=feedback,
        alerts=_for(publication.feed("churn_alerts"), customer_key),
        rule_actions=_for(publication.feed("rule_actions"), customer_key),
        tiers=_for(publication.dataset("tier_history"), customer_key),
    )


def monthly_orders(orders: pl.DataFrame) -> pl.DataFrame:
    """A customer's order value per month and channel, for the timeline chart."""
    if orders.is_empty():
        return pl.DataFrame(
            schema={
                "month": pl.Date,
                "channel": pl.String,
                "orders": pl.UInt32,
                "amount_cny": pl.Float64,
            }
        )
    return (
        orders.with_columns(pl.col("ordered_at").dt.truncate("1mo").dt.date().alias("month"))
        .group_by("month", "channel")
        .agg(pl.len().alias("orders"), pl.col("amount_cny").sum())
        .sort("month", "channel")
    )
