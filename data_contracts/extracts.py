"""The extract contracts: every file of ../shared/EXTRACTS.md as a typed schema.

This module is the single place that says what a delivered file looks like: its
columns, their types, which are required, their ranges and allowed values, and the
file's key. `data_contracts.suites` turns each contract into a Great Expectations
suite; ingest validates every row against that suite.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    TIMESTAMP = "timestamp"
    DATE = "date"


class TimeRole(StrEnum):
    """Event times may not lie after the end of the drop date; planned times may."""

    EVENT = "event"
    PLANNED = "planned"


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind = Kind.TEXT
    required: bool = False
    min_value: float | None = None
    max_value: float | None = None
    strict_min: bool = False
    strict_max: bool = False
    allowed: tuple[str, ...] | None = None
    forbidden: tuple[float, ...] | None = None  # e.g. movement qty 0
    time_role: TimeRole | None = None
    # where the value sits in a JSON object, e.g. ("buyer", "buyer_id"); None = top level
    json_path: tuple[str, ...] | None = None

    @property
    def source_name(self) -> str:
        """The name a person sees in the delivered file (a JSON path for nested fields)."""
        return ".".join(self.json_path) if self.json_path else self.name


@dataclass(frozen=True)
class PairRule:
    """`greater` must be >= `lesser` on every row where both are present."""

    rule: str
    greater: str
    lesser: str
    reported_column: str


@dataclass(frozen=True)
class ExtractContract:
    source_file: str  # path inside a drop, e.g. "erp/sales_orders.csv"
    table: str  # raw table it loads into
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    pair_rules: tuple[PairRule, ...] = ()
    # nested child rows (JSON arrays), validated with their parent row
    items: ItemsContract | None = None

    @property
    def format(self) -> str:
        return "jsonl" if self.source_file.endswith(".jsonl") else "csv"

    @property
    def system(self) -> str:
        return self.source_file.split("/", 1)[0]

    @property
    def has_updated_at(self) -> bool:
        return any(c.name == "updated_at" for c in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


@dataclass(frozen=True)
class ItemsContract:
    json_field: str  # the array's name in the parent object
    table: str
    columns: tuple[Column, ...]
    pair_rules: tuple[PairRule, ...] = ()
    # an order needs at least one item unless its status is one of these
    empty_allowed_when_status: tuple[str, ...] = ()


# Value sets from EXTRACTS.md -------------------------------------------------
REGIONS = ("东北", "华北", "华东", "华南", "华中", "西北", "西南")
ORDER_STATUSES = ("open", "allocated", "picked", "shipped", "delivered", "cancelled")
ECOM_STATUSES = ("created", "paid", "shipped", "delivered", "cancelled", "refunded")
PLATFORMS = ("tmall", "jd", "pinduoduo", "douyin", "own_site")
MOVEMENT_TYPES = ("receipt", "shipment", "transfer_in", "transfer_out", "adjustment", "return")
RETURN_REASONS = ("damaged", "wrong_item", "quality", "not_needed", "other")
FEEDBACK_CHANNELS = ("sms", "email", "phone", "app")
PRODUCT_STATUSES = ("active", "discontinued")

T, INT, D, TS, DT = Kind.TEXT, Kind.INTEGER, Kind.DECIMAL, Kind.TIMESTAMP, Kind.DATE
EV, PL = TimeRole.EVENT, TimeRole.PLANNED


def key(name: str, kind: Kind = T) -> Column:
    return Column(name, kind, required=True)


def event(name: str, required: bool = False, kind: Kind = TS) -> Column:
    return Column(name, kind, required=required, time_role=EV)


def planned(name: str, required: bool = False, kind: Kind = TS) -> Column:
    return Column(name, kind, required=required, time_role=PL)


def money(name: str, required: bool = False, signed: bool = False) -> Column:
    return Column(name, D, required=required, min_value=None if signed else 0)


def count(name: str, required: bool = False, minimum: int = 0) -> Column:
    return Column(name, INT, required=required, min_value=minimum)


def enum(name: str, values: tuple[str, ...], required: bool = False) -> Column:
    return Column(name, T, required=required, allowed=values)


def text(name: str, required: bool = False) -> Column:
    return Column(name, T, required=required)


LINE_DISCOUNT = PairRule(
    "discount_exceeds_line",
    greater="line_value_cny",
    lesser="discount_cny",
    reported_column="discount_cny",
)

CONTRACTS: tuple[ExtractContract, ...] = (
    ExtractContract(
        "crm/customers.csv",
        "crm__customers",
        ("crm_id",),
        (
            key("crm_id"),
            text("company_name", required=True),
            text("contact_name"),
            text("phone"),
            text("email"),
            text("province"),
            text("city"),
            text("industry"),
            text("account_manager"),
            event("created_at"),
            event("updated_at"),
        ),
    ),
    ExtractContract(
        "crm/feedback.csv",
        "crm__feedback",
        ("feedback_id",),
        (
            key("feedback_id"),
            text("crm_id"),
            text("order_ref"),
            enum("channel", FEEDBACK_CHANNELS),
            event("submitted_at", required=True),
            Column("score", INT, required=True, min_value=1, max_value=5),
            text("comment"),
        ),
    ),
    ExtractContract(
        "erp/customers.csv",
        "erp__customers",
        ("erp_code",),
        (
            key("erp_code"),
            text("legal_name", required=True),
            text("tax_id"),
            text("phone"),
            text("province"),
            text("city"),
            text("address"),
            count("payment_terms_days"),
            money("credit_limit_cny"),
            text("crm_id"),
            event("updated_at"),
        ),
    ),
    ExtractContract(
        "erp/warehouses.csv",
        "erp__warehouses",
        ("warehouse_id",),
        (
            key("warehouse_id"),
            text("name", required=True),
            enum("region", REGIONS, required=True),
            text("province"),
            text("city"),
            Column("latitude", D, min_value=-90, max_value=90),
            Column("longitude", D, min_value=-180, max_value=180),
            count("capacity_units"),
        ),
    ),
    ExtractContract(
        "erp/products.csv",
        "erp__products",
        ("sku",),
        (
            key("sku"),
            text("name", required=True),
            text("category"),
            text("brand"),
            money("unit_cost_cny"),
            money("unit_price_cny", required=True),
            count("lead_time_days", required=True),
            count("moq"),
            count("pack_size", minimum=1),
            count("shelf_life_days"),
            enum("status", PRODUCT_STATUSES, required=True),
            event("updated_at"),
        ),
    ),
    ExtractContract(
        "erp/sales_orders.csv",
        "erp__sales_orders",
        ("order_no",),
        (
            key("order_no"),
            text("erp_code", required=True),
            text("warehouse_id"),
            event("ordered_at", required=True),
            planned("promised_at"),
            event("shipped_at"),
            event("delivered_at"),
            event("cancelled_at"),
            enum("status", ORDER_STATUSES, required=True),
            event("updated_at"),
        ),
    ),
    ExtractContract(
        "erp/sales_order_lines.csv",
        "erp__sales_order_lines",
        ("order_no", "line_no"),
        (
            key("order_no"),
            Column("line_no", INT, required=True),
            text("sku", required=True),
            count("qty", required=True, minimum=1),
            money("unit_price_cny", required=True),
            money("discount_cny"),
            text("shipped_sku"),
            count("shipped_qty"),
        ),
        pair_rules=(LINE_DISCOUNT,),
    ),
    ExtractContract(
        "erp/invoices.csv",
        "erp__invoices",
        ("invoice_no",),
        (
            key("invoice_no"),
            text("erp_code", required=True),
            text("order_no"),
            event("issued_at", required=True),
            planned("due_at", required=True),
            money("amount_cny", required=True, signed=True),  # credit notes are negative
            event("paid_at"),
        ),
    ),
    ExtractContract(
        "erp/purchase_orders.csv",
        "erp__purchase_orders",
        ("po_no", "line_no"),
        (
            key("po_no"),
            Column("line_no", INT, required=True),
            text("supplier_id"),
            text("sku", required=True),
            text("warehouse_id", required=True),
            count("qty", required=True, minimum=1),
            event("ordered_at", required=True),
            planned("expected_at"),
            event("received_at"),
            event("updated_at"),
        ),
    ),
    ExtractContract(
        "erp/stock_snapshots.csv",
        "erp__stock_snapshots",
        ("snapshot_date", "warehouse_id", "sku"),
        (
            Column("snapshot_date", DT, required=True, time_role=EV),
            key("warehouse_id"),
            key("sku"),
            count("on_hand", required=True),
            count("reserved", required=True),
            count("in_transit", required=True),
            count("damaged", required=True),
        ),
    ),
    ExtractContract(
        "erp/stock_movements.csv",
        "erp__stock_movements",
        ("movement_id",),
        (
            key("movement_id"),
            event("moved_at", required=True),
            text("warehouse_id"),
            text("sku"),
            Column("qty", INT, required=True, forbidden=(0,)),  # signed, never 0
            enum("movement_type", MOVEMENT_TYPES, required=True),
            text("ref"),
        ),
    ),
    ExtractContract(
        "erp/stock_counts.csv",
        "erp__stock_counts",
        ("count_id",),
        (
            key("count_id"),
            event("counted_at"),
            text("warehouse_id"),
            text("sku"),
            count("book_qty", required=True),
            count("counted_qty", required=True),
        ),
    ),
    ExtractContract(
        "erp/returns.csv",
        "erp__returns",
        ("return_id",),
        (
            key("return_id"),
            text("order_ref", required=True),
            text("sku", required=True),
            count("qty", required=True, minimum=1),
            enum("reason", RETURN_REASONS, required=True),
            event("requested_at", required=True),
            event("received_at"),
            text("warehouse_id"),
        ),
    ),
    ExtractContract(
        "ecommerce/orders.jsonl",
        "ecommerce__orders",
        ("order_id",),
        (
            key("order_id"),
            enum("platform", PLATFORMS),
            Column("buyer_id", T, required=True, json_path=("buyer", "buyer_id")),
            Column("buyer_nickname", T, json_path=("buyer", "nickname")),
            Column("buyer_phone", T, json_path=("buyer", "phone")),
            Column("buyer_email", T, json_path=("buyer", "email")),
            Column("ship_province", T, json_path=("ship_to", "province")),
            Column("ship_city", T, json_path=("ship_to", "city")),
            Column("ship_district", T, json_path=("ship_to", "district")),
            event("created_at", required=True),
            event("paid_at"),
            event("shipped_at"),
            event("delivered_at"),
            event("cancelled_at"),
            enum("status", ECOM_STATUSES, required=True),
            text("warehouse_id"),
            event("updated_at"),
        ),
        items=ItemsContract(
            "items",
            "ecommerce__order_items",
            (
                text("sku", required=True),
                count("qty", required=True, minimum=1),
                money("unit_price_cny", required=True),
                money("discount_cny"),
            ),
            pair_rules=(LINE_DISCOUNT,),
            empty_allowed_when_status=("cancelled", "refunded"),
        ),
    ),
    ExtractContract(
        "ecommerce/promotions.csv",
        "ecommerce__promotions",
        ("promo_id",),
        (
            key("promo_id"),
            enum("platform", PLATFORMS),
            text("sku"),
            planned("starts_on", required=True, kind=DT),
            planned("ends_on", required=True, kind=DT),
            Column(
                "discount_pct",
                D,
                required=True,
                min_value=0,
                max_value=100,
                strict_min=True,
                strict_max=True,
            ),
        ),
        pair_rules=(PairRule("ends_before_starts", "ends_on", "starts_on", "ends_on"),),
    ),
)

CONTRACTS_BY_FILE: dict[str, ExtractContract] = {c.source_file: c for c in CONTRACTS}

# Rule names as they appear in the quarantine table and the generator's truth.
RULES = (
    "required",
    "type_integer",
    "type_decimal",
    "type_timestamp",
    "type_date",
    "range",
    "enum",
    "event_time_after_drop",
    "duplicate_key",
    "control_chars",
    "discount_exceeds_line",
    "ends_before_starts",
    "items_required",
    "malformed_row",
    "malformed_json",
)
