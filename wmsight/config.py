"""Configuration: command-line flags win, then WMSIGHT_* environment variables (or a .env
file), then defaults.

The defaults point at the embedded demo world under ./demo_data, so a first try
needs no setup at all. The forecast's and the plan's parameters are nested under
`forecast` and `plan`: WMSIGHT_FORECAST__HORIZON_DAYS=28,
WMSIGHT_PLAN__ORDER_COST_CNY=80, WMSIGHT_PLAN__SERVICE_LEVELS='{"A": 0.97, "B": 0.95,
"C": 0.9}' (docs/REPLENISHMENT.md lists them).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from models_ml.forecast_config import ForecastConfig
from models_ml.plan_config import PlanConfig

DEMO_ROOT = Path("demo_data")


class Settings(BaseSettings):
    """Where wmsight reads extracts, keeps its warehouse and publishes feeds."""

    model_config = SettingsConfigDict(
        env_prefix="WMSIGHT_", env_file=".env", extra="ignore", env_nested_delimiter="__"
    )

    extracts_dir: Path = DEMO_ROOT / "extracts"
    db_path: Path = DEMO_ROOT / "wmsight.duckdb"
    feeds_dir: Path = DEMO_ROOT / "feeds"
    # run folders kept under the feeds root (the newest ones; `latest` is always kept)
    feeds_keep_runs: int = Field(default=30, ge=1)
    log_level: str = "INFO"
    # extract files of a drop loaded at once; None: ingest.load.DEFAULT_WORKERS (two, or
    # one on a single core)
    ingest_workers: int | None = Field(default=None, ge=1)
    # the dashboard's users (streamlit-authenticator's YAML, bcrypt-hashed passwords);
    # None: the demo users shipped in dashboards/demo_users.yaml
    dashboard_users: Path | None = None
    # signs the dashboard's login cookie; None: the users file's own key
    dashboard_cookie_key: SecretStr | None = None
    # the replenishment plan's business parameters (service levels, costs, the cover's
    # cap …), the same for `wmsight run`, `wmsight plan`, `wmsight simulate` and Airflow
    plan: PlanConfig = Field(default_factory=PlanConfig)
    # the forecast's horizon, backtest and classification (WMSIGHT_FORECAST__HORIZON_DAYS …)
    forecast: ForecastConfig = Field(default_factory=ForecastConfig)


def load_settings(**overrides: object) -> Settings:
    """Settings with the given (non-None) overrides, e.g. from command-line flags."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
