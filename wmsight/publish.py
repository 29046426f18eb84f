"""Publish the run's results as versioned feeds (`../shared/FEEDS.md` is the interface).

Layout under the feeds root:

    .runs/<as-of>.<run id>/       the files of one publication (never changed once written)
    <as-of> -> .runs/<as-of>.<run id>
    latest  -> <as-of>            the newest as-of date published

A publication is written to a hidden folder, every file fsynced, then made visible by
switching the `<as-of>` link and then `latest` — each switch an atomic rename of a
symlink. A reader therefore sees either the previous publication or the new one, never
half of one; a killed run leaves an unreferenced folder that the next publication
removes. The old version of a re-run date stays READER_GRACE_SECONDS longer, for readers
that resolved the link just before the switch. Every feed is checked against its
contract (`data_contracts.feeds`) before anything is written: one broken feed stops the
publication and `latest` stays put.

A feed whose inputs do not exist (no stock snapshots, no CRM, a stage not run) is not
written at all: the manifest lists it as skipped with the reason, so nobody mistakes an
empty file for "nothing to report".
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from data_contracts.data_docs import DOCS_DIR, build_data_docs
from data_contracts.feeds import (
    DECISION_FEEDS,
    FEEDS,
    FEEDS_BY_NAME,
    FeedContract,
    FeedContractViolation,
    FeedValidation,
    validate_feed,
)
from wmsight import decisions as decision_store
from wmsight.app_datasets import APP_DIR, collect_datasets
from wmsight.runner import latest_drop_date

log = logging.getLogger(__name__)

RUNS_DIR = ".runs"
# Markers (`.runs/.superseded/<publication>`) of publications that a link stopped naming:
# a reader that resolved the old link may still be reading one, so it is kept this long.
SUPERSEDED_DIR = ".superseded"
READER_GRACE_SECONDS = 600.0
LATEST = "latest"
MANIFEST = "_manifest.json"
# Held while a publication is written and switched in: the pipeline and the dashboard
# (publishing planners' decisions) both publish, and each reads the version it replaces.
PUBLISH_LOCK = ".publish.lock"
PUBLISH_LOCK_WAIT_SECONDS = 300.0
# A CSV cell starting with one of these is a formula to a spreadsheet (OWASP CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class PublishError(RuntimeError):
    """The run's feeds were not published; `latest` still points at the previous run."""


@dataclass
class FeedOutcome:
    feed: str
    status: str  # published | skipped
    rows: int = 0
    note: str = ""
    sha256: str = ""
    # every rule of the feed's contract checked on the published rows (published feeds)
    validation: FeedValidation | None = field(default=None, repr=False)


@dataclass
class PublishResult:
    as_of: date
    run_id: str
    folder: Path
    feeds: list[FeedOutcome] = field(default_factory=list)

    @property
    def published(self) -> list[FeedOutcome]:
        return [f for f in self.feeds if f.status == "published"]

    @property
    def skipped(self) -> list[FeedOutcome]:
        return [f for f in self.feeds if f.status == "skipped"]


# ---------------------------------------------------------------------------------------
# Where each feed comes from. A source returns the feed's rows, or the reason it cannot.


@dataclass(frozen=True)
class FeedRows:
    table: pa.Table | None
    note: str = ""  # why skipped (table is None), or what is missing from the rows


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        f"{schema}.{name}"
        for schema, name in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
        ).fetchall()
    }


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None) -> pa.Table:
    return con.sql(sql, params=params).to_arrow_table()


def _needs(tables: set[str], *names: str) -> str | None:
    missing = [n for n in names if n not in tables]
    return f"not built: {', '.join(missing)} missing" if missing else None


def _kpi_daily(con, tables: set[str], as_of: date) -> FeedRows:
    if why := _needs(tables, "marts.fct_kpi_daily"):
        return FeedRows(None, why)
    return FeedRows(
        _rows(
            con,
            """SELECT date, warehouse_id, metric, value, target FROM marts.fct_kpi_daily
            WHERE date <= ? ORDER BY date, warehouse_id, metric""",
            [as_of],
        )
    )


