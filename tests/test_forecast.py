"""Demand forecasts: routing, methods and storage, on series whose demand we know.

Small generated series go through `build_forecasts` in this process (real Prophet fits,
short histories); a tiny generated world goes through `run_forecast` end to end.
"""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest
from conftest import private_copy

from models_ml import forecast_models as fm
from models_ml.calendar import calendar_events, promotion_discounts
from models_ml.demand import PROMOTIONS_SCHEMA, ForecastInputs
from models_ml.forecast import ForecastConfig, build_forecasts, run_forecast, write_forecasts

AS_OF = date(2025, 6, 30)
WEEKLY = np.array([30.0, 28.0, 26.0, 26.0, 24.0, 8.0, 4.0])  # Monday first
CONFIG = ForecastConfig(workers=1, horizon_days=28, n_origins=2, origin_step_days=28)


def _series(warehouse: str, sku: str, days: list[date], qty: list[float]) -> pl.DataFrame:
    return pl.DataFrame(
        {"warehouse_id": warehouse, "sku": sku, "date": days, "qty": qty},
        schema={"warehouse_id": pl.String, "sku": pl.String, "date": pl.Date, "qty": pl.Float64},
    ).filter(pl.col("qty") > 0)


def _days(n: int, end: date = AS_OF) -> list[date]:
    return [end - timedelta(days=n - 1 - i) for i in range(n)]


@pytest.fixture(scope="module")
def known_inputs() -> ForecastInputs:
    rng = np.random.default_rng(7)
    frames = []
    # weekly pattern, 300 days, Poisson noise: Prophet on days
    days = _days(300)
    weekly = [rng.poisson(WEEKLY[d.weekday()]) for d in days]
    frames.append(_series("WH-A", "SKU-WEEKLY", days, weekly))
    # demand on about one day in fourteen, always 4 units: intermittent (by week too)
    days = _days(300)
    sparse = [4.0 if rng.random() < 1 / 14 else 0.0 for _ in days]
    frames.append(_series("WH-A", "SKU-SPARSE", days, sparse))
    # one day in fourteen, log-normal sizes (CV² about 3): lumpy
    lumpy = [float(np.ceil(rng.lognormal(2, 1.2))) if rng.random() < 1 / 14 else 0.0 for _ in days]
    frames.append(_series("WH-A", "SKU-LUMPY", days, lumpy))
    # first sold 20 days ago: new
    days = _days(20)
    frames.append(_series("WH-A", "SKU-NEW", days, [3.0 if i % 3 == 0 else 0.0 for i in range(20)]))
    # sold until 150 days ago: discontinued
    days = _days(150, AS_OF - timedelta(days=150))
    frames.append(_series("WH-A", "SKU-GONE", days, [5.0] * 150))
    # the same weekly SKU at a second warehouse
    days = _days(300)
    frames.append(
        _series("WH-B", "SKU-WEEKLY", days, [rng.poisson(WEEKLY[d.weekday()]) for d in days])
    )
    demand = pl.concat(frames).sort("warehouse_id", "sku", "date")
    products = pl.DataFrame(
        {
            "sku": ["SKU-WEEKLY", "SKU-SPARSE", "SKU-LUMPY", "SKU-NEW", "SKU-GONE"],
            "category": ["food", "food", "tools", "food", "tools"],
            "product_status": ["active"] * 5,
        }
    )
    promotions = pl.DataFrame(
        {
            "promo_id": ["P1"],
            "platform": [None],
            "sku": ["SKU-SPARSE"],
            "starts_on": [AS_OF - timedelta(days=40)],
            "ends_on": [AS_OF - timedelta(days=35)],
            "discount_pct": [20.0],
        },
        schema_overrides={"platform": pl.String},
    )
    return ForecastInputs(
        as_of=AS_OF,
        first_date=demand["date"].min(),
        demand=demand,
        products=products,
        promotions=promotions,
    )


@pytest.fixture(scope="module")
def known_tables(known_inputs: ForecastInputs):
    return build_forecasts(known_inputs, CONFIG)


def _series_row(tables, warehouse: str, sku: str) -> dict:
    return tables.forecast_series.filter(
        (pl.col("warehouse_id") == warehouse) & (pl.col("sku") == sku)
    ).row(0, named=True)


