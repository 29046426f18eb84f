"""The forecast stage's settings, apart from its models.

Light to import (pydantic only): `wmsight.config` reads them from WMSIGHT_FORECAST__*
settings for every command and each Airflow task.
"""

from __future__ import annotations

from statistics import NormalDist
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from models_ml.forecast_models import BacktestSettings


class ForecastConfig(BaseModel):
    """How series are classified, backtested and forecast (docs/FORECAST.md)."""

    model_config = ConfigDict(frozen=True)

    horizon_days: int = Field(56, ge=7, le=366, description="days forecast after the as-of date")
    n_origins: int = Field(3, ge=1, description="rolling origins of the backtest")
    origin_step_days: int = Field(28, ge=1, description="days between backtest origins")
    min_train_days: int = Field(56, ge=14, description="history a backtest origin needs")
    adi_threshold: float = Field(1.32, gt=1, description="ADI above which demand is intermittent")
    cv2_threshold: float = Field(0.49, gt=0, description="CV² above which demand is erratic")
    classification_window_days: int = Field(365, ge=28)
    new_history_days: int = Field(
        56, ge=0, description="first demand less than this many days ago: a new series"
    )
    prophet_min_history_days: int = Field(182, ge=28)
    discontinued_after_days: int = Field(
        91, ge=1, description="no demand for longer than this: discontinued (no forecast)"
    )
    category_shrink_days: int = Field(
        28, ge=0, description="a new SKU's own rate weighs n / (n + this) against its category"
    )
    interval: float = Field(0.8, gt=0, lt=1, description="coverage of yhat_lower … yhat_upper")
    include_cancelled: bool = False
    chinese_calendar: bool = Field(
        True, description="Chinese holidays and festivals for Prophet (off for other markets)"
    )
    workers: int | None = Field(None, ge=1, description="None: one per CPU; 1: in this process")
    refit_every_days: int = Field(
        7, ge=1, le=7, description="each series is fitted again at least this often (refit.py)"
    )

    def backtest(self) -> BacktestSettings:
        from models_ml.forecast_models import BacktestSettings

        return BacktestSettings(
            horizon=self.horizon_days,
            n_origins=self.n_origins,
            origin_step=self.origin_step_days,
            min_train_days=self.min_train_days,
            interval=self.interval,
        )

    def fit_settings(self) -> str:
        """What a stored fit depends on besides its data (a change refits every series):
        these settings and the version of the methods."""
        from models_ml.forecast_models import METHOD_VERSION

        return repr(
            (self.backtest(), self.chinese_calendar, self.include_cancelled, METHOD_VERSION)
        )


def interval_z(interval: float) -> float:
    """z of a two-sided normal interval of this coverage (0.8 → 1.2816)."""
    return NormalDist().inv_cdf(0.5 + interval / 2)
