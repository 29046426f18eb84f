"""Load extract drops into DuckDB's `raw` schema, file by file, each file in one transaction.

- Drops load in date order; a file already loaded with the same checksum is skipped,
  so loading a drop twice changes nothing.
- A re-delivered file with different content replaces that drop's earlier version of it.
- A file that cannot be read as a whole is rejected whole (logged with the reason); the
  rest of the drop still loads.
- Rows that break the file's contract go to `raw.quarantine`; for every file,
  rows read = rows loaded + rows quarantined.
- The files of one drop load side by side (`workers`), each on its own connection and in
  its own transaction: much of a file's time is Python work (checksum, decoding, byte
  scans) or DuckDB steps that run on one thread, and another file's work fills that core.
"""

from __future__ import annotations

import functools
import logging
import os
import queue
import re
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from data_contracts.extracts import CONTRACTS_BY_FILE, ExtractContract
from ingest.encoding import DecodedFile, decode_bytes, sha256_of
from ingest.errors import FileRejected, IngestError
from ingest.raw_schema import ensure_raw_schema, items_table_columns, table_columns
from ingest.readers import ReadResult, read_csv, read_jsonl
from ingest.sql import PARSE_MACROS, ident
from ingest.validate import CheckedRows, check_rows, key_text_sql, lean_select

log = logging.getLogger(__name__)

DROP_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Drop:
    drop_date: date
    path: Path

    def files(self) -> list[str]:
        """Every file in the drop, as a path relative to it (hidden files included)."""
        return sorted(
            p.relative_to(self.path).as_posix() for p in self.path.rglob("*") if p.is_file()
        )


@dataclass
class FileLoad:
    drop_date: date
    source_file: str
    status: str  # loaded | rejected | unknown | unchanged
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    message: str = ""
    seconds: float = 0.0
    # where the seconds went: decode (read, checksum, decode), read, check, load (the
    # transaction that writes raw, quarantine and load log)
    phases: dict[str, float] = field(default_factory=dict)


@dataclass
class IngestResult:
    run_id: str
    drops: list[date] = field(default_factory=list)
    files: list[FileLoad] = field(default_factory=list)
    ignored: list[str] = field(
        default_factory=list
    )  # entries of the extracts root that are no drop
    held_back: list[date] = field(default_factory=list)  # drops after `up_to`, not loaded
    loaded_later: list[date] = field(default_factory=list)  # after `up_to`, loaded before

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)


def discover_drops(extracts_dir: Path) -> tuple[list[Drop], list[str]]:
    """Drop folders (named YYYY-MM-DD) in date order, and the names of anything else."""
    if not extracts_dir.is_dir():
        raise IngestError(f"extracts folder {extracts_dir} does not exist or is not a folder")
    drops, ignored = [], []
    for entry in sorted(extracts_dir.iterdir()):
        if entry.is_dir() and DROP_NAME.match(entry.name):
            try:
                drops.append(Drop(date.fromisoformat(entry.name), entry))
                continue
            except ValueError:
                pass
        ignored.append(entry.name)
    return drops, ignored


# Files loaded side by side by default. More than two rarely pays: DuckDB already spreads
# each query over every core, and each worker holds a whole file's bytes in memory.
DEFAULT_WORKERS = min(2, os.cpu_count() or 1)


