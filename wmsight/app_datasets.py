"""The datasets the dashboard reads beside the feeds, published with them.

The dashboard never opens the warehouse: DuckDB has one writer, and a page must not wait
for (or block) a running pipeline. So every publication carries, in `_app/`, the few
extra tables the pages need (history behind the charts, the load log, the identity
records behind a customer, …). They are written and switched in with the feeds, so the
app always shows one consistent run. They are internal to the app, not feeds: no
downstream system should read them, and their columns may change without notice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

import duckdb
import pyarrow as pa

log = logging.getLogger(__name__)

APP_DIR = "_app"
# History behind the SKU charts: enough for a year-on-year look, small enough to load fast.
HISTORY_DAYS = 365


@dataclass(frozen=True)
class Dataset:
    name: str
    needs: tuple[str, ...]  # tables that must exist
    sql: str  # may use $as_of
    after_feed: str | None = None  # published only with this feed (same run, fresh rows)


DATASETS: tuple[Dataset, ...] = (
    Dataset(
        "warehouses",
        ("marts.dim_warehouse",),
        """SELECT warehouse_id, warehouse_name, region, province, city
        FROM marts.dim_warehouse WHERE NOT is_unknown_member ORDER BY warehouse_id""",
    ),
    Dataset(
        "products",
        ("marts.dim_product",),
        """SELECT sku, product_name, category, brand, unit_cost_cny::DOUBLE AS unit_cost_cny,
               unit_price_cny::DOUBLE AS unit_price_cny, lead_time_days, moq, pack_size,
               product_status
        FROM marts.dim_product WHERE NOT is_unknown_member ORDER BY sku""",
    ),
    Dataset(
        "kpi_components",
        ("marts.fct_kpi_daily_components",),
        """SELECT date, warehouse_id, channel, metric, numerator, denominator, observations
        FROM marts.fct_kpi_daily_components WHERE date <= $as_of
        ORDER BY date, warehouse_id, channel, metric""",
        after_feed="kpi_daily",
    ),
    Dataset(
        "orders",
        ("marts.fct_order_lines",),
        """SELECT order_id, any_value(channel) AS channel, any_value(platform) AS platform,
               any_value(customer_key) AS customer_key,
               any_value(warehouse_id) AS warehouse_id, min(ordered_at) AS ordered_at,
               max(delivered_at) AS delivered_at, any_value(order_status) AS status,
               count(*) AS lines, sum(ordered_qty)::BIGINT AS units,
               sum(line_amount_cny)::DOUBLE AS amount_cny,
               sum(returned_qty)::BIGINT AS returned_units,
               bool_or(is_mis_shipment) AS mis_shipped, bool_and(is_on_time) AS on_time
        FROM marts.fct_order_lines WHERE ordered_at::DATE <= $as_of
        GROUP BY order_id ORDER BY order_id""",
    ),
    Dataset(
        "customer_sources",
        ("marts.dim_customer_source_record",),
        """SELECT customer_key, source_system, source_id, match_rule, match_score,
               source_name, contact_name, phone, email, tax_id, province, city,
               account_manager
        FROM marts.dim_customer_source_record ORDER BY customer_key, source_system, source_id""",
        after_feed="customer_360",
    ),
    Dataset(
        "feedback",
        ("marts.fct_feedback",),
        """SELECT feedback_id, customer_key, submitted_at, score, category, department,
               severity, severity_reason, comment, channel, order_ref, warehouse_id
        FROM marts.fct_feedback WHERE submitted_on <= $as_of ORDER BY feedback_id""",
        after_feed="feedback_routing",
    ),
    Dataset(
        "tier_history",
        ("marts.fct_customer_tier_history",),
        """SELECT customer_key, month, tier, previous_tier
        FROM marts.fct_customer_tier_history WHERE month <= $as_of
        ORDER BY customer_key, month""",
        after_feed="customer_360",
    ),
    Dataset(
        "demand_history",
        ("marts.fct_inventory_daily",),
        f"""SELECT warehouse_id, sku, position_date AS date, ordered_qty::BIGINT AS ordered,
               shipped_qty::BIGINT AS shipped, on_hand, available, is_stockout
        FROM marts.fct_inventory_daily
        WHERE position_date > $as_of - INTERVAL {HISTORY_DAYS} DAY AND position_date <= $as_of
        ORDER BY warehouse_id, sku, date""",
        after_feed="replenishment_plan",
    ),
    Dataset(
        "forecast_accuracy",
        ("ml.forecast_accuracy", "ml.forecast_series"),
        """SELECT a.warehouse_id, a.sku, a.model, s.demand_class, s.reason, c.abc_class,
               a.wape, a.mase, a.bias, a.baseline_wape, a.baseline_mase, a.n_origins,
               a.actual_sum, a.abs_error_sum, a.error_sum, a.baseline_abs_error_sum
        FROM ml.forecast_accuracy AS a
        JOIN ml.forecast_series AS s USING (warehouse_id, sku)
        LEFT JOIN marts.fct_sku_classification AS c USING (warehouse_id, sku)
        ORDER BY a.warehouse_id, a.sku""",
        after_feed="demand_forecast",
    ),
    Dataset(
        "forecast_series",
        ("ml.forecast_series",),
        """SELECT warehouse_id, sku, demand_class, model, reason, history_days
        FROM ml.forecast_series ORDER BY warehouse_id, sku""",
        after_feed="demand_forecast",
    ),
    Dataset(
        "purchase_proposals",
        ("ml.purchase_proposals",),
        """SELECT proposal_id, warehouse_id, supplier_id, lines, units, value_cny,
               earliest_stockout_date
        FROM ml.purchase_proposals ORDER BY warehouse_id, supplier_id""",
        after_feed="replenishment_plan",
    ),
    Dataset(
        "simulation_results",
        ("ml.simulation_results",),
        "SELECT * FROM ml.simulation_results ORDER BY ALL",
    ),
    Dataset(
        "load_log",
        ("raw.load_log",),
        """SELECT drop_date, source_file, status, encoding, rows_read, rows_loaded,
               rows_quarantined, extra_columns, missing_columns, message, started_at,
               finished_at
        FROM raw.load_log WHERE drop_date <= $as_of
        ORDER BY drop_date DESC, source_file, started_at""",
    ),
    Dataset(
        "quarantine",
        ("raw.quarantine",),
        """SELECT drop_date, source_file, line, column_name, rule, message, key_text,
               original_text
        FROM raw.quarantine WHERE drop_date <= $as_of
        ORDER BY drop_date DESC, source_file, line, column_name, rule""",
    ),
    Dataset(
        "unresolved_references",
        ("marts.fct_unresolved_references",),
        """SELECT source_file, fact_key, missing_reference, missing_id, first_seen_drop,
               last_seen_drop
        FROM marts.fct_unresolved_references ORDER BY ALL""",
    ),
)


def collect_datasets(
    con: duckdb.DuckDBPyConnection, existing: set[str], as_of: date, published: set[str]
) -> tuple[dict[str, pa.Table], dict[str, str]]:
    """The datasets this run can publish, and for the others the reason they are not."""
    tables: dict[str, pa.Table] = {}
    skipped: dict[str, str] = {}
    for dataset in DATASETS:
        missing = [name for name in dataset.needs if name not in existing]
        if missing:
            skipped[dataset.name] = f"not built: {', '.join(missing)} missing"
        elif dataset.after_feed and dataset.after_feed not in published:
            skipped[dataset.name] = f"feed {dataset.after_feed} not published in this run"
        else:
            params = {"as_of": as_of} if "$as_of" in dataset.sql else None
            try:
                tables[dataset.name] = con.sql(dataset.sql, params=params).to_arrow_table()
            except duckdb.Error as error:
                # the app shows the reason on its page; the feeds do not depend on it
                skipped[dataset.name] = f"could not be read: {error}"
                log.warning("dashboard dataset %s: could not be read: %s", dataset.name, error)
    return tables, skipped
