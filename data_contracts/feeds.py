"""Contracts of the published feeds (`../shared/FEEDS.md` is the interface).

A feed's contract names its grain (unique key), the columns a downstream system may
rely on with their Arrow types, which of them are never empty, and the values they
may take. Adding a column is allowed (the contract lists "at least" these); renaming or
removing one is a breaking change and bumps `version`.

`feed_suite` turns a contract into a Great Expectations suite; `validate_feed` checks a
feed's Arrow table against its schema and runs that suite, returning every rule's outcome
(`FeedValidation`, which `wmsight.publish` records in the manifest and renders as Data
Docs, `data_contracts.data_docs`); `wmsight.publish` refuses to publish a feed that fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    import great_expectations as gx
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResult,
    )

STRING, DATE, TIMESTAMP, FLOAT, INT, BOOL = (
    pa.string(),
    pa.date32(),
    pa.timestamp("us"),
    pa.float64(),
    pa.int64(),
    pa.bool_(),
)
STRINGS = pa.list_(pa.string())


@dataclass(frozen=True)
class FeedColumn:
    name: str
    type: pa.DataType
    required: bool = False  # never null
    minimum: float | None = None
    maximum: float | None = None
    values: tuple[str, ...] | None = None  # the only values allowed (when not null)


@dataclass(frozen=True)
class FeedContract:
    name: str
    version: str
    grain: str  # one sentence, for the manifest and the docs
    key: tuple[str, ...]
    columns: tuple[FeedColumn, ...]
    # extra columns a feed may carry beyond the contract are kept, unchecked
    notes: tuple[str, ...] = field(default_factory=tuple)

    def column(self, name: str) -> FeedColumn:
        return next(c for c in self.columns if c.name == name)


def _c(name: str, type_: pa.DataType, required: bool = False, **rules) -> FeedColumn:
    return FeedColumn(name, type_, required, **rules)


SEVERITIES = ("low", "medium", "high", "critical")
RATE = {"minimum": 0.0, "maximum": 1.0}
NON_NEGATIVE = {"minimum": 0.0}

FEEDS: tuple[FeedContract, ...] = (
    FeedContract(
        "customer_360",
        "1.0",
        "One row per customer (customer_key) of the single customer view.",
        ("customer_key",),
        (
            _c("customer_key", STRING, True),
            _c("display_name", STRING),
            _c("crm_ids", STRINGS, True),
            _c("erp_codes", STRINGS, True),
            _c("buyer_ids", STRINGS, True),
            _c("province", STRING),
            _c("region", STRING),
            _c("tier", STRING),
            _c("r_score", INT, minimum=1, maximum=5),
            _c("f_score", INT, minimum=1, maximum=5),
            _c("m_score", INT, minimum=1, maximum=5),
            _c("rfm_segment", STRING),
            _c("revenue_12m", FLOAT, **NON_NEGATIVE),
            _c("orders_12m", INT, **NON_NEGATIVE),
            _c("last_order_at", TIMESTAMP),
            _c("avg_satisfaction", FLOAT, minimum=1.0, maximum=5.0),
            _c("return_rate", FLOAT, **NON_NEGATIVE),
            _c("churn_probability", FLOAT, **RATE),
            _c("expected_next_order_date", DATE),
        ),
    ),
    FeedContract(
        "churn_alerts",
        "1.0",
        "One row per customer and alert type.",
        ("customer_key", "alert_type"),
        (
            _c("customer_key", STRING, True),
            _c("alert_type", STRING, True),
            _c("severity", STRING, True, values=SEVERITIES),
            _c("reason", STRING, True),
            _c("recommended_action", STRING, True),
            _c("raised_on", DATE, True),
        ),
    ),
    FeedContract(
        "demand_forecast",
        "1.0",
        "One row per warehouse, SKU and forecast date.",
        ("warehouse_id", "sku", "date"),
        (
            _c("warehouse_id", STRING, True),
            _c("sku", STRING, True),
            _c("date", DATE, True),
            _c("yhat", FLOAT, True, **NON_NEGATIVE),
            _c("yhat_lower", FLOAT, True, **NON_NEGATIVE),
            _c("yhat_upper", FLOAT, True, **NON_NEGATIVE),
            _c("model", STRING, True),
        ),
    ),
    FeedContract(
        "replenishment_plan",
        "1.0",
        "One row per warehouse and SKU.",
        ("warehouse_id", "sku"),
        (
            _c("warehouse_id", STRING, True),
            _c("sku", STRING, True),
            _c("on_hand", FLOAT, True),
            _c("available", FLOAT, True),
            _c("on_order", FLOAT, True, **NON_NEGATIVE),
            _c("lead_time_days", FLOAT, True, **NON_NEGATIVE),
            _c("forecast_demand_lead_time", FLOAT, True, **NON_NEGATIVE),
            _c("safety_stock", FLOAT, True, **NON_NEGATIVE),
            _c("reorder_point", FLOAT, True, **NON_NEGATIVE),
            _c("order_up_to", FLOAT, True, **NON_NEGATIVE),
            _c("eoq", FLOAT, **NON_NEGATIVE),
            _c("recommended_order_qty", FLOAT, True, **NON_NEGATIVE),
            _c("days_of_cover", FLOAT, **NON_NEGATIVE),
            _c("projected_stockout_date", DATE),
            _c("service_level_target", FLOAT, True, **RATE),
            _c("abc_class", STRING),
            _c("reason", STRING, True),
        ),
    ),
    FeedContract(
        "transfer_recommendations",
        "1.0",
        "One row per source warehouse, destination warehouse and SKU.",
        ("from_warehouse_id", "to_warehouse_id", "sku"),
        (
            _c("from_warehouse_id", STRING, True),
            _c("to_warehouse_id", STRING, True),
            _c("sku", STRING, True),
            _c("qty", FLOAT, True, minimum=0.0),
            _c("reason", STRING, True),
        ),
    ),
    FeedContract(
        "feedback_routing",
        "1.0",
        "One row per feedback_id.",
        ("feedback_id",),
        (
            _c("feedback_id", STRING, True),
            _c("customer_key", STRING, True),
            _c("category", STRING, True),
            _c("department", STRING, True),
            _c("severity", STRING, True),
        ),
    ),
    FeedContract(
        "rule_actions",
        "1.0",
        "One row per customer and rule.",
        ("customer_key", "rule_id"),
        (
            _c("customer_key", STRING, True),
            _c("rule_id", STRING, True),
            _c("action", STRING, True),
            _c("reason", STRING, True),
            _c("triggered_at", TIMESTAMP, True),
        ),
    ),
    FeedContract(
        "kpi_daily",
        "1.0",
        "One row per date, warehouse (or 'ALL') and metric.",
        ("date", "warehouse_id", "metric"),
        (
            _c("date", DATE, True),
            _c("warehouse_id", STRING, True),
            _c("metric", STRING, True),
            _c("value", FLOAT),
            _c("target", FLOAT),
        ),
    ),
)

# What planners decided in the dashboard's replenishment review, for the ERP to import:
# the lines of the plan of `plan_date` that were approved, as recommended or with a changed
# quantity (rejected lines are not orders). Published with every run and again after each
# decision (wmsight.publish.publish_decisions).
DECISION_COLUMNS = (
    _c("recommended_qty", INT, True, **NON_NEGATIVE),
    _c("approved_qty", INT, True, minimum=1.0),
    _c("decision", STRING, True, values=("approve", "change")),
    _c("comment", STRING),
    _c("decided_by", STRING, True),
    _c("decided_at", TIMESTAMP, True),
)
DECISION_FEEDS: tuple[FeedContract, ...] = (
    FeedContract(
        "approved_purchase_orders",
        "1.0",
        "One row per warehouse and SKU approved for purchase in the plan of plan_date.",
        ("warehouse_id", "sku"),
        (
            _c("plan_date", DATE, True),
            _c("warehouse_id", STRING, True),
            _c("sku", STRING, True),
            _c("supplier_id", STRING),
            _c("proposal_id", STRING),
            *DECISION_COLUMNS,
        ),
    ),
    FeedContract(
        "approved_transfers",
        "1.0",
        "One row per source warehouse, destination warehouse and SKU approved for transfer.",
        ("from_warehouse_id", "to_warehouse_id", "sku"),
        (
            _c("plan_date", DATE, True),
            _c("from_warehouse_id", STRING, True),
            _c("to_warehouse_id", STRING, True),
            _c("sku", STRING, True),
            *DECISION_COLUMNS,
        ),
    ),
)

FEEDS_BY_NAME = {feed.name: feed for feed in FEEDS + DECISION_FEEDS}

# kpi_daily metrics that are fractions between 0 and 1 (FEEDS.md: "Rates are fractions")
RATE_METRICS = (
    "on_time_rate",
    "fill_rate",
    "stockout_rate",
    "mis_shipment_rate",
    "return_rate",
    "satisfaction_rate",
    "inventory_accuracy",
)


@dataclass(frozen=True)
class RuleResult:
    """One rule of a feed's contract checked on one publication's rows."""

    rule: str  # the contract's name for it: schema, unique_key, required, range, …
    column: str  # the column (or key columns, comma-separated) it checks
    check: str  # the Great Expectations expectation type, or arrow_* for checks on Arrow
    success: bool
    checked: int  # rows (or, for the schema, columns) looked at
    unexpected: int = 0  # rows (columns) that break it
    examples: tuple[str, ...] = ()  # a few offending values, as text
    error: str = ""  # why the rule could not run (it then fails)

    def problem(self) -> str:
        """The broken rule in words, naming column, rule and count."""
        if self.error:
            return f"column {self.column}: rule {self.rule} could not run: {self.error}"
        broken = f"column {self.column}: rule {self.rule} broken by {self.unexpected} row(s)"
        return broken + (f" (e.g. {', '.join(self.examples)})" if self.examples else "")

    def as_record(self) -> dict:
        """Compact form for a publication's manifest."""
        record = {
            "rule": self.rule,
            "column": self.column,
            "check": self.check,
            "success": self.success,
            "unexpected": self.unexpected,
        }
        if self.examples:
            record["examples"] = list(self.examples)
        if self.error:
            record["error"] = self.error
        return record


