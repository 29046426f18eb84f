"""Faults: real `wmsight` processes killed with SIGKILL inside every stage (issue 9).

Each kill is aimed at a line the process prints inside the stage (a stage's start, a
file loaded, a dbt node started, "writing ..."): the test freezes the process with
SIGSTOP the moment it reads that line, checks from everything the process had printed
that the stage has not finished, then sends SIGKILL. So every kill lands inside the
stage it is meant for, whatever the machine's load, and no kill is left to timing luck.

After the kills, plain re-runs must recover by themselves, and the warehouse must equal
one built from the same drops by runs that were never killed: the same rows in every
raw, mart and ml table (no row lost, none duplicated), the same feeds byte for byte.
Between kills, `latest` must always be one whole publication.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import select
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from daily_runs import WMSIGHT, DemoDays, Site

from data_contracts.extracts import CONTRACTS_BY_FILE
from wmsight.publish import LATEST, MANIFEST
from wmsight.transform import dbt_state_dir

pytestmark = pytest.mark.slow

# wide lines (no wrapping of log lines) and output that reaches the pipe at once
ENVIRONMENT = os.environ | {"COLUMNS": "300", "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"}
KILL_TIMEOUT_SECONDS = 900.0
# Columns that say when or by which run a row was written, timings (*_seconds), and the
# floating-point results of parallel aggregation (DuckDB may differ in the last bit between
# two identical builds) are left out of the row fingerprints; row counts cover every row.
VOLATILE_COLUMNS = {"_loaded_at", "run_id", "started_at", "finished_at", "quarantined_at"}
FLOAT_TYPES = {"DOUBLE", "FLOAT", "REAL"}


# ---------------------------------------------------------------------------------------
# What a warehouse holds


def table_fingerprints(db_path: Path) -> dict[str, tuple[int, int]]:
    """(row count, order-independent sum of row hashes) of every table in the warehouse: a
    lost row changes the count, a duplicated one the count and the sum."""
    fingerprints = {}
    with duckdb.connect(str(db_path), read_only=True) as con:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' ORDER BY ALL"
        ).fetchall()
        for schema, table in tables:
            columns = [
                f'"{name}"'
                for name, type_ in con.execute(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                    [schema, table],
                ).fetchall()
                if name not in VOLATILE_COLUMNS
                and not (schema != "raw" and type_ in FLOAT_TYPES)
                and not name.endswith("_seconds")
            ]
            [(count, digest)] = con.execute(
                f"SELECT count(*), coalesce(sum(hash({', '.join(columns)})), 0) "
                f'FROM "{schema}"."{table}"'
            ).fetchall()
            fingerprints[f"{schema}.{table}"] = (count, int(digest))
    return fingerprints


def whole_publication(feeds: Path) -> tuple[str, dict[str, str]] | None:
    """The as-of date and sha256 per feed of `latest`, after checking every file against
    the manifest (a half-written publication fails here)."""
    if not (feeds / LATEST).exists():
        return None
    folder = (feeds / LATEST).resolve()
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    hashes = {}
    for name, feed in manifest["feeds"].items():
        if feed["status"] != "published":
            continue
        digest = hashlib.sha256((folder / feed["file"]).read_bytes()).hexdigest()
        assert digest == feed["sha256"], f"{folder}: {name} is not the file its manifest names"
        hashes[name] = digest
    return manifest["as_of"], hashes


def command(site: Site, name: str) -> list[str]:
    """`wmsight <name>` on the site's paths."""
    paths = {
        "run": ["--extracts", str(site.extracts), "--db", str(site.db)]
        + ["--feeds", str(site.feeds)],
        "ingest": ["--extracts", str(site.extracts), "--db", str(site.db)],
        "forecast": ["--db", str(site.db)],
        "plan": ["--db", str(site.db)],
        "customers": ["--db", str(site.db)],
        "publish": ["--db", str(site.db), "--feeds", str(site.feeds)],
    }[name]
    return [*WMSIGHT, name, *paths]


