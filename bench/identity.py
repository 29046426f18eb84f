"""Quality and cost of the single customer view, measured against the generator's truth.

    uv run python bench/identity.py [--scale 1] [--seed 42] [--keep DIR]

Generates a demo world (not timed), ingests it, runs `dbt build` (timed), then compares
`intermediate.int_customer_keys` with `_truth/identity.csv`: pairwise precision and
recall (pairs of source records put in one customer vs pairs that are one true
customer), plus the records per match rule. Targets at scale 1: precision >= 0.99,
recall >= 0.97.

It also prints the recall ceiling: the share of true pairs joined, directly or through
other records of the same customer, by at least one shared identifying value (phone,
visible mobile digits, personal e-mail, name core, contact name, crm_id, tax id, a
company name's pinyin key across scripts, a person's name in characters against the same
name in pinyin). A pair outside it (a second marketplace account with no phone and
another nickname) carries no evidence any matcher could use. The pairs missed are listed
by the strongest evidence their two records share, so the gap can be read directly.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.load import ingest_extracts  # noqa: E402
from wmsight.demo import generate_world  # noqa: E402
from wmsight.transform import build_warehouse  # noqa: E402


@dataclass(frozen=True)
class IdentityQuality:
    records: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    rules: dict[str, int]  # records per match_rule
    reachable_pairs: int  # true pairs joined by shared identifying values (the ceiling)
    # (pair of systems, strongest evidence the two records share) -> true pairs missed
    missed: dict[tuple[str, str], int]

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def recall_ceiling(self) -> float:
        return self.reachable_pairs / self.true_pairs if self.true_pairs else 1.0


# Two records of one true customer that share one of these can be found by a matcher. A
# name that says no more than a surname (陈**, 小陈) identifies nobody.
EVIDENCE = """
    a.phone = b.phone or a.mobile_visible_digits = b.mobile_visible_digits
    or (a.email = b.email and not a.email_is_role_mailbox)
    or ((a.name_core = b.name_core or a.name_short = b.name_core or a.name_core = b.name_short
         or a.contact_name = b.contact_name) and not (a.surname_only and b.surname_only))
    or a.tax_id = b.tax_id
    or (a.name_latin = b.name_latin and a.name_is_latin <> b.name_is_latin)
    or (a.name_spoken = b.name_spoken and a.name_spoken_script <> b.name_spoken_script)
    or (a.linked_crm_id = b.source_id and b.source_system = 'crm')
    or (b.linked_crm_id = a.source_id and a.source_system = 'crm')
"""


# What two records of a missed true pair share, strongest first. A surname is what a
# masked name (陈**), a familiar one (小陈) or a full name (陈娜) tells; a handle in pinyin
# (chenna_6954) shares it when it starts with the surname's pinyin.
MISSED_EVIDENCE = f"""
    case
        when {EVIDENCE} then 'shared identifier'
        when a.surname = b.surname
            or starts_with(a.handle, b.surname_spoken) or starts_with(b.handle, a.surname_spoken)
            then case when a.district = b.district then 'surname, district' else 'surname, city' end
        when a.district = b.district then 'district only'
        when a.city = b.city then 'city only'
        else 'nothing'
    end
