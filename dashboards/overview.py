"""The Overview page's numbers: daily KPIs for any slice of warehouses, regions and
channels, against their targets, and what changed since the day before.

A rate cannot be averaged across warehouses or channels, so slices are computed from
the KPI components the pipeline publishes (`kpi_components`, from the dbt mart
fct_kpi_daily_components: a numerator and a denominator per date, warehouse, channel
and metric): value = Σ numerator / Σ denominator where something was observed. Rows
without a warehouse (feedback about no order) count only when no warehouse is chosen;
stock metrics have no channel and count whatever channels are chosen. Without the
components (an older publication) only the feed's own rows can be shown: one warehouse,
or the company ('ALL').
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from dashboards.data import Publication, require

ALL = "ALL"


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str  # rate | hours | days | score | ratio
    higher_is_better: bool


METRICS: tuple[Metric, ...] = (
    Metric("fulfillment_hours_avg", "hours", False),
    Metric("on_time_rate", "rate", True),
    Metric("fill_rate", "rate", True),
    Metric("satisfaction_rate", "rate", True),
    Metric("nps", "score", True),
    Metric("return_rate", "rate", False),
    Metric("stockout_rate", "rate", False),
    Metric("mis_shipment_rate", "rate", False),
    Metric("inventory_turnover", "ratio", True),
    Metric("days_of_inventory", "days", False),
    Metric("inventory_accuracy", "rate", True),
)
METRICS_BY_NAME = {m.name: m for m in METRICS}
# Ratios whose definition lets them pass 1 but that are published as fractions, capped
# at 1 as marts.fct_kpi_daily caps them (returns of a day over its 30 days' shipments)
CAPPED_AT_ONE = ("return_rate",)


@dataclass(frozen=True)
class KpiSlice:
    """Which part of the business to look at. None means all of it."""

    start: date
    end: date
    warehouses: tuple[str, ...] | None = None
    channels: tuple[str, ...] | None = None


def warehouses_in_regions(publication: Publication, regions: list[str]) -> tuple[str, ...]:
    warehouses = require(publication.dataset("warehouses"), "warehouses", publication)
    return tuple(
        warehouses.filter(pl.col("region").is_in(regions))["warehouse_id"].sort().to_list()
    )


def slice_options(publication: Publication) -> dict[str, list[str]]:
    """What the filters can offer: warehouses, regions, channels."""
    warehouses = publication.dataset("warehouses")
    components = publication.dataset("kpi_components")
    channels: list[str] = []
    if components is not None:
        channels = components["channel"].drop_nulls().unique().sort().to_list()
    return {
        "warehouses": [] if warehouses is None else warehouses["warehouse_id"].to_list(),
        "regions": []
        if warehouses is None
        else warehouses["region"].drop_nulls().unique().sort().to_list(),
        "channels": channels,
    }


def can_slice(publication: Publication) -> bool:
    return publication.dataset("kpi_components") is not None


def _targets(publication: Publication, kpi_slice: KpiSlice) -> pl.DataFrame:
    """Targets per date and metric: the warehouse's own when one is chosen, else the
    company's (targets are set company-wide; a year-on-year target follows its slice's
    own history only in the feed's rows)."""
    feed = require(publication.feed("kpi_daily"), "kpi_daily", publication)
    scope = (
        kpi_slice.warehouses[0]
        if kpi_slice.warehouses is not None and len(kpi_slice.warehouses) == 1
        else ALL
    )
    return feed.filter(pl.col("warehouse_id") == scope).select("date", "metric", "target")


