"""How wmsight runs dbt (wmsight/transform.py): dbt's state beside each warehouse, and the
lean build that leaves seeds, views and unit tests alone while the project is unchanged."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import break_a_data_test, built_copy, query

from ingest.load import ingest_extracts
from wmsight.transform import (
    ABSORBED_MARKER,
    LEAN_BUILD,
    PROJECT_DIR,
    STATIC_MARKER,
    DbtFailed,
    build_warehouse,
    dbt_state_dir,
    project_fingerprint,
    refresh_incremental_models,
    run_dbt,
)

BIN = Path(sys.executable).parent


def _nodes(tmp_path: Path, *selection: str) -> dict[str, str]:
    """unique_id → materialization (or resource type) of the nodes `dbt ls` selects."""
    listed = subprocess.run(
        [BIN / "dbt", "ls", "--project-dir", PROJECT_DIR, "--profiles-dir", PROJECT_DIR]
        + ["--target-path", tmp_path / "target", "--log-path", tmp_path / "logs"]
        + ["--resource-type", "all", "--output", "json", "--quiet", *selection]
        + ["--output-keys", "unique_id", "resource_type", "config"],
        env=os.environ | {"WMSIGHT_DB_PATH": str(tmp_path / "unused.duckdb")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    nodes = {}
    for line in listed.splitlines():
        node = json.loads(line)
        kind = node["resource_type"]
        if kind == "model":
            kind = node["config"]["materialized"]
        nodes[node["unique_id"]] = kind
    return nodes


def test_a_lean_build_selects_every_table_and_every_data_test(tmp_path: Path) -> None:
    everything = _nodes(tmp_path)
    lean = _nodes(tmp_path, *LEAN_BUILD)
    kept = {"seed", "view", "unit_test", "source"}  # built once per project version
    assert lean == {n: kind for n, kind in everything.items() if kind not in kept}
    assert sum(kind == "test" for kind in lean.values()) > 100
    assert {"table", "incremental"} <= set(lean.values())


def test_a_lean_build_that_errors_builds_everything(
    small_warehouse_two_drops: Path, tmp_path: Path
) -> None:
    """A view dropped by hand: the lean build cannot test it, so the full build runs and
    the warehouse is whole again."""
    db_path = tmp_path / "wmsight.duckdb"
    shutil.copy(small_warehouse_two_drops, db_path)
    state = dbt_state_dir(db_path)
    state.mkdir()
    shutil.copy(dbt_state_dir(small_warehouse_two_drops) / STATIC_MARKER, state)
    assert json.loads((state / STATIC_MARKER).read_text())["project"] == project_fingerprint()
    with duckdb.connect(str(db_path)) as con:
        con.execute("DROP VIEW staging.stg_erp__warehouses")

    result = build_warehouse(db_path)

    assert result.success and not result.lean, result.summary()
    assert result.nodes_run == len(_nodes(tmp_path, "--exclude", "resource_type:source"))
    assert query(db_path, "SELECT count(*) FROM staging.stg_erp__warehouses")[0][0] > 0
    assert (state / STATIC_MARKER).exists()
    assert (state / "target" / "partial_parse.msgpack").exists()


@pytest.mark.parametrize("runner", ["wmsight run", "airflow"])
def test_a_built_drop_delivered_again_rebuilds_incremental_models_from_scratch(
    small_warehouse_two_drops: Path, tmp_path: Path, runner: str
) -> None:
    """Incremental models add what drops newer than the last build brought; a changed file
    of a drop already built (the platform corrected its export) must still reach them.
    `wmsight run` builds with build_warehouse; the DAG refreshes before cosmos's build
    (here: the lean build)."""
    db_path = built_copy(small_warehouse_two_drops, tmp_path)
    extracts = tmp_path / "extracts"
    shutil.copytree(small_warehouse_two_drops.parent / "extracts", extracts)
    newest = max(p for p in extracts.iterdir() if p.name[0].isdigit())
    orders = newest / "ecommerce" / "orders.jsonl"
    lines = orders.read_text(encoding="utf-8").splitlines()
    corrected = json.loads(lines[0])
    corrected["buyer"]["email"] = "Corrected@Example.com"
    lines[0] = json.dumps(corrected, ensure_ascii=False)
    orders.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ingest_extracts(extracts, db_path)

    if runner == "airflow":
        reason = refresh_incremental_models(db_path)
        assert reason and f"drops up to {newest.name}" in reason
        assert run_dbt(db_path, "build", LEAN_BUILD).success
    else:
        result = build_warehouse(db_path)
        assert result.refreshed and f"drops up to {newest.name}" in result.refreshed
        assert "rebuilt from scratch" in result.summary()
    email = "SELECT buyer_email FROM staging.stg_ecommerce__orders WHERE order_id = ?"
    assert query(db_path, email, [corrected["order_id"]]) == [("corrected@example.com",)]
    again = build_warehouse(db_path)  # nothing new: incremental again, seeds and views kept
    assert again.lean and again.refreshed is None, again.summary()


def test_a_changed_project_rebuilds_incremental_models_from_scratch(
    small_warehouse_two_drops: Path, tmp_path: Path
) -> None:
    """Rows an incremental model built with older SQL would otherwise stay as they were."""
    db_path = tmp_path / "wmsight.duckdb"
    shutil.copy(small_warehouse_two_drops, db_path)
    state = dbt_state_dir(db_path)
    state.mkdir()
    # a warehouse of an earlier version: the project of its last full build, no loads yet
    (state / STATIC_MARKER).write_text(json.dumps({"project": "an older project"}))
    with duckdb.connect(str(db_path)) as con:  # a row as older SQL normalised it
        [(order_id, email)] = con.execute(
            """SELECT order_id, buyer_email FROM staging.stg_ecommerce__orders
               WHERE buyer_email IS NOT NULL ORDER BY order_id LIMIT 1"""
        ).fetchall()
        con.execute(
            "UPDATE staging.stg_ecommerce__orders SET buyer_email = upper(buyer_email) "
            "WHERE order_id = ?",
            [order_id],
        )

    result = build_warehouse(db_path)

    assert not result.lean and result.refreshed == (
        "the dbt project changed since this warehouse's last build"
    )
    sql = "SELECT buyer_email FROM staging.stg_ecommerce__orders WHERE order_id = ?"
    assert query(db_path, sql, [order_id]) == [(email,)]
    assert json.loads((state / STATIC_MARKER).read_text())["project"] == project_fingerprint()
    assert json.loads((state / ABSORBED_MARKER).read_text())["project"] == project_fingerprint()


def test_a_build_that_fails_half_way_still_counts_its_drop_as_absorbed(
    small_warehouse_two_drops: Path, tmp_path: Path
) -> None:
    """Some incremental models may already hold the new drop: a corrected re-delivery of
    it, the usual answer to a failed build, must rebuild them from scratch."""
    db_path = built_copy(small_warehouse_two_drops, tmp_path)
    state = dbt_state_dir(db_path)
    with duckdb.connect(str(db_path)) as con:  # a drop whose snapshot breaks a data test
        break_a_data_test(con, "2099-01-01")
        con.execute("""INSERT INTO raw.load_log (run_id, drop_date, source_file, status,
                sha256, size_bytes, rows_read, rows_loaded, rows_quarantined, started_at,
                finished_at)
            VALUES ('test', '2099-01-01', 'erp/stock_snapshots.csv', 'loaded', 'a', 1, 1, 1, 0,
                    now(), now())""")

    with pytest.raises(DbtFailed):
        build_warehouse(db_path)

    assert json.loads((state / ABSORBED_MARKER).read_text())["through_drop"] == "2099-01-01"
