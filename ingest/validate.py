"""Run a file's Great Expectations suite over its rows inside DuckDB.

Great Expectations validates one expectation at a time and returns failing row
indexes; at ingest we need, for every row, *which* rules it breaks, in one pass,
at the speed of DuckDB. So each expectation of the suite is compiled to a SQL
condition with the same meaning (the test suite checks that real Great
Expectations flags the same rows), and every row gets the list of its violations.

Most rows break nothing and hold values in the form exports usually write, so rows are
checked in two passes that together give exactly what the careful pass alone gives:

1. lean, every row: blank text to NULL, parse with the fast parsers (which settle the
   usual forms and leave the rest NULL), and test the suite's conditions. A row that
   breaks a condition, has a value the fast parser left unsettled (that reads as a type
   violation) or may hold a control character is a suspect. The others are final: their
   values are what the general parsers give and the careful pass would find nothing.
2. careful, suspects only: the general parsers and the violations list with messages.

Result: temp table `wm_checked` (parent rows) with typed columns, `_line`, `_extra`,
`_suspect` and `violations` (list of {rule, column, message}; NULL for a row that breaks
nothing, which costs less to store than an empty list), with `keep_text` also the
delivered text of typed columns as `<col>__text`; for JSON Lines also `wm_checked_items`.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import duckdb
import great_expectations as gx
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

# General parsers (timestamps: wm_ts_offset_parts, then wm_timestamp_from).
PARSERS = {
    Kind.INTEGER: "wm_integer",
    Kind.DECIMAL: "wm_decimal",
    Kind.DATE: "wm_date",
}
# Fast parsers: the general parser's value or NULL (unsettled).
FAST_PARSERS = {
    Kind.INTEGER: "wm_integer_fast",
    Kind.DECIMAL: "wm_decimal_fast",
    Kind.DATE: "wm_date_fast",
    Kind.TIMESTAMP: "wm_timestamp_fast",
}
KIND_WORDS = {
    Kind.INTEGER: "a whole number",
    Kind.DECIMAL: "a decimal number",
    Kind.TIMESTAMP: "a timestamp",
    Kind.DATE: "a date (YYYY-MM-DD)",
}


VIOLATIONS_TYPE = 'STRUCT(rule VARCHAR, "column" VARCHAR, message VARCHAR)[]'
EMPTY_VIOLATIONS = f"CAST([] AS {VIOLATIONS_TYPE})"
NO_VIOLATIONS = f"CAST(NULL AS {VIOLATIONS_TYPE})"


class UnsupportedExpectation(TypeError):
    """A suite uses an expectation that ingest cannot execute in SQL."""


def suite_parameters(drop_date: date) -> dict[str, object]:
    return {
        DROP_DATE: drop_date,
        DROP_END: datetime.combine(drop_date + timedelta(days=1), time()),
    }


def typed_query(
    columns: tuple[Column, ...], keep: list[str], source: str, fast: bool = False
) -> str:
    """Rows of `source` with empty text as NULL and every typed column parsed.

    General parsers (the default) in three layers, so that what a parser needs twice is
    computed once: blank the text, split timestamps that carry an offset, parse. With
    `fast`, the fast parsers instead: a value they leave unsettled is NULL.
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
        if fast and col.kind is Kind.INTEGER:
            cast = ident(f"{col.name}__cast")
            split.append(f"TRY_CAST({text} AS BIGINT) AS {cast}")
            parse.extend([text, f"wm_integer_settle({text}, {cast}) AS {name}"])
        elif fast:
            parse.extend([text, f"{FAST_PARSERS[col.kind]}({text}) AS {name}"])
        elif col.kind is Kind.TIMESTAMP:
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


