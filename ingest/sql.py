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
-- empty or blank text is NULL (a regex is cheaper here than trim, which copies)
CREATE OR REPLACE TEMP MACRO wm_text(t) AS
    CASE WHEN regexp_full_match(t, '[ \t]*') THEN NULL ELSE t END;
"""
