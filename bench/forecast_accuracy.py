"""Our forecasting method against seasonal naive on real retail data nobody here wrote.

    uv run python bench/forecast_accuracy.py [--external ../shared/external] [--sample 150]

Reads `../shared/external/` (see its README; never copied into this repository) and,
for each data set present, holds out the last horizon of every series, forecasts it
from the history before, and prints WAPE and MASE of our method and of seasonal
naive. A data set that is missing is skipped with a message.

- m5_foods_3_819_10stores: one item's daily units in 10 stores (42 % zero days).
  The forecast stage's own `build_forecasts` runs on it as is (store = warehouse,
  item = SKU; no Chinese calendar), horizon 28 days (M5's), seasonal naive = last week.
- walmart_store_sales: weekly sales per store × department; dominicks_orangejuice:
  weekly units per store × brand (units = round(exp(logmove)); gaps are weeks without
  a row, filled with 0 only inside a series' span). These are weekly data, so the same
  method runs one level up: ADI/CV² routing (Prophet with yearly seasonality for
  smooth/erratic series with ≥ 2 years … ≥ 1 year of weeks, Croston SBA / TSB for
  intermittent ones, each also backtesting the other), a rolling-origin backtest (3
  origins, 4 weeks apart) against seasonal naive, the better one kept; horizon 8 weeks;
  seasonal naive = the same week a year earlier (52 weeks; the last value when the
  history is shorter). Walmart's IsHoliday weeks are Prophet holidays. A random sample
  of --sample series per data set (seeded) keeps the run to minutes; --sample 0 runs
  every series.
- product_demand_warehouses_head: a manufacturer's order demand per product × central
  warehouse × day (several orders a day summed; a demand written `(100)` is a return
  and is left out). Mostly sparse: the median series has 7 days with demand. Like M5,
  the forecast stage's own `build_forecasts` runs on it as is (Product_Category =
  category, for the new-SKU fallback; no Chinese calendar), holding out the last 8
  weeks of 2012 (the 41 rows of 2013 are left out: a head of the file, not the year).
  Scored by day and again by weekly sums of the same forecasts (seasonal naive = last
  week): by day, WAPE and MASE reward forecasting 0 on a series that sells on a few
  days a month, while an order covering weeks of lead time needs the weekly level right.

WAPE = Σ|error| / Σ actual over all held-out points of the data set. MASE = per series,
mean |error| / mean |y_t − y_{t−s}| in its history (s = 7 days or 52 weeks, 1 if the
history is shorter), then the mean over series with a non-zero scale.
"""

from __future__ import annotations

import argparse
import gzip
import logging
import math
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models_ml import forecast_models as fm  # noqa: E402
from models_ml.demand import PROMOTIONS_SCHEMA, ForecastInputs  # noqa: E402
from models_ml.forecast import ForecastConfig, build_forecasts, demand_class  # noqa: E402

DEFAULT_EXTERNAL = Path(__file__).resolve().parents[2] / "shared" / "external"
WEEKS = 8
CONFIG = ForecastConfig()


@dataclass
class Score:
    name: str
    series: int
    wape: float
    mase: float
    baseline_wape: float
    baseline_mase: float
    models: dict[str, int]


def _mase(err: np.ndarray, history: np.ndarray, season: int) -> float:
    s = season if len(history) > season else 1
    diffs = np.abs(history[s:] - history[:-s])
    scale = diffs.mean() if len(diffs) else 0.0
    return float(np.abs(err).mean() / scale) if scale > 0 else math.nan


def score(name, results: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]], season):
    """results: (history, actual, ours, baseline, model) per series."""
    actual = np.concatenate([r[1] for r in results])
    ours = np.concatenate([r[2] for r in results])
    base = np.concatenate([r[3] for r in results])
    mases = [_mase(r[2] - r[1], r[0], season) for r in results]
    base_mases = [_mase(r[3] - r[1], r[0], season) for r in results]
    models: dict[str, int] = {}
    for r in results:
        models[r[4]] = models.get(r[4], 0) + 1
    return Score(
        name,
        len(results),
        float(np.abs(ours - actual).sum() / actual.sum()),
        float(np.nanmean(mases)),
        float(np.abs(base - actual).sum() / actual.sum()),
        float(np.nanmean(base_mases)),
        models,
    )