@dataclass(frozen=True)
class CompiledSuite:
    """A suite as SQL: the conditions that flag a row, and how to list its violations."""

    conditions: list[str]  # every rule except control characters
    control_columns: list[str]  # text columns the control-character rule searches
    cases: list[str]  # per rule: CASE WHEN condition THEN {rule, column, message} END

    def control_condition(self, control_lines: Collection[int] | None) -> str | None:
        """Condition that holds for every row with a control character in a checked column.

        `control_lines`: the lines that hold one (so every other line holds none), or None
        when not known; then the row's text is searched, once over all columns.
        """
        if not self.control_columns or control_lines is not None and not control_lines:
            return None
        if control_lines is not None and len(control_lines) <= MAX_LISTED_LINES:
            return f"_line IN ({', '.join(str(int(line)) for line in sorted(control_lines))})"
        row_text = f"concat({', '.join(self.control_columns)})"
        return f"regexp_matches({row_text}, {literal(CONTROL_CHARS_REGEX)})"

    def any_broken(self, control_lines: Collection[int] | None = None) -> str:
        control = self.control_condition(control_lines)
        conditions = self.conditions + ([control] if control else [])
        return " OR ".join(f"({c})" for c in conditions) or "false"

    def violations(self) -> str:
        """The row's violations, in the suite's order (empty list when there are none)."""
        if not self.cases:
            return EMPTY_VIOLATIONS
        # Most rows are clean: test the conditions first and build the list only for rows
        # that break something (DuckDB evaluates a CASE branch only for the rows that take it).
        return (
            f"CASE WHEN {self.any_broken()} THEN "
            f"list_filter([{', '.join(self.cases)}], lambda v: v IS NOT NULL) "
            f"ELSE {EMPTY_VIOLATIONS} END"
        )


# A longer list of lines with control characters is searched for row by row instead.
MAX_LISTED_LINES = 1000


def compile_suite(
    suite: gx.ExpectationSuite, params: dict[str, object], kinds: dict[str, Kind]
) -> CompiledSuite:
    compiled = CompiledSuite([], [], [])
    for expectation in suite.expectations:
        rule = compile_expectation(expectation, params, kinds)
        if rule is None:
            continue
        condition, message = rule
        if isinstance(expectation, gxe.ExpectColumnValuesToNotMatchRegex):
            compiled.control_columns.append(ident(expectation.column))  # one search per row
        else:
            compiled.conditions.append(condition)
        meta = expectation.meta
        compiled.cases.append(
            f"CASE WHEN {condition} THEN {{'rule': {literal(meta['rule'])}, "
            f"'column': {_label_sql(meta['column'])}, 'message': {message}}} END"
        )
    return compiled


# The drop date a suite is compiled for once per file (or items) contract; a drop's own
# date then takes its place in the SQL text. (Building Great Expectations suites costs a few
# milliseconds, as much as checking a small delta file.)
_TEMPLATE_DATE = date(1111, 1, 1)


@functools.lru_cache(maxsize=64)
def _suite_template(contract: ExtractContract, items: bool) -> CompiledSuite:
    if items:
        assert contract.items is not None
        suite, columns = build_items_suite(contract), contract.items.columns
    else:
        suite, columns = build_suite(contract), contract.columns
    return compile_suite(suite, suite_parameters(_TEMPLATE_DATE), _kinds(columns))


@functools.lru_cache(maxsize=256)
def _compiled_suite(contract: ExtractContract, drop_date: date, items: bool) -> CompiledSuite:
    """A file's suite (or its items' suite) compiled for a drop date."""
    template = _suite_template(contract, items)
    replacements = [
        (literal(value), literal(suite_parameters(drop_date)[name]))
        for name, value in suite_parameters(_TEMPLATE_DATE).items()
    ] + [(str(_TEMPLATE_DATE), str(drop_date))]  # (in messages)

    def for_drop(sql: str) -> str:
        for template_text, drop_text in replacements:
            sql = sql.replace(template_text, drop_text)
        return sql

    return CompiledSuite(
        [for_drop(c) for c in template.conditions],
        list(template.control_columns),
        [for_drop(c) for c in template.cases],
    )


def _kinds(columns: tuple[Column, ...]) -> dict[str, Kind]:
    kinds = {c.name: c.kind for c in columns}
    kinds.update({f"{c.name}__text": c.kind for c in columns})
    return kinds


