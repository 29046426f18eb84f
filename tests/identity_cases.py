"""Hand-written extract records whose right identity answer is known by construction,
added to the shared scale-1 world (tests/conftest.py `scale1_warehouse`) and checked by
tests/test_identity.py."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from wmsight.demo.identity_noise import unified_social_credit_code

END = date(2025, 11, 30)
DROP = (END + timedelta(days=1)).isoformat()  # after every generated drop
SWITCHBOARD = "0755-8888 6666"
CRM_COLUMNS = [
    "crm_id", "company_name", "contact_name", "phone", "email", "province", "city",
    "industry", "account_manager", "created_at", "updated_at",
]  # fmt: skip
ERP_COLUMNS = [
    "erp_code", "legal_name", "tax_id", "phone", "province", "city", "address",
    "payment_terms_days", "credit_limit_cny", "crm_id", "updated_at",
]  # fmt: skip


def _write_csv(path: Path, columns: list[str], rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})


def _order(n: int, platform: str, buyer_id: str, nickname: str, phone: str, city: tuple) -> dict:
    at = f"{DROP}T10:{n:02d}:00+08:00"
    return {
        "order_id": f"IDT{DROP.replace('-', '')}{n:06d}",
        "platform": platform,
        "buyer": {"buyer_id": buyer_id, "nickname": nickname, "phone": phone, "email": None},
        "ship_to": {"province": city[0], "city": city[1], "district": city[2]},
        "created_at": at,
        "paid_at": at,
        "shipped_at": None,
        "delivered_at": None,
        "cancelled_at": None,
        "status": "paid",
        "warehouse_id": None,
        "items": [{"sku": "SKU-00001", "qty": 1, "unit_price_cny": 10.0, "discount_cny": 0.0}],
        "updated_at": at,
    }


def write_tricky_drop(extracts: Path) -> None:
    """Records whose right answer is known by construction (trade names the generator
    never uses, so nothing generated can be their namesake)."""
    root = extracts / DROP
    rng = np.random.default_rng(3)
    stamp = f"{DROP}T09:00:00"
    crm = [
        # one customer in three systems: CRM, ERP (same mobile, other spelling), Tmall
        {
            "crm_id": "CRM-T00001",
            "company_name": "深圳市鹏程科技有限公司",
            "contact_name": "李雷",
            "phone": "139 1234 5678",
            "province": "广东省",
            "city": "深圳市",
        },
        # hard negatives: one trade name, one city, three companies
        {
            "crm_id": "CRM-T00002",
            "company_name": "上海耀华贸易有限公司",
            "contact_name": "韩梅",
            "phone": "021-5111 2222",
            "province": "上海",
            "city": "上海市",
        },
        # strangers behind one switchboard
        {
            "crm_id": "CRM-T00003",
            "company_name": "深圳市嘉润电子有限公司",
            "contact_name": "周明",
            "phone": SWITCHBOARD,
            "province": "广东",
            "city": "深圳",
        },
        {
            "crm_id": "CRM-T00004",
            "company_name": "深圳市瀚海物流有限公司",
            "contact_name": "吴刚",
            "phone": SWITCHBOARD,
            "province": "广东",
            "city": "深圳",
        },
        # one company, its numbers written as people do: a trunk 0 after the country
        # code on one side, an extension and a second number on the other
        {
            "crm_id": "CRM-T00005",
            "company_name": "杭州启明星网络科技有限公司",
            "contact_name": "赵敏",
            "phone": "+86 (0)571 8765 4321",
            "province": "浙江省",
            "city": "杭州市",
        },
        # named by an ERP account whose crm_id was typed by hand (case, width, a space)
        {
            "crm_id": "CRM-T00006",
            "company_name": "宁波远航船务有限公司",
            "contact_name": "孙浩",
            "phone": "0574-8111 2222",
            "province": "浙江省",
            "city": "宁波市",
        },
        # strangers whose exports carry placeholders where the value is unknown
        {
            "crm_id": "CRM-T00007",
            "company_name": "深圳市翠微园林工程有限公司",
            "contact_name": "郑强",
            "phone": "0",
            "email": "无",
            "province": "广东省",
            "city": "深圳市",
        },
        {
            "crm_id": "CRM-T00008",
            "company_name": "深圳市铭扬音响器材有限公司",
            "contact_name": "钱芳",
            "phone": "00000000000",
            "email": "无",
            "province": "广东省",
            "city": "深圳市",
        },
    ]
    for row in crm:
        row.update(created_at=DROP, updated_at=stamp, account_manager="王海涛")
    erp = [
        {
            "erp_code": "C9T0001",
            "legal_name": "深圳鹏程科技有限责任公司",
            "tax_id": unified_social_credit_code(rng, "440300"),
            "phone": "+86 139-1234-5678",
            "province": "广东省",
            "city": "深圳市",
        },
        {
            "erp_code": "C9T0002",
            "legal_name": "上海市耀华物流有限公司",
            "tax_id": unified_social_credit_code(rng, "310100"),
            "phone": "021-5333 4444",
            "province": "上海市",
            "city": "上海市",
        },
        {
            "erp_code": "C9T0003",
            "legal_name": "耀华贸易（上海）有限公司",
            "tax_id": unified_social_credit_code(rng, "310100"),
            "phone": "021-5555 6666",
            "province": "上海市",
            "city": "上海市",
        },
        {
            "erp_code": "C9T0004",
            "legal_name": "启明星网络科技（杭州）有限责任公司",
            "tax_id": unified_social_credit_code(rng, "330100"),
            "phone": "0571-87654321-808 / 0571-87654320",
            "province": "浙江",
            "city": "杭州",
        },
        # its English legal name and another desk's number: only the crm_id links it
        {
            "erp_code": "C9T0005",
            "legal_name": "Ningbo Ocean Voyage Shipping Co., Ltd.",
            "tax_id": unified_social_credit_code(rng, "330200"),
            "phone": "0574-8333 4444",
            "province": "浙江",
            "city": "宁波",
            "crm_id": "ｃｒｍ-t 00006",
        },
        {
            "erp_code": "C9T0006",
            "legal_name": "深圳市蓝鲸冷链物流有限公司",
            "tax_id": "000000000000000000",
            "phone": "0",
            "province": "广东省",
            "city": "深圳市",
        },
        {
            "erp_code": "C9T0007",
            "legal_name": "深圳市金穗农业科技有限公司",
            "tax_id": "000000000000000000",
            "phone": "00000000000",
            "province": "广东省",
            "city": "深圳市",
        },
    ]
    for row in erp:
        row.update(updated_at=stamp, payment_terms_days=30, credit_limit_cny="50000.00")
    _write_csv(root / "crm" / "customers.csv", CRM_COLUMNS, crm)
    _write_csv(root / "erp" / "customers.csv", ERP_COLUMNS, erp)
    cities = [
        ("广东省", "深圳市", "南山区"),
        ("广东省", "广州市", "天河区"),
        ("浙江省", "杭州市", "西湖区"),
        ("江苏省", "南京市", "鼓楼区"),
        ("湖北省", "武汉市", "洪山区"),
        ("四川省", "成都市", "武侯区"),
        ("陕西省", "西安市", "雁塔区"),
        ("山东省", "济南市", "历下区"),
    ]
    nicknames = ["阿杰", "晓雯", "老周", "木木", "大海", "小鹿", "橘子", "阿宝"]
    orders = [_order(1, "tmall", "tm_t00001", "鹏程科技", "139****5678", cities[0])]
    for i, (nickname, city) in enumerate(zip(nicknames, cities, strict=True)):
        orders.append(_order(10 + i, "jd", f"jd_t{i:07d}", nickname, SWITCHBOARD, city))
    path = root / "ecommerce" / "orders.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in orders), "utf-8")
