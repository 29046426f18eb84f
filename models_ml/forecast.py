"""Demand forecasts per warehouse × SKU, with the model, the reason and the evidence.

    run_forecast(db_path, warehouses=None, as_of=None, config=ForecastConfig())

1. Read demand (see `models_ml.demand` for what counts), products and promotions from
   the marts, then close the connection: workers never hold a DuckDB connection.
2. Classify every series over its last 365 days: ADI (days per day with demand) and
   CV² (of the non-zero daily quantities) give smooth / erratic / intermittent /
   lumpy (Syntetos–Boylan cut-offs 1.32 and 0.49); a series that first sold less than
   56 days ago is new, one without demand for 91 days (or whose product is
   discontinued in the ERP) is discontinued.
3. Route: smooth/erratic with ≥ 182 days → Prophet on days; sparse by day but smooth
   by week (weekly ADI ≤ 1.32, CV² ≤ 0.49) with ≥ 182 days → Prophet on 7-day totals,
   split into days by weekday shares; intermittent → Croston SBA; lumpy → TSB; new →
   the category's profile at that warehouse, scaled by what the SKU sold so far;
   discontinued → no forecast. The reason is written per series.
4. Rolling-origin backtest in worker processes (default 3 origins, 28 days apart, each
   forecasting the full horizon) of the routed method against seasonal naive; the
   better one (WAPE) is kept and forecasts the horizon from the full history.
   Intervals (80 %) are the backtest error quantiles around the forecast.
5. Write `ml.demand_forecast`, `ml.forecast_series`, `ml.forecast_accuracy` for the
   warehouses run (delete + insert per warehouse in one transaction), then recompute
   `ml.forecast_accuracy_overall` from every warehouse's rows.

Same inputs, same outputs: series are sorted, Prophet gets a fixed seed and no
sampling, statsforecast's methods are deterministic, results are sorted before writing.
"""

from __future__ import annotations

import importlib
import logging
import math
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date, timedelta
from multiprocessing import forkserver, get_context
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from models_ml import refit
from models_ml.calendar import calendar_events, promotion_discounts
from models_ml.demand import ForecastInputs, load_inputs
from models_ml.forecast_config import ForecastConfig, interval_z
from models_ml.forecast_models import (
    SeriesResult,
    SeriesTask,
    forecast_chunk,
    init_worker,
)

log = logging.getLogger(__name__)

PROPHET_ROUTES = ("prophet_daily", "prophet_weekly")
EPOCH = date(1970, 1, 1)


@dataclass
class ForecastTables:
    as_of: date
    warehouses: list[str]
    demand_forecast: pl.DataFrame
    forecast_series: pl.DataFrame
    forecast_accuracy: pl.DataFrame
    forecast_fits: pl.DataFrame | None = None  # models_ml/refit: what later runs may reuse


@dataclass
class ForecastRun:
    as_of: date
    warehouses: list[str]
    series: int
    forecast_rows: int
    models: dict[str, int] = field(default_factory=dict)
    wape: float = math.nan
    baseline_wape: float = math.nan
    seconds: float = 0.0

    def summary(self) -> str:
        models = ", ".join(f"{k} {v}" for k, v in sorted(self.models.items()))
        return (
            f"as of {self.as_of}: {self.series:,} series in {len(self.warehouses)} warehouse(s) "
            f"({models}); {self.forecast_rows:,} forecast rows; backtest WAPE "
            f"{self.wape:.3f} vs seasonal naive {self.baseline_wape:.3f}"
        )


# ---------------------------------------------------------------- classification


def demand_class(adi: float, cv2: float, config: ForecastConfig) -> str:
    if adi <= config.adi_threshold:
        return "smooth" if cv2 <= config.cv2_threshold else "erratic"
    return "intermittent" if cv2 <= config.cv2_threshold else "lumpy"