@dataclass(frozen=True)
class Level:
    """One level of rows to check: a file's rows, or the items nested in them."""

    table: str  # the result: wm_checked or wm_checked_items
    columns: tuple[Column, ...]
    suite: CompiledSuite
    source: str  # rows of delivered text: `keep` columns and one column per contract column
    keep: list[str]  # carried through unchanged
    row_key: list[str]  # identifies a row
    derived: dict[str, str] = field(default_factory=dict)  # name -> SQL over typed values
    # violations found elsewhere: the `keep` columns that hold them (NULL when there are
    # none), listed before the suite's (text in the wrong encoding) or after (an order's items)
    leading_violations: str | None = None
    extra_violations: str | None = None

    def typed_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.kind is not Kind.TEXT]

    def derived_sql(self) -> str:
        return ", ".join(["*"] + [f"{sql} AS {ident(n)}" for n, sql in self.derived.items()])

    def stored_columns(self, keep_text: bool) -> list[str]:
        """What the checked table keeps besides `_suspect` and `violations`."""
        found_elsewhere = (self.leading_violations, self.extra_violations)
        columns = [k for k in self.keep if k not in found_elsewhere]
        for c in self.columns:
            if c.kind is not Kind.TEXT and keep_text:
                columns.append(f"{c.name}__text")
            columns.append(c.name)
        return columns + list(self.derived)


def _careful_query(level: Level, source: str, keep_text: bool) -> str:
    """Every row of `source` parsed by the general parsers, with its violations."""
    found = level.suite.violations()
    if level.extra_violations:
        found = f"list_concat({found}, {ident(level.extra_violations)})"
    if level.leading_violations:
        found = f"list_concat({ident(level.leading_violations)}, {found})"
    return f"""WITH typed AS ({typed_query(level.columns, level.keep, source)}),
        derived AS (SELECT {level.derived_sql()} FROM typed)
        SELECT {", ".join(map(ident, level.stored_columns(keep_text)))}, true AS _suspect,
            nullif({found}, {EMPTY_VIOLATIONS}) AS violations
        FROM derived"""


def _lean_query(
    level: Level, control_lines: Collection[int] | None, keep_text: bool, source: str
) -> str:
    """Every row of `source` parsed by the fast parsers, flagged `_suspect` when it needs the
    careful pass. For the careful pass it keeps what that pass reads: the delivered text of
    typed columns (of suspects only, unless `keep_text`) and the extra violations."""
    suspect = level.suite.any_broken(control_lines)
    for extra in (level.leading_violations, level.extra_violations):
        if extra:
            suspect = f"{suspect} OR {ident(extra)} IS NOT NULL"
    columns = list(map(ident, level.keep))
    for c in level.columns:
        if c.kind is not Kind.TEXT:
            text = ident(f"{c.name}__text")
            columns.append(text if keep_text else f"CASE WHEN _suspect THEN {text} END AS {text}")
        columns.append(ident(c.name))
    columns += [ident(n) for n in level.derived] + ["_suspect"]
    return f"""WITH typed AS ({typed_query(level.columns, level.keep, source, fast=True)}),
        derived AS (SELECT {level.derived_sql()} FROM typed)
        SELECT {", ".join(columns)}
        FROM (SELECT *, coalesce({suspect}, false) AS _suspect FROM derived)"""


@dataclass(frozen=True)
class LeanRows:
    """The table the lean pass wrote, and how its rows' line numbers are found.

    A reader that runs the lean pass while it reads has no line numbers yet: its table
    numbers the records by rowid (in file order, from `first rowid`), so `line_sql` is
    "rowid - <first rowid> + 2" (the header is line 1).
    """

    table: str
    line_sql: str = "_line"
    in_line_order: bool = True  # the table holds its rows in line order
    suspects: int | None = None  # how many rows are suspects, where the reader counted them

    def relation(self) -> str:
        if self.line_sql == "_line":
            return self.table
        return f"(SELECT {self.line_sql} AS _line, * FROM {self.table})"