def _never_delivered(con, source_file: str) -> bool:
    """No drop ever brought this file: its feed would be empty because the business does
    not send it, not because there was nothing to report."""
    return not con.execute(
        "SELECT count(*) FROM raw.load_log WHERE source_file = ? AND status = 'loaded'",
        [source_file],
    ).fetchall()[0][0]


def _feedback_routing(con, tables: set[str], as_of: date) -> FeedRows:
    if why := _needs(tables, "marts.fct_feedback"):
        return FeedRows(None, why)
    if _never_delivered(con, "crm/feedback.csv"):
        return FeedRows(None, "no crm/feedback.csv in any drop")
    return FeedRows(
        _rows(
            con,
            """SELECT * FROM marts.fct_feedback
            WHERE CAST(submitted_at AS DATE) <= ? ORDER BY feedback_id""",
            [as_of],
        )
    )


def _customer_360(con, tables: set[str], as_of: date) -> FeedRows:
    if why := _needs(tables, "marts.dim_customer", "marts.customer_segments"):
        return FeedRows(None, why)
    notes = []
    experience, experience_cols = "", "NULL AS avg_satisfaction, NULL AS return_rate"
    if "marts.fct_customer_experience" in tables:
        experience = "LEFT JOIN marts.fct_customer_experience AS x USING (customer_key)"
        experience_cols = "x.avg_satisfaction, x.return_rate"
    else:
        notes.append("avg_satisfaction, return_rate: not built (marts.fct_customer_experience)")
    scores, score_cols = "", "NULL AS churn_probability, NULL AS expected_next_order_date"
    if _computed_for(con, tables, "ml.customer_scores", "as_of_date") == as_of:
        scores = (
            "LEFT JOIN (SELECT * FROM ml.customer_scores WHERE as_of_date = $as_of) AS p "
            "USING (customer_key)"
        )
        score_cols = "p.churn_probability, p.expected_next_order_date"
    else:
        notes.append(
            f"churn_probability, expected_next_order_date: not computed for {as_of} "
            "(customer intelligence has not run)"
        )
    table = _rows(
        con,
        f"""SELECT c.customer_key, c.display_name, c.crm_ids, c.erp_codes, c.buyer_ids,
               c.province, c.region, c.city, s.tier, s.value_class, s.r_score, s.f_score,
               s.m_score, s.rfm_segment, s.revenue_12m_cny AS revenue_12m, s.orders_12m,
               s.last_order_at, {experience_cols}, {score_cols}
        FROM marts.dim_customer AS c
        LEFT JOIN marts.customer_segments AS s USING (customer_key)
        {experience} {scores}
        ORDER BY c.customer_key""",
        {"as_of": as_of} if scores else None,
    )
    return FeedRows(table, "; ".join(notes))


def _computed_for(con, tables: set[str], table: str, column: str) -> date | None:
    if table not in tables:
        return None
    return con.execute(f"SELECT max({column}) FROM {table}").fetchall()[0][0]


def _ml_feed(
    table_name: str,
    order_by: str,
    why_missing: str,
    computed_for: tuple[str, str] | None = None,
    run_column: str | None = None,
    expected_for: Callable[[duckdb.DuckDBPyConnection, date], date | None] | None = None,
    note_for: Callable[[date, date], str | None] | None = None,
) -> Callable:
    """A feed straight from an `ml` table. `computed_for` (table, date column) says which
    as-of date the stage that writes it last ran for: a stage skipped or failed in this
    run must not let the previous run's rows pass for today's. `run_column` keeps only
    this run's rows of a table that keeps several runs. `expected_for` gives the date the
    stage would compute for at this as-of date, when that is not the as-of date itself.
    `note_for(computed for, as-of date)` gives what a reader of the published rows should
    know about them, if anything."""

    def source(con, tables: set[str], as_of: date) -> FeedRows:
        if f"ml.{table_name}" not in tables:
            return FeedRows(None, why_missing)
        last = None
        if computed_for is not None:
            last = _computed_for(con, tables, *computed_for)
            expected = expected_for(con, as_of) if expected_for else as_of
            if last != expected:
                return FeedRows(
                    None, f"not computed for {as_of} (last computed for {last or 'no date'})"
                )
        where = f"WHERE {run_column} = ?" if run_column else ""
        return FeedRows(
            _rows(
                con,
                f"SELECT * FROM ml.{table_name} {where} ORDER BY {order_by}",
                [as_of] if run_column else None,
            ),
            (note_for(last, as_of) or "") if note_for and last else "",
        )

    return source


