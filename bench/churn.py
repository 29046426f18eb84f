"""Churn alerts measured against the generator's true churners.

    uv run python bench/churn.py [--scale 1] [--seed 42] [--keep DIR] [--db FILE --truth CSV]

Generates a demo world, ingests it and builds the warehouse (not timed), runs the
customers stage (timed), then compares the customers with a churn alert
(`models_ml.alerts.CHURN_ALERT_TYPES`) with `_truth/customers.csv` (churned = the
generator's churner segment, silent for its last 100+ days). A customer_key is a true
churner when most of its source records (`_truth/identity.csv`) belong to one; a true
churner is found when any of its customer_keys is alerted. Targets at scale 1:
precision >= 0.8, recall >= 0.8. With --db and --truth it measures an existing build.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models_ml.alerts import CHURN_ALERT_TYPES  # noqa: E402
from models_ml.churn import run_customer_intelligence  # noqa: E402


@dataclass(frozen=True)
class ChurnQuality:
    alerted: int  # customer_keys with a churn alert
    alerted_churners: int  # of which a true churner
    churners: int  # true churners with an order in the warehouse
    found: int  # of which alerted
    by_segment: dict[str, tuple[int, int]]  # true segment: (customer_keys, alerted)

    @property
    def precision(self) -> float:
        return self.alerted_churners / self.alerted if self.alerted else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.churners if self.churners else 1.0


def measure(db_path: Path, truth_dir: Path) -> ChurnQuality:
    types = list(CHURN_ALERT_TYPES)
    with duckdb.connect(str(db_path), read_only=True) as con:
        con.execute(
            """
            CREATE TEMP TABLE key_truth AS
            SELECT k.customer_key, arg_max(c.segment, n) AS segment,
                   arg_max(c.true_customer_id, n) AS true_customer_id,
                   arg_max(c.churned, n) AS churned
            FROM (SELECT k.customer_key, t.true_customer_id, count(*) AS n
                  FROM read_csv(?, all_varchar = true) AS t
                  JOIN intermediate.int_customer_keys AS k USING (source_system, source_id)
                  GROUP BY ALL) AS k
            JOIN read_csv(?, types = {'churned': 'BOOLEAN'}) AS c USING (true_customer_id)
            GROUP BY k.customer_key""",
            [str(truth_dir / "identity.csv"), str(truth_dir / "customers.csv")],
        )
        con.execute(
            """
            CREATE TEMP TABLE scored AS
            SELECT s.customer_key, coalesce(t.churned, false) AS churned,
                   coalesce(t.segment, '(no truth)') AS segment, t.true_customer_id,
                   s.customer_key IN (SELECT customer_key FROM ml.churn_alerts
                                      WHERE alert_type IN (SELECT unnest(?::varchar[])))
                       AS alerted
            FROM ml.customer_scores AS s LEFT JOIN key_truth AS t USING (customer_key)""",
            [types],
        )
        [(alerted, alerted_churners)] = con.execute(
            "SELECT count(*) FILTER (WHERE alerted), count(*) FILTER (WHERE alerted AND churned) "
            "FROM scored"
        ).fetchall()
        [(churners, found)] = con.execute(
            """SELECT count(*), count(*) FILTER (WHERE hit) FROM (
                   SELECT true_customer_id, bool_or(alerted) AS hit FROM scored
                   WHERE churned GROUP BY true_customer_id)"""
        ).fetchall()
        by_segment = {
            segment: (int(n), int(a))
            for segment, n, a in con.execute(
                "SELECT segment, count(*), count(*) FILTER (WHERE alerted) FROM scored "
                "GROUP BY segment ORDER BY segment"
            ).fetchall()
        }
    return ChurnQuality(int(alerted), int(alerted_churners), int(churners), int(found), by_segment)


def build(scale: float, seed: int, workdir: Path) -> tuple[Path, Path]:
    from ingest.load import ingest_extracts
    from wmsight.demo import generate_world
    from wmsight.transform import build_warehouse

    extracts, db_path = workdir / "extracts", workdir / "wmsight.duckdb"
    generate_world(extracts, scale=scale, seed=seed)
    ingest_extracts(extracts, db_path)
    build_warehouse(db_path)
    return db_path, extracts / "_truth"


def report(db_path: Path, truth: Path, label: str) -> ChurnQuality:
    started = time.perf_counter()
    result = run_customer_intelligence(db_path)
    seconds = time.perf_counter() - started
    quality = measure(db_path, truth)
    print(f"churn alerts {label}, as of {result.as_of}")
    print(f"  customers scored   {result.scores.scores.height:>8,}")
    for name, fit in result.scores.fits.items():
        params = fit.bgnbd
        print(
            f"  BG/NBD {name:<11} r={params.r:.3f} alpha={params.alpha:.2f} wk "
            f"a={params.a:.3f} b={params.b:.3f}; {fit.customers:,} customers, "
            f"{fit.repeat_rate:.0%} of first-time buyers order again"
        )
    print(f"  churn alerts       {quality.alerted:>8,}   ({', '.join(CHURN_ALERT_TYPES)})")
    print(f"  true churners      {quality.churners:>8,}   (with orders in the warehouse)")
    print(f"  precision          {quality.precision:>8.4f}   (target >= 0.8)")
    print(f"  recall             {quality.recall:>8.4f}   (target >= 0.8)")
    print(f"  customers stage    {seconds:>8.1f} s (scores, alerts, writes)")
    print("  customer_keys alerted by true segment:")
    for segment, (n, alerted) in quality.by_segment.items():
        print(f"    {segment:<14} {alerted:>6,} of {n:>6,}")
    return quality


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", type=Path, help="build here and keep the files")
    parser.add_argument("--db", type=Path, help="measure this built warehouse instead")
    parser.add_argument("--truth", type=Path, help="its _truth folder (with --db)")
    args = parser.parse_args()
    if args.db:
        if not args.truth:
            parser.error("--db needs --truth (the world's _truth folder)")
        report(args.db, args.truth, f"on {args.db}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.keep or Path(tmp)
        db_path, truth = build(args.scale, args.seed, workdir)
        report(db_path, truth, f"at scale {args.scale:g} (seed {args.seed})")


if __name__ == "__main__":
    main()
