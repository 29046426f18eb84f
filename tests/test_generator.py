"""Tests of the demo-world generator (wmsight.demo).

The worlds are small (scale 0.05–0.1) and built once per session. Besides shape and
determinism, the tests hold the world to the contract of EXTRACTS.md with a small
reference validator below: a clean world breaks no rule, and in a dirty world the
rows that break a rule are exactly those listed in _truth/dirty_rows.csv, each
breaking exactly the listed rule.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import polars as pl
import pytest

from wmsight.demo import GenerationSummary, generate_world
from wmsight.demo.schema import FILES_BY_PATH, Column, FileSpec

END = date(2025, 11, 30)
SHANGHAI = timezone(timedelta(hours=8))


# ----------------------------------------------------------------------------- worlds
@pytest.fixture(scope="session")
def clean_world(tmp_path_factory: pytest.TempPathFactory) -> GenerationSummary:
    return generate_world(tmp_path_factory.mktemp("clean"), scale=0.1, seed=7)


@pytest.fixture(scope="session")
def dirty_world(tmp_path_factory: pytest.TempPathFactory) -> GenerationSummary:
    return generate_world(tmp_path_factory.mktemp("dirty"), scale=0.05, seed=11, dirty=0.02)


def _all_files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


# ----------------------------------------------------------------------------- reading
def decode(spec: FileSpec, data: bytes) -> str:
    return data.decode(spec.encoding)


def csv_records(spec: FileSpec, data: bytes) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (physical start line, fields) of every record; header = line 1."""
    reader = csv.reader(io.StringIO(decode(spec, data), newline=""))
    header = next(reader)
    out = []
    prev = reader.line_num
    for rec in reader:
        out.append((prev + 1, rec))
        prev = reader.line_num
    return header, out


def jsonl_records(data: bytes) -> list[tuple[int, str]]:
    return [(i + 1, line) for i, line in enumerate(data.decode("utf-8").split("\n")) if line]


def drop_files(summary: GenerationSummary) -> dict[tuple[str, str], bytes]:
    out = {}
    for d in summary.drops:
        folder = summary.out / d.isoformat()
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                out[(d.isoformat(), str(p.relative_to(folder)))] = p.read_bytes()
    return out


def read_csv_frame(summary: GenerationSummary, path: str) -> pl.DataFrame:
    """All drops of one CSV file, as text, with the drop date."""
    spec = FILES_BY_PATH[path]
    frames = []
    for (drop, file), data in drop_files(summary).items():
        if file == path:
            header, recs = csv_records(spec, data)
            frames.append(
                pl.DataFrame([r for _, r in recs], schema=header, orient="row").with_columns(
                    _drop=pl.lit(drop)
                )
            )
    return pl.concat(frames)


def read_orders(summary: GenerationSummary) -> list[dict]:
    out = []
    for (drop, file), data in drop_files(summary).items():
        if file == "ecommerce/orders.jsonl":
            out += [dict(json.loads(line), _drop=drop) for _, line in jsonl_records(data)]
    return out


# ----------------------------------------------------------------------------- validator
_TS = re.compile(
    r"^(\d{4})[-/](\d{2})[-/](\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?"
    r"(Z|[+-]\d{2}:\d{2})?$"
)
_INT = re.compile(r"^[+-]?\d+(\.0+)?$")
_DEC = re.compile(r"^[+-]?\d+(\.\d+)?$")


def parse_time(text: str, erp: bool) -> datetime | None:
    """Naive Asia/Shanghai time of a timestamp, None if it is not one."""
    m = _TS.match(text)
    if not m or ("/" in text[:10] and not erp):
        return None
    y, mo, d, h, mi, s, off = m.groups()
    try:
        t = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0))
    except ValueError:
        return None
    if off:
        sign = 1 if off[0] == "+" else -1
        delta = (
            timedelta(hours=int(off[1:3]), minutes=int(off[4:6])) * sign
            if off != "Z"
            else timedelta()
        )
        t = (t - delta).replace(tzinfo=UTC).astimezone(SHANGHAI).replace(tzinfo=None)
    return t


def parse_date(text: str, erp: bool) -> date | None:
    m = re.match(r"^(\d{4})([-/])(\d{2})\2(\d{2})$", text)
    if not m or (m.group(2) == "/" and not erp):
        return None
    try:
        return date(int(m.group(1)), int(m.group(3)), int(m.group(4)))
    except ValueError:
        return None


def _number(value: object, kind: str) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if kind == "decimal" or float(value).is_integer() else None
    text = str(value)
    if not (_INT if kind == "int" else _DEC).match(text):
        return None
    return float(text)


