"""The stage runner: the pipeline as an ordered list of plain functions.

Each stage takes a `RunContext` and returns a `StageOutcome`; it reads and writes
only through the paths in the context, so the CLI runs the stages in one process
and an Airflow task can run any one of them on its own.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    from models_ml.forecast_config import ForecastConfig
    from models_ml.plan_config import PlanConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunContext:
    extracts_dir: Path
    db_path: Path
    feeds_dir: Path
    as_of: date | None = None
    csv: bool = False  # publish CSV copies beside the Parquet feeds
    keep_runs: int | None = None  # feed run folders to keep (None: all)
    ingest_workers: int | None = None  # files loaded at once (None: ingest's default)
    # drops dated after this are not loaded: set when a run's as-of date is asked for, so
    # that a run as of an earlier date replays what was known then
    drops_up_to: date | None = None
    forecast: ForecastConfig | None = None  # horizon, backtest … (None: the defaults)
    plan: PlanConfig | None = None  # the plan's business parameters (None: the defaults)


@dataclass
class StageOutcome:
    summary: str
    warnings: list[str] = field(default_factory=list)
    metrics: dict[str, int | float] = field(default_factory=dict)
    skipped: bool = False


@dataclass(frozen=True)
class Stage:
    name: str
    description: str
    run: Callable[[RunContext], StageOutcome]
    # errors that carry their whole story for the user (a missing folder, a failed data
    # test): logged as their message; the traceback, which only a developer reads, at DEBUG
    expected_errors: tuple[type[Exception], ...] = ()


@dataclass
class StageReport:
    name: str
    status: str  # ok | skipped | failed
    seconds: float
    outcome: StageOutcome | None = None
    error: str | None = None


@dataclass
class RunReport:
    stages: list[StageReport] = field(default_factory=list)
    as_of: date | None = None

    @property
    def failed(self) -> StageReport | None:
        return next((s for s in self.stages if s.status == "failed"), None)


def latest_drop_date(db_path: Path) -> date | None:
    """A run's default as-of date: the latest drop loaded, never the wall clock, so old
    history runs the same way and a run is reproducible. None before the first ingest."""
    if not db_path.exists():
        return None
    with duckdb.connect(str(db_path), read_only=True) as con:
        loaded = con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'raw' AND table_name = 'load_log'"
        ).fetchall()[0][0]
        if not loaded:
            return None
        return con.execute("SELECT max(drop_date) FROM raw.load_log").fetchall()[0][0]


class StageFailed(RuntimeError):
    def __init__(self, stage: str, message: str) -> None:
        self.stage = stage
        super().__init__(f"stage '{stage}' failed: {message}")


def run_stages(
    context: RunContext,
    stages: list[Stage],
    on_start: Callable[[Stage], None] | None = None,
    on_done: Callable[[StageReport], None] | None = None,
) -> RunReport:
    """Run stages in order; stop at the first failure and report it (never raise past here)."""
    report = RunReport()
    as_of_given = context.as_of is not None
    for stage in stages:
        if on_start is not None:
            on_start(stage)
        log.info("stage %s started: %s", stage.name, stage.description)
        started = time.perf_counter()
        try:
            if not as_of_given:
                # the run date is the latest drop loaded, read again before every stage:
                # the ingest stage may have just loaded a newer drop
                context = replace(context, as_of=latest_drop_date(context.db_path))
            report.as_of = context.as_of
            outcome = stage.run(context)
            stage_report = StageReport(
                stage.name,
                "skipped" if outcome.skipped else "ok",
                time.perf_counter() - started,
                outcome,
            )
        except Exception as error:  # a stage's failure is reported, with its message
            if isinstance(error, stage.expected_errors):
                log.error("stage %s failed: %s", stage.name, error)
                log.debug("stage %s failed", stage.name, exc_info=True)
            else:  # a defect, not bad input: the traceback is what a bug report needs
                log.exception("stage %s failed", stage.name)
            stage_report = StageReport(
                stage.name,
                "failed",
                time.perf_counter() - started,
                error=f"{type(error).__name__}: {error}",
            )
        report.stages.append(stage_report)
        if on_done is not None:
            on_done(stage_report)
        if stage_report.status == "failed":
            break
    return report


class WarehouseBusy(RuntimeError):
    """Another process is writing the warehouse; DuckDB allows one writer at a time."""


def lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


@contextmanager
def warehouse_lock(db_path: Path, purpose: str, wait_seconds: float = 0.0) -> Iterator[None]:
    """Hold the warehouse's write lock while the block runs.

    DuckDB lets one process write a database file; two runs writing at once would fail
    half way (or, worse, interleave drops). The lock is an advisory `flock` on a file
    beside the database: the kernel releases it when the holder exits, even on kill -9,
    so there is no stale lock to clean up. `wait_seconds` > 0 waits for the holder
    (Airflow tasks that write one partition each); 0 fails at once with who holds it.
    """
    path = lock_path(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")  # noqa: SIM115 - held for the block's duration
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "unknown process"
                    raise WarehouseBusy(
                        f"{db_path} is being written by another wmsight process ({holder}); "
                        "wait for it to finish or stop it, then run again"
                    ) from None
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        holder = {
            "pid": os.getpid(),
            "purpose": purpose,
            "since": datetime.now().isoformat(timespec="seconds"),
        }
        handle.write(json.dumps(holder))
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        handle.close()
