"""The Forecast accuracy page: backtest WAPE and MASE by warehouse, ABC class and model
against seasonal naive, and the replenishment simulation against the baselines."""

from __future__ import annotations

import polars as pl

from dashboards.data import Publication, require

GROUPINGS = ("warehouse_id", "abc_class", "model", "demand_class")


def accuracy_by(publication: Publication, by: str) -> pl.DataFrame:
    """WAPE (Σ|error| / Σ actual) of the chosen models and of seasonal naive per group,
    mean and median MASE, bias, and the number of series backtested."""
    if by not in GROUPINGS:
        raise ValueError(f"group by one of {GROUPINGS}, not {by!r}")
    series = require(publication.dataset("forecast_accuracy"), "forecast_accuracy", publication)
    scored = series.filter(pl.col("n_origins") > 0)
    return (
        scored.with_columns(pl.col(by).fill_null("—"))
        .group_by(by)
        .agg(
            pl.len().alias("series"),
            (pl.col("abs_error_sum").sum() / pl.col("actual_sum").sum()).alias("wape"),
            (pl.col("baseline_abs_error_sum").sum() / pl.col("actual_sum").sum()).alias(
                "baseline_wape"
            ),
            (pl.col("error_sum").sum() / pl.col("actual_sum").sum()).alias("bias"),
            pl.col("mase").mean().alias("mase_mean"),
            pl.col("mase").median().alias("mase_median"),
            pl.col("baseline_mase").median().alias("baseline_mase_median"),
        )
        .with_columns((1 - pl.col("wape") / pl.col("baseline_wape")).alias("wape_gain"))
        .sort(by)
    )


def overall(publication: Publication) -> dict:
    """The whole backtest in one row (same formulas as `accuracy_by`)."""
    series = require(publication.dataset("forecast_accuracy"), "forecast_accuracy", publication)
    scored = series.filter(pl.col("n_origins") > 0)
    actual = scored["actual_sum"].sum() or float("nan")
    return {
        "series": scored.height,
        "wape": scored["abs_error_sum"].sum() / actual,
        "baseline_wape": scored["baseline_abs_error_sum"].sum() / actual,
        "mase_median": scored["mase"].median(),
        "baseline_mase_median": scored["baseline_mase"].median(),
    }


def models_used(publication: Publication) -> pl.DataFrame:
    """How many series each model forecasts, and why (the router's reasons)."""
    series = require(publication.dataset("forecast_series"), "forecast_series", publication)
    return (
        series.group_by("model", "demand_class")
        .agg(pl.len().alias("series"))
        .sort("series", descending=True)
    )


def simulation(publication: Publication) -> pl.DataFrame | None:
    """`wmsight simulate`'s last result (company-wide rows), or None when it never ran."""
    results = publication.dataset("simulation_results")
    if results is None:
        return None
    return results.filter(pl.col("warehouse_id") == "ALL").sort("policy")