@dataclass
class FeedValidation:
    """Every rule of a feed's contract checked on its rows, and what Great Expectations
    made of them (for the publication's Data Docs)."""

    feed: str
    rows: int
    results: list[RuleResult]
    suite: gx.ExpectationSuite | None = None
    ge_result: ExpectationSuiteValidationResult | None = None

    @property
    def success(self) -> bool:
        return all(result.success for result in self.results)

    def problems(self) -> list[str]:
        return [result.problem() for result in self.results if not result.success]


class FeedContractViolation(ValueError):
    """A feed broke its contract: it is not published. The message names every rule;
    `validation` holds every rule's outcome, when the rows could be checked at all."""

    def __init__(
        self, feed: str, problems: list[str], validation: FeedValidation | None = None
    ) -> None:
        self.feed = feed
        self.problems = problems
        self.validation = validation
        super().__init__(f"feed {feed} breaks its contract: " + "; ".join(problems))


def schema_problems(contract: FeedContract, schema: pa.Schema) -> list[str]:
    """Missing columns and columns of another type than the contract's."""
    problems = []
    for column in contract.columns:
        if column.name not in schema.names:
            problems.append(f"column {column.name}: missing")
        elif not schema.field(column.name).type.equals(column.type):
            problems.append(
                f"column {column.name}: type {schema.field(column.name).type}, "
                f"contract says {column.type}"
            )
    return problems


