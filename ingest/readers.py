"""Read a decoded extract into a DuckDB temp table of text values, one row per delivered row.

Every reader produces the same shape, so validation does not care where rows came
from:

- `wm_src`: `_line` (physical line in the file where the row starts), one VARCHAR
  column per contract column (NULL where the file lacks the column), `_extra`
  (unknown columns as JSON, NULL when there are none); for JSON Lines also
  `_item_count`.
- `wm_src_items` (JSON Lines only): `_line`, `_item_index`, one VARCHAR per item column.

Rows that could not be split into fields come back in `ReadResult.malformed`, with the
lines that may hold a control character (`ReadResult.control_lines`).

CSV is read by DuckDB's reader when every record sits on one physical line (the
usual case, and the fast one); files with multi-line quoted fields or blank lines
go through a careful line-by-line reader that keeps exact line numbers and can step
past a broken quote without losing the rest of the file.
"""

from __future__ import annotations

import bisect
import contextlib
import csv
import io
import json
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from data_contracts.extracts import ExtractContract
from data_contracts.suites import CONTROL_CHARS_REGEX
from ingest.encoding import UTF8_BOM, DecodedFile, MixedText
from ingest.errors import FileRejected
from ingest.sql import ident, literal
from ingest.validate import LeanRows

# ingest.validate.lean_select for one file: its rows of delivered text (a SELECT without
# line numbers) -> the lean pass over them
LeanSelect = Callable[[str], str]

# A quoted field may hold newlines; past this many lines an open quote is taken to be broken.
MAX_RECORD_LINES = 200


Malformed = tuple[int, str, str, str]  # line, rule, message, original text
EncodingProblem = tuple[int, str | None, str]  # the row's line, its column, message


@dataclass
class ReadResult:
    rows_read: int
    method: str  # "duckdb" or "lines"
    extra_columns: list[str] = field(default_factory=list)
    missing_optional_columns: list[str] = field(default_factory=list)
    # line number -> delivered text of that row, looked up only for quarantined rows
    original_text: Callable[[list[int]], dict[int, str]] = lambda lines: {}
    malformed: list[Malformed] = field(default_factory=list)
    in_line_order: bool = False  # `wm_src` yields its rows in `_line` order
    # `_line`s of the rows that may hold a control character; None: any row may
    control_lines: list[int] | None = None
    lean: LeanRows | None = None  # the reader ran the lean pass: its rows (no `wm_src`)
    # rows holding text in the other encoding than the file's: (`_line`, column, message)
    encoding_problems: list[EncodingProblem] = field(default_factory=list)


# The control characters of data_contracts.suites.CONTROL_CHARS_REGEX, as bytes: in UTF-8
# and GB18030 a byte below 0x80 always stands for that ASCII character, never for part of a
# longer one.
_CONTROL_BYTE = re.compile(CONTROL_CHARS_REGEX.encode("ascii"))
_OTHER_BYTES = bytes(b for b in range(256) if not _CONTROL_BYTE.match(bytes([b])))
# JSON can also write one as an escape: \b, \f, \u0000-\u001f, \u007f (or something that
# only looks like one, such as "\\b": that just costs the line a closer look).
_JSON_CONTROL_ESCAPE = re.compile(rb"\\(?:[bfBF]|[uU]00[01][0-9a-fA-F]|[uU]007[fF])")


def control_char_lines(data: bytes, json_escapes: bool = False) -> list[int]:
    """The physical lines (from 1) of `data` that hold a control character."""
    positions: list[int] = []
    if data.translate(None, _OTHER_BYTES):  # the control bytes alone: almost always empty
        positions = [m.start() for m in _CONTROL_BYTE.finditer(data)]
    if json_escapes:
        positions += [m.start() for m in _JSON_CONTROL_ESCAPE.finditer(data)]
    if not positions:
        return []
    newlines = np.flatnonzero(np.frombuffer(data, np.uint8) == ord("\n"))
    return sorted(set((np.searchsorted(newlines, positions) + 1).tolist()))