# ---------------------------------------------------------------- M5 (daily)


def m5(folder: Path) -> Score:
    raw = pl.read_csv(folder / "m04_sales_data_prepared.csv", try_parse_dates=True)
    demand = raw.select(
        pl.col("store_id").alias("warehouse_id"),
        pl.lit("FOODS_3_819").alias("sku"),
        pl.col("ds").cast(pl.Date).alias("date"),
        pl.col("y").cast(pl.Float64).alias("qty"),
    ).sort("warehouse_id", "sku", "date")
    last = demand["date"].max()
    horizon = 28
    cutoff = last - timedelta(days=horizon)
    inputs = ForecastInputs(
        as_of=cutoff,
        first_date=demand["date"].min(),
        demand=demand.filter((pl.col("date") <= cutoff) & (pl.col("qty") > 0)),
        products=pl.DataFrame(
            {"sku": ["FOODS_3_819"], "category": ["FOODS_3"], "product_status": ["active"]}
        ),
        promotions=pl.DataFrame(schema=PROMOTIONS_SCHEMA),
    )
    config = ForecastConfig(horizon_days=horizon, chinese_calendar=False, workers=2)
    tables = build_forecasts(inputs, config)
    models = dict(tables.forecast_series.select("warehouse_id", "model").iter_rows())
    results = []
    for (store,), rows in demand.partition_by("warehouse_id", as_dict=True).items():
        y = rows.sort("date")["qty"].to_numpy()
        history, actual = y[:-horizon], y[-horizon:]
        ours = (
            tables.demand_forecast.filter(pl.col("warehouse_id") == store)
            .sort("date")["yhat"]
            .to_numpy()
        )
        results.append((history, actual, ours, fm.seasonal_naive(history, horizon), models[store]))
    return score("m5_foods_3_819_10stores (daily, 28 d)", results, 7)


def product_demand(folder: Path) -> list[Score]:
    raw = pl.read_csv(
        folder / "Historical_Product_Demand_head21999.csv", infer_schema=False
    ).filter(pl.col("Date") != "NA")
    quantity = pl.col("Order_Demand").str.strip_chars()
    returns = quantity.str.starts_with("(")
    # the file's author re-saved it as dd/mm/yyyy; the Kaggle original writes yyyy/m/d
    day = pl.coalesce(
        pl.col("Date").str.strptime(pl.Date, "%d/%m/%Y", strict=False),
        pl.col("Date").str.strptime(pl.Date, "%Y/%m/%d", strict=False),
    )
    last = date(2012, 12, 31)
    demand = (
        raw.filter(~returns)
        .select(
            pl.col("Warehouse").alias("warehouse_id"),
            pl.col("Product_Code").alias("sku"),
            day.alias("date"),
            quantity.cast(pl.Float64).alias("qty"),
        )
        .filter(pl.col("date") <= last)
        .group_by("warehouse_id", "sku", "date")
        .agg(pl.col("qty").sum())
        .filter(pl.col("qty") > 0)
        .sort("warehouse_id", "sku", "date")
    )
    horizon = 56
    cutoff = last - timedelta(days=horizon)
    products = raw.group_by(pl.col("Product_Code").alias("sku")).agg(
        pl.col("Product_Category").first().alias("category"),
        pl.lit("active").alias("product_status"),
    )
    inputs = ForecastInputs(
        as_of=cutoff,
        first_date=demand["date"].min(),
        demand=demand.filter(pl.col("date") <= cutoff),
        products=products,
        promotions=pl.DataFrame(schema=PROMOTIONS_SCHEMA),
    )
    config = ForecastConfig(horizon_days=horizon, chinese_calendar=False, workers=2)
    tables = build_forecasts(inputs, config)
    key = ["warehouse_id", "sku"]
    models = {(w, s): m for w, s, m in tables.forecast_series.select(*key, "model").iter_rows()}
    days = pl.DataFrame({"date": pl.date_range(demand["date"].min(), last, eager=True)})
    results = []
    # every series with demand in the held-out weeks or before: a series the stage gives
    # no forecast (discontinued, no demand) is scored as forecasting 0
    for (warehouse, sku), rows in demand.partition_by(key, as_dict=True).items():
        start = rows["date"].min()
        y = (
            days.filter(pl.col("date") >= start)
            .join(rows.select("date", "qty"), on="date", how="left")["qty"]
            .fill_null(0.0)
            .to_numpy()
        )
        if len(y) <= horizon:
            continue  # first demand inside the held-out weeks: nothing to forecast from
        history, actual = y[:-horizon], y[-horizon:]
        ours = (
            tables.demand_forecast.filter(
                (pl.col("warehouse_id") == warehouse) & (pl.col("sku") == sku)
            )
            .sort("date")["yhat"]
            .to_numpy()
        )
        if len(ours) != horizon:
            ours = np.zeros(horizon)
        model = models.get((warehouse, sku), "none")
        results.append((history, actual, ours, fm.seasonal_naive(history, horizon), model))
    # the same forecasts as weekly totals: what an order over a lead time of weeks sees
    weekly = [tuple(_weeks(a) for a in r[:4]) + (r[4],) for r in results]
    return [
        score("product_demand_warehouses_head (daily, 56 d)", results, 7),
        score("product_demand_warehouses_head (weekly sums, 8 w)", weekly, 1),
    ]


