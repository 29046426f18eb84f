"""Churn probability, next order and 12-month value per customer (BG/NBD + Gamma-Gamma).

Reads `marts.fct_order_lines` (one purchase = one customer and order day, cancelled
lines left out) and writes, all in one transaction:

- `ml.customer_scores`: one row per customer_key for the latest run (P(alive), churn
  probability, expected purchases in 90 days, expected next order date, 12-month value
  and every input beside them); `customer_360` joins it.
- `ml.customer_scores_history`: the same rows for every as-of date run, so the next run
  can tell whose P(alive) fell below a threshold since the previous one.
- `ml.churn_alerts` (+ `ml.churn_alerts_history`): see `models_ml/alerts.py`.

The model (docs/CHURN.md has the formulas, the choice against pymc-marketing and the
measurements): BG/NBD (Fader, Hardie & Lee 2005) fitted by maximum likelihood with
scipy, in weeks, on every customer's (x repeat purchases, t_x, T); Gamma-Gamma (Fader,
Hardie & Lee 2005, "RFM and CLV") on the mean value of repeat purchases. BG/NBD says
P(alive) = 1 for anyone with a single purchase; for those one-time buyers this module
uses the population's own repeat-purchase curve instead (`one_time_buyer_p_alive`).

as_of defaults to the latest order date in the data, never the wall clock; re-running
the same as_of replaces that as_of's rows.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import NamedTuple

import duckdb
import numpy as np
import polars as pl
from pydantic import BaseModel, Field
from scipy import optimize, special

from models_ml import alerts
from models_ml.alerts import AlertConfig
from models_ml.demand import ORDER_SOURCES

log = logging.getLogger(__name__)

DAYS_PER_WEEK = 7.0
MODEL_NAME = "bgnbd+gamma_gamma"


class ChurnConfig(BaseModel):
    """Parameters of the customer scores (each is documented in docs/CHURN.md)."""

    horizon_days: int = Field(90, description="expected purchases are counted over this many days")
    value_days: int = Field(365, description="expected value is summed over this many days")
    recent_gaps: int = Field(
        12, description="inter-order gaps (the most recent ones) behind the next-order date"
    )
    min_p_alive_for_next_order: float = Field(
        0.2, description="below this P(alive) no next order date is predicted (NULL)"
    )
    min_customers: int = Field(
        10, description="fewer customers with history than this: no model is fitted"
    )
    one_time_tail_min_at_risk: int = Field(
        20,
        description="the one-time-buyer curve stops where fewer customers than this are "
        "still waiting for their second order",
    )


# ---------------------------------------------------------------------------- BG/NBD
class BgNbdParams(NamedTuple):
    r: float
    alpha: float  # in weeks
    a: float
    b: float


def bgnbd_log_likelihood(
    params: BgNbdParams | tuple[float, float, float, float],
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
) -> np.ndarray:
    """Per-customer log-likelihood (FHL 2005, eq. 6), x repeat purchases, the last at
    t_x, observed for T (same time unit as alpha)."""
    r, alpha, a, b = params
    x = np.asarray(x, dtype=np.float64)
    t_x = np.asarray(t_x, dtype=np.float64)
    T = np.asarray(T, dtype=np.float64)
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * math.log(alpha)
    a2 = (
        special.gammaln(a + b)
        + special.gammaln(b + x)
        - special.gammaln(b)
        - special.gammaln(a + b + x)
    )
    a3 = -(r + x) * np.log(alpha + T)
    repeat = x > 0
    a4 = np.where(
        repeat,
        math.log(a) - np.log(np.where(repeat, b + x - 1, 1.0)) - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    return a1 + a2 + np.logaddexp(a3, a4)


def fit_bgnbd(
    x: np.ndarray, t_x: np.ndarray, T: np.ndarray, start: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0)
) -> tuple[BgNbdParams, float]:
    """Maximum-likelihood (r, alpha, a, b) and the total log-likelihood. Optimised on the
    log scale (every parameter is positive) with L-BFGS-B."""
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
    scale = float(np.mean(T)) or 1.0  # alpha scales with time: start it near the data's

    def negative(theta: np.ndarray) -> float:
        r, alpha, a, b = np.exp(theta)
        value = -float(np.sum(bgnbd_log_likelihood((r, alpha * scale, a, b), x, t_x, T)))
        return value if math.isfinite(value) else 1e300

    theta0 = np.log(np.asarray(start, dtype=np.float64))
    bounds = [(-12.0, 12.0)] * 4
    best = optimize.minimize(
        negative, theta0, method="L-BFGS-B", bounds=bounds, options={"ftol": 1e-12, "gtol": 1e-8}
    )
    r, alpha, a, b = np.exp(best.x)
    return BgNbdParams(float(r), float(alpha * scale), float(a), float(b)), -float(best.fun)


def _death_odds(params: BgNbdParams, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """a/(b+x-1) * ((alpha+T)/(alpha+t_x))^(r+x) for x > 0, 0 for x = 0 (in logs, so a
    frequent buyer silent for long does not overflow)."""
    r, alpha, a, b = params
    repeat = x > 0
    log_odds = (
        math.log(a)
        - np.log(np.where(repeat, b + x - 1, 1.0))
        + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    )
    return np.where(repeat, np.exp(np.minimum(log_odds, 700.0)), 0.0)


def p_alive(params: BgNbdParams, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """P(alive at T | x, t_x, T) (Fader, Hardie & Lee 2008 note on P(alive) for BG/NBD)."""
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
    return 1.0 / (1.0 + _death_odds(params, x, t_x, T))


def silence_probability(
    params: BgNbdParams, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """P(no purchase in (t_x, T] | the customer is alive and buys at its own rate):
    ((alpha + t_x)/(alpha + T))^(r + x), the Gamma-Poisson chance of a silence this long.
    It is the evidence part of P(alive) = 1/(1 + a/(b+x-1) / silence): P(alive) adds the
    population's prior chance of dying after a purchase. NaN for x = 0."""
    r, alpha, _, _ = params
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
    log_p = (r + x) * (np.log(alpha + t_x) - np.log(alpha + T))
    return np.where(x > 0, np.exp(log_p), np.nan)


