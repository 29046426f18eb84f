"""Customer scores: BG/NBD against the published CDNOW results, the one-time-buyer rule,
the next-order date, and the customers stage end to end on a small generated world."""

from __future__ import annotations

import importlib.util
import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from conftest import query

from ingest.load import ingest_extracts
from models_ml.churn import (
    BgNbdParams,
    ChurnConfig,
    GammaGammaParams,
    bgnbd_log_likelihood,
    customer_summary,
    expected_purchases,
    expected_purchases_unconditional,
    expected_spend,
    fit_bgnbd,
    fit_gamma_gamma,
    next_order_dates,
    one_time_buyer_p_alive,
    p_alive,
    return_curve,
    run_customer_intelligence,
    score_customers,
    simulate_bgnbd,
)
from wmsight.demo import generate_world
from wmsight.transform import run_dbt

# Fader, Hardie & Lee (2005), CDNOW sample, maximum-likelihood estimates (weeks)
CDNOW = BgNbdParams(r=0.243, alpha=4.414, a=0.793, b=2.426)
# Fader, Hardie & Lee (2005), "RFM and CLV", CDNOW spend
CDNOW_SPEND = GammaGammaParams(p=6.25, q=3.74, v=15.44)


# ---------------------------------------------------------------------------- published values
def test_conditional_expectation_matches_the_published_example() -> None:
    """FHL 2005 / Hardie's spreadsheet: x = 2, t_x = 30.43, T = 38.86 weeks → 1.226
    purchases expected in the next 39 weeks."""
    [value] = expected_purchases(CDNOW, 39.0, np.array([2.0]), np.array([30.43]), [38.86])
    assert value == pytest.approx(1.226, abs=5e-4)
    # P(alive) for the same customer (FHL 2008 note on P(alive) under BG/NBD): 0.73
    [alive] = p_alive(CDNOW, np.array([2.0]), np.array([30.43]), np.array([38.86]))
    assert alive == pytest.approx(0.727, abs=1e-3)


def test_unconditional_expectation_matches_the_published_curve() -> None:
    """E[X(t)] from Hardie's BG/NBD spreadsheet (quoted with the fitted, unrounded
    parameters, hence the 0.2 % tolerance on the rounded ones)."""
    t = np.array([0.1429, 1.0, 3.0, 31.8571, 32.0, 78.0])
    published = np.array([0.0078, 0.0532, 0.1506, 1.0405, 1.0437, 1.8576])
    np.testing.assert_allclose(
        expected_purchases_unconditional(CDNOW, t), published, rtol=2e-3, atol=5e-5
    )


def test_gamma_gamma_matches_the_published_example() -> None:
    """CDNOW spend: population mean p·v/(q-1) = 35.2; two purchases averaging 100 → 88.4."""
    mean, two_at_100 = expected_spend(CDNOW_SPEND, np.array([0.0, 2.0]), np.array([0.0, 100.0]))
    assert mean == pytest.approx(35.2, abs=0.05)
    assert two_at_100 == pytest.approx(88.4, abs=0.05)


# ---------------------------------------------------------------------------- recovery
def test_bgnbd_fit_recovers_the_cdnow_parameters_from_a_simulated_population() -> None:
    rng = np.random.default_rng(2005)
    T = rng.uniform(27.0, 39.0, 12_000)  # CDNOW: first purchases over 12 weeks, 39 observed
    x, t_x = simulate_bgnbd(CDNOW, T, rng)
    fitted, ll = fit_bgnbd(x, t_x, T)
    for name in CDNOW._fields:
        truth, got = getattr(CDNOW, name), getattr(fitted, name)
        assert got == pytest.approx(truth, rel=0.15), f"{name}: {got:.3f} vs {truth}"
    # the maximum is a maximum: the true parameters fit no better
    assert ll >= float(np.sum(bgnbd_log_likelihood(CDNOW, x, t_x, T))) - 1e-6


def test_gamma_gamma_fit_recovers_the_population_mean_spend() -> None:
    rng = np.random.default_rng(5)
    x = rng.integers(1, 8, 4_000).astype(float)
    nu = rng.gamma(CDNOW_SPEND.q, 1.0 / CDNOW_SPEND.v, len(x))
    mean_spend = rng.gamma(CDNOW_SPEND.p * x, 1.0 / nu) / x
    fitted = fit_gamma_gamma(x, mean_spend)
    truth = CDNOW_SPEND.p * CDNOW_SPEND.v / (CDNOW_SPEND.q - 1)
    assert fitted.p * fitted.v / (fitted.q - 1) == pytest.approx(truth, rel=0.08)
    assert fitted.q == pytest.approx(CDNOW_SPEND.q, rel=0.2)