def _plan_position_date(con: duckdb.DuckDBPyConnection, as_of: date) -> date | None:
    """The plan starts from the latest stock position on or before the as-of date."""
    return con.execute(
        "SELECT max(position_date) FROM marts.fct_inventory_daily WHERE position_date <= ?",
        [as_of],
    ).fetchall()[0][0]


def _plan_position_note(position_date: date, as_of: date) -> str | None:
    from models_ml.replenishment import stale_position_warning

    return stale_position_warning(position_date, as_of)


SOURCES: dict[str, Callable[[duckdb.DuckDBPyConnection, set[str], date], FeedRows]] = {
    "customer_360": _customer_360,
    "churn_alerts": _ml_feed(
        "churn_alerts",
        "customer_key, alert_type",
        "not computed: customer intelligence has not run",
        computed_for=("ml.customer_scores", "as_of_date"),
        run_column="raised_on",
    ),
    "demand_forecast": _ml_feed(
        "demand_forecast",
        "warehouse_id, sku, date",
        "not computed: forecasts have not run",
        computed_for=("ml.forecast_series", "as_of"),
    ),
    "replenishment_plan": _ml_feed(
        "replenishment_plan",
        "warehouse_id, sku",
        "not computed: the plan has not run",
        computed_for=("ml.replenishment_plan", "as_of_date"),
        expected_for=_plan_position_date,
        note_for=_plan_position_note,
    ),
    "transfer_recommendations": _ml_feed(
        "transfer_recommendations",
        "from_warehouse_id, to_warehouse_id, sku",
        "not computed: the plan has not run",
        computed_for=("ml.replenishment_plan", "as_of_date"),
        expected_for=_plan_position_date,
        note_for=_plan_position_note,
    ),
    "feedback_routing": _feedback_routing,
    "rule_actions": _ml_feed(
        "rule_actions", "customer_key, rule_id", "not computed: the rule engine has not run"
    ),
    "kpi_daily": _kpi_daily,
}


def _conform(contract: FeedContract, table: pa.Table) -> pa.Table:
    """Cast the contract's columns to the contract's types (DECIMAL → float64, HUGEINT →
    int64, large strings → strings); a value that does not fit is a contract violation."""
    problems = []
    for column in contract.columns:
        if column.name not in table.column_names:
            problems.append(f"column {column.name}: missing")
            continue
        index = table.column_names.index(column.name)
        current = table.column(index)
        if current.type.equals(column.type):
            continue
        try:
            cast = pc.cast(current, column.type, safe=True)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
            problems.append(
                f"column {column.name}: type {current.type} does not fit {column.type} ({error})"
            )
            continue
        table = table.set_column(index, column.name, cast)
    if problems:
        raise FeedContractViolation(contract.name, problems)
    return table


def _accept(
    contract: FeedContract,
    rows: FeedRows,
    tables: dict[str, pa.Table],
    outcomes: list[FeedOutcome],
    violations: list[str],
) -> None:
    """Conform and validate one feed's rows; file the outcome (or the violation)."""
    if rows.table is None:
        outcomes.append(FeedOutcome(contract.name, "skipped", note=rows.note))
        return
    try:
        table = _conform(contract, rows.table)
        validation = validate_feed(contract, table)
    except FeedContractViolation as error:
        violations.append(str(error))
        return
    tables[contract.name] = table
    outcomes.append(
        FeedOutcome(
            contract.name,
            "published",
            rows=table.num_rows,
            note=rows.note,
            validation=validation,
        )
    )