def _weeks(y: np.ndarray) -> np.ndarray:
    """Sums of 7 days, counted back from the last day (a partial first week is dropped)."""
    return y[len(y) % 7 :].reshape(-1, 7).sum(axis=1)


# ---------------------------------------------------------------- weekly data sets


def weekly_naive(y: np.ndarray, h: int) -> np.ndarray:
    if len(y) >= 52:
        return np.array([y[len(y) - 52 + (i % 52)] for i in range(h)], dtype=float)
    return np.full(h, y[-1] if len(y) else 0.0)


def weekly_prophet(y: np.ndarray, start: date, h: int, holidays) -> np.ndarray:
    import pandas as pd

    ds = pd.date_range(start, periods=len(y) + h, freq="7D")
    model = fm._prophet(True, 7 * len(y), len(y), False, holidays)
    model.fit(pd.DataFrame({"ds": ds[: len(y)], "y": y}), **fm.FIT_ARGS)
    return model.predict(pd.DataFrame({"ds": ds[len(y) :]}))["yhat"].to_numpy()


def weekly_route(y: np.ndarray) -> str:
    nz = y[y > 0]
    if len(nz) < 2:
        return "croston_sba"
    adi = len(y) / len(nz)
    cv2 = float(nz.var() / nz.mean() ** 2)
    cls = demand_class(adi, cv2, CONFIG)
    if cls in ("smooth", "erratic") and len(y) >= 52:
        return "prophet"
    return "croston_sba" if cls in ("intermittent", "smooth", "erratic") else "tsb"


def weekly_predict(method: str, y: np.ndarray, start: date, h: int, holidays) -> np.ndarray:
    if method == "seasonal_naive":
        out = weekly_naive(y, h)
    elif method == "prophet":
        out = weekly_prophet(y, start, h, holidays)
    else:
        out = np.full(h, fm._intermittent_rate(y, method))
    return np.clip(np.nan_to_num(out), 0, None)


def weekly_series(task: tuple) -> tuple:
    """Backtest the routed method against seasonal naive on the history, keep the better,
    forecast the held-out weeks."""
    y, start, holidays = task
    history, actual = y[:-WEEKS], y[-WEEKS:]
    route = weekly_route(history)
    chosen = route
    errors = {route: [], "seasonal_naive": []}
    if route in fm.INTERMITTENT:  # as the stage does: the other intermittent method too
        errors[fm.INTERMITTENT[route]] = []
    origins = [len(history) - WEEKS - 4 * k for k in range(3)]
    origins = [o for o in origins if o >= 26]
    for o in origins:
        for method in errors:
            f = weekly_predict(method, history[:o], start, WEEKS, holidays)
            errors[method].append(f - history[o : o + WEEKS])
    if origins:
        total = sum(history[o : o + WEEKS].sum() for o in origins)
        if total > 0:
            s = {
                m: (np.abs(np.concatenate(e)).sum() + abs(np.concatenate(e).sum())) / total
                for m, e in errors.items()
            }
            chosen = min(s, key=lambda m: (s[m], m != route))
    ours = weekly_predict(chosen, history, start, WEEKS, holidays)
    return history, actual, ours, weekly_naive(history, WEEKS), chosen


def _init() -> None:
    fm.quiet_prophet()


