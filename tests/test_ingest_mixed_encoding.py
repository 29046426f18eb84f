"""Files that mix UTF-8 and GB18030, as real exports do: a GB18030 ERP export with a field
pasted from a UTF-8 source, a line appended by a script that writes UTF-8, a UTF-8 CRM
export with a GB18030 line. Each piece is read in its own encoding; a row holding text
in the other encoding than its file is quarantined (mixed_encoding) with its true text,
never loaded as mojibake, and the rest of the file loads."""

from __future__ import annotations

import contextlib
import json
import random
from pathlib import Path

from conftest import query
from extract_builder import DROP, csv_text, good, good_order, write_file

from ingest.encoding import _is_utf8_text, decode_bytes, is_utf8
from ingest.load import ingest_extracts

EC, CU, FB = "erp/customers.csv", "crm/customers.csv", "crm/feedback.csv"
QUARANTINE = "SELECT line, rule, column_name FROM raw.quarantine ORDER BY line"


def _mixed(text: str, encoding: str, other: str, pieces: list[str]) -> bytes:
    """`text` in `encoding`, except `pieces` (each occurring once) in `other`."""
    data = b""
    for piece in pieces:
        before, text = text.split(piece, 1)
        data += before.encode(encoding) + piece.encode(other)
    return data + text.encode(encoding)


def test_a_utf8_field_in_a_gb18030_file_quarantines_its_row(extracts: Path, db_path: Path) -> None:
    pasted = "北京市朝阳区建国路 88 号"
    rows = [good(EC), good(EC, erp_code="E-2", address=pasted), good(EC, erp_code="E-3")]
    text = csv_text(EC, rows)
    write_file(extracts, DROP, EC, _mixed(text, "gb18030", "utf-8", [pasted]))
    [loaded] = ingest_extracts(extracts, db_path).files
    assert (loaded.rows_read, loaded.rows_loaded, loaded.rows_quarantined) == (3, 2, 1)
    assert query(db_path, "SELECT erp_code, legal_name, _line FROM raw.erp__customers") == [
        ("E-1", "上海华通贸易有限责任公司", 2),
        ("E-3", "上海华通贸易有限责任公司", 4),
    ]
    assert query(db_path, QUARANTINE) == [(3, "mixed_encoding", "address")]
    [(message, original)] = query(db_path, "SELECT message, original_text FROM raw.quarantine")
    assert message.startswith("erp/customers.csv line 3, address: mixed_encoding:")
    assert pasted in message and "UTF-8 text in a GB18030 file" in message
    assert original == text.split("\n")[2]  # the row as it was meant, not as mojibake
    assert query(db_path, "SELECT encoding FROM raw.load_log") == [("gb18030",)]


def test_a_utf8_line_that_also_reads_as_gb18030_is_found(extracts: Path, db_path: Path) -> None:
    """北京 in UTF-8 is valid GB18030 too (鍖椾含): the file decodes as GB18030 without an
    error, and the line is found all the same."""
    assert "北京".encode().decode("gb18030") == "鍖椾含"
    rows = [good(EC), good(EC, erp_code="E-2", city="北京", province="天津")]
    text = csv_text(EC, rows)
    data = _mixed(text, "gb18030", "utf-8", ["天津", "北京"])
    data.decode("gb18030")  # no error
    write_file(extracts, DROP, EC, data)
    ingest_extracts(extracts, db_path)
    assert query(db_path, QUARANTINE) == [(3, "mixed_encoding", "province")]
    [(violations,)] = query(db_path, "SELECT violations::VARCHAR FROM raw.quarantine")
    assert [v["column"] for v in json.loads(violations)] == ["province", "city"]


def test_a_gb18030_line_in_a_utf8_file(extracts: Path, db_path: Path) -> None:
    rows = [
        good(CU),
        good(CU, crm_id="CRM-2", company_name="广州天河商贸有限公司"),
        good(CU, crm_id="CRM-3"),
    ]
    lines = csv_text(CU, rows).split("\n")
    data = "\n".join(lines[:2]).encode() + b"\n" + lines[2].encode("gb18030") + b"\n"
    data += "\n".join(lines[3:]).encode()
    write_file(extracts, DROP, CU, data)
    ingest_extracts(extracts, db_path)
    assert query(db_path, "SELECT crm_id FROM raw.crm__customers ORDER BY 1") == [
        ("CRM-1",),
        ("CRM-3",),
    ]
    assert query(db_path, QUARANTINE) == [(3, "mixed_encoding", "company_name")]
    assert query(db_path, "SELECT original_text FROM raw.quarantine") == [(lines[2],)]
    assert query(db_path, "SELECT encoding FROM raw.load_log") == [("utf-8",)]


def test_a_gb18030_field_in_a_file_with_a_bom(extracts: Path, db_path: Path) -> None:
    text = csv_text(CU, [good(CU), good(CU, crm_id="CRM-2", contact_name="张晓明")])
    write_file(extracts, DROP, CU, b"\xef\xbb\xbf" + _mixed(text, "utf-8", "gb18030", ["张晓明"]))
    ingest_extracts(extracts, db_path)
    assert query(db_path, QUARANTINE) == [(3, "mixed_encoding", "contact_name")]
    assert query(db_path, "SELECT encoding, rows_loaded FROM raw.load_log") == [("utf-8-sig", 1)]


