"""Bad rows, mixed into the extracts on purpose (`--dirty RATE`).

Each bad row breaks exactly one contract rule of EXTRACTS.md, so the reason the
ingest must give is unambiguous, and each is an extra row: the clean world stays
intact and the ground truth consistent. A bad row is a clean row of the same file
given a new key (except `duplicate_key`, which repeats an earlier row's key) and
then broken in one column. Every injected row is listed in
`_truth/dirty_rows.csv` with its physical line number.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import polars as pl

from wmsight.demo.schema import Column, FileSpec
from wmsight.demo.writers import JsonLines

RULES: tuple[str, ...] = (
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
)
BAD_INTEGERS = ("2.5", "abc", "1O")
BAD_DECIMALS = ("12,5", "abc", "1.2.3")
BAD_TIMESTAMPS = ("2025-13-45 99:00", "2025-02-30 10:00:00", "yesterday")
BAD_DATES = ("2025-02-30", "2025-13-01", "someday")
BAD_ENUMS = {
    "status": "shipping",
    "region": "华西",
    "platform": "taobaoo",
    "movement_type": "transfer",
    "reason": "broken",
    "channel": "wechat",
}
TYPE_RULES = {
    "type_integer": ("int", BAD_INTEGERS),
    "type_decimal": ("decimal", BAD_DECIMALS),
    "type_timestamp": ("timestamp", BAD_TIMESTAMPS),
}
# the sequence part of keys that embed a date: SO20250301 + 00012
SEQ_WIDTH = {"order_no": 5, "order_id": 6, "po_no": 4}
JSON_ITEM = "items."


@dataclass
class DirtyRow:
    rule: str
    column: str
    key: str
    position: int  # inserted before the clean row with this index
    values: dict[str, str | None] | None = None  # CSV row
    text: str | None = None  # JSON Lines row
    line: int = 0  # physical line, set when the file is assembled


@dataclass
class DropContext:
    drop: date
    drop_end: datetime  # last second of the drop date, Asia/Shanghai wall clock
    rng: np.random.Generator
    counters: dict[str, int] = field(default_factory=dict)


def applicable_rules(spec: FileSpec) -> list[str]:
    cols = spec.columns
    rules = ["required", "duplicate_key"]
    plain = [c for c in cols if c.name not in spec.key]
    if any(c.kind == "int" for c in plain):
        rules.append("type_integer")
    if any(c.kind == "decimal" for c in plain):
        rules.append("type_decimal")
    if any(c.kind == "timestamp" for c in plain):
        rules.append("type_timestamp")
    if any(c.kind == "date" for c in cols):
        rules.append("type_date")
    if any(_has_range(c) for c in cols):
        rules.append("range")
    if any(c.enum for c in cols):
        rules.append("enum")
    if any(c.event for c in cols):
        rules.append("event_time_after_drop")
    if any(c.free_text for c in cols):
        rules.append("control_chars")
    if any(c.name.endswith("discount_cny") for c in cols):
        rules.append("discount_exceeds_line")
    if spec.path.endswith("promotions.csv"):
        rules.append("ends_before_starts")
    if spec.is_jsonl:
        rules += ["items_required", "malformed_json"]
    return rules


def _has_range(c: Column) -> bool:
    return c.minimum is not None or c.maximum is not None or c.nonzero


def plan_rules(spec: FileSpec, n_rows: int, rate: float, rng: np.random.Generator) -> list[str]:
    """≈ rate × rows bad rows for a file, each with a rule that applies to it."""
    if rate <= 0 or n_rows == 0:
        return []
    expected = rate * n_rows
    n = int(expected) + int(rng.random() < expected - int(expected))
    rules = applicable_rules(spec)
    return [rules[i] for i in rng.integers(0, len(rules), n)]


# ----------------------------------------------------------------------------- keys
def new_key_value(column: str, template: str, ctx: DropContext, file: str) -> str:
    """A key no clean row has: the template's prefix with a sequence starting at 9
    (real sequences never get that far)."""
    n = ctx.counters.get(file, 0) + 1
    ctx.counters[file] = n
    digits = re.search(r"(\d+)$", template)
    width = SEQ_WIDTH.get(column, len(digits.group(1)) if digits else 0)
    if width < 3:
        return f"{template}-X{n}"
    return f"{template[:-width]}9{n:0{width - 1}d}"


def _main_key(spec: FileSpec, row: dict) -> str:
    for k in spec.key:
        value = row.get(k)
        if value and re.search(r"\d{4,}$", value):
            return k
    return spec.key[0]


def key_text(spec: FileSpec, row: dict) -> str:
    return "|".join("" if row.get(k) is None else str(row.get(k)) for k in spec.key)


# ----------------------------------------------------------------------------- CSV
def make_csv_row(spec: FileSpec, rule: str, clean: pl.DataFrame, ctx: DropContext) -> DirtyRow:
    rng = ctx.rng
    n = clean.height
    i = int(rng.integers(n))
    row = clean.row(i, named=True)
    if rule == "duplicate_key":
        return DirtyRow(
            rule,
            spec.key[0],
            key_text(spec, row),
            int(rng.integers(i + 1, n + 1)),
            values=dict(row),
        )
    main = _main_key(spec, row)
    row[main] = new_key_value(main, row[main] or "", ctx, spec.path)
    column = _break_csv(spec, rule, row, ctx)
    return DirtyRow(rule, column, key_text(spec, row), int(rng.integers(0, n + 1)), values=row)


def _pick(rng: np.random.Generator, cols: list[Column]) -> Column:
    return cols[int(rng.integers(len(cols)))]


def _choice(rng: np.random.Generator, values: tuple[str, ...]) -> str:
    return values[int(rng.integers(len(values)))]


def _range_value(c: Column, rng: np.random.Generator) -> str:
    if c.nonzero:
        return "0"
    if c.exclusive:
        return _choice(rng, ("0", "120", "100"))
    if c.maximum is not None:
        return _choice(rng, ("6", "0"))
    if c.minimum == 1:
        return _choice(rng, ("0", "-3"))
    return "-12.50" if c.kind == "decimal" else _choice(rng, ("-1", "-5"))


def _after_drop(c: Column, ctx: DropContext, json_style: bool = False) -> str:
    if c.kind == "date":
        return (ctx.drop + timedelta(days=int(ctx.rng.integers(2, 10)))).strftime("%Y-%m-%d")
    moment = ctx.drop_end + timedelta(seconds=int(ctx.rng.integers(3600, 72 * 3600)))
    return moment.strftime("%Y-%m-%dT%H:%M:%S+08:00" if json_style else "%Y-%m-%d %H:%M:%S")


def _with_control_char(value: str | None, rng: np.random.Generator) -> str:
    text = value or "备注"
    cut = int(rng.integers(0, len(text) + 1))
    return text[:cut] + _choice(rng, ("\x07", "\x01")) + text[cut:]


def _break_csv(spec: FileSpec, rule: str, row: dict, ctx: DropContext) -> str:
    """Break one column of `row` in place; returns the column name."""
    rng = ctx.rng
    cols = [c for c in spec.columns if c.name not in spec.key]
    if rule == "required":
        required = [c for c in cols if c.required]
        target = _pick(rng, required) if required and rng.random() < 0.8 else spec.columns[0]
        row[target.name] = None
        return target.name
    if rule in TYPE_RULES:
        kind, bad = TYPE_RULES[rule]
        target = _pick(rng, [c for c in cols if c.kind == kind])
        row[target.name] = _choice(rng, bad)
        return target.name
    if rule == "type_date":
        target = _pick(rng, [c for c in spec.columns if c.kind == "date"])
        row[target.name] = _choice(rng, BAD_DATES)
        return target.name
    if rule == "range":
        target = _pick(rng, [c for c in spec.columns if _has_range(c)])
        if "discount_cny" in row and target.name in ("qty", "unit_price_cny"):
            # a negative line value would make any discount exceed it as well: break
            # the quantity with a zero and drop the discount, so one rule is broken
            target = spec.column("qty")
            row["qty"], row["discount_cny"] = "0", "0.00"
        else:
            row[target.name] = _range_value(target, rng)
        return target.name
    if rule == "enum":
        target = _pick(rng, [c for c in spec.columns if c.enum])
        row[target.name] = (
            "inactive" if spec.path.endswith("products.csv") else BAD_ENUMS[target.name]
        )
        return target.name
    if rule == "event_time_after_drop":
        target = _pick(rng, [c for c in spec.columns if c.event])
        row[target.name] = _after_drop(target, ctx)
        return target.name
    if rule == "control_chars":
        target = _pick(rng, [c for c in spec.columns if c.free_text])
        row[target.name] = _with_control_char(row[target.name], rng)
        return target.name
    if rule == "discount_exceeds_line":
        line = float(row["qty"]) * float(row["unit_price_cny"])
        row["discount_cny"] = f"{line + float(rng.uniform(1, 50)):.2f}"
        return "discount_cny"
    if rule == "ends_before_starts":
        starts = date.fromisoformat(row["starts_on"])
        row["ends_on"] = (starts - timedelta(days=int(rng.integers(1, 10)))).isoformat()
        return "ends_on"
    raise ValueError(f"{spec.path}: rule {rule!r} does not apply to a CSV file")


# ----------------------------------------------------------------------------- JSON Lines
def make_json_row(spec: FileSpec, rule: str, lines: JsonLines, ctx: DropContext) -> DirtyRow:
    rng = ctx.rng
    n = len(lines)
    # rules that touch an item, or a status (an order without items must keep its
    # cancelled/refunded status, else it would also break items_required)
    needs_items = rule in (
        "type_integer",
        "type_decimal",
        "range",
        "discount_exceeds_line",
        "required",
        "enum",
    )
    for _ in range(50):  # most orders have items; a few cancelled ones do not
        i = int(rng.integers(n))
        obj = json.loads(lines.line(i))
        if obj["items"] or not needs_items:
            break
    if rule == "duplicate_key":
        return DirtyRow(
            rule, "order_id", obj["order_id"], int(rng.integers(i + 1, n + 1)), text=lines.line(i)
        )
    obj["order_id"] = new_key_value("order_id", obj["order_id"], ctx, spec.path)
    if rule == "malformed_json":
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        after_key = text.index(obj["order_id"]) + len(obj["order_id"]) + 2
        cut = int(rng.integers(after_key, max(after_key + 1, len(text) - 2)))
        return DirtyRow(rule, "", obj["order_id"], int(rng.integers(0, n + 1)), text=text[:cut])
    column = _break_json(spec, rule, obj, ctx)
    return DirtyRow(
        rule,
        column,
        obj["order_id"],
        int(rng.integers(0, n + 1)),
        text=json.dumps(obj, ensure_ascii=False, separators=(",", ":")),
    )


def _break_json(spec: FileSpec, rule: str, obj: dict, ctx: DropContext) -> str:
    rng = ctx.rng
    item = obj["items"][0] if obj["items"] else None
    if rule == "required":
        target = _choice(
            rng,
            ("buyer.buyer_id", "created_at", "status", "items.sku")
            if item
            else ("buyer.buyer_id", "created_at", "status"),
        )
        _set_path(obj, target, None)
        return target
    if rule == "type_integer":
        item["qty"] = 2.5 if rng.random() < 0.5 else "abc"
        return "items.qty"
    if rule == "type_decimal":
        item["unit_price_cny"] = _choice(rng, BAD_DECIMALS)
        return "items.unit_price_cny"
    if rule == "type_timestamp":
        target = _choice(rng, ("created_at", "updated_at"))
        obj[target] = _choice(rng, BAD_TIMESTAMPS)
        return target
    if rule == "range":
        # (a negative quantity or price would also make the discount exceed the line)
        if rng.random() < 0.5:
            item["qty"], item["discount_cny"] = 0, 0.0
            return "items.qty"
        item["discount_cny"] = -1.0
        return "items.discount_cny"
    if rule == "enum":
        target = _choice(rng, ("platform", "status"))
        obj[target] = BAD_ENUMS[target]
        return target
    if rule == "event_time_after_drop":
        target = _choice(rng, ("created_at", "updated_at"))
        obj[target] = _after_drop(spec.column(target), ctx, json_style=True)
        return target
    if rule == "control_chars":
        obj["buyer"]["nickname"] = _with_control_char(obj["buyer"]["nickname"], rng)
        return "buyer.nickname"
    if rule == "discount_exceeds_line":
        item["discount_cny"] = round(item["qty"] * item["unit_price_cny"] + 5.0, 2)
        return "items.discount_cny"
    if rule == "items_required":
        obj["status"] = "paid"
        obj["items"] = []
        obj["paid_at"] = obj["paid_at"] or obj["created_at"]
        return "items"
    raise ValueError(f"{spec.path}: rule {rule!r} does not apply to a JSON Lines file")


def _set_path(obj: dict, path: str, value: object) -> None:
    if path.startswith(JSON_ITEM):
        obj["items"][0][path.removeprefix(JSON_ITEM)] = value
    elif "." in path:
        outer, inner = path.split(".", 1)
        obj[outer][inner] = value
    else:
        obj[path] = value


# ----------------------------------------------------------------------------- assembly
def assemble_csv(clean: pl.DataFrame, dirty: list[DirtyRow]) -> pl.DataFrame:
    """Interleave the bad rows and record the physical line each starts on (header =
    line 1; a quoted field with a newline spans two lines)."""
    if not dirty:
        return clean
    names = clean.columns
    bad = pl.DataFrame(
        [{n: d.values.get(n) for n in names} for d in dirty],
        schema={n: pl.Utf8 for n in names},
        orient="row",
    )
    combined = pl.concat(
        [
            clean.with_columns(
                _p=pl.int_range(pl.len(), dtype=pl.Int64),
                _o=pl.lit(1, pl.Int64),
                _s=pl.lit(0, pl.Int64),
            ),
            bad.with_columns(
                _p=pl.Series([d.position for d in dirty], dtype=pl.Int64),
                _o=pl.lit(0, pl.Int64),
                _s=pl.int_range(pl.len(), dtype=pl.Int64),
            ),
        ]
    ).sort("_p", "_o", "_s", maintain_order=True)
    breaks = pl.sum_horizontal([pl.col(n).str.count_matches("\n").fill_null(0) for n in names])
    combined = combined.with_columns(_line=2 + (1 + breaks).cum_sum() - (1 + breaks))
    placed = combined.filter(pl.col("_o") == 0).sort("_s", maintain_order=True)["_line"].to_list()
    for d, line in zip(dirty, placed, strict=True):
        d.line = int(line)
    return combined.drop("_p", "_o", "_s", "_line")


def assemble_jsonl(clean: JsonLines, dirty: list[DirtyRow]) -> bytes:
    """The file's bytes with the bad lines in place (line 1 = first object)."""
    placed = sorted(dirty, key=lambda d: d.position)  # stable: creation order on ties
    for k, d in enumerate(placed):
        d.line = d.position + k + 1
    return clean.with_inserted([(d.position, d.text or "") for d in placed])
