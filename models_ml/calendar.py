"""The Chinese retail calendar as forecast inputs: public holidays and shopping festivals.

Public holidays come from the `holidays` library (country CN: New Year, Qingming,
Labour Day, Dragon Boat, Mid-Autumn, National Day and their substituted days off).
Spring Festival is modelled as four windows around 正月初一 (the stocking-up weeks
before it, the eve week, the holiday week, the slow restart), and the e-commerce
festivals as their usual windows: 618 (pre-sale 1–17 June, the day itself), 双11
(pre-sale from 24 October, warm-up 1–10 November, the day, the tail) and 双12.
Each named window is one Prophet holiday (one effect shared by all its days), so a
festival costs the model one parameter, not one per day.
"""

from __future__ import annotations

from datetime import date, timedelta

import holidays
import polars as pl

SPRING_FESTIVAL_NAME = "Chinese New Year (Spring Festival)"
# (name, first offset, last offset) in days from 正月初一
SPRING_FESTIVAL_WINDOWS = (
    ("pre_spring_festival", -21, -8),
    ("spring_festival_eve", -7, -1),
    ("spring_festival", 0, 6),
    ("post_spring_festival", 7, 14),
)


def _festival_windows(year: int) -> list[tuple[str, date, date]]:
    return [
        ("618_presale", date(year, 6, 1), date(year, 6, 17)),
        ("618", date(year, 6, 18), date(year, 6, 18)),
        ("double11_presale", date(year, 10, 24), date(year, 10, 31)),
        ("double11_warmup", date(year, 11, 1), date(year, 11, 10)),
        ("double11", date(year, 11, 11), date(year, 11, 11)),
        ("double11_tail", date(year, 11, 12), date(year, 11, 13)),
        ("double12", date(year, 12, 10), date(year, 12, 12)),
    ]


def _public_holiday_name(name: str) -> str | None:
    if name.startswith("Chinese New Year"):
        return None  # covered by the Spring Festival windows
    if name.startswith("Day off"):
        return "day_off"
    return name.replace(" (observed)", "").lower().replace(" ", "_").replace("'", "")


def calendar_events(start: date, end: date) -> pl.DataFrame:
    """One row per (event, day) between start and end: columns `holiday`, `ds` (date).

    When windows overlap (a public holiday inside a festival window), the day carries
    both events; Prophet adds their effects.
    """
    years = list(range(start.year - 1, end.year + 2))
    cn = holidays.country_holidays("CN", years=years)
    rows: list[tuple[str, date]] = []
    for day, name in sorted(cn.items()):
        label = _public_holiday_name(name)
        if label is not None:
            rows.append((label, day))
    for year in years:
        new_year = min(
            (d for d, n in cn.items() if d.year == year and n == SPRING_FESTIVAL_NAME),
            default=None,
        )
        if new_year is not None:
            for label, lo, hi in SPRING_FESTIVAL_WINDOWS:
                rows += [(label, new_year + timedelta(days=k)) for k in range(lo, hi + 1)]
        for label, lo_day, hi_day in _festival_windows(year):
            rows += [(label, lo_day + timedelta(days=k)) for k in range((hi_day - lo_day).days + 1)]
    frame = pl.DataFrame(rows, schema={"holiday": pl.String, "ds": pl.Date}, orient="row")
    return frame.filter(pl.col("ds").is_between(start, end)).unique().sort("ds", "holiday")


def promotion_discounts(
    promotions: pl.DataFrame, skus: list[str], start: date, end: date
) -> pl.DataFrame:
    """Largest SKU-specific discount (a fraction, 0 = none) per SKU and day.

    Only promotions naming a SKU count: storewide campaigns run at the festivals and
    are already in `calendar_events`, and a storewide row would otherwise make the
    regressor and the festival effects the same column. A promotion on one platform
    counts for the SKU's demand at every warehouse (online orders of any region).
    Columns: sku, date, discount. Days without a promotion are absent.
    """
    empty = pl.DataFrame(schema={"sku": pl.String, "date": pl.Date, "discount": pl.Float64})
    if promotions.is_empty():
        return empty
    sku_promos = promotions.filter(
        pl.col("sku").is_not_null()
        & pl.col("sku").is_in(skus)
        & (pl.col("ends_on") >= start)
        & (pl.col("starts_on") <= end)
    )
    if sku_promos.is_empty():
        return empty
    return (
        sku_promos.with_columns(
            pl.date_ranges(
                pl.max_horizontal(pl.col("starts_on"), pl.lit(start)),
                pl.min_horizontal(pl.col("ends_on"), pl.lit(end)),
            ).alias("date"),
            (pl.col("discount_pct").cast(pl.Float64) / 100.0).alias("discount"),
        )
        .explode("date")
        .group_by("sku", "date")
        .agg(pl.col("discount").max())
        .sort("sku", "date")
    )