def collect_feeds(
    db_path: Path, as_of: date
) -> tuple[dict[str, pa.Table], list[FeedOutcome], list[str]]:
    """Read and validate every feed. Returns the tables, an outcome per feed, and every
    contract violation found (all feeds are checked, so one run reports every problem)."""
    tables: dict[str, pa.Table] = {}
    outcomes: list[FeedOutcome] = []
    violations: list[str] = []
    with duckdb.connect(str(db_path), read_only=True) as con:
        existing = _tables(con)
        for contract in FEEDS:
            _accept(
                contract, SOURCES[contract.name](con, existing, as_of), tables, outcomes, violations
            )
    return tables, outcomes, violations


def collect_app_datasets(
    db_path: Path, as_of: date, published: set[str]
) -> tuple[dict[str, pa.Table], dict[str, str]]:
    """The dashboard's datasets for this run (wmsight.app_datasets)."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        return collect_datasets(con, _tables(con), as_of, published)


def _decision_rows(
    contract: FeedContract, as_of: date, lines: pa.Table | None, current: list[dict]
) -> FeedRows:
    """The approved lines of one kind, as the feed's rows. Only lines of the published
    plan count: a decision on a line the plan no longer has (the date was re-run and the
    line went away) is not an order."""
    if lines is None:
        return FeedRows(None, f"no replenishment plan published for {as_of}: nothing to decide")
    kind = "transfer" if contract.name == "approved_transfers" else "purchase"
    if kind == "purchase":
        plan = {(r["warehouse_id"], r["sku"]): r for r in lines.to_pylist()}
    else:
        plan = {
            (r["to_warehouse_id"], r["sku"], r["from_warehouse_id"]): r for r in lines.to_pylist()
        }
    rows, stale = [], 0
    for decision in current:
        if decision["kind"] != kind or decision["decision"] == decision_store.REJECT:
            continue
        key = (decision["warehouse_id"], decision["sku"])
        if kind == "transfer":
            key += (decision["from_warehouse_id"],)
        line = plan.get(key)
        if line is None:
            stale += 1
            continue
        row = {
            "plan_date": as_of,
            "sku": decision["sku"],
            "recommended_qty": decision["recommended_qty"],
            "approved_qty": decision["final_qty"],
            "decision": decision["decision"],
            "comment": decision["comment"] or None,
            "decided_by": decision["decided_by"],
            "decided_at": decision_store.shanghai_wall_time(decision["decided_at"]),
        }
        if kind == "purchase":
            row |= {
                "warehouse_id": decision["warehouse_id"],
                "supplier_id": line.get("supplier_id"),
                "proposal_id": line.get("proposal_id"),
            }
        else:
            row |= {
                "from_warehouse_id": decision["from_warehouse_id"],
                "to_warehouse_id": decision["warehouse_id"],
            }
        rows.append(row)
    names = [c.name for c in contract.columns]
    schema = pa.schema([(c.name, c.type) for c in contract.columns])
    table = pa.Table.from_pylist([{n: r[n] for n in names} for r in rows], schema=schema)
    notes = []
    if not rows:
        notes.append("no line of this plan approved yet")
    if stale:
        notes.append(f"{stale} decision(s) on lines no longer in the plan not published")
    return FeedRows(table, "; ".join(notes))


def collect_decision_feeds(
    decisions_file: Path,
    as_of: date,
    plan: pa.Table | None,
    transfers: pa.Table | None,
) -> tuple[dict[str, pa.Table], list[FeedOutcome], list[str]]:
    """The approval feeds of the plan of `as_of` from the planners' current decisions."""
    current = decision_store.current_decisions(decisions_file, as_of)
    tables: dict[str, pa.Table] = {}
    outcomes: list[FeedOutcome] = []
    violations: list[str] = []
    for contract in DECISION_FEEDS:
        lines = transfers if contract.name == "approved_transfers" else plan
        if contract.name == "approved_transfers" and plan is None:
            lines = None  # transfers are decided in the plan's review
        rows = _decision_rows(contract, as_of, lines, current)
        _accept(contract, rows, tables, outcomes, violations)
    return tables, outcomes, violations


