"""The bad-input corpus (tests/bad_inputs/): every case a real export produces, ingested into a
fresh DuckDB.

For each case: every delivered file is in the load log with the expected status; a
rejected file names itself (and the line, where there is one) and loads nothing; a
loaded file loads exactly the expected lines, quarantines exactly the expected
(line, rule, column) with a message and the original text, and rows read = loaded +
quarantined. One folder per case: adding a case is adding a folder (see
tests/bad_inputs/make_corpus.py for the case.json format).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from data_contracts.extracts import CONTRACTS_BY_FILE
from ingest.load import ingest_extracts

CORPUS = Path(__file__).parent / "bad_inputs"
CASES = sorted(p.parent.name for p in CORPUS.glob("*/case.json"))


def test_the_corpus_has_at_least_30_cases() -> None:
    assert len(CASES) >= 30


def _params() -> list:
    params = []
    for name in CASES:
        spec = json.loads((CORPUS / name / "case.json").read_text())
        marks = [pytest.mark.xfail(strict=True, reason=spec["xfail"])] if "xfail" in spec else []
        params.append(pytest.param(name, marks=marks, id=name))
    return params


def _prepare(name: str, tmp_path: Path) -> tuple[dict, Path]:
    spec = json.loads((CORPUS / name / "case.json").read_text())
    extracts = tmp_path / "extracts"
    shutil.copytree(CORPUS / name / "extracts", extracts)
    if expand := spec.get("expand"):
        path = extracts / expand["file"]
        big = expand["text"] * expand["times"]
        path.write_text(path.read_text(encoding="utf-8").replace(expand["placeholder"], big))
    return spec, extracts


@pytest.mark.parametrize("name", _params())
def test_bad_input_case(name: str, tmp_path: Path) -> None:
    spec, extracts = _prepare(name, tmp_path)
    db_path = tmp_path / "wmsight.duckdb"
    result = ingest_extracts(extracts, db_path)

    delivered = sorted(
        p.relative_to(extracts).as_posix() for p in extracts.rglob("*") if p.is_file()
    )
    assert sorted(spec["files"]) == delivered, "case.json must say what happens to every file"
    outcomes = {f"{f.drop_date}/{f.source_file}": f for f in result.files}
    assert sorted(outcomes) == delivered  # nothing skipped silently

    con = duckdb.connect(str(db_path), read_only=True)
    try:
        for key, expected in spec["files"].items():
            drop, source_file = key.split("/", 1)
            [(status, read, loaded, quarantined, message)] = con.execute(
                "SELECT status, rows_read, rows_loaded, rows_quarantined, message "
                "FROM raw.load_log WHERE drop_date = ? AND source_file = ?",
                [drop, source_file],
            ).fetchall()
            assert status == expected["status"], (key, message)
            assert outcomes[key].status == expected["status"]
            if status == "unknown":
                assert source_file in message
                continue
            contract = CONTRACTS_BY_FILE[source_file]
            lines = [
                row[0]
                for row in con.execute(
                    f'SELECT _line FROM raw."{contract.table}" '
                    "WHERE _drop_date = ? AND _source_file = ? ORDER BY _line",
                    [drop, source_file],
                ).fetchall()
            ]
            bad = con.execute(
                "SELECT line, rule, column_name, message, original_text FROM raw.quarantine "
                "WHERE drop_date = ? AND source_file = ? ORDER BY line",
                [drop, source_file],
            ).fetchall()
            if status == "rejected":
                for part in expected["message"]:
                    assert part in message, (key, message)
                assert source_file in message
                if expected.get("line"):
                    assert f"line {expected['line']}" in message, message
                assert (lines, bad, loaded, quarantined) == ([], [], 0, 0)
                continue
            assert read == expected["read"], key
            assert read == loaded + quarantined, key
            assert lines == expected["loaded_lines"], key
            assert [list(row[:3]) for row in bad] == expected["quarantined"], (key, bad)
            for line, rule, _, text, original in bad:
                assert text, f"{key} line {line}: {rule} without a message"
                assert original is not None, f"{key} line {line}: original text not kept"
        for check in spec.get("raw", []):
            rows = [list(row) for row in con.execute(check["sql"]).fetchall()]
            assert rows == check["rows"], check["sql"]
    finally:
        con.close()
