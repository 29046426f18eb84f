"""The `wms_daily` DAG: `wmsight run`'s stages as Airflow tasks (docs: the DAG's docstring)."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from airflow.sdk import Asset, Param, TriggerRule, dag, get_current_context, task
from airflow.timetables.assets import AssetOrTimeSchedule
from airflow.timetables.trigger import CronTriggerTimetable
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import ExecutionMode, InvocationMode, LoadMode

from wmsight.config import load_settings
from wmsight.transform import PROJECT_DIR

if TYPE_CHECKING:
    from wmsight.runner import RunContext

POOL = "wmsight_duckdb"  # 1 slot: DuckDB has one writer
LOCK_WAIT_SECONDS = 3600.0  # a `wmsight run` holding the warehouse: wait for it
# Processes one forecast task fits with (default: one per CPU the worker's OS reports).
# Set it to what a worker gives one task: a Kubernetes pod's CPU limit or the host's
# CPUs / Celery concurrency; os.cpu_count() sees the whole node. 1 fits in the task's
# own process: no pool to start, whose workers each import the worker's __main__ (the
# `airflow` script: seconds per worker per task).
FORECAST_WORKERS_ENV = "WMSIGHT_FORECAST_WORKERS"
EXTRACTS_ASSET = Asset("wmsight://extracts")
# The feeds of data_contracts/feeds.py (a test keeps the two lists equal): named here so
# parsing the DAG does not import Great Expectations.
FEEDS = (
    "customer_360",
    "churn_alerts",
    "demand_forecast",
    "replenishment_plan",
    "transfer_recommendations",
    "feedback_routing",
    "rule_actions",
    "kpi_daily",
    # planners' decisions (the dashboard also republishes these between runs)
    "approved_purchase_orders",
    "approved_transfers",
)
FEED_ASSETS = {feed: Asset(f"wmsight://feeds/{feed}") for feed in FEEDS}
# Cosmos renders one task per dbt node from the project's manifest (`dbt parse` writes it
# when the DAG is deployed; `wmsight run` keeps its dbt state beside each warehouse):
# parsing the DAG then reads a file instead of running `dbt ls`, which takes longer than
# the DAG processor's import timeout on a busy machine.
DBT_MANIFEST = Path(
    os.environ.get("WMSIGHT_DBT_MANIFEST", str(PROJECT_DIR / "target" / "manifest.json"))
)


def _context(as_of: str | None = None) -> RunContext:
    """The run's paths from the settings (WMSIGHT_* environment), as `wmsight run` builds them."""
    from wmsight.runner import RunContext

    settings = load_settings()
    params = get_current_context()["params"]
    return RunContext(
        settings.extracts_dir.resolve(),
        settings.db_path.resolve(),
        settings.feeds_dir.resolve(),
        date.fromisoformat(as_of) if as_of else None,
        csv=bool(params.get("csv")),
        keep_runs=settings.feeds_keep_runs,
        ingest_workers=settings.ingest_workers,
        forecast=settings.forecast,
        plan=settings.plan,
    )


