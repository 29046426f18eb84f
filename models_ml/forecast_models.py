"""The forecasting methods and their backtest, on one series at a time (numpy in, numpy out).

Everything here runs inside a worker process: no database, no shared state besides
the calendar handed to `init_worker`. A series is a dense daily array `y` from its
first day of demand to the as-of date, a promotion array covering the history and
the horizon, and its route (the model chosen by `forecast.classify`).

Methods
- `prophet_daily`: Prophet on daily demand with weekly and (≥ 1 year of history)
  yearly seasonality, the Chinese calendar as holidays and SKU promotions as a
  regressor. Few changepoints, MAP fit (no MCMC), no sampling: intervals come from
  the backtest residuals like every other method's.
- `prophet_weekly`: the same on 7-day totals (weeks ending on the forecast origin's
  last day), for series too sparse by day but steady by week; the weekly forecast is
  split into days by the series' weekday shares.
- `croston_sba`, `tsb`: a demand rate for intermittent series (statsforecast's CrostonSBA
  and TSB formulas, written out: see `_intermittent_rate`), shaped into days by the
  weekday shares.
- `seasonal_naive`: the last observed week, repeated (the baseline).
"""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from models_ml.forecast_config import interval_z

SEED = 20251130
# raise when a method forecasts differently from the same inputs: every stored fit of an
# older version is then fitted again (ForecastConfig.fit_settings, models_ml/refit).
# 2: Croston's first interval is the mean gap between demands; intermittent series also
# backtest the other intermittent method
METHOD_VERSION = 2
TSB_ALPHA_D = 0.1
TSB_ALPHA_P = 0.1
# an intermittent route also backtests the other intermittent method (forecast_series)
INTERMITTENT = {"croston_sba": "tsb", "tsb": "croston_sba"}
_NAMES = {"croston_sba": "Croston SBA", "tsb": "TSB"}
WEEKDAY_SHRINK_DAYS = 28
# MAP fit by L-BFGS with a fixed seed; a fit that stops short of convergence keeps its
# last iterate instead of Prophet's fallback to Newton (seconds per series, same forecast
# for practical purposes, and the backtest judges the result anyway).
FIT_ARGS = {
    "algorithm": "LBFGS",
    "seed": SEED,
    "iter": 2000,
    "require_converged": False,
}  # own weekday shares weigh n/(n + 28) with n days of demand

logging.getLogger("prophet.plot").setLevel(logging.CRITICAL)  # "plotly failed" on import

_HOLIDAYS = None  # pandas DataFrame (holiday, ds) set by init_worker


@dataclass(frozen=True)
class SeriesTask:
    warehouse_id: str
    sku: str
    route: str  # prophet_daily | prophet_weekly | croston_sba | tsb
    start: date  # first day of y
    y: np.ndarray  # daily demand, start .. as_of
    promo: np.ndarray  # discount fraction, start .. as_of + horizon
    fallback_shares: np.ndarray  # weekday shares (Monday first) of the warehouse


@dataclass(frozen=True)
class BacktestSettings:
    horizon: int = 56
    n_origins: int = 3
    origin_step: int = 28
    min_train_days: int = 56
    interval: float = 0.8


@dataclass
class SeriesResult:
    warehouse_id: str
    sku: str
    model: str
    note: str  # what the backtest decided, appended to the routing reason
    yhat: np.ndarray
    yhat_lower: np.ndarray
    yhat_upper: np.ndarray
    metrics: dict[str, float] = field(default_factory=dict)


# ---------------------------------------------------------------- worker setup