def test_prophet_recovers_a_weekly_pattern(known_inputs: ForecastInputs) -> None:
    events = calendar_events(known_inputs.first_date, AS_OF + timedelta(days=28)).to_pandas()
    events["ds"] = events["ds"].astype("datetime64[ns]")
    fm.init_worker(events)
    history = known_inputs.demand.filter(
        (pl.col("warehouse_id") == "WH-A") & (pl.col("sku") == "SKU-WEEKLY")
    )
    start = history["date"].min()
    y = np.zeros((AS_OF - start).days + 1)
    y[[(d - start).days for d in history["date"].to_list()]] = history["qty"].to_numpy()
    yhat = fm.prophet_daily(y, start, np.zeros(len(y) + 28), 28)
    first = AS_OF + timedelta(days=1)
    by_weekday = np.array(
        [
            yhat[[i for i in range(28) if (first + timedelta(days=i)).weekday() == w]].mean()
            for w in range(7)
        ]
    )
    assert np.abs(by_weekday - WEEKLY).max() < 3.0, by_weekday
    assert by_weekday[:5].min() > 3 * by_weekday[5:].max() * 0.6


def test_cached_features_give_prophet_s_own_forecast_bit_for_bit(
    known_inputs: ForecastInputs,
) -> None:
    """The feature cache and the totals-only prediction change time, not numbers: a
    backtest origin and the final fit, daily and weekly, with a promotion regressor."""
    import pandas as pd
    from prophet import Prophet

    events = calendar_events(known_inputs.first_date, AS_OF + timedelta(days=28)).to_pandas()
    events["ds"] = events["ds"].astype("datetime64[ns]")
    fm.init_worker(events)
    history = known_inputs.demand.filter(
        (pl.col("warehouse_id") == "WH-A") & (pl.col("sku") == "SKU-WEEKLY")
    )
    start = history["date"].min()
    y = np.zeros((AS_OF - start).days + 1)
    y[[(d - start).days for d in history["date"].to_list()]] = history["qty"].to_numpy()
    promo = np.zeros(len(y) + 28)
    promo[len(y) - 60 : len(y) - 50] = 0.2
    promo[len(y) + 3 : len(y) + 6] = 0.3
    shares = np.full(7, 1 / 7)
    for route in ("prophet_daily", "prophet_weekly"):
        cache = fm._feature_cache(route, start, len(y), 28)
        for n in (len(y) - 28, len(y)):  # an origin, then the full history (same cache)
            cached = fm.predict(route, y[:n], start, promo, 28, shares, cache)
            plain = fm.predict(route, y[:n], start, promo, 28, shares, None)
            assert np.array_equal(cached, plain), (route, n)
        assert cache.entries  # the cache was used
    # and the subclass without a cache is Prophet itself, to the bit
    ds = pd.date_range(start, periods=len(y) + 28, freq="D")
    frame = pd.DataFrame({"ds": ds[: len(y)], "y": y})
    ours = fm._prophet(False, len(y), len(y), False, None)
    theirs = Prophet(
        n_changepoints=ours.n_changepoints,
        yearly_seasonality=ours.yearly_seasonality,
        weekly_seasonality=ours.weekly_seasonality,
        daily_seasonality=False,
        changepoint_prior_scale=0.05,
        uncertainty_samples=0,
    )
    for model in (ours, theirs):
        model.fit(frame, **fm.FIT_ARGS)
    future = pd.DataFrame({"ds": ds[len(y) :]})
    assert np.array_equal(ours.predict(future)["yhat"], theirs.predict(future)["yhat"])


def test_intermittent_rates_equal_statsforecast_s() -> None:
    from statsforecast.models import TSB, CrostonSBA

    rng = np.random.default_rng(7)
    for i in range(300):
        n = int(rng.integers(1, 730))
        y = (rng.poisson(rng.uniform(0.01, 2), n) * rng.integers(1, 60, n)).astype(float)
        if i % 10 == 0:
            y[:] = 0
        tsb = float(TSB(fm.TSB_ALPHA_D, fm.TSB_ALPHA_P).forecast(y, h=1)["mean"][0])
        sba = float(CrostonSBA().forecast(y, h=1)["mean"][0])
        assert fm.tsb_rate(y) == tsb and fm.croston_sba_rate(y) == sba, i
        assert fm._intermittent_rate(y, "tsb") == (tsb if y.any() else 0.0)


