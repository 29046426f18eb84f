"""Write the bad-input corpus: one folder per case, each with `extracts/` (the drops as a real
export delivers them) and `case.json` (what produced it and what ingest must do with it).

The folders are committed; this script is how they were made (run it from the repo root
to rewrite them: `uv run --frozen python tests/bad_inputs/make_corpus.py`). To add a case,
add a folder by hand or a function here: tests/test_bad_input_corpus.py picks up every
folder with a case.json.

case.json:
  export    what a real CRM/ERP/e-commerce export does to produce the file
  files     "<drop>/<file>": {"status": "loaded", "read": n, "loaded_lines": [...],
                              "quarantined": [[line, rule, column or null], ...]}
                           | {"status": "rejected", "message": [substrings], "line": n or null}
                           | {"status": "unknown"}
  raw       optional [{"sql": ..., "rows": [...]}] checked against raw after the load
  expand    optional {"file": ..., "placeholder": ..., "text": ..., "times": n}: the
            placeholder is replaced at test time (keeps a 5 MB field out of git)
  xfail     optional: the reason the case fails today (a bug to fix), strict
"""

from __future__ import annotations

import io
import json
import shutil
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from extract_builder import csv_text, good, good_order  # noqa: E402

D = "2025-03-01"
CASES: dict[str, dict] = {}


def case(name: str, export: str, files: dict, contents: dict, **more) -> None:
    """`contents`: "<drop>/<file>" -> str or bytes, as delivered."""
    CASES[name] = {"export": export, "files": files, "contents": contents, **more}


def rows_csv(source_file: str, rows: list[dict], header: list[str] | None = None) -> str:
    return csv_text(source_file, rows, header)


def loaded(read: int, loaded_lines: list[int], quarantined: list | None = None) -> dict:
    return {
        "status": "loaded",
        "read": read,
        "loaded_lines": loaded_lines,
        "quarantined": quarantined or [],
    }


def rejected(*message: str, line: int | None = None) -> dict:
    return {"status": "rejected", "message": list(message), "line": line}


FB = "crm/feedback.csv"
CU = "crm/customers.csv"
EC = "erp/customers.csv"
PR = "erp/products.csv"
SO = "erp/sales_orders.csv"
OL = "erp/sales_order_lines.csv"
MV = "erp/stock_movements.csv"
SN = "erp/stock_snapshots.csv"
OR = "ecommerce/orders.jsonl"
PM = "ecommerce/promotions.csv"
GOOD_CRM = {f"{D}/{CU}": loaded(1, [2])}


def with_good_crm(contents: dict) -> dict:
    """A second, clean file in the same drop: it must load whatever happens to the bad one."""
    return contents | {f"{D}/{CU}": rows_csv(CU, [good(CU)])}


def jsonl(*orders) -> str:
    return "".join(
        (o if isinstance(o, str) else json.dumps(o, ensure_ascii=False)) + "\n" for o in orders
    )


