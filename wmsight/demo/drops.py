"""What a source system exports on a given day: full history, then daily changes.

The world is generated once, with every row's whole life (an order's planned
allocation, shipment, delivery …). A drop dated D is a window (lo, hi] in time, hi
being the end of D: the first drop has lo = −∞ (the full extract), each later drop
the end of the previous one (a delta). Three kinds of tables answer "what does the
export hold for this window?":

- Events: rows that never change (a movement, a count) — exported once, in the
  window where they happen.
- Versioned: master data saved as successive versions — the newest version saved
  in the window, per key.
- Lifecycle: rows whose later columns fill in over time (an order gets shipped,
  an invoice paid) — every row created or changed in the window, showing its state
  at hi: timestamps after hi are blank and the status is the one reached by hi.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

KNOWN_AT = "_known_at"
BEGINNING = -(2**62)


class Table:
    frame: pl.DataFrame

    def slice(self, lo: int, hi: int) -> pl.DataFrame:  # pragma: no cover - interface
        raise NotImplementedError

    def count(self, lo: int, hi: int) -> int:
        """Rows the window's export holds (without building it)."""
        raise NotImplementedError  # pragma: no cover - interface


def _in_window(col: str, lo: int, hi: int) -> pl.Expr:
    return (pl.col(col) > lo) & (pl.col(col) <= hi)


@dataclass(frozen=True)
class Events(Table):
    frame: pl.DataFrame  # has _known_at

    def slice(self, lo: int, hi: int) -> pl.DataFrame:
        return self.frame.filter(_in_window(KNOWN_AT, lo, hi))

    def count(self, lo: int, hi: int) -> int:
        return int(self.frame.select(_in_window(KNOWN_AT, lo, hi).sum()).item())


@dataclass(frozen=True)
class Versioned(Table):
    frame: pl.DataFrame  # one row per saved version, _known_at = when it was saved
    key: tuple[str, ...]

    def slice(self, lo: int, hi: int) -> pl.DataFrame:
        window = self.frame.filter(_in_window(KNOWN_AT, lo, hi))
        return window.sort([*self.key, KNOWN_AT], maintain_order=True).unique(
            subset=list(self.key), keep="last", maintain_order=True
        )

    def count(self, lo: int, hi: int) -> int:
        window = self.frame.filter(_in_window(KNOWN_AT, lo, hi))
        return window.select(self.key).n_unique() if window.height else 0


@dataclass(frozen=True)
class Lifecycle(Table):
    """`created` and `events` are timestamp columns (int64 seconds, NEVER if the
    event does not happen). Columns named in `reveal` stay blank until their gating
    event has happened; `status(hi)` derives the status column; with `updated_at`,
    that column is the latest event up to hi."""

    frame: pl.DataFrame
    created: str
    events: tuple[str, ...]
    reveal: dict[str, str] = field(default_factory=dict)
    status: Callable[[int], pl.Expr] | None = None
    updated_at: bool = False

    def _rows(self, lo: int, hi: int) -> pl.Expr:
        """Created by hi, and created or changed within the window."""
        stamps = [self.created, *self.events]
        changed = pl.any_horizontal([_in_window(c, lo, hi) for c in stamps])
        return (pl.col(self.created) <= hi) & changed

    def count(self, lo: int, hi: int) -> int:
        return int(self.frame.select(self._rows(lo, hi).sum()).item())

    def slice(self, lo: int, hi: int) -> pl.DataFrame:
        stamps = [self.created, *self.events]
        rows = self.frame.filter(self._rows(lo, hi))
        derived: list[pl.Expr] = []
        if self.status is not None:
            derived.append(self.status(hi).alias("status"))
        if self.updated_at:
            derived.append(
                pl.max_horizontal([pl.when(pl.col(c) <= hi).then(pl.col(c)) for c in stamps]).alias(
                    "updated_at"
                )
            )
        derived += [
            pl.when(pl.col(gate) <= hi).then(pl.col(col)).alias(col)
            for col, gate in self.reveal.items()
        ]
        if derived:
            rows = rows.with_columns(derived)
        return rows.with_columns(
            [pl.when(pl.col(c) <= hi).then(pl.col(c)).alias(c) for c in self.events]
        )


def status_by_events(hi: int, ladder: list[tuple[str, str]], default: str) -> pl.Expr:
    """The status of the last rung reached by hi: `ladder` runs from the final state
    (checked first) down to the earliest."""
    expr = pl.lit(default)
    for column, status in reversed(ladder):
        expr = pl.when(pl.col(column) <= hi).then(pl.lit(status)).otherwise(expr)
    return expr
