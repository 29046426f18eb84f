"""Two days of the demo world through the real command line, with a reader of the feeds
beside each run: built once per session (conftest `demo_days`), because two pipeline runs
take minutes. tests/test_readers_during_run.py checks what the reader saw;
tests/test_faults.py starts its faulty day from yesterday's copy and compares the end
with today's clean run.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from wmsight.publish import LATEST, MANIFEST

WMSIGHT = [sys.executable, "-c", "from wmsight.cli import app; app()"]


def read_publication(feeds: Path) -> tuple[str, dict[str, int]] | None:
    """The as-of date and rows per feed of `latest`, checked file by file against its
    manifest (a half-written publication fails the hash or the row count)."""
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


@dataclass(frozen=True)
class Site:
    """One installation: an extracts folder (drops appear in it as symlinks), a warehouse
    file and a feeds folder."""

    extracts: Path
    db: Path
    feeds: Path

    @classmethod
    def under(cls, root: Path) -> Site:
        return cls(root / "extracts", root / "w.duckdb", root / "feeds")

    def deliver(self, drop: Path) -> None:
        self.extracts.mkdir(parents=True, exist_ok=True)
        (self.extracts / drop.name).symlink_to(drop, target_is_directory=True)

    def copy_to(self, root: Path) -> Site:
        """A copy of this site under `root` (nothing may be writing it)."""
        root.mkdir(parents=True)
        copy = Site.under(root)
        shutil.copytree(self.extracts, copy.extracts, symlinks=True)
        shutil.copy2(self.db, copy.db)
        if self.feeds.exists():
            shutil.copytree(self.feeds, copy.feeds, symlinks=True)
        return copy


@dataclass
class Day:
    """One `wmsight run` and what a reader of `latest` saw while it ran."""

    returncode: int
    output: str
    seen: list = field(default_factory=list)  # read_publication() results, in order
    torn: list[str] = field(default_factory=list)  # reads that found a broken publication
    slowest_read: float = 0.0


def run_while_reading(site: Site, log: Path) -> Day:
    """Run the pipeline and read `latest` in a loop until it ends."""
    command = [*WMSIGHT, "run", "--extracts", str(site.extracts), "--db", str(site.db)]
    command += ["--feeds", str(site.feeds)]
    day = Day(returncode=-1, output="")
    with log.open("a+") as handle:
        start = handle.tell()
        run = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT)
        # the reader holds the previous publication open for the whole run: the run's
        # switch of `latest` and its retention must not need it closed
        held = None
        if (site.feeds / LATEST).exists():
            held = open((site.feeds / LATEST).resolve() / MANIFEST, "rb")  # noqa: SIM115
        try:
            while run.poll() is None:
                started = time.perf_counter()
                try:
                    day.seen.append(read_publication(site.feeds))
                except (AssertionError, OSError) as error:
                    day.torn.append(f"{type(error).__name__}: {error}")
                day.slowest_read = max(day.slowest_read, time.perf_counter() - started)
                time.sleep(0.05)
        finally:
            if held is not None:
                held.close()
        handle.seek(start)
        day.output = handle.read()
    day.returncode = run.returncode
    return day


@dataclass(frozen=True)
class DemoDays:
    generated: Path  # the generator's output: two drop folders and _truth
    first: Path  # the first drop (full history)
    second: Path  # the daily drop after it
    yesterday: Site  # a copy of the site after the first day's run (never written again)
    site: Site  # the site after the second day's run
    days: list[Day]


def demo_days(root: Path) -> DemoDays:
    from typer.testing import CliRunner

    from wmsight.cli import app

    generated = root / "generated"
    made = CliRunner().invoke(
        app,
        ["generate", "--out", str(generated), "--scale", "0.02", "--days", "120"]
        + ["--delta-drops", "1", "--seed", "5"],
    )
    assert made.exit_code == 0, made.output
    assert "wrote 2 drop(s)" in " ".join(made.output.split())
    first, second = sorted(p for p in generated.iterdir() if p.name[0].isdigit())
    site = Site.under(root / "site")
    site.deliver(first)
    days = [run_while_reading(site, root / "runs.log")]
    assert days[0].returncode == 0, days[0].output[-3000:]
    yesterday = site.copy_to(root / "yesterday")
    site.deliver(second)
    days.append(run_while_reading(site, root / "runs.log"))
    return DemoDays(generated, first, second, yesterday, site, days)