@dataclass
class _CheckedLevel:
    """Where a level's checked rows are: the lean table, whose rows hold unless the careful
    pass (or the duplicate-key rule) replaced them, and the careful table of those."""

    level: Level
    keep_text: bool
    lean: LeanRows | None  # None: the careful pass checked every row
    careful: bool = False  # the careful table holds rows of this file
    careful_rows_load: bool = False  # some of those break no rule (so they load)
    replaced_lean_rows: str | None = None  # a table of further `_line`s the careful table has
    view: bool = True  # keep view `level.table` up to date

    @property
    def careful_table(self) -> str:
        return f"{self.level.table}_careful"

    def _columns(self) -> str:
        return ", ".join(map(ident, self.level.stored_columns(self.keep_text)))

    def lean_rows(self) -> str:
        """The lean rows that stand, with the violations column (NULL)."""
        assert self.lean is not None
        replaced = (
            f" AND _line NOT IN (SELECT _line FROM {self.replaced_lean_rows})"
            if self.replaced_lean_rows
            else ""
        )
        return (
            f"SELECT {self._columns()}, _suspect, {NO_VIOLATIONS} AS violations "
            f"FROM {self.lean.relation()} WHERE NOT _suspect{replaced}"
        )

    def relation(self) -> str:
        """Every row, checked: what view `level.table` shows."""
        parts = [self.lean_rows()] if self.lean is not None else []
        if self.careful:
            parts.append(
                f"SELECT {self._columns()}, _suspect, violations FROM {self.careful_table}"
            )
        return f"({' UNION ALL '.join(parts)})"

    def create_view(self, con: duckdb.DuckDBPyConnection) -> None:
        if self.view:
            con.execute(f"CREATE OR REPLACE TEMP VIEW {self.level.table} AS {self.relation()}")

    def broken(self) -> str | None:
        """The rows that break a rule (None: there are none)."""
        if not self.careful:
            return None
        return f"(SELECT * FROM {self.careful_table} WHERE violations IS NOT NULL)"

    def loadable(self) -> str:
        """The rows that break no rule, in line order."""
        if self.lean is not None and self.lean.in_line_order and not self.careful_rows_load:
            return f"({self.lean_rows()})"  # the usual case needs no sort
        key = ", ".join(map(ident, self.level.row_key))
        return f"(SELECT * FROM {self.relation()} WHERE violations IS NULL ORDER BY {key})"


def check_level(
    con: duckdb.DuckDBPyConnection,
    level: Level,
    control_lines: Collection[int] | None = None,
    keep_text: bool = False,
    careful: bool = False,
    in_line_order: bool = False,
    lean: LeanRows | None = None,
    view: bool = True,
) -> _CheckedLevel:
    """Build view `level.table`: the lean pass over every row, the careful pass over suspects.

    `lean`: the lean pass has run already (a reader ran it while reading). `careful` runs
    the careful pass over every row instead: the reference the lean pass must agree with.
    `in_line_order`: `level.source` yields its rows in line order.
    """
    checked = _CheckedLevel(level, keep_text, lean, view=view)
    if careful:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {checked.careful_table} AS "
            f"{_careful_query(level, level.source, keep_text)}"
        )
        checked.careful = checked.careful_rows_load = True
        checked.create_view(con)
        return checked
    if lean is None:
        lean = LeanRows(f"{level.table}_lean", in_line_order=in_line_order)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {lean.table} AS "
            f"{_lean_query(level, control_lines, keep_text, level.source)}"
        )
        checked.lean = lean
    suspects = lean.suspects
    if suspects is None:
        suspects = con.execute(f"SELECT count(*) FROM {lean.table} WHERE _suspect").fetchall()[0][0]
    if suspects:
        # The careful pass reads the suspects' delivered text from the lean table.
        text = [ident(k) for k in level.keep] + [
            ident(c.name)
            if c.kind is Kind.TEXT
            else f"{ident(c.name + '__text')} AS {ident(c.name)}"
            for c in level.columns
        ]
        suspect_rows = f"(SELECT {', '.join(text)} FROM {lean.relation()} WHERE _suspect)"
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {checked.careful_table} AS "
            f"{_careful_query(level, suspect_rows, keep_text)}"
        )
        checked.careful = True
        checked.careful_rows_load = bool(
            con.execute(
                f"SELECT count(*) FROM {checked.careful_table} WHERE violations IS NULL"
            ).fetchall()[0][0]
        )
    checked.create_view(con)
    return checked


