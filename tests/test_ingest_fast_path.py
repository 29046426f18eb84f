"""The fast paths of ingest give exactly what the careful ones give.

- Fast parsers: a value they settle has the general parser's value.
- Blank test: the cheap first-byte test agrees with the regex alone.
- Lean pass: checking rows lean (suspects only through the careful pass) yields the same
  typed values and violations as the careful pass over every row.
- Control-character scan: the lines it reports are exactly the lines the suite's regex
  finds a control character on.
- JSON Lines split with numpy: the same lines as splitting the text.
- CSV records split in one pass: the same records as the record-by-record loop, which
  alone decides about malformed ones.
- A whole dirty generated world loads the same either way.
"""

from __future__ import annotations

import functools
import itertools
import json
import random
import re
from datetime import date
from pathlib import Path

import duckdb
import pytest
from conftest import query, raw_contents
from extract_builder import DROP, good_order, write_file
from test_contracts_conformance import _dirty_file

from data_contracts.extracts import CONTRACTS, CONTRACTS_BY_FILE, Kind
from data_contracts.suites import (
    CONTROL_CHARS_REGEX,
    TYPE_REGEX,
    build_items_suite,
    build_suite,
)
from ingest.encoding import decode_bytes, decode_file
from ingest.load import ingest_extracts
from ingest.readers import (
    _line_array,
    _object_line,
    _physical_lines,
    _split_records,
    _split_records_carefully,
    _without_break,
    _without_break_sql,
    control_char_lines,
    read_csv,
    read_jsonl,
)
from ingest.sql import FAST_REGEX, PARSE_MACROS
from ingest.validate import (
    _compiled_suite,
    _kinds,
    check_rows,
    compile_suite,
    lean_select,
    suite_parameters,
)

GENERAL = {
    Kind.TIMESTAMP: "wm_timestamp",
    Kind.DATE: "wm_date",
    Kind.DECIMAL: "wm_decimal",
    Kind.INTEGER: "wm_integer",
}
FAST = {kind: f"{name}_fast" for kind, name in GENERAL.items()}
DROP_DATE = date(2025, 3, 1)


def _values(kind: Kind, count: int = 4000) -> list[str]:
    """Values in and around the forms the fast parsers settle: edge fields, mutations."""
    rng = random.Random(f"fast-{kind}")
    if kind is Kind.INTEGER:
        seeds = ["0", "-0", "+0", "7", "-7", "+7", "12.0", "12.00", "12.5", "012", "1e3", "0x10"]
        seeds += ["9223372036854775807", "9223372036854775808", "-9223372036854775808", "1_000"]
        seeds += [str(rng.randint(-(10**12), 10**12)) for _ in range(300)]
        seeds += [f"{rng.randint(0, 10**6)}.0" for _ in range(100)]
        alphabet = "0123456789.+- e_x\t"
    elif kind is Kind.DECIMAL:
        seeds = ["0", "0.00", "12.5", "-3.25", "+7", ".5", "5.", "123456789012345678.5", "1e5"]
        seeds += ["00012.000", "-0", "1.23456", "99999999999999.9999", "100000000000000"]
        alphabet = "0123456789.+- e,_\t"
    else:
        years, months = (
            ["2025", "0999", "0000", "9999", "1970"],
            ["00", "01", "02", "09", "12", "13"],
        )
        days = ["00", "01", "28", "29", "30", "31", "32"]
        stamps = [f"{y}-{m}-{d}" for y, m, d in itertools.product(years, months, days)]
        seeds = stamps + [s.replace("-", "/") for s in stamps] + ["2025-1-5", "2025/02-01"]
        valid = [
            f"{rng.randint(1990, 2030)}-{rng.randint(1, 12):02}-{rng.randint(1, 28):02}"
            for _ in range(300)
        ]
        seeds += valid + [v.replace("-", "/") for v in valid]
        if kind is Kind.TIMESTAMP:
            times = ["00:00:00", "23:59:59", "24:00:00", "23:60:00", "23:59:60", "9:05:00"]
            times += [f"{rng.randint(0, 23):02}:{rng.randint(0, 59):02}:{rng.randint(0, 59):02}"]
            times += ["12:30", "12:30:00.5", "12:30:00.123456"]
            zones = ["", "+08:00", "+0800", "+08", "Z", "+09:00", "-05:00", " +08:00"]
            seeds = seeds + [
                f"{rng.choice(valid).replace('-', sep)}{gap}{t}{z}"
                for sep, gap, t, z in itertools.product("-/", [" ", "T", "  "], times, zones)
            ]
            seeds += [
                f"{d.replace('-', sep)}{gap}{rng.randint(0, 23):02}:{rng.randint(0, 59):02}:"
                f"{rng.randint(0, 59):02}{zone}"
                for d in valid
                for sep, gap, zone in [("-", " ", ""), ("/", " ", ""), ("-", "T", "+08:00")]
            ]
        seeds += ["2025-03-01 00:00", "2025-03-01 00:00:00"]
        alphabet = "0123456789-/: T+Z.\t"
    values = set(seeds)
    while len(values) < count:
        text = list(rng.choice(seeds))
        for _ in range(rng.randint(1, 2)):
            i = rng.randrange(len(text) + 1)
            action = rng.random()
            if action < 0.6 and i < len(text):
                text[i] = rng.choice(alphabet)
            elif action < 0.8:
                text.insert(i, rng.choice(alphabet))
            elif i < len(text):
                del text[i]
        values.add("".join(text))
    return sorted(values | {f" {v}" for v in seeds} | {f"{v} " for v in seeds})


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute(PARSE_MACROS).fetchall()
    return connection