def build() -> None:
    # ------------------------------------------------------------------ CSV quoting
    text = rows_csv(FB, [good(FB)])
    text += 'FB-2,CRM-1,SO-1,sms,2025-02-28 18:00,3,"客户说 ""破损\n'
    text += "FB-3,CRM-1,SO-1,sms,2025-02-28 18:00,4,ok\n"
    case(
        "csv_unclosed_quote",
        "CRM web export writes a comment that starts with a quote and never closes it "
        "(the agent pasted half a quotation).",
        {f"{D}/{FB}": loaded(3, [2, 4], [[3, "malformed_row", None]])} | GOOD_CRM,
        with_good_crm({f"{D}/{FB}": text}),
    )
    header = rows_csv(EC, [])
    line = ",".join(
        str(v) for v in good(EC, erp_code="E-2", address="浦东新区, 世纪大道 1 号").values()
    )
    case(
        "csv_unquoted_comma",
        "ERP report writer joins fields with commas without quoting: an address with a "
        "comma gains a field.",
        {f"{D}/{EC}": loaded(3, [2, 4], [[3, "malformed_row", None]])},
        {
            f"{D}/{EC}": header
            + rows_csv(EC, [good(EC)]).split("\n", 1)[1]
            + line
            + "\n"
            + rows_csv(EC, [good(EC, erp_code="E-3")]).split("\n", 1)[1]
        },
    )
    base = rows_csv(FB, [good(FB)])
    case(
        "csv_backslash_escaped_quote",
        'MySQL SELECT ... INTO OUTFILE escapes quotes as \\" instead of doubling them.',
        {f"{D}/{FB}": loaded(3, [2, 4], [[3, "malformed_row", None]])},
        {
            f"{D}/{FB}": base
            + 'FB-2,CRM-1,SO-1,sms,2025-02-28 18:00,3,"he said \\"late\\", twice"\n'
            + "FB-3,CRM-1,SO-1,sms,2025-02-28 18:00,4,ok\n"
        },
    )
    case(
        "csv_multiline_comment_then_bad_row",
        "CRM keeps line breaks inside quoted comments; a later row breaks a rule: its line "
        "number must be the physical line.",
        {f"{D}/{FB}": loaded(3, [2, 4], [[6, "range", "score"]])},
        {
            f"{D}/{FB}": rows_csv(
                FB,
                [
                    good(FB, comment="第一行\r\n第二行"),
                    good(FB, feedback_id="FB-2", comment="二\n行"),
                    good(FB, feedback_id="FB-3", score="0"),
                ],
            )
        },
    )
    case(
        "csv_blank_lines",
        "A hand-edited export has blank lines between blocks and at the end.",
        {f"{D}/{PR}": loaded(2, [2, 5])},
        {
            f"{D}/{PR}": rows_csv(PR, [good(PR)])
            + "\n\n"
            + rows_csv(PR, [good(PR, sku="SKU-2")]).split("\n", 1)[1]
            + "\n\n"
        },
    )
    # ------------------------------------------------------------------ encodings
    gb = rows_csv(EC, [good(EC)]).encode("gb18030")
    utf8_line = (
        ",".join(good(EC, erp_code="E-2", legal_name="北京永和商贸有限公司").values()) + "\n"
    ).encode("utf-8")
    gb_tail = (
        ",".join(good(EC, erp_code="E-3", legal_name="广州南方物流有限公司").values()) + "\n"
    ).encode("gb18030")
    case(
        "gb18030_with_a_utf8_line",
        "A Chinese ERP exports GB18030; one row was appended by a script writing UTF-8. "
        "Decoded as GB18030 that row is mojibake (北京永和 -> 鍖椾含姘稿拰).",
        {f"{D}/{EC}": loaded(3, [2, 4], [[3, "mixed_encoding", "legal_name"]])},
        {f"{D}/{EC}": gb + utf8_line + gb_tail},
    )
    case(
        "gb18030_whole_file",
        "Kingdee/Yonyou ERP exports in GB18030 (the Chinese Windows default).",
        {f"{D}/{EC}": loaded(2, [2], [[3, "type_integer", "payment_terms_days"]])},
        {
            f"{D}/{EC}": rows_csv(
                EC, [good(EC), good(EC, erp_code="E-2", payment_terms_days="三十")]
            ).encode("gb18030")
        },
        raw=[
            {
                "sql": "SELECT legal_name, encoding FROM raw.erp__customers, raw.load_log",
                "rows": [["上海华通贸易有限责任公司", "gb18030"]],
            }
        ],
    )
    fr = {
        "contact_name": "Jean Dupont",
        "province": "Rhône",
        "city": "Lyon",
        "industry": "retail",
        "account_manager": "Anne",
    }
    latin1 = rows_csv(
        CU,
        [
            good(CU, company_name="Acme SARL", **fr),
            good(CU, crm_id="CRM-2", company_name="Café Lumière, Lyon", **fr),
        ],
    )
    case(
        "latin1_file",
        "A European subsidiary's CRM exports Windows-1252/Latin-1 (é as one byte 0xE9).",
        {f"{D}/{CU}": rejected("cannot be decoded", "crm/customers.csv", line=2)},
        {f"{D}/{CU}": latin1.encode("latin-1")},
    )
    utf16 = rows_csv(PR, [good(PR)]).replace(",", "\t")
    case(
        "utf16_excel_unicode_text",
        'Excel "Save as Unicode Text" writes UTF-16LE with a BOM, tab-separated.',
        {f"{D}/{PR}": rejected("cannot be decoded", "erp/products.csv")} | GOOD_CRM,
        with_good_crm({f"{D}/{PR}": b"\xff\xfe" + utf16.encode("utf-16-le")}),
    )
    case(
        "utf8_bom_and_crlf",
        "Excel 'CSV UTF-8' writes a BOM and CRLF line ends.",
        {f"{D}/{PR}": loaded(3, [2, 4], [[3, "type_integer", "moq"]])},
        {
            f"{D}/{PR}": b"\xef\xbb\xbf"
            + rows_csv(PR, [good(PR), good(PR, sku="SKU-2", moq="x"), good(PR, sku="SKU-3")])
            .replace("\n", "\r\n")
            .encode("utf-8")
        },
        raw=[
            {
                "sql": "SELECT sku FROM raw.erp__products ORDER BY sku",
                "rows": [["SKU-1"], ["SKU-3"]],
            }
        ],
    )
    case(
        "bom_in_jsonl_with_crlf",
        "A platform's Windows export tool writes JSON Lines with a BOM and CRLF.",
        {f"{D}/{OR}": loaded(2, [1, 2])},
        {
            f"{D}/{OR}": b"\xef\xbb\xbf"
            + jsonl(good_order(), good_order(order_id="TM2")).replace("\n", "\r\n").encode()
        },
    )
    # ------------------------------------------------------------------ columns
    case(
        "missing_required_column",
        "An ERP report layout was edited and lost the qty column.",
        {f"{D}/{OL}": rejected("missing required column(s) qty", "line 1", line=1)} | GOOD_CRM,
        with_good_crm({f"{D}/{OL}": rows_csv(OL, [good(OL)], [c for c in good(OL) if c != "qty"])}),
    )
    case(
        "missing_optional_column",
        "An older ERP version does not export shipped_sku / shipped_qty.",
        {f"{D}/{OL}": loaded(1, [2])},
        {f"{D}/{OL}": rows_csv(OL, [good(OL)], list(good(OL))[:6])},
        raw=[
            {
                "sql": "SELECT shipped_sku, shipped_qty FROM raw.erp__sales_order_lines",
                "rows": [[None, None]],
            },
            {
                "sql": "SELECT missing_columns FROM raw.load_log",
                "rows": [[["shipped_sku", "shipped_qty"]]],
            },
        ],
    )
    case(
        "extra_columns",
        "The CRM admin added custom fields (wechat_id, 备注) to the export.",
        {f"{D}/{CU}": loaded(1, [2])},
        {
            f"{D}/{CU}": rows_csv(
                CU,
                [good(CU) | {"wechat_id": "wx1", "备注": "VIP"}],
                list(good(CU)) + ["wechat_id", "备注"],
            )
        },
        raw=[
            {
                "sql": "SELECT _extra ->> 'wechat_id', _extra ->> '备注' FROM raw.crm__customers",
                "rows": [["wx1", "VIP"]],
            }
        ],
    )
    case(
        "trailing_delimiter",
        "Some ERP exporters end every line, header included, with a comma.",
        {f"{D}/{SN}": loaded(2, [2, 3])},
        {
            f"{D}/{SN}": "".join(
                line + ",\n"
                for line in rows_csv(SN, [good(SN), good(SN, sku="SKU-2")]).splitlines()
            )
        },
    )
    reordered = list(reversed(list(good(PR))))
    spaced = [f" {name.upper() if False else name} " for name in reordered]
    case(
        "header_reordered_with_spaces",
        "A report designer reordered the columns and padded the header names with spaces.",
        {f"{D}/{PR}": loaded(1, [2])},
        {
            f"{D}/{PR}": rows_csv(PR, [good(PR)], reordered).replace(
                ",".join(reordered), ",".join(spaced), 1
            )
        },
        raw=[
            {
                "sql": "SELECT sku, CAST(unit_price_cny AS VARCHAR), status FROM raw.erp__products",
                "rows": [["SKU-1", "59.9000", "active"]],
            }
        ],
    )
    upper = [name.upper() for name in good(PR)]
    case(
        "header_upper_case",
        "Opening and re-saving in a BI tool upper-cased the header.",
        {f"{D}/{PR}": rejected("missing required column(s)", "SKU", line=1)} | GOOD_CRM,
        with_good_crm(
            {
                f"{D}/{PR}": rows_csv(PR, [good(PR)], list(good(PR))).replace(
                    ",".join(good(PR)), ",".join(upper), 1
                )
            }
        ),
    )
    # ------------------------------------------------------------------ keys
    case(
        "duplicate_key_in_file",
        "The WMS movement export pages overlap: the last row of page 1 repeats as the "
        "first of page 2.",
        {f"{D}/{MV}": loaded(3, [2, 3], [[4, "duplicate_key", "movement_id"]])},
        {f"{D}/{MV}": rows_csv(MV, [good(MV), good(MV, movement_id="MV-2"), good(MV)])},
    )
    case(
        "duplicate_key_across_drops",
        "The ERP re-sends a product unchanged in the next delta and a changed version in "
        "the one after: raw keeps every delivery (staging picks the latest).",
        {
            f"{D}/{PR}": loaded(1, [2]),
            f"2025-03-02/{PR}": loaded(1, [2]),
            f"2025-03-03/{PR}": loaded(1, [2]),
        },
        {
            f"{D}/{PR}": rows_csv(PR, [good(PR)]),
            f"2025-03-02/{PR}": rows_csv(PR, [good(PR)]),
            f"2025-03-03/{PR}": rows_csv(
                PR, [good(PR, name="保温杯 600ml", updated_at="2025-03-03 08:00:00")]
            ),
        },
        raw=[
            {
                "sql": "SELECT count(*), count(DISTINCT _drop_date) FROM raw.erp__products",
                "rows": [[3, 3]],
            }
        ],
    )
    case(
        "empty_key",
        "A row saved in the ERP before its number was assigned has an empty order_no.",
        {f"{D}/{SO}": loaded(2, [2], [[3, "required", "order_no"]])},
        {f"{D}/{SO}": rows_csv(SO, [good(SO), good(SO, order_no="")])},
    )
    # ------------------------------------------------------------------ values
    case(
        "negative_and_absurd_quantities",
        "A return booked as a negative order line; a scanner glitch writes 18 digits; a "
        "half unit from a weight-based SKU.",
        {
            f"{D}/{OL}": loaded(
                5,
                [2, 6],
                [[3, "range", "qty"], [4, "type_integer", "qty"], [5, "type_integer", "qty"]],
            )
        },
        {
            f"{D}/{OL}": rows_csv(
                OL,
                [
                    good(OL),
                    good(OL, line_no="2", qty="-5"),
                    good(OL, line_no="3", qty="99999999999999999999"),
                    good(OL, line_no="4", qty="2.5"),
                    good(OL, line_no="5", qty="2.0"),
                ],
            )
        },
    )
    case(
        "negative_stock",
        "A snapshot after a mis-booked shipment shows on_hand -3.",
        {f"{D}/{SN}": loaded(2, [2], [[3, "range", "on_hand"]])},
        {f"{D}/{SN}": rows_csv(SN, [good(SN), good(SN, sku="SKU-2", on_hand="-3")])},
    )
    case(
        "out_of_range_scores_and_discounts",
        "A survey tool writes score 0 for 'no answer'; a promotion typed as 0.15 of 100 "
        "and another as 150; a discount above the line value.",
        {
            f"{D}/{FB}": loaded(2, [2], [[3, "range", "score"]]),
            f"{D}/{PM}": loaded(3, [2, 3], [[4, "range", "discount_pct"]]),
            f"{D}/{OL}": loaded(2, [2], [[3, "discount_exceeds_line", "discount_cny"]]),
        },
        {
            f"{D}/{FB}": rows_csv(FB, [good(FB), good(FB, feedback_id="FB-2", score="0")]),
            f"{D}/{PM}": rows_csv(
                PM,
                [
                    good(PM),
                    good(PM, promo_id="P-2", discount_pct="0.15"),
                    good(PM, promo_id="P-3", discount_pct="150"),
                ],
            ),
            f"{D}/{OL}": rows_csv(
                OL, [good(OL), good(OL, line_no="2", qty="1", discount_cny="100")]
            ),
        },
    )
    case(
        "enum_case_and_spelling",
        "A newer ERP release writes status 'Shipped' and a region '华东区'.",
        {
            f"{D}/{SO}": loaded(2, [2], [[3, "enum", "status"]]),
            f"{D}/erp/warehouses.csv": loaded(2, [2], [[3, "enum", "region"]]),
        },
        {
            f"{D}/{SO}": rows_csv(SO, [good(SO), good(SO, order_no="SO-2", status="Shipped")]),
            f"{D}/erp/warehouses.csv": rows_csv(
                "erp/warehouses.csv",
                [
                    good("erp/warehouses.csv"),
                    good("erp/warehouses.csv", warehouse_id="WH-2", region="华东区"),
                ],
            ),
        },
    )
    case(
        "thousands_separators",
        'A report exported \'as displayed\' keeps thousands separators: "500,000.00", "1,200".',
        {
            f"{D}/{EC}": loaded(2, [2], [[3, "type_decimal", "credit_limit_cny"]]),
            f"{D}/erp/purchase_orders.csv": loaded(2, [2], [[3, "type_integer", "qty"]]),
        },
        {
            f"{D}/{EC}": rows_csv(
                EC, [good(EC), good(EC, erp_code="E-2", credit_limit_cny="500,000.00")]
            ),
            f"{D}/erp/purchase_orders.csv": rows_csv(
                "erp/purchase_orders.csv",
                [
                    good("erp/purchase_orders.csv"),
                    good("erp/purchase_orders.csv", line_no="2", qty="1,200"),
                ],
            ),
        },
    )
    case(
        "fullwidth_digits",
        "A Chinese IME left full-width digits in a quantity typed by hand: １０.",
        {f"{D}/{OL}": loaded(2, [2], [[3, "type_integer", "qty"]])},
        {f"{D}/{OL}": rows_csv(OL, [good(OL), good(OL, line_no="2", qty="１０")])},
    )
    case(
        "null_spelled_out",
        "A database dump writes NULL and \\N, an Excel sheet #N/A, where the field is empty.",
        {
            f"{D}/{EC}": loaded(
                4,
                [2],
                [
                    [3, "type_decimal", "credit_limit_cny"],
                    [4, "type_integer", "payment_terms_days"],
                    [5, "type_decimal", "credit_limit_cny"],
                ],
            )
        },
        {
            f"{D}/{EC}": rows_csv(
                EC,
                [
                    good(EC),
                    good(EC, erp_code="E-2", credit_limit_cny="NULL"),
                    good(EC, erp_code="E-3", payment_terms_days="\\N"),
                    good(EC, erp_code="E-4", credit_limit_cny="#N/A"),
                ],
            )
        },
    )
    # ------------------------------------------------------------------ dates
    case(
        "unparsable_dates",
        "A day that does not exist (2025-02-30), a US-locale date (3/1/2025 10:00) and "
        "free text ('asap') in an ERP order.",
        {
            f"{D}/{SO}": loaded(
                4,
                [2],
                [
                    [3, "type_timestamp", "ordered_at"],
                    [4, "type_timestamp", "ordered_at"],
                    [5, "type_timestamp", "promised_at"],
                ],
            )
        },
        {
            f"{D}/{SO}": rows_csv(
                SO,
                [
                    good(SO),
                    good(SO, order_no="SO-2", ordered_at="2025-02-30 10:00:00"),
                    good(SO, order_no="SO-3", ordered_at="3/1/2025 10:00"),
                    good(SO, order_no="SO-4", promised_at="asap"),
                ],
            )
        },
    )
    case(
        "excel_serial_dates",
        "Dates that passed through Excel come back as serial numbers (45717 = 2025-03-01).",
        {f"{D}/{PM}": loaded(2, [2], [[3, "type_date", "starts_on"]])},
        {
            f"{D}/{PM}": rows_csv(
                PM, [good(PM), good(PM, promo_id="P-2", starts_on="45717", ends_on="2025-03-20")]
            )
        },
    )
    case(
        "mixed_date_styles",
        "One ERP file mixes 2025/02/20 10:00:00, ISO with T, a date alone, an offset "
        "(+09:00, converted) and compact 20250220 (not a contract form).",
        {f"{D}/{MV}": loaded(5, [2, 3, 4, 5], [[6, "type_timestamp", "moved_at"]])},
        {
            f"{D}/{MV}": rows_csv(
                MV,
                [
                    good(MV, moved_at="2025/02/20 10:00:00"),
                    good(MV, movement_id="MV-2", moved_at="2025-02-20T10:00:00"),
                    good(MV, movement_id="MV-3", moved_at="2025-02-20"),
                    good(MV, movement_id="MV-4", moved_at="2025-02-20 11:00:00+09:00"),
                    good(MV, movement_id="MV-5", moved_at="20250220"),
                ],
            )
        },
        raw=[
            {
                "sql": "SELECT movement_id, strftime(moved_at, '%Y-%m-%d %H:%M') "
                "FROM raw.erp__stock_movements ORDER BY movement_id",
                "rows": [
                    ["MV-1", "2025-02-20 10:00"],
                    ["MV-2", "2025-02-20 10:00"],
                    ["MV-3", "2025-02-20 00:00"],
                    ["MV-4", "2025-02-20 10:00"],
                ],
            }
        ],
    )
    case(
        "future_event_dates",
        "A mis-set server clock stamps an order a week ahead; planned promised_at in the "
        "future is fine.",
        {f"{D}/{SO}": loaded(3, [2, 3], [[4, "event_time_after_drop", "ordered_at"]])},
        {
            f"{D}/{SO}": rows_csv(
                SO,
                [
                    good(SO),
                    good(SO, order_no="SO-2", promised_at="2025/04/01 00:00:00"),
                    good(
                        SO,
                        order_no="SO-3",
                        ordered_at="2025/03/08 10:00:00",
                        shipped_at="",
                        status="open",
                        updated_at="",
                    ),
                ],
            )
        },
    )
    # ------------------------------------------------------------------ references
    case(
        "unknown_references",
        "Orders reach the ERP before the customer, warehouse and SKU masters are exported: "
        "ingest keeps them (the warehouse layer maps them to 'unknown' members and lists "
        "them in fct_unresolved_references).",
        {f"{D}/{SO}": loaded(1, [2]), f"{D}/{OL}": loaded(1, [2]), f"{D}/{MV}": loaded(1, [2])},
        {
            f"{D}/{SO}": rows_csv(SO, [good(SO, erp_code="E-404", warehouse_id="WH-404")]),
            f"{D}/{OL}": rows_csv(OL, [good(OL, sku="SKU-404")]),
            f"{D}/{MV}": rows_csv(MV, [good(MV, warehouse_id="WH-404", sku="SKU-404")]),
        },
    )
    case(
        "orphan_order_lines",
        "A delta holds lines of an order whose header went out in a later drop.",
        {f"{D}/{OL}": loaded(2, [2, 3])},
        {
            f"{D}/{OL}": rows_csv(
                OL, [good(OL, order_no="SO-999"), good(OL, order_no="SO-999", line_no="2")]
            )
        },
    )
    # ------------------------------------------------------------------ empty files
    case(
        "zero_byte_file",
        "An FTP upload that failed after creating the file leaves 0 bytes.",
        {f"{D}/{SO}": rejected("empty (0 bytes)", "erp/sales_orders.csv")} | GOOD_CRM,
        with_good_crm({f"{D}/{SO}": b""}),
    )
    case(
        "header_only_file",
        "A delta with no changes for the file: the exporter writes just the header.",
        {f"{D}/erp/returns.csv": loaded(0, [])},
        {f"{D}/erp/returns.csv": rows_csv("erp/returns.csv", [])},
    )
    # ------------------------------------------------------------------ JSON Lines
    case(
        "truncated_jsonl_line",
        "The platform's export was cut off mid-write: the last line ends inside an object.",
        {f"{D}/{OR}": loaded(3, [1, 2], [[3, "malformed_json", None]])},
        {
            f"{D}/{OR}": jsonl(good_order(), good_order(order_id="TM2"))
            + json.dumps(good_order(order_id="TM3"))[:80]
        },
    )
    case(
        "jsonl_not_objects",
        "A hand-made fix inserted a JSON array and a bare string between orders.",
        {
            f"{D}/{OR}": loaded(
                4, [1, 4], [[2, "malformed_json", None], [3, "malformed_json", None]]
            )
        },
        {
            f"{D}/{OR}": jsonl(
                good_order(), '[{"order_id": "TM9"}]', '"TM10"', good_order(order_id="TM2")
            )
        },
    )
    case(
        "jsonl_item_problems",
        "A paid order with no items (a split order lost its lines); an item with qty 0; a "
        "nested buyer without buyer_id.",
        {
            f"{D}/{OR}": loaded(
                4,
                [1],
                [
                    [2, "items_required", "items"],
                    [3, "range", "items[0].qty"],
                    [4, "required", "buyer.buyer_id"],
                ],
            )
        },
        {
            f"{D}/{OR}": jsonl(
                good_order(),
                good_order(order_id="TM2", items=[]),
                good_order(
                    order_id="TM3",
                    items=[{"sku": "SKU-1", "qty": 0, "unit_price_cny": 10.0, "discount_cny": 0}],
                ),
                good_order(order_id="TM4", buyer={"nickname": "x"}),
            )
        },
    )
    case(
        "jsonl_not_json_at_all",
        "The platform's API returned its CSV report under the .jsonl name.",
        {f"{D}/{OR}": rejected("not JSON Lines", "ecommerce/orders.jsonl")} | GOOD_CRM,
        with_good_crm({f"{D}/{OR}": "order_id,platform\nTM1,tmall\n"}),
    )
    # ------------------------------------------------------------------ control chars
    case(
        "nul_bytes",
        "A C-based exporter pads a fixed-width field with NUL bytes; a copy interrupted by "
        "a crash leaves NULs at the end of the file.",
        {
            f"{D}/{FB}": loaded(
                3, [2], [[3, "control_chars", "comment"], [4, "malformed_row", None]]
            )
        },
        {
            f"{D}/{FB}": rows_csv(
                FB, [good(FB), good(FB, feedback_id="FB-2", comment="ok\x00\x00\x00")]
            ).encode()
            + b"\x00" * 64
        },
    )
    # ------------------------------------------------------------------ big and dangerous text
    case(
        "huge_field",
        "A customer pasted a whole document into the feedback form: a 5 MB comment.",
        {f"{D}/{FB}": loaded(2, [2, 3])},
        {f"{D}/{FB}": rows_csv(FB, [good(FB), good(FB, feedback_id="FB-2", comment="@@HUGE@@")])},
        expand={
            "file": f"{D}/{FB}",
            "placeholder": "@@HUGE@@",
            "text": "包装破损",
            "times": 5 * 1024 * 1024 // 12,
        },
        raw=[
            {
                "sql": "SELECT max(length(comment)) FROM raw.crm__feedback",
                "rows": [[4 * (5 * 1024 * 1024 // 12)]],
            }
        ],
    )
    formulas = [
        '=HYPERLINK("http://evil.example/x","点击查看")',
        "+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A9)",
    ]
    case(
        "spreadsheet_formula_text",
        "Customers type formula text into free-text fields (CSV injection). Raw keeps it "
        "verbatim; only the CSV feed copies escape it (tests/test_publish.py checks that).",
        {f"{D}/{FB}": loaded(4, [2, 3, 4, 5])},
        {
            f"{D}/{FB}": rows_csv(
                FB, [good(FB, feedback_id=f"FB-{i}", comment=t) for i, t in enumerate(formulas)]
            )
        },
        raw=[
            {
                "sql": "SELECT comment FROM raw.crm__feedback ORDER BY _line",
                "rows": [[t] for t in formulas],
            }
        ],
    )
    # ------------------------------------------------------------------ not CSV at all
    xlsx = io.BytesIO()
    with zipfile.ZipFile(xlsx, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        book.writestr("xl/worksheets/sheet1.xml", "<worksheet><sheetData/></worksheet>" * 20)
    case(
        "xlsx_renamed_csv",
        "Someone saved the Excel workbook and renamed it .csv.",
        {f"{D}/{PR}": rejected("erp/products.csv")} | GOOD_CRM,
        with_good_crm({f"{D}/{PR}": xlsx.getvalue()}),
    )
    case(
        "html_renamed_csv",
        "A web ERP's 'export to Excel' button serves an HTML table named .csv.",
        {f"{D}/{PR}": rejected("missing required column(s)", "erp/products.csv", line=1)}
        | GOOD_CRM,
        with_good_crm(
            {
                f"{D}/{PR}": '<html><head><meta charset="utf-8"></head><body><table>\n'
                "<tr><td>sku</td><td>name</td></tr>\n<tr><td>SKU-1</td><td>保温杯</td></tr>\n"
                "</table></body></html>\n"
            }
        ),
    )
    case(
        "semicolon_delimited",
        "A European-locale Excel writes ';' as the delimiter.",
        {f"{D}/{PR}": rejected("missing required column(s)", "erp/products.csv", line=1)}
        | GOOD_CRM,
        with_good_crm({f"{D}/{PR}": rows_csv(PR, [good(PR)]).replace(",", ";")}),
    )
    case(
        "unknown_file_names",
        "A drop also holds a zipped copy, an Excel lock file and a re-cased name.",
        {
            f"{D}/erp/Sales_Orders.csv": {"status": "unknown"},
            f"{D}/erp/sales_orders.csv.gz": {"status": "unknown"},
            f"{D}/crm/~$customers.xlsx": {"status": "unknown"},
        }
        | GOOD_CRM,
        with_good_crm(
            {
                f"{D}/erp/Sales_Orders.csv": rows_csv(SO, [good(SO)]),
                f"{D}/erp/sales_orders.csv.gz": b"\x1f\x8b\x08\x00",
                f"{D}/crm/~$customers.xlsx": b"lock",
            }
        ),
    )


def write() -> None:
    build()
    for path in HERE.iterdir():
        if path.is_dir() and (path / "case.json").exists():
            shutil.rmtree(path)
    for name, spec in CASES.items():
        folder = HERE / name
        for relative, content in spec.pop("contents").items():
            target = folder / "extracts" / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        (folder / "case.json").write_text(json.dumps(spec, indent=2, ensure_ascii=False) + "\n")
    print(f"{len(CASES)} cases written to {HERE}")


if __name__ == "__main__":
    write()