def expected_purchases(
    params: BgNbdParams, t: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """E[Y(t) | x, t_x, T]: expected purchases in (T, T + t] (FHL 2005, eq. 10).

    The term ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; t/(alpha+T+t)) is
    evaluated through Pfaff's transformation as 2F1(r+x, a-1; a+b+x-1; -t/(alpha+T)),
    which stays finite for customers with hundreds of purchases."""
    r, alpha, a, b = params
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
    c = a + b + x - 1
    hyp = special.hyp2f1(r + x, a - 1, c, -t / (alpha + T))
    alive_part = c / (a - 1) * (1.0 - hyp)
    return alive_part / (1.0 + _death_odds(params, x, t_x, T))


def expected_purchases_unconditional(params: BgNbdParams, t: np.ndarray) -> np.ndarray:
    """E[X(t)] for a customer just acquired (FHL 2005, eq. 9)."""
    r, alpha, a, b = params
    t = np.asarray(t, dtype=np.float64)
    hyp = special.hyp2f1(r, b, a + b - 1, t / (alpha + t))
    return (a + b - 1) / (a - 1) * (1.0 - (alpha / (alpha + t)) ** r * hyp)


def simulate_bgnbd(
    params: BgNbdParams, T: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(x, t_x) for customers observed for T under the BG/NBD story: Poisson purchases at
    a Gamma(r, alpha) rate, after each purchase a Beta(a, b) chance of dying."""
    r, alpha, a, b = params
    T = np.asarray(T, dtype=np.float64)
    n = len(T)
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    x = np.zeros(n)
    t_x = np.zeros(n)
    now = np.zeros(n)
    active = np.ones(n, dtype=bool)
    while active.any():
        idx = np.flatnonzero(active)
        now[idx] += rng.exponential(1.0 / lam[idx])
        bought = now[idx] <= T[idx]
        hit = idx[bought]
        x[hit] += 1
        t_x[hit] = now[hit]
        dies = rng.random(len(hit)) < p[hit]
        active[idx[~bought]] = False
        active[hit[dies]] = False
    return x, t_x


# ---------------------------------------------------------------------------- Gamma-Gamma
class GammaGammaParams(NamedTuple):
    p: float
    q: float
    v: float  # the scale (gamma in FHL), in the spend's currency


def gamma_gamma_log_likelihood(
    params: GammaGammaParams | tuple[float, float, float], x: np.ndarray, mean_spend: np.ndarray
) -> np.ndarray:
    """Per-customer log density of the mean spend over x transactions (FHL 2005, RFM and CLV)."""
    p, q, v = params
    x = np.asarray(x, dtype=np.float64)
    z = np.asarray(mean_spend, dtype=np.float64)
    px = p * x
    return (
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * math.log(v)
        + (px - 1) * np.log(z)
        + px * np.log(x)
        - (px + q) * np.log(v + x * z)
    )


def fit_gamma_gamma(x: np.ndarray, mean_spend: np.ndarray) -> GammaGammaParams:
    """Maximum-likelihood (p, q, v) over customers with x >= 1 and a positive mean spend."""
    x = np.asarray(x, dtype=np.float64)
    z = np.asarray(mean_spend, dtype=np.float64)
    keep = (x > 0) & (z > 0)
    x, z = x[keep], z[keep]
    scale = float(np.median(z)) if len(z) else 1.0
    z = z / scale  # condition the optimiser; v is rescaled below

    def negative(theta: np.ndarray) -> float:
        p, q, v = np.exp(theta)
        value = -float(np.sum(gamma_gamma_log_likelihood((p, q, v), x, z)))
        return value if math.isfinite(value) else 1e300

    best = optimize.minimize(
        negative,
        np.zeros(3),
        method="L-BFGS-B",
        bounds=[(-10.0, 10.0)] * 3,
        options={"ftol": 1e-12, "gtol": 1e-8},
    )
    p, q, v = np.exp(best.x)
    return GammaGammaParams(float(p), float(q), float(v * scale))


def expected_spend(params: GammaGammaParams, x: np.ndarray, mean_spend: np.ndarray) -> np.ndarray:
    """E[Z | x, z̄]: a weighted average of the population mean p·v/(q-1) and the
    customer's own mean (weight p·x/(p·x+q-1)); the population mean where x = 0."""
    p, q, v = params
    x = np.asarray(x, dtype=np.float64)
    z = np.nan_to_num(np.asarray(mean_spend, dtype=np.float64))
    population = p * v / (q - 1) if q > 1 else float("nan")
    weight = p * x / (p * x + q - 1)
    return (1 - weight) * population + weight * z


# ---------------------------------------------------------------------------- one-time buyers
@dataclass(frozen=True)
class ReturnCurve:
    """Kaplan-Meier survival of 'still waiting for the second order', by days since the
    first order, over every customer (censored at as_of when they have not returned)."""

    days: np.ndarray  # event days, ascending
    survival: np.ndarray  # S(d) just after each event day
    never: float  # the curve's floor: share of first-time buyers who never return

    def at(self, days_since_first: np.ndarray) -> np.ndarray:
        idx = np.searchsorted(self.days, np.asarray(days_since_first), side="right") - 1
        return np.where(idx >= 0, self.survival[np.maximum(idx, 0)], 1.0)


def return_curve(
    days_to_second: np.ndarray, returned: np.ndarray, min_at_risk: int = 20
) -> ReturnCurve:
    """`days_to_second`: days from first to second order (returned) or from first order to
    as_of (not yet). The curve is cut where fewer than `min_at_risk` customers are still
    at risk; its last value is the share who never come back."""
    d = np.asarray(days_to_second, dtype=np.float64)
    e = np.asarray(returned, dtype=bool)
    if len(d) == 0 or not e.any():
        return ReturnCurve(np.array([0.0]), np.array([1.0]), 1.0)
    order = np.argsort(d, kind="stable")
    d, e = d[order], e[order]
    event_days = np.unique(d[e])
    at_risk = len(d) - np.searchsorted(d, event_days, side="left")
    events = np.array([np.sum(e & (d == day)) for day in event_days])  # few distinct days
    survival = np.cumprod(1.0 - events / at_risk)
    keep = at_risk >= min_at_risk
    if not keep.any():
        keep[0] = True
    event_days, survival = event_days[keep], survival[keep]
    return ReturnCurve(event_days, survival, float(survival[-1]))


def one_time_buyer_p_alive(curve: ReturnCurve, days_since_first: np.ndarray) -> np.ndarray:
    """P(a one-time buyer still comes back) = (S(d) - S(∞)) / S(d): of the customers still
    waiting d days after their first order, the share who eventually return. Right after
    the first order this is the population's repeat rate; it falls towards 0 as the wait
    grows past the time in which nearly every returning customer has returned."""
    s = np.maximum(curve.at(days_since_first), 1e-12)
    return np.clip((s - curve.never) / s, 0.0, 1.0)


# ---------------------------------------------------------------------------- customers
@dataclass(frozen=True)
class PopulationFit:
    """The models fitted on one customer population (see `population_of`)."""

    customers: int
    bgnbd: BgNbdParams
    log_likelihood: float
    gamma_gamma: GammaGammaParams | None
    curve: ReturnCurve

    @property
    def repeat_rate(self) -> float:
        """Share of this population's first-time buyers who order again (1 − S∞)."""
        return 1.0 - self.curve.never


@dataclass
class ScoreResult:
    as_of: date
    scores: pl.DataFrame
    fits: dict[str, PopulationFit]  # population -> its fitted models
    seconds: float

    def summary(self) -> str:
        repeat = self.scores.filter(pl.col("frequency") > 0)
        at_risk = self.scores.filter(pl.col("churn_probability") >= 0.5).height
        fitted = "; ".join(
            f"{name} ({fit.customers:,}): BG/NBD r={fit.bgnbd.r:.3f} "
            f"alpha={fit.bgnbd.alpha:.2f} wk a={fit.bgnbd.a:.3f} b={fit.bgnbd.b:.3f}, "
            f"repeat rate {fit.repeat_rate:.0%}"
            for name, fit in self.fits.items()
        )
        return (
            f"{self.scores.height:,} customers scored as of {self.as_of} "
            f"({repeat.height:,} repeat buyers; {at_risk:,} with churn probability >= 0.5); "
            f"{fitted}"
        )


def latest_order_date(con: duckdb.DuckDBPyConnection) -> date | None:
    [(latest,)] = con.execute(
        "SELECT max(CAST(ordered_at AS DATE)) FROM marts.fct_order_lines "
        "WHERE customer_key <> '(unknown)'"
    ).fetchall()
    return latest


def load_purchases(con: duckdb.DuckDBPyConnection, as_of: date) -> pl.DataFrame:
    """One row per customer and order day up to as_of: revenue that day and whether it
    had a B2B (ERP) order (cancelled lines left out; several orders the same day are one
    purchase, as the model counts them)."""
    return con.sql(
        """
        SELECT customer_key, CAST(ordered_at AS DATE) AS order_date,
               sum(coalesce(line_amount_cny, 0))::DOUBLE AS revenue_cny,
               bool_or(channel = 'b2b') AS is_b2b
        FROM marts.fct_order_lines
        WHERE customer_key <> '(unknown)' AND NOT coalesce(is_cancelled, false)
          AND CAST(ordered_at AS DATE) <= ?
        GROUP BY ALL
        ORDER BY customer_key, order_date""",
        params=[as_of],
    ).pl()


def customer_summary(purchases: pl.DataFrame, as_of: date, recent_gaps: int = 12) -> pl.DataFrame:
    """Per customer: first and last order, purchases, x = repeat purchases, t_x and T in
    days, inter-order gaps (mean, median of the most recent `recent_gaps`), repeat spend."""
    gaps = purchases.sort("customer_key", "order_date").with_columns(
        gap=(pl.col("order_date") - pl.col("order_date").shift(1).over("customer_key"))
        .dt.total_days()
        .cast(pl.Float64),
        first=pl.col("order_date").min().over("customer_key"),
        rank=pl.col("order_date").rank("ordinal").over("customer_key"),
    )
    summary = gaps.group_by("customer_key").agg(
        first_order_date=pl.col("order_date").min(),
        last_order_date=pl.col("order_date").max(),
        purchases=pl.len().cast(pl.Int64),
        mean_interorder_days=pl.col("gap").mean(),
        median_recent_gap_days=pl.col("gap").drop_nulls().tail(recent_gaps).median(),
        repeat_revenue_cny=pl.col("revenue_cny").filter(pl.col("rank") > 1).sum(),
        revenue_total_cny=pl.col("revenue_cny").sum(),
        first_order_revenue_cny=pl.col("revenue_cny").filter(pl.col("rank") == 1).sum(),
        days_to_second=pl.col("gap").filter(pl.col("rank") == 2).first(),
        **(
            {"is_b2b": pl.col("is_b2b").fill_null(False).any()}
            if "is_b2b" in purchases.columns
            else {}
        ),
    )
    return summary.with_columns(
        population=population_of(summary),
        frequency=(pl.col("purchases") - 1),
        recency_days=(pl.col("last_order_date") - pl.col("first_order_date"))
        .dt.total_days()
        .cast(pl.Float64),
        T_days=(pl.lit(as_of) - pl.col("first_order_date")).dt.total_days().cast(pl.Float64),
        days_since_last_order=(pl.lit(as_of) - pl.col("last_order_date")).dt.total_days(),
    ).sort("customer_key")


POPULATIONS = ("b2b", "ecommerce")


def population_of(summary: pl.DataFrame) -> pl.Expr:
    """'b2b' for a customer with any ERP order (an account that buys on contract terms),
    'ecommerce' for one that only buys on the marketplaces; 'all' when the purchases do
    not say. The two buy so differently (a B2B account reorders every few weeks and
    nearly always comes back; many web buyers never order twice) that one model fitted
    on both misjudges each."""
    if "is_b2b" not in summary.columns:
        return pl.lit("all")
    return pl.when(pl.col("is_b2b")).then(pl.lit("b2b")).otherwise(pl.lit("ecommerce"))


def score_customers(
    summary: pl.DataFrame, as_of: date, config: ChurnConfig | None = None
) -> ScoreResult:
    """Fit BG/NBD, Gamma-Gamma and the one-time-buyer curve per population (b2b,
    ecommerce; one population when either has fewer than `min_customers` to fit on) and
    score every customer with its own population's models."""
    config = config or ChurnConfig()
    started = time.perf_counter()
    if "population" not in summary.columns:
        summary = summary.with_columns(population=population_of(summary))
    fit_counts = summary.group_by("population").agg((pl.col("T_days") > 0).sum())
    if fit_counts.height > 1 and fit_counts["T_days"].min() < config.min_customers:
        summary = summary.with_columns(population=pl.lit("all"))
    frames, fits = [], {}
    for (name,), part in summary.group_by("population", maintain_order=True):
        frame, fits[name] = _score_population(part, as_of, config)
        frames.append(frame)
    scores = pl.concat(frames).sort("customer_key")
    return ScoreResult(as_of, scores, dict(sorted(fits.items())), time.perf_counter() - started)


def _score_population(
    summary: pl.DataFrame, as_of: date, config: ChurnConfig
) -> tuple[pl.DataFrame, PopulationFit]:
    x = summary["frequency"].to_numpy().astype(np.float64)
    t_x = summary["recency_days"].to_numpy() / DAYS_PER_WEEK
    T = summary["T_days"].to_numpy() / DAYS_PER_WEEK
    # a first order on the as-of day itself has T = 0, which the likelihood cannot use
    fit_rows = T > 0
    params, ll = fit_bgnbd(x[fit_rows], t_x[fit_rows], T[fit_rows])
    alive = p_alive(params, x, t_x, T)
    silence = silence_probability(params, x, t_x, T)
    horizon = config.horizon_days / DAYS_PER_WEEK
    purchases_90 = expected_purchases(params, horizon, x, t_x, T)
    purchases_year = expected_purchases(params, config.value_days / DAYS_PER_WEEK, x, t_x, T)

    # one-time buyers: the population's return curve, not BG/NBD's P(alive) = 1
    days_to_second = np.where(
        x > 0, summary["days_to_second"].fill_null(0).to_numpy(), T * DAYS_PER_WEEK
    )
    curve = return_curve(days_to_second, x > 0, config.one_time_tail_min_at_risk)
    one_time = x == 0
    rule = one_time_buyer_p_alive(curve, T * DAYS_PER_WEEK)
    model_alive = alive.copy()
    alive = np.where(one_time, rule, alive)
    # E[Y] = P(alive) · E[Y | alive]: rescale the model's expectation to the rule's P(alive)
    purchases_90 = np.where(
        one_time, purchases_90 * rule / np.maximum(model_alive, 1e-12), purchases_90
    )
    purchases_year = np.where(
        one_time, purchases_year * rule / np.maximum(model_alive, 1e-12), purchases_year
    )

    # spend: Gamma-Gamma on repeat purchases' mean value
    repeat_mean = np.where(
        x > 0, summary["repeat_revenue_cny"].to_numpy() / np.maximum(x, 1), np.nan
    )
    gg: GammaGammaParams | None = None
    spend = np.where(x > 0, repeat_mean, summary["first_order_revenue_cny"].to_numpy())
    if int(np.sum((x > 0) & (repeat_mean > 0))) >= 10:
        gg = fit_gamma_gamma(x, repeat_mean)
        if gg.q > 1:
            spend = np.where(x > 0, expected_spend(gg, x, repeat_mean), spend)
    value_12m = purchases_year * np.nan_to_num(spend)

    next_order = next_order_dates(
        summary["last_order_date"].to_list(),
        summary["median_recent_gap_days"].to_numpy(),
        alive,
        x,
        params,
        T,
        as_of,
        config.min_p_alive_for_next_order,
    )
    scores = summary.select(
        "customer_key",
        pl.lit(as_of).alias("as_of_date"),
        pl.Series("churn_probability", np.round(1.0 - alive, 6)),
        pl.Series("p_alive", np.round(alive, 6)),
        pl.Series("p_alive_rule", np.where(one_time, "one_time_buyer_return_curve", "bgnbd")),
        "population",
        pl.lit(round(1.0 - curve.never, 6)).alias("population_repeat_rate"),
        pl.Series("silence_probability", np.round(silence, 6), nan_to_null=True),
        pl.Series("expected_purchases_90d", np.round(purchases_90, 4)),
        pl.Series("expected_next_order_date", next_order, dtype=pl.Date),
        pl.Series("expected_spend_cny", np.round(np.nan_to_num(spend), 2)),
        pl.Series("value_12m_cny", np.round(value_12m, 2)),
        pl.lit(MODEL_NAME).alias("model"),
        "frequency",
        "recency_days",
        "T_days",
        "purchases",
        "first_order_date",
        "last_order_date",
        "days_since_last_order",
        "mean_interorder_days",
        "median_recent_gap_days",
        "revenue_total_cny",
    )
    fit = PopulationFit(int(np.sum(fit_rows)), params, ll, gg, curve)
    return scores, fit


def next_order_dates(
    last_order: list[date],
    typical_gap_days: np.ndarray,
    alive: np.ndarray,
    x: np.ndarray,
    params: BgNbdParams,
    T_weeks: np.ndarray,
    as_of: date,
    min_p_alive: float,
) -> list[date | None]:
    """Repeat buyers: last order + their typical (median recent) gap. When that date has
    passed, as_of + the model's expected wait for a customer still alive,
    (alpha + T)/(r + x - 1) weeks (the mean of the posterior Gamma rate's inverse);
    none when P(alive) is below `min_p_alive` or for one-time buyers."""
    out: list[date | None] = []
    for last, gap, p, xi, t in zip(
        last_order,
        typical_gap_days.tolist(),
        alive.tolist(),
        x.tolist(),
        T_weeks.tolist(),
        strict=True,
    ):
        if xi <= 0 or gap is None or not math.isfinite(gap) or p < min_p_alive:
            out.append(None)
            continue
        due = last + timedelta(days=max(1, round(gap)))
        if due <= as_of:
            shape = params.r + xi - 1
            wait = (params.alpha + t) / shape * DAYS_PER_WEEK if shape > 0 else gap
            due = as_of + timedelta(days=max(1, round(min(wait, 3650))))
        out.append(due)
    return out


# ---------------------------------------------------------------------------- the stage
@dataclass
class CustomerIntelligenceResult:
    scores: ScoreResult
    alerts: pl.DataFrame
    seconds: float
    rule_actions: pl.DataFrame | None = None

    @property
    def as_of(self) -> date:
        return self.scores.as_of

    def summary(self) -> str:
        counts = self.alerts.group_by("alert_type").len().sort("alert_type")
        by_type = ", ".join(f"{t} {n:,}" for t, n in counts.iter_rows()) or "none"
        actions = (
            "" if self.rule_actions is None else f"; rule actions {self.rule_actions.height:,}"
        )
        return f"{self.scores.summary()}; alerts: {by_type}{actions}"


def _replace(
    con: duckdb.DuckDBPyConnection, table: str, view: str, where: str, params: list
) -> None:
    """Delete `where` from ml.<table> and insert the rows of `view`; a column the table
    does not have yet (an older run's table) is added first."""
    con.execute(f"CREATE TABLE IF NOT EXISTS ml.{table} AS SELECT * FROM {view} LIMIT 0")
    existing = {
        name
        for (name,) in con.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'ml' AND table_name = ?",
            [table],
        ).fetchall()
    }
    for name, type_, *_ in con.execute(f"DESCRIBE SELECT * FROM {view}").fetchall():
        if name not in existing:
            con.execute(f'ALTER TABLE ml.{table} ADD COLUMN "{name}" {type_}')
    con.execute(f"DELETE FROM ml.{table} WHERE {where}", params)
    con.execute(f"INSERT INTO ml.{table} BY NAME SELECT * FROM {view}")


def write_customer_intelligence(
    con: duckdb.DuckDBPyConnection,
    scores: pl.DataFrame,
    alerts: pl.DataFrame,
    as_of: date,
    rule_actions: pl.DataFrame | None = None,
) -> None:
    """One transaction: the history tables get this as_of's rows (replacing a re-run's),
    the current tables (what the feeds publish) hold this run only."""
    con.execute("CREATE SCHEMA IF NOT EXISTS ml")
    con.register("_scores_rows", scores.to_arrow())
    con.register("_alert_rows", alerts.to_arrow())
    if rule_actions is not None:
        con.register("_action_rows", rule_actions.to_arrow())
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            _replace(con, "customer_scores_history", "_scores_rows", "as_of_date = ?", [as_of])
            _replace(con, "customer_scores", "_scores_rows", "true", [])
            _replace(con, "churn_alerts_history", "_alert_rows", "raised_on = ?", [as_of])
            _replace(con, "churn_alerts", "_alert_rows", "true", [])
            if rule_actions is not None:
                _replace(con, "rule_actions", "_action_rows", "true", [])
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
    finally:
        con.unregister("_scores_rows")
        con.unregister("_alert_rows")
        if rule_actions is not None:
            con.unregister("_action_rows")


class ChurnInputError(RuntimeError):
    """The order marts the customer scores need are missing or empty."""


def run_customer_intelligence(
    db_path: Path,
    as_of: date | None = None,
    config: ChurnConfig | None = None,
    alert_config: AlertConfig | None = None,
    rules_path: Path | None = None,
) -> CustomerIntelligenceResult:
    """Score every customer as of `as_of` (default: the latest order date), raise the
    alerts, apply the business rules (`rules_path`, default the shipped rules; checked
    before anything runs), and write ml.customer_scores(_history), ml.churn_alerts
    (_history) and ml.rule_actions."""
    from models_ml.rules import evaluate_rules, load_rules

    config = config or ChurnConfig()
    started = time.perf_counter()
    rules = load_rules(rules_path)  # a bad rule stops the run here, naming the rule
    with duckdb.connect(str(db_path)) as con:
        if not alerts._table_exists(con, "marts", "fct_order_lines"):
            raise ChurnInputError(f"{db_path}: marts.fct_order_lines missing (run transform)")
        as_of = as_of or latest_order_date(con)
        if as_of is None:
            raise ChurnInputError(
                f"{db_path}: marts.fct_order_lines has no customer orders "
                f"(orders come from {ORDER_SOURCES})"
            )
        purchases = load_purchases(con, as_of)
        if purchases.is_empty():
            raise ChurnInputError(
                f"{db_path}: no customer orders on or before {as_of} (orders come from "
                f"{ORDER_SOURCES})"
            )
        summary = customer_summary(purchases, as_of, config.recent_gaps)
        fit_rows = summary.filter(pl.col("T_days") > 0).height
        if fit_rows < config.min_customers:
            raise ChurnInputError(
                f"{db_path}: {fit_rows} customer(s) with order history before {as_of}; "
                f"the model needs at least {config.min_customers}"
            )
        result = score_customers(summary, as_of, config)
        inputs = alerts.alert_inputs(con, result.scores, as_of, alert_config)
        raised = alerts.raise_alerts(inputs, as_of, alert_config)
        actions = evaluate_rules(con, rules, as_of, scores=result.scores)
        log.info(
            "customers: writing %d scores and %d alerts as of %s",
            result.scores.height,
            raised.height,
            as_of,
        )
        write_customer_intelligence(con, result.scores, raised, as_of, actions)
    outcome = CustomerIntelligenceResult(result, raised, time.perf_counter() - started, actions)
    log.info(outcome.summary())
    return outcome