def _forecast_workers() -> int | None:
    value = os.environ.get(FORECAST_WORKERS_ENV, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{FORECAST_WORKERS_ENV}={value!r}: expected a whole number >= 1")
    return int(value)


def _run(stage_name: str, context: RunContext) -> dict:
    """Run one stage of `wmsight run` holding the warehouse's write lock; outcome to XCom."""
    from wmsight.runner import warehouse_lock
    from wmsight.stages import PIPELINE

    stage = next(s for s in PIPELINE if s.name == stage_name)
    with warehouse_lock(
        context.db_path, f"airflow wms_daily {stage.name}", wait_seconds=LOCK_WAIT_SECONDS
    ):
        outcome = stage.run(context)
    for warning in outcome.warnings:
        print(f"warning: {warning}")
    print(outcome.summary)
    return {"summary": outcome.summary, "skipped": outcome.skipped, "metrics": outcome.metrics}


_settings = load_settings()
# the dbt of the environment Airflow runs in (the worker's PATH may not have it), else PATH's
_DBT_BESIDE_PYTHON = Path(sys.executable).with_name("dbt")
DBT_EXECUTABLE = str(_DBT_BESIDE_PYTHON) if _DBT_BESIDE_PYTHON.exists() else "dbt"

default_args = {
    "owner": "wmsight",
    "retries": 2,
    "retry_delay": timedelta(minutes=2),
    "execution_timeout": timedelta(hours=2),
}


@dag(
    dag_id="wms_daily",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 6 * * *", timezone="UTC"), assets=EXTRACTS_ASSET
    ),
    start_date=datetime(2025, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["wmsight", "daily", "dbt", "feeds"],
    default_args=default_args,
    params={
        "as_of": Param(
            None,
            type=["null", "string"],
            format="date",
            description="Run date (default: the latest drop loaded, never the wall clock); "
            "drops dated after it are not loaded.",
        ),
        "csv": Param(False, type="boolean", description="Also publish CSV copies of the feeds."),
    },
)
def wms_daily():
    """
    ### wms_daily: the wmsight pipeline, one task per stage

    The same stages as `wmsight run` (`wmsight/stages.py`), wired as Airflow tasks:

    1. **ingest**: load every extract drop not loaded yet into DuckDB (`raw`), checked by the
       contracts; returns the run's as-of date (the `as_of` in the run conf, else the latest
       drop loaded, never the wall clock).
    2. **dbt**: the dbt project rendered by astronomer-cosmos in watcher mode: one `dbt build`
       (the producer) and one task per seed, model and test that shows its own status and log.
    3. **forecast**: demand forecasts, one mapped task per warehouse (none: skipped).
    4. **plan**: replenishment plan, transfers and purchase proposals.
    5. **customers**: churn probability, next order, 12-month value, churn alerts.
    6. **publish**: validate every feed against its contract and publish them atomically;
       each feed is an Asset (`wmsight://feeds/<feed>`) that downstream DAGs can schedule on.

    **Schedule**: daily at 06:00 UTC, or as soon as an event arrives on the Asset
    `wmsight://extracts` (post one when a drop lands: `POST /api/v2/assets/events`).

    **One writer**: DuckDB allows one writing process, so every task that opens the
    warehouse runs in the pool `wmsight_duckdb` (create it with 1 slot:
    `airflow pools set wmsight_duckdb 1 "DuckDB has one writer"`) and holds the warehouse's
    file lock, which also keeps a `wmsight run` on the same host out. The forecast tasks
    are the exception: they hold the lock only to read and to write, and fit in parallel.

    Paths come from `WMSIGHT_EXTRACTS_DIR`, `WMSIGHT_DB_PATH`, `WMSIGHT_FEEDS_DIR` (see
    `wmsight/config.py`). `dags/README.md` says how to run it locally and at scale.
    """

    @task(pool=POOL)
    def ingest() -> str | None:
        """Load new drops; return the run's as-of date (run conf, else the latest drop)."""
        from wmsight.runner import latest_drop_date, warehouse_lock
        from wmsight.transform import refresh_incremental_models

        requested = get_current_context()["params"].get("as_of")
        context = _context(requested)
        # a run as of an earlier date loads only the drops known by then
        _run("ingest", replace(context, drops_up_to=context.as_of))
        # cosmos's build below adds only drops newer than the last build to incremental
        # models: a drop delivered again rebuilds them from scratch first (and the loads
        # the build will absorb are recorded)
        with warehouse_lock(context.db_path, "airflow wms_daily refresh", LOCK_WAIT_SECONDS):
            refresh_incremental_models(context.db_path)
        as_of = requested or latest_drop_date(context.db_path)
        return str(as_of) if as_of else None

    dbt = DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(
            PROJECT_DIR,
            manifest_path=DBT_MANIFEST if DBT_MANIFEST.exists() else None,
            env_vars={
                "WMSIGHT_DB_PATH": str(_settings.db_path.resolve()),
                # unit tests check the SQL on static inputs, not the data: dbt's docs advise
                # running them in development and CI only. CI, `wmsight transform` and a first
                # `wmsight run` build run them; each daily DAG build would spend ~13 s on them
                "DBT_EXCLUDE_RESOURCE_TYPES": "unit_test",
            },
        ),
        profile_config=ProfileConfig(
            profile_name="wmsight",
            target_name="duckdb",
            profiles_yml_filepath=PROJECT_DIR / "profiles.yml",
        ),
        # `dbt build` as a subprocess, whose info-level JSON lines the watcher reads. In-process
        # (dbtRunner) the watcher gets every debug event of every node as a callback: the
        # same build on a tiny world took 96-106 s that way, against 23 s (docs/SCALING.md).
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.WATCHER,
            invocation_mode=InvocationMode.SUBPROCESS,
            dbt_executable_path=DBT_EXECUTABLE,
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST if DBT_MANIFEST.exists() else LoadMode.DBT_LS,
            dbt_executable_path=DBT_EXECUTABLE,
        ),
        # No retries in the dbt group. Cosmos's producer skips itself when retried (one
        # `dbt build` per run), and a skipped producer skips every task after it: a failed
        # build would end as a "successful" run that published nothing. The consumers only
        # read the build's node statuses here (see below). Given to the operators, not set
        # on them afterwards: Airflow's serializer keeps a 0 only from the constructor.
        operator_args={"pool": POOL, "retries": 0},
    )

    @task(pool=POOL)
    def warehouses(as_of: str | None) -> list[str]:
        """The warehouses to forecast: every warehouse with order lines."""
        import duckdb

        from wmsight.runner import warehouse_lock

        context = _context(as_of)
        with (
            warehouse_lock(context.db_path, "airflow wms_daily warehouses", LOCK_WAIT_SECONDS),
            duckdb.connect(str(context.db_path), read_only=True) as con,
        ):
            rows = con.execute(
                "SELECT DISTINCT warehouse_id FROM marts.fct_order_lines "
                "WHERE warehouse_key <> '(unknown)' AND warehouse_id IS NOT NULL ORDER BY 1"
            ).fetchall()
        return [w for (w,) in rows]

    # Not in the one-slot pool: a forecast task holds the file lock only to read its inputs
    # and to write its warehouse's rows, so the mapped tasks fit in parallel.
    @task(map_index_template="{{ task.op_kwargs['warehouse'] }}")
    def forecast(warehouse: str, as_of: str | None) -> dict:
        from models_ml.forecast import run_forecast

        context = _context(as_of)
        result = run_forecast(
            context.db_path,
            warehouses=[warehouse],
            as_of=context.as_of,
            config=context.forecast.model_copy(
                update={"workers": _forecast_workers() or context.forecast.workers}
            ),
            lock_wait_seconds=LOCK_WAIT_SECONDS,
        )
        print(result.summary())
        return {"summary": result.summary(), "series": result.series}

    # A business whose orders name no warehouse yet (online only, a CRM-only first try)
    # has nothing to forecast: Airflow skips a task mapped over no warehouses, and with
    # the default rule that skip would skip the plan, the customers and the publication.
    # The plan stage itself says "skipped" with the reason when it has nothing to plan.
    @task(pool=POOL, trigger_rule=TriggerRule.NONE_FAILED)
    def plan(as_of: str | None) -> dict:
        return _run("plan", _context(as_of))

    @task(pool=POOL)
    def customers(as_of: str | None) -> dict:
        return _run("customers", _context(as_of))

    @task(pool=POOL, outlets=list(FEED_ASSETS.values()))
    def publish(as_of: str | None) -> dict:
        from wmsight.publish import publish_feeds
        from wmsight.runner import warehouse_lock

        context = _context(as_of)
        with warehouse_lock(context.db_path, "airflow wms_daily publish", LOCK_WAIT_SECONDS):
            result = publish_feeds(
                context.db_path,
                context.feeds_dir,
                as_of=context.as_of,
                csv=context.csv,
                keep_runs=context.keep_runs,
            )
        events = get_current_context()["outlet_events"]
        for outcome in result.feeds:
            events[FEED_ASSETS[outcome.feed]].extra = {
                "as_of": str(result.as_of),
                "status": outcome.status,
                "rows": outcome.rows,
                "sha256": outcome.sha256,
                "note": outcome.note,
                "path": str(Path(result.folder) / f"{outcome.feed}.parquet"),
            }
        return {"as_of": str(result.as_of), "run_id": result.run_id, "folder": str(result.folder)}

    # The watcher's consumers start beside the producer and defer until it reports;
    # `airflow dags test` runs deferred triggers inline, one task at a time, and would wait
    # forever for a producer it never starts. So the root consumers wait for the producer
    # (one `dbt build`); each consumer then only reads its node's status.
    producer = dbt.children["dbt.dbt_producer_watcher"]
    for node in dbt.children.values():
        inside = [u for u in node.upstream_task_ids if u.startswith("dbt.")]
        if node is not producer and not inside:
            producer >> node

    as_of = ingest()
    to_forecast = warehouses(as_of)
    forecasts = forecast.partial(as_of=as_of).expand(warehouse=to_forecast)
    as_of >> dbt >> to_forecast
    forecasts >> plan(as_of) >> customers(as_of) >> publish(as_of)


wms_daily()