def _physical_lines(text: str) -> list[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _lines_lookup(text: str) -> Callable[[list[int]], dict[int, str]]:
    def lookup(wanted: list[int]) -> dict[int, str]:
        lines = _physical_lines(text)
        return {n: lines[n - 1] for n in wanted if 0 < n <= len(lines)}

    return lookup


# ---------------------------------------------------------------------------- CSV


def parse_header(text: str, contract: ExtractContract) -> tuple[list[str], list[str], list[str]]:
    """The file's column names, its unknown columns and the optional contract columns it lacks.

    Raises FileRejected when a key or required column is missing or a name repeats.
    """
    end = text.find("\n")  # (not split: that would copy the whole rest of the file)
    first_line = (text if end < 0 else text[:end]).rstrip("\r")
    try:
        header = next(csv.reader([first_line]))
    except (csv.Error, StopIteration):
        header = []
    header = [name.strip() for name in header]
    if not any(header):
        raise FileRejected(contract.source_file, "no header row: the first line is empty", line=1)
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise FileRejected(
            contract.source_file, f"the header repeats column(s) {', '.join(repeated)}", line=1
        )
    needed = [c.name for c in contract.columns if c.required or c.name in contract.key]
    missing_needed = [name for name in needed if name not in header]
    if missing_needed:
        raise FileRejected(
            contract.source_file,
            f"missing required column(s) {', '.join(missing_needed)}; "
            f"the header has: {', '.join(header)[:300]}",
            line=1,
        )
    known = {c.name for c in contract.columns}
    extra = [name or f"column_{i + 1}" for i, name in enumerate(header) if name not in known]
    missing_optional = [c.name for c in contract.columns if c.name not in header]
    return header, extra, missing_optional


def _src_select(header: list[str], contract: ExtractContract, positional: bool) -> str:
    """Select contract columns (by position c0..cN or by name) plus `_extra` as JSON."""

    def source(i: int) -> str:
        return ident(f"c{i}") if positional else ident(header[i] or f"column_{i + 1}")

    position = {name: i for i, name in enumerate(header)}
    parts = [
        f"{source(position[c.name])} AS {ident(c.name)}"
        if c.name in position
        else f"CAST(NULL AS VARCHAR) AS {ident(c.name)}"
        for c in contract.columns
    ]
    known = {c.name for c in contract.columns}
    extras = [(i, name or f"column_{i + 1}") for i, name in enumerate(header) if name not in known]
    if extras:
        pairs = ", ".join(f"{literal(name)}, {source(i)}" for i, name in extras)
        parts.append(f"CAST(json_object({pairs}) AS VARCHAR) AS _extra")
    else:
        parts.append("CAST(NULL AS VARCHAR) AS _extra")
    return ", ".join(parts)


def read_csv(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    decoded: DecodedFile,
    contract: ExtractContract,
    lean: LeanSelect | None = None,
) -> ReadResult:
    """`lean`: the lean pass of ingest.validate, for DuckDB's reader to run as it reads
    (then `ReadResult.lean` says where its rows are, and there is no `wm_src`)."""
    header, extra, missing_optional = parse_header(decoded.first_line(), contract)
    result = _read_csv_duckdb(con, path, decoded, contract, header, lean)
    if result is None:
        result = _read_csv_lines(con, decoded, contract, header)
    result.extra_columns = extra
    result.missing_optional_columns = missing_optional
    return result


# a blank line (LF or CRLF): one regex pass, less than half the time of two `find`s
_BLANK_LINE = re.compile(rb"\n\r?\n")


def _record_starts(data: bytes, start: int, end: int) -> tuple[np.ndarray, int] | None:
    """The lines where the records of `data[start:end]` (header first, no final line break)
    start, from line 2, and how many lines follow the header, when DuckDB's reader can read
    them with exact line numbers; None when not (then the line reader does).

    A line break is a record's end unless a quoted field is open: an odd number of quotes
    before it (RFC 4180 writes a quote inside a field as two). A blank line between records
    is skipped by DuckDB, which would shift the numbers, and a CR before a line break inside
    a field is kept by DuckDB but not by the line reader: those files go to it. (DuckDB's
    record count does not always betray a blank line: one on the edge of its read buffer
    can come back as a repeated record. So they are searched for.)
    """
    if data.find(b'"', start, end) < 0:  # the usual case: every record is one line
        if _BLANK_LINE.search(data, start, end) or data.endswith(b"\n", start, end):
            return None
        data_lines = data.count(b"\n", start, end)
        return np.arange(2, data_lines + 2), data_lines
    body = np.frombuffer(data, np.uint8, count=end - start, offset=start)
    breaks = np.flatnonzero(body == ord("\n"))
    quotes = np.flatnonzero(body == ord('"'))
    ends = np.searchsorted(quotes, breaks) % 2 == 0  # the line breaks that end a record
    if len(breaks) and not ends[0]:
        return None  # a header of several lines
    inside = breaks[~ends]
    if (body[inside - 1] == ord("\r")).any():
        return None
    record_ends = breaks[ends]
    gaps = np.diff(record_ends)
    if (
        (gaps == 1).any()
        or ((gaps == 2) & (body[record_ends[:-1] + 1] == ord("\r"))).any()
        or data.endswith(b"\n", start, end)
    ):
        return None  # a blank line
    return np.flatnonzero(ends) + 2, len(breaks)


def _read_csv_duckdb(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    decoded: DecodedFile,
    contract: ExtractContract,
    header: list[str],
    lean: LeanSelect | None,
) -> ReadResult | None:
    """DuckDB's reader; None when line numbers could not be kept exact."""
    # The text's line breaks and quotes, found in its bytes (in UTF-8 and GB18030 a "\n",
    # "\r" or '"' byte is always that character), without copying the whole text.
    data = decoded.data  # as delivered: a mixed file breaks its lines at the same bytes
    start = len(UTF8_BOM) if decoded.encoding == "utf-8-sig" else 0
    end = len(data) - 1 if data.endswith(b"\n") else len(data)  # no final line break
    found = _record_starts(data, start, end)
    if found is None:
        return None
    starts, data_lines = found
    one_per_line = len(starts) == data_lines
    control_lines = control_char_lines(decoded.data)
    if control_lines and not one_per_line:  # the lines of the records that hold them
        records = starts[np.searchsorted(starts, control_lines, side="right") - 1]
        control_lines = sorted(set(records[np.array(control_lines) >= 2].tolist()))
    select = _src_select(header, contract, positional=True)
    # The lean pass needs no line numbers unless a row is to be found by its line.
    run_lean = lean is not None and not control_lines and not decoded.mixed
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header))) + "}"
    reader = f"""read_csv(?, header = true, auto_detect = false, columns = {columns},
        delim = ',', quote = '"', escape = '"', strict_mode = true,
        store_rejects = true, rejects_table = 'wm_rejects', rejects_scan = 'wm_reject_scans',
        max_line_size = 10000000)"""
    table = "wm_checked_lean" if run_lean else "wm_records"
    query = lean(f"(SELECT {select} FROM {reader})") if run_lean else f"SELECT * FROM {reader}"
    # DuckDB reads UTF-8 only: other files go to it as a UTF-8 copy
    utf8 = decoded.encoding == "utf-8" and not decoded.mixed
    with contextlib.nullcontext(None) if utf8 else tempfile.TemporaryDirectory() as tmp:
        readable = path
        if tmp is not None:
            readable = Path(tmp) / "utf8.csv"
            readable.write_text(decoded.text, encoding="utf-8")
        con.execute("DROP TABLE IF EXISTS wm_rejects; DROP TABLE IF EXISTS wm_reject_scans")
        try:
            records = con.execute(
                f"CREATE OR REPLACE TEMP TABLE {table} AS {query}", [str(readable)]
            ).fetchall()[0][0]
        except duckdb.InterruptException:
            raise  # the load was stopped: not a file for the line reader
        except duckdb.Error:
            return None
    # Records keep the file's order, and a new table numbers its rows by rowid in that order
    # (from 0, or inside an open transaction from a large number): numbering them with
    # row_number() instead would read them on one thread.
    suspects = "count(*) FILTER (WHERE _suspect)" if run_lean else "NULL"
    first, last, rejects, suspect_count = con.execute(
        f"SELECT min(rowid), max(rowid), (SELECT count(*) FROM wm_rejects), {suspects} FROM {table}"
    ).fetchall()[0]
    rejected = []
    if rejects:
        if not one_per_line:
            return None  # where DuckDB's reader resumes after a broken record of several lines
        rejected = con.execute(
            "SELECT line, any_value(error_type), any_value(error_message), any_value(csv_line) "
            "FROM wm_rejects GROUP BY line ORDER BY line"
        ).fetchall()
    if records + len(rejected) != len(starts):
        return None
    by_rowid = first is None or last - first == records - 1
    numbered = (
        f"SELECT rowid - {first or 0} + 1 AS _rec, * FROM {table}"
        if by_rowid
        else f"SELECT row_number() OVER (ORDER BY rowid) AS _rec, * FROM {table}"
    )
    if not rejected and one_per_line:
        lines = "SELECT _rec + 1 AS _line, * EXCLUDE (_rec) FROM numbered"
    elif not rejected:  # records of several lines: the k-th starts on starts[k]
        numbers = pa.table({"_rec": np.arange(1, len(starts) + 1), "_line": starts})
        con.register("wm_record_lines_arrow", numbers)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE wm_record_lines AS SELECT * FROM wm_record_lines_arrow"
        )
        con.unregister("wm_record_lines_arrow")
        lines = """SELECT r._line, n.* EXCLUDE (_rec)
            FROM numbered AS n JOIN wm_record_lines AS r USING (_rec)"""
    else:
        # One record per physical line: the k-th good record sits on the k-th line not rejected.
        con.execute(
            "CREATE OR REPLACE TEMP TABLE wm_rejected_lines AS SELECT unnest(?::BIGINT[]) AS line",
            [[row[0] for row in rejected]],
        )
        lines = f"""SELECT g.line AS _line, n.* EXCLUDE (_rec) FROM numbered AS n JOIN (
                SELECT line, row_number() OVER (ORDER BY line) AS _rec
                FROM range(2, {data_lines + 2}) AS r(line)
                WHERE line NOT IN (SELECT line FROM wm_rejected_lines)
            ) AS g USING (_rec)"""
    in_line_order = one_per_line and not rejected  # else a join places the records
    lean_rows = None
    if not run_lean:
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW wm_src AS WITH numbered AS ({numbered}) "
            f"SELECT _line, {select} FROM ({lines})"
        )
    elif by_rowid and in_line_order:  # the usual case: the table as it is
        lean_rows = LeanRows(table, f"rowid - {first or 0} + 2", suspects=suspect_count)
    else:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE wm_checked_lean_lines AS "
            f"WITH numbered AS ({numbered}) {lines} ORDER BY _line"
        )
        lean_rows = LeanRows("wm_checked_lean_lines", suspects=suspect_count)
    record_lines = None if one_per_line else starts.tolist()
    return ReadResult(
        rows_read=records + len(rejected),
        method="duckdb",
        original_text=_records_lookup(decoded, record_lines),
        malformed=[
            (line, "malformed_row", f"{error_type.lower()}: {message}", original)
            for line, error_type, message, original in rejected
        ],
        control_lines=control_lines,
        in_line_order=in_line_order,
        lean=lean_rows,
        encoding_problems=_csv_encoding_problems(
            decoded,
            contract,
            header,
            _one_line_records if record_lines is None else _records_at(record_lines),
        ),
    )


