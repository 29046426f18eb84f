"""Refit cadence: which series a forecast run fits again, and the stored fits it reuses.

A daily run need not fit every series again: one more day of demand barely moves a
model fitted a few days ago, and fitting (backtest + final fit) is the forecast stage's
cost. Every series is fitted again

- on its own day of the week (`refit_slot`: a stable hash of warehouse and SKU, so a
  seventh of the series refit each day and the daily cost stays flat), or
- when its last fit is `every_days` or more old, or the run is as of an earlier date, or
- when anything its fit saw changed since: the demand history up to the fit date (a late
  or corrected order), the promotions over the fitted horizon, the route (its class),
  the first day of its history, or the forecast settings, or
- when it has no stored fit.

- when a promotion, or for a Prophet series a calendar event, falls in the days at the
  end of the horizon that its fit did not forecast.

Otherwise the run reuses the fit: what the fit forecast for the days from this as-of date
on, its backtest metrics and its model, with the reuse said in the reason. The days at
the end of the horizon past the fit's own (as many as days since the fit, at most six)
repeat the fitted week before them, which is exactly the method's forecast for Croston,
TSB and seasonal naive (weekly-shaped) and continues Prophet's weekly shape without its
trend for those few days. A fit run is the unchanged forecast, so on its refit day a
series publishes what fitting every day would. `every_days=1` fits every series once per
as-of date (a re-run of a date whose inputs did not change reuses that date's fits, which
fitting again would reproduce). Same stored fits and inputs, same result: nothing here
reads the clock.

Stored in `ml.forecast_fits`, one row per warehouse × SKU the workers fitted.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa

from models_ml.forecast_models import SeriesResult, SeriesTask

DDL = """
CREATE SCHEMA IF NOT EXISTS ml;
CREATE TABLE IF NOT EXISTS ml.forecast_fits (
    warehouse_id VARCHAR NOT NULL, sku VARCHAR NOT NULL, fitted_as_of DATE NOT NULL,
    route VARCHAR NOT NULL, model VARCHAR NOT NULL, note VARCHAR NOT NULL,
    history_days INTEGER NOT NULL, fingerprint VARCHAR NOT NULL,
    yhat DOUBLE[] NOT NULL, yhat_lower DOUBLE[] NOT NULL, yhat_upper DOUBLE[] NOT NULL,
    metrics VARCHAR NOT NULL, fit_seconds DOUBLE, PRIMARY KEY (warehouse_id, sku));
