"""Warehouse operations, simulated day by day: stock, shipments, replenishment.

Each day, per warehouse × SKU cell: receipts and transfers arrive, returns come
back, the day's planned shipments take what is available (B2B orders first, in
order of arrival; an online order ships whole or is cancelled), the odd wrong item
is picked, goods get damaged and written off, cycle counts correct the book, and
each warehouse reviews its reorder points once a week. Demand is forecast by the
planner with an exponentially weighted average, so promotion spikes, lumpy B2B
orders and late suppliers produce the stockouts a real network has.

Everything the stock-related extracts need comes out of this loop (see
stock_records.py for how it becomes rows), and it writes back into the orders
what actually shipped.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from wmsight.demo import schema
from wmsight.demo.geography import WAREHOUSES, warehouse_distance_days
from wmsight.demo.orders import B2BLines, B2BOrders, EcomItems, EcomOrders
from wmsight.demo.products import Catalogue
from wmsight.demo.stock_records import (
    REF_COUNT,
    REF_NONE,
    REF_ONLINE_ORDER,
    REF_ORDER,
    REF_TRANSFER,
    Log,
    StockResult,
    build_stock_result,
)
from wmsight.demo.timeline import HOUR, MINUTE, NEVER, SECONDS_PER_DAY, Timeline

REVIEW_DAYS = 7  # each warehouse reviews reorder points weekly (its own weekday)
COVER_DAYS = 14  # order-up-to = reorder point + two weeks of demand
SAFETY_Z = 2.0  # ~97.5 % cycle service level
FORECAST_ALPHA = 0.08  # planner's EWMA smoothing
MIS_PICK_RATE = 0.011  # B2B lines shipped with the wrong SKU
SHORT_PICK_RATE = 0.004  # lines shipped short for reasons other than stock
BREAKAGE_PER_CELL_DAY = 0.0004
COUNTS_PER_CELL_DAY = 1 / 75  # each cell is counted about every two and a half months
COUNT_ERROR_RATE = 0.075
DAILY_SNAPSHOT_DAYS = 60  # daily snapshots at the end, weekly (Sundays) before
UNRECEIVED_RETURN_RATE = 0.08  # refunds granted without the goods coming back
LATE_SUPPLIER_RATE = 0.4  # share of an unreliable supplier's receipts that are late
TRANSFER_WEEKDAY = 2  # Wednesday
WRITE_OFF_WEEKDAY = 6  # Sunday, also the weekly snapshot day

# movement types and return reasons are coded by their index in the contract tuples
SHIPMENT, TRANSFER_IN, TRANSFER_OUT, ADJUSTMENT, RETURN = (
    schema.MOVEMENT_TYPES.index(m)
    for m in ("shipment", "transfer_in", "transfer_out", "adjustment", "return")
)
DAMAGED, WRONG_ITEM, QUALITY = (
    schema.RETURN_REASONS.index(r) for r in ("damaged", "wrong_item", "quality")
)
# Return hazards per shipped line, in RETURN_REASONS order:
# (damaged, wrong_item, quality, not_needed, other). Online buyers may return
# within seven days for no reason (七天无理由退货).
B2B_HAZARD = np.array([0.006, 0.0008, 0.003, 0.005, 0.002])
ECOM_HAZARD = np.array([0.008, 0.004, 0.004, 0.035, 0.004])
WRONG_ITEM_RETURN = 0.75  # customers who receive the wrong SKU send it back
QUALITY_ISSUE_FACTOR = 10.0


def simulate_stock(
    cat: Catalogue,
    timeline: Timeline,
    expected: np.ndarray,
    orders: B2BOrders,
    lines: B2BLines,
    eorders: EcomOrders,
    items: EcomItems,
    rng: np.random.Generator,
) -> StockResult:
    """Run the network from the first to the last day of the history.

    Mutates `lines` (shipped quantities and SKUs), `orders` and `eorders` (stock-out
    cancellations, refunds). `expected` is the (n_wh, n_sku, n_day) true demand:
    the planner's opening stock and launch forecasts come from it.
    """
    network = _Network(cat, timeline, expected, orders, lines, eorders, items, rng)
    for t in range(timeline.n_days):
        network.run_day(t)
    return build_stock_result(network.logs, cat, timeline, orders, eorders)


class _Plan:
    """Rows grouped by day, sorted within a day by the given keys."""

    def __init__(self, day: np.ndarray, n_days: int, *keys: np.ndarray) -> None:
        valid = np.flatnonzero((day >= 0) & (day < n_days))
        order = np.lexsort(tuple(k[valid] for k in reversed(keys)) + (day[valid],))
        self.rows = valid[order]
        self.bounds = np.searchsorted(day[self.rows], np.arange(n_days + 1), side="left")

    def on(self, t: int) -> np.ndarray:
        return self.rows[self.bounds[t] : self.bounds[t + 1]]


def _group_allocate(cells: np.ndarray, qty: np.ndarray, avail: np.ndarray) -> np.ndarray:
    """First come, first served within each cell: `cells` is grouped (sorted), each
    row gets what is left after the rows before it in its cell."""
    if len(cells) == 0:
        return qty.copy()
    cum = np.cumsum(qty)
    first = np.r_[True, cells[1:] != cells[:-1]]
    starts = np.flatnonzero(first)
    group = np.cumsum(first) - 1
    before = cum - qty - (cum[starts] - qty[starts])[group]
    return np.clip(avail[cells] - before, 0, qty)


def _policy(
    forecast: np.ndarray, variance: np.ndarray, lead: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Reorder point and order-up-to level of a periodic-review (s, S) policy."""
    horizon = lead + REVIEW_DAYS
    rop = forecast * horizon + SAFETY_Z * np.sqrt(np.maximum(variance, 0) * horizon)
    return rop, rop + forecast * COVER_DAYS


