"""Run the dbt project in-process (dbtRunner) against a warehouse file, and say what failed.

The dbt project lives in `dbt_project/`; the warehouse path reaches its profile through
WMSIGHT_DB_PATH, so the same project runs under the CLI, Airflow and a hand-typed `dbt`.

Each warehouse keeps its own dbt state beside its file (`<warehouse>.dbt/target` and
`/logs`, see `dbt_state_dir`): dbt's partial-parse file is only valid for the profile it
was parsed with (the warehouse path is part of it), so one shared `dbt_project/target`
made every run after a run on another warehouse parse the whole project again, and two
runs on two warehouses at once raced on the same files.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

log = logging.getLogger(__name__)

PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
# profiles.yml reads it: while one invocation runs, dbt-duckdb keeps the file open instead
# of opening and closing it around every node (each close a checkpoint); run_dbt closes it
# when dbt returns. Cosmos and a hand-typed dbt leave it unset (close after every node).
KEEP_OPEN_ENV = "WMSIGHT_DBT_KEEP_OPEN"


def dbt_state_dir(db_path: Path) -> Path:
    """dbt's target (manifest, partial-parse file, compiled SQL) and logs for one warehouse."""
    db_path = Path(db_path).resolve()
    return db_path.with_name(db_path.name + ".dbt")


@dataclass(frozen=True)
class NodeFailure:
    unique_id: str
    resource_type: str  # model, test, unit_test, seed
    status: str  # error, fail, skipped
    message: str

    def __str__(self) -> str:
        return f"{self.resource_type} {self.unique_id}: {self.status} — {self.message}"


@dataclass
class DbtResult:
    command: str
    success: bool
    nodes_run: int = 0
    failures: list[NodeFailure] = field(default_factory=list)
    error: str | None = None  # dbt could not run at all (bad project, no database)
    lean: bool = False  # seeds, views and unit tests left as built (project unchanged)
    refreshed: str | None = None  # why incremental models were rebuilt from scratch

    def summary(self) -> str:
        if self.error:
            return f"dbt {self.command} could not run: {self.error}"
        problems = [f for f in self.failures if f.status != "skipped"]
        skipped = len(self.failures) - len(problems)
        text = f"dbt {self.command}: {self.nodes_run} nodes, {len(problems)} failed"
        text += f", {skipped} skipped" if skipped else ""
        lean = "; seeds, views and unit tests kept (project unchanged)"
        refreshed = f"; incremental models rebuilt from scratch: {self.refreshed}"
        return text + (lean if self.lean else "") + (refreshed if self.refreshed else "")


class DbtFailed(RuntimeError):
    def __init__(self, result: DbtResult) -> None:
        self.result = result
        lines = [result.summary()] + [str(f) for f in result.failures if f.status != "skipped"]
        super().__init__("\n".join(lines))