def test_a_frequent_buyer_silent_for_long_is_not_alive_and_numbers_stay_finite() -> None:
    params = BgNbdParams(0.8, 5.0, 0.5, 3.0)
    x = np.array([300.0, 300.0, 3.0])
    t_x = np.array([103.8, 60.0, 20.0])
    T = np.array([104.0, 104.0, 104.0])
    alive = p_alive(params, x, t_x, T)
    assert alive[0] > 0.9 and alive[1] < 1e-6  # same history, 44 weeks of silence
    assert np.all(np.isfinite(expected_purchases(params, 13.0, x, t_x, T)))


# ---------------------------------------------------------------------------- one-time buyers
def test_one_time_buyers_get_the_population_return_curve_not_certainty() -> None:
    # 100 customers: 60 came back after 10–50 days, 40 never did (observed 400 days)
    returned = np.r_[np.ones(60, dtype=bool), np.zeros(40, dtype=bool)]
    days = np.r_[np.linspace(10, 50, 60), np.full(40, 400.0)]
    curve = return_curve(days, returned, min_at_risk=5)
    assert curve.never == pytest.approx(0.4)
    fresh, waiting, long_gone = one_time_buyer_p_alive(curve, np.array([0.0, 30.0, 200.0]))
    assert fresh == pytest.approx(0.6)  # the repeat rate
    assert 0.0 < waiting < fresh  # half of the returners are back by day 30
    assert long_gone == pytest.approx(0.0)  # nobody returns after 50 days


def _purchases(rows: dict[str, list[int]], start: date) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"customer_key": key, "order_date": start + timedelta(days=d), "revenue_cny": 1000.0}
            for key, days in rows.items()
            for d in days
        ]
    )


def test_scores_use_the_rule_for_one_time_buyers_and_predict_the_next_order() -> None:
    start = date(2024, 1, 1)
    as_of = start + timedelta(days=355)
    rows = {f"R{i:03d}": list(range(i % 7, 350, 14 + i % 5)) for i in range(60)}
    rows |= {f"O{i:03d}": [i * 5] for i in range(60)}  # one order each
    rows["REG"] = list(range(0, 351, 14))  # every 14 days, last on day 350
    summary = customer_summary(_purchases(rows, start), as_of)
    scores = score_customers(summary, as_of).scores
    one_time = scores.filter(pl.col("frequency") == 0)
    assert (one_time["p_alive_rule"] == "one_time_buyer_return_curve").all()
    assert one_time["p_alive"].max() < 1.0
    # the longer since the single order, the likelier it is gone
    ordered = one_time.sort("first_order_date")
    assert ordered["churn_probability"][0] >= ordered["churn_probability"][-1]
    assert one_time["expected_next_order_date"].null_count() == one_time.height
    regular = scores.filter(pl.col("customer_key") == "REG").row(0, named=True)
    assert regular["median_recent_gap_days"] == 14
    assert regular["expected_next_order_date"] == start + timedelta(days=364)
    assert regular["p_alive"] > 0.9


def test_b2b_accounts_and_web_buyers_get_their_own_models() -> None:
    start = date(2024, 1, 1)
    as_of = start + timedelta(days=355)
    # B2B: 40 accounts ordering every 3-4 weeks, two that ordered once long ago
    b2b = {f"B{i:03d}": list(range(i % 9, 350, 21 + i % 7)) for i in range(40)}
    b2b |= {"B_ONCE_1": [20], "B_ONCE_2": [40]}
    # web: 40 slow repeat buyers and 40 who bought once
    web = {f"W{i:03d}": list(range(i % 30, 350, 60 + i % 20)) for i in range(40)}
    web |= {f"W_ONCE_{i:02d}": [5 * i] for i in range(40)}
    purchases = pl.concat(
        [
            _purchases(b2b, start).with_columns(is_b2b=pl.lit(True)),
            _purchases(web, start).with_columns(is_b2b=pl.lit(False)),
        ]
    )
    # a small test population: let the return curve run down to 5 customers at risk
    config = ChurnConfig(one_time_tail_min_at_risk=5)
    result = score_customers(customer_summary(purchases, as_of), as_of, config)
    assert set(result.fits) == {"b2b", "ecommerce"}
    assert result.fits["b2b"].customers == 42 and result.fits["ecommerce"].customers == 80
    # nearly every first-time B2B account came back; half the web buyers did not
    assert result.fits["b2b"].repeat_rate > 0.9 > 0.6 > result.fits["ecommerce"].repeat_rate
    scores = result.scores
    once = scores.filter(pl.col("customer_key") == "B_ONCE_1").row(0, named=True)
    assert once["population"] == "b2b" and once["population_repeat_rate"] > 0.9
    assert once["p_alive"] < 0.3  # 335 days of waiting, where accounts return within weeks
    assert scores.filter(pl.col("customer_key").str.starts_with("W"))[
        "population"
    ].unique().to_list() == ["ecommerce"]