def _records_lookup(
    decoded: DecodedFile, starts: list[int] | None
) -> Callable[[list[int]], dict[int, str]]:
    """Line -> the text of the record that starts there (`starts`: of records of several
    lines, in order; None: every record is one line). The file's text is decoded only when
    a record is looked up (for quarantined rows)."""

    def lookup(wanted: list[int]) -> dict[int, str]:
        if starts is None:
            return _lines_lookup(decoded.text)(wanted)
        lines = _physical_lines(decoded.text)
        found = {}
        for line in wanted:
            index = bisect.bisect_left(starts, line)
            if index < len(starts) and starts[index] == line:
                last = starts[index + 1] - 1 if index + 1 < len(starts) else len(lines)
                found[line] = "\n".join(lines[line - 1 : last])
        return found

    return lookup


def _records_at(starts: list[int]) -> Callable[[list[str], int], tuple[int, list[str] | None]]:
    """`record_at` for `_csv_encoding_problems` over records of several lines."""

    def record_at(lines: list[str], line: int) -> tuple[int, list[str] | None]:
        index = bisect.bisect_right(starts, line) - 1
        if index < 0:
            return line, None
        last = starts[index + 1] - 1 if index + 1 < len(starts) else len(lines)
        return starts[index], _split("\n".join(lines[starts[index] - 1 : last]))

    return record_at


