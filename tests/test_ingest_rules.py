"""Every rule of EXTRACTS.md: a row that breaks it is quarantined with that rule and column,
and the file's other rows still load."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import query
from extract_builder import DROP, good, good_order, write_csv, write_orders

from data_contracts.extracts import CONTRACTS, Column, Kind, TimeRole
from ingest.load import ingest_extracts

BAD_TEXT = {
    Kind.INTEGER: "2.5",
    Kind.DECIMAL: "12,5",
    Kind.TIMESTAMP: "2025-13-45 99:00",
    Kind.DATE: "2025-02-30",
}
AFTER_DROP = {Kind.TIMESTAMP: "2025-03-02 00:00:00", Kind.DATE: "2025-03-02"}


def _out_of_range(col: Column) -> str:
    if col.min_value is not None:
        value = col.min_value if col.strict_min else col.min_value - 1
    else:
        value = col.max_value if col.strict_max else col.max_value + 1
    return str(int(value)) if col.kind is Kind.INTEGER else str(value)


def rule_cases() -> list:
    """(file, column, bad text, rule) for every column rule of every contract."""
    cases = []
    for contract in CONTRACTS:
        columns = list(contract.columns) + [
            Column(
                f"items[0].{c.name}",
                c.kind,
                c.required,
                c.min_value,
                c.max_value,
                c.strict_min,
                c.strict_max,
                c.allowed,
                c.forbidden,
                c.time_role,
            )
            for c in (contract.items.columns if contract.items else ())
        ]
        for col in columns:
            name = col.source_name
            if col.required:
                cases.append((contract.source_file, name, "", "required"))
            if col.kind is not Kind.TEXT:
                cases.append((contract.source_file, name, BAD_TEXT[col.kind], f"type_{col.kind}"))
            if col.allowed:
                cases.append((contract.source_file, name, "bogus", "enum"))
            if col.min_value is not None or col.max_value is not None:
                cases.append((contract.source_file, name, _out_of_range(col), "range"))
            for value in col.forbidden or ():
                cases.append((contract.source_file, name, str(int(value)), "range"))
            if col.time_role is TimeRole.EVENT:
                cases.append(
                    (contract.source_file, name, AFTER_DROP[col.kind], "event_time_after_drop")
                )
            if col.kind is Kind.TEXT and not col.allowed:
                cases.append((contract.source_file, name, "bad\x07text", "control_chars"))
    return cases


def _write_with(extracts: Path, source_file: str, column: str, value: str) -> None:
    """The file with one good row and one row whose `column` is `value`."""
    if source_file == "ecommerce/orders.jsonl":
        bad = good_order(order_id="TM-BAD")
        parts = column.split(".")
        if parts[0] == "items[0]":
            bad["items"][0][parts[1]] = value or None
        elif len(parts) == 2:
            bad[parts[0]][parts[1]] = value or None
        else:
            bad[column] = value or None
        write_orders(extracts, DROP, [good_order(), bad])
        return
    contract = next(c for c in CONTRACTS if c.source_file == source_file)
    second_key = {k: f"{good(source_file)[k]}-2" for k in contract.key if k != "line_no"}
    if "line_no" in contract.key:
        second_key["line_no"] = "2"
    if contract.key == ("snapshot_date", "warehouse_id", "sku"):
        second_key = {"sku": "SKU-2"}
    bad = good(source_file, **second_key) | {column: value}
    write_csv(extracts, DROP, source_file, [good(source_file), bad])


@pytest.mark.parametrize(("source_file", "column", "value", "rule"), rule_cases())
def test_rule_quarantines_the_bad_row_and_loads_the_good_one(
    extracts: Path, db_path: Path, source_file: str, column: str, value: str, rule: str
) -> None:
    _write_with(extracts, source_file, column, value)
    ingest_extracts(extracts, db_path)
    quarantined = query(
        db_path, "SELECT line, column_name, rule, message, original_text FROM raw.quarantine"
    )
    assert len(quarantined) == 1, quarantined
    line, column_name, found_rule, message, original = quarantined[0]
    bad_line = 2 if source_file.endswith(".jsonl") else 3  # CSV line 1 is the header
    assert (line, column_name, found_rule) == (bad_line, column, rule), message
    assert column in message
    assert original  # the delivered text is kept
    log = query(
        db_path,
        "SELECT rows_read, rows_loaded, rows_quarantined FROM raw.load_log WHERE source_file = ?",
        [source_file],
    )
    assert log == [(2, 1, 1)]


def test_a_row_may_break_several_rules_and_all_are_kept(extracts: Path, db_path: Path) -> None:
    write_csv(
        extracts,
        DROP,
        "erp/sales_order_lines.csv",
        [
            good("erp/sales_order_lines.csv", sku="", qty="0", discount_cny="abc"),
        ],
    )
    ingest_extracts(extracts, db_path)
    [(rule, violations)] = query(db_path, "SELECT rule, violations FROM raw.quarantine")
    assert rule == "type_decimal"  # the first problem a person would fix
    assert [v["rule"] for v in __import__("json").loads(violations)] == [
        "type_decimal",
        "required",
        "range",
    ]


def test_good_rows_of_every_file_load_with_their_types(extracts: Path, db_path: Path) -> None:
    for source_file in (c.source_file for c in CONTRACTS if c.format == "csv"):
        write_csv(extracts, DROP, source_file, [good(source_file)])
    write_orders(extracts, DROP, [good_order()])
    result = ingest_extracts(extracts, db_path)
    assert {f.status for f in result.files} == {"loaded"}
    assert result.rows_quarantined == 0
    assert query(
        db_path, "SELECT qty, shipped_qty, unit_price_cny FROM raw.erp__sales_order_lines"
    ) == [(10, 10, __import__("decimal").Decimal("59.9000"))]
    # +08:00 offsets and naive times are both Asia/Shanghai wall time
    [(created, paid)] = query(db_path, "SELECT created_at, paid_at FROM raw.ecommerce__orders")
    assert str(created) == "2025-03-01 10:02:11" and str(paid) == "2025-03-01 10:03:00"
    assert query(db_path, "SELECT sku, qty FROM raw.ecommerce__order_items") == [("SKU-00042", 2)]
    # a backorder (reserved + damaged > on_hand) is not an error
    assert query(db_path, "SELECT on_hand - reserved - damaged FROM raw.erp__stock_snapshots") == [
        (-4,)
    ]


def test_offsets_are_converted_not_dropped(extracts: Path, db_path: Path) -> None:
    # 00:30 in Tokyo is 23:30 the day before in Shanghai: inside the drop date, so valid.
    write_orders(
        extracts,
        DROP,
        [good_order(created_at="2025-03-02T00:30:00+09:00", updated_at="2025-03-01T15:00:00Z")],
    )
    ingest_extracts(extracts, db_path)
    assert [
        tuple(map(str, r))
        for r in query(db_path, "SELECT created_at, updated_at FROM raw.ecommerce__orders")
    ] == [("2025-03-01 23:30:00", "2025-03-01 23:00:00")]


def test_planned_times_may_be_in_the_future(extracts: Path, db_path: Path) -> None:
    write_csv(extracts, DROP, "erp/invoices.csv", [good("erp/invoices.csv", due_at="2026-01-01")])
    write_csv(
        extracts,
        DROP,
        "ecommerce/promotions.csv",
        [good("ecommerce/promotions.csv", starts_on="2025-11-01", ends_on="2025-11-11")],
    )
    assert ingest_extracts(extracts, db_path).rows_quarantined == 0


@pytest.mark.parametrize(
    ("source_file", "row", "rule", "column"),
    [
        (
            "erp/sales_order_lines.csv",
            {"qty": "2", "unit_price_cny": "5", "discount_cny": "10.01"},
            "discount_exceeds_line",
            "discount_cny",
        ),
        (
            "ecommerce/promotions.csv",
            {"starts_on": "2025-03-10", "ends_on": "2025-03-09"},
            "ends_before_starts",
            "ends_on",
        ),
    ],
)
def test_rules_between_columns(
    extracts: Path, db_path: Path, source_file: str, row: dict, rule: str, column: str
) -> None:
    write_csv(extracts, DROP, source_file, [good(source_file, **row)])
    ingest_extracts(extracts, db_path)
    assert query(db_path, "SELECT rule, column_name FROM raw.quarantine") == [(rule, column)]


def test_discount_equal_to_line_value_is_fine(extracts: Path, db_path: Path) -> None:
    write_csv(
        extracts,
        DROP,
        "erp/sales_order_lines.csv",
        [good("erp/sales_order_lines.csv", qty="2", unit_price_cny="5", discount_cny="10")],
    )
    assert ingest_extracts(extracts, db_path).rows_quarantined == 0


def test_money_in_scientific_notation_loads_rounded_to_four_places(
    extracts: Path, db_path: Path
) -> None:
    """JSON writers put very small or large numbers in exponent form (Python's json writes
    1e-05; pandas wrote a price of 4.44e-16 in a real grocery export): a decimal, not a
    reason to quarantine the order."""
    order = good_order()
    order["items"][0]["discount_cny"] = 1e-05
    text = json.dumps(order).replace("129.0", "1.29E+2")
    assert '"discount_cny": 1e-05' in text and "1.29E+2" in text
    write_orders(extracts, DROP, [text])
    lines = "erp/sales_order_lines.csv"
    write_csv(extracts, DROP, lines, [good(lines, unit_price_cny="4.44e-16", discount_cny="0")])
    assert ingest_extracts(extracts, db_path).rows_quarantined == 0
    assert query(
        db_path, "SELECT unit_price_cny, discount_cny FROM raw.ecommerce__order_items"
    ) == [(Decimal("129"), Decimal("0"))]
    assert query(db_path, "SELECT unit_price_cny FROM raw.erp__sales_order_lines") == [
        (Decimal("0"),)
    ]


def test_ecommerce_item_discount_is_checked_per_item(extracts: Path, db_path: Path) -> None:
    order = good_order()
    order["items"].append({"sku": "SKU-2", "qty": 1, "unit_price_cny": 5, "discount_cny": 6})
    write_orders(extracts, DROP, [order])
    ingest_extracts(extracts, db_path)
    assert query(db_path, "SELECT rule, column_name FROM raw.quarantine") == [
        ("discount_exceeds_line", "items[1].discount_cny")
    ]
    assert query(db_path, "SELECT count(*) FROM raw.ecommerce__order_items") == [(0,)]


@pytest.mark.parametrize(
    ("status", "items", "rule"),
    [
        ("paid", [], "items_required"),
        ("delivered", None, "items_required"),
        ("cancelled", [], None),
        ("refunded", None, None),
    ],
)
def test_an_order_needs_items_unless_cancelled_or_refunded(
    extracts: Path, db_path: Path, status: str, items: list | None, rule: str | None
) -> None:
    order = good_order(status=status)
    if items is None:
        del order["items"]
    else:
        order["items"] = items
    write_orders(extracts, DROP, [order])
    ingest_extracts(extracts, db_path)
    assert query(db_path, "SELECT rule FROM raw.quarantine") == ([(rule,)] if rule else [])


def test_truncated_json_line_is_quarantined_and_the_rest_loads(
    extracts: Path, db_path: Path
) -> None:
    import json

    whole = json.dumps(good_order(order_id="TM-2"), ensure_ascii=False)
    write_orders(extracts, DROP, [good_order(), whole[:57], good_order(order_id="TM-3"), "[1, 2]"])
    ingest_extracts(extracts, db_path)
    assert query(db_path, "SELECT line, rule, original_text FROM raw.quarantine ORDER BY line") == [
        (2, "malformed_json", whole[:57]),
        (4, "malformed_json", "[1, 2]"),
    ]
    assert query(db_path, "SELECT order_id, _line FROM raw.ecommerce__orders ORDER BY 2") == [
        ("TM20250301000123", 1),
        ("TM-3", 3),
    ]


def test_wrong_field_count_is_a_malformed_row(extracts: Path, db_path: Path) -> None:
    from extract_builder import csv_text, write_file

    text = csv_text("erp/stock_counts.csv", [good("erp/stock_counts.csv")])
    text += "CC-2,2025-02-28 16:00:00,WH-EC\nCC-3,2025-02-28 16:00:00,WH-EC,SKU-1,1,1,surplus\n"
    text += "CC-4,2025-02-28 16:00:00,WH-EC,SKU-1,1,1\n"
    write_file(extracts, DROP, "erp/stock_counts.csv", text)
    ingest_extracts(extracts, db_path)
    assert query(db_path, "SELECT line, rule FROM raw.quarantine ORDER BY line") == [
        (3, "malformed_row"),
        (4, "malformed_row"),
    ]
    assert query(db_path, "SELECT count_id, _line FROM raw.erp__stock_counts ORDER BY 2") == [
        ("CC-1", 2),
        ("CC-4", 5),
    ]