def test_too_few_customers_of_one_kind_share_one_model() -> None:
    start = date(2024, 1, 1)
    as_of = start + timedelta(days=355)
    web = {f"W{i:03d}": list(range(i % 30, 350, 40 + i % 20)) for i in range(30)}
    purchases = pl.concat(
        [
            _purchases({"B1": [0, 30, 60]}, start).with_columns(is_b2b=pl.lit(True)),
            _purchases(web, start).with_columns(is_b2b=pl.lit(False)),
        ]
    )
    result = score_customers(customer_summary(purchases, as_of), as_of)
    assert set(result.fits) == {"all"} and result.fits["all"].customers == 31
    assert result.scores["population"].unique().to_list() == ["all"]


def test_an_overdue_customer_gets_the_models_wait_and_a_lost_one_no_date() -> None:
    params = BgNbdParams(1.0, 2.0, 0.5, 5.0)
    as_of = date(2024, 12, 31)
    dates = next_order_dates(
        [date(2024, 12, 1), date(2024, 10, 1), date(2024, 6, 1)],
        np.array([14.0, 14.0, 14.0]),
        np.array([0.95, 0.6, 0.05]),
        np.array([20.0, 20.0, 20.0]),
        params,
        np.array([52.0, 52.0, 52.0]),
        as_of,
        min_p_alive=0.2,
    )
    assert dates[0] == as_of + timedelta(days=round((2.0 + 52.0) / 20.0 * 7))  # overdue
    assert dates[1] == dates[0]
    assert dates[2] is None


# ---------------------------------------------------------------------------- end to end
@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("churn")
    generate_world(root / "extracts", scale=0.03, seed=21, days=400, delta_drops=1)
    db_path = root / "wmsight.duckdb"
    ingest_extracts(root / "extracts", db_path)
    # seeds and models only: the marts' own tests belong to tests/test_transform.py
    built = run_dbt(
        db_path,
        "build",
        ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"],
    )
    assert built.success, built.summary()
    return db_path


@pytest.mark.slow
def test_customers_stage_writes_scores_and_alerts_idempotently(warehouse: Path) -> None:
    result = run_customer_intelligence(warehouse)
    as_of = result.as_of
    [(latest,)] = query(
        warehouse, "SELECT max(CAST(ordered_at AS DATE)) FROM marts.fct_order_lines"
    )
    assert as_of == latest
    [(rows, keys, bad_prob, no_date)] = query(
        warehouse,
        """SELECT count(*), count(DISTINCT customer_key),
                  count(*) FILTER (WHERE churn_probability NOT BETWEEN 0 AND 1
                                   OR abs(churn_probability + p_alive - 1) > 1e-6),
                  count(*) FILTER (WHERE frequency > 0 AND p_alive >= 0.5
                                   AND expected_next_order_date IS NULL)
           FROM ml.customer_scores""",
    )
    assert rows == keys > 0 and bad_prob == 0 and no_date == 0
    [(customers,)] = query(
        warehouse,
        "SELECT count(DISTINCT customer_key) FROM marts.fct_order_lines "
        "WHERE customer_key <> '(unknown)' AND NOT coalesce(is_cancelled, false)",
    )
    assert rows == customers
    [(alerts, duplicates)] = query(
        warehouse,
        """SELECT count(*), count(*) - count(DISTINCT (customer_key, alert_type))
           FROM ml.churn_alerts""",
    )
    assert alerts > 0 and duplicates == 0
    # the same as_of again replaces its rows; an earlier as_of adds history beside them
    run_customer_intelligence(warehouse, as_of=as_of)
    earlier = as_of - timedelta(days=60)
    run_customer_intelligence(warehouse, as_of=earlier)
    run_customer_intelligence(warehouse, as_of=as_of)
    history = dict(
        query(
            warehouse,
            "SELECT as_of_date, count(*) FROM ml.customer_scores_history GROUP BY ALL",
        )
    )
    assert set(history) == {as_of, earlier} and history[as_of] == rows
    assert query(warehouse, "SELECT count(*) FROM ml.customer_scores") == [(rows,)]
    assert query(warehouse, "SELECT DISTINCT raised_on FROM ml.churn_alerts") == [(as_of,)]
    # the business rules ran on the same scores: one row per customer and rule
    [(actions, action_duplicates)] = query(
        warehouse,
        "SELECT count(*), count(*) - count(DISTINCT (customer_key, rule_id)) FROM ml.rule_actions",
    )
    assert actions > 0 and action_duplicates == 0


@pytest.mark.slow
def test_churn_alerts_find_the_generators_churners(warehouse: Path) -> None:
    """A sanity floor on a tiny world (8 true churners); the 0.8 target is asserted at
    scale 1 by tests/test_churn_scale1.py (docs/CHURN.md has the figures)."""
    spec = importlib.util.spec_from_file_location(
        "bench_churn", Path(__file__).parents[1] / "bench" / "churn.py"
    )
    bench = importlib.util.module_from_spec(spec)
    sys.modules["bench_churn"] = bench  # its dataclasses look their module up
    spec.loader.exec_module(bench)
    run_customer_intelligence(warehouse)
    quality = bench.measure(warehouse, warehouse.parent / "extracts" / "_truth")
    assert quality.churners >= 4
    assert quality.precision >= 0.6 and quality.recall >= 0.6, quality
