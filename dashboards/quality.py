"""The Data quality page: what each drop's files did at ingest (load log), the
quarantined rows with their reasons, each publication's contract results (per feed, and
per rule of each contract), its Great Expectations Data Docs, and the references that
still wait for their master."""

from __future__ import annotations

import io
import zipfile
from functools import lru_cache
from pathlib import Path

import polars as pl

from dashboards.data import LATEST, Publication, publications, require

SEARCHED = ("source_file", "column_name", "rule", "message", "key_text", "original_text")


def load_log(publication: Publication, statuses: tuple[str, ...] = ()) -> pl.DataFrame:
    log = require(publication.dataset("load_log"), "load_log", publication)
    if statuses:
        log = log.filter(pl.col("status").is_in(list(statuses)))
    return log


def drops(publication: Publication) -> pl.DataFrame:
    """Per drop: files, rows read, loaded, quarantined, files rejected."""
    log = require(publication.dataset("load_log"), "load_log", publication)
    return (
        log.group_by("drop_date")
        .agg(
            pl.len().alias("files"),
            pl.col("rows_read").sum(),
            pl.col("rows_loaded").sum(),
            pl.col("rows_quarantined").sum(),
            (pl.col("status") == "rejected").sum().alias("files_rejected"),
            (pl.col("status") == "unknown").sum().alias("files_unknown"),
        )
        .sort("drop_date", descending=True)
    )


def quarantine(publication: Publication, text: str = "", rule: str | None = None) -> pl.DataFrame:
    """Quarantined rows whose file, column, rule, message, key or original text contain
    `text` (case-insensitive, literal)."""
    rows = require(publication.dataset("quarantine"), "quarantine", publication)
    if rule:
        rows = rows.filter(pl.col("rule") == rule)
    needle = text.strip().lower()
    if needle:
        rows = rows.filter(
            pl.any_horizontal(
                pl.col(c).cast(pl.String).str.to_lowercase().str.contains(needle, literal=True)
                for c in SEARCHED
            ).fill_null(False)
        )
    return rows


def quarantine_by_rule(publication: Publication) -> pl.DataFrame:
    rows = require(publication.dataset("quarantine"), "quarantine", publication)
    return (
        rows.group_by("rule", "source_file")
        .agg(pl.len().alias("rows"))
        .sort("rows", descending=True)
    )


def contract_results(publication: Publication) -> pl.DataFrame:
    """Every published run date's feeds: published (rows, contract version, rules of its
    contract checked and broken) or skipped with the reason. Feeds are validated against
    their contracts before publishing, so every published feed passed; a run that broke
    one published nothing."""
    rows = []
    for run in publications(publication.root):
        manifest = run.manifest
        for feed, entry in manifest["feeds"].items():
            rules = entry.get("expectations")
            rows.append(
                {
                    "as_of": run.as_of,
                    "run_id": manifest["run_id"],
                    "feed": feed,
                    "status": entry["status"],
                    "rows": entry.get("rows"),
                    "contract_version": entry.get("contract_version"),
                    "rules_checked": len(rules) if rules is not None else None,
                    "rules_broken": (
                        sum(not r["success"] for r in rules) if rules is not None else None
                    ),
                    "note": entry.get("note"),
                }
            )
    return pl.DataFrame(
        rows,
        schema={
            "as_of": pl.Date,
            "run_id": pl.String,
            "feed": pl.String,
            "status": pl.String,
            "rows": pl.Int64,
            "contract_version": pl.String,
            "rules_checked": pl.Int64,
            "rules_broken": pl.Int64,
            "note": pl.String,
        },
    )


# a rule's outcome on a run's rows: it held, rows broke it, or it could not run
OUTCOMES = ("passed", "failed", "error")
EXPECTATION_SCHEMA = {
    "as_of": pl.Date,
    "run_id": pl.String,
    "feed": pl.String,
    "rule": pl.String,
    "column_name": pl.String,
    "check": pl.String,
    "outcome": pl.String,
    "rows": pl.Int64,
    "unexpected": pl.Int64,
    "examples": pl.String,
}


def _outcome(record: dict) -> str:
    if record.get("error"):
        return "error"
    return "passed" if record["success"] else "failed"


def expectation_results(
    publication: Publication, feeds: tuple[str, ...] = (), outcomes: tuple[str, ...] = ()
) -> pl.DataFrame:
    """Every rule of every published feed's contract, as checked in each published run
    (newest first): the rule, its column, the Great Expectations check, the outcome, and
    how many rows broke it with a few examples. Filtered to `feeds` and `outcomes` when
    given. Runs published before the manifest carried rules add no rows."""
    rows = []
    for run in publications(publication.root):
        manifest = run.manifest
        for feed, entry in manifest["feeds"].items():
            for record in entry.get("expectations", ()):
                rows.append(
                    {
                        "as_of": run.as_of,
                        "run_id": manifest["run_id"],
                        "feed": feed,
                        "rule": record["rule"],
                        "column_name": record["column"],
                        "check": record["check"],
                        "outcome": _outcome(record),
                        "rows": entry.get("rows"),
                        "unexpected": record.get("unexpected", 0),
                        "examples": ", ".join(record.get("examples", ())) or None,
                    }
                )
    frame = pl.DataFrame(rows, schema=EXPECTATION_SCHEMA)
    if feeds:
        frame = frame.filter(pl.col("feed").is_in(list(feeds)))
    if outcomes:
        frame = frame.filter(pl.col("outcome").is_in(list(outcomes)))
    return frame


def data_docs_index(publication: Publication) -> Path | None:
    """The index page of the publication's Great Expectations Data Docs, through the
    `latest` link when it is the latest publication (a path that stays valid run after
    run, to bookmark), as an absolute path a browser opens; None when the publication
    has no Data Docs (published before they were built)."""
    docs = publication.manifest.get("data_docs", {})
    if "index" not in docs or not (publication.folder / docs["index"]).is_file():
        return None
    latest = publication.root / LATEST
    base = latest if latest.resolve() == publication.folder else publication.folder
    return base.absolute() / docs["index"]


def data_docs_zip(publication: Publication) -> bytes:
    """The publication's Data Docs site as a zip (index.html at its top)."""
    docs = publication.manifest["data_docs"]["index"]
    return _zip_folder(str((publication.folder / docs).parent))


@lru_cache(maxsize=4)
def _zip_folder(folder: str) -> bytes:
    # a publication never changes once written: its path is a safe cache key
    buffer = io.BytesIO()
    root = Path(folder)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(root).as_posix())
    return buffer.getvalue()


def unresolved_references(publication: Publication) -> pl.DataFrame | None:
    return publication.dataset("unresolved_references")