def feed_suite(contract: FeedContract) -> gx.ExpectationSuite:
    """The feed's rows as Great Expectations sees them: key unique and present, required
    columns filled, values within their bounds and sets."""
    # imported here: Great Expectations takes seconds to import, and readers of the
    # contracts (the dashboard, the DAG parser) need only the column lists
    import great_expectations as gx
    from great_expectations import expectations as gxe
    from great_expectations.expectations.row_conditions import Column

    suite = gx.ExpectationSuite(name=f"feed.{contract.name}")

    def add(expectation, rule: str, column: str) -> None:
        expectation.meta = {"rule": rule, "column": column}
        suite.add_expectation(expectation)

    if len(contract.key) == 1:
        add(gxe.ExpectColumnValuesToBeUnique(column=contract.key[0]), "unique_key", contract.key[0])
    else:
        add(
            gxe.ExpectCompoundColumnsToBeUnique(column_list=list(contract.key)),
            "unique_key",
            ",".join(contract.key),
        )
    for column in contract.columns:
        if pa.types.is_list(column.type):
            continue  # checked on the Arrow table: pandas has no list type to check
        if column.required or column.name in contract.key:
            add(gxe.ExpectColumnValuesToNotBeNull(column=column.name), "required", column.name)
        if column.minimum is not None or column.maximum is not None:
            add(
                gxe.ExpectColumnValuesToBeBetween(
                    column=column.name, min_value=column.minimum, max_value=column.maximum
                ),
                "range",
                column.name,
            )
        if column.values is not None:
            add(
                gxe.ExpectColumnValuesToBeInSet(column=column.name, value_set=list(column.values)),
                "allowed_values",
                column.name,
            )
    if contract.name == "kpi_daily":
        # rates are fractions (FEEDS.md); a rate outside [0, 1] is a bug upstream
        add(
            gxe.ExpectColumnValuesToBeBetween(
                column="value",
                min_value=0.0,
                max_value=1.0,
                row_condition=Column("metric").is_in(RATE_METRICS),
            ),
            "rate_between_0_and_1",
            "value",
        )
    return suite