def _read_csv_lines(
    con: duckdb.DuckDBPyConnection,
    decoded: DecodedFile,
    contract: ExtractContract,
    header: list[str],
) -> ReadResult:
    """Line-by-line reader: exact line numbers, multi-line fields, recovery from broken quotes."""
    lines = _physical_lines(decoded.text)
    width = len(header)
    split = _split_records(lines, width)
    if split is not None:
        rows, starts, originals = split
        malformed: list[Malformed] = []
    else:
        rows, starts, originals, malformed = _split_records_carefully(lines, width)
    table = pa.table(
        {"_line": pa.array(starts, pa.int64())}
        | {f"c{i}": pa.array([row[i] for row in rows], pa.string()) for i in range(width)}
    )
    con.register("wm_lines_arrow", table)
    con.execute("CREATE OR REPLACE TEMP TABLE wm_lines AS SELECT * FROM wm_lines_arrow")
    con.unregister("wm_lines_arrow")
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW wm_src AS "
        f"SELECT _line, {_src_select(header, contract, positional=True)} FROM wm_lines"
    )

    def record_of(line: int) -> tuple[int, list[str] | None]:
        index = bisect.bisect_right(starts, line) - 1
        if index < 0 or line > starts[index] + originals[starts[index]].count("\n"):
            return line, None  # on no record's lines (a malformed one)
        return starts[index], rows[index]

    return ReadResult(
        encoding_problems=_csv_encoding_problems(
            decoded, contract, header, lambda lines, line: record_of(line)
        ),
        rows_read=len(rows) + len(malformed),
        method="lines",
        original_text=lambda wanted: {n: originals.get(n, "") for n in wanted},
        malformed=malformed,
        control_lines=None,  # a record may span lines: its text is searched instead
        in_line_order=True,
    )