def _out_of_range(c: Column, x: float) -> bool:
    if c.nonzero and x == 0:
        return True
    if c.exclusive:
        return not (c.minimum < x < c.maximum)
    return (c.minimum is not None and x < c.minimum) or (c.maximum is not None and x > c.maximum)


def value_rules(spec: FileSpec, c: Column, value: object, drop_end: datetime) -> list[str]:
    """Rules one field breaks (type problems stop further checks of that field)."""
    erp = spec.path.startswith("erp/")
    if value is None or value == "":
        return ["required"] if c.required or c.name in spec.key else []
    if c.kind == "text":
        if isinstance(value, str) and any(ord(ch) < 32 and ch not in "\t\n" for ch in value):
            return ["control_chars"]
        if c.enum and value not in c.enum:
            return ["enum"]
        return []
    if c.kind in ("int", "decimal"):
        x = _number(value, c.kind)
        if x is None:
            return ["type_integer" if c.kind == "int" else "type_decimal"]
        return ["range"] if _out_of_range(c, x) else []
    if c.kind == "timestamp":
        t = parse_time(str(value), erp) if isinstance(value, str) else None
        if t is None:
            return ["type_timestamp"]
        return ["event_time_after_drop"] if c.event and t > drop_end else []
    d = parse_date(str(value), erp)
    if d is None:
        return ["type_date"]
    return ["event_time_after_drop"] if c.event and d > drop_end.date() else []


def row_rules(spec: FileSpec, row: dict[str, object], drop_end: datetime) -> list[str]:
    rules = []
    for c in spec.columns:
        if "." not in c.name:
            rules += value_rules(spec, c, row.get(c.name), drop_end)
    if "discount_cny" in row and "qty" in row:
        q, p, dsc = (
            _number(row.get(k) or "", kind)
            for k, kind in (
                ("qty", "int"),
                ("unit_price_cny", "decimal"),
                ("discount_cny", "decimal"),
            )
        )
        if None not in (q, p, dsc) and dsc > q * p + 0.005:
            rules.append("discount_exceeds_line")
    if spec.path.endswith("promotions.csv"):
        s, e = (
            parse_date(str(row["starts_on"] or ""), False),
            parse_date(str(row["ends_on"] or ""), False),
        )
        if s and e and e < s:
            rules.append("ends_before_starts")
    return rules


def order_rules(spec: FileSpec, obj: dict, drop_end: datetime) -> list[str]:
    cols = {c.name: c for c in spec.columns}
    rules = []
    for name, c in cols.items():
        if "." not in name:
            rules += value_rules(spec, c, obj.get(name), drop_end)
        elif not name.startswith("items."):
            outer, inner = name.split(".")
            rules += value_rules(spec, c, (obj.get(outer) or {}).get(inner), drop_end)
    items = obj.get("items") or []
    if not items and obj.get("status") not in ("cancelled", "refunded"):
        rules.append("items_required")
    for item in items:
        for f in ("sku", "qty", "unit_price_cny", "discount_cny"):
            rules += value_rules(spec, cols[f"items.{f}"], item.get(f), drop_end)
        rules += [r for r in row_rules_item(item)]
    return rules


def row_rules_item(item: dict) -> list[str]:
    q, p, d = item.get("qty"), item.get("unit_price_cny"), item.get("discount_cny")
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in (q, p, d)) and (
        d > q * p + 0.005
    ):
        return ["discount_exceeds_line"]
    return []


def violations(summary: GenerationSummary) -> dict[tuple[str, str, int], list[str]]:
    """(drop, file, line) → rules broken, for every file of every drop."""
    found: dict[tuple[str, str, int], list[str]] = {}
    for (drop, file), data in drop_files(summary).items():
        spec = FILES_BY_PATH[file]
        d = date.fromisoformat(drop)
        drop_end = datetime(d.year, d.month, d.day, 23, 59, 59)
        seen: dict[tuple, str | None] = {}
        if spec.is_jsonl:
            for line, text in jsonl_records(data):
                try:
                    obj = json.loads(text)
                except json.JSONDecodeError:
                    found[(drop, file, line)] = ["malformed_json"]
                    continue
                rules = order_rules(spec, obj, drop_end)
                key = (obj.get("order_id"),)
                if key in seen and seen[key] == obj.get("updated_at"):
                    rules.append("duplicate_key")
                seen.setdefault(key, obj.get("updated_at"))
                if rules:
                    found[(drop, file, line)] = rules
            continue
        header, recs = csv_records(spec, data)
        for line, rec in recs:
            row = dict(zip(header, rec, strict=True))
            rules = row_rules(spec, row, drop_end)
            key = tuple(row[k] for k in spec.key)
            stamp = row.get("updated_at") if spec.has_updated_at else None
            if all(key) and key in seen and seen[key] == stamp:
                rules.append("duplicate_key")
            seen.setdefault(key, stamp)
            if rules:
                found[(drop, file, line)] = rules
    return found


