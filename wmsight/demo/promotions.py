"""E-commerce promotions: the festival campaigns and the everyday SKU deals.

Every promotion is a row of `ecommerce/promotions.csv`, and the same rows drive
demand: an item sold on a platform during a promotion that covers it carries the
discount, and its demand is lifted by exp(ELASTICITY × discount). When several
promotions cover an item, the largest discount applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from wmsight.demo.calendar import spring_festival
from wmsight.demo.products import Catalogue
from wmsight.demo.schema import PLATFORMS
from wmsight.demo.timeline import Timeline

ELASTICITY = 2.5  # demand lift per unit of discount fraction: 20 % off → ×1.65
SKU_PROMOS_PER_DAY = 0.25  # at 300 SKUs; grows with the catalogue
PLANNING_HORIZON_DAYS = 21  # promotions are announced up to three weeks ahead


@dataclass(frozen=True)
class Promotions:
    frame: pl.DataFrame  # promotions.csv columns + _known_at
    discount_pct: np.ndarray  # (n_platform, n_sku, n_day) float32, 0 = no promotion

    def lift(self, platform: int) -> np.ndarray:
        """(n_sku, n_day) demand multiplier on one platform."""
        return np.exp(ELASTICITY * self.discount_pct[platform] / 100.0)


def _festivals(timeline: Timeline, rng: np.random.Generator) -> list[dict]:
    """Storewide campaigns: 年货节, 618, 双11, 双12, for every year of the history."""
    rows: list[dict] = []
    last = timeline.end + timedelta(days=PLANNING_HORIZON_DAYS)
    for year in range(timeline.start.year, last.year + 1):
        sf = spring_festival(year)
        rows.append(
            {
                "platform": None,
                "sku": None,
                "starts_on": sf - timedelta(days=21),
                "ends_on": sf - timedelta(days=8),
                "discount_pct": 8.0,
            }
        )
        for platform, pct in (
            ("tmall", 10.0),
            ("jd", 15.0),
            ("pinduoduo", 12.0),
            ("douyin", 10.0),
            ("own_site", 8.0),
        ):
            rows.append(
                {
                    "platform": platform,
                    "sku": None,
                    "starts_on": date(year, 6, 1),
                    "ends_on": date(year, 6, 18),
                    "discount_pct": pct,
                }
            )
        rows.append(
            {
                "platform": None,
                "sku": None,
                "starts_on": date(year, 11, 1),
                "ends_on": date(year, 11, 11),
                "discount_pct": float(rng.choice([15, 18, 20])),
            }
        )
        rows.append(
            {
                "platform": "tmall",
                "sku": None,
                "starts_on": date(year, 12, 10),
                "ends_on": date(year, 12, 12),
                "discount_pct": 10.0,
            }
        )
    return [r for r in rows if r["ends_on"] >= timeline.start and r["starts_on"] <= last]


def _sku_deals(cat: Catalogue, timeline: Timeline, rng: np.random.Generator) -> list[dict]:
    """Short deals on one SKU (popular ones more often), on one platform or all."""
    horizon = timeline.n_days + PLANNING_HORIZON_DAYS
    n = rng.poisson(SKU_PROMOS_PER_DAY * horizon * (cat.n / 300) ** 0.8)
    weights = np.sqrt(cat.popularity)
    skus = rng.choice(cat.n, size=n, p=weights / weights.sum())
    rows: list[dict] = []
    for s in skus:
        lo = max(int(cat.intro_day[s]), 0)
        hi = min(int(cat.discontinue_day[s]) - 10, horizon - 3)
        if hi <= lo:
            continue
        start = int(rng.integers(lo, hi))
        length = int(rng.integers(3, 11))
        pct = float(
            rng.choice(
                [10, 12.5, 15, 20, 25, 30, 35, 40], p=[0.2, 0.05, 0.2, 0.2, 0.15, 0.1, 0.05, 0.05]
            )
        )
        platform = None if rng.random() < 0.3 else PLATFORMS[rng.integers(len(PLATFORMS))]
        rows.append(
            {
                "platform": platform,
                "sku": cat.sku[s],
                "starts_on": timeline.date_of(start),
                "ends_on": timeline.date_of(start + length - 1),
                "discount_pct": pct,
            }
        )
    return rows


def build_promotions(cat: Catalogue, timeline: Timeline, rng: np.random.Generator) -> Promotions:
    rows = _festivals(timeline, rng) + _sku_deals(cat, timeline, rng)
    # announced 3–21 days before the start; ids follow announcement order
    for r in rows:
        lead = int(rng.integers(3, PLANNING_HORIZON_DAYS + 1))
        r["_known_day"] = timeline.day_of(r["starts_on"]) - lead
        r["_known_second"] = int(rng.integers(9 * 3600, 18 * 3600))
    rows.sort(
        key=lambda r: (r["_known_day"], r["_known_second"], str(r["sku"]), str(r["platform"]))
    )

    n_days = timeline.n_days
    pct = np.zeros((len(PLATFORMS), cat.n, n_days), dtype=np.float32)
    sku_index = {s: i for i, s in enumerate(cat.sku)}
    for r in rows:
        a = max(timeline.day_of(r["starts_on"]), 0)
        b = min(timeline.day_of(r["ends_on"]), n_days - 1) + 1
        if b <= a:
            continue
        plats = [PLATFORMS.index(r["platform"])] if r["platform"] else range(len(PLATFORMS))
        skus = [sku_index[r["sku"]]] if r["sku"] else slice(None)
        for p in plats:
            view = pct[p, skus, a:b]
            np.maximum(view, r["discount_pct"], out=view)
            pct[p, skus, a:b] = view

    known = timeline.seconds(
        np.array([r["_known_day"] for r in rows], dtype=np.int64),
        np.array([r["_known_second"] for r in rows], dtype=np.int64),
    )
    frame = pl.DataFrame(
        {
            "promo_id": [f"PR{i + 1:05d}" for i in range(len(rows))],
            "platform": pl.Series([r["platform"] for r in rows], dtype=pl.Utf8),
            "sku": pl.Series([r["sku"] for r in rows], dtype=pl.Utf8),
            "starts_on": pl.Series([r["starts_on"] for r in rows], dtype=pl.Date),
            "ends_on": pl.Series([r["ends_on"] for r in rows], dtype=pl.Date),
            "discount_pct": [r["discount_pct"] for r in rows],
            "_known_at": known,
        }
    )
    return Promotions(frame=frame, discount_pct=pct)