def test_croston_counts_its_first_interval_from_the_gaps_not_from_the_first_demand() -> None:
    # a series starts on its first demand: Croston's first interval would be 1 day, and
    # one order of 30,000 seventy days ago forecast 28,500 a day (real data, bench/)
    one = np.zeros(70)
    one[0] = 30_000.0
    assert fm._intermittent_rate(one, "croston_sba") == pytest.approx(0.95 * 30_000 / 70)
    every_30_days = np.zeros(301)
    every_30_days[::30] = 100.0
    assert fm._intermittent_rate(every_30_days, "croston_sba") == pytest.approx(0.95 * 100 / 30)


def test_the_backtest_may_keep_the_other_intermittent_method_and_says_so() -> None:
    """Demand every third day, then every 40th: Croston's interval level moves once per
    demand and still expects one in a few days; TSB's probability decays daily."""
    y = np.zeros(400)
    y[:200:3] = 10.0
    y[200::40] = 10.0
    task = fm.SeriesTask(
        warehouse_id="WH-A",
        sku="SKU-FADING",
        route="croston_sba",
        start=date(2024, 1, 1),
        y=y,
        promo=np.zeros(len(y) + 56),
        fallback_shares=np.full(7, 1 / 7),
    )
    result = fm.forecast_series(task, ForecastConfig().backtest())
    assert result.model == "tsb"
    assert "TSB beat the routed Croston SBA" in result.note
    assert result.yhat.sum() == pytest.approx(56 * fm.tsb_rate(y))
    assert result.metrics["routed_wape"] > result.metrics["wape"]


def test_a_new_sku_starts_like_the_categorys_typical_sku_not_its_best_seller() -> None:
    days = _days(40)  # every SKU first sold 40 days ago: all new, no Prophet fit
    frames = [_series("WH-A", "SKU-STAR", days, [100.0] * 40)]
    frames += [_series("WH-A", f"SKU-SMALL{i}", days, [1.0] * 40) for i in range(4)]
    frames.append(_series("WH-A", "SKU-LATEST", _days(10), [1.0] * 10))
    demand = pl.concat(frames).sort("warehouse_id", "sku", "date")
    skus = demand["sku"].unique().sort().to_list()
    inputs = ForecastInputs(
        as_of=AS_OF,
        first_date=demand["date"].min(),
        demand=demand,
        products=pl.DataFrame({"sku": skus, "category": "food", "product_status": "active"}),
        promotions=pl.DataFrame(schema=PROMOTIONS_SCHEMA),
    )
    latest = _series_row(build_forecasts(inputs, CONFIG), "WH-A", "SKU-LATEST")
    assert latest["model"] == "category_profile"
    # the median SKU sells 1 a day; the mean of the six, 105 / 6 = 17.5, is the best seller's
    assert "category food 1.00/d per SKU" in latest["reason"]


def test_each_series_is_routed_by_its_demand(known_tables) -> None:
    weekly = _series_row(known_tables, "WH-A", "SKU-WEEKLY")
    assert weekly["demand_class"] == "smooth"
    assert weekly["route"] == "prophet_daily"
    assert "Prophet" in weekly["reason"]
    sparse = _series_row(known_tables, "WH-A", "SKU-SPARSE")
    assert sparse["demand_class"] == "intermittent"
    assert sparse["route"] == "croston_sba"
    assert sparse["adi"] > 1.32 and "ADI" in sparse["reason"]
    lumpy = _series_row(known_tables, "WH-A", "SKU-LUMPY")
    assert lumpy["demand_class"] == "lumpy"
    assert lumpy["route"] == "tsb"
    # the backtest keeps the routed method, the other intermittent one or seasonal naive,
    # and says which and why
    for row in (sparse, lumpy):
        assert row["model"] in ("croston_sba", "tsb", "seasonal_naive")
        assert "backtest" in row["reason"]


def test_new_sku_gets_the_category_profile(known_tables) -> None:
    new = _series_row(known_tables, "WH-A", "SKU-NEW")
    assert new["demand_class"] == "new"
    assert new["model"] == "category_profile"
    rows = known_tables.demand_forecast.filter(pl.col("sku") == "SKU-NEW")
    assert rows.height == 28 and rows["yhat"].sum() > 0


