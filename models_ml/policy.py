"""The inventory policy's arithmetic, vectorised over SKUs: no I/O, numpy in and out.

Formulas (every quantity is in units and days unless named otherwise):

- z = Φ⁻¹(service level)                                 (cycle service level → normal quantile)
- safety stock SS = z · √(L · σ_e² + d² · σ_L²)          σ_e: std of the daily forecast error,
                                                         σ_L: std of the lead time (0 = fixed)
- reorder point ROP = max(demand over the lead time + SS, order-size cover)
                                                         order-size cover: the day's demand
                                                         below which the target share of
                                                         last year's units fell
- EOQ = √(2 · D · K / h)                                  D: annual demand, K: cost of one
                                                         order, h: holding cost per unit and year
- order-up-to S = ROP + max(EOQ, demand over the review period)
- order quantity = S − position when position ≤ ROP, at least the MOQ, in whole packs
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

_NORMAL = NormalDist()


def z_for(service_level: np.ndarray | float) -> np.ndarray:
    """Standard normal quantile of a cycle service level (0.95 → 1.645)."""
    levels = np.atleast_1d(np.asarray(service_level, dtype=np.float64))
    if ((levels <= 0) | (levels >= 1)).any():
        raise ValueError(f"service levels must lie strictly between 0 and 1, got {levels}")
    return np.array([_NORMAL.inv_cdf(float(p)) for p in levels.ravel()]).reshape(levels.shape)


def safety_stock(
    z: np.ndarray | float,
    error_sd_daily: np.ndarray | float,
    lead_time_days: np.ndarray | float,
    demand_per_day: np.ndarray | float = 0.0,
    lead_time_sd_days: np.ndarray | float = 0.0,
) -> np.ndarray:
    """z · √(L · σ_e² + d² · σ_L²): forecast error over the lead time, plus the demand
    a lead time that varies can add (zero when the lead time is fixed)."""
    var = np.asarray(lead_time_days, dtype=np.float64) * np.square(error_sd_daily) + np.square(
        demand_per_day
    ) * np.square(lead_time_sd_days)
    return np.asarray(z, dtype=np.float64) * np.sqrt(np.maximum(var, 0.0))


def order_size_cover(daily_demand: np.ndarray, service_level: np.ndarray | float) -> np.ndarray:
    """Per row of `daily_demand` (rows × days): the smallest daily quantity y such that days
    with demand ≤ y make up at least `service_level` of the row's units (a units-weighted
    quantile of the non-zero days); 0 for a row without demand.

    Why: with lumpy demand one B2B order can exceed the whole lead-time forecast plus its
    safety stock, and a fill rate counts units: to fill 90 % of units the stock on hand
    must cover the orders that make up 90 % of them."""
    d = np.sort(np.maximum(np.asarray(daily_demand, dtype=np.float64), 0.0), axis=1)
    n = d.shape[0]
    if d.shape[1] == 0:
        return np.zeros(n)
    total = d.sum(axis=1)
    share = np.cumsum(d, axis=1) / np.where(total > 0, total, 1.0)[:, None]
    level = np.broadcast_to(np.asarray(service_level, dtype=np.float64), (n,))
    first = (share >= level[:, None] - 1e-12).argmax(axis=1)
    return np.where(total > 0, d[np.arange(n), first], 0.0)


def network_order_size_cover(
    daily_demand: np.ndarray, group: np.ndarray, service_level: np.ndarray | float
) -> np.ndarray:
    """`order_size_cover` over the pooled days of every row in the same `group` (the
    same SKU at every warehouse), at each row's own service level.

    Why: a warehouse that sold a SKU on a handful of days has seen too few orders to
    know how large one can be; the SKU's customers order similar quantities wherever
    they buy, and the network has seen many more of its orders."""
    d = np.maximum(np.asarray(daily_demand, dtype=np.float64), 0.0)
    n = d.shape[0]
    level = np.broadcast_to(np.asarray(service_level, dtype=np.float64), (n,))
    _, codes = np.unique(np.asarray(group), return_inverse=True)
    codes = codes.reshape(-1)
    out = np.zeros(n)
    order = np.argsort(codes, kind="stable")
    bounds = np.flatnonzero(np.diff(codes[order])) + 1
    for rows in np.split(order, bounds):
        days = np.sort(d[rows].ravel())
        days = days[days > 0]
        if not days.size:
            continue
        share = np.cumsum(days) / days.sum()
        first = np.searchsorted(share, level[rows] - 1e-12, side="left")
        out[rows] = days[np.minimum(first, len(days) - 1)]
    return out


def cap_cover(
    cover: np.ndarray, demand_per_day: np.ndarray | float, max_days: float | None
) -> np.ndarray:
    """The order-size cover, at most `max_days` of the cell's demand (None: no cap).

    Why: when one day's order is months of the cell's usual demand (a yearly B2B project
    order), covering it means holding those months of stock all year. A planner agrees
    such an order with the customer ahead of time instead; the plan says so."""
    cover = np.asarray(cover, dtype=np.float64)
    if max_days is None:
        return cover
    limit = np.ceil(max_days * np.asarray(demand_per_day, dtype=np.float64) - 1e-9)
    return np.minimum(cover, limit)


def local_cover(
    demand_per_day: np.ndarray | float,
    z: np.ndarray | float,
    error_sd_daily: np.ndarray | float,
    days: np.ndarray | float,
) -> np.ndarray:
    """Stock a warehouse needs until a transfer from its nearest sister could arrive:
    demand over those days plus z · σ_e · √days."""
    t = np.maximum(np.asarray(days, dtype=np.float64), 0.0)
    return np.asarray(demand_per_day, dtype=np.float64) * t + np.asarray(
        z, dtype=np.float64
    ) * np.asarray(error_sd_daily, dtype=np.float64) * np.sqrt(t)


TRANSFER_TRIGGERS = ("reorder_point_or_cover", "reorder_point", "stockout_within_lead_time")
TRANSFER_SOURCES = ("above_reorder_point", "above_order_up_to")


def transfer_need_and_spare(
    position: np.ndarray,
    available: np.ndarray,
    reorder_point: np.ndarray,
    order_up_to: np.ndarray,
    active: np.ndarray,
    *,
    trigger: str = "reorder_point_or_cover",
    source: str = "above_reorder_point",
    arriving_soon: np.ndarray | float = 0.0,
    cover: np.ndarray | float = 0.0,
    stockout_within_lead_time: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Who needs stock from a sister warehouse and who can spare it, per warehouse × SKU.

    A cell would purchase at or below its reorder point; it runs short when its available
    stock plus what arrives before a transfer could (`arriving_soon`) is below its local
    cover. It is short, by `trigger`:
    - "reorder_point_or_cover": it would purchase, or it runs short;
    - "reorder_point": it would purchase;
    - "stockout_within_lead_time": it would purchase and its projected stockout falls
      within its lead time (`stockout_within_lead_time`).
    A short cell needs up to its order-up-to (and at least its local cover). A cell that is
    not short can spare, by `source`:
    - "above_reorder_point": what keeps its position at its reorder point and its local
      cover on hand, min(position − ROP, available − cover);
    - "above_order_up_to": its available stock above its order-up-to.
    Returns (need, spare, would_purchase, runs_short), the last two saying why.
    """
    if trigger not in TRANSFER_TRIGGERS:
        raise ValueError(
            f"unknown transfer trigger {trigger!r}, expected one of {TRANSFER_TRIGGERS}"
        )
    if source not in TRANSFER_SOURCES:
        raise ValueError(f"unknown transfer source {source!r}, expected one of {TRANSFER_SOURCES}")
    position = np.asarray(position, dtype=np.float64)
    available = np.asarray(available, dtype=np.float64)
    cover = np.broadcast_to(np.asarray(cover, dtype=np.float64), position.shape)
    soon = np.broadcast_to(np.asarray(arriving_soon, dtype=np.float64), position.shape)
    would_purchase = active & (position <= reorder_point)
    runs_short = active & (available + soon < cover)
    if trigger == "reorder_point_or_cover":
        short = would_purchase | runs_short
    elif trigger == "reorder_point":
        short, runs_short = would_purchase, np.zeros_like(would_purchase)
    else:
        within = (
            np.zeros_like(would_purchase)
            if stockout_within_lead_time is None
            else (np.asarray(stockout_within_lead_time, dtype=bool))
        )
        short, runs_short = would_purchase & within, np.zeros_like(would_purchase)
    need = np.maximum(np.ceil(np.maximum(order_up_to - position, 0.0) - 1e-9), 0.0)
    need = np.maximum(need, np.where(runs_short, np.ceil(cover - available - soon - 1e-9), 0.0))
    need = np.where(short, need, 0.0)
    if source == "above_order_up_to":
        spare = available - np.maximum(order_up_to, 0.0)
    else:
        spare = np.minimum(position - np.maximum(reorder_point, 0.0), available - cover)
    spare = np.where(short, 0.0, np.maximum(np.floor(spare + 1e-9), 0.0))
    return need, spare, would_purchase & short, runs_short & short