@pytest.mark.parametrize("kind", list(FAST))
def test_fast_parsers_settle_only_values_the_general_parser_reads_the_same(con, kind) -> None:
    rows = con.execute(
        f"SELECT v, {FAST[kind]}(v), {GENERAL[kind]}(v) FROM unnest(?::VARCHAR[]) AS t(v)",
        [_values(kind)],
    ).fetchall()
    settled = [(v, fast, general) for v, fast, general in rows if fast is not None]
    assert [row for row in settled if row[1] != row[2]] == []
    # the fast form is a narrower form of the type (both regexes as Python reads them)
    for value, _, _ in settled:
        assert re.fullmatch(FAST_REGEX[kind], value)
        assert re.search(TYPE_REGEX[kind], value)
    # and it does settle the forms exports write
    assert len(settled) > 100
    usual = [v for v, fast, general in rows if general is not None and re.fullmatch(USUAL[kind], v)]
    assert usual
    assert [v for v, fast, general in rows if fast is None and v in usual] == []


# Forms the fast parsers are meant to settle (the demo generator writes these).
USUAL = {
    Kind.TIMESTAMP: r"\d{4}([-/])\d\d\1\d\d(( |T)\d\d:\d\d:\d\d)?"
    r"|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00",
    Kind.DATE: r"\d{4}([-/])\d\d\1\d\d",
    Kind.DECIMAL: r"-?\d+(\.\d+)?",
    Kind.INTEGER: r"-?[1-9]\d{0,17}(\.0)?",
}


def test_a_suite_compiled_once_is_the_suite_compiled_for_each_drop() -> None:
    """Suites are compiled once per contract, then given each drop's date."""
    for contract in CONTRACTS:
        for drop, items in itertools.product(
            (date(2025, 3, 1), date(2024, 12, 31), date(2026, 1, 1)), (False, True)
        ):
            if items and contract.items is None:
                continue
            suite = build_items_suite(contract) if items else build_suite(contract)
            columns = contract.items.columns if items else contract.columns
            direct = compile_suite(suite, suite_parameters(drop), _kinds(columns))
            assert _compiled_suite(contract, drop, items) == direct, contract.source_file


def test_blank_test_agrees_with_the_regex_alone(con) -> None:
    values = ["", " ", "\t", " \t ", "  x", "\tx", "x", "!", " !", "\x01", "\x01 ", "\u3000"]
    values += ["中文", " 中", "\n", " \n", "\r", "a ", "0", "~", "\x7f"]
    rows = con.execute(
        "SELECT v, wm_text(v) IS NOT DISTINCT FROM "
        "(CASE WHEN regexp_full_match(v, '[ \\t]*') THEN NULL ELSE v END) "
        "FROM unnest(?::VARCHAR[]) AS t(v)",
        [values + [None]],
    ).fetchall()
    assert [v for v, same in rows if not same] == []


def _checked(con: duckdb.DuckDBPyConnection, table: str) -> list[dict]:
    key = "_line, _item_index" if table.endswith("items") else "_line"
    cursor = con.execute(f"SELECT * EXCLUDE (_suspect) FROM {table} ORDER BY {key}")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _check_both_ways(path: Path, source_file: str, drop: date) -> dict[str, list[tuple]]:
    """wm_checked (and items) from the lean and from the careful pass, delivered text kept."""
    contract = CONTRACTS_BY_FILE[source_file]
    results = {}
    for careful in (False, True):
        con = duckdb.connect()
        con.execute(PARSE_MACROS).fetchall()
        decoded = decode_file(path, source_file)
        if contract.format == "jsonl":
            read = read_jsonl(con, decoded, contract)
        else:
            read = read_csv(con, path, decoded, contract)
        check_rows(
            con, contract, drop, keep_text=True, control_lines=read.control_lines, careful=careful
        )
        tables = ["wm_checked"] + (["wm_checked_items"] if contract.items else [])
        results[careful] = {t: _checked(con, t) for t in tables}
        con.close()
    return results