def test_discontinued_series_gets_no_forecast(known_tables) -> None:
    gone = _series_row(known_tables, "WH-A", "SKU-GONE")
    assert gone["demand_class"] == "discontinued" and gone["model"] == "none"
    assert "no demand for" in gone["reason"]
    assert known_tables.demand_forecast.filter(pl.col("sku") == "SKU-GONE").is_empty()
    assert known_tables.forecast_accuracy.filter(pl.col("sku") == "SKU-GONE").is_empty()


def test_forecasts_are_daily_non_negative_and_inside_their_interval(known_tables) -> None:
    f = known_tables.demand_forecast
    assert f.height == 5 * 28  # every series but the discontinued one
    assert f["date"].min() == AS_OF + timedelta(days=1)
    assert f["date"].max() == AS_OF + timedelta(days=28)
    assert (f["yhat"] >= 0).all() and (f["yhat_lower"] >= 0).all()
    assert ((f["yhat_lower"] <= f["yhat"]) & (f["yhat"] <= f["yhat_upper"])).all()
    acc = known_tables.forecast_accuracy.filter(pl.col("n_origins") > 0)
    assert acc.height == 4
    assert acc["error_sd_daily"].is_not_null().all() and (acc["error_sd_daily"] > 0).all()
    assert acc["wape"].is_not_null().all() and acc["baseline_wape"].is_not_null().all()


def test_the_weekly_series_beats_seasonal_naive(known_tables) -> None:
    row = known_tables.forecast_accuracy.filter(
        (pl.col("warehouse_id") == "WH-A") & (pl.col("sku") == "SKU-WEEKLY")
    ).row(0, named=True)
    assert row["model"] == "prophet_daily"
    assert row["wape"] < row["baseline_wape"]
    assert abs(row["mean_daily_demand"] - WEEKLY.mean()) < 3


def test_same_inputs_same_outputs(known_inputs: ForecastInputs, known_tables) -> None:
    again = build_forecasts(known_inputs, CONFIG)
    assert again.demand_forecast.equals(known_tables.demand_forecast)
    assert again.forecast_series.equals(known_tables.forecast_series)
    assert again.forecast_accuracy.drop("fit_seconds").equals(
        known_tables.forecast_accuracy.drop("fit_seconds")
    )


def test_sku_promotions_become_a_daily_discount() -> None:
    promos = pl.DataFrame(
        {
            "promo_id": ["A", "B", "C"],
            "platform": ["tmall", None, None],
            "sku": ["S1", "S1", None],  # C is storewide: a festival, not a regressor
            "starts_on": [date(2025, 1, 1), date(2025, 1, 2), date(2025, 1, 1)],
            "ends_on": [date(2025, 1, 3), date(2025, 1, 2), date(2025, 1, 9)],
            "discount_pct": [10.0, 30.0, 50.0],
        }
    )
    out = promotion_discounts(promos, ["S1"], date(2025, 1, 1), date(2025, 1, 31))
    assert out["discount"].to_list() == [0.1, 0.3, 0.1]


def test_calendar_has_chinese_holidays_and_festivals() -> None:
    events = calendar_events(date(2025, 1, 1), date(2025, 12, 31))
    labels = dict(zip(events["ds"].to_list(), events["holiday"].to_list(), strict=False))
    assert labels[date(2025, 11, 11)] == "double11"
    assert labels[date(2025, 6, 18)] == "618"
    assert labels[date(2025, 1, 29)] == "spring_festival"  # 正月初一 2025
    assert "national_day" in set(events["holiday"].to_list())


# ---------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def world(small_warehouse_one_drop: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Scale 0.03, seed 21, one daily drop, built: this module's own copy."""
    return private_copy(small_warehouse_one_drop, tmp_path_factory, "forecast_world")