# at most this many offending values per rule, each at most this long, in messages and
# the manifest: enough to recognise the problem, not a copy of the rows
EXAMPLES = 3
EXAMPLE_CHARS = 120


def _example(value: object) -> str:
    text = repr(value)
    return text if len(text) <= EXAMPLE_CHARS else text[: EXAMPLE_CHARS - 1] + "…"


def _schema_result(contract: FeedContract, problems: list[str]) -> RuleResult:
    return RuleResult(
        "columns",
        "*",
        "arrow_schema",
        not problems,
        checked=len(contract.columns),
        unexpected=len(problems),
        examples=tuple(problems[:EXAMPLES]),
    )


def validate_feed(contract: FeedContract, table: pa.Table) -> FeedValidation:
    """Check a feed's rows against its contract: every rule's outcome (rule, column, rows
    checked, rows breaking it, a few examples), with the Great Expectations suite and
    validation result behind them. Raises `FeedContractViolation` naming every broken
    rule, with counts and examples; the violation carries the same outcomes."""
    problems = schema_problems(contract, table.schema)
    if problems:
        validation = FeedValidation(
            contract.name, table.num_rows, [_schema_result(contract, problems)]
        )
        raise FeedContractViolation(contract.name, problems, validation)
    results = [_schema_result(contract, [])]
    for column in contract.columns:
        if pa.types.is_list(column.type) and column.required:
            nulls = table.column(column.name).null_count
            results.append(
                RuleResult(
                    "required",
                    column.name,
                    "arrow_null_count",
                    not nulls,
                    checked=table.num_rows,
                    unexpected=nulls,
                )
            )
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    checked = [c.name for c in contract.columns if not pa.types.is_list(c.type)]
    frame = table.select(checked).to_pandas()
    context = gx.get_context(mode="ephemeral")
    # a progress bar per feed would drown the run's own progress display
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (
        context.data_sources.add_pandas(f"feed_{contract.name}")
        .add_dataframe_asset("rows")
        .add_batch_definition_whole_dataframe("all")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    # an empty feed is checked too: every rule holds on no rows, and its Data Docs say so
    suite = feed_suite(contract)
    ge_result = batch.validate(suite, result_format={"result_format": "SUMMARY"})
    for outcome in ge_result.results:
        meta = outcome.expectation_config.meta
        details = outcome.result or {}
        error = ""
        if outcome.exception_info.get("raised_exception"):
            error = str(outcome.exception_info.get("exception_message"))
        unexpected = details.get("unexpected_count") or 0
        examples = (details.get("partial_unexpected_list") or [])[:EXAMPLES]
        results.append(
            RuleResult(
                meta["rule"],
                meta["column"],
                outcome.expectation_config.type,
                bool(outcome.success),
                checked=details.get("element_count", table.num_rows),
                unexpected=unexpected,
                examples=tuple(_example(value) for value in examples),
                error=error,
            )
        )
    validation = FeedValidation(contract.name, table.num_rows, results, suite, ge_result)
    if not validation.success:
        raise FeedContractViolation(contract.name, validation.problems(), validation)
    return validation