# ----------------------------------------------------------------------------- determinism
def test_same_seed_gives_identical_bytes(dirty_world: GenerationSummary, tmp_path: Path) -> None:
    again = generate_world(tmp_path, scale=0.05, seed=11, dirty=0.02)
    first, second = _all_files(dirty_world.out), _all_files(again.out)
    assert first.keys() == second.keys()
    different = [name for name in first if first[name] != second[name]]
    assert different == []


def test_different_seed_gives_a_different_world(
    dirty_world: GenerationSummary, tmp_path: Path
) -> None:
    other = generate_world(tmp_path, scale=0.05, seed=12, dirty=0.02)
    path = f"{dirty_world.drops[0].isoformat()}/erp/sales_orders.csv"
    assert (dirty_world.out / path).read_bytes() != (other.out / path).read_bytes()


# ----------------------------------------------------------------------------- shape
def test_drops_and_summary(clean_world: GenerationSummary) -> None:
    assert clean_world.drops == [END - timedelta(days=3 - i) for i in range(4)]
    folders = sorted(p.name for p in clean_world.out.iterdir())
    assert folders == [d.isoformat() for d in clean_world.drops] + ["_truth"]
    assert clean_world.dirty_rows == 0
    first = clean_world.drops[0].isoformat()
    assert {f for (d, f) in clean_world.rows if d == first} == set(FILES_BY_PATH)
    assert clean_world.rows[(first, "erp/warehouses.csv")] == 7


def test_file_names_and_columns_match_the_contract(clean_world: GenerationSummary) -> None:
    files = drop_files(clean_world)
    assert {f for _, f in files} <= set(FILES_BY_PATH)
    for (drop, file), data in files.items():
        spec = FILES_BY_PATH[file]
        if spec.is_jsonl:
            for _, line in jsonl_records(data)[:200]:
                obj = json.loads(line)
                assert list(obj) == [
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
                ]
                assert list(obj["buyer"]) == ["buyer_id", "nickname", "phone", "email"]
                assert list(obj["ship_to"]) == ["province", "city", "district"]
                for item in obj["items"]:
                    assert list(item) == ["sku", "qty", "unit_price_cny", "discount_cny"]
        else:
            header, recs = csv_records(spec, data)
            assert header == spec.names, (drop, file)
            assert all(len(r) == len(header) for _, r in recs), (drop, file)
        assert clean_world.rows[(drop, file)] == (
            len(jsonl_records(data)) if spec.is_jsonl else len(csv_records(spec, data)[1])
        )


def test_encodings(clean_world: GenerationSummary) -> None:
    first = clean_world.out / clean_world.drops[0].isoformat()
    erp = (first / "erp/customers.csv").read_bytes()
    text = erp.decode("gb18030")
    assert "有限" in text
    with pytest.raises(UnicodeDecodeError):
        erp.decode("utf-8")  # really GB18030, not UTF-8 with Chinese
    for name in ("crm/customers.csv", "crm/feedback.csv"):
        data = (first / name).read_bytes()
        assert data.startswith(b"\xef\xbb\xbf")
        data.decode("utf-8-sig")
    for name in ("ecommerce/promotions.csv", "ecommerce/orders.jsonl"):
        data = (first / name).read_bytes()
        assert not data.startswith(b"\xef\xbb\xbf")
        data.decode("utf-8")
    assert b"\r\n" in erp and b"\r\n" not in (first / "ecommerce/orders.jsonl").read_bytes()


def test_formats_vary_like_real_exports(clean_world: GenerationSummary) -> None:
    orders = read_csv_frame(clean_world, "erp/sales_orders.csv")
    assert orders["ordered_at"].str.contains("/").any()  # ERP slash style
    assert orders["ordered_at"].str.contains("-").any()
    snaps = read_csv_frame(clean_world, "erp/stock_snapshots.csv")
    assert snaps["snapshot_date"].str.contains("/").all()
    feedback = read_csv_frame(clean_world, "crm/feedback.csv")
    assert feedback["submitted_at"].str.ends_with("+08:00").any()
    assert feedback["submitted_at"].str.ends_with("+09:00").any()
    assert feedback["comment"].str.contains("\n").any()  # a multi-line complaint
    lines = read_csv_frame(clean_world, "erp/sales_order_lines.csv")
    assert lines["qty"].str.ends_with(".0").any()  # `2.0` quantities
    crm = read_csv_frame(clean_world, "crm/customers.csv")
    assert crm["email"].str.contains(r"^\s|\s$").any()  # stray spaces
    assert crm["company_name"].str.contains("Co., Ltd.").any()