Records = tuple[list[list[str]], list[int], dict[int, str]]  # fields, start lines, texts


def _split_records(lines: list[str], width: int) -> Records | None:
    """The records of `lines[1:]` in one pass of the csv module, exactly as
    `_split_records_carefully` splits them; None when a record is malformed or would be
    assembled differently (then only the careful loop can tell what to do).

    The careful loop makes a csv reader per record; one reader over the whole text costs a
    fraction of that. A record it returns is the careful loop's when it spans the same
    lines, which `_assemble_record` decides (for a one-line record: an even number of
    quotes), and the reader read those lines, with their breaks, as `_split` would.
    """
    rows: list[list[str]] = []
    starts: list[int] = []
    originals: dict[int, str] = {}
    reader = csv.reader((line + "\n" for line in lines[1:]), strict=True)
    index = 1  # lines[index] starts the next record; lines[0] is the header
    try:
        for fields in reader:
            end = reader.line_num + 1  # lines[index:end] held this record
            if not fields or end == index + 1 and not lines[index].strip():
                index = end  # a blank line, which the careful loop skips as well
                continue
            if len(fields) != width:
                return None
            if end == index + 1:
                if lines[index].count('"') % 2:
                    return None
                record = lines[index]
            else:
                record, assembled_end = _assemble_record(lines, index)
                if record is None or assembled_end != end:
                    return None
            rows.append(fields)
            starts.append(index + 1)
            originals[index + 1] = record
            index = end
    except csv.Error:
        return None
    return rows, starts, originals