@contextmanager
def publication_lock(root: Path, wait_seconds: float = PUBLISH_LOCK_WAIT_SECONDS) -> Iterator[None]:
    """One publication at a time under `root` (the pipeline's, or a republication of the
    planners' decisions): each reads the version it replaces."""
    root.mkdir(parents=True, exist_ok=True)
    with (root / PUBLISH_LOCK).open("a+") as handle:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise PublishError(
                        f"another publication to {root} has held it for over "
                        f"{wait_seconds:.0f} s; nothing was published"
                    ) from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# ---------------------------------------------------------------------------------------
# Writing


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_csv(table: pa.Table, path: Path) -> None:
    """A CSV copy: lists as JSON arrays; text that a spreadsheet would run as a formula
    gets a leading apostrophe."""
    with duckdb.connect() as con:
        con.register("feed", table)
        columns = []
        for name in table.column_names:
            type_ = table.schema.field(name).type
            quoted = '"' + name.replace('"', '""') + '"'
            if pa.types.is_list(type_) or pa.types.is_large_list(type_):
                text = f"CAST(to_json({quoted}) AS VARCHAR)"
            elif pa.types.is_string(type_) or pa.types.is_large_string(type_):
                text = quoted
            else:
                columns.append(quoted)
                continue
            columns.append(
                f"CASE WHEN regexp_matches({text}, '^[=+\\-@\\t\\r]') THEN '''' || {text} "
                f"ELSE {text} END AS {quoted}"
            )
        con.execute("SET preserve_insertion_order = true")
        con.execute(
            f"COPY (SELECT {', '.join(columns)} FROM feed) TO '{_sql_path(path)}' "
            "(HEADER, DELIMITER ',')"
        )


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _switch_link(link: Path, target: str) -> None:
    """Point `link` at `target` atomically (a new symlink renamed over the old one)."""
    temporary = link.with_name(f".{link.name}.{uuid.uuid4().hex}.tmp")
    temporary.symlink_to(target)
    os.replace(temporary, link)


def _run_dates(root: Path) -> list[date]:
    dates = []
    for entry in root.iterdir():
        try:
            dates.append(date.fromisoformat(entry.name))
        except ValueError:
            continue
    return sorted(dates)


def _mark_superseded(root: Path, link: Path) -> None:
    """Note when a re-run of its date makes `link` stop naming its publication."""
    if not link.is_symlink():
        return
    marker = root / RUNS_DIR / SUPERSEDED_DIR / Path(os.readlink(link)).name
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()


def _remove_unreferenced(root: Path) -> None:
    """Publications no link points at: killed runs (never visible) and dates past retention
    at once; the old version of a re-run date once readers had READER_GRACE_SECONDS (the
    re-run moved `latest` under them: a reader that resolved it just before reads on)."""
    runs = root / RUNS_DIR
    if not runs.is_dir():
        return
    links = [entry for entry in root.iterdir() if entry.is_symlink() and entry.name != LATEST]
    referenced = {os.readlink(link) for link in links}
    markers = runs / SUPERSEDED_DIR
    now = time.time()
    for folder in runs.iterdir():
        if folder.name == SUPERSEDED_DIR or f"{RUNS_DIR}/{folder.name}" in referenced:
            continue
        marker = markers / folder.name
        if marker.exists() and now - marker.stat().st_mtime < READER_GRACE_SECONDS:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        marker.unlink(missing_ok=True)
    if markers.is_dir():
        for marker in markers.iterdir():
            if not (runs / marker.name).exists():
                marker.unlink(missing_ok=True)
    for stray in root.glob(".*.tmp"):  # a link switch killed half way
        stray.unlink(missing_ok=True)