def _category_neighbours(cat: Catalogue, rng: np.random.Generator) -> np.ndarray:
    """For every SKU, the SKU a picker confuses it with: another of its category."""
    out = np.empty(cat.n, dtype=np.int64)
    for c in np.unique(cat.category):
        members = np.flatnonzero(cat.category == c)
        if len(members) == 1:
            out[members] = (members + 1) % cat.n
            continue
        shift = rng.integers(1, len(members), len(members))
        out[members] = members[(np.arange(len(members)) + shift) % len(members)]
    return out


def _bincount(cells: np.ndarray, qty: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(cells, weights=qty, minlength=n).astype(np.int64)


class _Network:
    """State of every warehouse × SKU cell (index = warehouse × n_sku + sku)."""

    def __init__(
        self,
        cat: Catalogue,
        timeline: Timeline,
        expected: np.ndarray,
        orders: B2BOrders,
        lines: B2BLines,
        eorders: EcomOrders,
        items: EcomItems,
        rng: np.random.Generator,
    ) -> None:
        self.cat, self.timeline, self.rng = cat, timeline, rng
        self.orders, self.lines, self.eorders, self.items = orders, lines, eorders, items
        n_days, n_sku = timeline.n_days, cat.n
        self.n_sku = n_sku
        self.n_cells = n = len(WAREHOUSES) * n_sku
        self.sku_of = np.tile(np.arange(n_sku), len(WAREHOUSES))
        self.wh_of = np.repeat(np.arange(len(WAREHOUSES)), n_sku)
        self.lead = cat.lead_time_days[self.sku_of].astype(np.float64)
        self.pack = cat.pack_size[self.sku_of]
        self.intro = cat.intro_day[self.sku_of]
        self.stop = cat.discontinue_day[self.sku_of]
        self.weekday0 = timeline.start.weekday()
        self.wh_days = warehouse_distance_days()
        self.confused_with = _category_neighbours(cat, rng)
        self._plan_rows(n_days)

        # the planner's opening view: four weeks of true demand from launch
        exp_cell = expected.reshape(n, n_days)
        launch = np.clip(self.intro, 0, n_days - 1)
        self.forecast = np.array([exp_cell[c, launch[c] : launch[c] + 28].mean() for c in range(n)])
        self.variance = self.forecast * 4.0  # lumpier than Poisson until observed
        rop, order_up_to = _policy(self.forecast, self.variance, self.lead)
        opening = np.round(order_up_to * rng.uniform(0.5, 1.3, n))
        self.on_hand = np.where(self.intro <= 0, opening, 0).astype(np.int64)
        self.damaged = np.zeros(n, dtype=np.int64)
        self.in_transit = np.zeros(n, dtype=np.int64)  # transfers on the way in
        self.on_order = np.zeros(n, dtype=np.int64)  # purchase orders not yet received
        self.reserved = np.zeros(n, dtype=np.int64)

        self.logs = {
            "moves": Log("moved_at", "cell", "qty", "type", "ref_kind", "ref"),
            "pos": Log("ordered_at", "cell", "qty", "expected_at", "received_at"),
            "snaps": Log("day", "cell", "on_hand", "reserved", "in_transit", "damaged"),
            "counts": Log("counted_at", "cell", "book", "counted"),
            "returns": Log(
                "kind",
                "order",
                "line",
                "cell",
                "sku",
                "qty",
                "reason",
                "requested_at",
                "received_at",
            ),
        }
        # what arrives on a future day: (cells, qty[, goes to the damaged bin])
        self.receipts: dict[int, list[tuple[np.ndarray, np.ndarray]]] = defaultdict(list)
        self.arrivals: dict[int, list[tuple[np.ndarray, np.ndarray]]] = defaultdict(list)
        self.comebacks: dict[int, list[tuple[np.ndarray, ...]]] = defaultdict(list)
        self.n_transfers = 0

    def _plan_rows(self, n_days: int) -> None:
        """Index, once, which order lines ship / are ordered / are reserved when."""
        tl, lines, items = self.timeline, self.lines, self.items
        o, e = self.orders, self.eorders
        self.l_cell = o.warehouse[lines.order] * self.n_sku + lines.sku
        ordered = o.ordered_at[lines.order]
        l_ordered_day = tl.day_index(ordered)
        l_ship_day = tl.day_index(o.shipped_at[lines.order])
        self.i_cell = e.warehouse[items.order] * self.n_sku + items.sku
        created = e.created_at[items.order]
        i_ship_day = tl.day_index(e.shipped_at[items.order])
        self.ship_b2b = _Plan(l_ship_day, n_days, self.l_cell, ordered)
        self.ship_online = _Plan(i_ship_day, n_days, self.i_cell, created)
        self.ordered_b2b = _Plan(l_ordered_day, n_days)
        self.ordered_online = _Plan(tl.day_index(created), n_days)
        # reserved from order (B2B) or payment (online) to shipment or cancellation;
        # a row never reserved (an unpaid online order) is never released
        l_release = np.minimum(l_ship_day, tl.day_index(o.cancelled_at[lines.order]))
        i_paid = tl.day_index(e.paid_at[items.order])
        i_release = np.minimum(i_ship_day, tl.day_index(e.cancelled_at[items.order]))
        self.reserve_b2b = _Plan(l_ordered_day, n_days)
        self.release_b2b = _Plan(np.where(l_ordered_day < n_days, l_release, n_days), n_days)
        self.reserve_online = _Plan(i_paid, n_days)
        self.release_online = _Plan(np.where(i_paid < n_days, i_release, n_days), n_days)
        self.items_per_order = np.bincount(items.order, minlength=e.n)

    # ------------------------------------------------------------------ the day
    def run_day(self, t: int) -> None:
        weekday = (self.weekday0 + t) % 7
        self._inbound(t)
        self._reservations(t)
        sent = self._ship_b2b(t)
        sent_online = self._ship_online(t)
        self._returns(0, sent)
        self._returns(1, sent_online)
        self._breakage()
        if weekday == WRITE_OFF_WEEKDAY:
            self._write_off(t)
        listed = (self.intro <= t) & ((t < self.stop) | (self.on_hand > 0))
        self._cycle_counts(t, listed)
        self._replenish(t, weekday)
        if t >= self.timeline.n_days - DAILY_SNAPSHOT_DAYS or weekday == WRITE_OFF_WEEKDAY:
            self._snapshot(t, listed)

    def _inbound(self, t: int) -> None:
        for cells, qty in self.receipts.pop(t, []):
            np.add.at(self.on_hand, cells, qty)
            np.add.at(self.on_order, cells, -qty)
        for cells, qty in self.arrivals.pop(t, []):
            np.add.at(self.on_hand, cells, qty)
            np.add.at(self.in_transit, cells, -qty)
        for cells, qty, to_damaged in self.comebacks.pop(t, []):
            np.add.at(self.on_hand, cells, qty)
            np.add.at(self.damaged, cells[to_damaged], qty[to_damaged])

    def _reservations(self, t: int) -> None:
        n = self.n_cells
        for plan, cells, qty, sign in (
            (self.reserve_b2b, self.l_cell, self.lines.qty, 1),
            (self.release_b2b, self.l_cell, self.lines.qty, -1),
            (self.reserve_online, self.i_cell, self.items.qty, 1),
            (self.release_online, self.i_cell, self.items.qty, -1),
        ):
            rows = plan.on(t)
            if len(rows):
                self.reserved += sign * _bincount(cells[rows], qty[rows], n)

    # ------------------------------------------------------------------ outbound
    def _ship_b2b(self, t: int) -> np.ndarray:
        """Serve today's B2B lines; returns the lines that left with goods."""
        lines, rng = self.lines, self.rng
        rows = self.ship_b2b.on(t)
        shipped = _group_allocate(self.l_cell[rows], lines.qty[rows], self.on_hand - self.damaged)
        short = (rng.random(len(rows)) < SHORT_PICK_RATE) & (shipped > 1)
        shipped[short] -= rng.integers(1, np.maximum(shipped[short], 2))
        lines.shipped_qty[rows] = shipped
        self.on_hand -= _bincount(self.l_cell[rows], shipped, self.n_cells)
        self._cancel_unserved_orders(rows)
        self._mis_pick(rows)
        sent = rows[lines.shipped_qty[rows] > 0]
        order = lines.order[sent]
        self.logs["moves"].add(
            moved_at=self.orders.shipped_at[order],
            cell=self.orders.warehouse[order] * self.n_sku + lines.shipped_sku[sent],
            qty=-lines.shipped_qty[sent],
            type=SHIPMENT,
            ref_kind=REF_ORDER,
            ref=order,
        )
        return sent

    def _cancel_unserved_orders(self, rows: np.ndarray) -> None:
        """An order none of whose lines could be served is cancelled at shipping time."""
        if len(rows) == 0:
            return
        lines, orders = self.lines, self.orders
        order_ids, inv = np.unique(lines.order[rows], return_inverse=True)
        dead = order_ids[np.bincount(inv, weights=lines.shipped_qty[rows]) == 0]
        if len(dead):
            orders.stockout[dead] = True
            orders.cancelled_at[dead] = orders.shipped_at[dead]
            orders.shipped_at[dead] = NEVER
            orders.delivered_at[dead] = NEVER
            lines.shipped_qty[rows[np.isin(lines.order[rows], dead)]] = -1

    def _mis_pick(self, rows: np.ndarray) -> None:
        """About 1 % of shipped lines leave with a similar SKU instead (when the picker
        finds enough of it); the ordered SKU's stock stays on the shelf."""
        lines, on_hand = self.lines, self.on_hand
        picked = rows[(lines.shipped_qty[rows] > 0) & (self.rng.random(len(rows)) < MIS_PICK_RATE)]
        for r in picked.tolist():
            right = self.l_cell[r]
            wrong = right - lines.sku[r] + self.confused_with[lines.sku[r]]
            q = lines.shipped_qty[r]
            if on_hand[wrong] - self.damaged[wrong] >= q:
                on_hand[wrong] -= q
                on_hand[right] += q
                lines.shipped_sku[r] = wrong % self.n_sku
        lines.shipped_sku[rows[lines.shipped_qty[rows] == 0]] = -1  # nothing left the building

    def _ship_online(self, t: int) -> np.ndarray:
        """Serve today's online orders, each whole or not at all (then it is
        cancelled: the platform refunds a paid order it cannot fulfil)."""
        items, eorders = self.items, self.eorders
        rows = self.ship_online.on(t)
        got = _group_allocate(self.i_cell[rows], items.qty[rows], self.on_hand - self.damaged)
        failed = np.unique(items.order[rows][got < items.qty[rows]])
        sent = rows[~np.isin(items.order[rows], failed)]
        self.on_hand -= _bincount(self.i_cell[sent], items.qty[sent], self.n_cells)
        eorders.stockout[failed] = True
        eorders.cancelled_at[failed] = eorders.shipped_at[failed]
        eorders.shipped_at[failed] = NEVER
        eorders.delivered_at[failed] = NEVER
        order = items.order[sent]
        self.logs["moves"].add(
            moved_at=eorders.shipped_at[order],
            cell=self.i_cell[sent],
            qty=-items.qty[sent],
            type=SHIPMENT,
            ref_kind=REF_ONLINE_ORDER,
            ref=order,
        )
        return sent

    # ------------------------------------------------------------------ returns
    def _returns(self, kind: int, rows: np.ndarray) -> None:
        """Decide which of today's shipped lines (kind 0 = B2B, 1 = online) will
        come back, why and when; book the return movement for the day the goods
        arrive (in the future: it becomes visible when it happens)."""
        if len(rows) == 0:
            return
        rng, n_rows = self.rng, len(rows)
        if kind == 0:
            sku, shipped, order = (
                self.lines.shipped_sku[rows],
                self.lines.shipped_qty[rows],
                self.lines.order[rows],
            )
            hazard = np.tile(B2B_HAZARD, (n_rows, 1))
            hazard[:, WRONG_ITEM] = np.where(
                sku != self.lines.sku[rows], WRONG_ITEM_RETURN, B2B_HAZARD[WRONG_ITEM]
            )
            delivered, wh = self.orders.delivered_at[order], self.orders.warehouse[order]
            wait = rng.uniform(0.3, 15, n_rows)
        else:
            sku, shipped, order = self.items.sku[rows], self.items.qty[rows], self.items.order[rows]
            hazard = np.tile(ECOM_HAZARD, (n_rows, 1))
            delivered, wh = self.eorders.delivered_at[order], self.eorders.warehouse[order]
            wait = rng.uniform(0.2, 7, n_rows)
        hazard[:, QUALITY] *= np.where(self.cat.quality_issue[sku], QUALITY_ISSUE_FACTOR, 1.0)
        reason = (rng.random(n_rows)[:, None] >= np.cumsum(hazard, axis=1)).sum(axis=1)
        back = reason < len(schema.RETURN_REASONS)
        if not back.any():
            return
        rows, sku, shipped, order, reason = (
            rows[back],
            sku[back],
            shipped[back],
            order[back],
            reason[back],
        )
        n = len(rows)
        qty = shipped.copy() if kind == 1 else self._b2b_return_qty(shipped, reason)
        requested = delivered[back] + (wait[back] * SECONDS_PER_DAY).astype(np.int64)
        received = requested + rng.integers(2 * SECONDS_PER_DAY, 7 * SECONDS_PER_DAY, n)
        received = np.where(rng.random(n) < UNRECEIVED_RETURN_RATE, NEVER, received)
        cell = wh[back] * self.n_sku + sku
        self.logs["returns"].add(
            kind=np.full(n, kind),
            order=order,
            line=rows,
            cell=cell,
            sku=sku,
            qty=qty,
            reason=reason,
            requested_at=requested,
            received_at=received,
        )
        came = received < NEVER
        self.logs["moves"].add(
            moved_at=received[came],
            cell=cell[came],
            qty=qty[came],
            type=RETURN,
            ref_kind=REF_ORDER if kind == 0 else REF_ONLINE_ORDER,
            ref=order[came],
        )
        recv_day = self.timeline.day_index(received[came])
        to_damaged = np.isin(reason[came], (DAMAGED, QUALITY))
        for d in np.unique(recv_day).tolist():
            pick = recv_day == d
            self.comebacks[d].append((cell[came][pick], qty[came][pick], to_damaged[pick]))
        if kind == 1:
            self._refund_whole_orders(order, requested, received)

    def _b2b_return_qty(self, shipped: np.ndarray, reason: np.ndarray) -> np.ndarray:
        """Wrong items come back in full, damage is a few units, the rest a part."""
        n = len(shipped)
        part = np.ceil(shipped * self.rng.uniform(0.1, 1.0, n))
        qty = np.select(
            [reason == WRONG_ITEM, reason == DAMAGED],
            [shipped, np.minimum(shipped, 1 + self.rng.poisson(2, n))],
            part,
        )
        return np.clip(qty, 1, shipped).astype(np.int64)

    def _refund_whole_orders(
        self, order: np.ndarray, requested: np.ndarray, received: np.ndarray
    ) -> None:
        """A returned online item is refunded; the order counts as refunded when all
        its items came back (most online orders have one item). All items of an
        order ship on one day, so its returns are all decided in the same call."""
        settled = np.where(received < NEVER, received, requested + 2 * SECONDS_PER_DAY)
        settled = settled + self.rng.integers(1 * HOUR, 24 * HOUR, len(settled))
        uniq, inv = np.unique(order, return_inverse=True)
        whole = np.bincount(inv) == self.items_per_order[uniq]
        last = np.zeros(len(uniq), dtype=np.int64)
        np.maximum.at(last, inv, settled)
        self.eorders.refunded_at[uniq[whole]] = last[whole]

    # ------------------------------------------------------------------ housekeeping
    def _breakage(self) -> None:
        rng = self.rng
        n = rng.poisson(BREAKAGE_PER_CELL_DAY * self.n_cells)
        if n == 0:
            return
        cells = rng.integers(0, self.n_cells, n)
        free = np.maximum(self.on_hand[cells] - self.damaged[cells], 0)
        np.add.at(self.damaged, cells, np.minimum(free, 1 + rng.poisson(1.0, n)))

    def _write_off(self, t: int) -> None:
        """Weekly write-off of half the cells with damaged stock: an adjustment."""
        cells = np.flatnonzero((self.damaged > 0) & (self.rng.random(self.n_cells) < 0.5))
        if len(cells) == 0:
            return
        qty = self.damaged[cells].copy()
        self.on_hand[cells] -= qty
        self.damaged[cells] = 0
        self.logs["moves"].add(
            moved_at=self.timeline.seconds(t, self.rng.integers(16 * HOUR, 18 * HOUR, len(cells))),
            cell=cells,
            qty=-qty,
            type=ADJUSTMENT,
            ref_kind=REF_NONE,
            ref=np.zeros(len(cells), dtype=np.int64),
        )

    def _cycle_counts(self, t: int, listed: np.ndarray) -> None:
        """盘点: count a sample of cells; a difference books an adjustment to the count."""
        rng, counts = self.rng, self.logs["counts"]
        candidates = np.flatnonzero(listed)
        n = rng.binomial(len(candidates), COUNTS_PER_CELL_DAY)
        if n == 0:
            return
        cells = rng.choice(candidates, size=n, replace=False)
        counted_at = np.sort(self.timeline.seconds(t, rng.integers(9 * HOUR, 16 * HOUR, n)))
        book = self.on_hand[cells].copy()
        error = np.where(
            rng.random(n) < COUNT_ERROR_RATE,
            np.where(rng.random(n) < 0.7, -1, 1) * (1 + rng.geometric(0.4, n)),
            0,
        )
        counted = np.maximum(book + error, 0)
        first_row = counts.rows
        counts.add(counted_at=counted_at, cell=cells, book=book, counted=counted)
        diff = counted != book
        if diff.any():
            c = cells[diff]
            self.on_hand[c] = counted[diff]
            self.damaged[c] = np.minimum(self.damaged[c], self.on_hand[c])
            self.logs["moves"].add(
                moved_at=counted_at[diff] + 30 * MINUTE,
                cell=c,
                qty=(counted - book)[diff],
                type=ADJUSTMENT,
                ref_kind=REF_COUNT,
                ref=first_row + np.flatnonzero(diff),
            )

    # ------------------------------------------------------------------ planning
    def _update_forecast(self, t: int) -> np.ndarray:
        """EWMA of ordered units and of their squared error; returns `selling`."""
        demand = np.zeros(self.n_cells)
        for plan, cells, qty in (
            (self.ordered_b2b, self.l_cell, self.lines.qty),
            (self.ordered_online, self.i_cell, self.items.qty),
        ):
            rows = plan.on(t)
            if len(rows):
                demand += np.bincount(cells[rows], weights=qty[rows], minlength=self.n_cells)
        selling = (self.intro <= t) & (t < self.stop)
        err = demand - self.forecast
        self.forecast = np.where(selling, self.forecast + FORECAST_ALPHA * err, self.forecast)
        self.variance = np.where(
            selling, (1 - FORECAST_ALPHA) * self.variance + FORECAST_ALPHA * err**2, self.variance
        )
        return selling

    def _position(self) -> np.ndarray:
        return self.on_hand - self.damaged + self.on_order + self.in_transit

    def _replenish(self, t: int, weekday: int) -> None:
        selling = self._update_forecast(t)
        rop, order_up_to = _policy(self.forecast, self.variance, self.lead)
        if weekday == TRANSFER_WEEKDAY:
            self._transfer(t, rop, order_up_to, selling)
        position = self._position()
        reviewing = (self.wh_of % REVIEW_DAYS) == (t % REVIEW_DAYS)
        arrives = t + self.lead
        due = reviewing & (self.intro <= arrives) & (arrives < self.stop) & (position < rop)
        cells = np.flatnonzero(due)
        if len(cells):
            self._purchase(t, cells, order_up_to[cells] - position[cells])

    def _purchase(self, t: int, cells: np.ndarray, gap: np.ndarray) -> None:
        """Order up to the target, at least the MOQ, in whole packs. Suppliers
        deliver around the lead time; unreliable ones are often days late."""
        rng, cat, n = self.rng, self.cat, len(cells)
        sku, pack = self.sku_of[cells], self.pack[cells]
        need = np.maximum(gap, cat.moq[sku])
        qty = np.maximum(np.ceil(need / pack) * pack, pack).astype(np.int64)
        lead = cat.lead_time_days[sku]
        delay = np.round(rng.normal(0, 1.0, n)).astype(np.int64)
        late = cat.unreliable_supplier[sku] & (rng.random(n) < LATE_SUPPLIER_RATE)
        delay = np.maximum(delay + np.where(late, rng.integers(4, 21, n), 0), -2)
        recv_day = t + lead + delay
        self.logs["pos"].add(
            ordered_at=self.timeline.seconds(t, rng.integers(9 * HOUR, 17 * HOUR, n)),
            cell=cells,
            qty=qty,
            expected_at=self.timeline.seconds(t + lead, 17 * HOUR),
            received_at=self.timeline.seconds(recv_day, rng.integers(9 * HOUR, 17 * HOUR, n)),
        )
        self.on_order[cells] += qty
        for d in np.unique(recv_day).tolist():
            pick = recv_day == d
            self.receipts[d].append((cells[pick], qty[pick]))

    def _transfer(
        self, t: int, rop: np.ndarray, order_up_to: np.ndarray, selling: np.ndarray
    ) -> None:
        """Weekly rebalancing: per SKU, the warehouse furthest below its reorder point
        receives stock from the one furthest above twice its order-up-to level."""
        n_wh, n_sku, rng = len(WAREHOUSES), self.n_sku, self.rng
        shape = (n_wh, n_sku)
        position = self._position()
        need = (rop - position).reshape(shape)
        free = np.minimum(position - 2 * order_up_to, self.on_hand - self.damaged).reshape(shape)
        skus = np.arange(n_sku)
        dest, src = need.argmax(axis=0), free.argmax(axis=0)
        top_need, top_free = need[dest, skus], free[src, skus]
        pack = self.pack[:n_sku]
        target = top_need + order_up_to.reshape(shape)[dest, skus] * 0.5
        qty = (np.floor(np.minimum(target, top_free) / pack) * pack).astype(np.int64)
        ok = (top_need > 0) & (top_free > 0) & (dest != src) & (qty > 0) & selling[:n_sku]
        s = skus[ok]
        if len(s) == 0:
            return
        q, a, b = qty[ok], src[ok], dest[ok]
        out_cell, in_cell = a * n_sku + s, b * n_sku + s
        self.on_hand[out_cell] -= q
        self.in_transit[in_cell] += q
        refs = self.n_transfers + np.arange(len(s))
        self.n_transfers += len(s)
        sent_at = self.timeline.seconds(t, rng.integers(8 * HOUR, 12 * HOUR, len(s)))
        arrive_at = (
            sent_at
            + np.ceil(self.wh_days[a, b]).astype(np.int64) * SECONDS_PER_DAY
            + rng.integers(0, 6 * HOUR, len(s))
        )
        moves = self.logs["moves"]
        moves.add(
            moved_at=sent_at,
            cell=out_cell,
            qty=-q,
            type=TRANSFER_OUT,
            ref_kind=REF_TRANSFER,
            ref=refs,
        )
        moves.add(
            moved_at=arrive_at,
            cell=in_cell,
            qty=q,
            type=TRANSFER_IN,
            ref_kind=REF_TRANSFER,
            ref=refs,
        )
        arrive_day = self.timeline.day_index(arrive_at)
        for d in np.unique(arrive_day).tolist():
            pick = arrive_day == d
            self.arrivals[d].append((in_cell[pick], q[pick]))

    def _snapshot(self, t: int, listed: np.ndarray) -> None:
        c = np.flatnonzero(listed)
        self.logs["snaps"].add(
            day=np.full(len(c), t),
            cell=c,
            on_hand=self.on_hand[c],
            reserved=self.reserved[c],
            in_transit=self.in_transit[c],
            damaged=self.damaged[c],
        )
