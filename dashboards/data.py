"""What the dashboard reads: the latest publication of the feeds, never the warehouse.

A publication (`<feeds>/latest` → `.runs/<as-of>.<id>/`) is written once and never
changed, so a file read from it can be cached by its path for as long as the process
lives; a new publication has new paths. Pages therefore never wait on a running
pipeline (it publishes by switching a link) and never see half a run.

Every function here takes and returns Polars frames, with filters as Polars
expressions: user input never becomes SQL or a path.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import polars as pl

LATEST = "latest"
MANIFEST = "_manifest.json"
RUNS_DIR = ".runs"


class NoPublication(LookupError):
    """The feeds folder holds no publication yet (the pipeline has not published)."""


@lru_cache(maxsize=128)
def _read(path: str) -> pl.DataFrame:
    return pl.read_parquet(path)


@lru_cache(maxsize=32)
def _manifest(folder: str) -> dict:
    return json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Publication:
    """One published run: its feeds (`feed`) and the app's datasets (`dataset`)."""

    root: Path  # the feeds root
    folder: Path  # the resolved publication folder

    @property
    def manifest(self) -> dict:
        return _manifest(str(self.folder))

    @property
    def as_of(self) -> date:
        return date.fromisoformat(self.manifest["as_of"])

    @property
    def key(self) -> str:
        """Changes whenever what is published changes (a run, or planners' decisions)."""
        return self.folder.name

    def _entry(self, section: str, name: str) -> dict:
        return self.manifest.get(section, {}).get(name, {})

    def _file(self, section: str, name: str) -> pl.DataFrame | None:
        entry = self._entry(section, name)
        if "file" not in entry:
            return None
        path = (self.folder / entry["file"]).resolve()
        if not path.is_relative_to(self.folder):  # a manifest may only name its own files
            raise MissingData(name, f"the manifest names {entry['file']!r}, outside the run")
        return _read(str(path))

    def feed(self, name: str) -> pl.DataFrame | None:
        return self._file("feeds", name)

    def dataset(self, name: str) -> pl.DataFrame | None:
        return self._file("app_datasets", name)

    def why_missing(self, name: str) -> str:
        """Why a feed or dataset is not in this publication (the manifest's note)."""
        entry = self._entry("feeds", name) or self._entry("app_datasets", name)
        return entry.get("note", "not in this publication")


def latest_publication(feeds_root: Path) -> Publication:
    """The publication `latest` names now. Raises NoPublication when there is none."""
    link = Path(feeds_root) / LATEST
    if not link.exists():
        raise NoPublication(f"no publication in {feeds_root} yet: run `wmsight run` first")
    return Publication(Path(feeds_root), link.resolve())


def publications(feeds_root: Path) -> list[Publication]:
    """Every run date still published, newest first (for the data-quality history)."""
    root = Path(feeds_root)
    found = []
    for entry in root.iterdir() if root.is_dir() else []:
        if entry.name == LATEST or not entry.is_symlink():
            continue
        try:
            date.fromisoformat(entry.name)
        except ValueError:
            continue
        folder = Path(os.path.realpath(entry))
        if (folder / MANIFEST).exists():
            found.append(Publication(root, folder))
    return sorted(found, key=lambda p: p.as_of, reverse=True)


def require(frame: pl.DataFrame | None, name: str, publication: Publication) -> pl.DataFrame:
    if frame is None:
        raise MissingData(name, publication.why_missing(name))
    return frame


class MissingData(LookupError):
    """A page needs a feed or dataset this publication does not carry; says why."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"{name}: {reason}")