def apply_retention(root: Path, keep_runs: int) -> list[date]:
    """Keep the newest `keep_runs` run dates (and always the one `latest` names)."""
    if keep_runs < 1:
        raise ValueError("retention must keep at least one run")
    dates = _run_dates(root)
    latest = os.readlink(root / LATEST) if (root / LATEST).is_symlink() else None
    removed = [d for d in dates[:-keep_runs] if d.isoformat() != latest]
    for run_date in removed:
        (root / run_date.isoformat()).unlink()
    _remove_unreferenced(root)
    return removed


def _write_feed_files(
    staging: Path, outcome: FeedOutcome, table: pa.Table, csv: bool, entry: dict
) -> None:
    path = staging / f"{outcome.feed}.parquet"
    pq.write_table(table, path, compression="zstd")
    _fsync(path)
    outcome.sha256 = _sha256(path)
    entry |= {"file": path.name, "rows": outcome.rows, "sha256": outcome.sha256}
    if csv:
        csv_path = staging / f"{outcome.feed}.csv"
        _write_csv(table, csv_path)
        _fsync(csv_path)
        entry |= {"csv_file": csv_path.name, "csv_sha256": _sha256(csv_path)}


def _feed_entry(outcome: FeedOutcome) -> dict:
    entry = {"status": outcome.status, "contract_version": FEEDS_BY_NAME[outcome.feed].version}
    if outcome.note:
        entry["note"] = outcome.note
    if outcome.validation is not None:
        entry["expectations"] = [result.as_record() for result in outcome.validation.results]
    return entry


def _write_data_docs(
    staging: Path,
    outcomes: list[FeedOutcome],
    run_time: datetime,
    previous: Path | None = None,
) -> dict:
    """Great Expectations Data Docs of the feeds' validations, inside the publication
    (`_data_docs/`), fsynced with it; the manifest's `data_docs` entry. `previous`: the
    docs of the version a republication replaces, for feeds it does not re-validate."""
    started = time.perf_counter()
    folder = staging / DOCS_DIR
    index = build_data_docs(
        folder,
        [o.validation for o in outcomes if o.validation is not None],
        run_name=staging.name.removeprefix(".").removesuffix(".partial"),
        run_time=run_time,
        previous=previous,
    )
    for path in sorted(folder.rglob("*"), reverse=True):  # files before their folders
        _fsync(path)
    _fsync(folder)
    pages = {
        page.stem: str(page.relative_to(staging))
        for page in sorted((folder / "validations").rglob("*.html"))
    }
    log.info("data docs: %d validation(s) in %.1f s", len(pages), time.perf_counter() - started)
    return {"index": str(index.relative_to(staging)), "validations": pages}


def _write_datasets(
    staging: Path, datasets: dict[str, pa.Table], dataset_notes: dict[str, str]
) -> dict:
    folder = staging / APP_DIR
    folder.mkdir()
    entries: dict[str, dict] = {}
    for name, table in datasets.items():
        path = folder / f"{name}.parquet"
        pq.write_table(table, path, compression="zstd")
        _fsync(path)
        entries[name] = {
            "status": "published",
            "file": f"{APP_DIR}/{path.name}",
            "rows": table.num_rows,
            "sha256": _sha256(path),
        }
    for name, note in dataset_notes.items():
        entries[name] = {"status": "skipped", "note": note}
    _fsync(folder)
    return dict(sorted(entries.items()))


