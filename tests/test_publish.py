"""Publishing feeds: contracts checked first, atomic switch of `latest`, reproducible files.

The warehouse here is a small DuckDB file holding the marts the publisher reads (the
publisher's input interface); `tests/test_cli.py` publishes from a real dbt build.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from data_contracts.feeds import FEEDS_BY_NAME, FeedContractViolation, validate_feed
from wmsight.publish import (
    LATEST,
    MANIFEST,
    READER_GRACE_SECONDS,
    SUPERSEDED_DIR,
    PublishError,
    apply_retention,
    latest_drop_date,
    publish_feeds,
)

AS_OF = date(2025, 11, 30)


def make_warehouse(db_path: Path, days: int = 30, comment: str = "普通客户") -> Path:
    """The marts the publisher reads, with `days` of KPIs and three customers."""
    with duckdb.connect(str(db_path)) as con:
        con.execute("CREATE SCHEMA raw; CREATE SCHEMA marts")
        con.execute(
            "CREATE TABLE raw.load_log (drop_date DATE, source_file VARCHAR, status VARCHAR)"
        )
        con.execute(
            "INSERT INTO raw.load_log VALUES ('2025-11-29', 'erp/products.csv', 'loaded'), "
            "(?, 'crm/feedback.csv', 'rejected')",
            [AS_OF],
        )
        con.execute(
            """CREATE TABLE marts.fct_kpi_daily AS
            SELECT CAST(DATE '2025-11-30' - INTERVAL (d) DAY AS DATE) AS date, w AS warehouse_id,
                   m AS metric, CAST(0.5 + (d % 50) / 100 AS DOUBLE) AS value,
                   CASE WHEN m = 'satisfaction_rate' THEN 0.9 END AS target,
                   true AS meets_target
            FROM range(?) AS t(d), (VALUES ('WH-BJ'), ('ALL')) AS w(w),
                 (VALUES ('satisfaction_rate'), ('fulfillment_hours_avg')) AS m(m)""",
            [days],
        )
        con.execute(
            """CREATE TABLE marts.dim_customer AS
            SELECT * FROM (VALUES
              ('cust_a', ?, ['CRM-1'], ['C100'], ['tmall:t1'], '北京市', '华北', '北京'),
              ('cust_b', '=HYPERLINK("http://x")', [], ['C200'], [], '广东省', '华南', '广州'),
              ('cust_c', '-负责人', [], [], ['jd:j9'], NULL, NULL, NULL))
              AS t(customer_key, display_name, crm_ids, erp_codes, buyer_ids, province,
                   region, city)""",
            [comment],
        )
        con.execute(
            """CREATE TABLE marts.customer_segments AS
            SELECT * FROM (VALUES
              ('cust_a', 'high_value', 'big', CAST(6000000.5 AS DECIMAL(38, 4)),
               CAST(40 AS HUGEINT), TIMESTAMP '2025-11-28 10:00:00', 5, 5, 5, 'Champions'),
              ('cust_b', 'small', 'small', CAST(100 AS DECIMAL(38, 4)), CAST(1 AS HUGEINT),
               TIMESTAMP '2025-01-02 09:00:00', 1, 1, 1, 'Lost'))
              AS t(customer_key, tier, value_class, revenue_12m_cny, orders_12m,
                   last_order_at, r_score, f_score, m_score, rfm_segment)"""
        )
    return db_path


def manifest(folder: Path) -> dict:
    return json.loads((folder / MANIFEST).read_text())


def test_feeds_are_published_with_a_manifest_and_skips_are_explained(tmp_path: Path) -> None:
    db = make_warehouse(tmp_path / "w.duckdb")
    feeds = tmp_path / "feeds"
    result = publish_feeds(db, feeds)
    assert result.as_of == AS_OF == latest_drop_date(db)  # the latest drop, not the clock
    assert os.readlink(feeds / LATEST) == "2025-11-30"
    run = manifest(feeds / LATEST)
    assert run["as_of"] == "2025-11-30"
    published = {name for name, f in run["feeds"].items() if f["status"] == "published"}
    assert published == {"kpi_daily", "customer_360"}
    kpi = run["feeds"]["kpi_daily"]
    assert kpi["rows"] == 30 * 2 * 2 and kpi["contract_version"] == "1.0"
    table = pq.read_table(feeds / LATEST / "kpi_daily.parquet")
    assert table.num_rows == kpi["rows"]
    # a feed without inputs is not an empty file: it is absent and the manifest says why
    assert run["feeds"]["demand_forecast"] == {
        "status": "skipped",
        "contract_version": "1.0",
        "note": "not computed: forecasts have not run",
    }
    assert not (feeds / LATEST / "demand_forecast.parquet").exists()
    people = pq.read_table(feeds / LATEST / "customer_360.parquet").to_pylist()
    assert [p["customer_key"] for p in people] == ["cust_a", "cust_b", "cust_c"]
    assert people[0]["buyer_ids"] == ["tmall:t1"] and people[0]["revenue_12m"] == 6000000.5
    assert people[2]["tier"] is None  # no orders yet: no tier, still a customer
    assert "churn_probability" in run["feeds"]["customer_360"]["note"]


def test_a_feeds_folder_given_relative_to_the_working_directory_publishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # as `make demo` calls it (`--feeds demo_data/feeds`); Great Expectations' Data Docs
    # refused a relative folder and the demo's publish failed
    make_warehouse(tmp_path / "w.duckdb")
    monkeypatch.chdir(tmp_path)
    result = publish_feeds(Path("w.duckdb"), Path("demo_data/feeds"))
    assert result.published and not Path(result.folder).is_absolute()
    run = manifest(Path("demo_data/feeds") / LATEST)
    assert (Path("demo_data/feeds") / LATEST / run["data_docs"]["index"]).is_file()
    assert set(run["data_docs"]["validations"]) >= {"kpi_daily", "customer_360"}


def publications(feeds: Path) -> set[str]:
    """The publication folders (finished or not) under the feeds root."""
    return {p.name for p in (feeds / ".runs").iterdir() if p.name != SUPERSEDED_DIR}


def test_rerunning_an_as_of_date_gives_identical_feeds_and_one_folder(tmp_path: Path) -> None:
    db = make_warehouse(tmp_path / "w.duckdb")
    feeds = tmp_path / "feeds"
    first = manifest(publish_feeds(db, feeds).folder)
    second = manifest(publish_feeds(db, feeds).folder)
    assert first["run_id"] != second["run_id"]
    for name, feed in first["feeds"].items():
        assert second["feeds"][name].get("sha256") == feed.get("sha256"), name
    # the replaced publication stays for readers that resolved the link just before the
    # switch, and the first publication after the grace period removes it
    assert publications(feeds) == {
        f"2025-11-30.{first['run_id']}",
        f"2025-11-30.{second['run_id']}",
    }
    marker = feeds / ".runs" / SUPERSEDED_DIR / f"2025-11-30.{first['run_id']}"
    old = time.time() - READER_GRACE_SECONDS - 1
    os.utime(marker, (old, old))
    third = manifest(publish_feeds(db, feeds, as_of=date(2025, 11, 29)).folder)
    assert publications(feeds) == {
        f"2025-11-30.{second['run_id']}",
        f"2025-11-29.{third['run_id']}",
    }
    assert not marker.exists()


def test_a_contract_violation_blocks_the_whole_publication(tmp_path: Path) -> None:
    db = make_warehouse(tmp_path / "w.duckdb")
    feeds = tmp_path / "feeds"
    publish_feeds(db, feeds, as_of=date(2025, 11, 29))
    with duckdb.connect(str(db)) as con:  # a rate of 130 % and a repeated key
        con.execute(
            "INSERT INTO marts.fct_kpi_daily VALUES "
            "('2025-11-30', 'WH-BJ', 'satisfaction_rate', 1.3, 0.9, true)"
        )
    with pytest.raises(PublishError) as error:
        publish_feeds(db, feeds)
    message = str(error.value)
    assert "latest unchanged" in message and "feed kpi_daily" in message
    assert "unique_key" in message and "rate_between_0_and_1" in message
    assert os.readlink(feeds / LATEST) == "2025-11-29"
    assert not (feeds / "2025-11-30").exists()


def test_the_manifest_lists_every_rule_checked_and_the_data_docs_show_them(
    tmp_path: Path,
) -> None:
    db = make_warehouse(tmp_path / "w.duckdb")
    result = publish_feeds(db, tmp_path / "feeds")
    run = manifest(result.folder)
    kpi = {(r["rule"], r["column"]): r for r in run["feeds"]["kpi_daily"]["expectations"]}
    assert set(kpi) == {
        ("columns", "*"),
        ("unique_key", "date,warehouse_id,metric"),
        ("required", "date"),
        ("required", "warehouse_id"),
        ("required", "metric"),
        ("rate_between_0_and_1", "value"),
    }
    assert kpi[("unique_key", "date,warehouse_id,metric")] == {
        "rule": "unique_key",
        "column": "date,warehouse_id,metric",
        "check": "expect_compound_columns_to_be_unique",
        "success": True,
        "unexpected": 0,
    }
    people = {(r["rule"], r["column"]): r for r in run["feeds"]["customer_360"]["expectations"]}
    assert people[("required", "crm_ids")]["check"] == "arrow_null_count"  # a list column
    assert people[("range", "churn_probability")]["success"]
    assert "expectations" not in run["feeds"]["demand_forecast"]  # skipped: nothing checked
    # the Data Docs: Great Expectations' own site, one suite and one validation per feed
    docs = run["data_docs"]
    assert docs["index"] == "_data_docs/index.html"
    index = (result.folder / docs["index"]).read_text(encoding="utf-8")
    published = [name for name, entry in run["feeds"].items() if entry["status"] == "published"]
    assert sorted(docs["validations"]) == sorted(published) == ["customer_360", "kpi_daily"]
    for feed in published:
        assert f"feed.{feed}" in index
        assert (result.folder / f"_data_docs/expectations/feed/{feed}.html").is_file()
        page = (result.folder / docs["validations"][feed]).read_text(encoding="utf-8")
        assert result.folder.name in page and "Succeeded" in page
    assert not [p for p in (result.folder / "_data_docs").rglob("*") if p.name.endswith(".gif")]


def test_every_rule_of_a_broken_feed_is_reported_with_its_outcome() -> None:
    import pyarrow as pa

    contract = FEEDS_BY_NAME["kpi_daily"]
    table = pa.table(
        {
            "date": pa.array([date(2025, 11, 30)] * 3),
            "warehouse_id": ["WH-BJ", "WH-BJ", "WH-SH"],
            "metric": ["fill_rate", "fill_rate", "on_time_rate"],
            "value": [0.9, 1.3, None],
            "target": pa.array([None, None, None], pa.float64()),
        }
    )
    with pytest.raises(FeedContractViolation) as error:
        validate_feed(contract, table)
    assert str(error.value) == (
        "feed kpi_daily breaks its contract: "
        "column date,warehouse_id,metric: rule unique_key broken by 2 row(s) "
        "(e.g. {'date': datetime.date(2025, 11, 30), 'warehouse_id': 'WH-BJ', "
        "'metric': 'fill_rate'}, {'date': datetime.date(2025, 11, 30), "
        "'warehouse_id': 'WH-BJ', 'metric': 'fill_rate'}); "
        "column value: rule rate_between_0_and_1 broken by 1 row(s) (e.g. 1.3)"
    )
    outcomes = {(r.rule, r.column): r for r in error.value.validation.results}
    assert len(outcomes) == 6 and not error.value.validation.success
    rate = outcomes[("rate_between_0_and_1", "value")]
    assert (rate.success, rate.checked, rate.unexpected, rate.examples) == (False, 3, 1, ("1.3",))
    assert rate.as_record()["examples"] == ["1.3"]
    assert outcomes[("required", "metric")].success
    # the same rows without the broken ones pass, and say so rule by rule
    validation = validate_feed(contract, table.slice(0, 1))
    assert validation.success and all(r.unexpected == 0 for r in validation.results)
    assert validation.ge_result is not None and validation.ge_result.success


def test_a_missing_column_or_wrong_type_names_the_column() -> None:
    import pyarrow as pa

    contract = FEEDS_BY_NAME["transfer_recommendations"]
    table = pa.table({"from_warehouse_id": ["A"], "to_warehouse_id": ["B"], "sku": ["S"]})
    with pytest.raises(FeedContractViolation, match="column qty: missing"):
        validate_feed(contract, table)
    table = table.append_column("qty", pa.array(["3"])).append_column("reason", pa.array(["r"]))
    with pytest.raises(FeedContractViolation, match="column qty: type string"):
        validate_feed(contract, table)


def test_csv_copies_escape_text_a_spreadsheet_would_run(tmp_path: Path) -> None:
    db = make_warehouse(tmp_path / "w.duckdb", comment="+86 138 0000 0000")
    result = publish_feeds(db, tmp_path / "feeds", csv=True)
    rows = pacsv.read_csv(result.folder / "customer_360.csv").to_pylist()
    names = [r["display_name"] for r in rows]
    assert names == ["'+86 138 0000 0000", '\'=HYPERLINK("http://x")', "'-负责人"]
    assert rows[0]["crm_ids"] == '["CRM-1"]'
    entry = manifest(result.folder)["feeds"]["customer_360"]
    assert entry["csv_file"] == "customer_360.csv" and len(entry["csv_sha256"]) == 64


def test_an_unwritable_feeds_folder_fails_clearly_and_keeps_latest(tmp_path: Path) -> None:
    db = make_warehouse(tmp_path / "w.duckdb")
    feeds = tmp_path / "feeds"
    publish_feeds(db, feeds, as_of=date(2025, 11, 29))
    before = manifest(feeds / LATEST)
    (feeds / ".runs").rename(feeds / ".runs-moved")
    (feeds / ".runs").write_text("not a folder")  # (tests run as root: no chmod trick)
    with pytest.raises(PublishError, match="cannot write"):
        publish_feeds(db, feeds)
    (feeds / ".runs").unlink()
    (feeds / ".runs-moved").rename(feeds / ".runs")
    assert manifest(feeds / LATEST) == before


def test_retention_keeps_the_newest_runs_and_latest(tmp_path: Path) -> None:
    db = make_warehouse(tmp_path / "w.duckdb")
    feeds = tmp_path / "feeds"
    for day in (26, 27, 28, 29):
        publish_feeds(db, feeds, as_of=date(2025, 11, day), keep_runs=2)
    assert sorted(p.name for p in feeds.iterdir() if not p.name.startswith(".")) == [
        "2025-11-28",
        "2025-11-29",
        LATEST,
    ]
    assert len(publications(feeds)) == 2
    # re-running an older date publishes it but does not move latest back in time
    publish_feeds(db, feeds, as_of=date(2025, 11, 28))
    assert os.readlink(feeds / LATEST) == "2025-11-29"
    assert apply_retention(feeds, 1) == [date(2025, 11, 28)]


KILLED_PUBLISH = """
import sys
from datetime import date
from pathlib import Path
from wmsight.publish import publish_feeds
publish_feeds(Path(sys.argv[1]), Path(sys.argv[2]), as_of=date(2025, 11, 30), csv=True)
"""


def test_a_killed_publication_never_leaves_latest_half_written(tmp_path: Path) -> None:
    db = make_warehouse(tmp_path / "w.duckdb", days=2000)
    feeds = tmp_path / "feeds"
    publish_feeds(db, feeds, as_of=date(2025, 11, 29))
    for delay in (1.0, 2.0, 3.0, 4.0, 6.0):
        process = subprocess.Popen([sys.executable, "-c", KILLED_PUBLISH, str(db), str(feeds)])
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        # whatever moment the kill hit, latest is a complete publication
        run = manifest(feeds / LATEST)
        for feed in run["feeds"].values():
            if feed["status"] == "published":
                data = (feeds / LATEST / feed["file"]).read_bytes()
                assert hashlib.sha256(data).hexdigest() == feed["sha256"]
    # the next publication cleans up what the killed ones left
    publish_feeds(db, feeds)
    assert manifest(feeds / LATEST)["as_of"] == "2025-11-30"
    # no leftovers: every folder is a linked publication, or a finished one a re-run of
    # 2025-11-30 replaced (a kill that came after it was visible), kept for readers
    linked = {
        Path(os.readlink(link)).name
        for link in feeds.iterdir()
        if link.is_symlink() and link.name != LATEST
    }
    assert len(linked) == 2  # 2025-11-29 and 2025-11-30
    markers = feeds / ".runs" / SUPERSEDED_DIR
    kept_for_readers = {m.name for m in markers.iterdir()} if markers.is_dir() else set()
    assert publications(feeds) == linked | kept_for_readers
    assert all((feeds / ".runs" / name / MANIFEST).is_file() for name in kept_for_readers)
    assert not list(feeds.glob(".*.tmp"))


def test_a_stage_that_did_not_run_today_does_not_publish_yesterdays_rows(tmp_path: Path) -> None:
    db = make_warehouse(tmp_path / "w.duckdb")
    with duckdb.connect(str(db)) as con:
        con.execute("CREATE SCHEMA ml")
        con.execute(
            """CREATE TABLE ml.transfer_recommendations AS SELECT 'WH-BJ' AS from_warehouse_id,
            'WH-SH' AS to_warehouse_id, 'SKU-1' AS sku, 5.0 AS qty, 'surplus' AS reason,
            DATE '2025-11-29' AS as_of_date"""
        )
        con.execute("CREATE TABLE ml.replenishment_plan AS SELECT DATE '2025-11-29' AS as_of_date")
        con.execute(
            "CREATE TABLE marts.fct_inventory_daily AS SELECT DATE '2025-11-30' AS position_date"
        )
    result = publish_feeds(db, tmp_path / "feeds")
    notes = {f.feed: (f.status, f.note) for f in result.feeds}
    assert notes["transfer_recommendations"] == (
        "skipped",
        "not computed for 2025-11-30 (last computed for 2025-11-29)",
    )
    assert notes["replenishment_plan"][0] == "skipped"
    assert not (result.folder / "transfer_recommendations.parquet").exists()


def test_a_feed_from_a_file_the_business_never_sends_is_skipped_not_empty(
    tmp_path: Path,
) -> None:
    db = make_warehouse(tmp_path / "w.duckdb")
    with duckdb.connect(str(db)) as con:  # built by dbt, empty: no feedback ever loaded
        con.execute(
            "CREATE TABLE marts.fct_feedback (feedback_id VARCHAR, customer_key VARCHAR, "
            "category VARCHAR, department VARCHAR, severity VARCHAR, submitted_at TIMESTAMP)"
        )
    result = publish_feeds(db, tmp_path / "feeds")
    notes = {f.feed: (f.status, f.note) for f in result.feeds}
    assert notes["feedback_routing"] == ("skipped", "no crm/feedback.csv in any drop")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs: a filesystem that really fills up, or goes read-only, under the feeds.
    Mounting needs root with CAP_SYS_ADMIN (CI runs as root); elsewhere the test skips."""
    mountpoint = tmp_path / "disk"
    mountpoint.mkdir()
    try:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mountpoint)],
            capture_output=True,
            text=True,
        )
    except FileNotFoundError:
        pytest.skip("no mount command: cannot make a small filesystem to fill")
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill (needs root): {mounted.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=True)