@pytest.mark.parametrize("source_file", [c.source_file for c in CONTRACTS])
def test_lean_pass_agrees_with_the_careful_pass_on_every_rule(
    tmp_path: Path, source_file: str
) -> None:
    path = _dirty_file(tmp_path, source_file)
    results = _check_both_ways(path, source_file, date(2025, 3, 1))
    assert results[False] == results[True]
    assert any(row["violations"] for row in results[True]["wm_checked"])  # some were found


def test_control_char_lines_are_the_lines_the_suite_regex_flags() -> None:
    rng = random.Random(5)
    pieces = ["a", "中文", ",", '"', "\t", "\r", " ", "\x07", "\x1f", "\x7f", "\x0b", "\x00"]
    lines = ["".join(rng.choices(pieces, k=rng.randint(0, 6))) for _ in range(400)]
    text = "\n".join(lines)
    expected = [n for n, line in enumerate(lines, 1) if re.search(CONTROL_CHARS_REGEX, line)]
    assert expected  # the sample has some
    for encoding in ("utf-8", "gb18030"):
        data = text.encode(encoding)
        assert decode_bytes(data, "x.csv").text == text
        assert control_char_lines(data) == expected
    assert control_char_lines(b"\xef\xbb\xbf" + text.encode()) == expected


def test_control_char_lines_of_json_include_escaped_control_characters() -> None:
    values = ["plain", "tab\there", "bell\x07", "nl\nline", "中文", "del\x7f", "ff\x0c", "bs\x08"]
    lines = [json.dumps({"v": v}, ensure_ascii=escape) for v in values for escape in (True, False)]
    data = "\n".join(lines).encode()
    expected = [
        n
        for n, line in enumerate(lines, 1)
        if re.search(CONTROL_CHARS_REGEX, json.loads(line)["v"])
    ]
    assert control_char_lines(data, json_escapes=True) == expected
    # json.dumps escapes all of them but DEL, which it writes as is (in one line of two)
    raw = [n for n, line in enumerate(lines, 1) if re.search(CONTROL_CHARS_REGEX, line)]
    assert control_char_lines(data) == raw == [12]


def test_lines_split_from_bytes_are_the_lines_split_from_text(con) -> None:
    rng = random.Random(9)
    pieces = ["{}", '{"a": "中文"}', "\r", "\n", "\r\n", " ", "\t", "x", "\n\n", "\r\r\n"]
    texts = ["", "\n", "\r", "\r\n", "a", "a\n", "a\r\n", "\na", "a\n\n", "a\r\r"]
    texts += ["".join(rng.choices(pieces, k=rng.randint(1, 30))) for _ in range(300)]
    for text in texts:
        for encoding, data in [
            ("utf-8", text.encode()),
            ("utf-8-sig", b"\xef\xbb\xbf" + text.encode()),
            ("gb18030", text.encode("gb18030")),
        ]:
            decoded = decode_bytes(data, "x.jsonl") if data else None
            if decoded is None or decoded.encoding != encoding:
                continue  # empty, or plain ASCII (decoded as UTF-8)
            lines = _line_array(decoded).to_pylist()
            assert [_without_break(line) for line in lines] == _physical_lines(text), text
            sql = con.execute(
                f"SELECT list({_without_break_sql('line')}) FROM unnest(?::VARCHAR[]) AS t(line)",
                [lines],
            ).fetchall()[0][0]
            assert (sql or []) == _physical_lines(text), (encoding, text)


def test_one_pass_csv_split_gives_the_careful_records_or_leaves_it_to_them() -> None:
    rng = random.Random(11)
    pieces = ["a", "中文", ",", ",", '"', '""', "\n", "\n", " ", "\t", "\r", "b,c", '"x\ny"']
    texts = ['a,b\n"1\n2",3\n\n4,5', 'a,b\n"x""y",z\n  \n1,2', 'a,b\n1,"2\n3\n"', "a,b\n1,2\n"]
    texts += ["a,b\n" + "".join(rng.choices(pieces, k=rng.randint(1, 40))) for _ in range(3000)]
    one_pass, multi_line = 0, 0
    for text in texts:
        lines = _physical_lines(text)
        careful = _split_records_carefully(lines, 2)
        fast = _split_records(lines, 2)
        if fast is not None:
            one_pass += 1
            multi_line += any("\n" in record for record in fast[2].values())
            assert (*fast, []) == careful, text
    assert one_pass > 100 and multi_line > 5  # the one pass settles many, multi-line too
    assert _split_records(_physical_lines(texts[0]), 2) is not None