def _split_records_carefully(
    lines: list[str], width: int
) -> tuple[list[list[str]], list[int], dict[int, str], list[Malformed]]:
    """Record by record: a record that does not split is retried as its line alone, else
    quarantined as malformed, and the rest of the file is read on."""
    rows: list[list[str]] = []
    starts: list[int] = []
    originals: dict[int, str] = {}
    malformed: list[Malformed] = []
    index = 1  # lines[0] is the header
    while index < len(lines):
        line_no = index + 1
        if not lines[index].strip():
            index += 1
            continue
        record, end = _assemble_record(lines, index)
        fields = _split(record) if record is not None else None
        if fields is None or len(fields) != width:
            # A quote that never closes, or a wrong field count: try the line alone (a stray
            # quote inside an unquoted field is common in hand-made exports).
            alone = _split(lines[index])
            if alone is not None and len(alone) == width and '"' in lines[index]:
                record, end, fields = lines[index], index + 1, alone
            else:
                reason = (
                    "a quoted field is never closed"
                    if record is None
                    else f"expected {width} fields, found {len(fields) if fields else 0}"
                )
                original = record if record is not None and fields is not None else lines[index]
                malformed.append((line_no, "malformed_row", reason, original))
                index = end if record is not None and fields is not None else index + 1
                continue
        rows.append(fields)
        starts.append(line_no)
        originals[line_no] = record
        index = end
    return rows, starts, originals, malformed


def _assemble_record(lines: list[str], start: int) -> tuple[str | None, int]:
    """Join physical lines until quotes balance. Returns (record or None, next index)."""
    record = lines[start]
    end = start + 1
    while record.count('"') % 2 == 1:
        if end >= len(lines) or end - start >= MAX_RECORD_LINES:
            return None, start + 1
        record += "\n" + lines[end]
        end += 1
    return record, end


def _split(record: str) -> list[str] | None:
    try:
        return next(csv.reader(io.StringIO(record), strict=True))
    except (csv.Error, StopIteration):
        return None


def _one_line_records(lines: list[str], line: int) -> tuple[int, list[str] | None]:
    """The record on a physical line, where every record is one line."""
    return line, _split(lines[line - 1]) if line <= len(lines) else None


def _csv_encoding_problems(
    decoded: DecodedFile,
    contract: ExtractContract,
    header: list[str],
    record_at: Callable[[list[str], int], tuple[int, list[str] | None]],
) -> list[EncodingProblem]:
    """Rows with text in the other encoding, and the column of the field that holds it.
    `record_at(lines, line)`: the record that holds physical line `line`, as (the line it
    starts on, its fields)."""
    if not decoded.mixed:
        return []
    lines = _physical_lines(decoded.text)
    problems = []
    for mixed in decoded.mixed:
        if mixed.line == 1:
            continue  # the header: its names are matched as decoded
        row_line, fields = record_at(lines, mixed.line)
        index = next((i for i, value in enumerate(fields or []) if mixed.text in value), None)
        column = None
        if index is not None and index < len(header):
            column = header[index] or f"column_{index + 1}"
        problems.append((row_line, column, _mixed_message(contract, decoded, mixed, column)))
    return problems


def _mixed_message(
    contract: ExtractContract, decoded: DecodedFile, mixed: MixedText, column: str | None
) -> str:
    names = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "gb18030": "GB18030"}
    file_encoding, encoding = names[decoded.encoding], names[mixed.encoding]
    where = f"{contract.source_file} line {mixed.line}" + (f", {column}" if column else "")
    reading = (
        f"read as {file_encoding} it would load as '{mixed.as_file}'"
        if mixed.as_file is not None
        else f"it cannot be read as {file_encoding}"
    )
    return (
        f"{where}: mixed_encoding: '{mixed.text}' is {encoding} text in a {file_encoding} "
        f"file ({reading})"
    )


def _json_encoding_problems(
    decoded: DecodedFile, contract: ExtractContract, lines: pa.LargeStringArray
) -> list[EncodingProblem]:
    """Rows (lines) with text in the other encoding, and the field that holds it."""
    problems = []
    for mixed in decoded.mixed:
        column = None
        try:
            row = json.loads(lines[mixed.line - 1].as_py())
        except (ValueError, IndexError):
            row = None  # a malformed line: quarantined as such
        if isinstance(row, dict):
            column = _json_field_holding(row, contract, mixed.text)
        problems.append((mixed.line, column, _mixed_message(contract, decoded, mixed, column)))
    return problems


