"""Ingest throughput against DuckDB's bare `read_csv` of the same files, in the same run.

    uv run python bench/ingest.py [--scales 1 10] [--repeat 3]

For each scale: generate the demo world once (not timed), then time
- bare: DuckDB loads every extract file into a table with `read_csv` / `read_json`
  and nothing else (GB18030 files are handed to it pre-converted to UTF-8, which
  DuckDB cannot read on its own: this favours the baseline);
- wmsight: `ingest_extracts` into a fresh database: decoding, contracts, quarantine,
  load log, with its default number of files loaded side by side (`--workers` to set it;
  `--workers 1` loads one file after another, as the bare load does).
Prints rows per second and the ratio (target: wmsight at least half as fast as bare),
then where wmsight's seconds went (median per phase, summed over files): decode (read
the bytes, checksum, decode), read (into DuckDB, rows as text), check (parse and run the
contracts), load (the per-file transaction: raw rows, quarantine, load log, commit),
other (connect, raw schema, checksum lookup, closing the database). With files loaded
side by side the phases of files that overlap add up to more than the wall time, and
"other" is negative by that overlap.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.encoding import decode_file  # noqa: E402
from ingest.load import DEFAULT_WORKERS, discover_drops, ingest_extracts  # noqa: E402
from wmsight.demo import generate_world  # noqa: E402


def prepare_bare_inputs(extracts: Path, workdir: Path) -> list[Path]:
    """UTF-8 copies of every extract file (DuckDB cannot decode GB18030 itself)."""
    copies = []
    drops, _ = discover_drops(extracts)
    for drop in drops:
        for name in drop.files():
            source = drop.path / name
            target = workdir / drop.path.name / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(decode_file(source, name).text, encoding="utf-8")
            copies.append(target)
    return copies


def bare_load(files: list[Path], db_path: Path) -> int:
    rows = 0
    with duckdb.connect(str(db_path)) as con:
        for i, path in enumerate(files):
            reader = "read_json" if path.suffix == ".jsonl" else "read_csv"
            con.execute(f"CREATE TABLE t{i} AS SELECT * FROM {reader}(?)", [str(path)]).fetchall()
            rows += con.execute(f"SELECT count(*) FROM t{i}").fetchall()[0][0]
    return rows


PHASES = ("decode", "read", "check", "load")


def timed(action) -> tuple[float, object]:
    started = time.perf_counter()
    value = action()
    return time.perf_counter() - started, value


def bench_scale(scale: float, repeat: int, workdir: Path, workers: int) -> dict:
    extracts = workdir / f"scale{scale:g}" / "extracts"
    generation, _ = timed(lambda: generate_world(extracts, scale=scale, seed=7))
    utf8 = prepare_bare_inputs(extracts, workdir / f"scale{scale:g}" / "utf8")
    bare_times, ours_times, phase_runs = [], [], []
    rows = 0
    for attempt in range(repeat):
        bare_db = workdir / f"bare{scale:g}_{attempt}.duckdb"
        ours_db = workdir / f"ours{scale:g}_{attempt}.duckdb"
        seconds, rows = timed(lambda db=bare_db: bare_load(utf8, db))
        bare_times.append(seconds)
        seconds, result = timed(lambda db=ours_db: ingest_extracts(extracts, db, workers=workers))
        ours_times.append(seconds)
        phases = {p: sum(f.phases.get(p, 0.0) for f in result.files) for p in PHASES}
        phase_runs.append(phases | {"other": seconds - sum(phases.values())})
        loaded = result.rows_loaded + result.rows_quarantined
        bare_db.unlink()
        ours_db.unlink()
    bare, ours = statistics.median(bare_times), statistics.median(ours_times)
    return {
        "scale": scale,
        "rows": rows,
        "loaded": loaded,
        "generate_s": generation,
        "bare_s": bare,
        "wmsight_s": ours,
        "bare_rows_per_s": rows / bare,
        "wmsight_rows_per_s": loaded / ours,
        "speed_vs_bare": bare / ours,
        "phases": {p: statistics.median(run[p] for run in phase_runs) for p in phase_runs[0]},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--workers", type=int, default=DEFAULT_WORKERS, help="files wmsight loads at once"
    )
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="wmsight-bench-"))
    try:
        results = [bench_scale(scale, args.repeat, workdir, args.workers) for scale in args.scales]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    header = (
        f"{'scale':>5} {'rows':>10} {'bare s':>8} {'wmsight s':>10} "
        f"{'bare rows/s':>12} {'wmsight rows/s':>15} {'wmsight/bare speed':>19}"
    )
    print(header)
    for r in results:
        print(
            f"{r['scale']:>5g} {r['rows']:>10,} {r['bare_s']:>8.2f} {r['wmsight_s']:>10.2f} "
            f"{r['bare_rows_per_s']:>12,.0f} {r['wmsight_rows_per_s']:>15,.0f} "
            f"{r['speed_vs_bare']:>19.2f}"
        )
    print(
        "target: wmsight/bare speed >= 0.50 (validation, quarantine and load log included); "
        f"median of {args.repeat} runs; rows = top-level rows (order items not counted); "
        f"wmsight loaded {args.workers} file(s) at once, bare one after another"
    )
    print()
    names = list(results[0]["phases"])
    print(f"{'scale':>5} " + " ".join(f"{name + ' s':>9}" for name in names) + "  (wmsight)")
    for r in results:
        print(f"{r['scale']:>5g} " + " ".join(f"{r['phases'][name]:>9.2f}" for name in names))


if __name__ == "__main__":
    main()