"""

SCHEMA = {
    "warehouse_id": pl.String,
    "sku": pl.String,
    "fitted_as_of": pl.Date,
    "route": pl.String,
    "model": pl.String,
    "note": pl.String,
    "history_days": pl.Int32,
    "fingerprint": pl.String,
    "yhat": pl.List(pl.Float64),
    "yhat_lower": pl.List(pl.Float64),
    "yhat_upper": pl.List(pl.Float64),
    "metrics": pl.String,
    "fit_seconds": pl.Float64,
}
# a wall-clock figure, kept apart from the metrics: the same inputs store the same metrics
WALL_CLOCK_METRIC = "fit_seconds"


@dataclass(frozen=True)
class StoredFit:
    warehouse_id: str
    sku: str
    fitted_as_of: date
    route: str
    model: str
    note: str
    history_days: int  # len(y) at the fit: its start .. fitted_as_of
    fingerprint: str
    yhat: np.ndarray  # fitted_as_of + 1 .. fitted_as_of + horizon
    yhat_lower: np.ndarray
    yhat_upper: np.ndarray
    metrics: dict[str, float]


@dataclass
class RefitPlan:
    to_fit: list[SeriesTask]
    reused: list[SeriesResult]
    kept: list[StoredFit]  # the stored fits behind `reused`, stored again unchanged
    why: dict[str, int] = field(default_factory=dict)  # reason → series fitted for it

    def summary(self) -> str:
        reasons = ", ".join(f"{why} {n}" for why, n in sorted(self.why.items()))
        return f"{len(self.to_fit)} fitted ({reasons or 'none'}), {len(self.reused)} reused"


def refit_slot(warehouse_id: str, sku: str, every_days: int) -> int:
    """The series' day in the cycle (0 .. every_days - 1): stable across runs and hosts."""
    digest = hashlib.sha256(f"{warehouse_id}\x1f{sku}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % every_days


def fingerprint(task: SeriesTask, history_days: int, path_days: int, settings: str) -> str:
    """What a fit saw: settings, route, first day, demand up to the fit, promotions over
    its history and horizon. Equal fingerprints: refitting then gave this forecast."""
    digest = hashlib.sha256()
    for part in (settings, task.route, task.start.isoformat()):
        digest.update(part.encode())
        digest.update(b"\x1f")
    digest.update(np.ascontiguousarray(task.y[:history_days], dtype=np.float64).tobytes())
    digest.update(b"\x1f")
    promo = np.zeros(history_days + path_days)  # days past the task's array: no promotion
    known = task.promo[: len(promo)]
    promo[: len(known)] = known
    digest.update(promo.tobytes())
    return digest.hexdigest()


def plan_refits(
    tasks: list[SeriesTask],
    stored: dict[tuple[str, str], StoredFit],
    as_of: date,
    horizon: int,
    every_days: int,
    settings: str,
    event_days: set[date] = frozenset(),
) -> RefitPlan:
    """Split the run's series into those to fit and those whose stored fit still holds.
    `event_days`: the calendar's holiday and festival days (Prophet's regressors)."""
    plan = RefitPlan(to_fit=[], reused=[], kept=[])
    today = as_of.toordinal() % every_days
    for task in tasks:
        fit = stored.get((task.warehouse_id, task.sku))
        why = _refit_reason(task, fit, as_of, horizon, every_days, today, settings, event_days)
        if why:
            plan.to_fit.append(task)
            plan.why[why] = plan.why.get(why, 0) + 1
            continue
        assert fit is not None
        plan.kept.append(fit)
        plan.reused.append(_reuse(fit, as_of, horizon, every_days))
    return plan


def _refit_reason(
    task: SeriesTask,
    fit: StoredFit | None,
    as_of: date,
    horizon: int,
    every_days: int,
    today: int,
    settings: str,
    event_days: set[date],
) -> str | None:
    if fit is None:
        return "no stored fit"
    age = (as_of - fit.fitted_as_of).days
    if age < 0:
        return "as of before its last fit"
    if age >= every_days:
        return f"last fit {every_days}+ d old"
    if age > 0 and refit_slot(task.warehouse_id, task.sku, every_days) == today:
        return "its refit day"
    if fit.route != task.route:
        return "route changed"
    if len(task.y) - age != fit.history_days or len(fit.yhat) != horizon:
        return "history start moved"
    if fingerprint(task, fit.history_days, len(fit.yhat), settings) != fit.fingerprint:
        return "history or promotions changed"
    # the days past the fit's horizon: repeated from the week before, unless they hold
    # what the repeated week cannot know
    n = len(task.y)
    if np.any(task.promo[n + horizon - age : n + horizon] > 0):
        return "a promotion past the fitted horizon"
    if task.route.startswith("prophet"):
        tail = {as_of + timedelta(days=horizon - i) for i in range(age)}
        if tail & event_days:
            return "a calendar event past the fitted horizon"
    return None


def _reuse(fit: StoredFit, as_of: date, horizon: int, every_days: int) -> SeriesResult:
    age = (as_of - fit.fitted_as_of).days
    note = fit.note
    if age:
        note += (
            f"; fitted as of {fit.fitted_as_of}, reused {age} d later (refit every "
            f"{every_days} d; its history and promotions unchanged since; the last {age} d "
            "repeat the fitted week before)"
        )
    return SeriesResult(
        warehouse_id=fit.warehouse_id,
        sku=fit.sku,
        model=fit.model,
        note=note,
        yhat=shifted(fit.yhat, age),
        yhat_lower=shifted(fit.yhat_lower, age),
        yhat_upper=shifted(fit.yhat_upper, age),
        metrics=dict(fit.metrics),
    )


def shifted(path: np.ndarray, age: int) -> np.ndarray:
    """A fitted path moved `age` days on (age < 7): its last `age` days are the same
    weekdays of the week before."""
    out = np.concatenate([path[age:], path[len(path) - 7 : len(path) - 7 + age]])
    return out


def new_fits(
    tasks: list[SeriesTask],
    results: list[SeriesResult],
    as_of: date,
    settings: str,
) -> list[StoredFit]:
    """The fits this run made, to store (results carry the whole fitted path)."""
    by_key = {(t.warehouse_id, t.sku): t for t in tasks}
    fits = []
    for r in results:
        task = by_key[(r.warehouse_id, r.sku)]
        fits.append(
            StoredFit(
                warehouse_id=r.warehouse_id,
                sku=r.sku,
                fitted_as_of=as_of,
                route=task.route,
                model=r.model,
                note=r.note,
                history_days=len(task.y),
                fingerprint=fingerprint(task, len(task.y), len(r.yhat), settings),
                yhat=r.yhat,
                yhat_lower=r.yhat_lower,
                yhat_upper=r.yhat_upper,
                metrics=dict(r.metrics),
            )
        )
    return fits


def run_with_reuse(
    run_tasks: Callable[[list[SeriesTask]], list[SeriesResult]],
    tasks: list[SeriesTask],
    stored: dict[tuple[str, str], StoredFit],
    as_of: date,
    horizon: int,
    every_days: int,
    settings: str,
    event_days: set[date] = frozenset(),
) -> tuple[list[SeriesResult], list[StoredFit], RefitPlan]:
    """Fit what `plan_refits` says through `run_tasks`, reuse the rest; returns the results
    and the fits to store (new ones, and the reused ones as they were)."""
    if not 1 <= every_days <= 7:  # a reused path is moved on by less than a week
        raise ValueError(f"refit_every_days={every_days}: expected 1 to 7")
    plan = plan_refits(tasks, stored, as_of, horizon, every_days, settings, event_days)
    fitted = run_tasks(plan.to_fit) if plan.to_fit else []  # nothing to fit: no Prophet import
    fits = new_fits(plan.to_fit, fitted, as_of, settings) + plan.kept
    return fitted + plan.reused, fits, plan


# ---------------------------------------------------------------- storage


def load_fits(
    con: duckdb.DuckDBPyConnection, warehouses: Iterable[str] | None
) -> dict[tuple[str, str], StoredFit]:
    """The stored fits of these warehouses (all if None); none before the first run."""
    [(exists,)] = con.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'ml' AND table_name = 'forecast_fits'"
    ).fetchall()
    if not exists:
        return {}
    sql = "SELECT * FROM ml.forecast_fits"
    params: list = []
    if warehouses is not None:
        sql += " WHERE warehouse_id IN (SELECT unnest(?::VARCHAR[]))"
        params.append(sorted(warehouses))
    return fits_from_frame(pl.from_arrow(con.sql(sql, params=params or None).to_arrow_table()))


