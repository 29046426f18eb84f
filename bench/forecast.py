"""Our forecast stage against a naive loop of default Prophet fits, on the same series.

    uv run python bench/forecast.py [--scale 1] [--seed 42] [--workers 2] [--sample 60] [--rounds 3]
    uv run python bench/forecast.py --db PATH   # an already built warehouse

Generates the demo world, ingests it and builds the warehouse (not timed) unless --db
is given. Then both methods forecast the same series from the same cut-off: the
latest order date minus the horizon (56 days), so the 56 days after it are a true
hold-out that neither sees. Every warehouse × SKU with demand before the cut-off
counts; a series we call discontinued is scored as a forecast of 0.

- ours: `run_forecast` (classification, rolling-origin backtests of every series
  against seasonal naive, final forecasts, the ml tables) with N worker processes;
- naive: `Prophet()` with its defaults (MCMC off, 1,000 uncertainty samples, yearly
  and weekly seasonality), one series after another, fit on the daily history and
  predicting 56 days (clamped at 0, to be fair to it). Fitting all ~2,000 series takes
  more than an hour, so the loop runs on a random sample of --sample series (seeded)
  and its time is extrapolated to all series: seconds per series × series.

Prints both times, throughputs (series per second) and their ratio, and the hold-out
WAPE of both on the sample, plus ours and seasonal naive on every series.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.load import ingest_extracts  # noqa: E402
from models_ml.demand import load_inputs  # noqa: E402
from models_ml.forecast import ForecastConfig, run_forecast  # noqa: E402
from models_ml.forecast_models import quiet_prophet, seasonal_naive  # noqa: E402
from wmsight.demo import generate_world  # noqa: E402

HORIZON = 56


def build(scale: float, seed: int, workdir: Path) -> Path:
    from wmsight.transform import build_warehouse

    extracts = workdir / "extracts"
    generate_world(extracts, scale=scale, seed=seed)
    db_path = workdir / "wmsight.duckdb"
    ingest_extracts(extracts, db_path)
    build_warehouse(db_path)
    return db_path


def dense(rows: pl.DataFrame, start, end) -> np.ndarray:
    y = np.zeros((end - start).days + 1)
    if not rows.is_empty():
        offsets = np.array([(d - start).days for d in rows["date"].to_list()])
        keep = (offsets >= 0) & (offsets < len(y))
        y[offsets[keep]] = rows["qty"].to_numpy()[keep]
    return y


def naive_prophet(history: np.ndarray, start, horizon: int) -> np.ndarray:
    import pandas as pd
    from prophet import Prophet

    ds = pd.date_range(start, periods=len(history), freq="D")
    model = Prophet()
    model.fit(pd.DataFrame({"ds": ds, "y": history}))
    future = model.make_future_dataframe(periods=horizon, include_history=False)
    return np.clip(model.predict(future)["yhat"].to_numpy(), 0, None)


def wape(forecast: np.ndarray, actual: np.ndarray) -> float:
    return float(np.abs(forecast - actual).sum() / actual.sum()) if actual.sum() else math.nan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sample", type=int, default=60, help="series in the naive loop")
    parser.add_argument("--db", type=Path, help="a built warehouse (copied, not changed)")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="alternate our stage and a part of the naive sample this many times (ours is "
        "timed each round; both sides see the same mix of a shared machine's load)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    quiet_prophet()

    with tempfile.TemporaryDirectory(prefix="wmsight-bench-forecast-") as tmp:
        workdir = Path(tmp)
        if args.db:
            db_path = workdir / "wmsight.duckdb"
            shutil.copy(args.db, db_path)
        else:
            print(f"generating, ingesting and building scale {args.scale:g} (not timed) …")
            db_path = build(args.scale, args.seed, workdir)

        with duckdb.connect(str(db_path), read_only=True) as con:
            full = load_inputs(con)
        cutoff = full.as_of - timedelta(days=HORIZON)
        print(
            f"hold-out: forecasts from {cutoff}, scored on {cutoff + timedelta(1)} … {full.as_of}"
        )

        def run_ours() -> tuple[float, float, object]:
            load = os.getloadavg()[0]  # other work on the machine slows both sides
            # every round fits every series: a run reuses the stored fits of earlier runs
            # (models_ml/refit.py), which is a daily run's cost, not the fitting throughput
            with duckdb.connect(str(db_path)) as con:
                con.execute("DROP TABLE IF EXISTS ml.forecast_fits")
            started = time.perf_counter()
            run = run_forecast(db_path, as_of=cutoff, config=ForecastConfig(workers=args.workers))
            return time.perf_counter() - started, load, run

        # the two sides alternate, `rounds` times: on a shared machine the load moves
        # within minutes, and both should see the same mix of it
        rounds = max(1, args.rounds)
        ours_rounds, naive_rounds = [], []
        ours_seconds, load_before, run = run_ours()
        ours_rounds.append((ours_seconds, load_before))
        with duckdb.connect(str(db_path), read_only=True) as con:
            ours = pl.from_arrow(
                con.sql(
                    "SELECT warehouse_id, sku, date, yhat FROM ml.demand_forecast"
                ).to_arrow_table()
            )
            series = pl.from_arrow(
                con.sql(
                    "SELECT warehouse_id, sku, model, first_date FROM ml.forecast_series "
                    "ORDER BY warehouse_id, sku"
                ).to_arrow_table()
            )
        n_series = series.height
        print(f"ours: {run.summary()} ({ours_seconds:.1f} s, load {load_before:.1f})")

        by_series = full.demand.partition_by("warehouse_id", "sku", as_dict=True)
        ours_by_series = ours.partition_by("warehouse_id", "sku", as_dict=True)
        empty = full.demand.clear()
        first_day = cutoff + timedelta(days=1)
        actual_all, ours_all, snaive_all = [], [], []
        for w, sku, _model, first in series.iter_rows():
            rows = by_series.get((w, sku), empty)
            history = dense(rows, first, cutoff)
            actual = dense(rows, first_day, full.as_of)
            forecast = dense(
                ours_by_series.get((w, sku), empty).rename({"yhat": "qty"})
                if (w, sku) in ours_by_series
                else empty,
                first_day,
                full.as_of,
            )
            actual_all.append(actual)
            ours_all.append(forecast)
            snaive_all.append(seasonal_naive(history, HORIZON))
        actual_cat = np.concatenate(actual_all)

        rng = np.random.default_rng(args.seed)
        sample = sorted(rng.choice(n_series, size=min(args.sample, n_series), replace=False))
        print(f"naive loop: default Prophet on {len(sample)} of {n_series} series …")
        naive_seconds = 0.0
        naive_f, ours_f, actual_f = [], [], []
        parts = np.array_split(np.array(sample), rounds)
        for r, part in enumerate(parts):
            if r > 0:
                seconds, load, _ = run_ours()
                ours_rounds.append((seconds, load))
                print(f"ours again: {seconds:.1f} s (load {load:.1f})")
            load = os.getloadavg()[0]
            part_seconds = 0.0
            for i in part:
                w, sku, _model, first = series.row(int(i))
                history = dense(by_series.get((w, sku), empty), first, cutoff)
                t0 = time.perf_counter()
                naive_f.append(naive_prophet(history, first, HORIZON))
                part_seconds += time.perf_counter() - t0
                ours_f.append(ours_all[i])
                actual_f.append(actual_all[i])
            naive_rounds.append((part_seconds / max(len(part), 1), load))
            naive_seconds += part_seconds
            print(f"naive: {part_seconds / max(len(part), 1):.3f} s/series (load {load:.1f})")
        naive_per_series = naive_seconds / len(sample)
        naive_total = naive_per_series * n_series
        ours_seconds = float(np.mean([s for s, _ in ours_rounds]))
        load_before = float(np.mean([x for _, x in ours_rounds]))

    sample_actual = np.concatenate(actual_f)
    print()
    print(f"series: {n_series:,}, horizon {HORIZON} days, hold-out {first_day} … {full.as_of}")
    print(
        f"ours  : {ours_seconds:7.1f} s wall on {args.workers} worker(s), {os.cpu_count()} CPU(s), "
        f"load average {load_before:.1f} before "
        f"for all series = {n_series / ours_seconds:.1f} series/s"
        + (
            f" (mean of {len(ours_rounds)} rounds: "
            + ", ".join(f"{s:.1f}" for s, _ in ours_rounds)
            + " s)"
            if len(ours_rounds) > 1
            else ""
        )
    )
    print(
        f"naive : {naive_seconds:7.1f} s for {len(sample)} series = "
        f"{naive_per_series:.2f} s/series → {naive_total:,.0f} s extrapolated to all series "
        f"= {1 / naive_per_series:.2f} series/s"
    )
    print(f"throughput ratio (ours / naive): {naive_total / ours_seconds:.1f}×")
    if len(ours_rounds) > 1:
        print(
            "per round (ours round r against the naive part that followed it): "
            + ", ".join(
                f"{per * n_series / sec:.1f}× (loads {lo:.1f}/{ln:.1f})"
                for (sec, lo), (per, ln) in zip(ours_rounds, naive_rounds, strict=True)
            )
        )
    print(
        f"hold-out WAPE on the {len(sample)} sampled series: ours "
        f"{wape(np.concatenate(ours_f), sample_actual):.3f}, naive Prophet "
        f"{wape(np.concatenate(naive_f), sample_actual):.3f}"
    )
    print(
        f"hold-out WAPE on all {n_series:,} series: ours "
        f"{wape(np.concatenate(ours_all), actual_cat):.3f}, seasonal naive "
        f"{wape(np.concatenate(snaive_all), actual_cat):.3f}"
    )


if __name__ == "__main__":
    main()
