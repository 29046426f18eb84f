"""Files of a drop loaded side by side end exactly as when they load one by one, and a load
that fails leaves every file wholly loaded or not at all."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from conftest import query, raw_contents

from ingest.load import ingest_extracts
from ingest.raw_schema import ensure_raw_schema


def test_loading_files_side_by_side_gives_what_loading_one_by_one_gives(
    dirty_extracts: Path, tmp_path: Path
) -> None:
    one_by_one = ingest_extracts(dirty_extracts, tmp_path / "one.duckdb", workers=1)
    side_by_side = ingest_extracts(dirty_extracts, tmp_path / "three.duckdb", workers=3)

    def outcome(files):
        return [(f.drop_date, f.source_file, f.status, f.rows_read, f.rows_loaded,
                 f.rows_quarantined, f.message) for f in files]  # fmt: skip

    # the result lists files in drop and name order however they ran
    assert outcome(side_by_side.files) == outcome(one_by_one.files)
    assert side_by_side.rows_quarantined > 0
    assert raw_contents(tmp_path / "three.duckdb") == raw_contents(tmp_path / "one.duckdb")


def _whole_files(db_path: Path) -> set[str]:
    """The files the load log has (all of the first drop), after checking each is whole."""
    logged = query(db_path, "SELECT drop_date, source_file, rows_loaded FROM raw.load_log")
    assert len({drop for drop, _, _ in logged}) <= 1
    for _, source_file, rows_loaded in logged:
        table = "raw." + source_file.replace("/", "__").removesuffix(".csv").removesuffix(".jsonl")
        assert query(db_path, f"SELECT count(*) FROM {table}") == [(rows_loaded,)], source_file
    return {source_file for _, source_file, _ in logged}


def test_a_failed_load_leaves_each_file_wholly_loaded_or_not_at_all(
    dirty_extracts: Path, tmp_path: Path
) -> None:
    db_path = tmp_path / "w.duckdb"
    with duckdb.connect(str(db_path)) as con:
        # A warehouse whose returns table someone changed by hand: its insert fails. The
        # table must exist first, with the schema ingest would give it.
        ensure_raw_schema(con)
        con.execute("ALTER TABLE raw.erp__returns ALTER COLUMN qty SET DATA TYPE DATE")
    reported = []
    with pytest.raises(duckdb.Error, match="qty|DATE|Conversion|cast"):
        ingest_extracts(dirty_extracts, db_path, on_file=reported.append, workers=3)

    loaded = {f.source_file for f in reported if f.status == "loaded"}
    # what was reported is what was committed, each file whole, nothing of the later drops
    assert _whole_files(db_path) == loaded
    assert "erp/returns.csv" not in loaded
    assert query(db_path, "SELECT count(*) FROM raw.erp__returns") == [(0,)]

    # Put right, the next run loads the rest, and the warehouse ends as a clean load does.
    with duckdb.connect(str(db_path)) as con:
        con.execute("ALTER TABLE raw.erp__returns ALTER COLUMN qty SET DATA TYPE BIGINT")
    again = ingest_extracts(dirty_extracts, db_path, workers=3)
    assert {f.source_file for f in again.files if f.status == "unchanged"} == loaded
    clean = ingest_extracts(dirty_extracts, tmp_path / "clean.duckdb", workers=1)
    assert clean.count("loaded") == again.count("loaded") + len(loaded)
    assert raw_contents(db_path) == raw_contents(tmp_path / "clean.duckdb")


def test_a_failing_progress_callback_stops_the_load_and_leaves_each_file_whole(
    dirty_extracts: Path, tmp_path: Path
) -> None:
    """An error raised by `on_file` (as an interrupt would be) stops the drop: the loads
    still running are interrupted and roll back, and nothing is half-written."""
    db_path = tmp_path / "w.duckdb"
    reported = []

    def stop_after_the_first(loaded) -> None:
        reported.append(loaded)
        raise RuntimeError("the progress display broke")

    with pytest.raises(RuntimeError, match="progress display"):
        ingest_extracts(dirty_extracts, db_path, on_file=stop_after_the_first, workers=3)
    [first] = reported
    assert first.source_file in _whole_files(db_path)  # it had committed before its report
    again = ingest_extracts(dirty_extracts, db_path, workers=3)
    assert again.count("rejected") == 0
    ingest_extracts(dirty_extracts, tmp_path / "clean.duckdb", workers=1)
    assert raw_contents(db_path) == raw_contents(tmp_path / "clean.duckdb")
