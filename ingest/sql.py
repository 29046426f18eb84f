"""Small helpers for writing DuckDB SQL safely: quoting identifiers and literals.

Values from users or files never become SQL text except through `literal`, which
only ever sees values from our own contracts; data rows always travel as parameters
or Arrow tables.
"""

from __future__ import annotations

from datetime import date, datetime

from data_contracts.extracts import Kind
from data_contracts.suites import TYPE_REGEX


def ident(name: str) -> str:
    """Quote an identifier (column or table name)."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: object) -> str:
    """A SQL literal for a contract constant (numbers, text, dates)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


def _re(pattern: str) -> str:
    return "'" + pattern.replace("'", "''") + "'"


# Parsing delivered text into typed values. Each parser accepts exactly the format of the
# contract's type regex (data_contracts.suites.TYPE_REGEX) and yields NULL otherwise, so
# "text present, value NULL" is a type violation. Inside that format DuckDB's own casts
# are exact and fast. Naive timestamps are Asia/Shanghai wall time; values with an offset
# are converted to it (China has no daylight saving, so +08:00 is exact). Stored
# timestamps are naive Asia/Shanghai wall time.
# Fast forms: the way exports write most values (full-width fields, one separator style,
# no surrounding blanks). A value that fully matches its FAST_REGEX also matches the type's
# TYPE_REGEX, and what the general parser would take apart DuckDB's cast reads directly, so
# `wm_<kind>_fast` gives the general parser's value at a fraction of its cost (one simple
# regex and a cast). Any other value (or a fast form that does not cast, 2025-02-30) is left
# unsettled, NULL: the lean pass (ingest.validate) sends its row to the general parser.
# tests/test_ingest_fast_path.py checks that both agree on every value it tries.
_FAST_MONTH, _FAST_DAY = r"(?:0[1-9]|1[0-2])", r"(?:0[1-9]|[12]\d|3[01])"
_FAST_DATE = rf"\d{{4}}(?:-{_FAST_MONTH}-{_FAST_DAY}|/{_FAST_MONTH}/{_FAST_DAY})"
_FAST_TIME = r"(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d"
FAST_REGEX: dict[Kind, str] = {
    # China Standard Time: +08:00 is the naive wall time itself, so only its text is cut off
    Kind.TIMESTAMP: rf"{_FAST_DATE}(?:[ T]{_FAST_TIME}(?:\+08:00)?)?",
    Kind.DATE: _FAST_DATE,
    Kind.DECIMAL: r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)",
    # settled without a regex (wm_integer_fast); this is the form it settles
    Kind.INTEGER: r"-?(?:0|[1-9]\d*)(?:\.0)?",
}
FAST_MACROS = f"""
-- a whole number as DuckDB writes it (or with ".0", as float exports do) casts back to its
-- own text: that one cast and compare settle it, no regex needed (v = TRY_CAST(t AS BIGINT),
-- passed in as a column so that it is computed once)
CREATE OR REPLACE TEMP MACRO wm_integer_settle(t, v) AS
    CASE WHEN CAST(v AS VARCHAR) = t OR CAST(v AS VARCHAR) || '.0' = t THEN v END;
CREATE OR REPLACE TEMP MACRO wm_integer_fast(t) AS wm_integer_settle(t, TRY_CAST(t AS BIGINT));
CREATE OR REPLACE TEMP MACRO wm_timestamp_fast(t) AS
    CASE WHEN regexp_full_match(t, {_re(FAST_REGEX[Kind.TIMESTAMP])})
        THEN TRY_CAST(left(t, 19) AS TIMESTAMP) END;
CREATE OR REPLACE TEMP MACRO wm_date_fast(t) AS
    CASE WHEN regexp_full_match(t, {_re(FAST_REGEX[Kind.DATE])}) THEN TRY_CAST(t AS DATE) END;
CREATE OR REPLACE TEMP MACRO wm_decimal_fast(t) AS
    CASE WHEN regexp_full_match(t, {_re(FAST_REGEX[Kind.DECIMAL])})
        THEN TRY_CAST(t AS DECIMAL(18, 4)) END;
"""
OFFSET_SUFFIX = r"\d:\d{2}(?::\d{2}(?:\.\d{1,6})?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)\s*$"
PARSE_MACROS = rf"""
CREATE OR REPLACE TEMP MACRO wm_offset_minutes(off) AS
    CASE
        WHEN off = '' THEN 480
        WHEN off = 'Z' THEN 0
        ELSE (CASE WHEN left(off, 1) = '-' THEN -1 ELSE 1 END) * (
            CAST(substr(replace(off, ':', ''), 2, 2) AS INTEGER) * 60
            + coalesce(TRY_CAST(nullif(substr(replace(off, ':', ''), 4, 2), '') AS INTEGER), 0))
    END;
CREATE OR REPLACE TEMP MACRO wm_ts_offset_parts(t) AS
    CASE WHEN regexp_matches(t, {_re(OFFSET_SUFFIX)}) THEN regexp_extract(
        replace(trim(t), '/', '-'),
        '^(\d{{4}}-\d{{1,2}}-\d{{1,2}}[ T]\d{{1,2}}:\d{{2}}(?::\d{{2}}(?:\.\d{{1,6}})?)?)'
        '\s*(Z|[+-]\d{{2}}(?::?\d{{2}})?)\s*$',
        ['local', 'off']) END;
-- p = wm_ts_offset_parts(t), passed in as a column so that it is computed once
CREATE OR REPLACE TEMP MACRO wm_timestamp_from(t, p) AS
    CASE
        WHEN NOT regexp_matches(t, {_re(TYPE_REGEX[Kind.TIMESTAMP])}) THEN NULL
        WHEN p IS NOT NULL
            THEN TRY_CAST(p.local AS TIMESTAMP) + to_minutes(480 - wm_offset_minutes(p.off))
        ELSE TRY_CAST(replace(trim(t), '/', '-') AS TIMESTAMP)
    END;
CREATE OR REPLACE TEMP MACRO wm_timestamp(t) AS wm_timestamp_from(t, wm_ts_offset_parts(t));
CREATE OR REPLACE TEMP MACRO wm_date(t) AS
    CASE WHEN regexp_matches(t, {_re(TYPE_REGEX[Kind.DATE])})
        THEN TRY_CAST(replace(trim(t), '/', '-') AS DATE) END;
CREATE OR REPLACE TEMP MACRO wm_integer(t) AS
    CASE WHEN regexp_matches(t, {_re(TYPE_REGEX[Kind.INTEGER])}) THEN TRY_CAST(t AS BIGINT) END;
CREATE OR REPLACE TEMP MACRO wm_decimal(t) AS
    CASE WHEN regexp_matches(t, {_re(TYPE_REGEX[Kind.DECIMAL])})
        THEN TRY_CAST(trim(t) AS DECIMAL(18, 4)) END;
-- empty or blank text is NULL. Text whose first byte sorts at or after '!' cannot be blank
-- (space and tab sort before it), and that one comparison settles almost every value.
-- (trim, not a regex: a regex is compiled once per column of every statement)
CREATE OR REPLACE TEMP MACRO wm_text(t) AS
    CASE WHEN t >= '!' THEN t WHEN trim(t, ' ' || chr(9)) = '' THEN NULL ELSE t END;
{FAST_MACROS}"""
