"""Tell how a delivered file is encoded and decode it.

EXTRACTS.md allows UTF-8 (with or without BOM) and GB18030, as Chinese ERPs export.
Strict UTF-8 is tried first: a GB18030 file of Chinese text is practically never
valid UTF-8, while every ASCII file is valid in both, so the order is safe.

A file can also mix the two: a GB18030 export with one field pasted from a UTF-8 source
(or a line appended by a script that writes UTF-8), or a UTF-8 file with a GB18030 line.
Decoded as one encoding, such text is mojibake (北京 -> 鍖椾含) that no other rule
catches. So the text between delimiters (commas, quotes, line breaks: ASCII, never part
of a multi-byte character in either encoding) is looked at piece by piece when a file is
not plain UTF-8: each piece is decoded in its own encoding, and the pieces not in the
file's encoding are reported (`DecodedFile.mixed`) so that their rows are quarantined.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pyarrow as pa

from ingest.errors import FileRejected

UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class MixedText:
    """A piece of a file (text between delimiters) in the other encoding than the file's."""

    line: int  # physical line, from 1
    text: str  # decoded in its own encoding
    encoding: str  # that encoding: "utf-8" or "gb18030"
    as_file: str | None  # what the bytes read as in the file's encoding (None: not decodable)


@dataclass(frozen=True)
class DecodedFile:
    """A delivered file and how it decodes. Its text is decoded when first asked for: the
    readers of the large files take UTF-8 bytes as delivered (`utf8()`), and a whole file
    as Python text costs time and up to four bytes per character."""

    encoding: str  # "utf-8", "utf-8-sig" or "gb18030": the file's, if it mixes
    sha256: str
    size_bytes: int
    data: bytes = field(repr=False)  # as delivered, for byte-level scans
    mixed: tuple[MixedText, ...] = ()  # pieces in the other encoding, by line
    decoded_text: str | None = field(default=None, repr=False)  # known already (mixed files)

    @cached_property
    def text(self) -> str:
        if self.decoded_text is not None:
            return self.decoded_text
        start = len(UTF8_BOM) if self.encoding == "utf-8-sig" else 0
        return self.data[start:].decode("gb18030" if self.encoding == "gb18030" else "utf-8")

    def first_line(self) -> str:
        """The text up to the first line break (without decoding the rest)."""
        if self.decoded_text is not None or "text" in self.__dict__:
            end = self.text.find("\n")  # (not split: that would copy the rest of the text)
            return self.text if end < 0 else self.text[:end]
        start = len(UTF8_BOM) if self.encoding == "utf-8-sig" else 0
        end = self.data.find(b"\n", start)  # one byte in UTF-8 and GB18030, never part of another
        line = self.data[start : len(self.data) if end < 0 else end]
        return line.decode("gb18030" if self.encoding == "gb18030" else "utf-8")

    def utf8(self) -> tuple[bytes, int]:
        """The text in UTF-8 bytes, and where it starts in them (after a BOM): the bytes as
        delivered when they are that, else encoded."""
        if self.mixed or self.encoding == "gb18030":
            return self.text.encode("utf-8"), 0
        return self.data, len(UTF8_BOM) if self.encoding == "utf-8-sig" else 0


def is_utf8(data: bytes, start: int = 0) -> bool:
    """Whether `data[start:]` is valid UTF-8, as strict `bytes.decode("utf-8")` has it, but
    without building the text: Arrow's validator is ~10x faster (tests compare the two)."""
    view = memoryview(data)[start:]
    array = pa.LargeStringArray.from_buffers(
        1, pa.py_buffer(np.array([0, len(view)], np.int64)), pa.py_buffer(view)
    )
    try:
        array.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def decode_bytes(data: bytes, source_file: str, digest: str | None = None) -> DecodedFile:
    """`digest`: the sha256 of `data` when the caller has it already."""
    digest = digest or sha256_of(data)
    if not data:
        raise FileRejected(source_file, "the file is empty (0 bytes); a header row is required")
    if data.startswith(UTF8_BOM):
        if is_utf8(data, len(UTF8_BOM)):
            return DecodedFile("utf-8-sig", digest, len(data), data)
        # A BOM says UTF-8: pieces in GB18030 are the mixed ones.
        tried = "UTF-8 (it starts with a UTF-8 BOM) or GB18030"
        not_utf8 = len(UTF8_BOM) + _first_non_utf8(data[len(UTF8_BOM) :])
        text, _, mixed = _decode_mixed(data, len(UTF8_BOM), "utf-8", source_file, not_utf8, tried)
        return DecodedFile("utf-8-sig", digest, len(data), data, mixed, text)
    if is_utf8(data):
        return DecodedFile("utf-8", digest, len(data), data)
    not_utf8 = _first_non_utf8(data)
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        pass
    else:
        if not _has_utf8_piece(data):  # the usual GB18030 file
            return DecodedFile("gb18030", digest, len(data), data, decoded_text=text)
    text, encoding, mixed = _decode_mixed(data, 0, None, source_file, not_utf8, "UTF-8 or GB18030")
    return DecodedFile(encoding, digest, len(data), data, mixed, text)


