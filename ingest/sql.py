"""Small helpers for writing DuckDB SQL safely: quoting identifiers and literals.

Values from users or files never become SQL text except through `literal`, which
only ever sees values from our own contracts; data rows always travel as parameters
or Arrow tables.
"""

from __future__ import annotations

from datetime import date, datetime


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


# Parsing delivered text into typed values. Naive timestamps are Asia/Shanghai wall
# time; values with an offset are converted to it (China has no daylight saving, so a
# fixed +08:00 is exact). Stored timestamps are naive Asia/Shanghai wall time.
PARSE_MACROS = r"""
CREATE OR REPLACE TEMP MACRO wm_offset_minutes(off) AS
    CASE
        WHEN off = '' THEN 480
        WHEN off = 'Z' THEN 0
        ELSE (CASE WHEN left(off, 1) = '-' THEN -1 ELSE 1 END) * (
            CAST(substr(replace(off, ':', ''), 2, 2) AS INTEGER) * 60
            + coalesce(TRY_CAST(nullif(substr(replace(off, ':', ''), 4, 2), '') AS INTEGER), 0))
    END;
CREATE OR REPLACE TEMP MACRO wm_ts_parts(t) AS regexp_extract(
    replace(trim(t), '/', '-'),
    '^(\d{4}-\d{1,2}-\d{1,2})(?:[ T](\d{1,2}:\d{2})(:\d{2}(?:\.\d{1,6})?)?)?'
    '\s*(Z|[+-]\d{2}(?::?\d{2})?)?$',
    ['d', 'hm', 'sec', 'off']);
CREATE OR REPLACE TEMP MACRO wm_ts_from_parts(p) AS
    CASE WHEN p.d = '' THEN NULL ELSE
        try_strptime(
            p.d || ' ' || coalesce(nullif(p.hm, ''), '00:00') || coalesce(nullif(p.sec, ''), ':00'),
            ['%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%d %H:%M:%S'])
        + to_minutes(480 - wm_offset_minutes(p.off))
    END;
CREATE OR REPLACE TEMP MACRO wm_timestamp(t) AS CAST(wm_ts_from_parts(wm_ts_parts(t)) AS TIMESTAMP);
CREATE OR REPLACE TEMP MACRO wm_date(t) AS CAST(
    try_strptime(regexp_extract(replace(trim(t), '/', '-'),
        '^(\d{4}-\d{1,2}-\d{1,2})(?: 00:00(?::00)?)?$', 1), '%Y-%m-%d') AS DATE);
CREATE OR REPLACE TEMP MACRO wm_integer(t) AS
    CASE WHEN regexp_full_match(t, '\s*[+-]?\d+(\.0*)?\s*')
        THEN TRY_CAST(TRY_CAST(trim(t) AS DECIMAL(38, 6)) AS BIGINT) END;
CREATE OR REPLACE TEMP MACRO wm_decimal(t) AS
    CASE WHEN regexp_full_match(t, '\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*')
        THEN TRY_CAST(TRY_CAST(trim(t) AS DECIMAL(38, 10)) AS DECIMAL(18, 4)) END;
CREATE OR REPLACE TEMP MACRO wm_text(t) AS CASE WHEN trim(t) = '' THEN NULL ELSE t END;
"""
