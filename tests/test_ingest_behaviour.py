"""Ingest as a data engineer relies on it: accounting, idempotency, encodings, broken files,
delta drops, exact line numbers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from conftest import query
from extract_builder import DROP, csv_text, good, good_order, write_csv, write_file, write_orders

from ingest.load import ingest_extracts
from wmsight.runner import RunContext
from wmsight.stages import ingest_stage

RAW_TABLES = [
    "crm__customers",
    "erp__customers",
    "erp__sales_orders",
    "ecommerce__orders",
    "ecommerce__order_items",
    "quarantine",
    "load_log",
]


def _counts(db_path: Path) -> dict[str, int]:
    return {t: query(db_path, f"SELECT count(*) FROM raw.{t}")[0][0] for t in RAW_TABLES}


def _two_drops(extracts: Path) -> None:
    write_csv(
        extracts,
        "2025-03-01",
        "erp/sales_orders.csv",
        [
            good("erp/sales_orders.csv"),
            good("erp/sales_orders.csv", order_no="SO-2", status="teleported"),
        ],
    )
    write_orders(extracts, "2025-03-01", [good_order()])
    write_csv(
        extracts,
        "2025-03-02",
        "erp/sales_orders.csv",
        [
            good(
                "erp/sales_orders.csv",
                status="delivered",
                delivered_at="2025/03/02 09:00:00",
                updated_at="2025/03/02 09:00:00",
            ),
        ],
    )


def test_loading_the_same_drops_again_changes_nothing(extracts: Path, db_path: Path) -> None:
    _two_drops(extracts)
    first = ingest_extracts(extracts, db_path)
    assert first.count("loaded") == 3
    before = _counts(db_path)
    again = ingest_extracts(extracts, db_path)
    assert {f.status for f in again.files} == {"unchanged"}
    assert _counts(db_path) == before


def test_every_row_is_accounted_for(extracts: Path, db_path: Path) -> None:
    _two_drops(extracts)
    ingest_extracts(extracts, db_path)
    for source_file, read, loaded, quarantined in query(
        db_path, "SELECT source_file, rows_read, rows_loaded, rows_quarantined FROM raw.load_log"
    ):
        assert read == loaded + quarantined, source_file
    assert query(db_path, "SELECT sum(rows_quarantined) FROM raw.load_log") == [(1,)]


def test_delta_drop_supersedes_the_earlier_version(extracts: Path, db_path: Path) -> None:
    _two_drops(extracts)
    ingest_extracts(extracts, db_path)
    # raw is append-only: both versions are there, with their lineage
    assert query(
        db_path,
        "SELECT status, _drop_date::VARCHAR FROM raw.erp__sales_orders "
        "WHERE order_no = 'SO-1' ORDER BY updated_at",
    ) == [("shipped", "2025-03-01"), ("delivered", "2025-03-02")]
    latest = query(
        db_path,
        """
        SELECT status FROM raw.erp__sales_orders WHERE order_no = 'SO-1'
        QUALIFY row_number() OVER (PARTITION BY order_no
            ORDER BY updated_at DESC NULLS LAST, _drop_date DESC, _line DESC) = 1""",
    )
    assert latest == [("delivered",)]


def test_a_run_as_of_an_earlier_date_loads_only_the_drops_known_then(
    extracts: Path, db_path: Path
) -> None:
    """`wmsight run --as-of 2025-03-01` on a folder that already holds the 2 March drop
    replays 1 March: the later drop waits for a run without --as-of (or as of its date)."""
    _two_drops(extracts)
    march_1 = date(2025, 3, 1)
    feeds = extracts.parent / "feeds"
    context = RunContext(extracts, db_path, feeds, as_of=march_1, drops_up_to=march_1)
    outcome = ingest_stage(context)
    assert query(db_path, "SELECT DISTINCT drop_date::VARCHAR FROM raw.load_log") == [
        ("2025-03-01",)
    ]
    assert query(db_path, "SELECT status FROM raw.erp__sales_orders WHERE order_no = 'SO-1'") == [
        ("shipped",)
    ]
    assert (
        "1 drop(s) after 2025-03-01 not loaded (2025-03-02): the run is as of that date; "
        "a run without --as-of loads them"
    ) in outcome.warnings
    later = ingest_extracts(extracts, db_path)  # the next daily run
    assert later.held_back == [] and later.count("loaded") == 1
    assert query(db_path, "SELECT count(*) FROM raw.erp__sales_orders WHERE order_no = 'SO-1'") == [
        (2,)
    ]
    # replaying 1 March on this warehouse now: the 2 March drop is in it, and it says so
    replay = ingest_stage(context)
    assert not any("not loaded" in w for w in replay.warnings)
    assert (
        "this warehouse already holds 1 drop(s) after 2025-03-01 (2025-03-02) and builds "
        "from them too: to replay 2025-03-01 alone, run on a new warehouse (--db)"
    ) in replay.warnings


def test_same_key_twice_in_one_file(extracts: Path, db_path: Path) -> None:
    rows = [
        good("erp/sales_orders.csv"),
        good("erp/sales_orders.csv", status="delivered", updated_at="2025/02/25 10:00:00"),
        good("erp/sales_orders.csv", status="picked"),  # same updated_at as line 2: a duplicate
    ]
    write_csv(extracts, DROP, "erp/sales_orders.csv", rows)
    ingest_extracts(extracts, db_path)
    # the newer updated_at is kept beside the older (history); the tie is quarantined
    assert query(db_path, "SELECT status FROM raw.erp__sales_orders ORDER BY _line") == [
        ("shipped",),
        ("delivered",),
    ]
    [(line, rule, message)] = query(db_path, "SELECT line, rule, message FROM raw.quarantine")
    assert (line, rule) == (4, "duplicate_key") and "line 2" in message


def test_a_changed_redelivery_replaces_that_drops_earlier_version(
    extracts: Path, db_path: Path
) -> None:
    write_csv(extracts, DROP, "erp/products.csv", [good("erp/products.csv")])
    ingest_extracts(extracts, db_path)
    write_csv(
        extracts,
        DROP,
        "erp/products.csv",
        [good("erp/products.csv", name="保温杯 600ml"), good("erp/products.csv", sku="SKU-2")],
    )
    ingest_extracts(extracts, db_path)
    assert query(db_path, "SELECT sku, name FROM raw.erp__products ORDER BY sku") == [
        ("SKU-1", "保温杯 600ml"),
        ("SKU-2", "保温杯 500ml"),
    ]
    assert query(db_path, "SELECT count(*) FROM raw.load_log") == [(2,)]


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig", "utf-8"])
def test_encodings_are_detected(extracts: Path, db_path: Path, encoding: str) -> None:
    write_csv(extracts, DROP, "erp/customers.csv", [good("erp/customers.csv")], encoding=encoding)
    ingest_extracts(extracts, db_path)
    assert query(db_path, "SELECT erp_code, legal_name, address FROM raw.erp__customers") == [
        ("E-1", "上海华通贸易有限责任公司", "浦东新区 1 号")
    ]
    assert query(db_path, "SELECT encoding FROM raw.load_log") == [(encoding,)]


def test_crlf_line_endings(extracts: Path, db_path: Path) -> None:
    text = csv_text(
        "erp/products.csv",
        [good("erp/products.csv"), good("erp/products.csv", sku="SKU-2", moq="x")],
    )
    write_file(extracts, DROP, "erp/products.csv", text.replace("\n", "\r\n"))
    ingest_extracts(extracts, db_path)
    assert query(db_path, "SELECT sku, status, _line FROM raw.erp__products") == [
        ("SKU-1", "active", 2)
    ]
    assert query(db_path, "SELECT line, rule, original_text FROM raw.quarantine") == [
        (
            3,
            "type_integer",
            "SKU-2,保温杯 500ml,家居,安达,35.5,59.9000,14,x,12,,active,2025-01-01 00:00:00",
        )
    ]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty (0 bytes)"),
        (b"feedback_id,score\n\xff\xfe\xfa\n", "cannot be decoded"),
        (
            b"feedback_id,crm_id,comment\nFB-1,C,hi\n",
            "missing required column(s) submitted_at, score",
        ),
        (b"feedback_id,score,score,submitted_at\n", "repeats column(s) score"),
    ],
)
def test_a_broken_file_is_rejected_whole_and_the_rest_still_loads(
    extracts: Path, db_path: Path, content: bytes, reason: str
) -> None:
    write_file(extracts, DROP, "crm/feedback.csv", content)
    write_csv(extracts, DROP, "crm/customers.csv", [good("crm/customers.csv")])
    write_csv(
        extracts, "2025-03-02", "crm/customers.csv", [good("crm/customers.csv", crm_id="CRM-2")]
    )
    result = ingest_extracts(extracts, db_path)
    [rejected] = [f for f in result.files if f.status == "rejected"]
    assert rejected.source_file == "crm/feedback.csv" and reason in rejected.message
    assert "crm/feedback.csv" in rejected.message
    assert query(db_path, "SELECT count(*) FROM raw.crm__feedback") == [(0,)]
    assert query(db_path, "SELECT count(*) FROM raw.crm__customers") == [(2,)]
    assert query(
        db_path,
        "SELECT status, message LIKE '%' || ? || '%' FROM raw.load_log "
        "WHERE source_file = 'crm/feedback.csv'",
        [reason],
    ) == [("rejected", True)]


def test_undecodable_file_names_the_line(extracts: Path, db_path: Path) -> None:
    write_file(
        extracts, DROP, "crm/feedback.csv", b"feedback_id,submitted_at,score\nFB-1,\xff\xff,3\n"
    )
    [rejected] = ingest_extracts(extracts, db_path).files
    assert "line 2" in rejected.message


def test_a_file_that_is_not_json_lines_is_rejected(extracts: Path, db_path: Path) -> None:
    write_file(extracts, DROP, "ecommerce/orders.jsonl", "order_id,platform\nTM1,tmall\n")
    [rejected] = ingest_extracts(extracts, db_path).files
    assert rejected.status == "rejected" and "not JSON Lines" in rejected.message


def test_a_header_only_file_is_fine(extracts: Path, db_path: Path) -> None:
    write_csv(extracts, DROP, "erp/returns.csv", [])
    [loaded] = ingest_extracts(extracts, db_path).files
    assert (loaded.status, loaded.rows_read) == ("loaded", 0)


def test_unknown_files_are_reported_not_loaded(extracts: Path, db_path: Path) -> None:
    for name in [
        "erp/Sales_Orders.csv",
        "erp/sales_orders.csv.gz",
        "crm/.~lock.customers.csv#",
        "notes.txt",
    ]:
        write_file(extracts, DROP, name, "x\n")
    write_file(extracts.parent, "", "extracts/2025-02-30/erp/products.csv", "x\n")
    result = ingest_extracts(extracts, db_path)
    assert sorted(f.source_file for f in result.files if f.status == "unknown") == [
        "crm/.~lock.customers.csv#",
        "erp/Sales_Orders.csv",
        "erp/sales_orders.csv.gz",
        "notes.txt",
    ]
    assert "2025-02-30" in result.ignored  # not a real date: not a drop
    assert query(db_path, "SELECT count(*) FROM raw.load_log WHERE status = 'unknown'") == [(4,)]


def test_extra_columns_are_kept_and_missing_optional_ones_are_empty(
    extracts: Path, db_path: Path
) -> None:
    header = ["crm_id", "company_name", "wechat_id", "phone"]
    text = csv_text(
        "crm/customers.csv",
        [{"crm_id": "C1", "company_name": "甲", "wechat_id": "wx1", "phone": "1"}],
        header=header,
    )
    write_file(extracts, DROP, "crm/customers.csv", text)
    [loaded] = ingest_extracts(extracts, db_path).files
    assert "wechat_id" in loaded.message and "email" in loaded.message
    assert query(db_path, "SELECT _extra ->> 'wechat_id', email FROM raw.crm__customers") == [
        ("wx1", None)
    ]


def test_multi_line_fields_keep_exact_line_numbers(extracts: Path, db_path: Path) -> None:
    rows = [
        good("crm/feedback.csv", comment="第一行\n第二行\n第三行"),
        good("crm/feedback.csv", feedback_id="FB-2", score="9"),
        good("crm/feedback.csv", feedback_id="FB-3", comment='He said "wrong item"'),
    ]
    write_csv(extracts, DROP, "crm/feedback.csv", rows)
    [loaded] = ingest_extracts(extracts, db_path).files
    assert loaded.rows_read == 3
    assert query(db_path, "SELECT line, rule FROM raw.quarantine") == [(5, "range")]
    assert query(
        db_path, "SELECT feedback_id, _line, comment FROM raw.crm__feedback ORDER BY 2"
    ) == [("FB-1", 2, "第一行\n第二行\n第三行"), ("FB-3", 6, 'He said "wrong item"')]


def test_a_broken_quote_costs_one_line_not_the_rest_of_the_file(
    extracts: Path, db_path: Path
) -> None:
    text = csv_text("crm/feedback.csv", [good("crm/feedback.csv")])
    text += 'FB-2,CRM-1,SO-1,sms,2025-02-28 18:00,3,"never closed\n'
    text += 'FB-3,CRM-1,SO-1,sms,2025-02-28 18:00,4,5" screen is fine\n'
    text += "FB-4,CRM-1,SO-1,sms,2025-02-28 18:00,5,ok\n"
    write_file(extracts, DROP, "crm/feedback.csv", text)
    [loaded] = ingest_extracts(extracts, db_path).files
    assert (loaded.rows_read, loaded.rows_loaded, loaded.rows_quarantined) == (4, 3, 1)
    assert query(db_path, "SELECT line, rule FROM raw.quarantine") == [(3, "malformed_row")]
    assert query(db_path, "SELECT feedback_id, comment FROM raw.crm__feedback ORDER BY _line") == [
        ("FB-1", "配送慢, 包装破损"),
        ("FB-3", '5" screen is fine'),
        ("FB-4", "ok"),
    ]


def test_a_control_character_is_quarantined_not_loaded(extracts: Path, db_path: Path) -> None:
    write_csv(extracts, DROP, "crm/feedback.csv", [good("crm/feedback.csv", comment="a\x00b")])
    ingest_extracts(extracts, db_path)
    assert query(db_path, "SELECT rule, column_name FROM raw.quarantine") == [
        ("control_chars", "comment")
    ]
