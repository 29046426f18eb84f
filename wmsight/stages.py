"""The pipeline's stages, in order. Later stages (dbt, forecasts, feeds) join this list."""

from __future__ import annotations

from ingest.errors import IngestError
from ingest.load import ingest_extracts
from wmsight.publish import PublishError, publish_feeds
from wmsight.runner import RunContext, Stage, StageOutcome
from wmsight.transform import DbtFailed, build_warehouse


def ingest_stage(context: RunContext) -> StageOutcome:
    result = ingest_extracts(
        context.extracts_dir,
        context.db_path,
        workers=context.ingest_workers,
        up_to=context.drops_up_to,
    )
    warnings = [
        f"{f.drop_date} {f.source_file}: {f.status} — {f.message}"
        for f in result.files
        if f.status in ("rejected", "unknown")
    ]
    up_to = context.drops_up_to
    if result.held_back:
        later = ", ".join(str(d) for d in result.held_back)
        warnings.append(
            f"{len(result.held_back)} drop(s) after {up_to} not loaded ({later}): "
            "the run is as of that date; a run without --as-of loads them"
        )
    if result.loaded_later:
        later = ", ".join(str(d) for d in result.loaded_later)
        warnings.append(
            f"this warehouse already holds {len(result.loaded_later)} drop(s) after {up_to} "
            f"({later}) and builds from them too: to replay {up_to} alone, run on a new "
            "warehouse (--db)"
        )
    if result.rows_quarantined:
        warnings.append(f"{result.rows_quarantined:,} row(s) quarantined (see raw.quarantine)")
    changed = [f for f in result.files if f.status != "unchanged"]
    return StageOutcome(
        summary=(
            f"{len(result.drops)} drop(s), {len(changed)} file(s) processed, "
            f"{result.rows_loaded:,} rows loaded, {result.rows_quarantined:,} quarantined"
        ),
        warnings=warnings,
        metrics={"rows_loaded": result.rows_loaded, "rows_quarantined": result.rows_quarantined},
    )


def transform_stage(context: RunContext) -> StageOutcome:
    result = build_warehouse(context.db_path)
    return StageOutcome(summary=result.summary(), metrics={"dbt_nodes": result.nodes_run})


def forecast_stage(context: RunContext) -> StageOutcome:
    from models_ml.demand import WAREHOUSE_SOURCE, NoDemandData
    from models_ml.forecast import run_forecast

    try:
        result = run_forecast(context.db_path, as_of=context.as_of, config=context.forecast)
    except NoDemandData as error:  # e.g. a CRM-only first try: customers and feedback publish
        return StageOutcome(summary=f"skipped — {error}", skipped=True)
    if result.series == 0:
        # e.g. online orders only: without erp/warehouses.csv no order has a warehouse
        return StageOutcome(
            summary="skipped — no order line has a known warehouse to forecast for "
            f"(warehouses come from {WAREHOUSE_SOURCE})",
            skipped=True,
        )
    return StageOutcome(
        summary=f"{result.summary()} ({result.seconds:.1f} s)",
        metrics={
            "forecast_series": result.series,
            "forecast_rows": result.forecast_rows,
            "forecast_wape": result.wape,
            "forecast_baseline_wape": result.baseline_wape,
        },
    )


def plan_stage(context: RunContext) -> StageOutcome:
    from models_ml.replenishment import PlanInputError, run_replenishment

    try:
        result = run_replenishment(context.db_path, as_of=context.as_of, config=context.plan)
    except PlanInputError as error:
        # e.g. a business without stock snapshots: forecasts and the rest still publish
        return StageOutcome(summary=f"skipped — {error}", skipped=True)
    return StageOutcome(
        summary=result.summary(),
        warnings=result.warnings,
        metrics={
            "plan_rows": result.plan.height,
            "order_lines": int((result.plan["recommended_order_qty"] > 0).sum()),
            "transfers": result.transfers.height,
        },
    )


def customers_stage(context: RunContext) -> StageOutcome:
    from models_ml.churn import ChurnInputError, run_customer_intelligence

    try:
        result = run_customer_intelligence(context.db_path, as_of=context.as_of)
    except ChurnInputError as error:  # no order history to learn from: nothing to score
        return StageOutcome(summary=f"skipped: {error}", skipped=True)
    scores = result.scores.scores
    return StageOutcome(
        summary=f"{result.summary()} ({result.seconds:.1f} s)",
        metrics={
            "customers_scored": scores.height,
            "churn_alerts": result.alerts.height,
            "customers_at_risk": int((scores["churn_probability"] >= 0.5).sum()),
        },
    )


def publish_stage(context: RunContext) -> StageOutcome:
    result = publish_feeds(
        context.db_path,
        context.feeds_dir,
        as_of=context.as_of,
        csv=context.csv,
        keep_runs=context.keep_runs,
    )
    published = ", ".join(f"{f.feed} {f.rows:,}" for f in result.published)
    return StageOutcome(
        summary=f"{result.as_of}: {len(result.published)} feed(s) published ({published}) "
        f"to {result.folder}",
        warnings=[f"{f.feed}: skipped — {f.note}" for f in result.skipped]
        + [f"{f.feed}: {f.note}" for f in result.published if f.note],
        metrics={f"rows_{f.feed}": f.rows for f in result.published},
    )


PIPELINE: list[Stage] = [
    Stage(
        "ingest",
        "load new extract drops into DuckDB raw, checked by the contracts",
        ingest_stage,
        expected_errors=(IngestError,),
    ),
    Stage(
        "transform",
        "build the warehouse with dbt (staging, marts, tests)",
        transform_stage,
        expected_errors=(DbtFailed,),
    ),
    Stage(
        "forecast",
        "demand forecasts per warehouse and SKU, backtested against seasonal naive (ml schema)",
        forecast_stage,
    ),
    Stage(
        "plan",
        "replenishment plan, transfers and purchase proposals per warehouse (ml schema)",
        plan_stage,
    ),
    Stage(
        "customers",
        "customer intelligence: churn probability, next order, 12-month value, alerts (ml schema)",
        customers_stage,
    ),
    Stage(
        "publish",
        "validate the feeds against their contracts and publish them",
        publish_stage,
        expected_errors=(PublishError,),
    ),
]