def test_a_multi_line_record_is_quarantined_at_its_first_line(
    extracts: Path, db_path: Path
) -> None:
    rows = [
        good(FB, feedback_id="FB-1", comment="第一行\n发错货了"),
        good(FB, feedback_id="FB-2"),
    ]
    text = csv_text(FB, rows)
    write_file(extracts, DROP, FB, _mixed(text, "utf-8", "gb18030", ["发错货了"]))
    ingest_extracts(extracts, db_path)
    assert query(db_path, QUARANTINE) == [(2, "mixed_encoding", "comment")]
    assert query(db_path, "SELECT feedback_id, _line FROM raw.crm__feedback") == [("FB-2", 4)]


def test_json_lines_with_a_gb18030_line(extracts: Path, db_path: Path) -> None:
    orders = [good_order(order_id="TM-1"), good_order(order_id="TM-2"), good_order(order_id="TM-3")]
    orders[1]["buyer"]["nickname"] = "小王爱购物"
    text = "\n".join(json.dumps(o, ensure_ascii=False) for o in orders) + "\n"
    lines = text.split("\n")
    data = (lines[0] + "\n").encode() + (lines[1] + "\n").encode("gb18030")
    data += "\n".join(lines[2:]).encode()
    write_file(extracts, DROP, "ecommerce/orders.jsonl", data)
    ingest_extracts(extracts, db_path)
    assert query(db_path, QUARANTINE) == [(2, "mixed_encoding", "buyer.nickname")]
    items = "SELECT DISTINCT order_id FROM raw.ecommerce__order_items ORDER BY 1"
    assert query(db_path, items) == [("TM-1",), ("TM-3",)]


def _gb2312_characters() -> list[str]:
    characters = []
    for lead in range(0xB0, 0xF8):
        for trail in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):
                characters.append(bytes([lead, trail]).decode("gb2312"))
    return characters


def test_gb18030_text_is_not_taken_for_utf8(extracts: Path, db_path: Path) -> None:
    """Some GB18030 text is valid UTF-8 of two-byte characters, which proves nothing; but
    none reads as UTF-8 of the wide characters that UTF-8 text in a Chinese export holds."""
    characters = _gb2312_characters()
    rng = random.Random(3)
    names = ["".join(rng.choices(characters, k=rng.randint(1, 12))) for _ in range(50_000)]
    valid_utf8 = [n for n in names if _valid_utf8(n.encode("gb18030"))]
    assert len(valid_utf8) > 500  # the two-byte kind is common
    assert [n for n in names if _is_utf8_text(n.encode("gb18030"))] == []
    # a whole file of such text loads as GB18030, nothing quarantined
    rows = [good(EC, erp_code=f"E-{i}", legal_name=name) for i, name in enumerate(names[:3000])]
    data = csv_text(EC, rows).encode("gb18030")
    assert decode_bytes(data, EC).mixed == ()
    write_file(extracts, DROP, EC, data)
    [loaded] = ingest_extracts(extracts, db_path).files
    assert (loaded.rows_loaded, loaded.rows_quarantined) == (3000, 0)


def _valid_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# Byte sequences at the edges of UTF-8: every kind strict decoding refuses (overlong forms,
# surrogates, beyond U+10FFFF, cut-off and stray continuation bytes, bytes UTF-8 never
# uses) beside valid one- to four-byte characters, and GB18030 text.
_UTF8_EDGES = [
    b"a", b",", b"\n", "é".encode(), "北".encode(), "€".encode(), "😀".encode(),
    "\U0010ffff".encode(), "\ud7ff".encode(), "\ue000".encode(), "北京".encode("gb18030"),
    b"\xc0\x80", b"\xc1\xbf", b"\xe0\x80\x80", b"\xe0\x9f\xbf", b"\xf0\x80\x80\x80",
    b"\xf0\x8f\xbf\xbf", b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xf4\x90\x80\x80", b"\xf5\x80",
    b"\xff", b"\xfe", b"\x80", b"\xbf", b"\xe4\xb8", b"\xf0\x9f\x98", b"\xc3",
]  # fmt: skip


def test_the_fast_utf8_check_agrees_with_python_on_every_edge() -> None:
    generator = random.Random(20261203)
    for _ in range(20_000):
        data = b"".join(generator.choices(_UTF8_EDGES, k=generator.randint(0, 6)))
        try:
            data.decode("utf-8")
            expected = True
        except UnicodeDecodeError:
            expected = False
        assert is_utf8(data) == expected, data
        assert is_utf8(b"\xef\xbb\xbf" + data, 3) == expected, data


def test_a_file_is_decoded_only_when_its_text_is_asked_for() -> None:
    text = "order_id,note\n1,北京\n"
    decoded = decode_bytes(text.encode(), "x.csv")
    assert "text" not in decoded.__dict__  # nothing decoded yet
    assert decoded.first_line() == "order_id,note"
    assert decoded.text == text
    bom = decode_bytes(b"\xef\xbb\xbf" + text.encode(), "x.csv")
    assert (bom.encoding, bom.first_line(), bom.text) == ("utf-8-sig", "order_id,note", text)
    gb = decode_bytes(text.encode("gb18030"), "x.csv")
    assert (gb.encoding, gb.first_line(), gb.text) == ("gb18030", "order_id,note", text)
