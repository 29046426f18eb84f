"""The whole pipeline at several scales: time and peak memory per stage, and what a daily
drop costs beside a full rebuild, all measured in the same run.

    uv run python bench/pipeline.py [--scales 1 10] [--seed 7] [--write-docs]

For each scale the demo world is generated once (not timed) with two daily delta drops
after the full-history drop. Then, each in a fresh child process:

- full:        every drop into a new warehouse (ingest → dbt → forecast → plan →
               customers → publish): the cost of starting from scratch;
- yesterday:   a new warehouse with every drop but the newest (not reported: it sets
               up the next one);
- incremental: the newest drop on top of yesterday's warehouse: what a day costs;
- nothing new: the same run again with no new drop: the floor under any daily run.

The parent samples the resident memory of the child and all its workers every 0.1 s
and attributes the peak to the stage running. Printed: seconds and peak MiB per stage,
input rows per second, scale-to-scale growth against linear, and incremental ÷ full.
`--write-docs` also rewrites the pipeline section of docs/BENCHMARKS.md (between its
markers) and the plot docs/bench_pipeline.png.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DOCS = ROOT / "docs" / "BENCHMARKS.md"
PLOT = ROOT / "docs" / "bench_pipeline.png"
START_MARK = "<!-- bench/pipeline.py: start -->"
END_MARK = "<!-- bench/pipeline.py: end -->"
STAGE_LINE = re.compile(r"^@@stage (start|done) (\w+)(?: (.*))?$")


@dataclass
class StageFigure:
    name: str
    status: str = ""
    seconds: float = 0.0
    peak_mib: float = 0.0


@dataclass
class RunFigures:
    label: str
    stages: dict[str, StageFigure] = field(default_factory=dict)
    input_rows: int = 0
    load: list[float] = field(default_factory=list)  # 1-minute load average, each second
    dbt_nodes: dict[str, tuple[int, float]] = field(default_factory=dict)  # type: (n, s)

    @property
    def seconds(self) -> float:
        return sum(s.seconds for s in self.stages.values())

    @property
    def peak_mib(self) -> float:
        return max((s.peak_mib for s in self.stages.values()), default=0.0)


# ---------------------------------------------------------------- the child: one run


def run_child(extracts: Path, db_path: Path, feeds: Path) -> None:
    """Run every stage, announcing each on stdout so the parent can time and sample it."""
    import duckdb

    from wmsight.runner import RunContext, run_stages
    from wmsight.stages import PIPELINE

    def on_start(stage) -> None:
        print(f"@@stage start {stage.name}", flush=True)

    def on_done(report) -> None:
        detail = {"status": report.status, "seconds": report.seconds, "error": report.error}
        print(f"@@stage done {report.name} {json.dumps(detail)}", flush=True)

    before = _rows_read(db_path)
    report = run_stages(RunContext(extracts, db_path, feeds), PIPELINE, on_start, on_done)
    with duckdb.connect(str(db_path), read_only=True) as con:
        after = con.execute("SELECT coalesce(sum(rows_read), 0) FROM raw.load_log").fetchall()
    print(f"@@rows {int(after[0][0]) - before}", flush=True)
    sys.exit(1 if report.failed else 0)


def _rows_read(db_path: Path) -> int:
    import duckdb

    if not db_path.exists():
        return 0
    with duckdb.connect(str(db_path), read_only=True) as con:
        return int(
            con.execute("SELECT coalesce(sum(rows_read), 0) FROM raw.load_log").fetchall()[0][0]
        )


# ---------------------------------------------------------------- the parent: measure


def tree_rss(process: psutil.Process) -> int:
    """Resident bytes of a process and every descendant (the forecast's worker pool)."""
    total = 0
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for member in members:
        with contextlib.suppress(psutil.NoSuchProcess):  # a worker that just exited
            total += member.memory_info().rss
    return total


def measure_run(label: str, extracts: Path, db_path: Path, feeds: Path) -> RunFigures:
    figures = RunFigures(label)
    command = [sys.executable, __file__, "--child", str(extracts), str(db_path), str(feeds)]
    child = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    watched = psutil.Process(child.pid)
    current: list[StageFigure | None] = [None]
    stop = threading.Event()

    def sample() -> None:
        ticks = 0
        while not stop.is_set():
            stage = current[0]
            if stage is not None:
                stage.peak_mib = max(stage.peak_mib, tree_rss(watched) / 2**20)
            if ticks % 10 == 0:
                figures.load.append(os.getloadavg()[0])
            ticks += 1
            stop.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    assert child.stdout is not None
    for line in child.stdout:
        if line.startswith("@@rows "):
            figures.input_rows = int(line.split()[1])
            continue
        match = STAGE_LINE.match(line.strip())
        if not match:
            continue
        event, name, detail = match.groups()
        if event == "start":
            current[0] = figures.stages.setdefault(name, StageFigure(name))
            print(f"  {label}: {name} …", flush=True)
        else:
            done = json.loads(detail)
            stage = figures.stages[name]
            stage.status, stage.seconds = done["status"], done["seconds"]
            print(f"  {label}: {name} {stage.status} in {stage.seconds:.1f} s", flush=True)
            if done["error"]:
                print(f"    {done['error']}", flush=True)
    child.wait()
    stop.set()
    sampler.join()
    if child.returncode != 0:
        raise SystemExit(f"{label}: the pipeline failed (exit {child.returncode}); see above")
    figures.dbt_nodes = dbt_node_times(db_path)
    return figures


def dbt_node_times(db_path: Path) -> dict[str, tuple[int, float]]:
    """Nodes the run's dbt build ran and their summed seconds, per resource type (from
    run_results.json in the warehouse's dbt state)."""
    from wmsight.transform import dbt_state_dir

    path = dbt_state_dir(db_path) / "target" / "run_results.json"
    if not path.exists():
        return {}
    totals: dict[str, tuple[int, float]] = {}
    for result in json.loads(path.read_text(encoding="utf-8"))["results"]:
        kind = result["unique_id"].split(".")[0]
        n, seconds = totals.get(kind, (0, 0.0))
        totals[kind] = (n + 1, seconds + result["execution_time"])
    return dict(sorted(totals.items()))


def stage_drops(extracts: Path, target: Path, drops: list[Path]) -> Path:
    """An extracts folder holding just these drops (symlinks: nothing is copied)."""
    target.mkdir(parents=True)
    for drop in drops:
        (target / drop.name).symlink_to(drop, target_is_directory=True)
    return target


def bench_scale(scale: float, seed: int, workdir: Path) -> dict[str, RunFigures]:
    from wmsight.demo import generate_world

    extracts = workdir / "extracts"
    print(f"scale {scale:g}: generating the demo world (not timed) …", flush=True)
    generate_world(extracts, scale=scale, seed=seed, delta_drops=2)
    drops = sorted(p for p in extracts.iterdir() if re.fullmatch(r"\d{4}-\d{2}-\d{2}", p.name))
    runs = {}
    runs["full"] = measure_run(
        "full",
        stage_drops(extracts, workdir / "all", drops),
        workdir / "full.duckdb",
        workdir / "feeds_full",
    )
    daily = workdir / "daily"
    stage_drops(extracts, daily, drops[:-1])
    measure_run("yesterday", daily, workdir / "daily.duckdb", workdir / "feeds_daily")
    (daily / drops[-1].name).symlink_to(drops[-1], target_is_directory=True)
    runs["incremental"] = measure_run(
        "incremental", daily, workdir / "daily.duckdb", workdir / "feeds_daily"
    )
    # the same again with no new drop: what any daily run costs however little it brings
    runs["nothing new"] = measure_run(
        "nothing new", daily, workdir / "daily.duckdb", workdir / "feeds_daily"
    )
    return runs


# ---------------------------------------------------------------- reporting


def table(results: dict[float, dict[str, RunFigures]]) -> list[str]:
    stages = list(next(iter(results.values()))["full"].stages)
    lines = [
        "| scale | run | " + " | ".join(stages) + " | total s | peak MiB | input rows/s | load |",
        "|---:|---|" + "---:|" * (len(stages) + 3) + "---|",
    ]
    for scale, runs in results.items():
        for label, run in runs.items():
            cells = [f"{run.stages[s].seconds:.1f}" if s in run.stages else "–" for s in stages]
            rate = run.input_rows / run.seconds if run.seconds else 0
            lines.append(
                f"| {scale:g} | {label} | "
                + " | ".join(cells)
                + f" | {run.seconds:.1f} | {run.peak_mib:,.0f} | {rate:,.0f} | {load_range(run)} |"
            )
    lines.append("")
    lines.append("Peak resident memory per stage (MiB, the process and its workers):")
    lines.append("")
    lines.append("| scale | " + " | ".join(stages) + " |")
    lines.append("|---:|" + "---:|" * len(stages))
    for scale, runs in results.items():
        full = runs["full"]
        lines.append(
            f"| {scale:g} | "
            + " | ".join(
                f"{full.stages[s].peak_mib:,.0f}" if s in full.stages else "–" for s in stages
            )
            + " |"
        )
    return lines


def dbt_lines(results: dict[float, dict[str, RunFigures]]) -> list[str]:
    """What the transform stage's dbt build ran: nodes and their seconds by type."""
    lines = ["dbt nodes run by the transform stage (count, summed node seconds; 2 threads):", ""]
    for scale, runs in results.items():
        for label, run in runs.items():
            parts = [f"{kind} {n} ({s:.1f} s)" for kind, (n, s) in run.dbt_nodes.items()]
            lines.append(f"- scale {scale:g} {label}: " + (", ".join(parts) or "–"))
    return lines


def load_range(run: RunFigures) -> str:
    """The machine's 1-minute load average during the run (2 cores: above 2 is queueing)."""
    if not run.load:
        return "–"
    return f"{min(run.load):.1f}–{max(run.load):.1f}"


def ratios(results: dict[float, dict[str, RunFigures]]) -> list[str]:
    lines = []
    for scale, runs in results.items():
        share = runs["incremental"].seconds / runs["full"].seconds
        lines.append(
            f"- scale {scale:g}: a daily drop costs {share:.0%} of a full rebuild "
            f"({runs['incremental'].seconds:.1f} s vs {runs['full'].seconds:.1f} s; target ≤ 15 %)"
        )
        if "nothing new" in runs:
            floor = runs["nothing new"]
            lines.append(
                f"  - a run with no new drop costs {floor.seconds / runs['full'].seconds:.0%} "
                f"({floor.seconds:.1f} s): the floor of a daily run at this scale"
            )
    scales = sorted(results)
    for small, large in zip(scales, scales[1:], strict=False):
        growth = results[large]["full"].seconds / results[small]["full"].seconds
        rows = results[large]["full"].input_rows / max(results[small]["full"].input_rows, 1)
        lines.append(
            f"- scale {small:g} → {large:g}: time × {growth:.1f} for input rows × {rows:.1f} "
            f"(target: time at most × {large / small:g})"
        )
        for stage in results[small]["full"].stages:
            a = results[small]["full"].stages[stage].seconds
            b = results[large]["full"].stages.get(stage)
            if b and a > 0:
                lines.append(f"  - {stage}: × {b.seconds / a:.1f}")
    return lines


def plot(results: dict[float, dict[str, RunFigures]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scales = sorted(results)
    figure, axis = plt.subplots(figsize=(7, 4.2))
    for stage in results[scales[0]]["full"].stages:
        seconds = [results[s]["full"].stages[stage].seconds for s in scales]
        axis.plot(scales, seconds, marker="o", label=stage)
    totals = [results[s]["full"].seconds for s in scales]
    axis.plot(scales, totals, marker="s", color="black", linewidth=2, label="total")
    linear = [totals[0] * s / scales[0] for s in scales]
    axis.plot(scales, linear, linestyle="--", color="grey", label="linear from smallest")
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.set_xlabel("scale (demo world size)")
    axis.set_ylabel("seconds (full run, 2 cores)")
    axis.set_title("wmsight: time per stage against scale")
    axis.legend(fontsize=8)
    axis.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def write_docs(results: dict[float, dict[str, RunFigures]], seed: int) -> None:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    scales = " ".join(f"{s:g}" for s in results)
    section = [
        START_MARK,
        f"Written by `uv run python bench/pipeline.py --scales {scales} --seed {seed} "
        f"--write-docs` on {date.today()} at commit {commit} (2 cores). Seconds per stage:",
        "",
        *table(results),
        "",
        *ratios(results),
        "",
        *dbt_lines(results),
        "",
        f"![time per stage against scale]({PLOT.name})",
        END_MARK,
    ]
    text = DOCS.read_text(encoding="utf-8")
    if START_MARK in text and END_MARK in text:
        head, rest = text.split(START_MARK, 1)
        tail = rest.split(END_MARK, 1)[1]
        text = head + "\n".join(section) + tail
    else:
        text = text.rstrip("\n") + "\n\n## The whole pipeline\n\n" + "\n".join(section) + "\n"
    DOCS.write_text(text, encoding="utf-8")
    plot(results, PLOT)


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        run_child(*map(Path, sys.argv[2:]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--write-docs", action="store_true", help="update docs/BENCHMARKS.md")
    parser.add_argument("--keep", type=Path, help="keep the work folders under this path")
    args = parser.parse_args()
    results = {}
    for scale in args.scales:
        workdir = Path(tempfile.mkdtemp(prefix=f"wmsight-pipeline-{scale:g}-", dir=args.keep))
        try:
            results[scale] = bench_scale(scale, args.seed, workdir)
        finally:
            if args.keep is None:
                shutil.rmtree(workdir, ignore_errors=True)
    print()
    print("\n".join(table(results)))
    print()
    print("\n".join(ratios(results)))
    print()
    print("\n".join(dbt_lines(results)))
    if args.write_docs:
        write_docs(results, args.seed)
        print(f"\nwrote {DOCS.relative_to(ROOT)} and {PLOT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
