"""The extract files as EXTRACTS.md defines them: names, columns, keys, encodings.

The generator writes exactly these columns in this order, and the dirty-row
injector reads the rules (required, types, ranges, enums, event times) from here.
It mirrors the contract rather than importing `data_contracts/`, so the demo world
stays an independent check of the ingest.
"""

from __future__ import annotations

from dataclasses import dataclass

ORDER_STATUSES = ("open", "allocated", "picked", "shipped", "delivered", "cancelled")
ECOM_STATUSES = ("created", "paid", "shipped", "delivered", "cancelled", "refunded")
REGIONS = ("东北", "华北", "华东", "华南", "华中", "西北", "西南")
PRODUCT_STATUSES = ("active", "discontinued")
CHANNELS = ("sms", "email", "phone", "app")
MOVEMENT_TYPES = ("receipt", "shipment", "transfer_in", "transfer_out", "adjustment", "return")
RETURN_REASONS = ("damaged", "wrong_item", "quality", "not_needed", "other")
PLATFORMS = ("tmall", "jd", "pinduoduo", "douyin", "own_site")


@dataclass(frozen=True)
class Column:
    name: str  # for JSON Lines, a dotted path: buyer.buyer_id, items.qty
    kind: str  # text | int | decimal | timestamp | date
    required: bool = False
    enum: tuple[str, ...] | None = None
    minimum: float | None = None  # lowest allowed value (inclusive)
    maximum: float | None = None
    exclusive: bool = False  # bounds are exclusive (discount_pct: 0 < x < 100)
    nonzero: bool = False  # movement qty: signed, never 0
    event: bool = False  # an event time: never after the end of the drop date
    free_text: bool = False  # typed by people: where control characters sneak in


@dataclass(frozen=True)
class FileSpec:
    path: str  # relative to the drop folder
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    encoding: str  # utf-8 | utf-8-sig | gb18030
    line_terminator: str = "\r\n"
    has_updated_at: bool = False

    @property
    def is_jsonl(self) -> bool:
        return self.path.endswith(".jsonl")

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _t(name: str, **kw) -> Column:
    return Column(name, "text", **kw)


def _key(name: str) -> Column:
    return Column(name, "text", required=True)


def _int(name: str, **kw) -> Column:
    return Column(name, "int", **kw)


def _dec(name: str, **kw) -> Column:
    return Column(name, "decimal", **kw)


def _ts(name: str, event: bool = True, **kw) -> Column:
    return Column(name, "timestamp", event=event, **kw)


def _date(name: str, event: bool = False, **kw) -> Column:
    return Column(name, "date", event=event, **kw)


QTY = {"minimum": 1}
NON_NEG = {"minimum": 0}

