"""Orders: B2B sales orders in the ERP and online orders on the marketplaces.

Customers place orders as Poisson processes whose daily rate is their base rate ×
life story × calendar × Z(t) (see demand.py). Every order gets its planned life
here — when it will be allocated, picked, shipped, delivered, or cancelled by the
customer; inventory.py then ships what the stock allows, which may turn a planned
shipment into a partial one or a stock-out cancellation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from wmsight.demo.calendar import CalendarEffects
from wmsight.demo.customers import Population
from wmsight.demo.demand import (
    ECOM_EXTRA_ITEMS,
    ECOM_EXTRA_UNITS,
    ECOM_UNITS_PER_ORDER,
    ChannelWeights,
    ecom_weights,
)
from wmsight.demo.geography import PROVINCES, WAREHOUSES, transit_days_matrix
from wmsight.demo.products import Catalogue
from wmsight.demo.promotions import PLATFORMS, Promotions
from wmsight.demo.timeline import HOUR, MINUTE, NEVER, SECONDS_PER_DAY, Timeline

B2B_CANCEL_RATE = 0.04  # customer cancels before shipment
B2B_LATE_RATE = 0.07  # carrier delay beyond the usual transit time
B2B_LINE_DISCOUNT_RATE = 0.06
ECOM_UNPAID_RATE = 0.07  # created but never paid: cancelled after 30 minutes
ECOM_BUYER_CANCEL_RATE = 0.02
ECOM_LATE_RATE = 0.04
ECOM_EMPTY_ITEMS_WHEN_UNPAID = 0.3  # platforms drop the lines of never-paid orders
PLATFORM_PREFIX = {"tmall": "TM", "jd": "JD", "pinduoduo": "PDD", "douyin": "DY", "own_site": "OS"}
# online shopping by hour of day: evenings peak
# fmt: off
ECOM_HOURS = np.array([0.6, 0.3, 0.15, 0.1, 0.1, 0.15, 0.4, 0.8, 1.2, 1.6, 1.9, 1.9,
                       1.8, 1.7, 1.7, 1.7, 1.6, 1.5, 1.6, 2.0, 2.5, 2.8, 2.6, 1.6])
# fmt: on
FESTIVAL_MIDNIGHT = {"618", "double11"}  # the rush when the festival opens at 00:00


@dataclass
class B2BOrders:
    customer: np.ndarray
    erp_code: np.ndarray  # object: ERP account the order was booked on
    warehouse: np.ndarray
    province: np.ndarray
    ordered_at: np.ndarray
    allocated_at: np.ndarray
    picked_at: np.ndarray
    shipped_at: np.ndarray  # planned; inventory.py confirms or cancels
    delivered_at: np.ndarray
    cancelled_at: np.ndarray
    promised_at: np.ndarray
    order_no: np.ndarray  # object
    stockout: np.ndarray  # bool: cancelled at shipping time for lack of stock

    @property
    def n(self) -> int:
        return len(self.customer)


@dataclass
class B2BLines:
    order: np.ndarray
    line_no: np.ndarray
    sku: np.ndarray
    qty: np.ndarray
    unit_price: np.ndarray
    discount: np.ndarray
    shipped_qty: np.ndarray  # -1 until shipped
    shipped_sku: np.ndarray

    @property
    def n(self) -> int:
        return len(self.order)


@dataclass
class EcomOrders:
    account: np.ndarray
    platform: np.ndarray
    warehouse: np.ndarray
    province: np.ndarray
    city: np.ndarray
    district: np.ndarray  # object
    created_at: np.ndarray
    paid_at: np.ndarray
    shipped_at: np.ndarray
    delivered_at: np.ndarray
    cancelled_at: np.ndarray
    refunded_at: np.ndarray
    items_dropped: np.ndarray  # bool: exported with an empty item list
    order_id: np.ndarray  # object
    stockout: np.ndarray  # bool: cancelled at shipping time for lack of stock

    @property
    def n(self) -> int:
        return len(self.account)


@dataclass
class EcomItems:
    order: np.ndarray
    sku: np.ndarray
    qty: np.ndarray
    unit_price: np.ndarray
    discount: np.ndarray

    @property
    def n(self) -> int:
        return len(self.order)


# ----------------------------------------------------------------------------- helpers
def draw_poisson_orders(
    rates: Callable[[np.ndarray], np.ndarray],
    n_days: int,
    rng: np.random.Generator,
    chunk: int = 64,
    on_chunk: Callable[[np.ndarray, np.ndarray], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(entity, day) of every order, one row per order. `rates(days)` returns the
    (n_entity, len(days)) daily rates; days are processed in chunks to bound memory.
    `on_chunk(days, rates)` lets callers aggregate the intensities (the truth)."""
    ents, days = [], []
    for a in range(0, n_days, chunk):
        d = np.arange(a, min(a + chunk, n_days))
        r = rates(d)
        if on_chunk is not None:
            on_chunk(d, r)
        k = rng.poisson(r)
        e_i, d_i = np.nonzero(k)
        reps = k[e_i, d_i]
        ents.append(np.repeat(e_i, reps))
        days.append(np.repeat(d[d_i], reps))
    return np.concatenate(ents), np.concatenate(days)