@contextmanager
def _environment(**values: str):
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _close_warehouse() -> None:
    """Close the DuckDB file dbt-duckdb kept open for the invocation (keep_open), so the
    next stage, another process or a reader can open it."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    with DuckDBConnectionManager._LOCK:
        if DuckDBConnectionManager._ENV is not None:
            DuckDBConnectionManager._ENV.close()


def run_dbt(
    db_path: Path, command: str = "build", extra_args: list[str] | None = None
) -> DbtResult:
    """Run `dbt <command>` (e.g. "build", "docs generate") on the warehouse at `db_path`.

    Never raises for dbt's own failures: they are in the result.
    """
    from dbt.cli.main import dbtRunner

    db_path = Path(db_path).resolve()
    state = dbt_state_dir(db_path)
    args = [
        *command.split(),
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--target-path",
        str(state / "target"),
        "--log-path",
        str(state / "logs"),
        "--no-use-colors",
        "--log-format",
        "text",
        *(extra_args or []),
    ]
    with _environment(WMSIGHT_DB_PATH=str(db_path), **{KEEP_OPEN_ENV: "True"}):
        try:
            outcome = dbtRunner().invoke(args)
        finally:
            _close_warehouse()
    result = DbtResult(command=command, success=outcome.success)
    if outcome.exception is not None:
        result.error = f"{type(outcome.exception).__name__}: {outcome.exception}"
        return result
    for node_result in getattr(outcome.result, "results", None) or []:
        result.nodes_run += 1
        status = str(node_result.status).lower().split(".")[-1]
        if status in ("error", "fail", "skipped", "runtime error"):
            node = node_result.node
            result.failures.append(
                NodeFailure(
                    node.unique_id,
                    str(node.resource_type).split(".")[-1],
                    status,
                    (node_result.message or "").strip(),
                )
            )
    return result


# What a build needs when the project is unchanged since the warehouse's last full build:
# the tables (incremental ones too) and every data test. Seeds, views and unit tests depend
# on the project alone, so they are already in place and already passed.
LEAN_BUILD = [
    "--select",
    "config.materialized:table",
    "config.materialized:incremental",
    "resource_type:test",
    "--exclude",
    "resource_type:unit_test",
]
STATIC_MARKER = "static_nodes.json"  # in dbt_state_dir: the project its last full build had
_NOT_PROJECT = {"target", "logs", "dbt_packages", ".user.yml"}


def project_fingerprint() -> str:
    """The dbt project's files (and dbt's versions): equal means seeds, views and unit tests
    would be built and tested exactly as last time."""
    versions = f"dbt-core {version('dbt-core')} dbt-duckdb {version('dbt-duckdb')}"
    digest = hashlib.sha256(versions.encode())
    paths = []
    for folder, subfolders, files in os.walk(PROJECT_DIR):
        if Path(folder) == PROJECT_DIR:  # dbt's own output is not the project
            subfolders[:] = [d for d in subfolders if d not in _NOT_PROJECT]
            files = [f for f in files if f not in _NOT_PROJECT]
        paths += [Path(folder) / name for name in files]
    for path in sorted(paths):
        relative = path.relative_to(PROJECT_DIR).as_posix()
        digest.update(relative.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


ABSORBED_MARKER = "absorbed_loads.json"  # in dbt_state_dir: the loads its last build saw
# the loads that change raw rows: a rejected re-delivery also removes its drop's earlier rows
LOADS_SQL = """
    WITH loads AS (
        SELECT drop_date, concat_ws('|', drop_date, source_file, status, sha256, started_at)
            AS load
        FROM raw.load_log WHERE status IN ('loaded', 'rejected') AND drop_date <= ?
    )
    SELECT count(*), coalesce(md5(string_agg(load, ',' ORDER BY load)), ''), max(drop_date)
    FROM loads
