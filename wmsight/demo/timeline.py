"""Time axis of the demo world and the seeded random streams.

All instants are int64 seconds on the Asia/Shanghai wall clock counted from
1970-01-01 00:00 (a "naive local epoch"): extracts write naive times as Shanghai
time, so keeping the wall clock avoids time-zone arithmetic everywhere except when
a file deliberately writes another offset. Days are indexes into the history,
day 0 being the first day of history.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

SECONDS_PER_DAY = 86_400
HOUR = 3_600
MINUTE = 60
# Sentinel for "has not happened (yet)": far beyond any drop, so comparisons with a
# drop's end simply hide it. Never written to a file.
NEVER = np.int64(2**62)
EPOCH = date(1970, 1, 1)


def stream(seed: int, name: str) -> np.random.Generator:
    """An independent generator per component: adding draws to one component never
    shifts the numbers another component sees, so outputs stay stable as code grows."""
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])


@dataclass(frozen=True)
class Timeline:
    """History from `start` to `end` (both inclusive) and the drop dates.

    The first drop is dated `end - delta_drops` and carries everything up to its
    date; each later drop carries one day of changes.
    """

    start: date
    end: date
    delta_drops: int
    drop_dates: tuple[date, ...] = field(init=False)

    def __post_init__(self) -> None:
        first = self.end - timedelta(days=self.delta_drops)
        drops = tuple(first + timedelta(days=i) for i in range(self.delta_drops + 1))
        object.__setattr__(self, "drop_dates", drops)

    @classmethod
    def build(cls, end: date, days: int, delta_drops: int) -> Timeline:
        if days < 60:
            raise ValueError(f"days={days}: the world needs at least 60 days of history")
        if not 0 <= delta_drops < days:
            raise ValueError(f"delta_drops={delta_drops} must be in [0, days)")
        return cls(start=end - timedelta(days=days), end=end, delta_drops=delta_drops)

    @property
    def n_days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def day0(self) -> int:
        """Days from 1970-01-01 to the first day of history."""
        return (self.start - EPOCH).days

    def day_of(self, d: date) -> int:
        return (d - self.start).days

    def date_of(self, day: int) -> date:
        return self.start + timedelta(days=int(day))

    def dates(self) -> np.ndarray:
        """datetime64[D] for every history day."""
        return np.datetime64(self.start, "D") + np.arange(self.n_days)

    def seconds(self, day: np.ndarray | int, second_of_day: np.ndarray | int = 0) -> np.ndarray:
        """Naive-local epoch seconds of `day` (history index) + `second_of_day`."""
        return (np.asarray(day, dtype=np.int64) + self.day0) * SECONDS_PER_DAY + np.asarray(
            second_of_day, dtype=np.int64
        )

    def day_index(self, seconds: np.ndarray) -> np.ndarray:
        """History day of an instant (floor division; NEVER stays huge)."""
        return np.asarray(seconds, dtype=np.int64) // SECONDS_PER_DAY - self.day0

    def end_of(self, d: date) -> int:
        """Last second of a calendar day: a drop dated `d` may hold events up to it."""
        return int(self.seconds(self.day_of(d), SECONDS_PER_DAY - 1))