# ----------------------------------------------------------------------------- contract
def test_clean_world_breaks_no_rule(clean_world: GenerationSummary) -> None:
    found = violations(clean_world)
    assert found == {}, list(found.items())[:10]


def test_dirty_rows_are_exactly_the_rule_breakers(dirty_world: GenerationSummary) -> None:
    truth = pl.read_csv(dirty_world.out / "_truth/dirty_rows.csv", infer_schema=False)
    assert truth.height == dirty_world.dirty_rows > 0
    listed = {
        (r["drop"], r["file"], int(r["line"])): r["rule"] for r in truth.iter_rows(named=True)
    }
    found = violations(dirty_world)
    assert found.keys() == listed.keys()
    wrong = {k: (listed[k], found[k]) for k in listed if found[k] != [listed[k]]}
    assert wrong == {}, list(wrong.items())[:10]


def test_dirty_rules_all_covered_and_scaled(dirty_world: GenerationSummary) -> None:
    truth = pl.read_csv(dirty_world.out / "_truth/dirty_rows.csv", infer_schema=False)
    rules = set(truth["rule"])
    assert rules == {
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
        "malformed_json",
    }
    first = dirty_world.drops[0].isoformat()
    n_rows = sum(n for (d, _), n in dirty_world.rows.items() if d == first)
    n_dirty = truth.filter(pl.col("drop") == first).height
    assert 0.01 * n_rows < n_dirty < 0.04 * n_rows  # ≈ 2 %
    for drop in dirty_world.drops:  # every drop gets some of every rule it can carry
        assert truth.filter(pl.col("drop") == drop.isoformat()).height >= 5


def test_dirty_keys_are_new_except_duplicates(dirty_world: GenerationSummary) -> None:
    truth = pl.read_csv(dirty_world.out / "_truth/dirty_rows.csv", infer_schema=False)
    orders = read_csv_frame(dirty_world, "erp/sales_orders.csv")
    dirty = truth.filter(pl.col("file") == "erp/sales_orders.csv")
    counts = orders.group_by("_drop", "order_no").len()
    for row in dirty.iter_rows(named=True):
        n = counts.filter(pl.col("_drop") == row["drop"], pl.col("order_no") == row["key"])[
            "len"
        ].sum()
        assert n == (2 if row["rule"] == "duplicate_key" else 1) or row["key"] == ""


# ----------------------------------------------------------------------------- truth
def test_identity_matches_the_extracts(clean_world: GenerationSummary) -> None:
    identity = pl.read_csv(clean_world.out / "_truth/identity.csv")
    ids = {
        s: set(identity.filter(pl.col("source_system") == s)["source_id"])
        for s in ("crm", "erp", "ecommerce")
    }
    crm = set(read_csv_frame(clean_world, "crm/customers.csv")["crm_id"])
    erp = set(read_csv_frame(clean_world, "erp/customers.csv")["erp_code"])
    buyers = {f"{o['platform']}:{o['buyer']['buyer_id']}" for o in read_orders(clean_world)}
    assert ids["crm"] == crm
    assert ids["erp"] == erp
    assert ids["ecommerce"] == buyers
    # facts reference known masters
    assert set(read_csv_frame(clean_world, "erp/sales_orders.csv")["erp_code"]) <= erp
    linked = read_csv_frame(clean_world, "erp/customers.csv")["crm_id"].drop_nulls()
    linked = set(linked.filter(linked != ""))
    assert linked <= crm
    true_ids = set(pl.read_csv(clean_world.out / "_truth/customers.csv")["true_customer_id"])
    assert set(identity["true_customer_id"]) <= true_ids


def test_same_customer_spelled_differently(clean_world: GenerationSummary) -> None:
    identity = pl.read_csv(clean_world.out / "_truth/identity.csv")
    crm = read_csv_frame(clean_world, "crm/customers.csv").unique("crm_id", keep="last")
    erp = read_csv_frame(clean_world, "erp/customers.csv").unique("erp_code", keep="last")
    pairs = (
        identity.filter(pl.col("source_system") == "crm")
        .join(identity.filter(pl.col("source_system") == "erp"), on="true_customer_id")
        .join(crm, left_on="source_id", right_on="crm_id")
        .join(erp, left_on="source_id_right", right_on="erp_code")
    )
    differ = pairs.filter(pl.col("company_name") != pl.col("legal_name")).height
    assert differ > 0.2 * pairs.height
    assert 0.25 < erp["crm_id"].ne("").mean() < 0.6  # the ERP links only some accounts
    assert erp["tax_id"].ne("").mean() > 0.8