def ingest_extracts(
    extracts_dir: Path,
    db_path: Path,
    on_file: Callable[[FileLoad], None] | None = None,
    on_drops: Callable[[list[Drop], int], None] | None = None,
    careful: bool = False,
    workers: int | None = None,
    up_to: date | None = None,
) -> IngestResult:
    """Load every drop under `extracts_dir` that is not loaded yet into `db_path`.

    `up_to`: load only drops dated on or before it (a run as of an earlier date replays
    what was known then); later ones are listed in `IngestResult.held_back` and left for
    a later run. Later drops an earlier run already loaded stay loaded:
    `IngestResult.loaded_later` lists them.

    `careful`: check every row with the careful pass of ingest.validate, the reference that
    the usual lean pass must agree with (slower; for tests). `workers`: files of a drop
    loaded at once (None: DEFAULT_WORKERS). Drops still load one after another, in date
    order, and `IngestResult.files` lists a drop's files in name order however they ran.
    """
    workers = DEFAULT_WORKERS if workers is None else workers
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    drops, ignored = discover_drops(extracts_dir)
    result = IngestResult(run_id=uuid.uuid4().hex[:12], ignored=ignored)
    later = [d.drop_date for d in drops if up_to is not None and d.drop_date > up_to]
    drops = [d for d in drops if up_to is None or d.drop_date <= up_to]
    for name in ignored:
        if not name.startswith(("_", ".")):
            log.warning("%s/%s is not a drop folder (YYYY-MM-DD); not loaded", extracts_dir, name)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(db_path))
    cursors: list[duckdb.DuckDBPyConnection] = []
    try:
        _prepare_connection(con)
        ensure_raw_schema(con)
        checksums = _last_checksums(con)
        if up_to is not None:
            result.loaded_later = sorted({d for d, _ in checksums if d > up_to})
            result.held_back = [d for d in later if d not in result.loaded_later]
        # Temp tables and macros belong to a connection: every worker gets its own.
        cursors = [con] + [_prepare_connection(con.cursor()) for _ in range(workers - 1)]
        if on_drops is not None:
            on_drops(drops, sum(len(d.files()) for d in drops))
        for drop in drops:
            result.drops.append(drop.drop_date)

            def load(source_file: str, connection: duckdb.DuckDBPyConnection, drop=drop):
                last = checksums.get((drop.drop_date, source_file))
                return load_file(connection, drop, source_file, result.run_id, last, careful)

            for loaded in _load_side_by_side(drop, load, cursors, on_file):
                result.files.append(loaded)
    finally:
        for cursor in cursors[1:]:
            cursor.close()
        con.close()
    return result


