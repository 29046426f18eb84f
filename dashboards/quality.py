"""The Data quality page: what each drop's files did at ingest (load log), the
quarantined rows with their reasons, each publication's contract results, and the
references that still wait for their master."""

from __future__ import annotations

import polars as pl

from dashboards.data import Publication, publications, require

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
    """Every published run date's feeds: published (rows, contract version) or skipped
    with the reason. Feeds are validated against their contracts before publishing, so
    every published feed passed; a run that broke one published nothing."""
    rows = []
    for run in publications(publication.root):
        manifest = run.manifest
        for feed, entry in manifest["feeds"].items():
            rows.append(
                {
                    "as_of": run.as_of,
                    "run_id": manifest["run_id"],
                    "feed": feed,
                    "status": entry["status"],
                    "rows": entry.get("rows"),
                    "contract_version": entry.get("contract_version"),
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
            "note": pl.String,
        },
    )


def unresolved_references(publication: Publication) -> pl.DataFrame | None:
    return publication.dataset("unresolved_references")
