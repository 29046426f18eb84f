"""Great Expectations suites, one per extract file, built from `data_contracts.extracts`.

A suite validates the *parsed* form of a file: one row per delivered row, every
column under its contract name with its contract type, and for every non-text
column the delivered text beside it as `<column>__text` (so a type rule can point
at what was actually written). Each expectation's `meta` carries the quarantine
`rule` and the `column` a person would look for in the file.

Ingest executes these suites in DuckDB (`ingest.validate`) for speed; the test
suite runs the same suites through Great Expectations itself and checks that both
flag the same rows.
"""

from __future__ import annotations

from functools import cache

import great_expectations as gx
from great_expectations import expectations as gxe

from data_contracts.extracts import (
    Column,
    ExtractContract,
    ItemsContract,
    Kind,
    PairRule,
    TimeRole,
)

DROP_END = "drop_end"  # suite parameter: the first instant after the drop date (Asia/Shanghai)
DROP_DATE = "drop_date"

# Control characters other than tab, newline and carriage return (CRLF files).
CONTROL_CHARS_REGEX = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"

# Formats a delivered value must have; both Python `re` and RE2 (DuckDB) read these.
_DATE = r"\d{4}[-/](?:0?[1-9]|1[0-2])[-/](?:0?[1-9]|[12]\d|3[01])"
_TIME = r"(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,6})?)?"
TYPE_REGEX: dict[Kind, str] = {
    Kind.INTEGER: r"^\s*[+-]?\d+(?:\.0*)?\s*$",
    # scientific notation too: JSON writers use it for very small or large numbers
    # (Python's json writes 1e-05, pandas 4.44e-16); the value is then rounded to 4 places
    Kind.DECIMAL: r"^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$",
    Kind.DATE: rf"^\s*{_DATE}(?: 00:00(?::00)?)?\s*$",
    Kind.TIMESTAMP: rf"^\s*{_DATE}(?:[ T]{_TIME})?\s*(?:Z|[+-]\d{{2}}(?::?\d{{2}})?)?\s*$",
}

ITEMS_PRESENT = "items_present_or_not_needed"
LINE_VALUE = "line_value_cny"


def text_column(column: Column) -> str:
    """Name of the delivered text of a typed column in the validation frame."""
    return f"{column.name}__text"


def _meta(rule: str, column: str) -> dict:
    return {"rule": rule, "column": column}


def column_expectations(columns: tuple[Column, ...], prefix: str = "") -> list:
    """Per-column rules, in the order a person would fix them: readable, typed, present, valid."""
    found: list = []
    for col in columns:
        label = prefix + col.source_name
        raw = col.name if col.kind is Kind.TEXT else text_column(col)
        found.append(
            gxe.ExpectColumnValuesToNotMatchRegex(
                column=raw, regex=CONTROL_CHARS_REGEX, meta=_meta("control_chars", label)
            )
        )
        if col.kind is not Kind.TEXT:
            found.append(
                gxe.ExpectColumnValuesToMatchRegex(
                    column=raw, regex=TYPE_REGEX[col.kind], meta=_meta(f"type_{col.kind}", label)
                )
            )
    for col in columns:
        label = prefix + col.source_name
        if col.required:  # on the delivered text: a value of the wrong type is not missing
            raw = col.name if col.kind is Kind.TEXT else text_column(col)
            found.append(
                gxe.ExpectColumnValuesToNotBeNull(column=raw, meta=_meta("required", label))
            )
    for col in columns:
        label = prefix + col.source_name
        if col.allowed:
            found.append(
                gxe.ExpectColumnValuesToBeInSet(
                    column=col.name, value_set=list(col.allowed), meta=_meta("enum", label)
                )
            )
        if col.min_value is not None or col.max_value is not None:
            found.append(
                gxe.ExpectColumnValuesToBeBetween(
                    column=col.name,
                    min_value=col.min_value,
                    max_value=col.max_value,
                    strict_min=col.strict_min,
                    strict_max=col.strict_max,
                    meta=_meta("range", label),
                )
            )
        if col.forbidden:
            found.append(
                gxe.ExpectColumnValuesToNotBeInSet(
                    column=col.name, value_set=list(col.forbidden), meta=_meta("range", label)
                )
            )
        if col.time_role is TimeRole.EVENT:
            bound = DROP_END if col.kind is Kind.TIMESTAMP else DROP_DATE
            found.append(
                gxe.ExpectColumnValuesToBeBetween(
                    column=col.name,
                    max_value={"$PARAMETER": bound},
                    strict_max=col.kind is Kind.TIMESTAMP,
                    meta=_meta("event_time_after_drop", label),
                )
            )
    return found


def pair_expectations(rules: tuple[PairRule, ...], prefix: str = "") -> list:
    return [
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A=rule.greater,
            column_B=rule.lesser,
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            meta=_meta(rule.rule, f"{prefix}{rule.reported_column}"),
        )
        for rule in rules
    ]


@cache
def build_suite(contract: ExtractContract) -> gx.ExpectationSuite:
    """The suite for one extract file's rows (for JSON Lines: the parent objects)."""
    expectations = column_expectations(contract.columns)
    expectations += pair_expectations(contract.pair_rules)
    if contract.items is not None and contract.items.empty_allowed_when_status:
        expectations.append(
            gxe.ExpectColumnValuesToBeInSet(
                column=ITEMS_PRESENT,
                value_set=[True],
                meta=_meta("items_required", contract.items.json_field),
            )
        )
    # The file's key: later duplicates (same key and same updated_at) are quarantined;
    # the first occurrence loads (see EXTRACTS.md).
    key_columns = list(contract.key) + (["updated_at"] if contract.has_updated_at else [])
    key_meta = _meta("duplicate_key", ",".join(contract.key))
    expectations.append(
        gxe.ExpectColumnValuesToBeUnique(column=key_columns[0], meta=key_meta)
        if len(key_columns) == 1
        else gxe.ExpectCompoundColumnsToBeUnique(column_list=key_columns, meta=key_meta)
    )
    return gx.ExpectationSuite(name=contract.source_file, expectations=expectations)


@cache
def build_items_suite(contract: ExtractContract) -> gx.ExpectationSuite:
    """The suite for the nested items of a JSON Lines file (one row per item)."""
    items: ItemsContract = contract.items  # type: ignore[assignment]
    prefix = f"{items.json_field}[]."
    expectations = column_expectations(items.columns, prefix)
    expectations += pair_expectations(items.pair_rules, prefix)
    return gx.ExpectationSuite(
        name=f"{contract.source_file}#{items.json_field}", expectations=expectations
    )