"""


@dataclass(frozen=True)
class AbsorbedLoads:
    """The file loads of every drop up to `through_drop` that a build absorbed."""

    through_drop: str | None
    loads: int
    fingerprint: str


@dataclass(frozen=True)
class RefreshCheck:
    """Before a build: what it will absorb, and why incremental models must be rebuilt
    from scratch first (None: they need not)."""

    project: str
    loads: AbsorbedLoads | None
    reason: str | None


def _loads(con, through_drop: str) -> AbsorbedLoads:
    count, fingerprint, newest = con.execute(LOADS_SQL, [through_drop]).fetchone()
    return AbsorbedLoads(str(newest) if newest else None, count, fingerprint)


def check_refresh(db_path: Path) -> RefreshCheck:
    """Incremental models add only what drops newer than the newest they hold brought, so
    a file of an already absorbed drop delivered again (or a project whose SQL changed)
    would leave stale rows: either is a reason to rebuild them from scratch."""
    import duckdb

    project = project_fingerprint()
    state = dbt_state_dir(db_path)
    absorbed = _read_json(state / ABSORBED_MARKER)
    try:  # read-write like dbt: one process cannot open a file both ways at once
        with duckdb.connect(str(db_path)) as con:
            loads = _loads(con, "9999-12-31")
            before = _loads(con, absorbed["through_drop"]) if absorbed.get("through_drop") else None
    except duckdb.CatalogException:  # nothing ingested yet
        loads = before = None
    # warehouses from before this marker: the project of their last full build
    built = absorbed.get("project") or _read_json(state / STATIC_MARKER).get("project")
    reason = None
    if built is not None and built != project:
        reason = "the dbt project changed since this warehouse's last build"
    elif before is not None and (before.loads, before.fingerprint) != (
        absorbed.get("loads"),
        absorbed.get("fingerprint"),
    ):
        reason = (
            f"files of drops up to {absorbed['through_drop']} (already built) were loaded "
            "again since the last build"
        )
    if reason is not None:
        log.warning("incremental models rebuilt from scratch: %s", reason)
        if "project" not in absorbed:  # an older warehouse: keep the project its rows are
            # built with until the rebuild from scratch succeeds
            _write_absorbed(state, absorbed | {"project": built})
    return RefreshCheck(project, loads, reason)


def record_absorbed(db_path: Path, check: RefreshCheck) -> None:
    """What a build is about to absorb: written before it runs, so a build that fails half
    way (some incremental models hold the new drop, some not) still counts the drop as
    absorbed and a corrected re-delivery of it rebuilds from scratch. After a reason to
    rebuild from scratch, written only once that rebuild succeeded."""
    loads = dataclasses.asdict(check.loads) if check.loads else {}
    _write_absorbed(dbt_state_dir(db_path), {"project": check.project} | loads)


def _write_absorbed(state: Path, record: dict) -> None:
    state.mkdir(parents=True, exist_ok=True)
    (state / ABSORBED_MARKER).write_text(json.dumps(record), encoding="utf-8")


def build_warehouse(db_path: Path, full: bool = False) -> DbtResult:
    """`dbt build`: seeds, models and every test; raises DbtFailed naming what failed.

    When the project is unchanged since this warehouse's last successful full build (and
    `full` is not asked for), seeds, views and unit tests are left as they are: every table
    is rebuilt and every data test runs. If that lean build errors (a view dropped by hand,
    say), the full build runs at once; a data test that fails is reported as it is.

    When an already built drop was delivered again, or the project changed, incremental
    models are rebuilt from scratch (`--full-refresh`): `refreshed` says why."""
    marker = dbt_state_dir(db_path) / STATIC_MARKER
    check = check_refresh(db_path)
    if check.reason is None:
        record_absorbed(db_path, check)
        if not full and _read_json(marker).get("project") == check.project:
            result = run_dbt(db_path, "build", LEAN_BUILD)
            result.lean = True
            if result.success:
                return result
            if not any(f.status in ("error", "runtime error") for f in result.failures):
                raise DbtFailed(result)
    marker.unlink(missing_ok=True)
    result = run_dbt(db_path, "build", ["--full-refresh"] if check.reason else None)
    result.refreshed = check.reason
    if not result.success:
        raise DbtFailed(result)
    marker.write_text(json.dumps({"project": check.project}), encoding="utf-8")
    if check.reason is not None:
        record_absorbed(db_path, check)
    return result


def refresh_incremental_models(db_path: Path) -> str | None:
    """For a runner that builds with its own dbt invocation (the Airflow DAG through
    cosmos), after ingest and before that build: rebuild the incremental models (and what
    they read) from scratch when `check_refresh` says so, then record what the coming
    build absorbs. Returns why it rebuilt, or None."""
    check = check_refresh(db_path)
    if check.reason is not None:
        result = run_dbt(
            db_path, "build", ["--full-refresh", "--select", "+config.materialized:incremental"]
        )
        result.refreshed = check.reason
        if not result.success:
            raise DbtFailed(result)
    record_absorbed(db_path, check)
    return check.reason


def _read_json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