@dataclass(frozen=True)
class CheckedRows:
    """A file's checked rows, as relations for a SELECT (all of them: view `wm_checked`)."""

    loadable: str  # the rows that break no rule, in line order
    broken: str | None  # the rows that break one (None: there are none)


def _file_level(
    contract: ExtractContract,
    drop_date: date,
    source: str,
    keep: list[str],
    leading_violations: str | None = None,
) -> Level:
    """The level of a file's own rows (not its items)."""
    items = contract.items
    derived = {}
    if any(r.greater == LINE_VALUE for r in contract.pair_rules):
        derived[LINE_VALUE] = "qty * unit_price_cny"
    if items is not None and items.empty_allowed_when_status:
        allowed = ", ".join(literal(s) for s in items.empty_allowed_when_status)
        derived[ITEMS_PRESENT] = (
            f"(_item_count > 0 OR (status IN ({allowed}) AND coalesce(_items_type, 'NULL') "
            f"IN ('ARRAY', 'NULL')))"
        )
    return Level(
        table="wm_checked",
        columns=contract.columns,
        suite=_compiled_suite(contract, drop_date, items=False),
        source=source,
        keep=keep,
        row_key=["_line"],
        derived=derived,
        leading_violations=leading_violations,
        extra_violations="item_violations" if items is not None else None,
    )


def lean_select(contract: ExtractContract, drop_date: date, source: str) -> str:
    """The lean pass over `source` as one SELECT, for a reader to run while it reads.

    `source`: the file's rows of delivered text, `_extra` and one column per contract
    column, without line numbers (`check_rows(lean=...)` then says how to find them), and
    no control character in any of them. Files with items are checked level by level.
    """
    assert contract.items is None, "a file with items is checked by check_rows"
    level = _file_level(contract, drop_date, source, keep=["_extra"])
    return _lean_query(level, control_lines=(), keep_text=False, source=source)


def check_rows(
    con: duckdb.DuckDBPyConnection,
    contract: ExtractContract,
    drop_date: date,
    keep_text: bool = False,
    control_lines: Collection[int] | None = None,
    careful: bool = False,
    in_line_order: bool = False,
    lean: LeanRows | None = None,
    encoding_problems: Sequence[tuple[int, str | None, str]] = (),
    views: bool = True,
) -> CheckedRows:
    """Build views `wm_checked` (and `wm_checked_items`) from the reader's `wm_src` tables,
    or from the lean pass the reader ran (`lean`).

    The delivered text of typed columns (`<col>__text`) is kept for suspects only, unless
    `keep_text` (for running the suites through Great Expectations). `control_lines`: the
    lines that may hold a control character (None: any line may). `careful`: check every
    row with the careful pass (the reference for the lean one). `in_line_order`: `wm_src`
    yields its rows in `_line` order. `encoding_problems`: rows holding text in the other
    encoding than the file's, as (`_line`, column, message): they break rule
    mixed_encoding, listed first. `views`: keep views `wm_checked` (and `wm_checked_items`)
    (a statement each: loading a CSV file needs only the relations returned).
    """
    items = contract.items
    source, keep_items = "wm_src", []
    if items is not None:
        item_level = Level(
            table="wm_checked_items",
            columns=items.columns,
            suite=_compiled_suite(contract, drop_date, items=True),
            source="wm_src_items",
            keep=["_line", "_item_index"],
            row_key=["_line", "_item_index"],
            derived={LINE_VALUE: "qty * unit_price_cny"},
        )
        checked_items = check_level(con, item_level, control_lines, keep_text, careful)
        # An order breaks its contract when any of its items does: gather the few broken
        # items per order once, then join them to the orders (if there are any).
        broken = 0
        if checked_items.careful:
            broken = con.execute(
                f"""CREATE OR REPLACE TEMP TABLE wm_item_violations AS
                SELECT _line, flatten(list(violations ORDER BY _item_index)) AS item_violations
                FROM {checked_items.careful_table} WHERE violations IS NOT NULL GROUP BY _line"""
            ).fetchall()[0][0]
        if broken:
            source, in_line_order = "wm_src LEFT JOIN wm_item_violations USING (_line)", False
        else:
            source = f"(SELECT *, {NO_VIOLATIONS} AS item_violations FROM wm_src)"
        keep_items = ["_item_count", "_items_type", "item_violations"]

    keep = ["_line", "_extra"] + keep_items
    if encoding_problems:
        assert lean is None, "rows found by their line are checked by check_rows"
        lines, columns, messages = zip(*encoding_problems, strict=True)
        con.execute(
            """CREATE OR REPLACE TEMP TABLE wm_encoding_violations AS
            SELECT _line, list({'rule': 'mixed_encoding', 'column': "column",
                                'message': message} ORDER BY i) AS encoding_violations
            FROM (SELECT unnest(?::BIGINT[]) AS _line, unnest(?::VARCHAR[]) AS "column",
                         unnest(?::VARCHAR[]) AS message, unnest(range(?)) AS i)
            GROUP BY _line""",
            [list(lines), list(columns), list(messages), len(lines)],
        )
        source = f"(SELECT * FROM {source} LEFT JOIN wm_encoding_violations USING (_line))"
        in_line_order = False  # (the join)
        keep.append("encoding_violations")
    level = _file_level(
        contract,
        drop_date,
        source,
        keep,
        leading_violations="encoding_violations" if encoding_problems else None,
    )
    # (JSON Lines: loading joins the items to their orders through the views)
    views = views or items is not None
    checked = check_level(
        con, level, control_lines, keep_text, careful, in_line_order, lean, view=views
    )
    _mark_duplicate_keys(con, contract, checked)
    return CheckedRows(checked.loadable(), checked.broken())


