"""What people decided in the dashboard: planners' replenishment decisions and handled
churn alerts, kept with who and when.

The store is a small SQLite file beside the warehouse (`<warehouse>.decisions.sqlite`),
not the DuckDB warehouse itself: the dashboard must never wait for a running pipeline
(DuckDB has one writer), and the pipeline's publish step must read the decisions while
the dashboard may be writing one — SQLite lets several processes do both. Every decision
is a new row (an audit trail); the current decision on a line is its newest row.
Values always reach SQL as parameters.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
PURCHASE, TRANSFER = "purchase", "transfer"
APPROVE, CHANGE, REJECT = "approve", "change", "reject"
DECISIONS = (APPROVE, CHANGE, REJECT)

SCHEMA = """
CREATE TABLE IF NOT EXISTS replenishment_decisions (
    decision_id INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_date TEXT NOT NULL,              -- the as-of date of the plan decided on
    kind TEXT NOT NULL CHECK (kind IN ('purchase', 'transfer')),
    warehouse_id TEXT NOT NULL,           -- the receiving warehouse
    sku TEXT NOT NULL,
    from_warehouse_id TEXT NOT NULL DEFAULT '',  -- transfers only
    supplier_id TEXT,
    recommended_qty INTEGER NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('approve', 'change', 'reject')),
    final_qty INTEGER NOT NULL CHECK (final_qty >= 0),
    comment TEXT NOT NULL DEFAULT '',
    decided_by TEXT NOT NULL,
    decided_by_name TEXT NOT NULL DEFAULT '',
    decided_at TEXT NOT NULL              -- UTC, ISO 8601
);
CREATE INDEX IF NOT EXISTS replenishment_decisions_line
    ON replenishment_decisions (plan_date, kind, warehouse_id, sku, from_warehouse_id);
