"""One writer at a time: a second run exits with who holds the warehouse, or waits."""

from __future__ import annotations

import json
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