def _json_field_holding(row: dict, contract: ExtractContract, text: str) -> str | None:
    """The field of a JSON object whose value holds `text`, as a person names it."""

    def holds(value: object) -> bool:
        return isinstance(value, str) and text in value

    for column in contract.columns:
        value: object = row
        for key in column.json_path or (column.name,):
            value = value.get(key) if isinstance(value, dict) else None
        if holds(value):
            return column.source_name
    if contract.items is not None:
        items = row.get(contract.items.json_field)
        for i, item in enumerate(items if isinstance(items, list) else []):
            for column in contract.items.columns:
                if isinstance(item, dict) and holds(item.get(column.name)):
                    return f"{contract.items.json_field}[{i}].{column.name}"
    for key, value in row.items():  # an unknown key's value, or the key itself
        if text in key or text in json.dumps(value, ensure_ascii=False):
            return key
    return None


# ---------------------------------------------------------------------- JSON Lines


def _json_structure(contract: ExtractContract) -> dict:
    """The shape `from_json` reads: every contract field as text, nested as delivered."""
    structure: dict = {}
    for column in contract.columns:
        *parents, leaf = column.json_path or (column.name,)
        node = structure
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = "VARCHAR"
    if contract.items is not None:
        structure[contract.items.json_field] = [{c.name: "VARCHAR" for c in contract.items.columns}]
    return structure


def _line_array(decoded: DecodedFile) -> pa.LargeStringArray:
    """The file's physical lines, each with its line break (`_without_break` removes it, as
    `_physical_lines` does).

    Splitting in Python makes a string object per line and Arrow copies them again; here
    numpy finds the line breaks and Arrow takes the bytes as they are.
    """
    # (a UTF-8 file's bytes are valid UTF-8: decoding checked them)
    data, start = decoded.utf8()
    breaks = np.flatnonzero(np.frombuffer(data, np.uint8) == ord("\n"))
    offsets = np.concatenate(([start], breaks + 1, [len(data)])).astype(np.int64)
    if offsets[-1] == offsets[-2]:  # nothing after the last line break
        offsets = offsets[:-1]
    return pa.LargeStringArray.from_buffers(
        len(offsets) - 1, pa.py_buffer(offsets), pa.py_buffer(data)
    )


def _without_break(line: str) -> str:
    """A line of `_line_array` as `_physical_lines` has it: without "\n", then one "\r"."""
    line = line[:-1] if line.endswith("\n") else line
    return line[:-1] if line.endswith("\r") else line


def _without_break_sql(line: str) -> str:
    """`_without_break` in SQL."""
    cut = f"CASE WHEN suffix({line}, chr(10)) THEN left({line}, -1) ELSE {line} END"
    return f"CASE WHEN suffix({cut}, chr(13)) THEN left({cut}, -1) ELSE {cut} END"


def _object_line(line: str, parsed: str) -> str:
    """SQL: `line` holds a JSON object, where `parsed` is `try(from_json(line, ...))`.

    The parse is NULL exactly when the line is not valid JSON (or is `null`), and valid JSON
    whose first non-blank character is "{" is an object: so the one parse that reads the
    values also tells, without asking json_valid or json_type to parse the line again.
    """
    return (
        f"({parsed} IS NOT NULL AND (starts_with({line}, '{{') "
        f"OR starts_with(ltrim({line}, ' ' || chr(9) || chr(10) || chr(13)), '{{')))"
    )