CREATE TABLE IF NOT EXISTS alert_handling (
    handling_id INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_key TEXT NOT NULL,
    alert_type TEXT NOT NULL,
    raised_on TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    handled_by TEXT NOT NULL,
    handled_by_name TEXT NOT NULL DEFAULT '',
    handled_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_handling_alert
    ON alert_handling (customer_key, alert_type, raised_on);
"""


class DecisionError(ValueError):
    """A decision that cannot be recorded as given; the message says which rule."""


@dataclass(frozen=True)
class Line:
    """One recommendation a planner decides on: a purchase for a warehouse (from its
    supplier) or a transfer into it from another warehouse."""

    kind: str
    warehouse_id: str
    sku: str
    recommended_qty: int
    from_warehouse_id: str = ""
    supplier_id: str | None = None

    @property
    def key(self) -> str:
        if self.kind == TRANSFER:
            return f"{TRANSFER}|{self.from_warehouse_id}|{self.warehouse_id}|{self.sku}"
        return f"{PURCHASE}|{self.warehouse_id}|{self.sku}"


@dataclass(frozen=True)
class Decision:
    line: Line
    decision: str
    quantity: int | None = None  # the planner's quantity, for `change`
    comment: str = ""

    def final_qty(self) -> int:
        if self.decision == APPROVE:
            return self.line.recommended_qty
        if self.decision == REJECT:
            return 0
        return int(self.quantity or 0)

    def check(self) -> None:
        if self.decision not in DECISIONS:
            raise DecisionError(f"decision {self.decision!r}: must be one of {DECISIONS}")
        if self.line.kind not in (PURCHASE, TRANSFER):
            raise DecisionError(f"line kind {self.line.kind!r}: must be purchase or transfer")
        if self.decision == CHANGE:
            if self.quantity is None or int(self.quantity) != self.quantity:
                raise DecisionError(f"{self.line.key}: a changed quantity must be a whole number")
            if self.quantity <= 0:
                raise DecisionError(
                    f"{self.line.key}: a changed quantity must be above 0 (reject the line "
                    "to order nothing)"
                )
        if self.decision == REJECT and not self.comment.strip():
            raise DecisionError(f"{self.line.key}: a rejection needs a comment saying why")


def decisions_path(db_path: Path) -> Path:
    """The decision store that belongs to a warehouse: beside it, named after it."""
    return db_path.with_name(f"{db_path.stem}.decisions.sqlite")


@contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path, timeout=30)) as con:
        con.execute("PRAGMA journal_mode = WAL")  # readers never block the writer
        con.execute("PRAGMA busy_timeout = 30000")
        con.executescript(SCHEMA)
        con.row_factory = sqlite3.Row
        yield con


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def record_decisions(
    path: Path,
    plan_date: date,
    decisions: Sequence[Decision],
    username: str,
    display_name: str = "",
) -> int:
    """Record decisions (all or none) by `username`; returns how many were recorded."""
    if not username:
        raise DecisionError("a decision needs a logged-in user")
    if not decisions:
        raise DecisionError("choose at least one line")
    for decision in decisions:
        decision.check()
    decided_at = _now()
    with connect(path) as con, con:
        con.executemany(
            """INSERT INTO replenishment_decisions (plan_date, kind, warehouse_id, sku,
                from_warehouse_id, supplier_id, recommended_qty, decision, final_qty,
                comment, decided_by, decided_by_name, decided_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [
                (
                    plan_date.isoformat(),
                    d.line.kind,
                    d.line.warehouse_id,
                    d.line.sku,
                    d.line.from_warehouse_id,
                    d.line.supplier_id,
                    int(d.line.recommended_qty),
                    d.decision,
                    d.final_qty(),
                    d.comment.strip(),
                    username,
                    display_name,
                    decided_at,
                )
                for d in decisions
            ],
        )
    return len(decisions)


def current_decisions(path: Path, plan_date: date) -> list[dict]:
    """The newest decision on every line of the plan of `plan_date`."""
    if not path.exists():
        return []
    with connect(path) as con:
        rows = con.execute(
            """SELECT * FROM replenishment_decisions AS d
            WHERE plan_date = ? AND decision_id = (
                SELECT max(decision_id) FROM replenishment_decisions AS newer
                WHERE newer.plan_date = d.plan_date AND newer.kind = d.kind
                  AND newer.warehouse_id = d.warehouse_id AND newer.sku = d.sku
                  AND newer.from_warehouse_id = d.from_warehouse_id)
            ORDER BY kind, warehouse_id, sku, from_warehouse_id""",
            [plan_date.isoformat()],
        ).fetchall()
    return [dict(row) for row in rows]


def decision_history(path: Path, plan_date: date | None = None) -> list[dict]:
    """Every decision ever recorded (for `plan_date` only, when given), newest first."""
    if not path.exists():
        return []
    with connect(path) as con:
        rows = con.execute(
            """SELECT * FROM replenishment_decisions
            WHERE ? IS NULL OR plan_date = ? ORDER BY decision_id DESC""",
            [plan_date and plan_date.isoformat()] * 2,
        ).fetchall()
    return [dict(row) for row in rows]


def record_alert_handled(
    path: Path,
    alerts: Sequence[tuple[str, str, date]],
    note: str,
    username: str,
    display_name: str = "",
) -> int:
    """Mark alerts (customer_key, alert_type, raised_on) handled, with a note."""
    if not username:
        raise DecisionError("handling an alert needs a logged-in user")
    if not alerts:
        raise DecisionError("choose at least one alert")
    if not note.strip():
        raise DecisionError("say what was done: a handled alert needs a note")
    handled_at = _now()
    with connect(path) as con, con:
        con.executemany(
            """INSERT INTO alert_handling (customer_key, alert_type, raised_on, note,
                handled_by, handled_by_name, handled_at) VALUES (?, ?, ?, ?, ?, ?, ?)""",
            [
                (
                    key,
                    alert_type,
                    raised_on.isoformat(),
                    note.strip(),
                    username,
                    display_name,
                    handled_at,
                )
                for key, alert_type, raised_on in alerts
            ],
        )
    return len(alerts)


def handled_alerts(path: Path) -> list[dict]:
    """The newest handling of every alert that was handled."""
    if not path.exists():
        return []
    with connect(path) as con:
        rows = con.execute(
            """SELECT * FROM alert_handling AS h WHERE handling_id = (
                SELECT max(handling_id) FROM alert_handling AS newer
                WHERE newer.customer_key = h.customer_key AND newer.alert_type = h.alert_type
                  AND newer.raised_on = h.raised_on)
            ORDER BY customer_key, alert_type, raised_on"""
        ).fetchall()
    return [dict(row) for row in rows]


def shanghai_wall_time(utc_iso: str) -> datetime:
    """A stored UTC time as the Asia/Shanghai wall time every feed uses (naive)."""
    return datetime.fromisoformat(utc_iso).astimezone(SHANGHAI).replace(tzinfo=None)