def _table(db_path: Path, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return pl.from_arrow(con.sql(sql).to_arrow_table())


def test_end_to_end_covers_every_series(world: Path) -> None:
    run = run_forecast(world, config=ForecastConfig(workers=2))
    series = _table(world, "SELECT * FROM ml.forecast_series")
    expected = _table(
        world,
        """SELECT count(DISTINCT (warehouse_id, sku)) AS n FROM marts.fct_order_lines
           WHERE warehouse_key <> '(unknown)' AND NOT is_cancelled""",
    )["n"][0]
    assert series.height == expected == run.series
    forecast = _table(world, "SELECT * FROM ml.demand_forecast")
    forecast_series = series.filter(pl.col("model") != "none")
    assert forecast.height == forecast_series.height * 56
    assert (forecast["yhat"] >= 0).all()
    accuracy = _table(world, "SELECT * FROM ml.forecast_accuracy")
    assert accuracy.height == forecast_series.height
    overall = _table(world, "SELECT * FROM ml.forecast_accuracy_overall WHERE warehouse_id = 'ALL'")
    assert "ALL" in overall["model"].to_list()
    assert series["reason"].str.len_chars().min() > 10


def test_one_warehouse_is_rewritten_alone_and_reruns_change_nothing(world: Path) -> None:
    config = ForecastConfig(workers=1)
    run_forecast(world, config=config)
    warehouses = sorted(
        _table(world, "SELECT DISTINCT warehouse_id FROM ml.forecast_series")[
            "warehouse_id"
        ].to_list()
    )
    target, others = warehouses[0], warehouses[1:]
    before = _table(world, "SELECT * FROM ml.demand_forecast ORDER BY ALL")
    earlier = _table(world, "SELECT max(as_of) AS d FROM ml.forecast_series")["d"][0] - timedelta(
        days=7
    )
    run_forecast(world, warehouses=[target], as_of=earlier, config=config)
    after = _table(world, "SELECT * FROM ml.demand_forecast ORDER BY ALL")
    untouched = pl.col("warehouse_id").is_in(others)
    assert after.filter(untouched).equals(before.filter(untouched))
    assert after.filter(pl.col("warehouse_id") == target)["date"].min() == earlier + timedelta(1)
    series = _table(
        world, "SELECT warehouse_id, max(as_of) AS d FROM ml.forecast_series GROUP BY 1"
    )
    assert dict(series.iter_rows())[target] == earlier
    run_forecast(world, warehouses=[target], as_of=earlier, config=config)
    again = _table(world, "SELECT * FROM ml.demand_forecast ORDER BY ALL")
    assert again.equals(after)  # same inputs, same rows, nothing duplicated


def test_fitting_holds_no_lock_and_no_connection(world: Path) -> None:
    """While series are fitted, another process could take the lock and open the file."""
    from wmsight.runner import warehouse_lock

    checks = []

    def check_free(done: int, total: int) -> None:
        if checks:
            return
        with warehouse_lock(world, "test: taken while fitting"):  # wait 0: raises if held
            duckdb.connect(str(world)).close()  # read-write: fails beside an open read-only one
        checks.append(done)

    run_forecast(
        world, config=ForecastConfig(workers=1), on_progress=check_free, lock_wait_seconds=5
    )
    assert checks


PER_WAREHOUSE = """
import sys
from pathlib import Path
from models_ml.forecast import ForecastConfig, run_forecast
run_forecast(Path(sys.argv[1]), warehouses=sys.argv[2].split(","),
             config=ForecastConfig(workers=1), lock_wait_seconds=120)
"""


def test_per_warehouse_runs_in_parallel_processes_equal_one_run(world: Path) -> None:
    import subprocess
    import sys

    run_forecast(world, config=ForecastConfig(workers=1))
    tables = ("demand_forecast", "forecast_series", "forecast_accuracy")
    together = {t: _rows(world, t) for t in tables}
    together_overall = _rows(world, "forecast_accuracy_overall")
    with duckdb.connect(str(world)) as con:  # start from nothing, so both runs must write
        for t in tables:
            con.execute(f"DELETE FROM ml.{t}")
    warehouses = sorted(together["forecast_series"]["warehouse_id"].unique().to_list())
    half = len(warehouses) // 2
    parts = [warehouses[:half], warehouses[half:]]
    processes = [
        subprocess.Popen([sys.executable, "-c", PER_WAREHOUSE, str(world), ",".join(part)])
        for part in parts
    ]
    assert [p.wait(timeout=600) for p in processes] == [0, 0]
    for t in tables:
        assert _rows(world, t).equals(together[t]), t
    # the totals are recomputed after each write; DuckDB's parallel sums may differ in
    # the last bits, so they are compared to 1e-12
    overall = _rows(world, "forecast_accuracy_overall")
    assert overall.drop(pl.col(pl.Float64)).equals(together_overall.drop(pl.col(pl.Float64)))
    for column in overall.select(pl.col(pl.Float64)).columns:
        np.testing.assert_allclose(
            overall[column].to_numpy(), together_overall[column].to_numpy(), rtol=1e-12
        )


def _rows(db_path: Path, table: str) -> pl.DataFrame:
    timing = " EXCLUDE (fit_seconds)" if table == "forecast_accuracy" else ""  # wall clock
    return _table(db_path, f"SELECT *{timing} FROM ml.{table} ORDER BY ALL")


def test_a_forecast_table_with_the_old_primary_key_loses_it_and_keeps_its_rows(
    world: Path,
) -> None:
    run_forecast(world, config=ForecastConfig(workers=1))
    before = _rows(world, "demand_forecast")
    with duckdb.connect(str(world)) as con:  # the table as versions before 2026-12 made it
        con.execute("CREATE TABLE ml.old_rows AS SELECT * FROM ml.demand_forecast")
        con.execute("DROP TABLE ml.demand_forecast")
        con.execute(
            """CREATE TABLE ml.demand_forecast (
                warehouse_id VARCHAR NOT NULL, sku VARCHAR NOT NULL, date DATE NOT NULL,
                yhat DOUBLE NOT NULL, yhat_lower DOUBLE NOT NULL, yhat_upper DOUBLE NOT NULL,
                model VARCHAR NOT NULL, PRIMARY KEY (warehouse_id, sku, date))"""
        )
        con.execute("INSERT INTO ml.demand_forecast SELECT * FROM ml.old_rows")
        con.execute("DROP TABLE ml.old_rows")
    first = before["warehouse_id"].min()
    run_forecast(world, warehouses=[first], config=ForecastConfig(workers=1))
    assert _rows(world, "demand_forecast").equals(before)  # the others' rows were kept
    with duckdb.connect(str(world), read_only=True) as con:
        constraints = con.execute(
            """SELECT constraint_type FROM duckdb_constraints()
               WHERE schema_name = 'ml' AND table_name = 'demand_forecast'"""
        ).fetchall()
    assert ("PRIMARY KEY",) not in constraints
    assert ("NOT NULL",) in constraints


def test_forecast_rows_sharing_a_key_are_refused_before_anything_is_written(
    world: Path, known_tables
) -> None:
    run_forecast(world, config=ForecastConfig(workers=1))
    before = _rows(world, "demand_forecast")
    doubled = dataclasses.replace(
        known_tables,
        demand_forecast=pl.concat([known_tables.demand_forecast, known_tables.demand_forecast[:1]]),
    )
    with pytest.raises(ValueError, match=r"ml.demand_forecast: 2 rows share their key"):
        write_forecasts(world, doubled)
    assert _rows(world, "demand_forecast").equals(before)


def test_the_horizon_comes_from_the_settings(world: Path, monkeypatch) -> None:
    """WMSIGHT_FORECAST__* settings reach the forecast stage of `wmsight run` (and
    Airflow's tasks) through the run context; a bad one exits naming it."""
    from typer.testing import CliRunner

    from wmsight.cli import app
    from wmsight.config import load_settings
    from wmsight.runner import RunContext
    from wmsight.stages import forecast_stage

    monkeypatch.setenv("WMSIGHT_FORECAST__HORIZON_DAYS", "14")
    monkeypatch.setenv("WMSIGHT_FORECAST__WORKERS", "1")
    settings = load_settings()
    forecast_stage(RunContext(world, world, world.parent, forecast=settings.forecast))
    days = _table(
        world,
        """SELECT f.warehouse_id, f.sku, count(*) AS n, min(f.date) - s.as_of AS first,
                  max(f.date) - s.as_of AS last
           FROM ml.demand_forecast f JOIN ml.forecast_series s USING (warehouse_id, sku)
           GROUP BY f.warehouse_id, f.sku, s.as_of""",
    )
    assert days.height > 0
    assert days["n"].unique().to_list() == [14]
    assert (days["first"].unique().to_list(), days["last"].unique().to_list()) == ([1], [14])

    monkeypatch.setenv("WMSIGHT_FORECAST__HORIZON_DAYS", "3")
    result = CliRunner().invoke(app, ["forecast", "--db", str(world)])
    assert result.exit_code == 2
    output = " ".join(result.output.split())
    assert "WMSIGHT_FORECAST__HORIZON_DAYS" in output and "greater than or equal to 7" in output


def test_the_interval_quantile_follows_its_coverage() -> None:
    from models_ml.forecast_config import interval_z

    assert interval_z(0.8) == pytest.approx(1.2816, abs=1e-4)
    assert interval_z(0.95) == pytest.approx(1.9600, abs=1e-4)