def quiet_prophet() -> None:
    import prophet  # noqa: F401  (it sets its loggers' levels on import: import first)

    for name in ("cmdstanpy", "prophet", "prophet.plot", "prophet.forecaster"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    logging.getLogger("cmdstanpy").disabled = True
    warnings.filterwarnings("ignore", module="prophet")


def init_worker(holidays_frame) -> None:
    """Per process: silence Prophet and cmdstanpy, keep the calendar."""
    global _HOLIDAYS
    quiet_prophet()
    _HOLIDAYS = holidays_frame


# ---------------------------------------------------------------- helpers


def weekday_shares(y: np.ndarray, start: date, fallback: np.ndarray) -> np.ndarray:
    """Share of a week's demand per weekday (Monday first) over the last 364 days,
    shrunk towards the warehouse's shares when the series has few days of demand."""
    tail = y[-364:]
    first_weekday = (start + timedelta(days=len(y) - len(tail))).weekday()
    weekdays = (np.arange(len(tail)) + first_weekday) % 7
    own = np.bincount(weekdays, weights=tail, minlength=7)
    n = float(np.count_nonzero(tail))
    if own.sum() <= 0:
        return fallback
    w = n / (n + WEEKDAY_SHRINK_DAYS)
    shares = w * own / own.sum() + (1 - w) * fallback
    return shares / shares.sum()


def shape_by_weekday(rate: float, first_day: date, h: int, shares: np.ndarray) -> np.ndarray:
    weekdays = (np.arange(h) + first_day.weekday()) % 7
    return rate * 7.0 * shares[weekdays]


# ---------------------------------------------------------------- methods


def seasonal_naive(y: np.ndarray, h: int) -> np.ndarray:
    last = y[-7:] if len(y) >= 7 else np.full(7, y.mean() if len(y) else 0.0)
    return np.resize(last, h).astype(np.float64)


def ses_level(x: np.ndarray, alpha: float) -> float:
    """Simple exponential smoothing's last level: l₀ = x₀, lₜ = α·xₜ + (1 − α)·lₜ₋₁."""
    values = np.asarray(x, dtype=np.float64).tolist()
    level = values[0]
    for v in values[1:]:
        level = alpha * v + (1 - alpha) * level
    return level


def tsb_rate(y: np.ndarray, alpha_d: float = TSB_ALPHA_D, alpha_p: float = TSB_ALPHA_P) -> float:
    """TSB (Teunter, Syntetos, Babai 2011): smoothed probability of demand × smoothed size."""
    y = np.asarray(y, dtype=np.float64)
    if not np.any(y != 0):
        return 0.0
    return ses_level((y != 0).astype(np.float64), alpha_p) * ses_level(y[y > 0], alpha_d)


def croston_sba_rate(y: np.ndarray, alpha: float = 0.1) -> float:
    """Croston with the Syntetos–Boylan correction: 0.95 × smoothed size ÷ smoothed interval."""
    y = np.asarray(y, dtype=np.float64)
    sizes = y[y > 0]
    if not sizes.size:
        return float(y[-1]) * 0.95 if len(y) else 0.0
    intervals = np.diff(np.flatnonzero(y != 0) + 1, prepend=0).astype(np.float64)
    size, interval = ses_level(sizes, alpha), ses_level(intervals, alpha)
    return (size / interval if interval != 0.0 else size) * 0.95


def _intermittent_rate(y: np.ndarray, method: str) -> float:
    """The rate of statsforecast's CrostonSBA() / TSB(0.1, 0.1), bit for bit (tested against
    it). Written out because importing statsforecast.models (statsmodels, scipy.stats,
    its own pandas core) costs every worker process 2–20 s, more than the ~1,600
    intermittent series of a scale-1 run take to compute."""
    if not np.any(y > 0):
        return 0.0
    return croston_sba_rate(_croston_lead_in(y)) if method == "croston_sba" else tsb_rate(y)


def _croston_lead_in(y: np.ndarray) -> np.ndarray:
    """y with zeros in front so that Croston's first interval is the mean gap between its
    demands (the whole history for a single demand). Croston starts its interval level at
    the first interval, counted from the start of y; a series starts on its first demand,
    so that would be 1 day, not an observation, and with few demands the level stays near
    it: one order of 30,000 70 days ago forecast 28,500 a day."""
    days = np.flatnonzero(y > 0)
    gap = (days[-1] - days[0]) / (len(days) - 1) if len(days) > 1 else float(len(y))
    lead = max(int(round(gap)) - 1 - int(days[0]), 0)
    return np.concatenate([np.zeros(lead), y]) if lead else y


class FeatureCache:
    """Prophet's regression features (Fourier terms and holiday indicators) of one series,
    computed once over every date its fits and forecasts can touch and sliced per call.

    A series is fitted four times (three backtest origins and the final fit) and each fit
    builds its features twice (fit and predict); these are pure functions of the dates,
    the seasonalities and the holidays, so rows computed over the whole range are the
    rows a shorter history would get. Keyed by the model's seasonalities, its holidays
    (their content: the weekly calendar differs by origin) and its regressors' names."""

    def __init__(self, first: date, periods: int, step_days: int = 1) -> None:
        import pandas as pd

        self.ds = pd.date_range(first, periods=periods, freq=f"{step_days}D")
        self.step_days = step_days
        self.entries: dict[tuple, tuple] = {}

    def positions(self, ds) -> np.ndarray | None:
        """Row of each of `ds` in the cached range (None when one falls outside it)."""
        days = (ds - self.ds[0]).dt.days.to_numpy()
        pos = days // self.step_days
        if len(pos) == 0 or pos.min() < 0 or pos.max() >= len(self.ds):
            return None
        if not np.array_equal(
            self.ds[pos].asi8, ds.to_numpy().astype("datetime64[ns]").astype(np.int64)
        ):
            return None
        return pos


_CACHED_PROPHET = None


def _cached_prophet_class():
    """Prophet whose feature matrix comes from a FeatureCache, and whose prediction skips
    the per-component breakdown we never read (only the additive and multiplicative
    totals make yhat). Both give yhat bit for bit as Prophet does (tested)."""
    global _CACHED_PROPHET
    if _CACHED_PROPHET is not None:
        return _CACHED_PROPHET
    import pandas as pd
    from prophet import Prophet

    class CachedFeatureProphet(Prophet):
        feature_cache: FeatureCache | None = None

        def _feature_key(self) -> tuple:
            seasonalities = tuple(
                (
                    k,
                    v["period"],
                    v["fourier_order"],
                    v["prior_scale"],
                    v["mode"],
                    v["condition_name"],
                )
                for k, v in self.seasonalities.items()
            )
            holidays = None
            if self.holidays is not None:
                h = self.holidays
                holidays = tuple(
                    zip(
                        h["holiday"].tolist(),
                        h["ds"].astype("datetime64[ns]").astype(np.int64).tolist(),
                        h.get("lower_window", pd.Series(0, index=h.index)).tolist(),
                        h.get("upper_window", pd.Series(0, index=h.index)).tolist(),
                        strict=True,
                    )
                )
            regressors = tuple(
                (k, v["prior_scale"], v["mode"], v["mu"], v["std"])
                for k, v in self.extra_regressors.items()
            )
            return (
                seasonalities,
                holidays,
                regressors,
                self.holidays_mode,
                self.holidays_prior_scale,
                self.country_holidays,
            )

        def make_all_seasonality_features(self, df):
            cache = self.feature_cache
            pos = cache.positions(df["ds"]) if cache is not None else None
            if pos is None:
                return super().make_all_seasonality_features(df)
            key = self._feature_key()
            if key not in cache.entries:
                full = pd.DataFrame({"ds": cache.ds})
                for name in self.extra_regressors:
                    full[name] = 0.0  # a placeholder column: the caller's values go in below
                features, priors, component_cols, modes = super().make_all_seasonality_features(
                    full
                )
                names = None if self.train_holiday_names is None else list(self.train_holiday_names)
                cache.entries[key] = (features, priors, component_cols, modes, names)
            features, priors, component_cols, modes, names = cache.entries[key]
            if self.train_holiday_names is None and names is not None:
                self.train_holiday_names = pd.Series(names)
            rows = features.iloc[pos].reset_index(drop=True)
            for name in self.extra_regressors:
                rows[name] = df[name].to_numpy()
            return (
                rows,
                list(priors),
                component_cols.copy(),
                {mode: list(cols) for mode, cols in modes.items()},
            )

        def predict_seasonal_components(self, df):
            if self.uncertainty_samples:
                return super().predict_seasonal_components(df)
            features, _, component_cols, _ = self.make_all_seasonality_features(df)
            x = features.values
            data = {}
            for component in ("additive_terms", "multiplicative_terms"):
                beta_c = self.params["beta"] * component_cols[component].values
                comp = np.matmul(x, beta_c.transpose())
                if component in self.component_modes["additive"]:
                    comp *= self.y_scale
                data[component] = np.nanmean(comp, axis=1)
            return pd.DataFrame(data)

    _CACHED_PROPHET = CachedFeatureProphet
    return _CACHED_PROPHET


def _prophet(
    weekly: bool,
    n_days: int,
    n_train: int,
    with_promo: bool,
    holidays,
    features: FeatureCache | None = None,
):
    prophet_class = _cached_prophet_class()
    yearly = 4 if n_days >= 365 else False
    model = prophet_class(
        growth="linear",
        n_changepoints=min(5 if weekly else 8, max(n_train // 8, 1)),
        changepoint_range=0.8,
        changepoint_prior_scale=0.05,
        yearly_seasonality=yearly,
        weekly_seasonality=False if weekly else 3,
        daily_seasonality=False,
        holidays=holidays,
        holidays_prior_scale=5.0,
        uncertainty_samples=0,
        mcmc_samples=0,
    )
    if with_promo:
        model.add_regressor("promo", prior_scale=5.0, standardize=False)
    model.feature_cache = features
    return model


def _fit(model, history) -> None:
    """Fit with the data handed to CmdStan as JSON written by `json.dumps`.

    cmdstanpy writes a dict of inputs with json's pure-Python encoder (without ujson),
    a third of a Prophet fit's time here; the C encoder writes the same text, so CmdStan
    reads the same numbers and the fit is unchanged."""
    optimize = model.stan_backend.model.optimize

    def optimize_from_files(data, inits, **kwargs):
        with tempfile.TemporaryDirectory(prefix="wmsight-stan-") as tmp:
            data_path, inits_path = os.path.join(tmp, "data.json"), os.path.join(tmp, "inits.json")
            for path, values in ((data_path, data), (inits_path, inits)):
                with open(path, "w") as handle:
                    handle.write(json.dumps({k: _plain(v) for k, v in values.items()}))
            return optimize(data=data_path, inits=inits_path, **kwargs)

    model.stan_backend.model.optimize = optimize_from_files
    model.fit(history, **FIT_ARGS)


def _plain(value):
    """What stanio would write: numbers and nested lists (booleans as integers)."""
    array = np.asarray(value)
    if array.dtype == bool:
        array = array.astype(np.int64)
    return array.tolist()


def prophet_daily(
    y: np.ndarray, start: date, promo: np.ndarray, h: int, features: FeatureCache | None = None
) -> np.ndarray:
    import pandas as pd

    n = len(y)
    ds = pd.date_range(start, periods=n + h, freq="D")
    with_promo = bool(np.any(promo[:n] > 0))
    history = pd.DataFrame({"ds": ds[:n], "y": y})
    future = pd.DataFrame({"ds": ds[n:]})
    if with_promo:
        history["promo"] = promo[:n]
        future["promo"] = promo[n : n + h]
    model = _prophet(False, n, n, with_promo, _HOLIDAYS, features)
    _fit(model, history)
    return model.predict(future)["yhat"].to_numpy()


def _weekly_holidays(first_block: date, n_blocks: int):
    """The calendar moved onto block starts: an event day belongs to its 7-day block."""
    import pandas as pd

    if _HOLIDAYS is None or len(_HOLIDAYS) == 0:
        return None
    base = pd.Timestamp(first_block)
    offset = (_HOLIDAYS["ds"] - base).dt.days
    inside = (offset >= 0) & (offset < 7 * n_blocks)
    moved = pd.DataFrame(
        {
            "holiday": _HOLIDAYS["holiday"][inside],
            "ds": base + pd.to_timedelta((offset[inside] // 7) * 7, unit="D"),
        }
    )
    return moved.drop_duplicates().reset_index(drop=True)


def prophet_weekly(
    y: np.ndarray,
    start: date,
    promo: np.ndarray,
    h: int,
    shares: np.ndarray,
    features: FeatureCache | None = None,
) -> np.ndarray:
    """7-day totals (complete blocks ending at the last day of y), Prophet, split by weekday."""
    import pandas as pd

    n = len(y)
    n_blocks = n // 7
    skip = n - 7 * n_blocks
    weekly = y[skip:].reshape(n_blocks, 7).sum(axis=1)
    h_blocks = math.ceil(h / 7)
    first_block = start + timedelta(days=skip)
    ds = pd.date_range(first_block, periods=n_blocks + h_blocks, freq="7D")
    promo_full = np.zeros(7 * (n_blocks + h_blocks))
    available = promo[skip : skip + len(promo_full)]
    promo_full[: len(available)] = available
    promo_blocks = promo_full.reshape(-1, 7).mean(axis=1)
    with_promo = bool(np.any(promo_blocks[:n_blocks] > 0))
    history = pd.DataFrame({"ds": ds[:n_blocks], "y": weekly})
    future = pd.DataFrame({"ds": ds[n_blocks:]})
    if with_promo:
        history["promo"] = promo_blocks[:n_blocks]
        future["promo"] = promo_blocks[n_blocks:]
    holidays = _weekly_holidays(first_block, n_blocks + h_blocks)
    model = _prophet(True, n, n_blocks, with_promo, holidays, features)
    _fit(model, history)
    per_block = np.clip(model.predict(future)["yhat"].to_numpy(), 0, None)
    first_day = start + timedelta(days=n)
    weekdays = (np.arange(7 * h_blocks) + first_day.weekday()) % 7
    return (np.repeat(per_block, 7) * shares[weekdays])[:h]


def predict(
    method: str,
    y: np.ndarray,
    start: date,
    promo: np.ndarray,
    h: int,
    fallback: np.ndarray,
    features: FeatureCache | None = None,
) -> np.ndarray:
    """A forecast of the h days after y by one method, clamped at ≥ 0. `features`: the
    series' Prophet feature cache (its range must cover y and the h days after it)."""
    first_day = start + timedelta(days=len(y))
    if method == "seasonal_naive":
        out = seasonal_naive(y, h)
    elif method in ("croston_sba", "tsb"):
        rate = _intermittent_rate(y[-728:], method)
        out = shape_by_weekday(rate, first_day, h, weekday_shares(y, start, fallback))
    elif method == "prophet_daily":
        out = prophet_daily(y, start, promo, h, features)
    elif method == "prophet_weekly":
        out = prophet_weekly(y, start, promo, h, weekday_shares(y, start, fallback), features)
    else:
        raise ValueError(f"unknown forecast method {method!r}")
    return np.clip(np.nan_to_num(out, nan=0.0), 0.0, None)


# ---------------------------------------------------------------- backtest


def backtest_origins(n: int, settings: BacktestSettings) -> list[int]:
    """Positions in y where a backtest forecast starts: windows of `horizon` days ending
    at the last day, `origin_step` apart, each with at least `min_train_days` before it."""
    origins = []
    for k in range(settings.n_origins):
        origin = n - settings.horizon - k * settings.origin_step
        if origin >= settings.min_train_days:
            origins.append(origin)
    return sorted(origins)


@dataclass
class _Errors:
    errors: list[np.ndarray] = field(default_factory=list)  # forecast − actual per origin

    def add(self, forecast: np.ndarray, actual: np.ndarray) -> None:
        self.errors.append(forecast - actual)

    @property
    def all(self) -> np.ndarray:
        return np.concatenate(self.errors) if self.errors else np.zeros(0)


def _feature_cache(route: str, start: date, n: int, h: int) -> FeatureCache | None:
    """One feature cache per Prophet series, over its history and the horizon after it
    (weekly: the 7-day blocks ending on the last day, which every origin 7·k days earlier
    shares)."""
    if route == "prophet_daily":
        return FeatureCache(start, n + h)
    if route == "prophet_weekly":
        skip = n % 7
        return FeatureCache(start + timedelta(days=skip), n // 7 + math.ceil(h / 7), 7)
    return None


def forecast_series(task: SeriesTask, settings: BacktestSettings) -> SeriesResult:
    """Backtest the routed method against seasonal naive, keep the better one (lower WAPE
    over every origin; a tie keeps the routed method), forecast with it from the full
    history, and put an interval around it from its backtest errors."""
    started = time.perf_counter()
    y, h = task.y, settings.horizon
    origins = backtest_origins(len(y), settings)
    candidates = [task.route, "seasonal_naive"]
    if task.route in INTERMITTENT:
        # Croston's interval level moves only when a demand comes, so it goes on expecting
        # the old frequency from a product that is fading; TSB's probability decays daily.
        # Both are cheap: the backtest picks the one whose level held
        candidates.insert(1, INTERMITTENT[task.route])
    errors = {c: _Errors() for c in candidates}
    features = _feature_cache(task.route, task.start, len(y), h)
    actual_parts = []
    for origin in origins:
        actual = y[origin : origin + h]
        actual_parts.append(actual)
        for method in candidates:
            yhat = predict(
                method, y[:origin], task.start, task.promo, h, task.fallback_shares, features
            )
            errors[method].add(yhat, actual)
    actual_all = np.concatenate(actual_parts) if actual_parts else np.zeros(0)
    total = float(actual_all.sum())

    def wape(method: str) -> float:
        return float(np.abs(errors[method].all).sum() / total) if total > 0 else math.nan

    def score(method: str) -> float:
        # WAPE alone rewards forecasting zero for sparse series (the median of a day's
        # demand is 0); replenishment needs the level right, so bias counts as much
        return wape(method) + abs(float(errors[method].all.sum()) / total)

    chosen, note = task.route, "no backtest (history too short)"
    if origins:
        if total <= 0:
            note = f"backtest over {len(origins)} origin(s) saw no demand"
        else:
            # the routed method, or the other intermittent one when it did better
            best = min(candidates[:-1], key=score)  # min keeps the first of a tie: the routed
            best_score, naive = score(best), score("seasonal_naive")
            verdict = (
                f"backtest WAPE+|bias| {best_score:.2f} (WAPE {wape(best):.2f}) vs seasonal "
                f"naive {naive:.2f} (WAPE {wape('seasonal_naive'):.2f}) over {len(origins)} "
                "origin(s)"
            )
            if best != task.route:
                verdict = (
                    f"{verdict}; {_NAMES[best]} beat the routed {_NAMES[task.route]} "
                    f"({score(task.route):.2f})"
                )
            if naive < best_score:
                chosen = "seasonal_naive"
                note = f"{verdict} → seasonal naive kept"
            else:
                chosen = best
                note = verdict
    yhat = predict(chosen, y, task.start, task.promo, h, task.fallback_shares, features)

    err = errors[chosen].all
    base = errors["seasonal_naive"].all
    metrics: dict[str, float] = {"n_origins": float(len(origins))}
    if len(err):
        scale_history = y[: origins[0]]
        diffs = np.abs(scale_history[7:] - scale_history[:-7])
        scale = float(diffs.mean()) if len(diffs) else math.nan
        mase = float(np.abs(err).mean() / scale) if scale and scale > 0 else math.nan
        base_mase = float(np.abs(base).mean() / scale) if scale and scale > 0 else math.nan
        metrics |= {
            "wape": wape(chosen),
            "mase": mase,
            "bias": float(err.sum() / total) if total > 0 else math.nan,
            "baseline_wape": wape("seasonal_naive"),
            "baseline_mase": base_mase,
            "error_sd_daily": float(err.std(ddof=1)) if len(err) > 1 else math.nan,
            "mean_daily_demand": float(actual_all.mean()),
            "actual_sum": total,
            "abs_error_sum": float(np.abs(err).sum()),
            "error_sum": float(err.sum()),
            "baseline_abs_error_sum": float(np.abs(base).sum()),
            "routed_wape": wape(task.route),
        }
        tail = (1 - settings.interval) / 2
        # actual = forecast − error: the interval is the forecast minus error quantiles
        lo_q, hi_q = np.quantile(err, [1 - tail, tail])
        lower, upper = yhat - lo_q, yhat - hi_q
    else:
        metrics["mean_daily_demand"] = float(y.mean()) if len(y) else 0.0
        sd = math.sqrt(max(metrics["mean_daily_demand"], 0.0))
        z = interval_z(settings.interval)
        lower, upper = yhat - z * sd, yhat + z * sd
        metrics["error_sd_daily"] = sd
    metrics["fit_seconds"] = time.perf_counter() - started
    return SeriesResult(
        warehouse_id=task.warehouse_id,
        sku=task.sku,
        model=chosen,
        note=note,
        yhat=yhat,
        yhat_lower=np.clip(np.minimum(lower, yhat), 0.0, None),
        yhat_upper=np.maximum(upper, yhat),
        metrics=metrics,
    )


def forecast_chunk(tasks: list[SeriesTask], settings: BacktestSettings) -> list[SeriesResult]:
    return [forecast_series(task, settings) for task in tasks]
