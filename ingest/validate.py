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
    CONTROL_CHARS_REGEX,
    DROP_DATE,
    DROP_END,
    ITEMS_PRESENT,
    LINE_VALUE,
    TYPE_REGEX,
    build_items_suite,
    build_suite,
)
from ingest.sql import ident, literal

PARSERS = {
    Kind.INTEGER: "wm_integer",
    Kind.DECIMAL: "wm_decimal",
    Kind.DATE: "wm_date",
}
KIND_WORDS = {
    Kind.INTEGER: "a whole number",
    Kind.DECIMAL: "a decimal number",
    Kind.TIMESTAMP: "a timestamp",
    Kind.DATE: "a date (YYYY-MM-DD)",
}


EMPTY_VIOLATIONS = 'CAST([] AS STRUCT(rule VARCHAR, "column" VARCHAR, message VARCHAR)[])'


class UnsupportedExpectation(TypeError):
    """A suite uses an expectation that ingest cannot execute in SQL."""


def suite_parameters(drop_date: date) -> dict[str, object]:
    return {
        DROP_DATE: drop_date,
        DROP_END: datetime.combine(drop_date + timedelta(days=1), time()),
    }


def typed_query(columns: tuple[Column, ...], keep: list[str], source: str) -> str:
    """Rows of `source` with empty text as NULL and every typed column parsed.

    Three layers, so that what a parser needs twice is computed once: blank the text,
    split timestamps that carry an offset, parse.
    """
    blank, split, parse = list(keep), ["*"], list(keep)
    for col in columns:
        name = ident(col.name)
        if col.kind is Kind.TEXT:
            blank.append(f"wm_text({name}) AS {name}")
            parse.append(name)
            continue
        text = ident(f"{col.name}__text")
        blank.append(f"wm_text({name}) AS {text}")
        if col.kind is Kind.TIMESTAMP:
            parts = ident(f"{col.name}__parts")
            split.append(f"wm_ts_offset_parts({text}) AS {parts}")
            parse.extend([text, f"wm_timestamp_from({text}, {parts}) AS {name}"])
        else:
            parse.extend([text, f"{PARSERS[col.kind]}({text}) AS {name}"])
    return (
        f"SELECT {', '.join(parse)} FROM (SELECT {', '.join(split)} "
        f"FROM (SELECT {', '.join(blank)} FROM {source}))"
    )


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
        # `<col>__text` must have the type's format and parse into `<col>`. The parsers
        # (ingest.sql) accept exactly TYPE_REGEX and also reject what no regex sees
        # (2025-02-30), so "text present, value missing" is the violation.
        name = column.removesuffix("__text")
        kind = kinds[name]
        if expectation.regex != TYPE_REGEX[kind]:
            raise UnsupportedExpectation(f"{column}: only the contract's type regex can run")
        return (
            f"{col} IS NOT NULL AND {ident(name)} IS NULL",
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
    cases, conditions, control_columns = [], [], []
    for expectation in suite.expectations:
        compiled = compile_expectation(expectation, params, kinds)
        if compiled is None:
            continue
        condition, message = compiled
        if isinstance(expectation, gxe.ExpectColumnValuesToNotMatchRegex):
            control_columns.append(ident(expectation.column))  # gated on the whole row below
        else:
            conditions.append(condition)
        meta = expectation.meta
        cases.append(
            f"CASE WHEN {condition} THEN {{'rule': {literal(meta['rule'])}, "
            f"'column': {_label_sql(meta['column'])}, 'message': {message}}} END"
        )
    if not cases:
        return EMPTY_VIOLATIONS
    # Most rows are clean: test the conditions first and build the list only for rows that
    # break something (DuckDB evaluates a CASE branch only for the rows that take it).
    if control_columns:
        # One search over the whole row instead of one per column.
        row_text = f"concat({', '.join(control_columns)})"
        conditions.append(f"regexp_matches({row_text}, {literal(CONTROL_CHARS_REGEX)})")
    any_broken = " OR ".join(f"({condition})" for condition in conditions)
    return (
        f"CASE WHEN {any_broken} THEN list_filter([{', '.join(cases)}], lambda v: v IS NOT NULL) "
        f"ELSE {EMPTY_VIOLATIONS} END"
    )


def check_rows(
    con: duckdb.DuckDBPyConnection,
    contract: ExtractContract,
    drop_date: date,
    keep_text: bool = False,
) -> None:
    """Build `wm_checked` (and `wm_checked_items`) from the reader's `wm_src` tables.

    The delivered text of typed columns (`<col>__text`) is dropped once the violations
    are known, unless `keep_text` (for running the suites through Great Expectations).
    """
    params = suite_parameters(drop_date)
    kinds = {c.name: c.kind for c in contract.columns}
    kinds.update({f"{c.name}__text": c.kind for c in contract.columns})

    item_violations, source, keep_items = EMPTY_VIOLATIONS, "wm_src", []
    items = contract.items
    if items is not None:
        item_kinds = {c.name: c.kind for c in items.columns}
        item_kinds.update({f"{c.name}__text": c.kind for c in items.columns})
        typed = typed_query(items.columns, ["_line", "_item_index"], "wm_src_items")
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE wm_checked_items AS
            WITH typed AS ({typed}),
            derived AS (SELECT *, qty * unit_price_cny AS {LINE_VALUE} FROM typed)
            SELECT *, {_violations_sql(build_items_suite(contract), params, item_kinds)}
                AS violations
            FROM derived"""
        )
        # An order breaks its contract when any of its items does: gather the few broken
        # items per order once, then join them to the orders.
        con.execute(
            """CREATE OR REPLACE TEMP TABLE wm_item_violations AS
            SELECT _line, flatten(list(violations ORDER BY _item_index)) AS item_violations
            FROM wm_checked_items WHERE len(violations) > 0 GROUP BY _line"""
        )
        item_violations = f"coalesce(item_violations, {EMPTY_VIOLATIONS})"
        source = "wm_src LEFT JOIN wm_item_violations USING (_line)"
        keep_items = ["item_violations"]

    keep = ["_line", "_extra"] + (["_item_count", "_items_type"] if items else []) + keep_items
    typed = typed_query(contract.columns, keep, source)
    dropped_text = (
        []
        if keep_text
        else [ident(f"{c.name}__text") for c in contract.columns if c.kind is not Kind.TEXT]
    )
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
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE wm_checked AS
        WITH typed AS ({typed}),
        derived AS (SELECT {derived_sql} FROM typed)
        SELECT * EXCLUDE ({", ".join(["_line"] + keep_items + dropped_text)}), _line,
            list_concat({_violations_sql(build_suite(contract), params, kinds)},
                        {item_violations}) AS violations
        FROM derived"""
    )
    _mark_duplicate_keys(con, contract)