def _first_non_utf8(data: bytes) -> int:
    """Where the first byte that is not UTF-8 is (`data` is not valid UTF-8)."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start
    raise AssertionError("Arrow and Python disagree on whether the bytes are UTF-8")


def decode_file(path: Path, source_file: str) -> DecodedFile:
    return decode_bytes(path.read_bytes(), source_file)


# ------------------------------------------------------------------ mixed encodings

# Pieces are text between delimiters: CR and LF, comma and double quote are single bytes in
# UTF-8 and GB18030, never part of a longer character.
_DELIMITER = re.compile(rb'[,"\r\n]')
_HIGH_BYTES = re.compile(rb"[\x80-\xff]+")
# What UTF-8 text of three- or four-byte characters (CJK, punctuation, emoji) looks like in
# bytes: where a GB18030 file has none, no piece of it can be such text.
_UTF8_WIDE = re.compile(rb"[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


# Characters that UTF-8 text in a Chinese export holds beside ASCII, all of three or four
# bytes in UTF-8: punctuation, currency, letterlike symbols, numbers and arrows, circled
# numbers, symbols and dingbats, CJK punctuation, kana, CJK (extension A, unified,
# compatibility), CJK compatibility forms, full-width forms, emoji.
_UTF8_TEXT_RANGES = (
    (0x2000, 0x27BF),
    (0x3000, 0x30FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0xFE30, 0xFE4F),
    (0xFF00, 0xFFEF),
    (0x1F000, 0x1FAFF),
)


def _is_utf8_text(piece: bytes) -> bool:
    """Whether a piece is UTF-8 text rather than GB18030 that happens to be valid UTF-8:
    it decodes as UTF-8, and every character beyond ASCII is of a kind Chinese text holds
    (`_UTF8_TEXT_RANGES`). Two-byte UTF-8 characters (Latin accents, Cyrillic, ...) prove
    nothing: one GB18030 character in seven is such a pair. GB18030 text that reads as
    UTF-8 of those kinds is rare: of 480,000 random strings of 1-12 GB2312 characters and
    symbols, one did (a character, then two symbols); tests/test_ingest_mixed_encoding.py
    tries 50,000 more.
    """
    try:
        text = piece.decode("utf-8")
    except UnicodeDecodeError:
        return False
    wide = [ord(ch) for ch in text if ord(ch) >= 0x80]
    return bool(wide) and all(
        any(low <= code <= high for low, high in _UTF8_TEXT_RANGES) for code in wide
    )


def _has_utf8_piece(data: bytes) -> bool:
    """Whether a file that decodes as GB18030 holds a piece of UTF-8 text. A byte scan finds
    the few places that could be one; only their pieces are decoded."""
    checked = -1
    for match in _UTF8_WIDE.finditer(data):
        if match.start() < checked:
            continue
        start, checked = _piece_bounds(data, match.start())
        if _is_utf8_text(data[start:checked]):
            return True
    return False


def _piece_bounds(data: bytes, position: int) -> tuple[int, int]:
    """Start and end of the piece that holds `data[position]`."""
    line_start = data.rfind(b"\n", 0, position) + 1
    start = max(data.rfind(d, line_start, position) for d in (b",", b'"', b"\r")) + 1
    end = _DELIMITER.search(data, position)
    return max(start, line_start), end.start() if end else len(data)


def _reads_as(piece: bytes, encoding: str) -> bool:
    try:
        piece.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _decode_mixed(
    data: bytes,
    offset: int,
    encoding: str | None,
    source_file: str,
    not_utf8: int,
    tried: str,
) -> tuple[str, str, tuple[MixedText, ...]]:
    """Decode `data[offset:]` piece by piece, each piece in the encoding it is in: the text,
    the file's encoding (`encoding`, or else the one most of its text is in) and the pieces
    in the other one. Rejects the file when a piece is in neither: at `not_utf8`, the first
    byte that is not UTF-8 (a Latin-1 file reads as GB18030 in places), naming that piece
    too."""
    pieces: list[tuple[int, int, int, str | None]] = []  # line, start, end, encoding
    weight = {"utf-8": 0, "gb18030": 0}  # bytes in pieces of each
    line, counted, end = 1, offset, offset
    for run in _HIGH_BYTES.finditer(data, offset):
        if run.start() < end:
            continue  # in the piece before
        start, end = _piece_bounds(data, run.start())
        line += data.count(b"\n", counted, start)
        counted = start
        piece = data[start:end]
        in_gb18030 = _reads_as(piece, "gb18030")
        if _is_utf8_text(piece):
            found: str | None = "utf-8"
        elif _reads_as(piece, "utf-8"):  # of two-byte characters, which GB18030 also has
            found = None if in_gb18030 else "utf-8"
        elif in_gb18030:
            found = "gb18030"
        else:
            first = not_utf8
            first_line = data.count(b"\n", 0, first) + 1
            neither = (
                f" (line {line} is neither: byte 0x{data[run.start()]:02x} at offset {run.start()})"
                if line != first_line
                else ""
            )
            raise FileRejected(
                source_file,
                f"cannot be decoded as {tried}: byte 0x{data[first]:02x} at offset {first}"
                + neither,
                line=first_line,
            )
        if found:
            weight[found] += end - start
        pieces.append((line, start, end, found))
    file_encoding = encoding or max(weight, key=lambda e: (weight[e], e == "gb18030"))
    other = "gb18030" if file_encoding == "utf-8" else "utf-8"
    parts: list[str] = []
    mixed: list[MixedText] = []
    done = offset
    for line, start, end, found in pieces:
        if found == other:
            piece = data[start:end]
            as_file = piece.decode(file_encoding) if _reads_as(piece, file_encoding) else None
            mixed.append(MixedText(line, piece.decode(other), other, as_file))
            parts += [data[done:start].decode(file_encoding), mixed[-1].text]
            done = end
    parts.append(data[done:].decode(file_encoding))
    return "".join(parts), file_encoding, tuple(mixed)
