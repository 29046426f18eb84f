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
from conftest import query

from wmsight.transform import (
    LEAN_BUILD,
    PROJECT_DIR,
    STATIC_MARKER,
    build_warehouse,
    dbt_state_dir,
    project_fingerprint,
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
