"""Bytes on disk: CSV the way each system exports it, and JSON Lines.

ERP files are GB18030 (Chinese ERPs export in the local code page) with Windows
line ends; CRM files are UTF-8 with a byte-order mark (Excel-friendly exports);
marketplace files are plain UTF-8. Quoting follows RFC 4180; an empty field is
null. Files are written to a temporary name and renamed, so a crash never leaves
half a file behind.
"""

from __future__ import annotations

import codecs
import io
import os
from pathlib import Path

import numpy as np
import polars as pl

from wmsight.demo.schema import FileSpec


def csv_bytes(frame: pl.DataFrame, spec: FileSpec) -> bytes:
    buf = io.BytesIO()
    frame.write_csv(
        buf, line_terminator=spec.line_terminator, quote_style="necessary", null_value=""
    )
    data = buf.getvalue()
    if spec.encoding == "gb18030":
        # ASCII is the same in both; big numeric files skip the round trip
        return data if data.isascii() else data.decode("utf-8").encode("gb18030")
    if spec.encoding == "utf-8-sig":
        return codecs.BOM_UTF8 + data
    return data


class JsonLines:
    """A JSON Lines file as one byte buffer and the offsets of its lines: no Python
    object per line, which matters for half a million orders."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 0x0A)
        self.starts = np.r_[0, ends[:-1] + 1] if len(ends) else np.empty(0, dtype=np.int64)
        self.ends = ends

    def __len__(self) -> int:
        return len(self.ends)

    def line(self, i: int) -> str:
        return self.data[self.starts[i] : self.ends[i]].decode("utf-8")

    def with_inserted(self, inserts: list[tuple[int, str]]) -> bytes:
        """The file with extra lines placed before the given line indexes (in order)."""
        if not inserts:
            return self.data
        parts: list[bytes] = []
        prev = 0
        for position, text in inserts:
            cut = self.starts[position] if position < len(self) else len(self.data)
            parts.append(self.data[prev:cut])
            parts.append(text.encode("utf-8") + b"\n")
            prev = cut
        parts.append(self.data[prev:])
        return b"".join(parts)


def ndjson(frame: pl.DataFrame) -> JsonLines:
    """JSON escapes line feeds inside strings, so every 0x0A ends an object."""
    buf = io.BytesIO()
    if frame.height:
        frame.write_ndjson(buf)
    return JsonLines(buf.getvalue())


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
