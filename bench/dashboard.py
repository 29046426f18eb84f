"""How long each dashboard page takes to render, against an empty Streamlit page, in the
same run.

    uv run python bench/dashboard.py [--feeds demo_data/feeds] [--db demo_data/wmsight.duckdb]
                                     [--repeat 5]

Runs the app with Streamlit's AppTest (the server's side of a page view: the script run
that reads the publication and builds every element and chart; the browser's drawing is
not timed) on the published run given (default: `make demo`'s, scale 1). For each page:
the first view in this process (its files read from disk) and the median of `--repeat`
later views (the files cached, as for every visitor after the first). The baseline is a
page that draws one line of text: Streamlit's own cost per run. Target (issue 7): every
page under 2 s at scale 1.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streamlit.testing.v1 import AppTest  # noqa: E402

APP = Path(__file__).resolve().parents[1] / "dashboards" / "app.py"
PAGES = ("overview", "customers", "alerts", "review", "accuracy", "quality")
TARGET_SECONDS = 2.0


def timed(app: AppTest) -> float:
    started = time.perf_counter()
    app.run()
    seconds = time.perf_counter() - started
    if app.exception:
        raise SystemExit(f"the page raised: {app.exception[0].value}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=Path, default=Path("demo_data/feeds"))
    parser.add_argument("--db", type=Path, default=Path("demo_data/wmsight.duckdb"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not (args.feeds / "latest").exists():
        raise SystemExit(f"no publication in {args.feeds}: run `make demo DASHBOARD=0` first")
    os.environ["WMSIGHT_FEEDS_DIR"] = str(args.feeds.resolve())
    os.environ["WMSIGHT_DB_PATH"] = str(args.db.resolve())

    with tempfile.TemporaryDirectory() as folder:
        empty = Path(folder) / "empty.py"
        empty.write_text("import streamlit as st\nst.write('wmsight')\n")
        baseline_app = AppTest.from_file(str(empty), default_timeout=300)
        timed(baseline_app)
        baseline = statistics.median(timed(baseline_app) for _ in range(args.repeat))

    app = AppTest.from_file(str(APP), default_timeout=300)
    started = time.perf_counter()
    app.run()  # imports the app's modules: once per server process, not per view
    start_up = time.perf_counter() - started
    rows = []
    for page in PAGES:
        app.switch_page(f"views/{page}.py")
        first = timed(app)
        warm = statistics.median(timed(app) for _ in range(args.repeat))
        rows.append((page, first, warm))

    load = os.getloadavg()[0]
    print(f"publication {os.path.realpath(args.feeds / 'latest')}")
    print(f"machine: {os.cpu_count()} cores, load average {load:.1f}; start-up {start_up:.1f} s")
    print(f"baseline (an empty page): {baseline * 1000:.0f} ms per view")
    print(f"{'page':<10} {'first view':>11} {'later views':>12} {'× empty':>8}  target 2 s")
    for page, first, warm in rows:
        verdict = "ok" if max(first, warm) < TARGET_SECONDS else "MISSED"
        print(f"{page:<10} {first:>10.2f}s {warm:>11.2f}s {warm / baseline:>8.1f}  {verdict}")


if __name__ == "__main__":
    main()