def test_churners_go_silent_before_the_end(clean_world: GenerationSummary) -> None:
    customers = pl.read_csv(clean_world.out / "_truth/customers.csv", try_parse_dates=True)
    identity = pl.read_csv(clean_world.out / "_truth/identity.csv")
    orders = read_csv_frame(clean_world, "erp/sales_orders.csv").select(
        source_id=pl.col("erp_code"),
        day=pl.col("ordered_at").str.slice(0, 10).str.replace_all("/", "-").str.to_date(),
    )
    online = pl.DataFrame(
        {
            "source_id": [
                f"{o['platform']}:{o['buyer']['buyer_id']}" for o in read_orders(clean_world)
            ],
            "day": [date.fromisoformat(o["created_at"][:10]) for o in read_orders(clean_world)],
        }
    )
    last = (
        pl.concat([orders, online])
        .join(identity, on="source_id")
        .group_by("true_customer_id")
        .agg(pl.col("day").max().alias("last"))
    )
    churners = customers.filter(pl.col("churned")).join(last, on="true_customer_id")
    assert churners.height >= 2
    assert (churners["last"] == churners["churn_date"]).all()  # churn date = last order
    assert (churners["churn_date"] <= END - timedelta(days=90)).all()


def test_high_value_accounts_exceed_five_million(clean_world: GenerationSummary) -> None:
    customers = pl.read_csv(clean_world.out / "_truth/customers.csv")
    identity = pl.read_csv(clean_world.out / "_truth/identity.csv")
    orders = read_csv_frame(clean_world, "erp/sales_orders.csv").unique("order_no", keep="last")
    lines = read_csv_frame(clean_world, "erp/sales_order_lines.csv").unique(
        ["order_no", "line_no"], keep="last"
    )
    start = (END - timedelta(days=365)).isoformat()
    revenue = (
        lines.join(orders, on="order_no")
        .filter(
            pl.col("status") != "cancelled", pl.col("ordered_at").str.replace_all("/", "-") > start
        )
        .with_columns(
            value=pl.col("qty").cast(pl.Float64) * pl.col("unit_price_cny").cast(pl.Float64)
            - pl.col("discount_cny").cast(pl.Float64)
        )
        .join(identity, left_on="erp_code", right_on="source_id")
        .group_by("true_customer_id")
        .agg(pl.col("value").sum())
    )
    hv = customers.filter(pl.col("segment") == "high_value").join(revenue, on="true_customer_id")
    assert hv.height >= 2
    assert (hv["value"] > 5_000_000).all()


def test_demand_truth_covers_every_warehouse_sku_day(clean_world: GenerationSummary) -> None:
    demand = pl.read_parquet(clean_world.out / "_truth/demand.parquet")
    assert demand.columns == [
        "warehouse_id",
        "sku",
        "date",
        "expected_units",
        "expected_units_b2b",
        "expected_units_ecom",
        "promo",
        "holiday",
    ]
    assert demand["warehouse_id"].n_unique() == 7
    assert demand["date"].min() == END - timedelta(days=730)
    assert demand["date"].max() == END
    assert demand.filter(pl.col("holiday") == "double11").height > 0
    assert demand["promo"].any()
    # realised units of a year agree with the truth to within a few per cent
    items = [
        (o["created_at"][:10], i["qty"])
        for o in read_orders(clean_world)
        for i in o["items"]
        if o["_drop"] == clean_world.drops[0].isoformat()
    ]
    realised = sum(q for _, q in items)
    expected = demand.filter(pl.col("date") <= clean_world.drops[0])["expected_units_ecom"].sum()
    assert abs(realised / expected - 1) < 0.08


# ----------------------------------------------------------------------------- world
def _ecom_units_by_day(summary: GenerationSummary) -> pl.DataFrame:
    rows = [(o["created_at"][:10], i["qty"]) for o in read_orders(summary) for i in o["items"]]
    df = pl.DataFrame(rows, schema={"day": pl.Utf8, "qty": pl.Int64}, orient="row")
    return df.group_by("day").agg(pl.col("qty").sum()).with_columns(pl.col("day").str.to_date())


