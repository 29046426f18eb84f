"""Ingest on a generated world with bad rows mixed in: every bad row the generator wrote is
quarantined with the rule it breaks, and no good row is."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import query

from ingest.load import IngestResult, ingest_extracts
from wmsight.demo import generate_world


@pytest.fixture(scope="module")
def dirty_world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, IngestResult]:
    root = tmp_path_factory.mktemp("dirty")
    extracts = root / "extracts"
    generate_world(extracts, scale=0.05, seed=11, days=240, delta_drops=2, dirty=0.01)
    db_path = root / "wmsight.duckdb"
    return extracts, db_path, ingest_extracts(extracts, db_path)


def _dirty_truth(extracts: Path) -> dict[tuple[str, str, int], str]:
    with (extracts / "_truth" / "dirty_rows.csv").open(encoding="utf-8") as handle:
        return {(r["drop"], r["file"], int(r["line"])): r["rule"] for r in csv.DictReader(handle)}


def test_every_bad_row_is_quarantined_with_its_rule_and_no_good_row_is(dirty_world) -> None:
    extracts, db_path, _ = dirty_world
    expected = _dirty_truth(extracts)
    assert len(set(expected.values())) >= 14  # every kind of rule is exercised
    found = {
        (str(drop), source_file, line): rule
        for drop, source_file, line, rule in query(
            db_path, "SELECT drop_date, source_file, line, rule FROM raw.quarantine"
        )
    }
    assert found == expected


def test_the_generated_world_loads_without_rejected_or_unknown_files(dirty_world) -> None:
    _, _, result = dirty_world
    assert {f.status for f in result.files} == {"loaded"}
    assert "_truth" in result.ignored
    assert len(result.drops) == 3


def test_rows_read_match_the_records_in_each_file(dirty_world) -> None:
    extracts, db_path, _ = dirty_world
    for drop, source_file, read, loaded, quarantined in query(
        db_path,
        "SELECT drop_date, source_file, rows_read, rows_loaded, rows_quarantined FROM raw.load_log",
    ):
        path = extracts / str(drop) / source_file
        encoding = "gb18030" if source_file.startswith("erp/") else "utf-8-sig"
        text = path.read_bytes().decode(encoding)
        if source_file.endswith(".jsonl"):
            records = sum(1 for line in text.splitlines() if line.strip())
        else:
            records = sum(1 for _ in csv.reader(text.splitlines(keepends=True))) - 1
        assert read == records == loaded + quarantined, source_file


def test_delta_drops_carry_newer_versions_of_earlier_keys(dirty_world) -> None:
    _, db_path, _ = dirty_world
    [(updated_keys,)] = query(
        db_path,
        """
        SELECT count(*) FROM (
            SELECT order_no FROM raw.erp__sales_orders GROUP BY order_no
            HAVING count(DISTINCT _drop_date) > 1 AND count(DISTINCT updated_at) > 1)""",
    )
    assert updated_keys > 0


def test_reloading_the_world_changes_nothing(dirty_world) -> None:
    extracts, db_path, _ = dirty_world
    before = query(db_path, "SELECT count(*) FROM raw.quarantine")
    again = ingest_extracts(extracts, db_path)
    assert {f.status for f in again.files} == {"unchanged"}
    assert query(db_path, "SELECT count(*) FROM raw.quarantine") == before
