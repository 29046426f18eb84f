"""Generate the demo world: simulate two years of a Chinese distributor, then write
its source-system extracts as daily drops, plus the ground truth.

    from wmsight.demo import generate_world
    summary = generate_world(Path("demo_data/extracts"), scale=0.1, dirty=0.01)

Same arguments and seed give byte-identical files: every random draw comes from a
generator seeded by (seed, component), and nothing reads the clock.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl

from wmsight.demo import truth
from wmsight.demo.calendar import CalendarEffects, build_calendar
from wmsight.demo.customers import Population, build_population
from wmsight.demo.demand import b2b_weights, write_demand_truth
from wmsight.demo.dirty import (
    RULES,
    DirtyRow,
    DropContext,
    applicable_rules,
    assemble_csv,
    assemble_jsonl,
    make_csv_row,
    make_json_row,
    plan_rules,
)
from wmsight.demo.drops import BEGINNING, Table
from wmsight.demo.feedback import build_feedback
from wmsight.demo.formatting import format_csv, format_ecom_orders
from wmsight.demo.inventory import simulate_stock
from wmsight.demo.invoices import build_invoices
from wmsight.demo.orders import (
    B2BLines,
    B2BOrders,
    EcomItems,
    EcomOrders,
    generate_b2b,
    generate_ecom,
)
from wmsight.demo.products import Catalogue, build_catalogue, demand_weights, product_versions
from wmsight.demo.promotions import Promotions, build_promotions
from wmsight.demo.schema import FILES, FILES_BY_PATH, FileSpec
from wmsight.demo.tables import build_tables
from wmsight.demo.timeline import Timeline, stream
from wmsight.demo.writers import JsonLines, csv_bytes, ndjson, write_atomic

SKUS_AT_SCALE_1 = 300
MIN_SKUS = 20
TRUTH_DIR = "_truth"
_DROP_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass
class GenerationSummary:
    out: Path
    drops: list[date]
    rows: dict[tuple[str, str], int]  # (drop "YYYY-MM-DD", "erp/sales_orders.csv") -> rows
    dirty_rows: int
    seconds: float


@dataclass
class World:
    """Everything simulated, before any of it is written."""

    timeline: Timeline
    calendar: CalendarEffects
    catalogue: Catalogue
    promotions: Promotions
    population: Population
    orders: B2BOrders
    lines: B2BLines
    ecom_orders: EcomOrders
    ecom_items: EcomItems
    expected_b2b: np.ndarray  # (n_wh, n_sku, n_day)
    expected_ecom: np.ndarray
    tables: dict[str, Table]


def generate_world(
    out: Path,
    *,
    scale: float = 1.0,
    seed: int = 42,
    days: int = 730,
    delta_drops: int = 3,
    dirty: float = 0.0,
    end_date: date = date(2025, 11, 30),
    progress: Callable[[str], None] | None = None,
) -> GenerationSummary:
    """Write `delta_drops + 1` drops under `out` (the first with the full history up
    to end_date - delta_drops, then one drop per day) and `out/_truth/`.

    Existing drop folders (YYYY-MM-DD) and `_truth` under `out` are replaced; other
    contents of `out` are left alone.
    """
    if not 0 < scale <= 100:
        raise ValueError(f"scale={scale}: must be in (0, 100]")
    if not 0.0 <= dirty < 0.5:
        raise ValueError(f"dirty={dirty}: must be in [0, 0.5)")
    say = progress or (lambda _message: None)
    started = time.perf_counter()
    timeline = Timeline.build(end_date, days, delta_drops)
    world = simulate(timeline, scale, seed, say)

    out = Path(out)
    _clear_previous_output(out)
    rows, dirty_log = _write_drops(out, world, seed, dirty, say)
    _write_truth(
        out / TRUTH_DIR,
        world,
        dirty_log,
        {
            "seed": seed,
            "scale": scale,
            "days": days,
            "delta_drops": delta_drops,
            "dirty": dirty,
            "start_date": timeline.start.isoformat(),
            "end_date": end_date.isoformat(),
            "drops": [d.isoformat() for d in timeline.drop_dates],
        },
        say,
    )
    return GenerationSummary(
        out=out,
        drops=list(timeline.drop_dates),
        rows=rows,
        dirty_rows=len(dirty_log),
        seconds=time.perf_counter() - started,
    )


def simulate(
    timeline: Timeline, scale: float, seed: int, say: Callable[[str], None] = lambda _m: None
) -> World:
    cal = build_calendar(timeline.start, timeline.n_days)
    cat = build_catalogue(
        max(MIN_SKUS, round(SKUS_AT_SCALE_1 * scale)), timeline, stream(seed, "catalogue")
    )
    products = product_versions(cat, timeline, stream(seed, "product-versions"))
    promos = build_promotions(cat, timeline, stream(seed, "promotions"))
    base = demand_weights(cat, timeline, cal.label)
    pop = build_population(scale, timeline, stream(seed, "population"))
    say(f"world: {pop.n:,} customers, {cat.n:,} SKUs, {timeline.n_days} days")
    orders, lines, exp_b2b = generate_b2b(
        pop, cat, b2b_weights(cat, base), cal, timeline, stream(seed, "b2b-orders")
    )
    eorders, eitems, exp_ecom = generate_ecom(
        pop, cat, base, promos, cal, timeline, stream(seed, "ecom-orders")
    )
    say(
        f"world: {orders.n:,} ERP orders ({lines.n:,} lines), "
        f"{eorders.n:,} online orders ({eitems.n:,} items)"
    )
    stock = simulate_stock(
        cat,
        timeline,
        exp_b2b + exp_ecom,
        orders,
        lines,
        eorders,
        eitems,
        stream(seed, "stock"),
    )
    say(
        f"world: {stock.movements.height:,} stock movements, "
        f"{stock.purchase_orders.height:,} purchase-order lines"
    )
    invoices = build_invoices(pop, orders, lines, stock.returns, timeline, stream(seed, "invoices"))
    feedback = build_feedback(pop, orders, lines, eorders, stock.returns, stream(seed, "feedback"))
    tables = build_tables(
        timeline,
        cat,
        products,
        promos,
        pop,
        orders,
        lines,
        eorders,
        eitems,
        stock,
        invoices,
        feedback,
    )
    return World(
        timeline=timeline,
        calendar=cal,
        catalogue=cat,
        promotions=promos,
        population=pop,
        orders=orders,
        lines=lines,
        ecom_orders=eorders,
        ecom_items=eitems,
        expected_b2b=exp_b2b,
        expected_ecom=exp_ecom,
        tables=tables,
    )


def _clear_previous_output(out: Path) -> None:
    """Remove what an earlier run of the generator wrote, and nothing else."""
    if not out.exists():
        return
    for child in out.iterdir():
        if child.is_dir() and (_DROP_DIR.match(child.name) or child.name == TRUTH_DIR):
            shutil.rmtree(child)


def _write_drops(
    out: Path, world: World, seed: int, rate: float, say: Callable[[str], None]
) -> tuple[dict[tuple[str, str], int], list[tuple[str, str, DirtyRow]]]:
    timeline = world.timeline
    rows: dict[tuple[str, str], int] = {}
    dirty_log: list[tuple[str, str, DirtyRow]] = []
    counters: dict[str, int] = {}  # dirty keys stay unique across drops
    lo = BEGINNING
    for i, drop in enumerate(timeline.drop_dates):
        hi = timeline.end_of(drop)
        label = drop.isoformat()
        # a delta leaves out files with no changes; the full drop has every file
        sizes = {spec.path: world.tables[spec.path].count(lo, hi) for spec in FILES}
        present = {p: n for p, n in sizes.items() if n > 0 or i == 0}
        ctx = DropContext(
            drop=drop,
            drop_end=datetime(drop.year, drop.month, drop.day, 23, 59, 59),
            rng=stream(seed, f"dirty:{label}"),
            counters=counters,
        )
        planned = _plan_dirty(present, rate, ctx.rng)
        for spec in FILES:  # one file at a time: only one file's text is ever in memory
            if spec.path not in present:
                continue
            clean = _file_content(world, spec, drop, lo, hi, seed)
            bad = _write_file(out / label / spec.path, spec, clean, planned.get(spec.path, []), ctx)
            n = present[spec.path] + len(bad)
            rows[(label, spec.path)] = n
            dirty_log += [(label, spec.path, b) for b in bad]
            note = f" ({len(bad):,} dirty)" if bad else ""
            say(f"drop {label}: {spec.path} {n:,} rows{note}")
        lo = hi
    return rows, dirty_log


def _write_file(
    path: Path,
    spec: FileSpec,
    clean: pl.DataFrame | JsonLines,
    rules: list[str],
    ctx: DropContext,
) -> list[DirtyRow]:
    """Write one file of a drop with its planned bad rows mixed in."""
    if isinstance(clean, JsonLines):
        bad = [make_json_row(spec, rule, clean, ctx) for rule in rules]
        data = assemble_jsonl(clean, bad)
    else:
        bad = [make_csv_row(spec, rule, clean, ctx) for rule in rules]
        data = csv_bytes(assemble_csv(clean, bad), spec)
    write_atomic(path, data)
    return bad


def _file_content(
    world: World, spec: FileSpec, drop: date, lo: int, hi: int, seed: int
) -> pl.DataFrame | JsonLines:
    """Clean text of one file of a drop: an all-text frame, or JSON lines. Tables
    are built in write order and slicing keeps it."""
    frame = world.tables[spec.path].slice(lo, hi)
    if spec.is_jsonl:
        return ndjson(format_ecom_orders(frame))
    rng = stream(seed, f"format:{drop.isoformat()}:{spec.path}")
    return format_csv(spec.path, frame, rng)


def _plan_dirty(
    sizes: dict[str, int], rate: float, rng: np.random.Generator
) -> dict[str, list[str]]:
    """≈ rate × rows bad rows per file, and every rule at least once per drop where
    some file of the drop can carry it."""
    if rate <= 0:
        return {}
    planned = {path: plan_rules(FILES_BY_PATH[path], n, rate, rng) for path, n in sizes.items()}
    used = {r for rules in planned.values() for r in rules}
    for rule in RULES:
        if rule in used:
            continue
        hosts = [
            p for p, n in sizes.items() if n > 0 and rule in applicable_rules(FILES_BY_PATH[p])
        ]
        if hosts:
            planned[hosts[int(rng.integers(len(hosts)))]].append(rule)
    return planned


def _write_truth(
    folder: Path,
    world: World,
    dirty_log: list[tuple[str, str, DirtyRow]],
    params: dict,
    say: Callable[[str], None],
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tl = world.timeline
    horizon = tl.end_of(tl.end)
    pop = world.population
    truth.write_frame_csv(
        truth.identity_frame(pop, world.ecom_orders, horizon), folder / "identity.csv"
    )
    truth.write_frame_csv(
        truth.customers_frame(
            pop, world.orders, world.lines, world.ecom_orders, world.ecom_items, tl, horizon
        ),
        folder / "customers.csv",
    )
    truth.write_frame_csv(
        truth.products_frame(world.catalogue, tl, world.lines, world.ecom_items),
        folder / "products.csv",
    )
    truth.write_frame_csv(truth.dirty_frame(dirty_log), folder / "dirty_rows.csv")
    promo_any = (world.promotions.discount_pct > 0).any(axis=0)
    n = write_demand_truth(
        str(folder / "demand.parquet"),
        world.catalogue,
        tl,
        world.expected_b2b,
        world.expected_ecom,
        promo_any,
        world.calendar.label,
    )
    truth.write_manifest(folder / "manifest.json", params)
    say(f"truth: demand.parquet {n:,} rows, dirty_rows.csv {len(dirty_log):,} rows")
