"""The whole pipeline on real e-commerce orders nobody here wrote, its figures checked
against the same figures computed straight from the source files.

    uv run python bench/olist.py [--external ../shared/external] [--out DIR]

Reads `olist_sample3000` of `../shared/external/` (see its README; never copied into this
repository): 3,000 real orders of the Brazilian marketplace Olist, with their items,
buyers and reviews. When it is not there, the script says so and exits 0.

The files are written as one extract drop in the shape of ../shared/EXTRACTS.md:
- ecommerce/orders.jsonl: one order per Olist order, platform own_site; the buyer is
  Olist's `customer_unique_id` (one person across orders; `customer_id` is per order);
  created/paid/shipped/delivered from the purchase, approval, carrier and customer
  timestamps; one item per product with its unit count and mean price; statuses
  canceled and unavailable → cancelled, invoiced/processing/approved → paid.
  The 27 Brazilian states are assigned to Chinese provinces in code order (only so that
  orders are allocated to a warehouse; no geography is meant), and the demo's seven
  warehouses ship them.
- erp/products.csv: every product, its median price, a cost of 60 % of it.
- crm/feedback.csv: every review (score, title and message as the comment).

`wmsight run` then loads, builds, forecasts, scores and publishes it (no stock records,
so no plan), and the script prints, for each figure, the value computed from the Olist
files with DuckDB and the pipeline's value, and exits 1 when one differs. The last
figure is a rule rather than a count: buyers with the same number of orders (one) must
share one RFM frequency score.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import polars as pl

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from wmsight.demo.geography import WAREHOUSES  # noqa: E402

DEFAULT_EXTERNAL = REPO.parent / "shared" / "external"
PROVINCES = REPO / "dbt_project" / "seeds" / "province_regions.csv"
STATUS = {
    "delivered": "delivered",
    "shipped": "shipped",
    "canceled": "cancelled",
    "unavailable": "cancelled",
    "invoiced": "paid",
    "processing": "paid",
    "approved": "paid",
    "created": "created",
}


def write_drop(olist: Path, extracts: Path) -> Path:
    """The Olist files as one drop, dated the day of their last event."""

    def read(name: str) -> pl.DataFrame:
        return pl.read_csv(olist / f"olist_{name}_dataset.csv", infer_schema=False)

    orders, customers, items = read("orders"), read("customers"), read("order_items")
    reviews, products = read("order_reviews"), read("products")
    categories = pl.read_csv(olist / "product_category_name_translation.csv", infer_schema=False)

    last_event = max(
        orders["order_purchase_timestamp"].max(),
        orders["order_delivered_customer_date"].max(),
        reviews["review_creation_date"].max(),
    )
    drop = extracts / last_event[:10]
    for system in ("ecommerce", "erp", "crm"):
        (drop / system).mkdir(parents=True, exist_ok=True)

    provinces = pl.read_csv(PROVINCES)["province"].to_list()
    states = sorted(customers["customer_state"].unique().to_list())
    province_of = {state: provinces[i % len(provinces)] for i, state in enumerate(states)}

    lines = (
        items.group_by("order_id", "product_id")
        .agg(
            pl.len().alias("qty"),
            pl.col("price").cast(pl.Float64).mean().round(2).alias("unit_price_cny"),
            pl.col("order_item_id").cast(pl.Int64).min().alias("first_item"),
        )
        .sort("order_id", "first_item")
    )
    items_of: dict[str, list[dict]] = {}
    for line in lines.iter_rows(named=True):
        items_of.setdefault(line["order_id"], []).append(
            {
                "sku": line["product_id"],
                "qty": line["qty"],
                "unit_price_cny": line["unit_price_cny"],
                "discount_cny": 0.0,
            }
        )
    with (drop / "ecommerce" / "orders.jsonl").open("w", encoding="utf-8") as out:
        for order in orders.join(customers, on="customer_id", how="left").iter_rows(named=True):
            record = {
                "order_id": order["order_id"],
                "platform": "own_site",
                "buyer": {
                    "buyer_id": order["customer_unique_id"],
                    "nickname": None,
                    "phone": None,
                    "email": None,
                },
                "ship_to": {
                    "province": province_of[order["customer_state"]],
                    "city": order["customer_city"],
                    "district": None,
                },
                "created_at": order["order_purchase_timestamp"],
                "paid_at": order["order_approved_at"],
                "shipped_at": order["order_delivered_carrier_date"],
                "delivered_at": order["order_delivered_customer_date"],
                "cancelled_at": None,
                "status": STATUS[order["order_status"]],
                "warehouse_id": None,
                "items": items_of.get(order["order_id"], []),
                "updated_at": order["order_purchase_timestamp"],
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")

    median_price = items.group_by("product_id").agg(
        pl.col("price").cast(pl.Float64).median().round(2).alias("unit_price_cny")
    )
    category = pl.coalesce("product_category_name_english", pl.lit("unknown"))
    (
        products.join(categories, on="product_category_name", how="left")
        .join(median_price, on="product_id", how="left")
        .select(
            pl.col("product_id").alias("sku"),
            (category + " " + pl.col("product_id").str.slice(0, 6)).alias("name"),
            category.alias("category"),
            pl.lit(None, pl.String).alias("brand"),
            (pl.col("unit_price_cny") * 0.6).round(2).alias("unit_cost_cny"),
            "unit_price_cny",
            pl.lit(7).alias("lead_time_days"),
            pl.lit(1).alias("moq"),
            pl.lit(1).alias("pack_size"),
            pl.lit(None, pl.Int64).alias("shelf_life_days"),
            pl.lit("active").alias("status"),
            pl.lit(None, pl.String).alias("updated_at"),
        )
        .write_csv(drop / "erp" / "products.csv")
    )
    pl.DataFrame(
        [
            {
                "warehouse_id": w.warehouse_id,
                "name": w.name,
                "region": w.region,
                "province": w.province,
                "city": w.city,
                "latitude": w.lat,
                "longitude": w.lon,
                "capacity_units": w.capacity_units,
            }
            for w in WAREHOUSES
        ]
    ).write_csv(drop / "erp" / "warehouses.csv")
    reviews.select(
        pl.col("review_id").alias("feedback_id"),
        pl.lit(None, pl.String).alias("crm_id"),
        pl.col("order_id").alias("order_ref"),
        pl.lit("app").alias("channel"),
        pl.col("review_creation_date").alias("submitted_at"),
        pl.col("review_score").alias("score"),
        pl.concat_str(
            "review_comment_title", "review_comment_message", separator=" ", ignore_nulls=True
        ).alias("comment"),
    ).write_csv(drop / "crm" / "feedback.csv")
    return drop


def from_olist(olist: Path) -> dict[str, float | None]:
    """The figures, computed from the Olist files alone."""
    con = duckdb.connect()
    for name in ("orders", "customers", "order_items", "order_reviews"):
        path = str(olist / f"olist_{name}_dataset.csv").replace("'", "''")
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_csv('{path}', all_varchar = true)")

    def one(sql: str) -> float | None:
        value = con.execute(sql).fetchall()[0][0]
        return None if value is None else float(value)

    # a review id given twice: the first row counts (EXTRACTS.md: the first of a tie loads)
    first_reviews = """(SELECT review_score::INT AS score FROM
        (SELECT *, row_number() OVER () AS file_order FROM order_reviews)
        QUALIFY row_number() OVER (PARTITION BY review_id ORDER BY file_order) = 1)"""
    delivered = """(SELECT epoch(order_delivered_customer_date::TIMESTAMP
                       - order_purchase_timestamp::TIMESTAMP) / 3600 AS hours
                    FROM orders WHERE order_delivered_customer_date IS NOT NULL)"""
    return {
        "orders": one("SELECT count(*) FROM orders"),
        "customers (distinct customer_unique_id)": one(
            "SELECT count(DISTINCT customer_unique_id) FROM customers"
        ),
        "order lines (order × product)": one(
            "SELECT count(*) FROM (SELECT DISTINCT order_id, product_id FROM order_items)"
        ),
        "units ordered": one("SELECT count(*) FROM order_items"),
        "amount ordered": one("SELECT round(sum(price::DECIMAL(18, 2)), 2) FROM order_items"),
        "reviews given twice (quarantined)": one(
            "SELECT count(*) - count(DISTINCT review_id) FROM order_reviews"
        ),
        "delivered orders": one(f"SELECT count(*) FROM {delivered}"),
        "fulfillment hours, mean": one(f"SELECT avg(hours) FROM {delivered}"),
        "satisfaction rate (score ≥ 4)": one(f"SELECT avg((score >= 4)::INT) FROM {first_reviews}"),
        "NPS-style score": one(
            f"SELECT 100 * (avg((score = 5)::INT) - avg((score <= 3)::INT)) FROM {first_reviews}"
        ),
        # not a count from the files but a rule: one order count, one frequency score
        "RFM frequency scores of one-time buyers": 1.0,
    }


def from_wmsight(db_path: Path) -> dict[str, float | None]:
    """The same figures, from the pipeline's warehouse."""
    con = duckdb.connect(str(db_path), read_only=True)

    def one(sql: str) -> float | None:
        value = con.execute(sql).fetchall()[0][0]
        return None if value is None else float(value)

    def kpi(metric: str) -> str:
        return f"""SELECT sum(numerator) / sum(denominator), sum(observations)
                   FROM marts.fct_kpi_daily_components WHERE metric = '{metric}'"""

    hours, delivered = map(float, con.execute(kpi("fulfillment_hours_avg")).fetchall()[0])
    return {
        "orders": one(
            "SELECT sum(rows_loaded) FROM raw.load_log WHERE source_file = 'ecommerce/orders.jsonl'"
        ),
        "customers (distinct customer_unique_id)": one("SELECT count(*) FROM marts.dim_customer"),
        "order lines (order × product)": one("SELECT count(*) FROM marts.fct_order_lines"),
        "units ordered": one("SELECT sum(ordered_qty) FROM marts.fct_order_lines"),
        "amount ordered": one("SELECT round(sum(line_amount_cny), 2) FROM marts.fct_order_lines"),
        "reviews given twice (quarantined)": one(
            "SELECT count(*) FROM raw.quarantine WHERE source_file = 'crm/feedback.csv' "
            "AND rule = 'duplicate_key'"
        ),
        "delivered orders": delivered,
        "fulfillment hours, mean": hours,
        "satisfaction rate (score ≥ 4)": float(
            con.execute(kpi("satisfaction_rate")).fetchall()[0][0]
        ),
        "NPS-style score": float(con.execute(kpi("nps")).fetchall()[0][0]),
        # equal order counts, equal scores: one score for every one-time buyer
        "RFM frequency scores of one-time buyers": one(
            "SELECT count(DISTINCT f_score) FROM marts.customer_segments WHERE orders_12m = 1"
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--external", type=Path, default=DEFAULT_EXTERNAL)
    parser.add_argument("--out", type=Path, help="keep the drop, warehouse and feeds here")
    args = parser.parse_args()
    olist = args.external / "olist_sample3000"
    if not olist.is_dir():
        print(f"skipped: {olist} is not there (real data is optional; see its README)")
        return 0
    out = args.out or Path(tempfile.mkdtemp(prefix="wmsight_olist_"))
    drop = write_drop(olist, out / "extracts")
    print(f"Olist as an extract drop: {drop}")
    started = time.perf_counter()
    run = subprocess.run(
        [Path(sys.executable).parent / "wmsight", "run", "--extracts", out / "extracts"]
        + ["--db", out / "wmsight.duckdb", "--feeds", out / "feeds"],
        cwd=REPO,
        check=False,
    )
    seconds = time.perf_counter() - started
    if run.returncode != 0:
        print(f"wmsight run failed ({run.returncode}) after {seconds:.0f} s")
        return 1
    expected, got = from_olist(olist), from_wmsight(out / "wmsight.duckdb")
    print(f"\nwmsight run: {seconds:.0f} s. Olist figures, from its files and from wmsight:")
    print(f"{'figure':42} {'Olist files':>14} {'wmsight':>14}")
    differing = []
    for name, want in expected.items():
        have = got[name]
        same = have is not None and abs(have - want) <= 1e-9 * max(1.0, abs(want))
        shown = "—" if have is None else f"{have:,.3f}"
        print(f"{name:42} {want:>14,.3f} {shown:>14}  {'' if same else '≠'}")
        if not same:
            differing.append(name)
    if differing:
        print(f"\n{len(differing)} figure(s) differ: {', '.join(differing)}")
        return 1
    print("\nEvery figure agrees.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
