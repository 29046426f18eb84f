"""Run a file's Great Expectations suite over its rows inside DuckDB.

Great Expectations validates one expectation at a time and returns failing row
indexes; at ingest we need, for every row, *which* rules it breaks, in one pass,
at the speed of DuckDB. So each expectation of the suite is compiled to a SQL
condition with the same meaning (the test suite checks that real Great
Expectations flags the same rows), and every row gets the list of its violations.

Result: temp table `wm_checked` (parent rows) with typed columns, `<col>__text`
for typed columns, `_line`, `_extra` and `violations` (list of {rule, column,
message}); for JSON Lines also `wm_checked_items`.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import duckdb
from great_expectations import expectations as gxe

from data_contracts.extracts import Column, ExtractContract, Kind
from data_contracts.suites import (
    DROP_DATE,
    DROP_END,
    ITEMS_PRESENT,
    LINE_VALUE,
    build_items_suite,
    build_suite,
)
from ingest.sql import ident, literal

PARSERS = {
    Kind.INTEGER: "wm_integer",
    Kind.DECIMAL: "wm_decimal",
    Kind.TIMESTAMP: "wm_timestamp",
    Kind.DATE: "wm_date",
}
KIND_WORDS = {
    Kind.INTEGER: "a whole number",
    Kind.DECIMAL: "a decimal number",
    Kind.TIMESTAMP: "a timestamp",
    Kind.DATE: "a date (YYYY-MM-DD)",
}


class UnsupportedExpectation(TypeError):
    """A suite uses an expectation that ingest cannot execute in SQL."""


def suite_parameters(drop_date: date) -> dict[str, object]:
    return {
        DROP_DATE: drop_date,
        DROP_END: datetime.combine(drop_date + timedelta(days=1), time()),
    }


def _typed_select(columns: tuple[Column, ...], keep: list[str]) -> tuple[str, str]:
    """(inner select that blanks empty text, outer select that parses it)."""
    inner = list(keep)
    outer = list(keep)
    for col in columns:
        name = ident(col.name)
        if col.kind is Kind.TEXT:
            inner.append(f"wm_text({name}) AS {name}")
            outer.append(name)
        else:
            text = ident(f"{col.name}__text")
            inner.append(f"wm_text({name}) AS {text}")
            outer.extend([text, f"{PARSERS[col.kind]}({text}) AS {name}"])
    return ", ".join(inner), ", ".join(outer)


def _bound(value: object, params: dict[str, object]) -> object:
    if isinstance(value, dict) and "$PARAMETER" in value:
        return params[value["$PARAMETER"]]
    return value


def _label_sql(label: str) -> str:
    """The reported column; "items[]" names an item of a JSON array: show its index."""
    if "[]" in label:
        return f"replace({literal(label)}, '[]', '[' || _item_index || ']')"
    return literal(label)


def _show(sql_value: str) -> str:
    """How a value appears inside a message."""
    return f"coalesce(CAST({sql_value} AS VARCHAR), 'NULL')"


def compile_expectation(
    expectation: gxe.Expectation, params: dict[str, object], kinds: dict[str, Kind]
) -> tuple[str, str] | None:
    """(violation condition, message expression) for one expectation; None for row-set rules."""
    meta = expectation.meta or {}
    label_sql = _label_sql(meta["column"])
    if isinstance(
        expectation, gxe.ExpectCompoundColumnsToBeUnique | gxe.ExpectColumnValuesToBeUnique
    ):
        return None  # a rule over the row set: check_rows ranks duplicates by line
    if isinstance(expectation, gxe.ExpectColumnPairValuesAToBeGreaterThanB):
        a, b = ident(expectation.column_A), ident(expectation.column_B)
        op = "<" if expectation.or_equal else "<="
        return (
            f"{a} IS NOT NULL AND {b} IS NOT NULL AND {a} {op} {b}",
            f"{label_sql} || ': ' || {_show(b)} || "
            f"' exceeds the line value (qty × unit_price_cny) ' || {_show(a)}"
            if meta["rule"] == "discount_exceeds_line"
            else f"{literal(expectation.column_A)} || ' ' || {_show(a)} || ' is before ' || "
            f"{literal(expectation.column_B)} || ' ' || {_show(b)}",
        )
    column = expectation.column
    col = ident(column)
    if isinstance(expectation, gxe.ExpectColumnValuesToNotMatchRegex):
        return (
            f"regexp_matches({col}, {literal(expectation.regex)})",
            f"{label_sql} || ' contains a control character (only tab and newline are allowed)'",
        )
    if isinstance(expectation, gxe.ExpectColumnValuesToMatchRegex):
        # `<col>__text` must have the format and parse into `<col>`: the parser also
        # rejects what no regex sees (2025-02-30).
        typed = ident(column.removesuffix("__text"))
        kind = kinds[column.removesuffix("__text")]
        return (
            f"{col} IS NOT NULL AND (NOT regexp_matches({col}, {literal(expectation.regex)}) "
            f"OR {typed} IS NULL)",
            f"{label_sql} || ': ''' || {col} || ''' is not {KIND_WORDS[kind]}'",
        )
    if isinstance(expectation, gxe.ExpectColumnValuesToNotBeNull):
        return f"{col} IS NULL", f"{label_sql} || ' is required but empty'"
    if isinstance(expectation, gxe.ExpectColumnValuesToBeInSet):
        values = ", ".join(literal(v) for v in expectation.value_set)
        if column == ITEMS_PRESENT:
            return (
                f"{col} IS NOT TRUE",
                "'the order has no items (' || coalesce(_items_type, 'missing') || ') but its "
                "status is ' || coalesce(status, 'empty')",
            )
        return (
            f"{col} IS NOT NULL AND {col} NOT IN ({values})",
            f"{label_sql} || ': ''' || {col} || ''' is not one of ' || {literal(values)}",
        )
    if isinstance(expectation, gxe.ExpectColumnValuesToNotBeInSet):
        values = ", ".join(literal(v) for v in expectation.value_set)
        return (
            f"{col} IN ({values})",
            f"{label_sql} || ': ' || {_show(col)} || ' is not allowed'",
        )
    if isinstance(expectation, gxe.ExpectColumnValuesToBeBetween):
        low = _bound(expectation.min_value, params)
        high = _bound(expectation.max_value, params)
        checks = []
        if low is not None:
            checks.append(f"{col} {'<=' if expectation.strict_min else '<'} {literal(low)}")
        if high is not None:
            checks.append(f"{col} {'>=' if expectation.strict_max else '>'} {literal(high)}")
        condition = f"{col} IS NOT NULL AND ({' OR '.join(checks)})"
        if meta["rule"] == "event_time_after_drop":
            drop = params[DROP_DATE]
            message = (
                f"{label_sql} || ': ' || {_show(col)} || ' is later than the end of the "
                f"drop date {drop} (Asia/Shanghai)'"
            )
        else:
            low_text = "" if low is None else ("> " if expectation.strict_min else ">= ") + str(low)
            high_text = (
                "" if high is None else ("< " if expectation.strict_max else "<= ") + str(high)
            )
            allowed = " and ".join(t for t in (low_text, high_text) if t)
            message = (
                f"{label_sql} || ': ' || {_show(col)} || ' is out of range (must be {allowed})'"
            )
        return condition, message
    raise UnsupportedExpectation(f"{type(expectation).__name__} cannot run at ingest")


def _violations_sql(suite, params: dict[str, object], kinds: dict[str, Kind]) -> str:
    cases = []
    for expectation in suite.expectations:
        compiled = compile_expectation(expectation, params, kinds)
        if compiled is None:
            continue
        condition, message = compiled
        meta = expectation.meta
        cases.append(
            f"CASE WHEN {condition} THEN {{'rule': {literal(meta['rule'])}, "
            f"'column': {_label_sql(meta['column'])}, 'message': {message}}} END"
        )
    if not cases:
        return "[]"
    return f"list_filter([{', '.join(cases)}], lambda v: v IS NOT NULL)"


def check_rows(con: duckdb.DuckDBPyConnection, contract: ExtractContract, drop_date: date) -> None:
    """Build `wm_checked` (and `wm_checked_items`) from the reader's `wm_src` tables."""
    params = suite_parameters(drop_date)
    kinds = {c.name: c.kind for c in contract.columns}
    kinds.update({f"{c.name}__text": c.kind for c in contract.columns})

    item_violations = 'CAST([] AS STRUCT(rule VARCHAR, "column" VARCHAR, message VARCHAR)[])'
    items = contract.items
    if items is not None:
        item_kinds = {c.name: c.kind for c in items.columns}
        item_kinds.update({f"{c.name}__text": c.kind for c in items.columns})
        inner, outer = _typed_select(items.columns, ["_line", "_item_index"])
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE wm_checked_items AS
            WITH typed AS (SELECT {outer} FROM (SELECT {inner} FROM wm_src_items)),
            derived AS (SELECT *, qty * unit_price_cny AS {LINE_VALUE} FROM typed)
            SELECT *, {_violations_sql(build_items_suite(contract), params, item_kinds)}
                AS violations
            FROM derived"""
        )
        item_violations = (
            "coalesce((SELECT flatten(list(i.violations ORDER BY i._item_index)) "
            "FROM wm_checked_items AS i WHERE i._line = derived._line), []) "
        )

    keep = ["_line", "_extra"] + (["_item_count", "_items_type"] if items else [])
    inner, outer = _typed_select(contract.columns, keep)
    derived = []
    if any(r.greater == LINE_VALUE for r in contract.pair_rules):
        derived.append(f"qty * unit_price_cny AS {LINE_VALUE}")
    if items is not None and items.empty_allowed_when_status:
        allowed = ", ".join(literal(s) for s in items.empty_allowed_when_status)
        derived.append(
            f"(_item_count > 0 OR (status IN ({allowed}) AND coalesce(_items_type, 'NULL') "
            f"IN ('ARRAY', 'NULL'))) AS {ITEMS_PRESENT}"
        )
    derived_sql = ", ".join(["*"] + derived)
    key_columns = list(contract.key) + (["updated_at"] if contract.has_updated_at else [])
    partition = ", ".join(ident(k) for k in key_columns)
    key_text = " || ', ' || ".join(
        f"{literal(k)} || '=' || coalesce(CAST({ident(k)} AS VARCHAR), '')" for k in contract.key
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE wm_checked AS
        WITH typed AS (SELECT {outer} FROM (SELECT {inner} FROM wm_src)),
        derived AS (SELECT {derived_sql} FROM typed),
        checked AS (
            SELECT *, list_concat({_violations_sql(build_suite(contract), params, kinds)},
                                  {item_violations}) AS violations
            FROM derived
        ),
        ranked AS (
            SELECT *,
                CASE WHEN len(violations) = 0 THEN row_number() OVER (
                    PARTITION BY len(violations) = 0, {partition} ORDER BY _line) END AS _dup_rank,
                CASE WHEN len(violations) = 0 THEN first_value(_line) OVER (
                    PARTITION BY len(violations) = 0, {partition} ORDER BY _line) END AS _first_line
            FROM checked
        )
        SELECT * EXCLUDE (_dup_rank, _first_line, violations),
            {key_text} AS _key_text,
            CASE WHEN _dup_rank > 1 THEN [{{'rule': 'duplicate_key',
                'column': {literal(",".join(contract.key))},
                'message': 'duplicate key (' || {key_text} || ') of line ' || _first_line ||
                    {
            literal(
                " with the same updated_at"
                if contract.has_updated_at
                else "; this file has no updated_at, so the first row wins"
            )
        }}}]
            ELSE violations END AS violations
        FROM ranked"""
    )
