"""Refit cadence (models_ml/refit.py): a daily forecast run fits a series again on its day
of the week or when what its fit saw changed, and otherwise reuses the stored fit.

Known series (real Prophet, Croston and TSB fits) forecast day after day as of
successive dates, each run given the fits the run before stored."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest

from models_ml import forecast_models as fm
from models_ml import refit
from models_ml.demand import ForecastInputs
from models_ml.forecast import ForecastConfig, ForecastTables, build_forecasts, write_forecasts

FIRST_AS_OF = date(2025, 6, 30)
DAYS = 8  # FIRST_AS_OF and the seven days after it
WEEKLY = np.array([30.0, 28.0, 26.0, 26.0, 24.0, 8.0, 4.0])  # Monday first
CONFIG = ForecastConfig(workers=1, horizon_days=28, n_origins=2, origin_step_days=28)


def _series(warehouse: str, sku: str, first: date, qty: list[float]) -> pl.DataFrame:
    days = [first + timedelta(days=i) for i in range(len(qty))]
    return pl.DataFrame(
        {"warehouse_id": warehouse, "sku": sku, "date": days, "qty": qty},
        schema={"warehouse_id": pl.String, "sku": pl.String, "date": pl.Date, "qty": pl.Float64},
    ).filter(pl.col("qty") > 0)


@pytest.fixture(scope="module")
def demand() -> pl.DataFrame:
    """300 days up to the first as-of date and the week after it."""
    rng = np.random.default_rng(11)
    first = FIRST_AS_OF - timedelta(days=299)
    n = 300 + DAYS - 1
    days = [first + timedelta(days=i) for i in range(n)]
    frames = [
        _series("WH-A", "SKU-WEEKLY", first, [rng.poisson(WEEKLY[d.weekday()]) for d in days]),
        _series("WH-B", "SKU-WEEKLY", first, [rng.poisson(WEEKLY[d.weekday()]) for d in days]),
    ]
    for i in range(6):  # sparse and lumpy series: Croston SBA and TSB
        sizes = [4.0] * n if i % 2 else [float(np.ceil(rng.lognormal(2, 1.2))) for _ in range(n)]
        sold = [s if rng.random() < 1 / (6 + i) else 0.0 for s in sizes]
        frames.append(_series("WH-A" if i < 3 else "WH-B", f"SKU-SPARSE-{i}", first, sold))
    return pl.concat(frames).sort("warehouse_id", "sku", "date")


def _promotion(
    promo_id: str, sku: str, starts_on: date, ends_on: date, discount_pct: float
) -> pl.DataFrame:
    """One promotion on every platform, shaped like the promotions extract."""
    return pl.DataFrame(
        {
            "promo_id": [promo_id],
            "platform": [None],
            "sku": [sku],
            "starts_on": [starts_on],
            "ends_on": [ends_on],
            "discount_pct": [discount_pct],
        },
        schema_overrides={"platform": pl.String},
    )


def _inputs(demand: pl.DataFrame, as_of: date) -> ForecastInputs:
    known = demand.filter(pl.col("date") <= as_of)
    skus = sorted(set(known["sku"].to_list()))
    products = pl.DataFrame(
        {"sku": skus, "category": ["food"] * len(skus), "product_status": ["active"] * len(skus)}
    )
    promotions = _promotion(
        "P1", "SKU-WEEKLY", FIRST_AS_OF + timedelta(days=20), FIRST_AS_OF + timedelta(days=24), 20.0
    )
    return ForecastInputs(as_of, known["date"].min(), known, products, promotions)


def _run(demand: pl.DataFrame, as_of: date, stored: ForecastTables | None, config=CONFIG):
    fits = refit.fits_from_frame(stored.forecast_fits) if stored is not None else None
    return build_forecasts(_inputs(demand, as_of), config, stored_fits=fits)


def _fitted_on(tables: ForecastTables) -> dict[tuple[str, str], date]:
    return {(w, s): d for w, s, d, *_ in tables.forecast_fits.iter_rows()}


@pytest.fixture(scope="module")
def week(demand: pl.DataFrame) -> list[ForecastTables]:
    """Eight daily runs, each given the fits of the run before."""
    runs = [_run(demand, FIRST_AS_OF, None)]
    for k in range(1, DAYS):
        runs.append(_run(demand, FIRST_AS_OF + timedelta(days=k), runs[-1]))
    return runs


def test_every_series_is_fitted_on_the_first_run_and_then_once_on_its_day(week) -> None:
    first = _fitted_on(week[0])
    assert set(first.values()) == {FIRST_AS_OF}
    assert len(first) == 8  # two Prophet series and six sparse ones
    routes = week[0].forecast_series["route"].to_list()
    assert routes.count("prophet_daily") == 2 and {"croston_sba", "tsb"} <= set(routes)
    refitted: dict[tuple[str, str], list[date]] = {key: [] for key in first}
    for tables in week[1:]:
        for key, fitted in _fitted_on(tables).items():
            if fitted == tables.as_of:
                refitted[key].append(fitted)
    for (warehouse, sku), days in refitted.items():
        slot = refit.refit_slot(warehouse, sku, CONFIG.refit_every_days)
        assert [d.toordinal() % 7 for d in days] == [slot], (warehouse, sku, days)


def test_a_reused_fit_publishes_what_it_forecast_for_those_days(week) -> None:
    before, after = week[0], week[1]
    fitted = _fitted_on(after)
    reused = [key for key, d in fitted.items() if d == FIRST_AS_OF]
    assert reused  # most series are not on their day
    for warehouse, sku in reused:
        rows = {
            t.as_of: t.demand_forecast.filter(
                (pl.col("warehouse_id") == warehouse) & (pl.col("sku") == sku)
            )
            for t in (before, after)
        }
        overlap = rows[FIRST_AS_OF].join(rows[after.as_of], on="date", suffix="_next")
        assert overlap.height == CONFIG.horizon_days - 1
        for column in ("yhat", "yhat_lower", "yhat_upper"):
            assert overlap[column].to_list() == overlap[f"{column}_next"].to_list()
        # the day past the fit's horizon repeats the same weekday of the fitted week before
        last = rows[after.as_of].sort("date").tail(1)
        week_before = rows[FIRST_AS_OF].filter(pl.col("date") == last["date"][0] - timedelta(7))
        assert last["yhat"].to_list() == week_before["yhat"].to_list()
        reason = after.forecast_series.filter(
            (pl.col("warehouse_id") == warehouse) & (pl.col("sku") == sku)
        )["reason"][0]
        assert f"fitted as of {FIRST_AS_OF}, reused 1 d later" in reason
        assert "the last 1 d repeat the fitted week before" in reason


def test_a_late_correction_refits_its_series_on_the_next_run(demand, week) -> None:
    day = FIRST_AS_OF + timedelta(days=1)
    reused = sorted(k for k, d in _fitted_on(week[1]).items() if d == FIRST_AS_OF)
    warehouse, sku = reused[0]
    corrected = demand.with_columns(
        pl.when(
            (pl.col("warehouse_id") == warehouse)
            & (pl.col("sku") == sku)
            & (pl.col("date") == demand.filter(pl.col("sku") == sku)["date"].min())
        )
        .then(pl.col("qty") + 3)
        .otherwise(pl.col("qty"))
        .alias("qty")
    )
    again = _fitted_on(_run(corrected, day, week[0]))
    assert again[(warehouse, sku)] == day
    assert {k for k, d in again.items() if d == day} == {
        k for k, d in _fitted_on(week[1]).items() if d == day
    } | {(warehouse, sku)}


def test_a_new_promotion_refits_its_sku(demand, week) -> None:
    day = FIRST_AS_OF + timedelta(days=1)
    inputs = _inputs(demand, day)
    promo = _promotion("P2", "SKU-SPARSE-1", day + timedelta(days=5), day + timedelta(days=9), 30.0)
    inputs = ForecastInputs(
        inputs.as_of,
        inputs.first_date,
        inputs.demand,
        inputs.products,
        pl.concat([inputs.promotions, promo]),
    )
    tables = build_forecasts(
        inputs, CONFIG, stored_fits=refit.fits_from_frame(week[0].forecast_fits)
    )
    assert _fitted_on(tables)[("WH-A", "SKU-SPARSE-1")] == day
    assert _fitted_on(week[1])[("WH-A", "SKU-SPARSE-1")] == FIRST_AS_OF  # not its day


def test_refitting_every_day_fits_every_series_and_a_fit_is_the_same_forecast(demand, week) -> None:
    daily = ForecastConfig(
        workers=1, horizon_days=28, n_origins=2, origin_step_days=28, refit_every_days=1
    )
    fresh = _run(demand, FIRST_AS_OF, None, daily)
    assert fresh.demand_forecast.equals(week[0].demand_forecast)
    assert fresh.forecast_series.equals(week[0].forecast_series)
    again = _run(demand, FIRST_AS_OF + timedelta(days=1), fresh, daily)
    assert set(_fitted_on(again).values()) == {FIRST_AS_OF + timedelta(days=1)}
    # on a series' refit day it publishes what fitting every day publishes
    for tables in week[1:]:
        today = tables.as_of
        refitted = [k for k, d in _fitted_on(tables).items() if d == today]
        every_day = _run(demand, today, None, daily)
        for warehouse, sku in refitted:
            mine, theirs = (
                t.demand_forecast.filter(
                    (pl.col("warehouse_id") == warehouse) & (pl.col("sku") == sku)
                )
                for t in (tables, every_day)
            )
            assert mine.equals(theirs), (warehouse, sku, today)


def test_a_rerun_of_the_same_day_reuses_every_fit_unchanged(demand, week) -> None:
    rerun = _run(demand, week[1].as_of, week[1])
    assert rerun.demand_forecast.equals(week[1].demand_forecast)
    assert rerun.forecast_series.equals(week[1].forecast_series)
    assert rerun.forecast_fits.equals(week[1].forecast_fits)


def test_fits_of_an_older_method_version_are_all_fitted_again(demand, week, monkeypatch) -> None:
    """An upgrade that changes how a method forecasts must not publish the old method's
    forecasts for up to a week: the fits stored by the version before refit."""
    monkeypatch.setattr(fm, "METHOD_VERSION", fm.METHOD_VERSION + 1)
    upgraded = _run(demand, week[1].as_of, week[1])
    assert set(_fitted_on(upgraded).values()) == {week[1].as_of}
    assert "reused" not in " ".join(upgraded.forecast_series["reason"].to_list())


def test_a_promotion_past_the_fitted_horizon_refits_its_sku(demand, week) -> None:
    """Known at the fit, but on a day the fit did not forecast: the repeated week would
    miss it."""
    day = FIRST_AS_OF + timedelta(days=1)
    late_day = day + timedelta(days=CONFIG.horizon_days)  # the one day past the fit
    promo = _promotion("P3", "SKU-SPARSE-1", late_day, late_day + timedelta(days=3), 30.0)
    fitted = {}
    for as_of in (FIRST_AS_OF, day):
        inputs = _inputs(demand, as_of)
        inputs = ForecastInputs(
            inputs.as_of,
            inputs.first_date,
            inputs.demand,
            inputs.products,
            pl.concat([inputs.promotions, promo]),
        )
        stored = refit.fits_from_frame(fitted["tables"].forecast_fits) if fitted else None
        fitted["tables"] = build_forecasts(inputs, CONFIG, stored_fits=stored)
    assert _fitted_on(fitted["tables"])[("WH-A", "SKU-SPARSE-1")] == day
    assert _fitted_on(week[1])[("WH-A", "SKU-SPARSE-1")] == FIRST_AS_OF  # not its day


def test_fits_are_stored_and_read_back(week, tmp_path: Path) -> None:
    db_path = tmp_path / "w.duckdb"
    write_forecasts(db_path, week[2])
    with duckdb.connect(str(db_path), read_only=True) as con:
        stored = refit.load_fits(con, ["WH-A"])
    expected = refit.fits_from_frame(week[2].forecast_fits)
    assert set(stored) == {k for k in expected if k[0] == "WH-A"}
    for key, fit in stored.items():
        assert fit.fitted_as_of == expected[key].fitted_as_of
        assert fit.fingerprint == expected[key].fingerprint
        np.testing.assert_array_equal(fit.yhat, expected[key].yhat)
        assert fit.metrics.keys() == expected[key].metrics.keys()