def whole_latest(feeds: Path) -> dict[str, str]:
    """sha256 of every file `latest` names, checked against its manifest."""
    run = manifest(feeds / LATEST)
    hashes = {"as_of": run["as_of"]}
    for name, feed in run["feeds"].items():
        if feed["status"] == "published":
            data = (feeds / LATEST / feed["file"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == feed["sha256"], name
            hashes[name] = feed["sha256"]
    return hashes


def fill(disk: Path, leave_bytes: int) -> Path:
    """Fill the filesystem until only about `leave_bytes` are free."""
    filler = disk / "filler"
    with filler.open("wb") as handle:
        block = b"\0" * 4096
        try:
            while shutil.disk_usage(disk).free > leave_bytes:
                handle.write(block)
                handle.flush()
        except OSError as error:
            assert error.errno == errno.ENOSPC
    return filler


# where the disk runs out: what the writer then raises
FULL_DISK_POINTS = {
    "in_a_parquet_file": lambda cause: "Error writing bytes to file" in str(cause),
    "in_a_csv_copy": lambda cause: (
        isinstance(cause, duckdb.IOException) and "kpi_daily.csv" in str(cause)
    ),
    "in_the_manifest": lambda cause: str(cause) == "[Errno 28] No space left on device",
}


@pytest.mark.parametrize("point", FULL_DISK_POINTS)
def test_a_full_disk_during_publish_fails_clearly_and_keeps_latest(
    tmp_path: Path, small_disk: Path, point: str
) -> None:
    db = make_warehouse(tmp_path / "w.duckdb", days=3000)
    feeds = small_disk / "feeds"
    publish_feeds(db, feeds, as_of=date(2025, 11, 29), csv=True)
    before = whole_latest(feeds)
    [folder] = publications(feeds)
    # what each file (or folder: the app's datasets, the Data Docs) of a publication takes
    # on the disk (tmpfs counts whole 4 KiB pages); files are written customer_360, then
    # kpi_daily, each Parquet then CSV, then the folders, then the manifest
    pages = {
        p.name: sum(-(-f.stat().st_size // 4096) * 4096 for f in (p, *p.rglob("*")) if f.is_file())
        for p in (feeds / ".runs" / folder).iterdir()
    }
    data = sum(size for name, size in pages.items() if name != MANIFEST)
    leave = {
        "in_a_parquet_file": pages["customer_360.parquet"] + pages["customer_360.csv"] + 4096,
        "in_a_csv_copy": (
            pages["customer_360.parquet"]
            + pages["customer_360.csv"]
            + pages["kpi_daily.parquet"]
            + pages["kpi_daily.csv"] // 2
        ),
        "in_the_manifest": data + 4095,
    }[point]
    filler = fill(small_disk, leave_bytes=leave)
    with pytest.raises(PublishError) as error:
        publish_feeds(db, feeds, csv=True)
    assert FULL_DISK_POINTS[point](error.value.__cause__), repr(error.value.__cause__)
    message = str(error.value)
    assert "feeds for 2025-11-30 not published (latest unchanged)" in message
    assert f"cannot write {feeds}: " in message and "No space left on device" in message
    assert whole_latest(feeds) == before
    assert publications(feeds) == {folder}  # the half-written publication is gone
    filler.unlink()
    publish_feeds(db, feeds, csv=True)  # room again: the next run publishes
    assert manifest(feeds / LATEST)["as_of"] == "2025-11-30"
    assert len(publications(feeds)) == 2


def test_a_read_only_feeds_filesystem_fails_clearly_and_keeps_latest(
    tmp_path: Path, small_disk: Path
) -> None:
    db = make_warehouse(tmp_path / "w.duckdb")
    feeds = small_disk / "feeds"
    publish_feeds(db, feeds, as_of=date(2025, 11, 29))
    before = whole_latest(feeds)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        with pytest.raises(PublishError, match="Read-only file system") as error:
            publish_feeds(db, feeds)
        assert "latest unchanged" in str(error.value)
        assert whole_latest(feeds) == before
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    assert len(publications(feeds)) == 1
