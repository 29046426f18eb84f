"""Errors that ingest reports to a person: each names the file and, where there is one, the line."""

from __future__ import annotations


class IngestError(Exception):
    """Base class for problems found while loading extracts."""


class FileRejected(IngestError):
    """A file that cannot be read as a whole: it is rejected whole and nothing of it loads."""

    def __init__(self, source_file: str, reason: str, line: int | None = None) -> None:
        self.source_file = source_file
        self.reason = reason
        self.line = line
        where = f"{source_file}, line {line}" if line else source_file
        super().__init__(f"{where}: {reason}")
