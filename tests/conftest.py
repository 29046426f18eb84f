from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def extracts(tmp_path: Path) -> Path:
    root = tmp_path / "extracts"
    root.mkdir()
    return root


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "wmsight.duckdb"


def query(db_path: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@dataclass(frozen=True)
class Scale1Warehouse:
    db_path: Path  # ingested and built by dbt; stages may add their ml.* tables
    extracts: Path
    truth: Path  # the generator's _truth/ folder (the pipeline never reads it)


SCALE1_SEED = 7


@pytest.fixture(scope="session")
def scale1_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Scale1Warehouse:
    """One scale-1 world for the whole session (it takes minutes to build): seed 7 plus
    the hand-written identity cases of tests/identity_cases.py, real ingest, real
    `dbt build`. Shared by tests/test_identity.py and tests/test_churn_scale1.py."""
    from identity_cases import END, write_tricky_drop

    from ingest.load import ingest_extracts
    from wmsight.demo import generate_world
    from wmsight.transform import build_warehouse

    root = tmp_path_factory.mktemp("scale1")
    extracts = root / "extracts"
    generate_world(extracts, scale=1.0, seed=SCALE1_SEED, end_date=END)
    write_tricky_drop(extracts)
    db_path = root / "wmsight.duckdb"
    ingest_extracts(extracts, db_path)
    build_warehouse(db_path)
    return Scale1Warehouse(db_path, extracts, extracts / "_truth")
