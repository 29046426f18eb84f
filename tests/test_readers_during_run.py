"""The demo world through the real command line, day after day, with a reader beside the
running pipeline (DuckDB has one writer): a reader of the published feeds is never
blocked by a run, never blocks it, and never sees half a publication."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import query
from typer.testing import CliRunner

from wmsight.cli import app
from wmsight.publish import LATEST, MANIFEST

WMSIGHT = [sys.executable, "-c", "from wmsight.cli import app; app()"]
# a read of every feed takes milliseconds; a reader stuck behind the pipeline would not
SLOWEST_READ_SECONDS = 2.0

pytestmark = pytest.mark.slow


def read_publication(feeds: Path) -> tuple[str, dict[str, int]] | None:
    """The as-of date and rows per feed of `latest`, checked file by file against its
    manifest (a half-written publication would fail the hash or the row count)."""
    latest = feeds / LATEST
    if not latest.exists():
        return None
    folder = latest.resolve()  # one resolution: the whole read comes from one publication
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    rows = {}
    for name, feed in manifest["feeds"].items():
        if feed["status"] != "published":
            continue
        data = (folder / feed["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == feed["sha256"], f"{name}: torn file"
        table = pq.read_table(folder / feed["file"])
        assert table.num_rows == feed["rows"], f"{name}: rows differ from the manifest"
        rows[name] = table.num_rows
    return manifest["as_of"], rows


def test_daily_runs_of_the_demo_world_with_a_reader_beside_them(tmp_path: Path) -> None:
    generated = tmp_path / "generated"
    made = CliRunner().invoke(
        app,
        ["generate", "--out", str(generated), "--scale", "0.02", "--days", "120"]
        + ["--delta-drops", "1", "--seed", "5"],
    )
    assert made.exit_code == 0, made.output
    assert "wrote 2 drop(s)" in " ".join(made.output.split())
    first, second = sorted(p for p in generated.iterdir() if p.name[0].isdigit())
    extracts, feeds, db = tmp_path / "extracts", tmp_path / "feeds", tmp_path / "w.duckdb"
    extracts.mkdir()
    (extracts / first.name).symlink_to(first, target_is_directory=True)
    command = [*WMSIGHT, "run", "--extracts", str(extracts), "--db", str(db), "--feeds", str(feeds)]

    def run_while_reading() -> tuple[subprocess.CompletedProcess, list, float]:
        """Start a run and read `latest` in a loop until it ends."""
        seen, slowest = [], 0.0
        with open(tmp_path / "run.log", "a+") as log:
            run = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
            # the reader holds the previous publication open for the whole run: the run's
            # switch of `latest` and its retention must not need it closed
            held = None
            if (feeds / LATEST).exists():
                held = open((feeds / LATEST).resolve() / MANIFEST, "rb")  # noqa: SIM115
            try:
                while run.poll() is None:
                    started = time.perf_counter()
                    seen.append(read_publication(feeds))
                    slowest = max(slowest, time.perf_counter() - started)
                    time.sleep(0.05)
            finally:
                if held is not None:
                    held.close()
            log.seek(0)
            output = log.read()
        return subprocess.CompletedProcess(command, run.returncode, output), seen, slowest

    ran, seen, slowest = run_while_reading()
    assert ran.returncode == 0, ran.stdout[-3000:]
    assert all(publication is None or publication[0] == first.name for publication in seen)
    [(loaded,)] = query(db, "SELECT sum(rows_loaded) FROM raw.load_log")
    assert loaded > 1000
    assert query(db, "SELECT count(*) FROM raw.quarantine") == [(0,)]
    # the run ends by publishing the feeds its data supports, from a real dbt build
    as_of, rows = read_publication(feeds)
    assert as_of == first.name
    assert {"kpi_daily", "customer_360", "demand_forecast"} <= set(rows)
    (extracts / second.name).symlink_to(second, target_is_directory=True)

    ran, seen, slowest = run_while_reading()
    assert ran.returncode == 0, ran.stdout[-3000:]
    assert len(seen) > 20, "the reader should have read many times during the run"
    # every read was a whole publication: yesterday's until the switch, never a mix
    as_of_dates = [publication[0] for publication in seen]
    assert as_of_dates[0] == first.name
    assert set(as_of_dates) <= {first.name, second.name}
    switched = as_of_dates.index(second.name) if second.name in as_of_dates else len(seen)
    assert all(d == first.name for d in as_of_dates[:switched])
    assert all(d == second.name for d in as_of_dates[switched:])
    assert slowest < SLOWEST_READ_SECONDS, f"a read took {slowest:.2f} s during the run"
    assert read_publication(feeds)[0] == second.name
