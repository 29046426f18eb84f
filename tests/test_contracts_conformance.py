"""Ingest executes the Great Expectations suites as SQL. Here real Great Expectations runs
the same suites over the same parsed rows, and both must flag exactly the same rows."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import great_expectations as gx
import pandas as pd
import pytest
from extract_builder import DROP, GOOD_ROWS, csv_text, good, good_order, write_file
from test_ingest_rules import rule_cases

from data_contracts.extracts import CONTRACTS, CONTRACTS_BY_FILE
from data_contracts.suites import build_items_suite, build_suite
from ingest.encoding import decode_file
from ingest.readers import read_csv, read_jsonl
from ingest.sql import PARSE_MACROS
from ingest.validate import check_rows, suite_parameters

# Calendar-invalid dates match the format regex; only the parser catches them.
CASES = [case for case in rule_cases() if case[2] != "2025-02-30"]


def _dirty_file(tmp_path: Path, source_file: str) -> Path:
    """One file holding a good row, a row per rule case and a duplicate of the good row."""
    if source_file.endswith(".jsonl"):
        orders: list[dict] = [good_order()]
        for i, (_, column, value, _) in enumerate(c for c in CASES if c[0] == source_file):
            order = good_order(order_id=f"TM-{i}")
            parts = column.split(".")
            target = (
                order["items"][0]
                if parts[0] == "items[0]"
                else (order[parts[0]] if len(parts) == 2 else order)
            )
            target[parts[-1]] = value or None
            orders.append(order)
        orders.append(good_order())
        text = "\n".join(json.dumps(o, ensure_ascii=False) for o in orders) + "\n"
    else:
        contract = CONTRACTS_BY_FILE[source_file]
        rows = [good(source_file)]
        for i, (_, column, value, _) in enumerate(c for c in CASES if c[0] == source_file):
            changed = {k: f"{GOOD_ROWS[source_file][k]}-{i}" for k in contract.key}
            if "line_no" in contract.key:
                changed["line_no"] = str(i + 2)
            if "snapshot_date" in contract.key:
                changed["snapshot_date"] = "2025-02-01"
            rows.append(good(source_file, **changed) | {column: value})
        rows.append(good(source_file))
        text = csv_text(source_file, rows)
    return write_file(tmp_path, DROP, source_file, text)


def _ge_failures(frame: pd.DataFrame, suite, params: dict) -> dict[str, set[int]]:
    context = gx.get_context(mode="ephemeral")
    batch = (
        context.data_sources.add_pandas("extracts")
        .add_dataframe_asset("rows")
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    result = batch.validate(
        suite,
        expectation_parameters=params,
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": ["_row"]},
    )
    failures: dict[str, set[int]] = {}
    for outcome in result.results:
        assert outcome.exception_info.get("raised_exception") is not True, outcome.exception_info
        config = outcome.expectation_config
        name = f"{config.meta['rule']}:{config.meta['column']}"
        rows = {int(i["_row"]) for i in outcome.result.get("unexpected_index_list") or []}
        failures.setdefault(name, set()).update(rows)
    return failures


def _engine_failures(frame: pd.DataFrame) -> dict[str, set[int]]:
    failures: dict[str, set[int]] = {}
    for row, violations in zip(frame["_row"], frame["violations"], strict=True):
        for violation in violations:
            column = violation["column"]
            if "[" in column:  # items[3].qty -> items[].qty, as in the suite's meta
                column = column[: column.index("[") + 1] + column[column.index("]") :]
            failures.setdefault(f"{violation['rule']}:{column}", set()).add(int(row))
    return failures


@pytest.mark.parametrize("source_file", [c.source_file for c in CONTRACTS])
def test_great_expectations_agrees_with_ingest(tmp_path: Path, source_file: str) -> None:
    contract = CONTRACTS_BY_FILE[source_file]
    path = _dirty_file(tmp_path, source_file)
    con = duckdb.connect()
    con.execute(PARSE_MACROS).fetchall()
    decoded = decode_file(path, source_file)
    if contract.format == "jsonl":
        read_jsonl(con, decoded, contract)
    else:
        read_csv(con, path, decoded, contract)
    check_rows(con, contract, date.fromisoformat(DROP), keep_text=True)
    params = {k: pd.Timestamp(v) for k, v in suite_parameters(date.fromisoformat(DROP)).items()}

    # (ingest stores no violations as NULL rather than as an empty list)
    no_null = "REPLACE (coalesce(violations, []) AS violations)"
    frame = con.execute(f"SELECT _line AS _row, * {no_null} FROM wm_checked ORDER BY _line").df()
    ge = _ge_failures(frame.drop(columns=["violations"]), build_suite(contract), params)
    engine = _engine_failures(frame)
    # Great Expectations flags every row of a duplicated key; ingest keeps the first.
    duplicate = next(name for name in ge if name.startswith("duplicate_key"))
    first = min(ge[duplicate]) if ge[duplicate] else None
    ge[duplicate] -= {first} if first is not None else set()
    # Ingest reports a row's item problems on the order; compare orders with the items suite below.
    engine = {k: v for k, v in engine.items() if not k.split(":", 1)[1].startswith("items[].")}
    assert {k: v for k, v in ge.items() if v} == engine
    assert sum(len(v) for v in engine.values()) >= len(
        [c for c in CASES if c[0] == source_file and "items[0]" not in c[1]]
    )

    if contract.items is not None:
        items = con.execute(
            f"SELECT _line * 1000 + _item_index AS _row, * {no_null} FROM wm_checked_items "
            "ORDER BY 1"
        ).df()
        ge_items = _ge_failures(
            items.drop(columns=["violations"]), build_items_suite(contract), params
        )
        assert {k: v for k, v in ge_items.items() if v} == _engine_failures(items)