def run_weekly(name: str, frame: pl.DataFrame, holidays, sample: int, seed: int, workers: int):
    """frame: key, week (Date), qty."""
    keys = sorted(frame["key"].unique().to_list())
    if sample and sample < len(keys):
        rng = np.random.default_rng(seed)
        keys = sorted(rng.choice(keys, size=sample, replace=False).tolist())
    by_key = frame.filter(pl.col("key").is_in(keys)).partition_by("key", as_dict=True)
    tasks = []
    for key in keys:
        rows = by_key[(key,)].sort("week")
        first, last = rows["week"].min(), rows["week"].max()
        n = (last - first).days // 7 + 1
        y = np.zeros(n)
        y[[(d - first).days // 7 for d in rows["week"].to_list()]] = rows["qty"].to_numpy()
        if n >= 26 + 2 * WEEKS and y[-WEEKS:].sum() > 0:
            tasks.append((np.clip(y, 0, None), first, holidays))
    # forkserver: a fork of this process (Polars threads) can hang in the child
    context = get_context("forkserver")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init) as pool:
        results = list(pool.map(weekly_series, tasks, chunksize=4))
    return score(f"{name} (weekly, {WEEKS} wk, {len(results)} series)", results, 52)


def walmart(folder: Path, sample: int, seed: int, workers: int) -> Score:
    import pandas as pd

    with gzip.open(folder / "train.csv.gz", "rb") as f:
        raw = pl.read_csv(f.read(), try_parse_dates=True)
    frame = raw.select(
        (pl.col("Store").cast(pl.String) + "-" + pl.col("Dept").cast(pl.String)).alias("key"),
        pl.col("Date").cast(pl.Date).alias("week"),
        pl.col("Weekly_Sales").clip(0, None).alias("qty"),
    )
    holiday_weeks = raw.filter(pl.col("IsHoliday"))["Date"].unique().sort().to_list()
    # the flagged weeks recur every year: Super Bowl, Labor Day, Thanksgiving, Christmas
    holidays = pd.DataFrame(
        {"holiday": "walmart_holiday_week", "ds": pd.to_datetime(holiday_weeks)}
    )
    return run_weekly("walmart_store_sales", frame, holidays, sample, seed, workers)


def dominicks(folder: Path, sample: int, seed: int, workers: int) -> Score:
    with gzip.open(folder / "oj_yx.csv.gz", "rb") as f:
        raw = pl.read_csv(f.read())
    base = date(1989, 9, 14)  # week 1 as documented (unverified; only week order matters)
    frame = raw.select(
        (pl.col("store").cast(pl.String) + "-" + pl.col("brand").cast(pl.String)).alias("key"),
        pl.col("week").map_elements(lambda w: base + timedelta(weeks=w - 1), pl.Date).alias("week"),
        pl.col("logmove").exp().round(0).alias("qty"),
    )
    return run_weekly("dominicks_orangejuice", frame, None, sample, seed, workers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--external", type=Path, default=DEFAULT_EXTERNAL)
    parser.add_argument("--sample", type=int, default=150, help="series per weekly data set")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    fm.quiet_prophet()
    if not args.external.is_dir():
        print(f"skipped: {args.external} is not there (real data is optional; see its README)")
        return
    runs = (
        ("m5_foods_3_819_10stores", lambda p: m5(p)),
        ("walmart_store_sales", lambda p: walmart(p, args.sample, args.seed, args.workers)),
        ("dominicks_orangejuice", lambda p: dominicks(p, args.sample, args.seed, args.workers)),
        ("product_demand_warehouses_head", lambda p: product_demand(p)),
    )
    scores = []
    for folder, run in runs:
        path = args.external / folder
        if not path.is_dir():
            print(f"skipped {folder}: not in {args.external}")
            continue
        print(f"{folder} …", flush=True)
        result = run(path)
        scores.extend(result if isinstance(result, list) else [result])
    print()
    print(f"{'data set':<52} {'WAPE':>7} {'naive':>7} {'MASE':>7} {'naive':>7}  models")
    for s in scores:
        models = ", ".join(f"{k} {v}" for k, v in sorted(s.models.items()))
        print(
            f"{s.name:<52} {s.wape:7.3f} {s.baseline_wape:7.3f} {s.mase:7.3f} "
            f"{s.baseline_mase:7.3f}  {models}"
        )


if __name__ == "__main__":
    main()