def test_duckdb_reads_records_of_several_lines_as_the_line_reader_does(tmp_path: Path) -> None:
    """Where DuckDB's reader takes a well-formed file (records of one line or several,
    quotes and line breaks inside fields), it gives each record the line, fields and text
    the line-by-line reader gives. It leaves it files with blank lines or a CR inside a
    field. (How the two treat malformed records, one of a line or more, is not at stake
    here: DuckDB's gives up a broken record of several lines to the line reader.)"""
    rng = random.Random(12)
    source_file = "crm/feedback.csv"
    contract = CONTRACTS_BY_FILE[source_file]
    header = [c.name for c in contract.columns]
    pieces = ["a", "中文", ",", '"', "\n", "\n", " ", "\r", "\r\n", "x\ny", "\n\n", "\t"]
    prefix = "FB-{},CRM-1,SO-1,sms,2025-02-28 18:00:00,3,"
    con = duckdb.connect()
    compared = multi_line = left = 0
    for n in range(400):
        rows = []
        for i in range(rng.randint(1, 6)):
            comment = "".join(rng.choices(pieces, k=rng.randint(0, 8)))
            if rng.random() < 0.7:  # quoted, its quotes doubled
                comment = '"' + comment.replace('"', '""') + '"'
            else:
                comment = "".join(c for c in comment if c not in ',"\r\n')
            rows.append(prefix.format(i) + comment)
        text = ",".join(header) + "\n" + "\n".join(rows) + "\n" * rng.randint(0, 1)
        path = tmp_path / f"f{n}.csv"
        path.write_text(text, encoding="utf-8", newline="")
        decoded = decode_file(path, source_file)
        lines = _physical_lines(decoded.text)
        records, starts, originals, malformed = _split_records_carefully(lines, len(header))
        assert malformed == [], text  # (well-formed)
        read = read_csv(con, path, decoded, contract)
        if read.method != "duckdb":
            left += 1
            continue
        compared += 1
        multi_line += any("\n" in fields[-1] for fields in records)
        # (an empty field is NULL to DuckDB, "" to the csv module: both load as NULL)
        expected = [
            (start, fields[-1] or None) for fields, start in zip(records, starts, strict=True)
        ]
        assert read.malformed == [], text
        assert con.execute("SELECT _line, comment FROM wm_src ORDER BY _line").fetchall() == (
            expected
        ), text
        assert read.original_text(starts) == originals, text
    assert compared > 150 and multi_line > 50 and left > 50


def test_object_line_test_agrees_with_asking_for_the_type(con) -> None:
    lines = ['{"a": 1}', ' {"a": 1}', '\t{"a": 1}', '{"a": ', "{", "{}", "{} ", "{}}", "[1]"]
    lines += ['{"a": 1} x', "42", '"text"', "null", "true", '{"a": [1, {"b": 2}]}', "{'a': 1}"]
    lines += ['{"a": "\\u0007"}', '{"a": 1,}', "[{}]", " [1]", "{]"]
    lines += [" null", "\r\n{}\n", '{"a": {"b": [1, {}]}, "c": null}', '{"a": 1}\n', "{}{}", ""]
    rows = con.execute(
        f"SELECT line, {_object_line('line', 'parsed')}, "
        "CASE WHEN json_valid(line) THEN json_type(line) = 'OBJECT' ELSE false END "
        """FROM (SELECT line, try(from_json(line, '{"a": "VARCHAR"}')) AS parsed """
        "FROM unnest(?::VARCHAR[]) AS t(line))",
        [lines],
    ).fetchall()
    assert [row for row in rows if row[1] != row[2]] == []
    assert {row[1] for row in rows} == {True, False}