def _mark_duplicate_keys(
    con: duckdb.DuckDBPyConnection, contract: ExtractContract, checked: _CheckedLevel
) -> None:
    """Among rows that pass every other rule, a repeated key (and updated_at) loses to the
    first occurrence. Grouping finds the few repeated keys; only their rows are touched:
    they move to (or are marked in) the careful table."""
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
    repeated = f"""SELECT {keys}, min(_line) AS first_line FROM {checked.relation()}
        WHERE violations IS NULL GROUP BY ALL HAVING count(*) > 1"""
    # Usually no key repeats: looking costs less than joining what repeats to every row.
    if not con.execute(f"SELECT count(*) FROM ({repeated})").fetchall()[0][0]:
        return
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE wm_duplicates AS
        SELECT c._line, [{{'rule': 'duplicate_key',
                'column': {literal(",".join(contract.key))},
                'message': 'duplicate key (' || {key_text} || ') of line '
                           || d.first_line || {literal(why)}}}] AS violations
        FROM {checked.relation()} AS c JOIN ({repeated}) AS d ON {same_key}
        WHERE c._line > d.first_line AND c.violations IS NULL"""
    )
    if checked.careful:
        con.execute(
            f"""UPDATE {checked.careful_table} AS c SET violations = d.violations
            FROM wm_duplicates AS d WHERE c._line = d._line"""
        )
    if checked.lean is not None:  # lean rows that lose move to the careful table
        moved = (
            f"SELECT l.* EXCLUDE (violations), d.violations "
            f"FROM ({checked.lean_rows()}) AS l JOIN wm_duplicates AS d USING (_line)"
        )
        if checked.careful:
            con.execute(f"INSERT INTO {checked.careful_table} {moved}")
        else:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {checked.careful_table} AS {moved}")
            checked.careful = True
        checked.replaced_lean_rows = "wm_duplicates"
    checked.create_view(con)


def key_text_sql(contract: ExtractContract) -> str:
    """The row's key as text ("order_no=SO-1, line_no=2"), for quarantine reports."""
    return " || ', ' || ".join(
        f"{literal(k)} || '=' || coalesce(CAST({ident(k)} AS VARCHAR), '')" for k in contract.key
    )