def _prepare_connection(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    con.execute("SET enable_progress_bar = false")
    con.execute(PARSE_MACROS).fetchall()
    return con


def _load_side_by_side(
    drop: Drop,
    load: Callable[[str, duckdb.DuckDBPyConnection], FileLoad],
    connections: list[duckdb.DuckDBPyConnection],
    on_file: Callable[[FileLoad], None] | None,
) -> list[FileLoad]:
    """Load a drop's files, as many at once as there are connections; in name order.

    The largest files start first, so that the small ones fill in beside them. When a load
    fails (an error, not a rejected file), files not started yet are not started, the ones
    running finish their transactions, and the error is raised: every file is then either
    wholly loaded or not at all, as when they ran one by one.
    """
    names = drop.files()

    def reported(loaded: FileLoad) -> FileLoad:
        if loaded.status == "loaded":
            log.info(
                "drop %s %s: %s read, %s loaded, %s quarantined (%.2f s)",
                drop.drop_date,
                loaded.source_file,
                f"{loaded.rows_read:,}",
                f"{loaded.rows_loaded:,}",
                f"{loaded.rows_quarantined:,}",
                loaded.seconds,
            )
        if on_file is not None:
            on_file(loaded)
        return loaded

    if len(connections) == 1 or len(names) < 2:
        return [reported(load(name, connections[0])) for name in names]
    free: queue.SimpleQueue[duckdb.DuckDBPyConnection] = queue.SimpleQueue()
    for connection in connections:
        free.put(connection)

    def load_on_a_free_connection(name: str) -> FileLoad:
        connection = free.get()
        try:
            return load(name, connection)
        finally:
            free.put(connection)

    def size(name: str) -> int:
        try:
            return (drop.path / name).stat().st_size
        except OSError:
            return 0

    loaded: dict[str, FileLoad] = {}
    failure: BaseException | None = None
    with ThreadPoolExecutor(len(connections), thread_name_prefix="ingest") as pool:
        futures = {
            pool.submit(load_on_a_free_connection, name): name
            for name in sorted(names, key=lambda name: (-size(name), name))
        }
        try:
            for future in as_completed(futures):
                if future.cancelled():
                    continue
                try:
                    outcome = future.result()
                except Exception as error:
                    if failure is not None:
                        log.error("drop %s %s: %s", drop.drop_date, futures[future], error)
                        continue
                    failure = error
                    for waiting in futures:
                        waiting.cancel()
                    continue
                # loads that finish after a failure are reported too: they committed
                loaded[futures[future]] = reported(outcome)
        except BaseException:
            # Interrupted (or `on_file` failed): files not started stay so, and the running
            # loads are interrupted too, rolling back, rather than finishing their files.
            for waiting in futures:
                waiting.cancel()
            for connection in connections:
                connection.interrupt()
            raise
    if failure is not None:
        raise failure
    return [loaded[name] for name in names]


def _last_checksums(con: duckdb.DuckDBPyConnection) -> dict[tuple[date, str], str]:
    """(drop date, source file) -> checksum of its latest load, for every file ever logged."""
    return {
        (drop, source_file): digest
        for drop, source_file, digest in con.execute(
            "SELECT drop_date, source_file, arg_max(sha256, finished_at) FROM raw.load_log "
            "GROUP BY ALL"
        ).fetchall()
    }


def load_file(
    con: duckdb.DuckDBPyConnection,
    drop: Drop,
    source_file: str,
    run_id: str,
    last_checksum: str | None,
    careful: bool = False,
) -> FileLoad:
    """`last_checksum`: of the latest load of this drop's file (None: it was never loaded)."""
    started = datetime.now()
    clock = time.perf_counter()
    path = drop.path / source_file
    # A link out of the drop (to a key, a config file, another export) is never read: its
    # text would reach the warehouse, the quarantine and the logs.
    outside = not path.resolve().is_relative_to(drop.path.resolve())
    data = b"" if outside else path.read_bytes()
    digest = sha256_of(data)
    if last_checksum == digest:
        return FileLoad(drop.drop_date, source_file, "unchanged", message="already loaded")
    contract = CONTRACTS_BY_FILE.get(source_file)
    log_row = {
        "run_id": run_id,
        "drop_date": drop.drop_date,
        "source_file": source_file,
        "sha256": digest,
        "size_bytes": len(data),
        "encoding": None,
        "rows_read": 0,
        "rows_loaded": 0,
        "rows_quarantined": 0,
        "extra_columns": None,
        "missing_columns": None,
        "read_method": None,
        "started_at": started,
    }
    checked: Checked | None = None
    rejected: FileRejected | None = None
    phases: dict[str, float] = {}
    if contract is not None:
        try:
            if outside:
                raise FileRejected(
                    source_file, "a symbolic link to a file outside the drop folder; not read"
                )
            decoded = decode_bytes(data, source_file, digest)
            phases["decode"] = time.perf_counter() - clock
            checked = _read_and_check(con, contract, drop.drop_date, decoded, path, phases, careful)
        except FileRejected as error:
            rejected = error
    # Reading and checking touch only this connection's temp tables; what changes raw
    # (and the load log) happens in one transaction.
    writing = time.perf_counter()
    con.execute("BEGIN TRANSACTION")
    try:
        if contract is None:
            outcome = FileLoad(
                drop.drop_date,
                source_file,
                "unknown",
                message=f"{source_file} is not an extract file named in EXTRACTS.md; not loaded",
            )
            log.warning("drop %s: %s", drop.drop_date, outcome.message)
        else:
            if last_checksum is not None:
                _forget_earlier_delivery(con, contract, drop.drop_date, source_file)
            if checked is not None:
                outcome = _load_rows(con, contract, drop, checked, run_id, log_row)
            else:
                outcome = FileLoad(drop.drop_date, source_file, "rejected", message=str(rejected))
                log.error("drop %s: rejected %s", drop.drop_date, rejected)
        outcome.seconds = time.perf_counter() - clock
        _write_load_log(con, log_row, outcome)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    outcome.phases = phases | {"load": time.perf_counter() - writing}
    return outcome


def _forget_earlier_delivery(
    con: duckdb.DuckDBPyConnection, contract: ExtractContract, drop: date, source_file: str
) -> None:
    """A changed re-delivery of a drop's file replaces what that drop loaded before."""
    tables = [contract.table] + ([contract.items.table] if contract.items else [])
    for table in tables:
        con.execute(
            f"DELETE FROM raw.{ident(table)} WHERE _drop_date = ? AND _source_file = ?",
            [drop, source_file],
        )
    con.execute(
        "DELETE FROM raw.quarantine WHERE drop_date = ? AND source_file = ?", [drop, source_file]
    )


@dataclass
class Checked:
    """A file read and checked (its rows: `rows`)."""

    decoded: DecodedFile
    read: ReadResult
    rows: CheckedRows


def _read_and_check(
    con: duckdb.DuckDBPyConnection,
    contract: ExtractContract,
    drop_date: date,
    decoded: DecodedFile,
    path: Path,
    phases: dict[str, float],
    careful: bool = False,
) -> Checked:
    clock = time.perf_counter()
    if contract.format == "jsonl":
        read: ReadResult = read_jsonl(con, decoded, contract)
    else:
        # DuckDB's CSV reader runs the lean pass as it reads, where it can (careful: the
        # reference path, which checks rows as the reader delivers them)
        lean = None if careful else functools.partial(lean_select, contract, drop_date)
        read = read_csv(con, path, decoded, contract, lean)
    phases["read"] = time.perf_counter() - clock
    rows = check_rows(
        con,
        contract,
        drop_date,
        control_lines=read.control_lines,
        careful=careful,
        in_line_order=read.in_line_order,
        lean=read.lean,
        encoding_problems=read.encoding_problems,
        views=False,
    )
    phases["check"] = time.perf_counter() - clock - phases["read"]
    return Checked(decoded, read, rows)


def _load_rows(
    con: duckdb.DuckDBPyConnection,
    contract: ExtractContract,
    drop: Drop,
    checked: Checked,
    run_id: str,
    log_row: dict,
) -> FileLoad:
    decoded, read = checked.decoded, checked.read
    loaded_at = datetime.now()
    source_file = contract.source_file

    names = [name for name, _ in table_columns(contract)]
    data_columns = [c.name for c in contract.columns]
    select = ", ".join([ident(n) for n in data_columns] + ["?", "?", "_line", "?", "_extra"])
    rows_loaded = con.execute(
        f"INSERT INTO raw.{ident(contract.table)} ({', '.join(map(ident, names))}) "
        f"SELECT {select} FROM {checked.rows.loadable}",
        [drop.drop_date, source_file, loaded_at],
    ).fetchall()[0][0]
    if contract.items is not None:
        item_names = [name for name, _ in items_table_columns(contract)]
        item_select = ", ".join(
            [f"p.{ident(k)}" for k in contract.key]
            + ["i._item_index"]
            + [f"i.{ident(c.name)}" for c in contract.items.columns]
            + ["?", "?", "i._line", "?"]
        )
        con.execute(
            f"INSERT INTO raw.{ident(contract.items.table)} ({', '.join(map(ident, item_names))}) "
            f"SELECT {item_select} FROM wm_checked_items AS i JOIN wm_checked AS p USING (_line) "
            f"WHERE p.violations IS NULL ORDER BY i._line, i._item_index",
            [drop.drop_date, source_file, loaded_at],
        )
    quarantined = _quarantine(con, contract, drop.drop_date, checked, run_id, loaded_at)
    if read.rows_read != rows_loaded + quarantined:
        raise IngestError(
            f"{source_file} in drop {drop.drop_date}: row accounting failed "
            f"(read {read.rows_read}, loaded {rows_loaded}, quarantined {quarantined})"
        )
    log_row.update(
        encoding=decoded.encoding,
        rows_read=read.rows_read,
        rows_loaded=rows_loaded,
        rows_quarantined=quarantined,
        extra_columns=read.extra_columns or None,
        missing_columns=read.missing_optional_columns or None,
        read_method=read.method,
    )
    notes = []
    if read.extra_columns:
        notes.append(f"unknown column(s) kept in _extra: {', '.join(read.extra_columns)}")
    if read.missing_optional_columns:
        notes.append(
            f"optional column(s) missing, loaded as empty: "
            f"{', '.join(read.missing_optional_columns)}"
        )
    for note in notes:
        log.warning("drop %s: %s: %s", drop.drop_date, source_file, note)
    return FileLoad(
        drop.drop_date,
        source_file,
        "loaded",
        rows_read=read.rows_read,
        rows_loaded=rows_loaded,
        rows_quarantined=quarantined,
        message="; ".join(notes),
    )


def _quarantine(
    con: duckdb.DuckDBPyConnection,
    contract: ExtractContract,
    drop: date,
    checked: Checked,
    run_id: str,
    quarantined_at: datetime,
) -> int:
    """Quarantine the rows that did not load: broken rules, then malformed rows, by line."""
    source_file, read = contract.source_file, checked.read
    bad = []
    if checked.rows.broken is not None:
        bad = con.execute(
            f"""SELECT _line, violations[1].rule, violations[1].column, violations[1].message,
                      {key_text_sql(contract)}, CAST(to_json(violations) AS VARCHAR)
               FROM {checked.rows.broken}"""
        ).fetchall()
    bad += [(line, rule, None, message, None, None) for line, rule, message, _ in read.malformed]
    if not bad:
        return 0
    bad.sort(key=lambda row: row[0])
    originals = read.original_text([row[0] for row in bad])
    malformed = {line: original for line, _, _, original in read.malformed}
    table = pa.table(
        {
            "run_id": [run_id] * len(bad),
            "drop_date": [drop] * len(bad),
            "source_file": [source_file] * len(bad),
            "line": [row[0] for row in bad],
            "column_name": [row[2] for row in bad],
            "rule": [row[1] for row in bad],
            "message": [row[3] for row in bad],
            "key_text": [row[4] for row in bad],
            "original_text": [malformed.get(row[0]) or originals.get(row[0]) for row in bad],
            "violations": [row[5] for row in bad],
            "quarantined_at": [quarantined_at] * len(bad),
        }
    )
    con.register("wm_quarantine_arrow", table)
    con.execute("INSERT INTO raw.quarantine SELECT * FROM wm_quarantine_arrow")
    con.unregister("wm_quarantine_arrow")
    return len(bad)


def _write_load_log(con: duckdb.DuckDBPyConnection, row: dict, outcome: FileLoad) -> None:
    row = row | {
        "status": outcome.status,
        "message": outcome.message or None,
        "finished_at": datetime.now(),
    }
    columns = list(row)
    con.execute(
        f"INSERT INTO raw.load_log ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
        [row[c] for c in columns],
    )


def quarantine_summary(db_path: Path) -> list[tuple[str, str, int]]:
    """(source_file, rule, rows) over the whole quarantine, for reports."""
    with duckdb.connect(str(db_path), read_only=True) as con:
        return con.execute(
            "SELECT source_file, rule, count(*) FROM raw.quarantine GROUP BY ALL ORDER BY ALL"
        ).fetchall()


__all__ = ["Drop", "FileLoad", "IngestResult", "discover_drops", "ingest_extracts"]
