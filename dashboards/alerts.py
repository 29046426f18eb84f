"""The Churn alerts page: the run's alerts with the customer's name, tier and account
manager, whether someone handled them (from the decision store), filters, and an export
a spreadsheet can open safely."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

import polars as pl

from dashboards.data import Publication, require
from wmsight.publish import FORMULA_PREFIXES

SEVERITY_ORDER = ("critical", "high", "medium", "low")


def account_managers(publication: Publication) -> pl.DataFrame:
    """customer_key → account manager (of its CRM account; the first by CRM id when a
    customer has several)."""
    sources = publication.dataset("customer_sources")
    if sources is None:
        return pl.DataFrame(schema={"customer_key": pl.String, "account_manager": pl.String})
    return (
        sources.filter(pl.col("account_manager").is_not_null())
        .sort("customer_key", "source_id")
        .group_by("customer_key", maintain_order=True)
        .agg(pl.col("account_manager").first())
    )


def alerts(publication: Publication, handled: list[dict]) -> pl.DataFrame:
    """Every alert of the run, most severe first, with who handled it and how."""
    frame = require(publication.feed("churn_alerts"), "churn_alerts", publication)
    customers = require(publication.feed("customer_360"), "customer_360", publication)
    handled_frame = pl.DataFrame(
        [
            {
                "customer_key": h["customer_key"],
                "alert_type": h["alert_type"],
                "raised_on": date.fromisoformat(h["raised_on"]),
                "handled_by": h["handled_by_name"] or h["handled_by"],
                "handled_at": h["handled_at"],
                "handling_note": h["note"],
            }
            for h in handled
        ],
        schema={
            "customer_key": pl.String,
            "alert_type": pl.String,
            "raised_on": pl.Date,
            "handled_by": pl.String,
            "handled_at": pl.String,
            "handling_note": pl.String,
        },
    )
    severity_rank = {s: i for i, s in enumerate(SEVERITY_ORDER)}
    return (
        frame.join(
            customers.select("customer_key", "display_name", "tier", "region"),
            on="customer_key",
            how="left",
        )
        .join(account_managers(publication), on="customer_key", how="left")
        .join(handled_frame, on=["customer_key", "alert_type", "raised_on"], how="left")
        .with_columns(
            pl.col("handled_by").is_not_null().alias("handled"),
            pl.col("severity").replace_strict(severity_rank, default=99).alias("_rank"),
        )
        .sort("_rank", "alert_type", "customer_key")
        .drop("_rank")
    )


@dataclass(frozen=True)
class AlertFilter:
    severities: tuple[str, ...] = ()
    alert_types: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    account_managers: tuple[str, ...] = ()
    include_handled: bool = True


def filter_alerts(frame: pl.DataFrame, chosen: AlertFilter) -> pl.DataFrame:
    """An empty choice means no filter on that field."""
    for column, values in (
        ("severity", chosen.severities),
        ("alert_type", chosen.alert_types),
        ("tier", chosen.tiers),
        ("account_manager", chosen.account_managers),
    ):
        if values:
            frame = frame.filter(pl.col(column).is_in(list(values)))
    if not chosen.include_handled:
        frame = frame.filter(~pl.col("handled"))
    return frame


def alert_key(row: dict) -> str:
    """One alert as text (widgets carry text): customer, type and the day it was raised."""
    return f"{row['customer_key']}|{row['alert_type']}|{row['raised_on'].isoformat()}"


def parse_alert_key(key: str) -> tuple[str, str, date]:
    customer_key, alert_type, raised_on = key.rsplit("|", 2)
    return customer_key, alert_type, date.fromisoformat(raised_on)


def options(frame: pl.DataFrame, column: str) -> list[str]:
    return frame[column].drop_nulls().unique().sort().to_list()


def spreadsheet_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """Text a spreadsheet would run as a formula gets a leading apostrophe (as in the
    feeds' CSV copies)."""
    prefixes = "".join(FORMULA_PREFIXES)
    pattern = "^[" + prefixes.replace("-", r"\-").replace("\t", r"\t").replace("\r", r"\r") + "]"
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(pattern))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name, dtype in frame.schema.items()
        if dtype == pl.String
    )


def export_csv(frame: pl.DataFrame) -> bytes:
    """The filtered alerts as CSV (UTF-8 with BOM, so Excel reads the Chinese text)."""
    buffer = io.BytesIO()
    spreadsheet_safe(frame).write_csv(buffer)
    return "\ufeff".encode() + buffer.getvalue()
