"""Great Expectations Data Docs of one publication's feed validations.

Every publication carries a static site (`_data_docs/index.html` and its pages) built by
Great Expectations' own SiteBuilder from the suites and validation results of its feeds
(`data_contracts.feeds.validate_feed`): one page per feed contract (the expectation suite)
and one per validation. It is built into the publication's staging folder, so it becomes
visible with the feeds it describes and never changes afterwards.

Building needs no network. Viewing does, partly: GE's pages load Bootstrap, jQuery and
bootstrap-table from public CDNs; the index lists its pages through bootstrap-table, so
offline only the suite and validation pages themselves read well.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from data_contracts.feeds import FeedValidation

DOCS_DIR = "_data_docs"
INDEX = "index.html"
SITE_NAME = "publication"
# GE's raw validation results (its own JSON) beside the site: a republication that
# re-validates only some feeds rebuilds the site from these without re-reading the rest
RESULTS_DIR = "results"


def _result_key(validation_name: str, suite_name: str, run_name: str, run_time: datetime):
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    return ValidationResultIdentifier(
        ExpectationSuiteIdentifier(suite_name),
        RunIdentifier(run_name=run_name, run_time=run_time),
        validation_name,
    )


def build_data_docs(
    folder: Path,
    validations: Iterable[FeedValidation],
    run_name: str,
    run_time: datetime,
    previous: Path | None = None,
) -> Path:
    """Build the Data Docs of `validations` into `folder` (created); returns its index page.

    `previous` is an earlier publication's docs folder: the validation results kept there
    for feeds not in `validations` are carried into this site (a republication of the
    planners' decisions re-validates only the approval feeds)."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    suites, validation_results = context.expectations_store, context.validation_results_store
    results = folder / RESULTS_DIR
    results.mkdir(parents=True)
    stored: dict[str, tuple[dict, dict, str, datetime]] = {}
    if previous is not None and (previous / RESULTS_DIR).is_dir():
        for path in sorted((previous / RESULTS_DIR).glob("*.json")):
            kept = json.loads(path.read_text(encoding="utf-8"))
            stored[path.stem] = (
                kept["suite"],
                kept["result"],
                kept["run_name"],
                datetime.fromisoformat(kept["run_time"]),
            )
    for validation in validations:
        if validation.suite is None or validation.ge_result is None:
            continue  # the rows never reached Great Expectations (missing columns)
        result = json.loads(validation_results.serialize(validation.ge_result))
        # what the pages show as the run and the data asset: the publication and the feed
        result["meta"]["run_id"] = {"run_name": run_name, "run_time": run_time.isoformat()}
        result["meta"]["batch_kwargs"] = {"data_asset_name": validation.feed}
        stored[validation.feed] = (
            json.loads(suites.serialize(validation.suite)),
            result,
            run_name,
            run_time,
        )
    for feed, (suite, result, result_run, result_time) in sorted(stored.items()):
        (results / f"{feed}.json").write_text(
            json.dumps(
                {
                    "run_name": result_run,
                    "run_time": result_time.isoformat(),
                    "suite": suite,
                    "result": result,
                },
                ensure_ascii=False,
                default=str,
            ),
            encoding="utf-8",
        )
        context.suites.add(suites.deserialize_suite_dict(suites.deserialize(suite)))
        validation_results.set(
            _result_key(feed, suite["name"], result_run, result_time),
            validation_results.deserialize(result),
        )
    site = folder.absolute()  # GE refuses a relative root (`wmsight run --feeds demo_data/feeds`)
    builder = _site_builder_class()(
        data_context=context,
        store_backend={"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site)},
        site_name=SITE_NAME,
        show_how_to_buttons=False,
        runtime_environment={"root_directory": str(site)},
    )
    builder.build()
    return folder / INDEX


def _site_builder_class():
    """GE's SiteBuilder, copying only the static files its pages can use: GE ships 3.3 MB
    of how-to animations (of 4 MB) that no template names, and every publication carries
    its own site."""
    from great_expectations.render.renderer.site_builder import SiteBuilder

    class PublicationSiteBuilder(SiteBuilder):
        def build(self, resource_identifiers=None, build_index: bool = True):
            for section_builder in self.site_section_builders.values():
                section_builder.build(resource_identifiers=resource_identifiers)
            site = self.target_store.store_backends["static_assets"].full_base_directory
            _copy_static_assets(Path(site))
            _, index_links = self.site_index_builder.build(build_index=build_index)
            return self.get_resource_url(only_if_exists=False), index_links

    return PublicationSiteBuilder


def _copy_static_assets(site: Path) -> None:
    import great_expectations.render.view as views

    source = Path(views.__file__).parent
    templates = " ".join(
        path.read_text(encoding="utf-8") for path in (source / "templates").glob("*.j2")
    )
    for path in sorted((source / "static").rglob("*")):
        if path.is_dir() or (path.parent.name == "images" and path.name not in templates):
            continue
        target = site / "static" / path.relative_to(source / "static")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