def _make_visible(root: Path, as_of: date, staging: Path, name: str) -> None:
    """Rename the finished folder into place, then switch the run date's link and
    `latest` (only ever forward in time)."""
    runs = root / RUNS_DIR
    _fsync(staging)
    os.rename(staging, runs / name)
    _fsync(runs)
    _mark_superseded(root, root / as_of.isoformat())
    _switch_link(root / as_of.isoformat(), f"{RUNS_DIR}/{name}")
    latest = root / LATEST
    current = os.readlink(latest) if latest.is_symlink() else None
    if current is None or current <= as_of.isoformat():
        _switch_link(latest, as_of.isoformat())
    _fsync(root)


def write_publication(
    root: Path,
    as_of: date,
    tables: dict[str, pa.Table],
    outcomes: list[FeedOutcome],
    csv: bool = False,
    keep_runs: int | None = None,
    run_id: str | None = None,
    extra_manifest: dict | None = None,
    datasets: dict[str, pa.Table] | None = None,
    dataset_notes: dict[str, str] | None = None,
) -> PublishResult:
    """Write validated feeds (and the dashboard's datasets) as one publication and make it
    visible atomically. The caller holds `publication_lock(root)`."""
    run_id = run_id or uuid.uuid4().hex[:12]
    root.mkdir(parents=True, exist_ok=True)
    runs = root / RUNS_DIR
    runs.mkdir(exist_ok=True)
    name = f"{as_of.isoformat()}.{run_id}"
    staging = runs / f".{name}.partial"
    staging.mkdir()
    try:
        generated_at = datetime.now(UTC).replace(microsecond=0)
        feeds_manifest = {}
        for outcome in outcomes:
            entry = _feed_entry(outcome)
            if outcome.status == "published":
                _write_feed_files(staging, outcome, tables[outcome.feed], csv, entry)
            feeds_manifest[outcome.feed] = entry
        manifest = {
            "run_id": run_id,
            "as_of": as_of.isoformat(),
            "generated_at": generated_at.isoformat(),
            "feeds": feeds_manifest,
            "app_datasets": _write_datasets(staging, datasets or {}, dataset_notes or {}),
            "data_docs": _write_data_docs(staging, outcomes, generated_at),
        } | (extra_manifest or {})
        manifest_path = staging / MANIFEST
        manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        _fsync(manifest_path)
        _make_visible(root, as_of, staging, name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if keep_runs is not None:
        apply_retention(root, keep_runs)
    else:
        _remove_unreferenced(root)
    return PublishResult(as_of, run_id, root / as_of.isoformat(), outcomes)


# what writing a publication raises when the disk is full, read-only or gone (DuckDB
# writes the CSV copies and raises its own IOException)
WRITE_ERRORS = (OSError, duckdb.IOException)


def _not_published(as_of: date, feeds_root: Path, error: Exception) -> PublishError:
    return PublishError(
        f"feeds for {as_of} not published (latest unchanged): cannot write "
        f"{feeds_root}: {getattr(error, 'strerror', None) or error}"
    )


def publish_feeds(
    db_path: Path,
    feeds_root: Path,
    as_of: date | None = None,
    csv: bool = False,
    keep_runs: int | None = None,
    run_id: str | None = None,
    extra_manifest: dict | None = None,
) -> PublishResult:
    """Validate every feed against its contract, then publish them together, with the
    planners' decisions on this date's plan (`approved_*`) and the dashboard's datasets.

    Raises `PublishError` (nothing published, `latest` unchanged) when any feed breaks
    its contract or the folder cannot be written.
    """
    as_of = as_of or latest_drop_date(db_path)
    if as_of is None:
        raise PublishError(f"nothing to publish: no drop has been loaded into {db_path}")
    tables, outcomes, violations = collect_feeds(db_path, as_of)
    if violations:
        raise PublishError(
            f"feeds for {as_of} not published (latest unchanged): " + " | ".join(violations)
        )
    published = {o.feed for o in outcomes if o.status == "published"}
    datasets, dataset_notes = collect_app_datasets(db_path, as_of, published)
    log.info("publishing %d feed(s) for %s to %s", len(tables), as_of, feeds_root)
    try:
        with publication_lock(feeds_root):
            # decisions are read under the lock: one recorded while this run collected its
            # feeds is in this publication, or republished after it (publish_decisions)
            decided, decided_outcomes, violations = collect_decision_feeds(
                decision_store.decisions_path(db_path),
                as_of,
                tables.get("replenishment_plan"),
                tables.get("transfer_recommendations"),
            )
            if violations:
                raise PublishError(
                    f"feeds for {as_of} not published (latest unchanged): " + " | ".join(violations)
                )
            result = write_publication(
                feeds_root,
                as_of,
                tables | decided,
                outcomes + decided_outcomes,
                csv,
                keep_runs,
                run_id,
                extra_manifest,
                datasets,
                dataset_notes,
            )
    except WRITE_ERRORS as error:
        raise _not_published(as_of, feeds_root, error) from error
    for outcome in result.skipped:
        log.warning("feed %s: skipped — %s", outcome.feed, outcome.note)
    return result


def _link_or_copy(source: Path, target: Path) -> None:
    """Publications are never changed once written, so a new version may share files."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def publish_decisions(db_path: Path, feeds_root: Path, as_of: date) -> PublishResult:
    """Publish the planners' current decisions on the plan of `as_of` as a new version of
    that date's publication: every other file is the published one (hard links), the
    approval feeds are rebuilt from the decision store, and the links switch atomically
    as in every publication. Raises `PublishError` when `as_of` has no publication."""
    feeds_root = Path(feeds_root)
    try:
        with publication_lock(feeds_root):
            link = feeds_root / as_of.isoformat()
            if not link.is_symlink():
                raise PublishError(f"no publication for {as_of} in {feeds_root}")
            current = link.resolve()
            manifest = json.loads((current / MANIFEST).read_text())

            def published(feed: str) -> pa.Table | None:
                entry = manifest["feeds"].get(feed, {})
                return pq.read_table(current / entry["file"]) if "file" in entry else None

            tables, outcomes, violations = collect_decision_feeds(
                decision_store.decisions_path(db_path),
                as_of,
                published("replenishment_plan"),
                published("transfer_recommendations"),
            )
            if violations:
                raise PublishError(
                    f"decisions on the plan of {as_of} not published: " + " | ".join(violations)
                )
            csv = any("csv_file" in entry for entry in manifest["feeds"].values())
            replaced = {o.feed for o in outcomes}
            name = f"{as_of.isoformat()}.{uuid.uuid4().hex[:12]}"
            staging = feeds_root / RUNS_DIR / f".{name}.partial"
            staging.mkdir()
            try:
                for source in current.rglob("*"):
                    if source.is_dir() or source.name == MANIFEST:
                        continue
                    if source.stem in replaced and source.parent == current:
                        continue
                    if DOCS_DIR in source.relative_to(current).parts:
                        continue  # rebuilt below with the approval feeds' new validations
                    target = staging / source.relative_to(current)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    _link_or_copy(source, target)
                for outcome in outcomes:
                    entry = _feed_entry(outcome)
                    if outcome.status == "published":
                        _write_feed_files(staging, outcome, tables[outcome.feed], csv, entry)
                    manifest["feeds"][outcome.feed] = entry
                published_at = datetime.now(UTC).replace(microsecond=0)
                manifest["data_docs"] = _write_data_docs(
                    staging, outcomes, published_at, previous=current / DOCS_DIR
                )
                manifest["decisions_published_at"] = published_at.isoformat()
                manifest_path = staging / MANIFEST
                manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
                _fsync(manifest_path)
                _make_visible(feeds_root, as_of, staging, name)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            _remove_unreferenced(feeds_root)
    except WRITE_ERRORS as error:
        raise _not_published(as_of, feeds_root, error) from error
    return PublishResult(as_of, manifest["run_id"], feeds_root / as_of.isoformat(), outcomes)
