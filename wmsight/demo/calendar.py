"""Chinese retail calendar: the holidays and shopping festivals that shape demand.

Factors are multiplicative and per channel. B2B (ERP) demand follows the working
week, slumps over Spring Festival after a stocking-up surge, and spikes at month end
when distributors replenish; e-commerce peaks at 618, 双11 and 双12 and keeps
selling over public holidays. Both factor series are normalised to mean 1 over the
history, so a customer's base rate is its average daily rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

# Lunar new year (春节, 正月初一) in the Gregorian calendar.
SPRING_FESTIVAL: dict[int, date] = {
    2019: date(2019, 2, 5),
    2020: date(2020, 1, 25),
    2021: date(2021, 2, 12),
    2022: date(2022, 2, 1),
    2023: date(2023, 1, 22),
    2024: date(2024, 2, 10),
    2025: date(2025, 1, 29),
    2026: date(2026, 2, 17),
    2027: date(2027, 2, 6),
    2028: date(2028, 1, 26),
    2029: date(2029, 2, 13),
    2030: date(2030, 2, 3),
    2031: date(2031, 1, 23),
}

# Day-of-week factors, Monday first. Businesses order on working days; consumers
# shop a little more at the weekend.
B2B_WEEKDAY = np.array([1.20, 1.15, 1.10, 1.10, 1.05, 0.30, 0.12])
ECOM_WEEKDAY = np.array([0.95, 0.93, 0.95, 0.97, 1.02, 1.08, 1.10])

# Holiday labels (the truth's `holiday` flag) and their effects: (b2b, ecom).
EFFECTS: dict[str, tuple[float, float]] = {
    "pre_spring_festival": (1.45, 1.30),  # 年货 stocking-up, two weeks before the eve
    "spring_festival_eve": (0.45, 0.55),  # the last week: logistics winding down
    "spring_festival": (0.10, 0.35),  # 春节 holidays
    "post_spring_festival": (0.60, 0.80),  # factories and couriers come back slowly
    "labour_day": (0.35, 1.05),
    "national_day": (0.25, 1.10),
    "618_presale": (1.00, 1.40),
    "618": (1.00, 3.00),
    "double11_presale": (1.00, 1.25),
    "double11_warmup": (1.00, 1.60),
    "double11": (1.00, 5.00),
    "double11_tail": (1.00, 1.30),
    "double12": (1.00, 2.20),
}
MONTH_END_B2B = 1.6  # distributors replenish in the last three days of the month


@dataclass(frozen=True)
class CalendarEffects:
    """Per-day factors over the history (index 0 = first day)."""

    b2b: np.ndarray
    ecom: np.ndarray
    label: np.ndarray  # object array: holiday label or None
    spring_festival_shutdown: np.ndarray  # bool: couriers do not ship that day


def spring_festival(year: int) -> date:
    try:
        return SPRING_FESTIVAL[year]
    except KeyError:
        raise ValueError(f"no Spring Festival date for {year}; extend SPRING_FESTIVAL") from None


def holiday_label(d: date) -> str | None:
    """The calendar event a day belongs to (at most one; earlier rules win)."""
    for year in (d.year, d.year + 1):
        offset = (d - spring_festival(year)).days
        if -21 <= offset <= -8:
            return "pre_spring_festival"
        if -7 <= offset <= -1:
            return "spring_festival_eve"
        if 0 <= offset <= 6:
            return "spring_festival"
        if 7 <= offset <= 14:
            return "post_spring_festival"
    m, day = d.month, d.day
    if m == 5 and day <= 5:
        return "labour_day"
    if m == 10 and day <= 7:
        return "national_day"
    if m == 6 and day <= 17:
        return "618_presale"
    if m == 6 and day == 18:
        return "618"
    if m == 10 and day >= 24:
        return "double11_presale"
    if m == 11 and day <= 10:
        return "double11_warmup"
    if m == 11 and day == 11:
        return "double11"
    if m == 11 and day in (12, 13):
        return "double11_tail"
    if m == 12 and day in (10, 11, 12):
        return "double12"
    return None


def _yearly(day_of_year: np.ndarray, peak_day: int, amplitude: float) -> np.ndarray:
    return 1.0 + amplitude * np.cos(2 * np.pi * (day_of_year - peak_day) / 365.25)


def build_calendar(start: date, n_days: int) -> CalendarEffects:
    days = [start + timedelta(days=i) for i in range(n_days)]
    weekday = np.array([d.weekday() for d in days])
    doy = np.array([d.timetuple().tm_yday for d in days], dtype=np.float64)
    labels = np.array([holiday_label(d) for d in days], dtype=object)

    b2b = B2B_WEEKDAY[weekday] * _yearly(doy, peak_day=290, amplitude=0.12)
    ecom = ECOM_WEEKDAY[weekday] * _yearly(doy, peak_day=330, amplitude=0.08)

    for i, lab in enumerate(labels):
        if lab is not None:
            fb, fe = EFFECTS[lab]
            b2b[i] *= fb
            ecom[i] *= fe
        nxt = days[i] + timedelta(days=3)
        if nxt.month != days[i].month:  # within the last three days of the month
            b2b[i] *= MONTH_END_B2B

    shutdown = np.array([-1 <= (d - spring_festival(d.year)).days <= 5 for d in days], dtype=bool)
    return CalendarEffects(
        b2b=b2b / b2b.mean(),
        ecom=ecom / ecom.mean(),
        label=labels,
        spring_festival_shutdown=shutdown,
    )