def run(command: list[str], log: Path) -> str:
    """A run that must finish cleanly."""
    finished = subprocess.run(
        command, env=ENVIRONMENT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    with log.open("a") as handle:
        handle.write(f"$ {' '.join(command[3:])}\n{finished.stdout}\n")
    assert finished.returncode == 0, finished.stdout[-4000:]
    return finished.stdout


# ---------------------------------------------------------------------------------------
# Killing a process at a line it prints


def descendants(pid: int) -> set[int]:
    """Every process below `pid` (worker pools, their servers)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@dataclass(frozen=True)
class KillPoint:
    stage: str  # the stage the kill must land in
    at: str  # regex of the printed line that triggers the kill
    stage_over: str  # regex of a line that would show the stage had already finished


def kill_at(command: list[str], point: KillPoint, log: Path) -> list[str]:
    """Start `command`, SIGSTOP it the moment it prints a line matching `point.at`, check
    the stage is still running, SIGKILL it. Returns the lines it printed."""
    process = subprocess.Popen(
        command, env=ENVIRONMENT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    fd = process.stdout.fileno()
    text, deadline, hit = b"", time.monotonic() + KILL_TIMEOUT_SECONDS, False
    try:
        while not hit:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                pytest.fail(f"no line matching {point.at!r} within {KILL_TIMEOUT_SECONDS} s")
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            text += chunk
            hit = any(
                re.search(point.at, line) for line in text.decode(errors="replace").split("\n")
            )
            if hit:
                os.kill(process.pid, signal.SIGSTOP)
                os.waitpid(process.pid, os.WUNTRACED)  # returns once it is frozen
        if hit:
            # all it printed before the freeze is in the pipe now
            os.set_blocking(fd, False)
            while True:
                try:
                    chunk = os.read(fd, 1 << 16)
                except BlockingIOError:
                    break
                if not chunk:
                    break
                text += chunk
            workers = descendants(process.pid)
            os.kill(process.pid, signal.SIGKILL)
    finally:
        if process.poll() is None and not hit:
            process.kill()
        process.wait()
    lines = text.decode(errors="replace").splitlines()
    with log.open("a") as handle:
        handle.write(f"$ {' '.join(command[3:])}  # killed at {point.at!r}\n")
        handle.write("\n".join(lines) + "\n")
    assert hit, f"{point.stage}: the process ended before {point.at!r}:\n" + "\n".join(lines[-40:])
    assert process.returncode == -signal.SIGKILL
    first = next(i for i, line in enumerate(lines) if re.search(point.at, line))
    started = [i for i, line in enumerate(lines) if f"stage {point.stage} started" in line]
    assert not started or started[-1] <= first, "the kill line came from another stage"
    over = [line for line in lines[first:] if re.search(point.stage_over, line)]
    assert not over, f"{point.stage} had finished before the kill: {over}"
    # a killed run leaves no worker behind (it would burn CPU and hold files)
    deadline = time.monotonic() + 60
    while (left := {pid for pid in workers if alive(pid)}) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"processes of the killed run still running: {sorted(left)}"
    return lines


def run_stage_over(stage: str) -> str:
    """Lines `wmsight run` prints when `stage` has ended (done, skipped or failed)."""
    return rf"^[✓–✗] {stage} \(|stage (?!{stage} )\w+ started"


# ---------------------------------------------------------------------------------------
# Worlds


@dataclass(frozen=True)
class Worlds:
    days: DemoDays  # yesterday's site, and today's after a clean run (never killed)
    expected: dict[str, tuple[int, int]]  # every table after today's clean run
    expected_feeds: tuple[str, dict[str, str]]
    root: Path
    log: Path


@pytest.fixture(scope="module")
def worlds(demo_days: DemoDays, tmp_path_factory: pytest.TempPathFactory) -> Worlds:
    """The session's two demo days (conftest `demo_days`): yesterday's site copy is where
    every faulty day starts; today's clean run is what it must end in."""
    expected_feeds = whole_publication(demo_days.site.feeds)
    assert expected_feeds[0] == demo_days.second.name
    root = tmp_path_factory.mktemp("faults")
    return Worlds(
        demo_days,
        table_fingerprints(demo_days.site.db),
        expected_feeds,
        root,
        root / "commands.log",
    )


# ---------------------------------------------------------------------------------------
# The faulty days


def command_over(pattern: str) -> str:
    """Lines a stage's own command prints once its work is written (or it failed)."""
    return rf"{pattern}|^Traceback|Error:"


def daily_kills(daily_drop: str) -> list[tuple[str, KillPoint]]:
    """(command, where the kill lands), in pipeline order: each stage is killed after the
    stages before it ran (in the runs before) and amid the damage of every earlier kill."""
    return [
        (
            "run",
            KillPoint(
                "ingest", rf"INFO +drop {daily_drop} \S+: [\d,]+ read", run_stage_over("ingest")
            ),
        ),
        (
            "run",
            KillPoint(
                "transform",
                r"START sql incremental model intermediate\.int_order_lines",
                run_stage_over("transform"),
            ),
        ),
        (
            "run",
            KillPoint(
                "transform",
                r"START sql incremental model marts\.fct_inventory_daily",
                run_stage_over("transform"),
            ),
        ),
        ("run", KillPoint("forecast", r"stage forecast started", run_stage_over("forecast"))),
        (
            "forecast",
            KillPoint(
                "forecast",
                r"forecast: writing \d+ rows",
                command_over(r"^as of \S+: [\d,]+ series in"),
            ),
        ),
        (
            "plan",
            KillPoint(
                "plan", r"plan: writing \d+ ", command_over(r"plan as of \S+: [\d,]+ warehouse")
            ),
        ),
        (
            "customers",
            KillPoint(
                "customers",
                r"customers: writing \d+ scores",
                command_over(r"customers scored as of"),
            ),
        ),
        (
            "publish",
            KillPoint(
                "publish", r"publishing \d+ feed\(s\)", command_over(r"^ *feeds \d{4}-\d{2}-\d{2} ")
            ),
        ),
    ]


def test_a_daily_run_killed_in_every_stage_recovers_without_loss_or_duplicates(
    worlds: Worlds,
) -> None:
    site = worlds.days.yesterday.copy_to(worlds.root / "killed")
    yesterday_feeds = whole_publication(site.feeds)
    assert yesterday_feeds[0] == worlds.days.first.name
    site.deliver(worlds.days.second)
    for name, point in daily_kills(worlds.days.second.name):
        kill_at(command(site, name), point, worlds.log)
        # whatever the kill hit, readers see one whole publication: yesterday's or today's
        assert whole_publication(site.feeds) in (yesterday_feeds, worlds.expected_feeds)
    # and what a kill while dbt wrote its parse cache would leave: half the file
    cache = dbt_state_dir(site.db) / "target" / "partial_parse.msgpack"
    with cache.open("r+b") as handle:
        handle.truncate(cache.stat().st_size // 2)
    run(command(site, "run"), worlds.log)  # the next run, with no help
    assert whole_publication(site.feeds) == worlds.expected_feeds
    assert table_fingerprints(site.db) == worlds.expected


def raw_fingerprints(db_path: Path) -> dict[str, tuple[int, int]]:
    return {k: v for k, v in table_fingerprints(db_path).items() if k.startswith("raw.")}


def logged_files_are_whole(db_path: Path) -> int:
    """Every file the load log has as loaded has exactly its logged rows in raw (a kill
    never leaves half a file). Returns how many files were loaded."""
    if not db_path.exists():
        return 0
    with duckdb.connect(str(db_path), read_only=True) as con:
        if not con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'raw' AND table_name = 'load_log'"
        ).fetchall()[0][0]:
            return 0  # killed before the schema was made
        logged = con.execute(
            "SELECT drop_date, source_file, rows_loaded FROM raw.load_log WHERE status = 'loaded'"
        ).fetchall()
        for drop, source_file, rows_loaded in logged:
            table = CONTRACTS_BY_FILE[source_file].table
            [(rows,)] = con.execute(
                f'SELECT count(*) FROM raw."{table}" WHERE _drop_date = ? AND _source_file = ?',
                [drop, source_file],
            ).fetchall()
            assert rows == rows_loaded, (drop, source_file, rows, rows_loaded)
        return len(logged)


def test_a_first_ingest_killed_twice_loads_every_row_once(worlds: Worlds) -> None:
    site = Site.under(worlds.root / "first")
    first = worlds.days.first
    site.deliver(first)
    loaded = []
    # Killed as each run reports its first file: in the first the schema was just made, in
    # the second earlier files are loaded already. Files load two at a time, so the other
    # one is mid-transaction (or just committed) at the kill.
    for _ in range(2):
        point = KillPoint(
            "ingest",
            rf"INFO +drop {first.name} \S+: [\d,]+ read",
            command_over(r"rows loaded, [\d,]+ quarantined"),
        )
        kill_at(command(site, "ingest"), point, worlds.log)
        loaded.append(logged_files_are_whole(site.db))
    assert 0 < loaded[0] < loaded[1]
    run(command(site, "ingest"), worlds.log)
    assert raw_fingerprints(site.db) == raw_fingerprints(worlds.days.yesterday.db)