def daily_values(publication: Publication, kpi_slice: KpiSlice) -> pl.DataFrame:
    """One row per date and metric of the slice: value and target."""
    in_range = pl.col("date").is_between(kpi_slice.start, kpi_slice.end)
    components = publication.dataset("kpi_components")
    if components is None:
        feed = require(publication.feed("kpi_daily"), "kpi_daily", publication)
        scope = (
            kpi_slice.warehouses[0]
            if kpi_slice.warehouses is not None and len(kpi_slice.warehouses) == 1
            else ALL
        )
        return (
            feed.filter(in_range & (pl.col("warehouse_id") == scope))
            .select("date", "metric", "value", "target")
            .sort("date", "metric")
        )
    rows = components.filter(in_range)
    if kpi_slice.warehouses is not None:
        rows = rows.filter(pl.col("warehouse_id").is_in(list(kpi_slice.warehouses)))
    if kpi_slice.channels is not None:
        # metrics without a channel (stock, cycle counts) stay: a channel has no stock of its own
        rows = rows.filter(
            pl.col("channel").is_null() | pl.col("channel").is_in(list(kpi_slice.channels))
        )
    values = (
        rows.group_by("date", "metric")
        # each group's floats summed in sorted order: polars' parallel group_by hands a
        # group its rows in any order, and a float sum in another order can differ in its
        # last bit, so the headline value and the chart's last point could disagree
        .agg(
            pl.col("numerator").sort().sum(),
            pl.col("denominator").sort().sum(),
            pl.col("observations").sum(),
        )
        # rows that only carry a trailing window's denominator make no value of their own
        .filter((pl.col("observations") > 0) & (pl.col("denominator") != 0))
        .with_columns(
            pl.when(pl.col("metric").is_in(CAPPED_AT_ONE))
            .then(pl.min_horizontal(pl.col("numerator") / pl.col("denominator"), 1.0))
            .otherwise(pl.col("numerator") / pl.col("denominator"))
            .alias("value")
        )
        .select("date", "metric", "value")
    )
    return values.join(_targets(publication, kpi_slice), on=["date", "metric"], how="left").sort(
        "date", "metric"
    )


def meets(metric: str, value: float | None, target: float | None) -> bool | None:
    if value is None or target is None:
        return None
    info = METRICS_BY_NAME.get(metric)
    higher = info.higher_is_better if info else True
    return value >= target if higher else value <= target


def summary(publication: Publication, kpi_slice: KpiSlice) -> pl.DataFrame:
    """Per metric: the latest value in the range, the one before it ("since yesterday"),
    the change, the target and whether it is met, and whether the change is good news."""
    daily = daily_values(publication, kpi_slice).drop_nulls("value")
    rows = []
    for metric in METRICS:
        series = daily.filter(pl.col("metric") == metric.name).sort("date")
        if series.is_empty():
            continue
        last = series.row(-1, named=True)
        previous = series.row(-2, named=True) if series.height > 1 else None
        change = None if previous is None else last["value"] - previous["value"]
        rows.append(
            {
                "metric": metric.name,
                "unit": metric.unit,
                "date": last["date"],
                "value": last["value"],
                "previous_date": previous and previous["date"],
                "previous_value": previous and previous["value"],
                "change": change,
                "improved": None if not change else (change > 0) == metric.higher_is_better,
                "target": last["target"],
                "meets_target": meets(metric.name, last["value"], last["target"]),
            }
        )
    schema = {
        "metric": pl.String,
        "unit": pl.String,
        "date": pl.Date,
        "value": pl.Float64,
        "previous_date": pl.Date,
        "previous_value": pl.Float64,
        "change": pl.Float64,
        "improved": pl.Boolean,
        "target": pl.Float64,
        "meets_target": pl.Boolean,
    }
    return pl.DataFrame(rows, schema=schema)


def changes_since_yesterday(publication: Publication, kpi_slice: KpiSlice) -> pl.DataFrame:
    """The metrics whose value moved from the day before, biggest relative move first."""
    moved = summary(publication, kpi_slice).filter(
        pl.col("change").is_not_null() & (pl.col("change") != 0)
    )
    relative = (pl.col("change") / pl.col("previous_value").abs()).abs()
    return (
        moved.with_columns(
            pl.when(pl.col("previous_value") != 0).then(relative).otherwise(None).alias("relative")
        )
        .sort("relative", descending=True, nulls_last=True)
        .drop("relative")
    )


def default_range(publication: Publication, days: int = 90) -> tuple[date, date]:
    """The last `days` days up to the run's as-of date (never the wall clock)."""
    end = publication.as_of
    return end - timedelta(days=days - 1), end


def date_bounds(publication: Publication) -> tuple[date, date]:
    """The dates the picker offers: the KPIs' and the run's own. The last days may have
    no KPI (nothing delivered, no feedback, no stock record), and a first run none."""
    feed = require(publication.feed("kpi_daily"), "kpi_daily", publication)
    as_of = publication.as_of
    if feed.is_empty():
        return as_of, as_of
    return min(feed["date"].min(), as_of), max(feed["date"].max(), as_of)