def eoq(
    annual_demand: np.ndarray | float,
    order_cost: np.ndarray | float,
    holding_cost_per_unit_year: np.ndarray | float,
) -> np.ndarray:
    """Economic order quantity √(2DK/h); 0 where there is no demand or no holding cost."""
    d = np.maximum(np.asarray(annual_demand, dtype=np.float64), 0.0)
    h = np.asarray(holding_cost_per_unit_year, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.sqrt(2.0 * d * np.asarray(order_cost, dtype=np.float64) / h)
    return np.where(np.isfinite(q) & (h > 0), q, 0.0)


def round_order(
    qty: np.ndarray, moq: np.ndarray | int | None = None, pack_size: np.ndarray | int | None = None
) -> np.ndarray:
    """Positive quantities become at least the MOQ, then whole packs (rounded up);
    zero and negative quantities become 0."""
    q = np.asarray(qty, dtype=np.float64)
    moq_ = np.maximum(np.nan_to_num(np.asarray(moq if moq is not None else 0, np.float64)), 0.0)
    pack = np.nan_to_num(np.asarray(pack_size if pack_size is not None else 1, np.float64))
    pack = np.where(pack >= 1, pack, 1.0)
    need = np.where(q > 0, np.maximum(np.ceil(q - 1e-9), moq_), 0.0)
    return (np.ceil(need / pack - 1e-9) * pack).astype(np.int64)


def order_quantity(
    position: np.ndarray,
    reorder_point: np.ndarray,
    order_up_to: np.ndarray,
    moq: np.ndarray | int | None = None,
    pack_size: np.ndarray | int | None = None,
) -> np.ndarray:
    """(s, S) with MOQ and packs: order S − position when position ≤ s, else nothing."""
    gap = np.where(position <= reorder_point, order_up_to - position, 0.0)
    return round_order(gap, moq, pack_size)


def stockout_day(
    start: np.ndarray, daily_demand: np.ndarray, arrivals: np.ndarray | None = None
) -> np.ndarray:
    """First day index (0 = the first forecast day) on which stock runs out, walking
    `daily_demand` (cells × days) down from `start` with `arrivals` (cells × days) added
    at the start of their day; -1 when it lasts the whole horizon. A cell that starts
    at or below zero with demand on day 0 runs out on day 0."""
    demand = np.asarray(daily_demand, dtype=np.float64)
    flow = -demand if arrivals is None else np.asarray(arrivals, np.float64) - demand
    level = np.asarray(start, dtype=np.float64)[:, None] + np.cumsum(flow, axis=1)
    # out when what is left after the day's demand is below zero, or zero with demand left
    out = (level < -1e-9) | ((level <= 1e-9) & (demand > 0))
    first = out.argmax(axis=1)
    return np.where(out.any(axis=1), first, -1)


def days_of_cover(stock: np.ndarray, demand_per_day: np.ndarray) -> np.ndarray:
    """Stock ÷ daily demand; infinite when there is no demand (NaN is kept for no data)."""
    s = np.asarray(stock, dtype=np.float64)
    d = np.asarray(demand_per_day, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        cover = np.where(d > 0, np.maximum(s, 0) / d, np.inf)
    return cover