"""


def _surnames(con: duckdb.DuckDBPyConnection) -> None:
    """Temp table person_names: record_key, surname (a Han character), surname_spoken and
    handle (a Latin handle without digits), from the contact name or nickname."""
    from pypinyin import lazy_pinyin

    rows = con.execute("SELECT record_key, contact_name FROM evidence").fetchall()
    out = []
    for key, name in rows:
        bare = re.sub(r"[\s_.\-·]*[0-9]+$|[\s_.\-·]", "", name or "").lower()
        han = re.fullmatch(r"(?:小|老)?([\u4e00-\u9fff])(?:\*+|[\u4e00-\u9fff]{1,2})?", bare)
        surname = han.group(1) if han else None
        spoken = lazy_pinyin(surname)[0] if surname else None
        handle = bare if re.fullmatch(r"[a-z]{4,}", bare) else None
        out.append((key, surname, spoken, handle))
    con.execute(
        "CREATE TEMP TABLE person_names (record_key VARCHAR, surname VARCHAR,"
        " surname_spoken VARCHAR, handle VARCHAR)"
    )
    con.executemany("INSERT INTO person_names VALUES (?, ?, ?, ?)", out)


def _pairs_within_components(nodes: list[str], edges: list[tuple[str, str]]) -> int:
    parent = {n: n for n in nodes}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        parent[find(a)] = find(b)
    sizes: dict[str, int] = {}
    for n in nodes:
        sizes[find(n)] = sizes.get(find(n), 0) + 1
    return sum(k * (k - 1) // 2 for k in sizes.values())


def measure(db_path: Path, truth_csv: Path) -> IdentityQuality:
    """Pairwise precision and recall of int_customer_keys against the truth. A truth
    record the warehouse does not hold counts as a customer of its own."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        con.execute(
            """
            CREATE TEMP TABLE scored AS
            SELECT t.source_system, t.source_id, t.true_customer_id,
                   coalesce(k.customer_key, 'missing:' || t.source_system || ':' || t.source_id)
                       AS customer_key
            FROM read_csv(?, all_varchar = true) AS t
            LEFT JOIN intermediate.int_customer_keys AS k USING (source_system, source_id)""",
            [str(truth_csv)],
        )
        [(records, true_pairs, predicted_pairs, correct_pairs)] = con.execute("""
            SELECT
                (SELECT count(*) FROM scored),
                (SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM
                    (SELECT count(*) AS n FROM scored GROUP BY true_customer_id)),
                (SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM
                    (SELECT count(*) AS n FROM scored GROUP BY customer_key)),
                (SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM
                    (SELECT count(*) AS n FROM scored GROUP BY customer_key, true_customer_id))
            """).fetchall()
        con.execute("""
            CREATE TEMP TABLE evidence AS
            SELECT r.*, n.name_latin, n.name_is_latin, n.name_spoken, n.name_spoken_script,
                   s.true_customer_id, s.customer_key,
                   regexp_matches(
                       coalesce(r.contact_name, ''), '^(小|老)?[一-鿿][*]+$|^(小|老)[一-鿿]$'
                   ) AS surname_only
            FROM intermediate.int_customer_source_records AS r
            JOIN scored AS s USING (source_system, source_id)
            LEFT JOIN intermediate.int_customer_name_latin AS n USING (record_key)""")
        _surnames(con)
        missed = {
            (systems, evidence): int(pairs)
            for systems, evidence, pairs in con.execute(f"""
                SELECT least(a.source_system, b.source_system) || ' - '
                           || greatest(a.source_system, b.source_system),
                       {MISSED_EVIDENCE}, count(*)
                FROM (SELECT * FROM evidence JOIN person_names USING (record_key)) AS a
                JOIN (SELECT * FROM evidence JOIN person_names USING (record_key)) AS b
                    ON a.true_customer_id = b.true_customer_id
                    AND a.record_key < b.record_key AND a.customer_key <> b.customer_key
                GROUP BY ALL ORDER BY count(*) DESC""").fetchall()
        }
        nodes = [k for (k,) in con.execute("SELECT record_key FROM evidence").fetchall()]
        edges = con.execute(f"""
            SELECT a.record_key, b.record_key FROM evidence AS a
            JOIN evidence AS b ON a.true_customer_id = b.true_customer_id
                AND a.record_key < b.record_key AND ({EVIDENCE})""").fetchall()
        rules = dict(
            con.execute(
                "SELECT match_rule, count(*) FROM intermediate.int_customer_keys "
                "GROUP BY match_rule ORDER BY count(*) DESC"
            ).fetchall()
        )
    return IdentityQuality(
        int(records),
        int(true_pairs),
        int(predicted_pairs),
        int(correct_pairs),
        rules,
        _pairs_within_components(nodes, edges),
        missed,
    )


def run(scale: float, seed: int, workdir: Path) -> tuple[IdentityQuality, float]:
    extracts, db_path = workdir / "extracts", workdir / "wmsight.duckdb"
    generate_world(extracts, scale=scale, seed=seed)
    ingest_extracts(extracts, db_path)
    started = time.perf_counter()
    build_warehouse(db_path)
    seconds = time.perf_counter() - started
    return measure(db_path, extracts / "_truth" / "identity.csv"), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", type=Path, help="build here and keep the files")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.keep or Path(tmp)
        quality, seconds = run(args.scale, args.seed, workdir)
    print(f"identity resolution at scale {args.scale:g} (seed {args.seed})")
    print(f"  source records     {quality.records:>8,}")
    print(f"  true pairs         {quality.true_pairs:>8,}")
    print(f"  predicted pairs    {quality.predicted_pairs:>8,}")
    print(f"  precision          {quality.precision:>8.4f}   (target >= 0.99)")
    print(f"  recall             {quality.recall:>8.4f}   (target >= 0.97)")
    print(f"  recall ceiling     {quality.recall_ceiling:>8.4f}   (pairs with shared evidence)")
    print(f"  dbt build          {seconds:>8.1f} s (whole project)")
    print("  records by match rule:")
    for rule, count in quality.rules.items():
        print(f"    {rule:<12} {count:>8,}")
    print("  true pairs missed, by the strongest evidence the two records share:")
    for (systems, evidence), pairs in quality.missed.items():
        print(f"    {systems:<24} {evidence:<18} {pairs:>6,}")


if __name__ == "__main__":
    main()