def group_rows(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum the rows of `values` per group: (n_groups, n_cols)."""
    out = np.zeros((n_groups, values.shape[1]))
    np.add.at(out, groups, values)
    return out


def merge_duplicate_skus(
    order: np.ndarray, sku: np.ndarray, qty: np.ndarray, n_sku: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One line per (order, SKU), summing quantities; lines keep their first position.
    Units are preserved, so the realised demand still matches the truth."""
    key = order * n_sku + sku
    _, first, inv = np.unique(key, return_index=True, return_inverse=True)
    total = np.bincount(inv, weights=qty).astype(np.int64)
    keep = np.argsort(first, kind="stable")
    return order[first[keep]], sku[first[keep]], total[keep]


def position_in_group(group: np.ndarray) -> np.ndarray:
    """0, 1, 2 … within runs of equal values of a sorted array."""
    starts = np.r_[0, np.flatnonzero(np.diff(group)) + 1]
    run = np.diff(np.r_[starts, len(group)])
    return np.arange(len(group)) - np.repeat(starts, run)


def sequence_ids(
    group: np.ndarray,
    prefixes: list[str],
    day: np.ndarray,
    at: np.ndarray,
    timeline: Timeline,
    width: int,
) -> np.ndarray:
    """Ids like SO2025030100012: prefix of the group + order date + sequence within
    the group and day, numbered by time. Returns an object array aligned with inputs."""
    order = np.lexsort((at, day, group))
    key = group[order] * 10_000_000 + day[order]
    seq = position_in_group(key) + 1
    frame = pl.DataFrame(
        {"g": group[order], "d": (day[order] + timeline.day0).astype(np.int32), "s": seq}
    )
    text = (
        frame.select(
            pl.format(
                "{}{}{}",
                pl.col("g").replace_strict(
                    list(range(len(prefixes))), prefixes, return_dtype=pl.Utf8
                ),
                pl.col("d").cast(pl.Date).dt.strftime("%Y%m%d"),
                pl.col("s").cast(pl.Utf8).str.zfill(width),
            )
        )
        .to_series()
        .to_numpy()
    )
    ids = np.empty(len(day), dtype=object)
    ids[order] = text
    return ids


def _shift_out_of_shutdown(
    at: np.ndarray, cal: CalendarEffects, timeline: Timeline, rng: np.random.Generator
) -> np.ndarray:
    """Couriers stop around Spring Festival: shipments wait for the first working day."""
    day = timeline.day_index(at)
    inside = (day >= 0) & (day < timeline.n_days)
    blocked = np.zeros(len(at), dtype=bool)
    blocked[inside] = cal.spring_festival_shutdown[day[inside]]
    if not blocked.any():
        return at
    open_days = np.flatnonzero(~cal.spring_festival_shutdown)
    nxt = open_days[np.minimum(np.searchsorted(open_days, day[blocked]), len(open_days) - 1)]
    out = at.copy()
    out[blocked] = timeline.seconds(nxt, rng.integers(9 * HOUR, 17 * HOUR, blocked.sum()))
    return out


def business_hours(at: np.ndarray, opens: int = 8 * HOUR, closes: int = 20 * HOUR) -> np.ndarray:
    """Move instants outside opening hours into the next morning's first hours
    (spread by the original time, so no artificial pile-up at opening time)."""
    sec = at % SECONDS_PER_DAY
    spread = sec % (2 * HOUR)
    early = sec < opens
    late = sec >= closes
    return np.where(
        early,
        at - sec + opens + spread,
        np.where(late, at - sec + SECONDS_PER_DAY + opens + spread, at),
    )


# ----------------------------------------------------------------------------- B2B
def _calibrate_high_value(
    pop: Population,
    cat: Catalogue,
    weights: ChannelWeights,
    cal: CalendarEffects,
    timeline: Timeline,
) -> np.ndarray:
    """Packs per line that put each high-value account at its revenue target: the
    expected yearly revenue is linear in the packs, so solve for them (using the
    weaker of the last two 365-day windows, and a margin for cancellations and
    short shipments)."""
    packs = pop.packs.copy()
    hv = np.flatnonzero(pop.segment == "high_value")
    if len(hv) == 0:
        return packs
    share = weights.weights / weights.weights.sum(axis=0, keepdims=True)
    q = share.mean(axis=1)
    v0 = float((q * cat.price0 * cat.pack_size).sum())
    v1 = float((q * cat.price0 * cat.pack_size * cat.packs_factor).sum())
    n_days = timeline.n_days
    days = np.arange(n_days)
    level = pop.shape(hv, days) * (cal.b2b * weights.z)[None, :]
    windows = [
        level[:, max(0, n_days - 365) :],
        level[:, max(0, n_days - 730) : max(1, n_days - 365)],
    ]
    yearly = np.min([w.mean(axis=1) for w in windows if w.shape[1] > 0], axis=0) * 365
    orders = pop.b2b_rate[hv] * yearly
    per_line = pop.revenue_target[hv] / (
        orders * (1 + pop.lines_lambda[hv]) * (1 - pop.tier_discount[hv]) * 0.9
    )
    packs[hv] = np.maximum((per_line - v0) / v1, 0.5)
    return packs


def _b2b_second(n: int, rng: np.random.Generator) -> np.ndarray:
    """Office hours: mornings and afternoons, the odd evening order."""
    r = rng.random(n)
    return np.select(
        [r < 0.5, r < 0.9],
        [
            rng.integers(9 * HOUR, 12 * HOUR, n),
            rng.integers(13 * HOUR + 30 * MINUTE, 17 * HOUR + 30 * MINUTE, n),
        ],
        rng.integers(7 * HOUR, 22 * HOUR, n),
    )


def generate_b2b(
    pop: Population,
    cat: Catalogue,
    weights: ChannelWeights,
    cal: CalendarEffects,
    timeline: Timeline,
    rng: np.random.Generator,
) -> tuple[B2BOrders, B2BLines, np.ndarray]:
    """ERP orders and lines, and the (n_wh, n_sku, n_day) expected B2B units."""
    n_days, n_wh = timeline.n_days, len(WAREHOUSES)
    comp = np.flatnonzero(pop.b2b_rate > 0)
    packs = _calibrate_high_value(pop, cat, weights, cal, timeline)
    z = weights.z
    base = pop.b2b_rate[comp]
    lines_mean = 1 + pop.lines_lambda[comp]
    wh = pop.warehouse[comp]
    r_lines = np.zeros((n_wh, n_days))  # Σ rate × lines, without Z
    r_packs = np.zeros((n_wh, n_days))  # Σ rate × lines × packs

    def rates(days: np.ndarray) -> np.ndarray:
        return base[:, None] * pop.shape(comp, days) * (cal.b2b[days] * z[days])[None, :]

    def collect(days: np.ndarray, r: np.ndarray) -> None:
        no_z = r / z[days][None, :] * lines_mean[:, None]
        r_lines[:, days] += group_rows(no_z, wh, n_wh)
        r_packs[:, days] += group_rows(no_z * packs[comp][:, None], wh, n_wh)

    ent, day = draw_poisson_orders(rates, n_days, rng, on_chunk=collect)
    cust = comp[ent]
    cust, day = _ensure_churners_order(pop, cust, day, rng)

    expected = np.empty((n_wh, cat.n, n_days), dtype=np.float32)
    share = weights.weights / weights.norm
    for w in range(n_wh):
        expected[w] = (
            cat.pack_size[:, None]
            * share
            * (r_lines[w][None, :] + cat.packs_factor[:, None] * r_packs[w][None, :])
        )

    orders = _b2b_order_lives(pop, cust, day, cal, timeline, rng)
    lines = _b2b_lines(pop, cat, orders, timeline, packs, weights, rng)
    return orders, lines, expected


def _ensure_churners_order(
    pop: Population, cust: np.ndarray, day: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """A churner's churn date is its last order, so every churner needs one."""
    churners = np.flatnonzero((pop.segment == "churner") & (pop.kind == "company"))
    missing = np.setdiff1d(churners, cust)
    if len(missing) == 0:
        return cust, day
    lo = np.maximum(pop.start_day[missing], 0)
    hi = np.maximum(pop.end_day[missing] - 1, lo + 1)
    extra = lo + (rng.random(len(missing)) * (hi - lo)).astype(np.int64)
    return np.r_[cust, missing], np.r_[day, extra]


def _b2b_order_lives(
    pop: Population,
    cust: np.ndarray,
    day: np.ndarray,
    cal: CalendarEffects,
    timeline: Timeline,
    rng: np.random.Generator,
) -> B2BOrders:
    n = len(cust)
    ordered = timeline.seconds(day, _b2b_second(n, rng))
    order = np.argsort(ordered, kind="stable")
    cust, day, ordered = cust[order], day[order], ordered[order]

    erp_code = np.empty(n, dtype=object)
    for i, c in enumerate(cust.tolist()):
        codes = pop.erp_codes[c]
        use_second = len(codes) > 1 and day[i] >= codes[1][1] and rng.random() < 0.3
        erp_code[i] = codes[1][0] if use_second else codes[0][0]

    wh = pop.warehouse[cust]
    prov = pop.province[cust]
    transit = transit_days_matrix()[wh, prov]
    allocated = ordered + rng.integers(5 * MINUTE, 3 * HOUR, n)
    same_day = ((ordered % SECONDS_PER_DAY) < 12 * HOUR) & (rng.random(n) < 0.5)
    ship_day = day + np.where(same_day, 0, rng.integers(1, 3, n))
    ship_sec = np.where(
        same_day, rng.integers(15 * HOUR, 19 * HOUR, n), rng.integers(9 * HOUR, 18 * HOUR, n)
    )
    shipped = np.maximum(timeline.seconds(ship_day, ship_sec), allocated + 2 * HOUR)
    shipped = _shift_out_of_shutdown(shipped, cal, timeline, rng)
    picked = np.maximum(shipped - rng.integers(30 * MINUTE, 3 * HOUR, n), allocated + 10 * MINUTE)
    travel = transit * rng.uniform(0.8, 1.25, n) + np.where(
        rng.random(n) < B2B_LATE_RATE, rng.uniform(1, 4, n), 0.0
    )
    delivered = business_hours(shipped + (travel * SECONDS_PER_DAY).astype(np.int64))
    promised = timeline.seconds(day + np.ceil(transit).astype(np.int64) + 2, 18 * HOUR)

    cancelled = np.full(n, NEVER)
    cancel = rng.random(n) < B2B_CANCEL_RATE
    cancelled[cancel] = ordered[cancel] + (
        rng.uniform(0.1, 0.9, cancel.sum()) * (shipped[cancel] - ordered[cancel])
    ).astype(np.int64)
    for ts in (allocated, picked):
        ts[cancel & (ts >= cancelled)] = NEVER
    shipped[cancel] = NEVER
    delivered[cancel] = NEVER

    order_no = sequence_ids(np.zeros(n, dtype=np.int64), ["SO"], day, ordered, timeline, 5)
    return B2BOrders(
        customer=cust,
        erp_code=erp_code,
        warehouse=wh,
        province=prov,
        ordered_at=ordered,
        allocated_at=allocated,
        picked_at=picked,
        shipped_at=shipped,
        delivered_at=delivered,
        cancelled_at=cancelled,
        promised_at=promised,
        order_no=order_no,
        stockout=np.zeros(n, dtype=bool),
    )


def _b2b_lines(
    pop: Population,
    cat: Catalogue,
    orders: B2BOrders,
    timeline: Timeline,
    packs: np.ndarray,
    weights: ChannelWeights,
    rng: np.random.Generator,
) -> B2BLines:
    day = timeline.day_index(orders.ordered_at)
    cust = orders.customer
    k = 1 + rng.poisson(pop.lines_lambda[cust])
    line_order = np.repeat(np.arange(orders.n), k)
    line_day = day[line_order]
    sku = weights.sampler().draw(line_day, rng)
    c = cust[line_order]
    qty = cat.pack_size[sku] * (1 + rng.poisson(packs[c] * cat.packs_factor[sku]))
    line_order, sku, qty = merge_duplicate_skus(line_order, sku, qty, cat.n)
    line_day = day[line_order]
    c = cust[line_order]
    price = np.round(cat.price_on(sku, line_day) * (1 - pop.tier_discount[c]), 4)
    discount = np.where(
        rng.random(len(sku)) < B2B_LINE_DISCOUNT_RATE,
        np.round(qty * price * rng.uniform(0.02, 0.08, len(sku)), 2),
        0.0,
    )
    sort = np.argsort(line_order, kind="stable")
    line_order, sku, qty, price, discount = (
        a[sort] for a in (line_order, sku, qty, price, discount)
    )
    return B2BLines(
        order=line_order,
        line_no=position_in_group(line_order) + 1,
        sku=sku,
        qty=qty,
        unit_price=price,
        discount=discount,
        shipped_qty=np.full(len(sku), -1, dtype=np.int64),
        shipped_sku=sku.copy(),
    )


# ----------------------------------------------------------------------------- online
def _ecom_second(day: np.ndarray, cal: CalendarEffects, rng: np.random.Generator) -> np.ndarray:
    n = len(day)
    hours = rng.choice(24, size=n, p=ECOM_HOURS / ECOM_HOURS.sum())
    festival = np.isin(cal.label[day], list(FESTIVAL_MIDNIGHT))
    rush = festival & (rng.random(n) < 0.35)
    hours = np.where(rush, 0, hours)
    return hours * HOUR + rng.integers(0, HOUR, n)


def generate_ecom(
    pop: Population,
    cat: Catalogue,
    base: np.ndarray,
    promos: Promotions,
    cal: CalendarEffects,
    timeline: Timeline,
    rng: np.random.Generator,
) -> tuple[EcomOrders, EcomItems, np.ndarray]:
    """Online orders of every platform, and the (n_wh, n_sku, n_day) expected units."""
    n_days, n_wh = timeline.n_days, len(WAREHOUSES)
    acc = pop.accounts
    owner_wh = pop.warehouse[acc.owner]
    expected = np.zeros((n_wh, cat.n, n_days), dtype=np.float32)
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    for p in range(len(PLATFORMS)):
        cw = ecom_weights(cat, base, promos.lift(p))
        z = cw.z
        level = np.zeros((n_wh, n_days))  # expected orders per day without Z

        rep = np.flatnonzero((acc.platform == p) & ~acc.one_off)
        rate = pop.ecom_rate[acc.owner[rep]] * acc.share[rep]

        def rates(days: np.ndarray, rep=rep, rate=rate, z=z) -> np.ndarray:
            return (
                rate[:, None]
                * pop.shape(acc.owner[rep], days)
                * (cal.ecom[days] * z[days])[None, :]
            )

        def collect(days: np.ndarray, r: np.ndarray, rep=rep, z=z, level=level) -> None:
            level[:, days] += group_rows(r / z[days][None, :], owner_wh[rep], n_wh)

        ent, day = draw_poisson_orders(rates, n_days, rng, on_chunk=collect)
        anchor_acc, anchor_day = _churner_anchor_orders(pop, rep, rep[ent], rng)
        accounts = [rep[ent], anchor_acc]
        days = [day, anchor_day]

        one = np.flatnonzero((acc.platform == p) & acc.one_off)
        if len(one):
            one_day, inv_norm_start = _one_off_days(
                pop.start_day[acc.owner[one]], cal.ecom * z, rng
            )
            accounts.append(one)
            days.append(one_day)
            start = np.clip(pop.start_day[acc.owner[one]], 0, n_days - 1)
            per_start = np.zeros((n_wh, n_days))
            np.add.at(per_start, (owner_wh[one], start), inv_norm_start)
            level += np.cumsum(per_start, axis=1) * cal.ecom[None, :]

        acc_p, day_p = np.concatenate(accounts), np.concatenate(days)
        sku, order_local, qty = _ecom_items(acc_p, day_p, cw, cat, rng)
        parts.append((acc_p, day_p, sku, order_local, qty))
        share = cw.weights / cw.norm
        for w in range(n_wh):
            expected[w] += (ECOM_UNITS_PER_ORDER * level[w][None, :] * share).astype(np.float32)
        del cw, share

    orders, items = _assemble_ecom(pop, cat, parts, promos, cal, timeline, rng)
    return orders, items, expected


def _churner_anchor_orders(
    pop: Population, accounts: np.ndarray, ordering: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """An online churner's churn date is its last order, so its main account gets one
    order in its active span if the Poisson draw gave it none."""
    acc = pop.accounts
    owner = acc.owner[accounts]
    main = accounts[(pop.segment[owner] == "churner") & (acc.share[accounts] >= 0.7)]
    missing = np.setdiff1d(main, ordering)
    lo = np.maximum(pop.start_day[acc.owner[missing]], 0)
    hi = np.maximum(pop.end_day[acc.owner[missing]] - 1, lo + 1)
    return missing, lo + (rng.random(len(missing)) * (hi - lo)).astype(np.int64)


def _one_off_days(
    start: np.ndarray, intensity: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The single order of a one-off buyer: a day from its start on, drawn in
    proportion to the day's intensity. Also returns 1 / Σ intensity over that span,
    the buyer's expected orders per unit of intensity (for the truth)."""
    n_days = len(intensity)
    start = np.clip(start, 0, n_days - 1)
    cum = np.cumsum(intensity)
    lo = cum[start] - intensity[start]
    span = cum[-1] - lo
    day = np.searchsorted(cum, lo + rng.random(len(start)) * span, side="right")
    return np.minimum(day, n_days - 1), 1.0 / span


def _ecom_items(
    acc: np.ndarray, day: np.ndarray, cw: ChannelWeights, cat: Catalogue, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    k = 1 + rng.poisson(ECOM_EXTRA_ITEMS, len(acc))
    order = np.repeat(np.arange(len(acc)), k)
    sku = cw.sampler().draw(day[order], rng)
    qty = 1 + rng.poisson(ECOM_EXTRA_UNITS, len(sku))
    order, sku, qty = merge_duplicate_skus(order, sku, qty, cat.n)
    return sku, order, qty


def _assemble_ecom(
    pop: Population,
    cat: Catalogue,
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
    promos: Promotions,
    cal: CalendarEffects,
    timeline: Timeline,
    rng: np.random.Generator,
) -> tuple[EcomOrders, EcomItems]:
    acc = pop.accounts
    account = np.concatenate([p[0] for p in parts])
    day = np.concatenate([p[1] for p in parts])
    offsets = np.cumsum([0] + [len(p[0]) for p in parts])
    item_order = np.concatenate([p[3] + off for p, off in zip(parts, offsets[:-1], strict=True)])
    item_sku = np.concatenate([p[2] for p in parts])
    item_qty = np.concatenate([p[4] for p in parts])
    n = len(account)

    created = timeline.seconds(day, _ecom_second(day, cal, rng))
    order = np.argsort(created, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    account, day, created = account[order], day[order], created[order]
    item_order = rank[item_order]
    isort = np.argsort(item_order, kind="stable")
    item_order, item_sku, item_qty = item_order[isort], item_sku[isort], item_qty[isort]

    platform = acc.platform[account]
    owner = acc.owner[account]
    prov = pop.province[owner]
    wh = pop.warehouse[owner]
    transit = transit_days_matrix()[wh, prov]

    paid = created + 10 + rng.exponential(90, n).astype(np.int64)
    unpaid = rng.random(n) < ECOM_UNPAID_RATE
    peak = np.isin(cal.label[day], ["618", "double11", "double11_tail"])
    ship = (
        paid
        + rng.integers(2 * HOUR, 28 * HOUR, n)
        + np.where(peak, rng.integers(1, 4, n) * SECONDS_PER_DAY, 0)
    )
    ship = _shift_out_of_shutdown(ship, cal, timeline, rng)
    travel = transit * rng.uniform(0.8, 1.3, n) + np.where(
        rng.random(n) < ECOM_LATE_RATE, rng.uniform(1, 3, n), 0.0
    )
    delivered = business_hours(ship + (travel * SECONDS_PER_DAY).astype(np.int64))
    cancelled = np.full(n, NEVER)
    cancelled[unpaid] = created[unpaid] + 30 * MINUTE
    buyer_cancel = ~unpaid & (rng.random(n) < ECOM_BUYER_CANCEL_RATE)
    cancelled[buyer_cancel] = paid[buyer_cancel] + (
        rng.uniform(0.05, 0.8, buyer_cancel.sum()) * (ship[buyer_cancel] - paid[buyer_cancel])
    ).astype(np.int64)
    gone = unpaid | buyer_cancel
    paid[unpaid] = NEVER
    ship[gone] = NEVER
    delivered[gone] = NEVER

    # ship to the buyer's home district, now and then another district of the city
    district = np.array(pop.district, dtype=object)[owner]
    other = rng.random(n) < 0.1
    for i in np.flatnonzero(other).tolist():
        ds = PROVINCES[prov[i]].cities[pop.city[owner[i]]].districts
        district[i] = ds[rng.integers(len(ds))]

    order_id = sequence_ids(
        platform, [PLATFORM_PREFIX[p] for p in PLATFORMS], day, created, timeline, 6
    )

    item_day = day[item_order]
    price = np.round(cat.price_on(item_sku, item_day), 2)
    pct = promos.discount_pct[platform[item_order], item_sku, item_day].astype(np.float64)
    discount = np.round(item_qty * price * pct / 100.0, 2)

    orders = EcomOrders(
        account=account,
        platform=platform,
        warehouse=wh,
        province=prov,
        city=pop.city[owner],
        district=district,
        created_at=created,
        paid_at=paid,
        shipped_at=ship,
        delivered_at=delivered,
        cancelled_at=cancelled,
        refunded_at=np.full(n, NEVER),
        items_dropped=unpaid & (rng.random(n) < ECOM_EMPTY_ITEMS_WHEN_UNPAID),
        order_id=order_id,
        stockout=np.zeros(n, dtype=bool),
    )
    items = EcomItems(
        order=item_order, sku=item_sku, qty=item_qty, unit_price=price, discount=discount
    )
    return orders, items