def test_double11_is_a_peak(clean_world: GenerationSummary) -> None:
    by_day = _ecom_units_by_day(clean_world)
    average = by_day["qty"].sum() / 731
    week = by_day.filter(pl.col("day").dt.month() == 11, pl.col("day").dt.day().is_between(5, 11))
    assert week["qty"].sum() / 14 > 1.8 * average  # two 双11 weeks in the history
    peak = by_day.filter(pl.col("day") == date(2024, 11, 11))["qty"].sum()
    assert peak > 3 * average


def test_spring_festival_slump_in_b2b(clean_world: GenerationSummary) -> None:
    orders = read_csv_frame(clean_world, "erp/sales_orders.csv").unique("order_no")
    days = orders["ordered_at"].str.slice(0, 10).str.replace_all("/", "-").str.to_date()
    per_day = days.value_counts()
    total = per_day["count"].sum() / 731
    sf = per_day.filter(pl.col("ordered_at").is_between(date(2025, 1, 29), date(2025, 2, 4)))
    assert sf["count"].sum() / 7 < 0.4 * total


def test_pareto_revenue(clean_world: GenerationSummary) -> None:
    products = pl.read_csv(clean_world.out / "_truth/products.csv")
    revenue = products["revenue_cny"].sort(descending=True)
    top = revenue.head(max(1, len(revenue) // 5)).sum() / revenue.sum()
    assert 0.6 < top < 0.95
    assert set(products["abc_class"]) == {"A", "B", "C"}


def test_orders_are_consistent_with_their_timestamps(clean_world: GenerationSummary) -> None:
    orders = read_csv_frame(clean_world, "erp/sales_orders.csv")
    iso = {
        c: pl.col(c).str.replace_all("/", "-")
        for c in ("ordered_at", "shipped_at", "delivered_at", "cancelled_at")
    }
    delivered = orders.filter(pl.col("status") == "delivered")
    assert (
        delivered.filter((pl.col("shipped_at") == "") | (pl.col("delivered_at") == "")).height == 0
    )
    assert (
        delivered.filter(
            (iso["ordered_at"] > iso["shipped_at"]) | (iso["shipped_at"] > iso["delivered_at"])
        ).height
        == 0
    )
    assert (
        orders.filter((pl.col("status") == "cancelled") & (pl.col("cancelled_at") == "")).height
        == 0
    )
    assert orders.filter((pl.col("status") == "open") & (pl.col("shipped_at") != "")).height == 0
    late = delivered.filter(iso["delivered_at"] > pl.col("promised_at").str.replace_all("/", "-"))
    assert 0.02 < late.height / delivered.height < 0.4
    lines = (
        read_csv_frame(clean_world, "erp/sales_order_lines.csv")
        .unique(["order_no", "line_no"], keep="last")
        .filter(pl.col("shipped_qty") != "")
    )
    mis = (lines["shipped_sku"] != lines["sku"]) & (lines["shipped_sku"] != "")
    assert 0.002 < mis.mean() < 0.03
    short = lines["shipped_qty"].cast(pl.Float64) < lines["qty"].cast(pl.Float64)
    assert short.any()


def test_wrong_items_come_back_as_wrong_item_returns(clean_world: GenerationSummary) -> None:
    lines = read_csv_frame(clean_world, "erp/sales_order_lines.csv").unique(
        ["order_no", "line_no"], keep="last"
    )
    mis = lines.filter((pl.col("shipped_sku") != "") & (pl.col("shipped_sku") != pl.col("sku")))
    returns = read_csv_frame(clean_world, "erp/returns.csv")
    wrong = returns.filter(pl.col("reason") == "wrong_item")
    matched = mis.join(wrong, left_on=["order_no", "shipped_sku"], right_on=["order_ref", "sku"])
    assert matched.height > 0.4 * mis.height


def test_online_discounts_match_promotions(clean_world: GenerationSummary) -> None:
    promos = read_csv_frame(clean_world, "ecommerce/promotions.csv").unique("promo_id")
    promo_rows = promos.to_dicts()
    for o in read_orders(clean_world)[:3000]:
        day = o["created_at"][:10]
        for item in o["items"]:
            pcts = [
                float(p["discount_pct"])
                for p in promo_rows
                if p["starts_on"] <= day <= p["ends_on"]
                and p["platform"] in ("", o["platform"])
                and p["sku"] in ("", item["sku"])
            ]
            expected = round(item["qty"] * item["unit_price_cny"] * max(pcts, default=0) / 100, 2)
            assert item["discount_cny"] == pytest.approx(expected, abs=0.011), (o["order_id"], item)


def test_stock_snapshots_reconcile_with_movements(clean_world: GenerationSummary) -> None:
    snaps = read_csv_frame(clean_world, "erp/stock_snapshots.csv").with_columns(
        day=pl.col("snapshot_date").str.replace_all("/", "-").str.to_date(),
        on_hand=pl.col("on_hand").cast(pl.Float64).cast(pl.Int64),
    )
    moves = read_csv_frame(clean_world, "erp/stock_movements.csv").with_columns(
        day=pl.col("moved_at").str.slice(0, 10).str.replace_all("/", "-").str.to_date(),
        qty=pl.col("qty").cast(pl.Int64),
    )
    a, b = END - timedelta(days=40), END - timedelta(days=1)
    start = snaps.filter(pl.col("day") == a).select("warehouse_id", "sku", start="on_hand")
    stop = snaps.filter(pl.col("day") == b).select("warehouse_id", "sku", stop="on_hand")
    moved = (
        moves.filter((pl.col("day") > a) & (pl.col("day") <= b))
        .group_by("warehouse_id", "sku")
        .agg(pl.col("qty").sum().alias("moved"))
    )
    joined = (
        start.join(stop, on=["warehouse_id", "sku"])
        .join(moved, on=["warehouse_id", "sku"], how="left")
        .with_columns(pl.col("moved").fill_null(0))
    )
    assert joined.height > 0
    assert joined.filter(pl.col("start") + pl.col("moved") != pl.col("stop")).height == 0
    kinds = set(moves["movement_type"])
    assert kinds == {"receipt", "shipment", "transfer_in", "transfer_out", "adjustment", "return"}
    counts = read_csv_frame(clean_world, "erp/stock_counts.csv")
    disagree = (
        counts["book_qty"].cast(pl.Float64) != counts["counted_qty"].cast(pl.Float64)
    ).mean()
    assert 0.03 < disagree < 0.12


def test_feedback_scores_follow_experience(clean_world: GenerationSummary) -> None:
    feedback = read_csv_frame(clean_world, "crm/feedback.csv").with_columns(
        score=pl.col("score").cast(pl.Int64)
    )
    assert set(feedback["channel"]) <= {"sms", "email", "phone", "app"}
    assert feedback["score"].is_between(4, 5).mean() > 0.5
    complaints = feedback.filter(
        pl.col("comment").str.contains("发错货|wrong item|配送慢|包装破损")
    )
    assert complaints.height > 0 and complaints["score"].mean() < feedback["score"].mean() - 1


def test_hard_negatives_exist(clean_world: GenerationSummary) -> None:
    customers = pl.read_csv(clean_world.out / "_truth/customers.csv")
    companies = customers.filter(pl.col("customer_type") == "company")
    # different companies sharing city and trade name (上海华通贸易 vs 上海华通物流)
    stem = companies["display_name"].str.slice(0, 5)
    assert stem.is_duplicated().any()
    people = customers.filter(pl.col("customer_type") == "person")
    assert people["display_name"].is_duplicated().any()  # two different 王伟


def test_invoices_purchase_orders_and_products(clean_world: GenerationSummary) -> None:
    last = clean_world.drops[-1]
    invoices = read_csv_frame(clean_world, "erp/invoices.csv").unique("invoice_no", keep="last")
    slash = {c: pl.col(c).str.replace_all("/", "-") for c in ("paid_at", "due_at", "issued_at")}
    assert invoices.filter((pl.col("paid_at") != "") & (slash["paid_at"] > slash["due_at"])).height
    old = (last - timedelta(days=120)).isoformat()
    assert invoices.filter((pl.col("paid_at") == "") & (slash["issued_at"] < old)).height
    assert invoices.filter(pl.col("amount_cny").str.starts_with("-")).height  # credit notes
    pos = read_csv_frame(clean_world, "erp/purchase_orders.csv").unique(
        ["po_no", "line_no"], keep="last"
    )
    open_pos = pos.filter(pl.col("received_at") == "")
    assert (
        open_pos.height
        and (open_pos["expected_at"].str.replace_all("/", "-") > last.isoformat()).any()
    )
    products = read_csv_frame(clean_world, "erp/products.csv").unique("sku", keep="last")
    assert set(products["status"]) == {"active", "discontinued"}
    lead = products["lead_time_days"].cast(pl.Int64)
    assert lead.min() >= 3 and lead.max() <= 45
    assert (
        products["unit_cost_cny"].cast(pl.Float64) < products["unit_price_cny"].cast(pl.Float64)
    ).all()
    truth = pl.read_csv(clean_world.out / "_truth/products.csv")
    assert truth["introduced_on"].drop_nulls().len() > 0


def test_month_end_spike_and_growth(clean_world: GenerationSummary) -> None:
    orders = read_csv_frame(clean_world, "erp/sales_orders.csv").unique("order_no", keep="last")
    day = orders["ordered_at"].str.slice(0, 10).str.replace_all("/", "-").str.to_date()
    per_day = day.value_counts(name="n").rename({"ordered_at": "day"})
    weekdays = per_day.filter(pl.col("day").dt.weekday() <= 5)
    month_end = (pl.col("day") + pl.duration(days=3)).dt.month() != pl.col("day").dt.month()
    spike = weekdays.filter(month_end)["n"].mean() / weekdays.filter(~month_end)["n"].mean()
    assert spike > 1.3
    # growth accounts order more in the last half-year than in the one before
    identity = pl.read_csv(clean_world.out / "_truth/identity.csv")
    customers = pl.read_csv(clean_world.out / "_truth/customers.csv")
    growth = customers.filter(pl.col("segment") == "growth").join(identity, on="true_customer_id")
    mine = orders.with_columns(day=day).join(growth, left_on="erp_code", right_on="source_id")
    recent = mine.filter(pl.col("day") > END - timedelta(days=182)).height
    before = mine.filter(
        pl.col("day").is_between(END - timedelta(days=364), END - timedelta(days=182))
    ).height
    assert recent > 1.5 * before


# ----------------------------------------------------------------------------- deltas
def test_delta_drops_update_earlier_keys(clean_world: GenerationSummary) -> None:
    orders = read_csv_frame(clean_world, "erp/sales_orders.csv")
    first = clean_world.drops[0].isoformat()
    for drop in clean_world.drops[1:]:
        label = drop.isoformat()
        delta = orders.filter(pl.col("_drop") == label)
        earlier = orders.filter(pl.col("_drop") < label).unique("order_no", keep="last")
        updated = delta.join(earlier, on="order_no", suffix="_before")
        assert updated.height > 0, label
        norm = {c: pl.col(c).str.replace_all("/", "-") for c in ("updated_at", "updated_at_before")}
        assert (updated.select(norm["updated_at"] > norm["updated_at_before"]).to_series()).all()
        assert (updated["status"] != updated["status_before"]).any()
        # a delta holds one day of changes
        assert (delta["updated_at"].str.slice(0, 10).str.replace_all("/", "-") == label).all()
    online = read_orders(clean_world)
    before = {o["order_id"]: o["status"] for o in online if o["_drop"] == first}
    changed = [
        o
        for o in online
        if o["_drop"] != first and o["order_id"] in before and o["status"] != before[o["order_id"]]
    ]
    assert changed


def test_regenerating_into_the_same_folder_replaces_it(tmp_path: Path) -> None:
    generate_world(tmp_path, scale=0.05, seed=3, delta_drops=2)
    (tmp_path / "keep.txt").write_text("not ours")
    summary = generate_world(tmp_path, scale=0.05, seed=3, delta_drops=1)
    folders = sorted(p.name for p in tmp_path.iterdir())
    assert folders == [d.isoformat() for d in summary.drops] + ["_truth", "keep.txt"]


def test_progress_and_arguments(tmp_path: Path) -> None:
    messages: list[str] = []
    summary = generate_world(
        tmp_path,
        scale=0.05,
        seed=5,
        days=120,
        delta_drops=0,
        end_date=date(2024, 6, 30),
        progress=messages.append,
    )
    assert summary.drops == [date(2024, 6, 30)]
    assert any(m.startswith("drop 2024-06-30: erp/sales_orders.csv") for m in messages)
    with pytest.raises(ValueError):
        generate_world(tmp_path, scale=0)
    with pytest.raises(ValueError):
        generate_world(tmp_path, days=10)


@pytest.mark.slow
def test_scale_one_sizes(tmp_path: Path) -> None:
    summary = generate_world(tmp_path, scale=1.0)
    first = summary.drops[0].isoformat()
    customers = pl.read_csv(summary.out / "_truth/customers.csv")
    assert 4_500 <= customers.height <= 5_500
    assert summary.rows[(first, "erp/products.csv")] == 300
    lines = summary.rows[(first, "erp/sales_order_lines.csv")]
    items = sum(len(o["items"]) for o in read_orders(summary) if o["_drop"] == first)
    assert 170_000 <= lines + items <= 240_000
    hv = customers.filter(pl.col("segment") == "high_value").height
    assert hv >= 24
    provinces = {o["ship_to"]["province"] for o in read_orders(summary)}
    assert len(provinces) == 31
    assert summary.seconds < 60
    print({f: n for (d, f), n in summary.rows.items() if d == first}, round(summary.seconds, 1))
