from __future__ import annotations

import importlib.util
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).parent))


def _shared_worlds(item: pytest.Item) -> set[str]:
    """The session-scoped fixtures of this conftest (generated, built worlds) a test uses."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return set()
    return {
        name
        for name in item.fixturenames
        for fixture in info.name2fixturedefs.get(name, ())
        if fixture.scope == "session" and fixture.func.__module__ == __name__
    }


@pytest.hookimpl(wrapper=True)  # marks before pytest-xdist's own hook reads them
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]):
    """For pytest-xdist's `--dist loadgroup` (`make test` runs two workers): a module's
    tests run on one worker, and so do all modules that share a world of this conftest, so
    each module fixture and each world (up to a minute to build) is built once."""
    group: dict[str, str] = {}

    def root(name: str) -> str:
        while group.setdefault(name, name) != name:
            name = group[name]
        return name

    for item in items:
        for world in sorted(_shared_worlds(item)):  # the same groups in every worker
            group[root(item.path.name)] = root(world)
    for item in items:
        item.add_marker(pytest.mark.xdist_group(root(item.path.name)))
    result = yield
    # pytest-xdist 3.8 passes the group to its scheduler as a suffix of the node id; when that
    # breaks (pytest 9.2: pytest-dev/pytest-xdist#1386) the groups are silently ignored. A
    # later xdist that passes groups another way makes this check wrong: drop it then.
    if getattr(config.option, "loadgroup", False) and items and "@" not in items[0].nodeid:
        raise pytest.UsageError(
            "pytest-xdist's --dist loadgroup does not group tests with this pytest "
            "(pytest-dev/pytest-xdist#1386): every shared world would be built per worker"
        )
    return result


@pytest.fixture
def extracts(tmp_path: Path) -> Path:
    root = tmp_path / "extracts"
    root.mkdir()
    return root


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "wmsight.duckdb"


IDENTITY_MODELS = Path(__file__).resolve().parents[1] / "dbt_project/models/intermediate/identity"


def identity_model_module(name: str):
    """A dbt python model of the identity folder, imported as a plain module so its
    functions can be tested on their own (dbt runs the same file)."""
    spec = importlib.util.spec_from_file_location(name, IDENTITY_MODELS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def query(db_path: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


# what differs between two loads of the same drops: when and in which run they happened
_LOAD_RUN_COLUMNS = {
    "load_log": "run_id, started_at, finished_at",
    "quarantine": "run_id, quarantined_at",
}


def raw_contents(db_path: Path) -> dict[str, list[tuple]]:
    """Every raw table's rows, in one order, without the load's own times and run id: what
    two loads of the same drops must agree on."""
    tables = query(db_path, "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw'")
    return {
        table: query(
            db_path,
            f"SELECT * EXCLUDE ({_LOAD_RUN_COLUMNS.get(table, '_loaded_at')}) "
            f"FROM raw.{table} ORDER BY ALL",
        )
        for (table,) in tables
    }


@pytest.fixture(scope="session")
def dirty_extracts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated world with 3 % bad rows and one daily drop after the history, for
    tests that load it twice and compare (read-only). Shared by tests/test_ingest_fast_path.py
    and tests/test_ingest_side_by_side.py."""
    from wmsight.demo import generate_world

    extracts = tmp_path_factory.mktemp("dirty") / "extracts"
    generate_world(extracts, scale=0.02, seed=23, days=120, delta_drops=1, dirty=0.03)
    return extracts


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


@dataclass(frozen=True)
class PublishedWorld:
    db_path: Path  # the warehouse, every stage run
    feeds: Path  # its publication (latest), with the dashboard's datasets

    def copy(self, target: Path) -> PublishedWorld:
        """A copy a test may change (decisions republish the feeds; they are stored
        beside the warehouse)."""
        import shutil

        target.mkdir(parents=True, exist_ok=True)
        shutil.copytree(self.feeds, target / "feeds", symlinks=True)
        shutil.copy2(self.db_path, target / self.db_path.name)
        return PublishedWorld(target / self.db_path.name, target / "feeds")


