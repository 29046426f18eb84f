"""Write small extract drops for tests, in the exact shape of EXTRACTS.md."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from data_contracts.extracts import CONTRACTS_BY_FILE

DROP = "2025-03-01"

# One valid row per extract file; tests change one value to break one rule.
GOOD_ROWS: dict[str, dict[str, object]] = {
    "crm/customers.csv": {
        "crm_id": "CRM-1",
        "company_name": "上海华通贸易有限公司",
        "contact_name": "王伟",
        "phone": "+86 138-0013-8000",
        "email": " Wang@HuaTong.cn ",
        "province": "上海市",
        "city": "上海市",
        "industry": "零售",
        "account_manager": "李娜",
        "created_at": "2023-05-01",
        "updated_at": "2025-02-01 09:00:00",
    },
    "crm/feedback.csv": {
        "feedback_id": "FB-1",
        "crm_id": "CRM-1",
        "order_ref": "SO-1",
        "channel": "sms",
        "submitted_at": "2025-02-28T18:00:00",
        "score": "2",
        "comment": "配送慢, 包装破损",
    },
    "erp/customers.csv": {
        "erp_code": "E-1",
        "legal_name": "上海华通贸易有限责任公司",
        "tax_id": "91310000MA1FL0XXXX",
        "phone": "021-6234 5678",
        "province": "上海",
        "city": "上海",
        "address": "浦东新区 1 号",
        "payment_terms_days": "30",
        "credit_limit_cny": "500000.00",
        "crm_id": "CRM-1",
        "updated_at": "2025/02/01 09:00:00",
    },
    "erp/warehouses.csv": {
        "warehouse_id": "WH-EC",
        "name": "上海仓",
        "region": "华东",
        "province": "上海市",
        "city": "上海市",
        "latitude": "31.2304",
        "longitude": "121.4737",
        "capacity_units": "500000",
    },
    "erp/products.csv": {
        "sku": "SKU-1",
        "name": "保温杯 500ml",
        "category": "家居",
        "brand": "安达",
        "unit_cost_cny": "35.5",
        "unit_price_cny": "59.9000",
        "lead_time_days": "14",
        "moq": "100",
        "pack_size": "12",
        "shelf_life_days": "",
        "status": "active",
        "updated_at": "2025-01-01 00:00:00",
    },
    "erp/sales_orders.csv": {
        "order_no": "SO-1",
        "erp_code": "E-1",
        "warehouse_id": "WH-EC",
        "ordered_at": "2025/02/20 10:00:00",
        "promised_at": "2025/03/05 18:00:00",
        "shipped_at": "2025/02/21 10:00:00",
        "delivered_at": "",
        "cancelled_at": "",
        "status": "shipped",
        "updated_at": "2025/02/21 10:00:00",
    },
    "erp/sales_order_lines.csv": {
        "order_no": "SO-1",
        "line_no": "1",
        "sku": "SKU-1",
        "qty": "10",
        "unit_price_cny": "59.9",
        "discount_cny": "10",
        "shipped_sku": "SKU-1",
        "shipped_qty": "10.0",
    },
    "erp/invoices.csv": {
        "invoice_no": "INV-1",
        "erp_code": "E-1",
        "order_no": "SO-1",
        "issued_at": "2025-02-21",
        "due_at": "2025-03-23",
        "amount_cny": "-120.50",
        "paid_at": "",
    },
    "erp/purchase_orders.csv": {
        "po_no": "PO-1",
        "line_no": "1",
        "supplier_id": "SUP-1",
        "sku": "SKU-1",
        "warehouse_id": "WH-EC",
        "qty": "1200",
        "ordered_at": "2025-02-10 08:00:00",
        "expected_at": "2025-04-01",
        "received_at": "",
        "updated_at": "2025-02-10 08:00:00",
    },
    "erp/stock_snapshots.csv": {
        "snapshot_date": "2025/03/01",
        "warehouse_id": "WH-EC",
        "sku": "SKU-1",
        "on_hand": "5",
        "reserved": "8",
        "in_transit": "0",
        "damaged": "1",
    },
    "erp/stock_movements.csv": {
        "movement_id": "MV-1",
        "moved_at": "2025-02-21 10:00:00",
        "warehouse_id": "WH-EC",
        "sku": "SKU-1",
        "qty": "-10",
        "movement_type": "shipment",
        "ref": "SO-1",
    },
    "erp/stock_counts.csv": {
        "count_id": "CC-1",
        "counted_at": "2025-02-28 16:00:00",
        "warehouse_id": "WH-EC",
        "sku": "SKU-1",
        "book_qty": "100",
        "counted_qty": "98",
    },
    "erp/returns.csv": {
        "return_id": "RT-1",
        "order_ref": "TM20250301000123",
        "sku": "SKU-1",
        "qty": "1",
        "reason": "wrong_item",
        "requested_at": "2025-02-25 12:00:00",
        "received_at": "",
        "warehouse_id": "WH-EC",
    },
    "ecommerce/promotions.csv": {
        "promo_id": "P-1",
        "platform": "",
        "sku": "SKU-1",
        "starts_on": "2025-03-01",
        "ends_on": "2025-03-20",
        "discount_pct": "15",
    },
}

GOOD_ORDER: dict = {
    "order_id": "TM20250301000123",
    "platform": "tmall",
    "buyer": {"buyer_id": "tm_88231", "nickname": "小王", "phone": "13800138000", "email": None},
    "ship_to": {"province": "浙江省", "city": "杭州市", "district": "西湖区"},
    "created_at": "2025-03-01T10:02:11+08:00",
    "paid_at": "2025-03-01T10:03:00+08:00",
    "shipped_at": None,
    "delivered_at": None,
    "cancelled_at": None,
    "status": "paid",
    "warehouse_id": None,
    "items": [{"sku": "SKU-00042", "qty": 2, "unit_price_cny": 129.0, "discount_cny": 10.0}],
    "updated_at": "2025-03-01T10:03:00+08:00",
}


def csv_text(
    source_file: str, rows: list[dict[str, object]], header: list[str] | None = None
) -> str:
    header = header or [c.name for c in CONTRACTS_BY_FILE[source_file].columns]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if row.get(name) is None else row.get(name) for name in header])
    return buffer.getvalue()


def write_file(
    root: Path, drop: str, source_file: str, content: str | bytes, encoding: str = "utf-8"
) -> Path:
    path = root / drop / source_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def write_csv(
    root: Path, drop: str, source_file: str, rows: list[dict[str, object]], encoding: str = "utf-8"
) -> Path:
    return write_file(root, drop, source_file, csv_text(source_file, rows), encoding)


def write_orders(root: Path, drop: str, orders: list[dict | str]) -> Path:
    lines = [o if isinstance(o, str) else json.dumps(o, ensure_ascii=False) for o in orders]
    return write_file(root, drop, "ecommerce/orders.jsonl", "\n".join(lines) + "\n")


def good(source_file: str, **changes: object) -> dict[str, object]:
    return GOOD_ROWS[source_file] | changes


def good_order(**changes: object) -> dict:
    order = json.loads(json.dumps(GOOD_ORDER))
    order.update(changes)
    return order