def _mark_duplicate_keys(con: duckdb.DuckDBPyConnection, contract: ExtractContract) -> None:
    """Among rows that pass every other rule, a repeated key (and updated_at) loses to the
    first occurrence. Grouping finds the few repeated keys; only their rows are touched."""
    key_columns = list(contract.key) + (["updated_at"] if contract.has_updated_at else [])
    keys = ", ".join(ident(k) for k in key_columns)
    same_key = " AND ".join(f"c.{ident(k)} IS NOT DISTINCT FROM d.{ident(k)}" for k in key_columns)
    key_text = " || ', ' || ".join(
        f"{literal(k)} || '=' || coalesce(CAST(c.{ident(k)} AS VARCHAR), '')" for k in contract.key
    )
    why = (
        " with the same updated_at"
        if contract.has_updated_at
        else "; this file has no updated_at, so the first row wins"
    )
    con.execute(
        f"""UPDATE wm_checked AS c
        SET violations = [{{'rule': 'duplicate_key', 'column': {literal(",".join(contract.key))},
                           'message': 'duplicate key (' || {key_text} || ') of line '
                                      || d.first_line || {literal(why)}}}]
        FROM (SELECT {keys}, min(_line) AS first_line FROM wm_checked
              WHERE len(violations) = 0 GROUP BY ALL HAVING count(*) > 1) AS d
        WHERE {same_key} AND c._line > d.first_line AND len(c.violations) = 0"""
    )


def key_text_sql(contract: ExtractContract) -> str:
    """The row's key as text ("order_no=SO-1, line_no=2"), for quarantine reports."""
    return " || ', ' || ".join(
        f"{literal(k)} || '=' || coalesce(CAST({ident(k)} AS VARCHAR), '')" for k in contract.key
    )