@pytest.fixture(scope="session")
def published_world(tmp_path_factory: pytest.TempPathFactory) -> PublishedWorld:
    """A small generated business through every stage of `wmsight run` plus the
    replenishment simulation, published: what the dashboard shows. Shared by the
    dashboard's tests (treat as read-only; `copy()` it to change it)."""
    from models_ml.simulate import SimConfig, run_simulation
    from wmsight.demo import generate_world
    from wmsight.runner import RunContext, run_stages
    from wmsight.stages import PIPELINE

    root = tmp_path_factory.mktemp("published")
    extracts = root / "extracts"
    generate_world(extracts, scale=0.04, seed=3, days=240, delta_drops=1)
    context = RunContext(extracts, root / "wmsight.duckdb", root / "feeds")
    *before_publish, publish = PIPELINE
    report = run_stages(context, before_publish)
    assert report.failed is None, report.failed
    run_simulation(context.db_path, SimConfig(weeks=4, warmup_weeks=4))
    report = run_stages(context, [publish])
    assert report.failed is None, report.failed
    return PublishedWorld(context.db_path, context.feeds_dir)


@pytest.fixture(scope="session")
def demo_days(tmp_path_factory: pytest.TempPathFactory):
    """Two days of a tiny demo world (scale 0.02) through `wmsight run`, a reader of the
    feeds beside each run, and a copy of the site between the days (tests/daily_runs.py).
    Shared by tests/test_readers_during_run.py and tests/test_faults.py."""
    from daily_runs import demo_days as run_two_days

    return run_two_days(tmp_path_factory.mktemp("demo_days"))


# ---------------------------------------------------------------- small built worlds
# A dbt build costs the same fixed ~270 nodes on any small world, so modules that test
# the same world share one build per session. A module that writes to the warehouse
# (ml.* tables) takes a `private_copy`; the others read the shared file.


def _small_world(tmp_path_factory: pytest.TempPathFactory, name: str, delta_drops: int) -> Path:
    from ingest.load import ingest_extracts
    from wmsight.demo import generate_world
    from wmsight.transform import build_warehouse

    root = tmp_path_factory.mktemp(name)
    generate_world(root / "extracts", scale=0.03, seed=21, days=150, delta_drops=delta_drops)
    db_path = root / "wmsight.duckdb"
    ingest_extracts(root / "extracts", db_path)
    build_warehouse(db_path)  # seeds, models and every test
    return db_path


@pytest.fixture(scope="session")
def small_warehouse_two_drops(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Scale 0.03, seed 21, 150 days, two daily drops after the history: ingested and
    built by `dbt build`. Read by tests/test_transform.py and tests/test_inventory.py."""
    return _small_world(tmp_path_factory, "small_two_drops", delta_drops=2)


@pytest.fixture(scope="session")
def small_warehouse_one_drop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same world with one daily drop, built. Copied by tests/test_forecast.py and
    tests/test_replenishment.py (both write ml.* tables)."""
    return _small_world(tmp_path_factory, "small_one_drop", delta_drops=1)


# the data test a snapshot without a warehouse breaks
FAILING_DATA_TEST = "not_null_stg_erp__stock_snapshots_warehouse_id"


def break_a_data_test(con: duckdb.DuckDBPyConnection, drop_date: str = "2020-01-01") -> None:
    """A raw stock snapshot without a warehouse (as if a drop of `drop_date` brought it):
    the next dbt build fails FAILING_DATA_TEST."""
    con.execute(
        """INSERT INTO raw.erp__stock_snapshots
            (snapshot_date, warehouse_id, sku, on_hand, reserved, in_transit, damaged,
             _drop_date, _source_file, _line, _loaded_at)
            VALUES (?, NULL, 'SKU-X', 1, 0, 0, 0, ?, 'x', 2, now())""",
        [drop_date, drop_date],
    )


def built_copy(warehouse: Path, tmp_path: Path) -> Path:
    """A copy of a built warehouse with the markers of its last build (not dbt's target:
    its partial-parse state is bound to the original's path)."""
    from wmsight.transform import ABSORBED_MARKER, STATIC_MARKER, dbt_state_dir

    db_path = tmp_path / "wmsight.duckdb"
    shutil.copy(warehouse, db_path)
    state = dbt_state_dir(db_path)
    state.mkdir()
    for marker in (STATIC_MARKER, ABSORBED_MARKER):
        shutil.copy(dbt_state_dir(warehouse) / marker, state)
    return db_path


def private_copy(db_path: Path, tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """A copy of a shared warehouse file that one module may write to."""
    copy = tmp_path_factory.mktemp(name) / db_path.name
    shutil.copy(db_path, copy)
    return copy
