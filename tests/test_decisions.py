"""The decision store: planners' decisions and handled alerts, kept with who and when,
every one a row of its own (the audit trail), values as parameters, rules enforced."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest

from wmsight import decisions as store

PLAN = date(2025, 11, 30)
PURCHASE = store.Line(store.PURCHASE, "WH-SHA", "SKU-00001", 120, supplier_id="SUP-1")
TRANSFER = store.Line(store.TRANSFER, "WH-CAN", "SKU-00001", 30, from_warehouse_id="WH-SHA")


def test_the_newest_decision_on_a_line_is_current_and_every_one_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "w.decisions.sqlite"
    store.record_decisions(path, PLAN, [store.Decision(PURCHASE, store.APPROVE)], "planner")
    store.record_decisions(
        path,
        PLAN,
        [store.Decision(PURCHASE, store.CHANGE, 96, "pallet of 96")],
        "planner2",
        "Second Planner",
    )
    store.record_decisions(path, PLAN, [store.Decision(TRANSFER, store.APPROVE)], "planner")

    current = store.current_decisions(path, PLAN)
    assert [(d["kind"], d["decision"], d["final_qty"], d["decided_by"]) for d in current] == [
        ("purchase", "change", 96, "planner2"),
        ("transfer", "approve", 30, "planner"),
    ]
    assert current[0]["comment"] == "pallet of 96"
    assert current[0]["decided_by_name"] == "Second Planner"
    assert current[1]["from_warehouse_id"] == "WH-SHA"
    history = store.decision_history(path, PLAN)
    assert len(history) == 3 and history[-1]["decision"] == "approve"  # newest first
    assert store.current_decisions(path, date(2025, 11, 29)) == []


@pytest.mark.parametrize(
    ("decision", "message"),
    [
        (store.Decision(PURCHASE, store.REJECT), "needs a comment"),
        (store.Decision(PURCHASE, store.CHANGE, 0), "above 0"),
        (store.Decision(PURCHASE, store.CHANGE, None), "whole number"),
        (store.Decision(PURCHASE, store.CHANGE, 2.5), "whole number"),
        (store.Decision(PURCHASE, "maybe"), "must be one of"),
    ],
)
def test_a_decision_that_breaks_a_rule_is_refused_and_nothing_is_recorded(
    tmp_path: Path, decision: store.Decision, message: str
) -> None:
    path = tmp_path / "w.decisions.sqlite"
    good = store.Decision(TRANSFER, store.APPROVE)
    with pytest.raises(store.DecisionError, match=message):
        store.record_decisions(path, PLAN, [good, decision], "planner")
    assert store.decision_history(path) == []  # all or none


def test_a_decision_needs_a_user_and_a_line(tmp_path: Path) -> None:
    path = tmp_path / "w.decisions.sqlite"
    with pytest.raises(store.DecisionError, match="logged-in user"):
        store.record_decisions(path, PLAN, [store.Decision(PURCHASE, store.APPROVE)], "")
    with pytest.raises(store.DecisionError, match="at least one line"):
        store.record_decisions(path, PLAN, [], "planner")


def test_hostile_text_is_stored_as_text(tmp_path: Path) -> None:
    path = tmp_path / "w.decisions.sqlite"
    comment = "x'); DROP TABLE replenishment_decisions; --"
    line = store.Line(store.PURCHASE, "WH'; --", 'SKU"1', 5)
    store.record_decisions(path, PLAN, [store.Decision(line, store.REJECT, None, comment)], "a'b")
    [row] = store.current_decisions(path, PLAN)
    assert (row["warehouse_id"], row["sku"], row["comment"], row["decided_by"]) == (
        "WH'; --",
        'SKU"1',
        comment,
        "a'b",
    )
    with sqlite3.connect(path) as con:
        assert con.execute("SELECT count(*) FROM replenishment_decisions").fetchone() == (1,)


def test_handled_alerts_need_a_note_and_the_newest_handling_counts(tmp_path: Path) -> None:
    path = tmp_path / "w.decisions.sqlite"
    alert = ("cust_1", "no_order_90d", PLAN)
    with pytest.raises(store.DecisionError, match="needs a note"):
        store.record_alert_handled(path, [alert], "  ", "manager")
    with pytest.raises(store.DecisionError, match="at least one alert"):
        store.record_alert_handled(path, [], "called", "manager")
    store.record_alert_handled(path, [alert], "called, no answer", "manager")
    store.record_alert_handled(path, [alert], "called back: orders next week", "manager", "M")
    [handled] = store.handled_alerts(path)
    assert handled["note"] == "called back: orders next week"
    assert handled["handled_by_name"] == "M"


def test_stored_times_are_published_as_shanghai_wall_time() -> None:
    assert store.shanghai_wall_time("2025-11-30T16:30:00+00:00").isoformat() == (
        "2025-12-01T00:30:00"
    )


def test_the_store_sits_beside_its_warehouse() -> None:
    assert store.decisions_path(Path("/data/acme.duckdb")) == Path("/data/acme.decisions.sqlite")
