"""True customers, their life stories, and the records each system keeps of them.

A true customer is a company (B2B account, sometimes also an online buyer) or a
person (online buyer only). Its segment decides its story: high-value accounts
order every few days in large quantities, growth accounts ramp up quarter after
quarter, churners fade and go silent months before the end. The CRM, the ERP and
the marketplaces then each hold their own, differently spelled, record of it; the
truth of who is who goes to `_truth/identity.csv`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from wmsight.demo import identity_noise as noise
from wmsight.demo.geography import PROVINCES, province_warehouse_index
from wmsight.demo.names import (
    ACCOUNT_MANAGERS,
    CRM_INDUSTRY,
    GIVEN_NAMES,
    INDUSTRIES,
    LATIN_TRADE_NAMES,
    STREETS,
    SURNAMES,
    TRADE_NAMES,
    weights,
)
from wmsight.demo.promotions import PLATFORMS
from wmsight.demo.timeline import Timeline

FAR_FUTURE_DAY = 10**6


@dataclass(frozen=True)
class Segment:
    name: str
    count: int  # at scale 1
    kind: str  # company | person
    b2b_rate: float  # ERP orders per day at an average calendar day
    lines_lambda: float  # order lines = 1 + Poisson(lines_lambda)
    packs: float  # mean extra packs per line (before the SKU's own factor)
    ecom_rate: float  # online orders per day, over all of its marketplace accounts
    on_ecom: float  # share of companies that also buy online
    churns: bool = False
    growth: tuple[float, float] = (-0.1, 0.1)  # yearly log growth of the order rate


SEGMENTS: tuple[Segment, ...] = (
    # high_value: packs are solved per account for a revenue target (orders.py)
    Segment("high_value", 30, "company", 0.26, 7.0, 0.0, 0.0, 0.0, growth=(0.0, 0.15)),
    Segment("growth", 110, "company", 0.12, 4.0, 6.0, 0.02, 0.05, growth=(0.9, 1.6)),
    Segment("regular", 520, "company", 0.035, 3.5, 6.0, 0.02, 0.10),
    Segment("small", 420, "company", 0.012, 1.5, 1.5, 0.03, 0.20),
    Segment("churner", 140, "company", 0.035, 3.0, 4.0, 0.02, 0.05, churns=True),
    Segment("prospect", 40, "company", 0.0, 0.0, 0.0, 0.0, 0.0),
    Segment("ecom_repeat", 2200, "person", 0.0, 0.0, 0.0, 1 / 24, 1.0),
    Segment("ecom_one_off", 1400, "person", 0.0, 0.0, 0.0, 0.0, 1.0),
    Segment("churner", 140, "person", 0.0, 0.0, 0.0, 1 / 20, 1.0, churns=True),
)
HIGH_VALUE_REVENUE_CNY = 5_000_000  # a high-value account sells more than this a year
CRM_COVERAGE = 0.9  # share of B2B accounts the CRM knows
ERP_LINKS_CRM = 0.4  # share of ERP accounts that carry their crm_id
SECOND_ERP_CODE = 0.05  # accounts opened twice in the ERP (another branch, another rep)
SIBLING_COMPANY = 0.08  # a different company with a confusingly similar name
PLATFORM_WEIGHTS = np.array([0.30, 0.25, 0.20, 0.15, 0.10])
COMPANY_PLATFORM_WEIGHTS = np.array([0.20, 0.45, 0.10, 0.05, 0.20])


@dataclass
class Accounts:
    """Marketplace buyer accounts (platform, buyer_id)."""

    owner: np.ndarray  # true customer index
    platform: np.ndarray  # index into PLATFORMS
    buyer_id: list[str]
    nickname: list[str]
    phone: list[str | None]
    email: list[str | None]
    share: np.ndarray  # share of the owner's online orders placed here
    one_off: np.ndarray  # bool: exactly one order in its life

    @property
    def n(self) -> int:
        return len(self.buyer_id)


@dataclass
class Population:
    tc_id: list[str]
    display_name: list[str]
    kind: np.ndarray  # "company" | "person" (object)
    segment: np.ndarray  # object
    province: np.ndarray
    city: np.ndarray  # index into the province's cities
    district: list[str]
    warehouse: np.ndarray  # serving warehouse (ERP orders and online deliveries)
    start_day: np.ndarray  # first day it can order
    end_day: np.ndarray  # planned churn: no order from this day on
    growth: np.ndarray
    anchor_day: np.ndarray  # day at which the rate equals the base rate
    b2b_rate: np.ndarray
    lines_lambda: np.ndarray
    packs: np.ndarray
    tier_discount: np.ndarray  # contract price = list × (1 − tier)
    payment_terms: np.ndarray
    late_payer: np.ndarray
    revenue_target: np.ndarray  # CNY per year, high-value accounts only
    ecom_rate: np.ndarray
    crm_id_of: list[str | None]  # CRM id of the customer, if the CRM knows it
    erp_codes: list[list[tuple[str, int]]]  # (erp_code, day opened); first = main account
    crm: pl.DataFrame = field(repr=False)  # crm/customers.csv versions + _known_at
    erp: pl.DataFrame = field(repr=False)  # erp/customers.csv versions + _known_at
    accounts: Accounts = field(repr=False)

    @property
    def n(self) -> int:
        return len(self.tc_id)

    def shape(self, idx: np.ndarray, days: np.ndarray) -> np.ndarray:
        """(len(idx), len(days)) life-story multiplier of the base order rate: zero
        before the customer starts and after it churns, exponential growth around
        the anchor day, and a fade over the last 60 days before churning."""
        d = days[None, :].astype(np.float64)
        start = self.start_day[idx, None]
        end = self.end_day[idx, None]
        alive = (d >= start) & (d < end)
        trend = np.exp(self.growth[idx, None] * (d - self.anchor_day[idx, None]) / 365.0)
        fade = np.clip((end - d) / 60.0, 0.3, 1.0)
        return np.where(alive, trend * fade, 0.0)


@dataclass
class _Person:
    surname: str
    given: str
    pinyin_surname: str
    pinyin_given: str
    mobile: str
    email: str

    @property
    def name(self) -> str:
        return self.surname + self.given


def _new_people(n: int, rng: np.random.Generator) -> list[_Person]:
    surnames = rng.choice(len(SURNAMES), size=n, p=weights(SURNAMES))
    givens = rng.choice(len(GIVEN_NAMES), size=n, p=weights(GIVEN_NAMES))
    out = []
    for si, gi in zip(surnames.tolist(), givens.tolist(), strict=True):
        s, g = SURNAMES[si], GIVEN_NAMES[gi]
        out.append(
            _Person(s[0], g[0], s[1], g[1], noise.new_mobile(rng), noise.new_email(rng, s[1], g[1]))
        )
    return out


def _segment_table(scale: float) -> list[tuple[Segment, int]]:
    out = []
    for seg in SEGMENTS:
        minimum = 2 if seg.name in ("high_value", "churner") else 1
        out.append((seg, max(minimum, round(seg.count * scale))))
    return out


def _company_names(
    provinces: np.ndarray, cities: np.ndarray, rng: np.random.Generator
) -> list[noise.CompanyName]:
    """Unique registered names for companies at the given locations. About one in
    twelve is a near-namesake of an earlier company (same trade name and place,
    another industry: 上海华通贸易有限公司 vs 上海华通物流有限公司 are different
    customers); such a company moves next to its namesake (`provinces` and `cities`
    are updated in place)."""
    n = len(provinces)
    names: list[noise.CompanyName] = []
    taken: set[str] = set()
    while len(names) < n:
        i = len(names)
        home = provinces[i], cities[i]
        ind, ind_en = INDUSTRIES[rng.integers(len(INDUSTRIES))]
        if names and rng.random() < SIBLING_COMPANY:
            m = int(rng.integers(len(names)))
            model = names[m]
            provinces[i], cities[i] = provinces[m], cities[m]
            cand = noise.CompanyName(
                model.trade,
                model.trade_pinyin,
                ind,
                ind_en,
                model.city,
                model.city_pinyin,
                model.branch,
                model.branch_pinyin,
            )
        else:
            prov = PROVINCES[provinces[i]]
            city = prov.cities[cities[i]]
            if rng.random() < 0.08:
                trade = LATIN_TRADE_NAMES[rng.integers(len(LATIN_TRADE_NAMES))]
                trade_py = trade
            else:
                trade, trade_py = TRADE_NAMES[rng.integers(len(TRADE_NAMES))]
            if rng.random() < 0.15:  # 华通贸易（上海）有限公司: a branch of a group
                short = prov.short if len(prov.cities) == 1 else city.name.removesuffix("市")
                cand = noise.CompanyName(
                    trade, trade_py, ind, ind_en, None, None, short, city.pinyin
                )
            else:
                cand = noise.CompanyName(
                    trade, trade_py, ind, ind_en, city.name, city.pinyin, None, None
                )
        if cand.canonical() in taken:
            provinces[i], cities[i] = home  # try again from the company's own place
            continue
        taken.add(cand.canonical())
        names.append(cand)
    return names


def build_population(scale: float, timeline: Timeline, rng: np.random.Generator) -> Population:
    table = _segment_table(scale)
    blocks: list[Segment] = [seg for seg, k in table for _ in range(k)]
    # interleave the segments so that nothing (ids, creation order) gives them away
    seg_of = [blocks[i] for i in rng.permutation(len(blocks))]
    n = len(seg_of)
    n_days = timeline.n_days
    kind = np.array([s.kind for s in seg_of], dtype=object)
    segment = np.array([s.name for s in seg_of], dtype=object)
    is_company = kind == "company"

    b2b_w = np.array([p.b2b_weight for p in PROVINCES])
    online_w = np.array([p.online_weight for p in PROVINCES])
    province = np.where(
        is_company,
        rng.choice(len(PROVINCES), size=n, p=b2b_w / b2b_w.sum()),
        rng.choice(len(PROVINCES), size=n, p=online_w / online_w.sum()),
    )
    n_cities = np.array([len(PROVINCES[p].cities) for p in province])
    # most live in the capital; the rest spread over the other cities listed
    city = np.where(rng.random(n) < 0.6, 0, rng.integers(0, 1 << 30, size=n) % n_cities)
    company_idx = np.flatnonzero(is_company)
    comp_province, comp_city = province[company_idx], city[company_idx]
    companies = _company_names(comp_province, comp_city, rng)
    province[company_idx], city[company_idx] = comp_province, comp_city
    company_of = dict(zip(company_idx.tolist(), companies, strict=True))
    district = [
        PROVINCES[p].cities[c].districts[rng.integers(len(PROVINCES[p].cities[c].districts))]
        for p, c in zip(province, city, strict=True)
    ]
    warehouse = province_warehouse_index()[province]

    life = _life_stories(seg_of, n_days, rng)
    b2b_rate = np.array([s.b2b_rate for s in seg_of]) * rng.lognormal(0, 0.45, n)
    b2b_rate[segment == "high_value"] = rng.uniform(0.18, 0.34, (segment == "high_value").sum())
    lines_lambda = np.array([s.lines_lambda for s in seg_of]) * rng.uniform(0.7, 1.3, n)
    packs = np.array([s.packs for s in seg_of]) * rng.lognormal(0, 0.5, n)
    tier = np.select(
        [segment == "high_value", segment == "growth", is_company],
        [rng.uniform(0.08, 0.15, n), rng.uniform(0.03, 0.08, n), rng.uniform(0.0, 0.05, n)],
        0.0,
    )
    terms = np.where(
        segment == "high_value",
        rng.choice([60, 90], n),
        rng.choice([0, 15, 30, 45, 60], n, p=[0.1, 0.1, 0.45, 0.2, 0.15]),
    )
    late = rng.random(n) < np.where(segment == "churner", 0.4, 0.15)
    target = np.where(
        segment == "high_value", HIGH_VALUE_REVENUE_CNY * rng.uniform(1.4, 3.0, n), 0.0
    )

    ecom_rate = np.array([s.ecom_rate for s in seg_of]) * rng.lognormal(-0.2, 0.7, n)
    offline = is_company & (rng.random(n) >= np.array([s.on_ecom for s in seg_of]))
    ecom_rate[offline] = 0.0  # most companies buy through their ERP account only

    people = _new_people(n, rng)  # a person, or a company's contact
    for i, name in company_of.items():  # half the contacts write from a company mailbox
        if rng.random() < 0.5:
            people[i].email = noise.company_email(rng, people[i].pinyin_surname, name.trade_pinyin)
    display = [company_of[i].canonical() if i in company_of else people[i].name for i in range(n)]
    landline = [
        noise.new_landline(rng, PROVINCES[province[i]].cities[city[i]].area_code) for i in range(n)
    ]

    crm, crm_id_of = _crm_records(
        company_of, people, landline, province, city, segment, life["start"], timeline, rng
    )
    erp, erp_codes = _erp_records(
        company_of,
        people,
        landline,
        province,
        city,
        district,
        segment,
        life["start"],
        terms,
        crm_id_of,
        timeline,
        rng,
    )
    accounts = _ecom_accounts(n, segment, company_of, people, ecom_rate, rng)

    return Population(
        tc_id=[f"TC{i + 1:06d}" for i in range(n)],
        display_name=display,
        kind=kind,
        segment=segment,
        province=province,
        city=city,
        district=district,
        warehouse=warehouse,
        start_day=life["start"],
        end_day=life["end"],
        growth=life["growth"],
        anchor_day=life["anchor"],
        b2b_rate=b2b_rate,
        lines_lambda=lines_lambda,
        packs=packs,
        tier_discount=tier,
        payment_terms=terms,
        late_payer=late,
        revenue_target=target,
        ecom_rate=ecom_rate,
        crm_id_of=crm_id_of,
        erp_codes=erp_codes,
        crm=crm,
        erp=erp,
        accounts=accounts,
    )


def _life_stories(seg_of: list[Segment], n_days: int, rng: np.random.Generator) -> dict:
    """Start, planned churn, growth and anchor day per customer."""
    n = len(seg_of)
    names = np.array([s.name for s in seg_of], dtype=object)
    start = np.where(
        rng.random(n) < 0.8, -rng.integers(1, 2000, n), rng.integers(0, max(1, n_days - 120), n)
    )
    start = np.where(names == "high_value", -rng.integers(200, 2000, n), start)
    start = np.where(names == "growth", rng.integers(-120, max(1, n_days // 2), n), start)
    start = np.where(names == "ecom_repeat", rng.integers(-400, n_days - 60, n), start)
    start = np.where(names == "ecom_one_off", rng.integers(0, n_days, n), start)

    end = np.full(n, FAR_FUTURE_DAY, dtype=np.int64)
    churns = np.array([s.churns for s in seg_of])
    # silent for at least 100 days at the end; active for at least 120 days before
    latest = n_days - 1 - 100
    churners = np.flatnonzero(churns)
    start[churners] = np.minimum(start[churners], latest - 240)
    earliest = np.maximum(start[churners] + 120, 60)
    end[churners] = earliest + (
        rng.random(len(churners)) * np.maximum(latest - earliest, 1)
    ).astype(np.int64)

    lo = np.array([s.growth[0] for s in seg_of])
    hi = np.array([s.growth[1] for s in seg_of])
    growth = rng.uniform(lo, hi)
    anchor = np.where(names == "growth", n_days - 1, n_days // 2).astype(np.float64)
    return {"start": start.astype(np.int64), "end": end, "growth": growth, "anchor": anchor}


def _second_of_business_day(rng: np.random.Generator) -> int:
    return int(rng.integers(8 * 3600 + 1800, 18 * 3600))


def _versions(
    first_day: int,
    state: dict,
    edits: list[tuple[int, dict]],
    timeline: Timeline,
    rng: np.random.Generator,
) -> list[dict]:
    """Rows for the first save of a master record and each later edit."""
    rows = []
    for day, change in [(first_day, {})] + sorted(edits, key=lambda e: e[0]):
        state = {**state, **change}
        rows.append(
            {**state, "_known_at": int(timeline.seconds(day, _second_of_business_day(rng)))}
        )
    return rows


def _edit_days(
    first_day: int, n_days: int, per_year: float, rng: np.random.Generator
) -> np.ndarray:
    lo = max(first_day + 1, 0)
    if lo >= n_days:
        return np.empty(0, dtype=np.int64)
    k = rng.poisson(per_year * (n_days - lo) / 365.0)
    return np.sort(rng.integers(lo, n_days, size=k))


def _crm_records(
    company_of: dict[int, noise.CompanyName],
    people: list[_Person],
    landline: list[str],
    province: np.ndarray,
    city: np.ndarray,
    segment: np.ndarray,
    start: np.ndarray,
    timeline: Timeline,
    rng: np.random.Generator,
) -> tuple[pl.DataFrame, list[str | None]]:
    n_days = timeline.n_days
    crm_id_of: list[str | None] = [None] * len(people)
    known = [i for i in company_of if segment[i] == "prospect" or rng.random() < CRM_COVERAGE]
    # CRM ids are issued in creation order
    created = {i: int(start[i] - rng.integers(0, 60)) for i in known}
    rows: list[dict] = []
    for seq, i in enumerate(sorted(known, key=lambda i: (created[i], i))):
        crm_id = f"CRM-{seq + 1:06d}"
        crm_id_of[i] = crm_id
        prov, person, name = PROVINCES[province[i]], people[i], company_of[i]
        cty = prov.cities[city[i]]
        day = created[i]
        phone = (
            noise.format_mobile(person.mobile, rng)
            if rng.random() < 0.7
            else noise.format_landline(landline[i], cty.area_code, rng)
        )
        state = {
            "crm_id": crm_id,
            "company_name": noise.company_variant(name, rng, "crm"),
            "contact_name": person.name if rng.random() < 0.93 else f"{person.surname}经理",
            "phone": phone,
            "email": noise.email_variant(person.email, rng) if rng.random() < 0.8 else None,
            "province": prov.name if rng.random() < 0.6 else prov.short,
            "city": cty.name if rng.random() < 0.9 else cty.name.removesuffix("市"),
            "industry": CRM_INDUSTRY[name.industry] if rng.random() < 0.9 else None,
            "account_manager": ACCOUNT_MANAGERS[rng.integers(len(ACCOUNT_MANAGERS))],
            "created_at": int(timeline.seconds(day)),
        }
        edits = []
        for d in _edit_days(day, n_days, 0.35, rng):
            r = rng.random()
            if r < 0.5:
                edits.append(
                    (
                        int(d),
                        {"account_manager": ACCOUNT_MANAGERS[rng.integers(len(ACCOUNT_MANAGERS))]},
                    )
                )
            elif r < 0.8:
                edits.append((int(d), {"phone": noise.format_mobile(person.mobile, rng)}))
            else:
                edits.append((int(d), {"email": noise.email_variant(person.email, rng)}))
        rows.extend(_versions(day, state, edits, timeline, rng))
    frame = pl.DataFrame(
        rows,
        schema={
            "crm_id": pl.Utf8,
            "company_name": pl.Utf8,
            "contact_name": pl.Utf8,
            "phone": pl.Utf8,
            "email": pl.Utf8,
            "province": pl.Utf8,
            "city": pl.Utf8,
            "industry": pl.Utf8,
            "account_manager": pl.Utf8,
            "created_at": pl.Int64,
            "_known_at": pl.Int64,
        },
    )
    return frame.with_columns(updated_at=pl.col("_known_at")), crm_id_of


def _address(prov_idx: int, city_idx: int, district: str, rng: np.random.Generator) -> str:
    city = PROVINCES[prov_idx].cities[city_idx]
    street = STREETS[rng.integers(len(STREETS))]
    number = int(rng.integers(1, 999))
    extra = (
        f"{int(rng.integers(1, 30))}栋{int(rng.integers(101, 2200))}室"
        if rng.random() < 0.5
        else ""
    )
    return f"{city.name}{district}{street}{number}号{extra}"


def _erp_records(
    company_of: dict[int, noise.CompanyName],
    people: list[_Person],
    landline: list[str],
    province: np.ndarray,
    city: np.ndarray,
    district: list[str],
    segment: np.ndarray,
    start: np.ndarray,
    terms: np.ndarray,
    crm_id_of: list[str | None],
    timeline: Timeline,
    rng: np.random.Generator,
) -> tuple[pl.DataFrame, list[list[tuple[str, int]]]]:
    n_days = timeline.n_days
    erp_codes: list[list[tuple[str, int]]] = [[] for _ in people]
    opened: list[tuple[int, int]] = []  # (day the account is opened, customer)
    tax_of: dict[int, str] = {}
    for i in company_of:
        if segment[i] == "prospect":
            continue
        division = f"{PROVINCES[province[i]].code}{city[i] + 1:02d}00"
        tax_of[i] = noise.unified_social_credit_code(rng, division)
        opened.append((int(start[i] - rng.integers(1, 15)), i))
        second = int(start[i] + rng.integers(0, 200))
        if rng.random() < SECOND_ERP_CODE and second < n_days - 1:
            opened.append((second, i))
    opened.sort()
    rows: list[dict] = []
    for seq, (day, i) in enumerate(opened):
        code = f"C{100001 + seq:06d}"
        erp_codes[i].append((code, day))
        prov, person, name = PROVINCES[province[i]], people[i], company_of[i]
        cty = prov.cities[city[i]]
        tax_id = tax_of[i]  # both accounts of a company share its licence number
        credit = {"high_value": 5_000_000, "growth": 800_000, "regular": 300_000}.get(
            segment[i], 50_000
        )
        state = {
            "erp_code": code,
            "legal_name": noise.company_variant(name, rng, "erp"),
            "tax_id": tax_id if rng.random() < 0.9 else None,
            "phone": (
                noise.format_landline(landline[i], cty.area_code, rng)
                if rng.random() < 0.6
                else noise.format_mobile(person.mobile, rng)
            ),
            "province": prov.name if rng.random() < 0.85 else prov.short,
            "city": cty.name,
            "address": _address(province[i], city[i], district[i], rng),
            "payment_terms_days": int(terms[i]),
            "credit_limit_cny": float(round(credit * rng.uniform(0.5, 2.0), -3)),
            "crm_id": crm_id_of[i] if (crm_id_of[i] and rng.random() < ERP_LINKS_CRM) else None,
        }
        edits = []
        for d in _edit_days(day, n_days, 0.3, rng):
            r = rng.random()
            if r < 0.5 or segment[i] == "growth":
                edits.append(
                    (
                        int(d),
                        {
                            "credit_limit_cny": float(
                                round(state["credit_limit_cny"] * rng.uniform(1.2, 2.0), -3)
                            )
                        },
                    )
                )
            elif r < 0.75:
                edits.append(
                    (int(d), {"address": _address(province[i], city[i], district[i], rng)})
                )
            else:
                edits.append((int(d), {"phone": noise.format_mobile(person.mobile, rng)}))
        rows.extend(_versions(day, state, edits, timeline, rng))
    frame = pl.DataFrame(
        rows,
        schema={
            "erp_code": pl.Utf8,
            "legal_name": pl.Utf8,
            "tax_id": pl.Utf8,
            "phone": pl.Utf8,
            "province": pl.Utf8,
            "city": pl.Utf8,
            "address": pl.Utf8,
            "payment_terms_days": pl.Int64,
            "credit_limit_cny": pl.Float64,
            "crm_id": pl.Utf8,
            "_known_at": pl.Int64,
        },
    )
    return frame.with_columns(updated_at=pl.col("_known_at")), erp_codes


def _buyer_id(platform: str, rng: np.random.Generator) -> str:
    if platform == "tmall":
        return f"tm_{rng.integers(10_000, 99_999_999)}"
    if platform == "jd":
        return f"jd_{rng.integers(0, 16**8):08x}"
    if platform == "pinduoduo":
        return f"pdd_{rng.integers(10**8, 10**9)}"
    if platform == "douyin":
        return f"dy_{rng.integers(10**9, 10**10)}"
    return f"u{rng.integers(100_000, 9_999_999)}"


def _platform_phone(platform: str, mobile: str, rng: np.random.Generator) -> str | None:
    """What each marketplace hands out: Tmall and Pinduoduo mask the phone, JD and
    the own web shop give it in full, Douyin often gives nothing."""
    r = rng.random()
    if platform in ("tmall", "pinduoduo"):
        return noise.mask_mobile(mobile) if r < 0.9 else None
    if platform == "douyin":
        return noise.mask_mobile(mobile) if r < 0.7 else None
    if platform == "jd":
        return mobile if r < 0.6 else noise.mask_mobile(mobile)
    return mobile if r < 0.8 else noise.format_mobile(mobile, rng)


def _ecom_accounts(
    n: int,
    segment: np.ndarray,
    company_of: dict[int, noise.CompanyName],
    people: list[_Person],
    ecom_rate: np.ndarray,
    rng: np.random.Generator,
) -> Accounts:
    owner, platform, buyer, nick, phone, email, share, one_off = [], [], [], [], [], [], [], []
    taken: set[tuple[int, str]] = set()
    is_company = np.zeros(n, dtype=bool)
    is_company[list(company_of)] = True
    # platforms without replacement, weighted: Gumbel top-k over all customers at once
    w = np.where(is_company[:, None], COMPANY_PLATFORM_WEIGHTS, PLATFORM_WEIGHTS)
    ranked = np.argsort(-(np.log(w) + rng.gumbel(size=w.shape)), axis=1)
    n_accounts = np.where(
        is_company | (segment == "ecom_one_off"),
        1,
        rng.choice([1, 2, 3], size=n, p=[0.75, 0.2, 0.05]),
    )
    for i in range(n):
        is_one_off = segment[i] == "ecom_one_off"
        if ecom_rate[i] <= 0 and not is_one_off:
            continue
        k = int(n_accounts[i])
        plats = ranked[i, :k].tolist()
        shares = [1.0] if k == 1 else [0.7] + [0.3 / (k - 1)] * (k - 1)
        person = people[i]
        for p, sh in zip(plats, shares, strict=True):
            pname = PLATFORMS[p]
            bid = _buyer_id(pname, rng)
            while (p, bid) in taken:
                bid = _buyer_id(pname, rng)
            taken.add((p, bid))
            owner.append(i)
            platform.append(p)
            buyer.append(bid)
            if i in company_of:
                nick.append(company_of[i].short() if rng.random() < 0.5 else person.name)
            else:
                nick.append(
                    noise.nickname(
                        rng,
                        person.surname,
                        person.given,
                        person.pinyin_surname + person.pinyin_given,
                    )
                )
            phone.append(_platform_phone(pname, person.mobile, rng))
            wants_email = (pname == "own_site" and rng.random() < 0.85) or (
                pname == "jd" and rng.random() < 0.15
            )
            email.append(noise.email_variant(person.email, rng) if wants_email else None)
            share.append(sh)
            one_off.append(is_one_off)
    return Accounts(
        owner=np.array(owner, dtype=np.int64),
        platform=np.array(platform, dtype=np.int64),
        buyer_id=buyer,
        nickname=nick,
        phone=phone,
        email=email,
        share=np.array(share),
        one_off=np.array(one_off, dtype=bool),
    )
