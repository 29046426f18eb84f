"""The `raw` schema: append-only tables, one per extract file, plus the load log and quarantine.

Every raw row carries where it came from (`_drop_date`, `_source_file`, `_line`)
and when it was loaded; staging later picks the latest version of each key.
Timestamps are naive Asia/Shanghai wall time (offsets in the extracts are converted).
"""

from __future__ import annotations

import duckdb

from data_contracts.extracts import CONTRACTS, Column, ExtractContract, Kind
from ingest.sql import ident

SQL_TYPES = {
    Kind.TEXT: "VARCHAR",
    Kind.INTEGER: "BIGINT",
    Kind.DECIMAL: "DECIMAL(18, 4)",
    Kind.TIMESTAMP: "TIMESTAMP",
    Kind.DATE: "DATE",
}

LINEAGE_COLUMNS = (
    ("_drop_date", "DATE NOT NULL"),
    ("_source_file", "VARCHAR NOT NULL"),
    ("_line", "BIGINT NOT NULL"),
    ("_loaded_at", "TIMESTAMP NOT NULL"),
)

LOAD_LOG_DDL = """
CREATE TABLE IF NOT EXISTS raw.load_log (
    run_id VARCHAR NOT NULL,
    drop_date DATE NOT NULL,
    source_file VARCHAR NOT NULL,
    status VARCHAR NOT NULL,           -- loaded | rejected | unknown
    encoding VARCHAR,
    sha256 VARCHAR NOT NULL,
    size_bytes BIGINT NOT NULL,
    rows_read BIGINT NOT NULL,
    rows_loaded BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    extra_columns VARCHAR[],
    missing_columns VARCHAR[],
    read_method VARCHAR,
    message VARCHAR,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL
)
"""

QUARANTINE_DDL = """
CREATE TABLE IF NOT EXISTS raw.quarantine (
    run_id VARCHAR NOT NULL,
    drop_date DATE NOT NULL,
    source_file VARCHAR NOT NULL,
    line BIGINT NOT NULL,
    column_name VARCHAR,
    rule VARCHAR NOT NULL,
    message VARCHAR NOT NULL,
    key_text VARCHAR,
    original_text VARCHAR,
    violations JSON,                   -- every rule the row breaks, first one above
    quarantined_at TIMESTAMP NOT NULL
)
"""


def _column_defs(columns: tuple[Column, ...]) -> list[tuple[str, str]]:
    return [(c.name, SQL_TYPES[c.kind]) for c in columns]


def table_columns(contract: ExtractContract) -> list[tuple[str, str]]:
    return _column_defs(contract.columns) + list(LINEAGE_COLUMNS) + [("_extra", "JSON")]


def items_table_columns(contract: ExtractContract) -> list[tuple[str, str]]:
    assert contract.items is not None
    parent_key = [(k, SQL_TYPES[contract.column(k).kind]) for k in contract.key]
    return (
        parent_key
        + [("_item_index", "INTEGER NOT NULL")]
        + _column_defs(contract.items.columns)
        + list(LINEAGE_COLUMNS)
    )


def _ensure_table(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: list[tuple[str, str]],
    existing: dict[str, set[str]],
) -> None:
    """Create the table, or add the columns a newer contract added to one an older made."""
    if table not in existing:
        con.execute(
            f"CREATE TABLE raw.{ident(table)} ({', '.join(f'{ident(n)} {t}' for n, t in columns)})"
        )
        return
    for name, sql_type in columns:
        if name not in existing[table]:
            nullable_type = sql_type.replace(" NOT NULL", "")
            con.execute(f"ALTER TABLE raw.{ident(table)} ADD COLUMN {ident(name)} {nullable_type}")


def ensure_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("BEGIN TRANSACTION")  # one commit instead of one per table
    try:
        con.execute("CREATE SCHEMA IF NOT EXISTS raw")
        con.execute(LOAD_LOG_DDL)
        con.execute(QUARANTINE_DDL)
        existing: dict[str, set[str]] = {}
        # One look at the catalog instead of one per table (duckdb_columns(): information_schema
        # takes ~0.1 s to answer the first time).
        for table, column in con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() "
            "WHERE database_name = current_database() AND schema_name = 'raw'"
        ).fetchall():
            existing.setdefault(table, set()).add(column)
        for contract in CONTRACTS:
            _ensure_table(con, contract.table, table_columns(contract), existing)
            if contract.items is not None:
                _ensure_table(con, contract.items.table, items_table_columns(contract), existing)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