@pytest.mark.parametrize("rejected_line", [True, False])
def test_csv_records_are_numbered_alike_inside_and_outside_a_transaction(
    tmp_path: Path, rejected_line: bool
) -> None:
    """Records are numbered by rowid, which starts elsewhere inside a transaction; the same
    whether the reader runs the lean pass as it reads or not."""
    source_file = "erp/stock_counts.csv"
    header = "count_id,counted_at,warehouse_id,sku,book_qty,counted_qty"
    lines = [f"C{i},2025-02-01 10:00:00,WH-1,SKU-{i},{i},{i}" for i in range(3000)]
    if rejected_line:
        lines[1234] = "C1234,too,few"  # a rejected line: records after it move down one line
    path = tmp_path / "stock_counts.csv"
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    contract = CONTRACTS_BY_FILE[source_file]
    sources = []
    for in_transaction, lean in itertools.product((False, True), (False, True)):
        con = duckdb.connect(str(tmp_path / f"db{in_transaction}{lean}.duckdb"))
        con.execute(PARSE_MACROS).fetchall()
        if in_transaction:
            con.execute("BEGIN TRANSACTION")
        lean_pass = functools.partial(lean_select, contract, DROP_DATE) if lean else None
        read = read_csv(con, path, decode_file(path, source_file), contract, lean_pass)
        assert read.method == "duckdb"
        assert [m[0] for m in read.malformed] == ([1236] if rejected_line else [])
        assert (read.lean is not None) == lean
        if lean:
            check_rows(con, contract, DROP_DATE, lean=read.lean)
        relation = "wm_checked" if lean else "wm_src"
        sources.append(
            con.execute(f"SELECT _line, count_id FROM {relation} ORDER BY _line").fetchall()
        )
        con.close()
    assert sources[0] == sources[1] == sources[2] == sources[3]
    expected = [(1235, "C1233"), (1237, "C1235"), (1238, "C1236")]
    if not rejected_line:
        expected = [(1235, "C1233"), (1236, "C1234"), (1237, "C1235")]
    assert sources[0][1233:1236] == expected
    assert len(sources[0]) == 3000 - rejected_line


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_json_lines_keep_their_exact_text(extracts: Path, db_path: Path, encoding: str) -> None:
    """Unknown keys keep the whole line in _extra, and a broken line is quarantined with
    its text: without its line break, whatever the line ends and the encoding."""
    orders = [
        good_order(order_id="TM-1"),
        good_order(order_id="TM-2") | {"coupon": "满100减10"},
        good_order(order_id="TM-3"),
        '{"order_id": "TM-4", "platform": "tmall"',
        good_order(order_id="TM-5") | {"gift_wrap": True},
    ]
    lines = [o if isinstance(o, str) else json.dumps(o, ensure_ascii=False) for o in orders]
    ends = ["\r\n", "\n", "\r\n", "\r\r\n", ""]  # the last line has no break
    text = "".join(line + end for line, end in zip(lines, ends, strict=True))
    data = text.encode(encoding)
    write_file(extracts, DROP, "ecommerce/orders.jsonl", data)
    ingest_extracts(extracts, db_path)
    extra = "SELECT _line, _extra::VARCHAR FROM raw.ecommerce__orders WHERE _extra IS NOT NULL"
    assert query(db_path, extra) == [(2, lines[1]), (5, lines[4])]
    assert query(db_path, "SELECT line, rule, original_text FROM raw.quarantine") == [
        (4, "malformed_json", lines[3] + "\r")  # one CR goes with the break, the other stays
    ]
    assert query(db_path, "SELECT extra_columns, encoding FROM raw.load_log") == [
        (["coupon", "gift_wrap"], encoding)
    ]


def test_a_dirty_world_loads_the_same_through_the_lean_and_the_careful_pass(
    dirty_extracts: Path, tmp_path: Path
) -> None:
    lean_db, careful_db = tmp_path / "lean.duckdb", tmp_path / "careful.duckdb"
    ingest_extracts(dirty_extracts, lean_db)
    ingest_extracts(dirty_extracts, careful_db, careful=True)
    lean, careful = raw_contents(lean_db), raw_contents(careful_db)
    assert len(careful["quarantine"]) > 50
    assert lean.keys() == careful.keys()
    for table in careful:
        assert lean[table] == careful[table], table
    for db_path in (lean_db, careful_db):
        _assert_stored_in_line_order(db_path)


def _assert_stored_in_line_order(db_path: Path) -> None:
    """Raw rows are stored file by file in line order (they are loaded without a sort)."""
    tables = query(db_path, "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw'")
    for (table,) in tables:
        if "__" not in table:
            continue  # load_log, quarantine
        index = ", _item_index" if table.endswith("_items") else ""
        rows = query(db_path, f"SELECT _drop_date, _source_file, _line{index} FROM raw.{table}")
        files = [key for key, _ in itertools.groupby(rows, key=lambda row: row[:2])]
        assert len(files) == len(set(files)), table  # one file's rows are not interleaved
        assert rows == sorted(rows, key=lambda row: (files.index(row[:2]), row[2:])), table
