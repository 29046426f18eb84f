"""Tell how a delivered file is encoded and decode it.

EXTRACTS.md allows UTF-8 (with or without BOM) and GB18030, as Chinese ERPs export.
Strict UTF-8 is tried first: a GB18030 file of Chinese text is practically never
valid UTF-8, while every ASCII file is valid in both, so the order is safe.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from ingest.errors import FileRejected

UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class DecodedFile:
    text: str
    encoding: str  # "utf-8", "utf-8-sig" or "gb18030"
    sha256: str
    size_bytes: int
    data: bytes = field(repr=False)  # as delivered, for byte-level scans


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def decode_bytes(data: bytes, source_file: str, digest: str | None = None) -> DecodedFile:
    """`digest`: the sha256 of `data` when the caller has it already."""
    digest = digest or sha256_of(data)
    if not data:
        raise FileRejected(source_file, "the file is empty (0 bytes); a header row is required")
    if data.startswith(UTF8_BOM):
        try:
            return DecodedFile(
                data[len(UTF8_BOM) :].decode("utf-8"), "utf-8-sig", digest, len(data), data
            )
        except UnicodeDecodeError as error:
            raise _undecodable(
                source_file, data, error, "UTF-8 (it starts with a UTF-8 BOM)"
            ) from None
    try:
        return DecodedFile(data.decode("utf-8"), "utf-8", digest, len(data), data)
    except UnicodeDecodeError as utf8_error:
        try:
            return DecodedFile(data.decode("gb18030"), "gb18030", digest, len(data), data)
        except UnicodeDecodeError:
            raise _undecodable(source_file, data, utf8_error, "UTF-8 or GB18030") from None


def decode_file(path: Path, source_file: str) -> DecodedFile:
    return decode_bytes(path.read_bytes(), source_file)


def _undecodable(
    source_file: str, data: bytes, error: UnicodeDecodeError, tried: str
) -> FileRejected:
    line = data.count(b"\n", 0, error.start) + 1
    return FileRejected(
        source_file,
        f"cannot be decoded as {tried}: byte 0x{data[error.start]:02x} at offset {error.start}",
        line=line,
    )