FILES: tuple[FileSpec, ...] = (
    FileSpec(
        "crm/customers.csv",
        (
            _key("crm_id"),
            _t("company_name", required=True, free_text=True),
            _t("contact_name", free_text=True),
            _t("phone"),
            _t("email"),
            _t("province"),
            _t("city"),
            _t("industry"),
            _t("account_manager"),
            # typed "date" in EXTRACTS.md but named *_at, so any timestamp form is valid
            _ts("created_at"),
            _ts("updated_at"),
        ),
        ("crm_id",),
        "utf-8-sig",
        has_updated_at=True,
    ),
    FileSpec(
        "crm/feedback.csv",
        (
            _key("feedback_id"),
            _t("crm_id"),
            _t("order_ref"),
            _t("channel", enum=CHANNELS),
            _ts("submitted_at", required=True),
            _int("score", required=True, minimum=1, maximum=5),
            _t("comment", free_text=True),
        ),
        ("feedback_id",),
        "utf-8-sig",
    ),
    FileSpec(
        "erp/customers.csv",
        (
            _key("erp_code"),
            _t("legal_name", required=True, free_text=True),
            _t("tax_id"),
            _t("phone"),
            _t("province"),
            _t("city"),
            _t("address", free_text=True),
            _int("payment_terms_days"),
            _dec("credit_limit_cny"),
            _t("crm_id"),
            _ts("updated_at"),
        ),
        ("erp_code",),
        "gb18030",
        has_updated_at=True,
    ),
    FileSpec(
        "erp/warehouses.csv",
        (
            _key("warehouse_id"),
            _t("name", required=True, free_text=True),
            _t("region", required=True, enum=REGIONS),
            _t("province"),
            _t("city"),
            _dec("latitude"),
            _dec("longitude"),
            _int("capacity_units"),
        ),
        ("warehouse_id",),
        "gb18030",
    ),
    FileSpec(
        "erp/products.csv",
        (
            _key("sku"),
            _t("name", required=True, free_text=True),
            _t("category"),
            _t("brand"),
            _dec("unit_cost_cny", **NON_NEG),
            _dec("unit_price_cny", required=True, **NON_NEG),
            _int("lead_time_days", required=True),
            _int("moq"),
            _int("pack_size"),
            _int("shelf_life_days"),
            _t("status", required=True, enum=PRODUCT_STATUSES),
            _ts("updated_at"),
        ),
        ("sku",),
        "gb18030",
        has_updated_at=True,
    ),
    FileSpec(
        "erp/sales_orders.csv",
        (
            _key("order_no"),
            _t("erp_code", required=True),
            _t("warehouse_id"),
            _ts("ordered_at", required=True),
            _ts("promised_at", event=False),
            _ts("shipped_at"),
            _ts("delivered_at"),
            _ts("cancelled_at"),
            _t("status", required=True, enum=ORDER_STATUSES),
            _ts("updated_at"),
        ),
        ("order_no",),
        "gb18030",
        has_updated_at=True,
    ),
    FileSpec(
        "erp/sales_order_lines.csv",
        (
            _key("order_no"),
            Column("line_no", "int", required=True),
            _t("sku", required=True),
            _int("qty", required=True, **QTY),
            _dec("unit_price_cny", required=True, **NON_NEG),
            _dec("discount_cny", **NON_NEG),
            _t("shipped_sku"),
            _int("shipped_qty", **NON_NEG),
        ),
        ("order_no", "line_no"),
        "gb18030",
    ),
    FileSpec(
        "erp/invoices.csv",
        (
            _key("invoice_no"),
            _t("erp_code", required=True),
            _t("order_no"),
            _ts("issued_at", required=True),
            _ts("due_at", event=False, required=True),
            _dec("amount_cny", required=True),
            _ts("paid_at"),
        ),
        ("invoice_no",),
        "gb18030",
    ),
    FileSpec(
        "erp/purchase_orders.csv",
        (
            _key("po_no"),
            Column("line_no", "int", required=True),
            _t("supplier_id"),
            _t("sku", required=True),
            _t("warehouse_id", required=True),
            _int("qty", required=True, **QTY),
            _ts("ordered_at", required=True),
            _ts("expected_at", event=False),
            _ts("received_at"),
            _ts("updated_at"),
        ),
        ("po_no", "line_no"),
        "gb18030",
        has_updated_at=True,
    ),
    FileSpec(
        "erp/stock_snapshots.csv",
        (
            _date("snapshot_date", event=True, required=True),
            _key("warehouse_id"),
            _key("sku"),
            _int("on_hand", required=True, **NON_NEG),
            _int("reserved", required=True, **NON_NEG),
            _int("in_transit", required=True, **NON_NEG),
            _int("damaged", required=True, **NON_NEG),
        ),
        ("snapshot_date", "warehouse_id", "sku"),
        "gb18030",
    ),
    FileSpec(
        "erp/stock_movements.csv",
        (
            _key("movement_id"),
            _ts("moved_at", required=True),
            _t("warehouse_id"),
            _t("sku"),
            _int("qty", required=True, nonzero=True),
            _t("movement_type", required=True, enum=MOVEMENT_TYPES),
            _t("ref"),
        ),
        ("movement_id",),
        "gb18030",
    ),
    FileSpec(
        "erp/stock_counts.csv",
        (
            _key("count_id"),
            _ts("counted_at"),
            _t("warehouse_id"),
            _t("sku"),
            _int("book_qty", required=True, **NON_NEG),
            _int("counted_qty", required=True, **NON_NEG),
        ),
        ("count_id",),
        "gb18030",
    ),
    FileSpec(
        "erp/returns.csv",
        (
            _key("return_id"),
            _t("order_ref", required=True),
            _t("sku", required=True),
            _int("qty", required=True, **QTY),
            _t("reason", required=True, enum=RETURN_REASONS),
            _ts("requested_at", required=True),
            _ts("received_at"),
            _t("warehouse_id"),
        ),
        ("return_id",),
        "gb18030",
    ),
    FileSpec(
        "ecommerce/orders.jsonl",
        (
            _key("order_id"),
            _t("platform", enum=PLATFORMS),
            _key("buyer.buyer_id"),
            _t("buyer.nickname", free_text=True),
            _t("buyer.phone"),
            _t("buyer.email"),
            _t("ship_to.province"),
            _t("ship_to.city"),
            _t("ship_to.district"),
            _ts("created_at", required=True),
            _ts("paid_at"),
            _ts("shipped_at"),
            _ts("delivered_at"),
            _ts("cancelled_at"),
            _t("status", required=True, enum=ECOM_STATUSES),
            _t("warehouse_id"),
            _t("items.sku", required=True),
            _int("items.qty", required=True, **QTY),
            _dec("items.unit_price_cny", required=True, **NON_NEG),
            _dec("items.discount_cny", **NON_NEG),
            _ts("updated_at"),
        ),
        ("order_id",),
        "utf-8",
        line_terminator="\n",
        has_updated_at=True,
    ),
    FileSpec(
        "ecommerce/promotions.csv",
        (
            _key("promo_id"),
            _t("platform", enum=PLATFORMS),
            _t("sku"),
            _date("starts_on", required=True),
            _date("ends_on", required=True),
            _dec("discount_pct", required=True, minimum=0, maximum=100, exclusive=True),
        ),
        ("promo_id",),
        "utf-8",
        line_terminator="\n",
    ),
)

FILES_BY_PATH: dict[str, FileSpec] = {f.path: f for f in FILES}

# Top-level JSON keys of an online order, in the order of the EXTRACTS.md example.
ECOM_ORDER_KEYS = (
    "order_id",
    "platform",
    "buyer",
    "ship_to",
    "created_at",
    "paid_at",
    "shipped_at",
    "delivered_at",
    "cancelled_at",
    "status",
    "warehouse_id",
    "items",
    "updated_at",
)
ECOM_BUYER_KEYS = ("buyer_id", "nickname", "phone", "email")
ECOM_SHIP_TO_KEYS = ("province", "city", "district")
ECOM_ITEM_KEYS = ("sku", "qty", "unit_price_cny", "discount_cny")
