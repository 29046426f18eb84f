"""The replenishment backtest itself: stock is conserved, never negative, and every order
arrives exactly its lead time after it was placed."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from models_ml.replenishment import PlanConfig
from models_ml.simulate import (
    POLICIES,
    ErpRule,
    NoOrders,
    PlanPolicy,
    SimConfig,
    StaticMinMax,
    World,
    replay,
    summarise,
)


def _world(seed: int = 3, history: int = 420, window: int = 70) -> World:
    """Two warehouses × three SKUs. Cell 0..2 at W1, 3..5 at W2. SKU 2 sells only at W1
    and W2 holds a pile of it (a transfer candidate)."""
    rng = np.random.default_rng(seed)
    n_days = history + window
    rates = np.array([5.0, 0.4, 8.0, 3.0, 1.0, 0.0])
    demand = rng.poisson(rates[:, None], (6, n_days)).astype(float)
    demand[1] *= rng.integers(1, 6, n_days)  # lumpy
    stock0 = np.array([40, 3, 10, 60, 20, 2000])
    pipeline = np.zeros((6, window))
    pipeline[0, 4] = 24
    return World(
        warehouse_ids=["W1", "W2"],
        skus=["S0", "S1", "S2"],
        cell_wh=np.array([0, 0, 0, 1, 1, 1]),
        cell_sku=np.array([0, 1, 2, 0, 1, 2]),
        dates=[date(2024, 1, 1) + timedelta(days=i) for i in range(n_days)],
        start=history,
        demand=demand,
        outgoing=np.minimum(demand, 6),
        stock0=stock0,
        pipeline=pipeline,
        unit_cost=np.array([10.0, 50.0, 5.0, 10.0, 50.0, 5.0]),
        unit_price=np.array([15.0, 80.0, 8.0, 15.0, 80.0, 8.0]),
        lead=np.array([7, 21, 14, 7, 21, 14]),
        moq=np.array([24, 10, 100, 24, 10, 100]),
        pack=np.array([12, 5, 50, 12, 5, 50]),
        transit_days=np.array([[0, 2], [2, 0]]),
        high_value_share=np.zeros(6),
    )


@pytest.mark.parametrize("policy_class", POLICIES)
def test_stock_is_conserved_never_negative_and_orders_arrive_after_their_lead_time(
    policy_class: type,
) -> None:
    world, config = _world(), SimConfig(weeks=10, warmup_weeks=0)
    run = replay(world, policy_class(world, config), config)
    assert (run.on_hand >= 0).all()
    assert (run.shipped <= run.demand).all() and (run.shipped >= 0).all()
    # start + receipts + transfers in − shipped − transfers out = end, per cell
    end = (
        run.stock0
        + run.received.sum(axis=1)
        + run.transfer_in.sum(axis=1)
        - run.shipped.sum(axis=1)
        - run.transfer_out.sum(axis=1)
    )
    assert end.tolist() == run.on_hand[:, -1].tolist()
    # and day by day
    flow = run.received + run.transfer_in - run.shipped - run.transfer_out
    assert (run.stock0[:, None] + np.cumsum(flow, axis=1) == run.on_hand).all()
    # every order arrives exactly its lead time later, in whole packs, at least the MOQ
    orders = run.orders
    assert orders.height > 0
    cells = orders["cell"].to_numpy()
    assert (orders["arrival_day"] - orders["ordered_day"]).to_list() == world.lead[cells].tolist()
    assert (orders["qty"].to_numpy() % world.pack[cells] == 0).all()
    assert (orders["qty"].to_numpy() >= world.moq[cells]).all()
    # what arrived in the window is exactly the opening pipeline plus the orders due in it
    expected = world.pipeline.astype(int).copy()
    for c, a, q in orders.select("cell", "arrival_day", "qty").iter_rows():
        if a < world.window:
            expected[c, a] += q
    assert (run.received == expected).all()


def test_the_plan_moves_surplus_to_the_warehouse_that_runs_short() -> None:
    # the rule: only stock above the giver's order-up-to moves, to a warehouse
    # that would purchase
    world = _world()
    plan = PlanConfig(transfer_trigger="reorder_point", transfer_source="above_order_up_to")
    config = SimConfig(weeks=10, warmup_weeks=0, plan=plan)
    run = replay(world, PlanPolicy(world, config), config)
    moves = run.transfers
    assert moves.height > 0
    # only SKU 2, only from W2's pile (cell 5) to W1 (cell 2), two days on the road
    assert set(moves["from_cell"]) == {5} and set(moves["to_cell"]) == {2}
    assert ((moves["arrival_day"] - moves["sent_day"]) == 2).all()
    assert (moves["qty"].to_numpy() % world.pack[2] == 0).all()
    # no policy without transfers moves stock
    for cls in (ErpRule, StaticMinMax):
        assert replay(world, cls(world, config), config).transfers.height == 0


def test_default_transfers_keep_the_giver_at_its_reorder_point_and_local_cover() -> None:
    """The default rule: a warehouse that would purchase, or whose stock will not last until
    a transfer could arrive, takes what a sister can spare without falling below its own
    reorder point (position) or its own local cover (on hand)."""
    world, config = _world(), SimConfig(weeks=10, warmup_weeks=0)
    pol = PlanPolicy(world, config)
    levels: dict[int, tuple[np.ndarray, ...]] = {}
    refresh = pol.refresh

    def record(t: int, demand: np.ndarray, outgoing: np.ndarray) -> None:
        refresh(t, demand, outgoing)
        levels[t] = (pol.rop.copy(), pol.local_cover.copy())

    pol.refresh = record
    run = replay(world, pol, config)
    moves = run.transfers
    assert moves.height > 0
    assert (world.cell_sku[moves["from_cell"]] == world.cell_sku[moves["to_cell"]]).all()
    assert (world.cell_wh[moves["from_cell"]] != world.cell_wh[moves["to_cell"]]).all()
    assert ((moves["arrival_day"] - moves["sent_day"]) == 2).all()
    assert (moves["qty"].to_numpy() % world.pack[moves["to_cell"]] == 0).all()
    # the giver keeps its local cover on hand at the end of the day it sends
    for a, t, q in moves.select("from_cell", "sent_day", "qty").iter_rows():
        rop, cover = levels[max(k for k in levels if k <= t)]
        assert run.on_hand[a, t] >= cover[a] - 1e-9, (a, t, q)


def test_no_policy_without_transfers_holds_less_than_the_opening_stock_left_unsold() -> None:
    """The floor the verdict reports: with lost sales, stock ordered can only add to what
    the opening stock leaves on hand, cell by cell and day by day."""
    world, config = _world(), SimConfig(weeks=10, warmup_weeks=0)
    floor = replay(world, NoOrders(world, config), config)
    assert floor.orders.height == 0 and floor.received.sum() == world.pipeline.sum()
    for cls in (ErpRule, StaticMinMax):
        run = replay(world, cls(world, config), config)
        assert (run.on_hand >= floor.on_hand).all()


def test_policies_see_only_the_past() -> None:
    """Changing demand after day t changes nothing the plan did up to day t."""
    world, config = _world(), SimConfig(weeks=10, warmup_weeks=0)
    run = replay(world, PlanPolicy(world, config), config)
    changed = _world()
    cut = world.start + 30
    changed.demand[:, cut:] *= 3
    other = replay(changed, PlanPolicy(changed, config), config)
    early = run.orders.filter(run.orders["ordered_day"] < 30)
    assert early.equals(other.orders.filter(other.orders["ordered_day"] < 30))
    assert (run.on_hand[:, :30] == other.on_hand[:, :30]).all()


def test_summary_reports_fill_rate_stockouts_inventory_and_orders() -> None:
    world, config = _world(), SimConfig(weeks=10, warmup_weeks=0)
    runs = [replay(world, cls(world, config), config) for cls in POLICIES]
    table = summarise(world, runs)
    assert table.height == 3 * 3  # two warehouses and ALL per policy
    for row in table.iter_rows(named=True):
        assert 0 <= row["fill_rate"] <= 1
        assert row["avg_inventory_value_cny"] >= 0 and row["stockout_days"] >= 0
    overall = table.filter(table["warehouse_id"] == "ALL")
    run = runs[0]
    assert overall["demand_units"][0] == run.demand.sum()
    assert overall["avg_inventory_value_cny"][0] == pytest.approx(
        (run.on_hand * world.unit_cost[:, None]).sum(axis=0).mean()
    )
