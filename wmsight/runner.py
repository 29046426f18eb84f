"""The stage runner: the pipeline as an ordered list of plain functions.

Each stage takes a `RunContext` and returns a `StageOutcome`; it reads and writes
only through the paths in the context, so the CLI runs the stages in one process
and an Airflow task can run any one of them on its own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunContext:
    extracts_dir: Path
    db_path: Path
    feeds_dir: Path
    as_of: date | None = None
    csv: bool = False  # publish CSV copies beside the Parquet feeds
    keep_runs: int | None = None  # feed run folders to keep (None: all)


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

    @property
    def failed(self) -> StageReport | None:
        return next((s for s in self.stages if s.status == "failed"), None)


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
    for stage in stages:
        if on_start is not None:
            on_start(stage)
        started = time.perf_counter()
        try:
            outcome = stage.run(context)
            stage_report = StageReport(
                stage.name,
                "skipped" if outcome.skipped else "ok",
                time.perf_counter() - started,
                outcome,
            )
        except Exception as error:  # a stage's failure is reported, with its message
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