def classify(inputs: ForecastInputs, config: ForecastConfig) -> pl.DataFrame:
    """One row per warehouse × SKU with demand: statistics, class, route and reason."""
    as_of = inputs.as_of
    window = config.classification_window_days
    d = inputs.demand.with_columns((pl.lit(as_of) - pl.col("date")).dt.total_days().alias("age"))
    # maintain_order: sums and variances in one order every run (floating point)
    spans = d.group_by("warehouse_id", "sku", maintain_order=True).agg(
        pl.col("date").min().alias("first_date"), pl.col("date").max().alias("last_date")
    )
    spans = spans.with_columns(
        ((pl.lit(as_of) - pl.col("first_date")).dt.total_days() + 1).alias("history_days"),
        (pl.lit(as_of) - pl.col("last_date")).dt.total_days().alias("days_since_demand"),
    ).with_columns(pl.min_horizontal("history_days", pl.lit(window)).alias("window_days"))
    recent = d.filter(pl.col("age") < window)
    daily = recent.group_by("warehouse_id", "sku", maintain_order=True).agg(
        pl.len().alias("nonzero_days"),
        pl.col("qty").mean().alias("mean_size"),
        pl.col("qty").var(ddof=0).alias("var_size"),
    )
    weekly = (
        recent.join(spans.select("warehouse_id", "sku", "window_days"), on=["warehouse_id", "sku"])
        .with_columns((pl.col("age") // 7).alias("block"))
        .filter(pl.col("block") < pl.col("window_days") // 7)
        .group_by("warehouse_id", "sku", "block", maintain_order=True)
        .agg(pl.col("qty").sum())
        .group_by("warehouse_id", "sku", maintain_order=True)
        .agg(
            pl.len().alias("nonzero_weeks"),
            pl.col("qty").mean().alias("mean_week"),
            pl.col("qty").var(ddof=0).alias("var_week"),
        )
    )
    products = inputs.products.select("sku", "category", "product_status")
    stats = (
        spans.join(daily, on=["warehouse_id", "sku"], how="left")
        .join(weekly, on=["warehouse_id", "sku"], how="left")
        .join(products, on="sku", how="left")
        .with_columns(
            (pl.col("window_days") / pl.col("nonzero_days")).alias("adi"),
            (pl.col("var_size") / pl.col("mean_size") ** 2).fill_nan(0.0).alias("cv2"),
            ((pl.col("window_days") // 7) / pl.col("nonzero_weeks")).alias("adi_week"),
            (pl.col("var_week") / pl.col("mean_week") ** 2).fill_nan(0.0).alias("cv2_week"),
        )
        .with_columns(pl.col("adi", "cv2", "adi_week", "cv2_week").round(6))
        .sort("warehouse_id", "sku")
    )
    rows = []
    for r in stats.iter_rows(named=True):
        rows.append(_route(r, config))
    routed = pl.DataFrame(
        rows,
        schema={"demand_class": pl.String, "route": pl.String, "reason": pl.String},
        orient="row",
    )
    return pl.concat([stats, routed], how="horizontal").with_columns(pl.lit(as_of).alias("as_of"))


def _fmt(x: float | None) -> str:
    return "∞" if x is None or not math.isfinite(x) else f"{x:.2f}"


def _route(r: dict, config: ForecastConfig) -> tuple[str, str, str]:
    adi, cv2 = r["adi"] or math.inf, r["cv2"] or 0.0
    history, idle = r["history_days"], r["days_since_demand"]
    if r["product_status"] == "discontinued":
        return "discontinued", "none", "product discontinued in the ERP master → no forecast"
    if idle > config.discontinued_after_days or r["nonzero_days"] is None:
        return (
            "discontinued",
            "none",
            f"no demand for {idle} d (> {config.discontinued_after_days} d): "
            "discontinued → no forecast",
        )
    if history < config.new_history_days:
        return (
            "new",
            "category_profile",
            f"first demand {history} d ago (< {config.new_history_days} d): new → "
            "category profile at this warehouse, scaled by its own sales",
        )
    cls = demand_class(adi, cv2, config)
    a, c = config.adi_threshold, config.cv2_threshold
    stats = (
        f"ADI {_fmt(adi)} {'≤' if adi <= a else '>'} {a}, "
        f"CV² {_fmt(cv2)} {'≤' if cv2 <= c else '>'} {c}: {cls}"
    )
    long_enough = history >= config.prophet_min_history_days
    if cls in ("smooth", "erratic"):
        if long_enough:
            return cls, "prophet_daily", f"{stats}, {history} d of history → Prophet (daily)"
        return cls, "croston_sba", f"{stats}, only {history} d of history → Croston SBA"
    adi_w, cv2_w = r["adi_week"] or math.inf, r["cv2_week"] or 0.0
    if long_enough and adi_w <= a and cv2_w <= c:
        return (
            cls,
            "prophet_weekly",
            f"{stats} by day, but weekly ADI {_fmt(adi_w)} ≤ {a}, CV² {_fmt(cv2_w)} ≤ {c}: "
            f"smooth by week, {history} d of history → Prophet on weekly totals, "
            "split by weekday",
        )
    if cls == "intermittent":
        return cls, "croston_sba", f"{stats} → Croston SBA"
    return cls, "tsb", f"{stats} → TSB"


# ---------------------------------------------------------------- tasks


def _weekday_shares(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    shares = (
        frame.with_columns(pl.col("date").dt.weekday().alias("weekday"))  # 1 = Monday
        .group_by([*keys, "weekday"], maintain_order=True)
        .agg(pl.col("qty").sum())
        .with_columns((pl.col("qty") / pl.col("qty").sum().over(keys)).alias("share"))
    )
    return shares.select(*keys, "weekday", "share")


def _shares_array(rows: pl.DataFrame) -> np.ndarray:
    out = np.full(7, 1 / 7)
    if not rows.is_empty():
        out = np.zeros(7)
        for weekday, share in rows.select("weekday", "share").iter_rows():
            out[weekday - 1] = share
        out = out / out.sum() if out.sum() > 0 else np.full(7, 1 / 7)
    return out


def build_tasks(
    inputs: ForecastInputs, series: pl.DataFrame, config: ForecastConfig
) -> tuple[list[SeriesTask], dict[str, np.ndarray]]:
    """Dense daily arrays for every series that a worker forecasts, costliest first."""
    as_of, h = inputs.as_of, config.horizon_days
    recent = inputs.demand.filter(pl.col("date") > as_of - timedelta(days=364))
    wh_shares = {
        w: _shares_array(rows)
        for (w,), rows in _weekday_shares(recent, ["warehouse_id"])
        .partition_by("warehouse_id", as_dict=True)
        .items()
    }
    worked = series.filter(pl.col("route").is_in([*PROPHET_ROUTES, "croston_sba", "tsb"]))
    skus = sorted(set(worked["sku"].to_list()))
    horizon_end = as_of + timedelta(days=h)
    promo = promotion_discounts(inputs.promotions, skus, inputs.first_date, horizon_end)
    n_all = (horizon_end - inputs.first_date).days + 1
    promo_by_sku: dict[str, np.ndarray] = {}
    for (sku,), rows in promo.partition_by("sku", as_dict=True).items():
        arr = np.zeros(n_all)
        idx = np.array([(d - inputs.first_date).days for d in rows["date"].to_list()])
        arr[idx] = rows["discount"].to_numpy()
        promo_by_sku[sku] = arr
    # one sorted frame sliced per series: a frame per series (partition_by) cost seconds
    # at 20,000 series, most of a daily run's task building
    demand = (
        inputs.demand.join(worked.select("warehouse_id", "sku"), on=["warehouse_id", "sku"])
        .sort("warehouse_id", "sku", "date")
        .with_row_index("row")
    )
    spans = {
        (w, s): (first, n)
        for w, s, first, n in demand.group_by("warehouse_id", "sku")
        .agg(pl.col("row").min(), pl.len())
        .iter_rows()
    }
    day_numbers = demand["date"].cast(pl.Int32).to_numpy()
    quantities = demand["qty"].to_numpy()
    tasks = []
    for r in worked.iter_rows(named=True):
        first, n = spans[(r["warehouse_id"], r["sku"])]
        start = r["first_date"]
        y = np.zeros((as_of - start).days + 1)
        y[day_numbers[first : first + n] - (start - EPOCH).days] = quantities[first : first + n]
        offset = (start - inputs.first_date).days
        sku_promo = promo_by_sku.get(r["sku"])
        p = sku_promo[offset:] if sku_promo is not None else np.zeros(len(y) + h)
        tasks.append(
            SeriesTask(
                warehouse_id=r["warehouse_id"],
                sku=r["sku"],
                route=r["route"],
                start=start,
                y=y,
                promo=p,
                fallback_shares=wh_shares.get(r["warehouse_id"], np.full(7, 1 / 7)),
            )
        )
    cost = {"prophet_daily": 0, "prophet_weekly": 1}
    tasks.sort(key=lambda t: (cost.get(t.route, 2), t.warehouse_id, t.sku))
    return tasks, wh_shares


def _chunks(tasks: list[SeriesTask], workers: int) -> list[list[SeriesTask]]:
    """Prophet series a few per chunk (they dominate the time), the rest in larger ones."""
    prophet = [t for t in tasks if t.route in PROPHET_ROUTES]
    rest = [t for t in tasks if t.route not in PROPHET_ROUTES]
    rest_size = max(10, math.ceil(len(rest) / (workers * 4))) if rest else 1
    return [prophet[i : i + 2] for i in range(0, len(prophet), 2)] + [
        rest[i : i + rest_size] for i in range(0, len(rest), rest_size)
    ]


def _worker_context():
    """forkserver: workers fork from a clean server that imports Prophet once (seconds of
    imports; without matplotlib, see forecast_worker_preload), never from this process
    (DuckDB and Polars threads). Calling it early starts the server, so its imports
    overlap reading and classifying."""
    context = get_context("forkserver")
    context.set_forkserver_preload(
        ["models_ml.forecast_worker_preload", "models_ml.forecast_models", "prophet"]
    )
    forkserver.ensure_running()
    return context


def run_tasks(
    tasks: list[SeriesTask],
    holidays,
    config: ForecastConfig,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[SeriesResult]:
    workers = config.workers or os.cpu_count() or 1
    settings = config.backtest()
    results: list[SeriesResult] = []
    done = 0
    if workers <= 1 or len(tasks) <= 1:
        init_worker(holidays)
        for task in tasks:
            results += forecast_chunk([task], settings)
            done += 1
            if on_progress:
                on_progress(done, len(tasks))
        return results
    chunks = _chunks(tasks, workers)
    context = _worker_context()
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=init_worker,
        initargs=(holidays,),
    ) as pool:
        futures = [pool.submit(forecast_chunk, chunk, settings) for chunk in chunks]
        for future in as_completed(futures):
            chunk_results = future.result()
            results += chunk_results
            done += len(chunk_results)
            if on_progress:
                on_progress(done, len(tasks))
    return results


# ---------------------------------------------------------------- new series


def category_forecasts(
    inputs: ForecastInputs,
    series: pl.DataFrame,
    wh_shares: dict[str, np.ndarray],
    error_ratio: dict[str, float],
    config: ForecastConfig,
) -> list[SeriesResult]:
    """New series: the median SKU of the category at that warehouse over the last
    `horizon` days (demand per SKU-day, by weekday), blended with the SKU's own rate
    so far: rate = (n·own + k·category) / (n + k), n = days since first demand."""
    new = series.filter(pl.col("route") == "category_profile")
    if new.is_empty():
        return []
    as_of, h = inputs.as_of, config.horizon_days
    lookback = config.horizon_days
    recent = inputs.demand.filter(pl.col("date") > as_of - timedelta(days=lookback)).join(
        series.select("warehouse_id", "sku", "category"), on=["warehouse_id", "sku"], how="left"
    )
    recent = recent.with_columns(pl.col("category").fill_null("(unknown)"))
    # the median SKU, not the mean: on real data a category's volume sits in a few best
    # sellers, and a new SKU starts like a typical one, not like their average
    per_sku = recent.group_by("warehouse_id", "category", "sku", maintain_order=True).agg(
        (pl.col("qty").sum() / lookback).alias("rate")
    )
    per_cat = per_sku.group_by("warehouse_id", "category", maintain_order=True).agg(
        pl.col("rate").median()
    )
    per_wh = per_sku.group_by("warehouse_id", maintain_order=True).agg(pl.col("rate").median())
    cat_rate = {(w, c): r for w, c, r in per_cat.iter_rows()}
    wh_rate = {w: r for w, r in per_wh.iter_rows()}
    cat_shares = {
        key: _shares_array(rows)
        for key, rows in _weekday_shares(recent, ["warehouse_id", "category"])
        .partition_by("warehouse_id", "category", as_dict=True)
        .items()
    }
    own = inputs.demand.group_by("warehouse_id", "sku", maintain_order=True).agg(
        pl.col("qty").sum().alias("total")
    )
    own_total = {(w, s): t for w, s, t in own.iter_rows()}
    k = config.category_shrink_days
    z = interval_z(config.interval)
    first_day = as_of + timedelta(days=1)
    weekdays = (np.arange(h) + first_day.weekday()) % 7
    results = []
    for r in new.iter_rows(named=True):
        w, sku, n = r["warehouse_id"], r["sku"], r["history_days"]
        category = r["category"] or "(unknown)"
        base = cat_rate.get((w, category), wh_rate.get(w, 0.0))
        own_rate = own_total.get((w, sku), 0.0) / n
        rate = (n * own_rate + k * base) / (n + k)
        shares = cat_shares.get((w, category), wh_shares.get(w, np.full(7, 1 / 7)))
        yhat = rate * 7.0 * shares[weekdays]
        sd = rate * error_ratio.get(w, 1.0)
        results.append(
            SeriesResult(
                warehouse_id=w,
                sku=sku,
                model="category_profile",
                note=(
                    f"category {category} {base:.2f}/d per SKU, own {own_rate:.2f}/d "
                    f"over {n} d → {rate:.2f}/d; no backtest (history too short)"
                ),
                yhat=yhat,
                yhat_lower=np.clip(yhat - z * sd, 0.0, None),
                yhat_upper=yhat + z * sd,
                metrics={"n_origins": 0.0, "error_sd_daily": sd, "mean_daily_demand": own_rate},
            )
        )
    return results


def _error_ratio(results: list[SeriesResult]) -> dict[str, float]:
    """Per warehouse, the median backtest error sd relative to mean demand."""
    ratios: dict[str, list[float]] = {}
    for r in results:
        sd, mean = r.metrics.get("error_sd_daily"), r.metrics.get("mean_daily_demand")
        if r.metrics.get("n_origins") and sd is not None and mean and mean > 0:
            ratios.setdefault(r.warehouse_id, []).append(sd / mean)
    return {w: float(np.median(v)) for w, v in ratios.items()}


# ---------------------------------------------------------------- assemble


def build_forecasts(
    inputs: ForecastInputs,
    config: ForecastConfig | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    stored_fits: dict[tuple[str, str], refit.StoredFit] | None = None,
) -> ForecastTables:
    """Data in, tables out: classification, backtests, forecasts (no database).
    `stored_fits`: earlier runs' fits that may be reused (models_ml/refit)."""
    config = config or ForecastConfig()
    as_of, h = inputs.as_of, config.horizon_days
    series = classify(inputs, config)
    tasks, wh_shares = build_tasks(inputs, series, config)
    counts = series.group_by("route").len().sort("route").iter_rows()
    log.info(
        "forecast as of %s: %d series, routes %s; %d worker(s)",
        as_of,
        series.height,
        dict(counts),
        config.workers or os.cpu_count(),
    )
    holidays = None
    if config.chinese_calendar:
        holidays = calendar_events(inputs.first_date, as_of + timedelta(days=h)).to_pandas()
        holidays["ds"] = holidays["ds"].astype("datetime64[ns]")
    results, fits, refits = refit.run_with_reuse(
        lambda todo: run_tasks(todo, holidays, config, on_progress),
        tasks,
        stored_fits or {},
        as_of,
        h,
        config.refit_every_days,
        config.fit_settings(),
        set(holidays["ds"].dt.date) if holidays is not None else set(),
    )
    log.info("forecast fits: %s", refits.summary())
    results += category_forecasts(inputs, series, wh_shares, _error_ratio(results), config)
    results.sort(key=lambda r: (r.warehouse_id, r.sku))

    dates = [as_of + timedelta(days=i + 1) for i in range(h)]
    forecast = pl.DataFrame(
        {
            "warehouse_id": [r.warehouse_id for r in results for _ in range(h)],
            "sku": [r.sku for r in results for _ in range(h)],
            "date": dates * len(results),
            "yhat": np.concatenate([r.yhat for r in results]) if results else [],
            "yhat_lower": np.concatenate([r.yhat_lower for r in results]) if results else [],
            "yhat_upper": np.concatenate([r.yhat_upper for r in results]) if results else [],
            "model": [r.model for r in results for _ in range(h)],
        },
        schema={
            "warehouse_id": pl.String,
            "sku": pl.String,
            "date": pl.Date,
            "yhat": pl.Float64,
            "yhat_lower": pl.Float64,
            "yhat_upper": pl.Float64,
            "model": pl.String,
        },
    )
    metric_names = [
        "wape",
        "mase",
        "bias",
        "baseline_wape",
        "baseline_mase",
        "error_sd_daily",
        "mean_daily_demand",
        "n_origins",
        "actual_sum",
        "abs_error_sum",
        "error_sum",
        "baseline_abs_error_sum",
        "fit_seconds",
    ]
    accuracy = pl.DataFrame(
        [
            {
                "warehouse_id": r.warehouse_id,
                "sku": r.sku,
                "model": r.model,
                **{m: r.metrics.get(m) for m in metric_names},
            }
            for r in results
        ],
        schema={
            "warehouse_id": pl.String,
            "sku": pl.String,
            "model": pl.String,
            **{m: pl.Float64 for m in metric_names},
        },
    ).with_columns(pl.col(pl.Float64).fill_nan(None))
    accuracy = accuracy.with_columns(
        pl.col("n_origins").cast(pl.Int32), pl.lit(as_of).alias("as_of")
    )
    chosen = pl.DataFrame(
        {
            "warehouse_id": [r.warehouse_id for r in results],
            "sku": [r.sku for r in results],
            "model": [r.model for r in results],
            "note": [r.note for r in results],
        },
        schema={"warehouse_id": pl.String, "sku": pl.String, "model": pl.String, "note": pl.String},
    )
    series_out = (
        series.join(chosen, on=["warehouse_id", "sku"], how="left")
        .with_columns(
            pl.col("model").fill_null("none"),
            pl.when(pl.col("note").is_not_null())
            .then(pl.col("reason") + "; " + pl.col("note"))
            .otherwise(pl.col("reason"))
            .alias("reason"),
        )
        .select(
            "warehouse_id",
            "sku",
            "demand_class",
            "model",
            "reason",
            pl.col("adi").fill_nan(None).cast(pl.Float64),
            pl.col("cv2").fill_nan(None).cast(pl.Float64),
            pl.col("history_days").cast(pl.Int32),
            "as_of",
            "route",
            "category",
            pl.col("adi_week").fill_nan(None).cast(pl.Float64),
            pl.col("cv2_week").fill_nan(None).cast(pl.Float64),
            "first_date",
            "last_date",
        )
        .with_columns(
            pl.when(pl.col("adi").is_infinite()).then(None).otherwise(pl.col("adi")).alias("adi"),
            pl.when(pl.col("adi_week").is_infinite())
            .then(None)
            .otherwise(pl.col("adi_week"))
            .alias("adi_week"),
        )
        .sort("warehouse_id", "sku")
    )
    warehouses = sorted(set(series["warehouse_id"].to_list()))
    return ForecastTables(as_of, warehouses, forecast, series_out, accuracy, refit.fits_frame(fits))


# ---------------------------------------------------------------- storage

DDL = """
CREATE SCHEMA IF NOT EXISTS ml;
CREATE TABLE IF NOT EXISTS ml.demand_forecast (
    warehouse_id VARCHAR NOT NULL, sku VARCHAR NOT NULL, date DATE NOT NULL,
    yhat DOUBLE NOT NULL, yhat_lower DOUBLE NOT NULL, yhat_upper DOUBLE NOT NULL,
    model VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS ml.forecast_series (
    warehouse_id VARCHAR NOT NULL, sku VARCHAR NOT NULL, demand_class VARCHAR NOT NULL,
    model VARCHAR NOT NULL, reason VARCHAR NOT NULL, adi DOUBLE, cv2 DOUBLE,
    history_days INTEGER, as_of DATE NOT NULL, route VARCHAR, category VARCHAR,
    adi_week DOUBLE, cv2_week DOUBLE, first_date DATE, last_date DATE,
    PRIMARY KEY (warehouse_id, sku));
CREATE TABLE IF NOT EXISTS ml.forecast_accuracy (
    warehouse_id VARCHAR NOT NULL, sku VARCHAR NOT NULL, model VARCHAR NOT NULL,
    wape DOUBLE, mase DOUBLE, bias DOUBLE, baseline_wape DOUBLE, baseline_mase DOUBLE,
    error_sd_daily DOUBLE, mean_daily_demand DOUBLE, n_origins INTEGER,
    actual_sum DOUBLE, abs_error_sum DOUBLE, error_sum DOUBLE, baseline_abs_error_sum DOUBLE,
    fit_seconds DOUBLE, as_of DATE, PRIMARY KEY (warehouse_id, sku));
"""

OVERALL = """
CREATE OR REPLACE TABLE ml.forecast_accuracy_overall AS
WITH scored AS (SELECT * FROM ml.forecast_accuracy WHERE n_origins > 0),
by_scope AS (
    SELECT coalesce(warehouse_id, 'ALL') AS warehouse_id, coalesce(model, 'ALL') AS model,
           count(*) AS n_series,
           sum(abs_error_sum) / nullif(sum(actual_sum), 0) AS wape,
           avg(mase) AS mase,
           sum(error_sum) / nullif(sum(actual_sum), 0) AS bias,
           sum(baseline_abs_error_sum) / nullif(sum(actual_sum), 0) AS baseline_wape,
           avg(baseline_mase) AS baseline_mase,
           median(mase) AS median_mase,
           median(baseline_mase) AS median_baseline_mase,
           sum(actual_sum) AS actual_sum,
           max(as_of) AS as_of
    FROM scored
    GROUP BY GROUPING SETS ((warehouse_id, model), (warehouse_id), (model), ())
)
SELECT warehouse_id, model, n_series, wape, mase, bias, baseline_wape, baseline_mase,
       median_mase, median_baseline_mase, actual_sum, as_of
FROM by_scope ORDER BY warehouse_id, model
"""


# ml.demand_forecast's grain. Not a PRIMARY KEY: replacing a warehouse's rows (delete +
# insert of the same keys in one transaction) made DuckDB rework the key's index for
# every row, 7 s of a daily run at scale 10 against 0.3 s without it. The rows are checked
# unique before they are written instead, and the feed contract checks them again.
FORECAST_KEY = ("warehouse_id", "sku", "date")


def _check_unique(frame: pl.DataFrame, key: tuple[str, ...], table: str) -> None:
    duplicated = frame.select(key).filter(pl.struct(key).is_duplicated())
    if not duplicated.is_empty():
        first = ", ".join(f"{k}={v}" for k, v in duplicated.row(0, named=True).items())
        raise ValueError(
            f"ml.{table}: {duplicated.height} rows share their key ({', '.join(key)}), "
            f"e.g. {first}; nothing written"
        )


def _drop_forecast_primary_key(con: duckdb.DuckDBPyConnection) -> None:
    """A warehouse whose ml.demand_forecast has the primary key of earlier versions gets
    the table without it, rows kept (DuckDB cannot drop a key in place)."""
    keyed = con.execute(
        """SELECT count(*) FROM duckdb_constraints()
           WHERE schema_name = 'ml' AND table_name = 'demand_forecast'
             AND constraint_type = 'PRIMARY KEY'"""
    ).fetchone()[0]
    if not keyed:
        return
    log.info("forecast: ml.demand_forecast loses its primary key (rows kept)")
    con.execute("ALTER TABLE ml.demand_forecast RENAME TO demand_forecast_keyed")
    con.execute(DDL)
    con.execute("INSERT INTO ml.demand_forecast BY NAME SELECT * FROM ml.demand_forecast_keyed")
    con.execute("DROP TABLE ml.demand_forecast_keyed")


def write_forecasts(db_path: Path, tables: ForecastTables) -> None:
    """Replace the rows of the run's warehouses, all tables in one transaction."""
    _check_unique(tables.demand_forecast, FORECAST_KEY, "demand_forecast")
    with duckdb.connect(str(db_path)) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(DDL)
            con.execute(refit.DDL)
            _drop_forecast_primary_key(con)
            for table, frame in (
                ("demand_forecast", tables.demand_forecast),
                ("forecast_series", tables.forecast_series),
                ("forecast_accuracy", tables.forecast_accuracy),
            ):
                con.execute(
                    f"DELETE FROM ml.{table} WHERE warehouse_id IN (SELECT unnest(?::VARCHAR[]))",
                    [tables.warehouses],
                )
                con.register("frame", frame.to_arrow())
                con.execute(f"INSERT INTO ml.{table} BY NAME SELECT * FROM frame")
                con.unregister("frame")
            if tables.forecast_fits is not None:
                refit.write_fits(con, tables.warehouses, tables.forecast_fits)
            con.execute(OVERALL)
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise


def run_forecast(
    db_path: Path | str,
    warehouses: list[str] | None = None,
    as_of: date | None = None,
    config: ForecastConfig | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    lock_wait_seconds: float | None = None,
) -> ForecastRun:
    """Forecast every series of the given warehouses (default: all) and store the result.

    `lock_wait_seconds` None: the caller holds the warehouse lock (`wmsight run`). A
    number: take the lock (waiting up to that long) only to read the inputs and again
    to write the result, so per-warehouse runs fit in parallel with no lock and no open
    DuckDB connection; the write replaces only their warehouses' rows."""
    config = config or ForecastConfig()
    started = time.perf_counter()
    db_path = Path(db_path)
    if (config.workers or os.cpu_count() or 1) > 1:
        _worker_context()  # start the workers' server now: its imports overlap the reading
    if config.chinese_calendar:
        # the holidays library imports every country's module on first use (seconds
        # without compiled bytecode): let that overlap the reading too
        threading.Thread(
            target=importlib.import_module, args=("holidays.countries",), daemon=True
        ).start()
    with (
        _locked(db_path, "forecast: reading inputs", lock_wait_seconds),
        duckdb.connect(str(db_path), read_only=True) as con,
    ):
        inputs = load_inputs(con, as_of, warehouses, config.include_cancelled)
        stored_fits = refit.load_fits(con, warehouses)
    tables = build_forecasts(inputs, config, on_progress, stored_fits)
    if warehouses:  # a warehouse without any demand still has its old rows cleared
        tables.warehouses = sorted(set(tables.warehouses) | set(warehouses))
    with _locked(db_path, "forecast: writing " + ",".join(tables.warehouses), lock_wait_seconds):
        log.info(
            "forecast: writing %d rows of %d series for %d warehouse(s)",
            tables.demand_forecast.height,
            tables.forecast_series.height,
            len(tables.warehouses),
        )
        write_forecasts(db_path, tables)
    acc = tables.forecast_accuracy.filter(pl.col("n_origins") > 0)
    actual = acc["actual_sum"].sum() or 0.0
    return ForecastRun(
        as_of=inputs.as_of,
        warehouses=tables.warehouses,
        series=tables.forecast_series.height,
        forecast_rows=tables.demand_forecast.height,
        models=dict(tables.forecast_series.group_by("model").len().iter_rows()),
        wape=(acc["abs_error_sum"].sum() / actual) if actual else math.nan,
        baseline_wape=(acc["baseline_abs_error_sum"].sum() / actual) if actual else math.nan,
        seconds=time.perf_counter() - started,
    )


def _locked(db_path: Path, purpose: str, wait_seconds: float | None):
    """The warehouse's write lock for one step, or nothing when the caller holds it."""
    if wait_seconds is None:
        return nullcontext()
    from wmsight.runner import warehouse_lock  # the CLI package; models_ml does not need it

    return warehouse_lock(db_path, purpose, wait_seconds)