def read_jsonl(
    con: duckdb.DuckDBPyConnection, decoded: DecodedFile, contract: ExtractContract
) -> ReadResult:
    lines = _line_array(decoded)
    table = pa.table(
        {"_line": pa.array(np.arange(1, len(lines) + 1, dtype=np.int64)), "line": lines}
    )
    items = contract.items
    top_level = {(c.json_path or (c.name,))[0] for c in contract.columns}
    if items is not None:
        top_level.add(items.json_field)
    known = ", ".join(map(literal, sorted(top_level)))
    structure = literal(json.dumps(_json_structure(contract)))
    items_sql = f"j.{ident(items.json_field)}" if items else "NULL"
    # The type of the items matters only for an order without any (validate: items_required),
    # so only such lines are parsed once more to ask for it.
    items_type = (
        f"CASE WHEN coalesce(len({items_sql}), 0) = 0 "
        f"THEN json_type(line, {literal('$.' + items.json_field)}) END"
        if items
        else "NULL"
    )
    # One pass parses every line that holds a JSON object: into a struct of text values
    # (numbers keep their written form), its unknown top-level keys (a row that has one
    # keeps its whole line in `_extra`) and, for an order without items, their type. The
    # text of the lines stays in Arrow: only malformed rows and `_extra` need it here. (A
    # line break at the end of a line is whitespace to JSON and to the blank test.)
    con.register("wm_jsonl_arrow", table)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE wm_json AS
        SELECT _line, ok, j, _unknown_keys,
               CASE WHEN len(_unknown_keys) > 0 THEN {_without_break_sql("line")} END AS _extra,
               CASE WHEN ok THEN {items_type} END AS _items_type,
               CASE WHEN NOT ok THEN {_without_break_sql("line")} END AS malformed
        FROM (SELECT _line, line, ok, CASE WHEN ok THEN parsed END AS j,
                     CASE WHEN ok THEN list_filter(json_keys(line), lambda k: k NOT IN ({known}))
                        END AS _unknown_keys
              FROM (SELECT _line, line, parsed, {_object_line("line", "parsed")} AS ok
                    FROM (SELECT _line, line, try(from_json(line, {structure})) AS parsed
                          FROM wm_jsonl_arrow WHERE NOT regexp_full_match(line, '\\s*'))))"""
    )
    con.unregister("wm_jsonl_arrow")
    good, rows, first = con.execute(
        "SELECT count(*) FILTER (WHERE ok), count(*), min(_line) FROM wm_json"
    ).fetchall()[0]
    if rows and not good:
        raise FileRejected(
            contract.source_file, "not JSON Lines: no line holds a JSON object", line=first
        )
    malformed = [
        (line_no, "malformed_json", "not a complete JSON object (truncated or broken line)", line)
        for line_no, line in con.execute(
            "SELECT _line, malformed FROM wm_json WHERE NOT ok ORDER BY _line"
        ).fetchall()
    ]
    extra = [
        row[0]
        for row in con.execute(
            "SELECT DISTINCT unnest(_unknown_keys) AS k FROM wm_json WHERE ok ORDER BY k"
        ).fetchall()
    ]
    columns = ", ".join(
        f"j.{'.'.join(ident(p) for p in (c.json_path or (c.name,)))} AS {ident(c.name)}"
        for c in contract.columns
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW wm_src AS
        SELECT _line, {columns}, _extra, coalesce(len({items_sql}), 0) AS _item_count,
               _items_type
        FROM wm_json WHERE ok"""
    )
    if items is not None:
        item_columns = ", ".join(f"item.{ident(c.name)} AS {ident(c.name)}" for c in items.columns)
        con.execute(
            f"""CREATE OR REPLACE TEMP VIEW wm_src_items AS
            WITH exploded AS (
                SELECT _line, unnest({items_sql}) AS item,
                       generate_subscripts({items_sql}, 1) AS _item_index
                FROM wm_json WHERE ok AND len({items_sql}) > 0
            )
            SELECT _line, _item_index - 1 AS _item_index, {item_columns} FROM exploded"""
        )
    return ReadResult(
        rows_read=rows,
        method="duckdb",
        extra_columns=extra,
        malformed=malformed,
        control_lines=control_char_lines(decoded.data, json_escapes=True),
        in_line_order=True,
        encoding_problems=_json_encoding_problems(decoded, contract, lines),
        original_text=lambda wanted: {
            n: _without_break(lines[n - 1].as_py()) for n in wanted if n <= len(lines)
        },
    )