def fits_from_frame(frame: pl.DataFrame) -> dict[tuple[str, str], StoredFit]:
    """Stored fits by (warehouse, SKU) from rows shaped like `ml.forecast_fits`."""
    fits = {}
    for r in frame.iter_rows(named=True):
        metrics = json.loads(r["metrics"])
        if r["fit_seconds"] is not None:
            metrics[WALL_CLOCK_METRIC] = r["fit_seconds"]
        fits[(r["warehouse_id"], r["sku"])] = StoredFit(
            warehouse_id=r["warehouse_id"],
            sku=r["sku"],
            fitted_as_of=r["fitted_as_of"],
            route=r["route"],
            model=r["model"],
            note=r["note"],
            history_days=r["history_days"],
            fingerprint=r["fingerprint"],
            yhat=np.asarray(r["yhat"], dtype=np.float64),
            yhat_lower=np.asarray(r["yhat_lower"], dtype=np.float64),
            yhat_upper=np.asarray(r["yhat_upper"], dtype=np.float64),
            metrics={k: (math.nan if v is None else v) for k, v in metrics.items()},
        )
    return fits


def _forecast_lists(arrays: list[np.ndarray]) -> pl.Series:
    """One list column from the fits' arrays, built from one flat array (a Python list
    per fit cost seconds at 20,000 fits)."""
    lengths = np.fromiter((len(a) for a in arrays), dtype=np.int64, count=len(arrays))
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    values = np.concatenate(arrays) if arrays else np.zeros(0)
    lists = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), pa.array(values))
    return pl.Series(lists).cast(pl.List(pl.Float64))


def fits_frame(fits: list[StoredFit]) -> pl.DataFrame:
    ordered = sorted(fits, key=lambda f: (f.warehouse_id, f.sku))
    columns = {
        name: [getattr(f, name) for f in ordered]
        for name in (
            "warehouse_id",
            "sku",
            "fitted_as_of",
            "route",
            "model",
            "note",
            "history_days",
            "fingerprint",
        )
    }
    for name in ("yhat", "yhat_lower", "yhat_upper"):
        columns[name] = _forecast_lists([getattr(f, name) for f in ordered])
    # NaN is not JSON: stored as null, read back as NaN
    columns["metrics"] = [
        json.dumps(
            {
                k: (None if isinstance(v, float) and math.isnan(v) else v)
                for k, v in sorted(f.metrics.items())
                if k != WALL_CLOCK_METRIC
            }
        )
        for f in ordered
    ]
    columns["fit_seconds"] = [f.metrics.get(WALL_CLOCK_METRIC) for f in ordered]
    return pl.DataFrame(columns, schema=SCHEMA)


def write_fits(con: duckdb.DuckDBPyConnection, warehouses: list[str], fits: pl.DataFrame) -> None:
    """Replace the stored fits of these warehouses (inside the caller's transaction)."""
    con.execute(
        "DELETE FROM ml.forecast_fits WHERE warehouse_id IN (SELECT unnest(?::VARCHAR[]))",
        [warehouses],
    )
    con.register("fits_frame", fits.to_arrow())
    con.execute("INSERT INTO ml.forecast_fits BY NAME SELECT * FROM fits_frame")
    con.unregister("fits_frame")
