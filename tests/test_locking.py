"""One writer at a time: a second run exits with who holds the warehouse, or waits."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wmsight.cli import app
from wmsight.runner import WarehouseBusy, lock_path, warehouse_lock

HOLDER = """
import sys, time
from pathlib import Path
from wmsight.runner import warehouse_lock
with warehouse_lock(Path(sys.argv[1]), "test holder"):
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold(db_path: Path, seconds: float) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(db_path), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "locked"
    return process


def test_a_second_run_exits_naming_the_holder(tmp_path: Path) -> None:
    db_path = tmp_path / "w.duckdb"
    holder = hold(db_path, 60)
    try:
        result = CliRunner().invoke(
            app,
            ["run", "--extracts", str(tmp_path), "--db", str(db_path), "--feeds", str(tmp_path)],
        )
        assert result.exit_code == 2, result.output
        text = " ".join(result.output.split())
        assert "being written by another wmsight process" in text
        assert f'"pid": {holder.pid}' in text and "test holder" in text
        assert not db_path.exists()  # the second run touched nothing
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # a killed holder leaves no stale lock: the kernel released it
    with warehouse_lock(db_path, "after the kill"):
        assert json.loads(lock_path(db_path).read_text())["purpose"] == "after the kill"


def test_a_writer_can_wait_for_the_lock(tmp_path: Path) -> None:
    db_path = tmp_path / "w.duckdb"
    holder = hold(db_path, 1.5)
    started = time.monotonic()
    with pytest.raises(WarehouseBusy), warehouse_lock(db_path, "impatient"):
        pass
    with warehouse_lock(db_path, "patient", wait_seconds=30):
        waited = time.monotonic() - started
    holder.wait()
    assert 0.5 < waited < 30


WMSIGHT = [sys.executable, "-c", "from wmsight.cli import app; app()"]


@pytest.mark.slow
def test_two_real_runs_started_at_once_one_writes_the_other_exits_naming_it(
    tmp_path: Path,
) -> None:
    from conftest import query

    from wmsight.demo import generate_world

    extracts = tmp_path / "extracts"
    generate_world(extracts, scale=0.02, seed=3, days=60, delta_drops=1)
    db = tmp_path / "w.duckdb"
    command = [*WMSIGHT, "run", "--extracts", str(extracts), "--db", str(db)]
    command += ["--feeds", str(tmp_path / "feeds")]
    environment = os.environ | {"COLUMNS": "300", "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"}
    runs = [
        subprocess.Popen(
            command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for _ in range(2)
    ]
    try:
        # the one that did not get the lock ends at once, long before a run could finish
        deadline = time.monotonic() + 300
        while all(run.poll() is None for run in runs) and time.monotonic() < deadline:
            time.sleep(0.1)
        [loser] = [run for run in runs if run.poll() is not None]
        [winner] = [run for run in runs if run is not loser]
        output = " ".join(loser.stdout.read().split())
        assert loser.returncode == 2, output
        assert "is being written by another wmsight process" in output
        assert f'"pid": {winner.pid}' in output and '"purpose": "wmsight run"' in output
        assert "stage ingest started" not in output  # it did nothing before leaving
        # the winner goes on: it ingests and starts building
        for line in winner.stdout:
            if "stage transform started" in line:
                break
        assert winner.poll() is None
    finally:
        for run in runs:
            if run.poll() is None:
                run.send_signal(signal.SIGKILL)
            run.wait()
    # every file was loaded once, by one ingest run: the warehouse had a single writer
    [(files, loads, ingest_runs)] = query(
        db,
        "SELECT count(DISTINCT (drop_date, source_file)), count(*), count(DISTINCT run_id) "
        "FROM raw.load_log",
    )
    assert files == loads and ingest_runs == 1
