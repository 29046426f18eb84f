"""The SKU catalogue: what is sold, at what price, how popular, and when.

Popularity is log-normal, which gives the usual Pareto picture (about a fifth of the
SKUs make most of the revenue) and a long tail of slow, intermittent C items. Some
SKUs launch during the history and some are discontinued (their demand stops and a
new master version says so); a quarter get one list-price change.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from wmsight.demo.timeline import Timeline

POPULARITY_SIGMA = 1.45  # log-normal spread of SKU popularity (calibrated for ~80/20)
NEW_SKU_SHARE = 0.10  # launched during the history
DISCONTINUED_SHARE = 0.06
PRICE_CHANGE_SHARE = 0.25
QUALITY_ISSUE_SHARE = 0.03  # SKUs that come back with quality complaints
UNRELIABLE_SUPPLIER_SHARE = 0.15  # receipts often days late: a source of stockouts
IMPORTED_SHARE = 0.12  # imported goods: 30–45 days supplier lead time


@dataclass(frozen=True)
class Template:
    item: str
    specs: tuple[str, ...]
    season_peak_doy: int = 0  # day of year of the seasonal peak
    season_amplitude: float = 0.0
    gift: bool = False  # bought as Spring Festival gifts


@dataclass(frozen=True)
class Category:
    name: str
    b2b_weight: float  # how much B2B accounts buy of it
    ecom_weight: float
    price_median: float
    price_sigma: float
    pack_sizes: tuple[int, ...]
    shelf_life: tuple[int, int] | None  # days; None = does not expire
    lead_time: tuple[int, int]
    brands: tuple[str, ...]
    templates: tuple[Template, ...]


_SUMMER, _WINTER = 200, 15
CATEGORIES: tuple[Category, ...] = (
    Category(
        "食品饮料",
        1.0,
        1.2,
        45,
        0.7,
        (1, 6, 12, 24),
        (180, 540),
        (3, 10),
        ("禾丰", "清泉山", "麦香坊", "悠享"),
        (
            Template("矿泉水", ("550ml×24瓶", "1.5L×12瓶"), _SUMMER, 0.45),
            Template("绿茶饮料", ("500ml×15瓶", "330ml×24罐"), _SUMMER, 0.5),
            Template("苏打饼干", ("400g", "800g家庭装")),
            Template("坚果礼盒", ("1.2kg", "2kg豪华装"), gift=True),
            Template("速溶咖啡", ("30条装", "100条装")),
            Template("纯牛奶", ("250ml×12盒", "250ml×24盒"), gift=True),
            Template("方便面", ("5连包", "12桶整箱")),
            Template("红枣", ("500g", "1kg"), gift=True),
        ),
    ),
    Category(
        "日化清洁",
        1.2,
        1.0,
        35,
        0.5,
        (1, 4, 6, 12),
        (730, 1095),
        (5, 14),
        ("洁美", "净立方", "白雪兰"),
        (
            Template("洗衣液", ("3kg", "2kg×2瓶")),
            Template("洗洁精", ("1.5kg", "500g×3瓶")),
            Template("抽纸", ("3层100抽×24包", "3层120抽×18包")),
            Template("消毒液", ("1L", "2.5L")),
            Template("垃圾袋", ("50只×10卷", "100只×5卷")),
            Template("洗手液", ("500ml", "300ml×3瓶")),
        ),
    ),
    Category(
        "办公用品",
        1.6,
        0.5,
        30,
        0.8,
        (1, 5, 10, 12),
        None,
        (3, 12),
        ("文博", "墨客", "优办"),
        (
            Template("A4复印纸", ("70g 500张×5包", "80g 500张×8包")),
            Template("中性笔", ("0.5mm 黑色12支", "0.5mm 蓝色12支")),
            Template("文件夹", ("A4 双夹", "A4 10个装")),
            Template("订书机", ("12号", "省力型")),
            Template("便利贴", ("76×76mm 12本", "彩色 6本")),
            Template("硒鼓", ("CF230A", "88A 黑色")),
            Template("计算器", ("12位", "财务专用")),
        ),
    ),
    Category(
        "电子配件",
        1.0,
        1.3,
        90,
        0.8,
        (1, 5, 10),
        None,
        (7, 20),
        ("极速", "联拓", "酷点"),
        (
            Template("USB-C数据线", ("1m", "2m 快充")),
            Template("蓝牙耳机", ("入耳式 白色", "降噪版 黑色")),
            Template("移动电源", ("10000mAh", "20000mAh")),
            Template("无线鼠标", ("静音版", "办公版")),
            Template("机械键盘", ("87键 青轴", "104键 红轴")),
            Template("插线板", ("6位 1.8m", "8位 3m")),
            Template("手机支架", ("桌面款", "车载款")),
        ),
    ),
    Category(
        "家居用品",
        0.8,
        1.2,
        70,
        0.7,
        (1, 2, 4, 6),
        None,
        (7, 25),
        ("居逸", "木语", "暖家"),
        (
            Template("保温杯", ("500ml", "750ml"), _WINTER, 0.2),
            Template("收纳箱", ("60L", "35L×3个")),
            Template("纯棉毛巾", ("3条装", "5条装")),
            Template("四件套", ("1.5m床", "1.8m床")),
            Template("不粘锅", ("28cm", "32cm")),
            Template("电热毯", ("单人", "双人"), _WINTER, 0.9),
            Template("电风扇", ("落地扇", "台扇"), _SUMMER, 0.9),
        ),
    ),
    Category(
        "母婴用品",
        0.4,
        1.4,
        80,
        0.5,
        (1, 2, 4),
        (730, 1095),
        (5, 15),
        ("贝乐", "小熊宝", "安可儿"),
        (
            Template("纸尿裤", ("L码 54片", "XL码 46片")),
            Template("婴儿湿巾", ("80抽×6包", "80抽×12包")),
            Template("奶瓶", ("240ml 宽口径", "160ml")),
            Template("婴儿洗衣液", ("1L", "2L")),
        ),
    ),
    Category(
        "个护美妆",
        0.5,
        1.5,
        55,
        0.6,
        (1, 3, 6),
        (730, 1095),
        (5, 15),
        ("花漾", "本草堂", "素颜"),
        (
            Template("洗发水", ("750ml", "500ml×2瓶")),
            Template("牙膏", ("120g×3支", "180g")),
            Template("防晒霜", ("SPF50 50ml", "SPF30 100ml"), _SUMMER, 0.8),
            Template("面膜", ("10片装", "20片装")),
            Template("护手霜", ("50g×3支", "30g"), _WINTER, 0.6),
            Template("电动剃须刀", ("三刀头", "旅行款")),
        ),
    ),
    Category(
        "五金工具",
        1.4,
        0.4,
        60,
        0.9,
        (1, 5, 10, 20),
        None,
        (7, 25),
        ("固力", "锐工", "匠心"),
        (
            Template("电钻", ("12V 锂电", "20V 冲击钻")),
            Template("螺丝刀套装", ("32件", "58件")),
            Template("卷尺", ("5m", "7.5m")),
            Template("工具箱", ("三层", "手提式")),
            Template("劳保手套", ("12双", "36双")),
            Template("电工胶带", ("10卷", "20卷")),
        ),
    ),
)


@dataclass
class Catalogue:
    """One entry per SKU, as numpy arrays indexed by SKU position."""

    sku: list[str]
    name: list[str]
    category: np.ndarray  # index into CATEGORIES
    brand: list[str]
    supplier_id: list[str]
    price0: np.ndarray  # list price before the change
    price1: np.ndarray  # list price after price_change_day
    price_change_day: np.ndarray  # history day; beyond the history = no change
    cost_ratio: np.ndarray
    lead_time_days: np.ndarray
    moq: np.ndarray
    pack_size: np.ndarray
    shelf_life_days: np.ndarray  # 0 = none
    popularity: np.ndarray  # sums to 1
    b2b_affinity: np.ndarray
    ecom_affinity: np.ndarray
    packs_factor: np.ndarray  # cheap items are bought in more packs per line
    intro_day: np.ndarray  # first selling day (0 = before the history)
    discontinue_day: np.ndarray  # first day without demand (beyond history = never)
    season_peak: np.ndarray
    season_amp: np.ndarray
    gift: np.ndarray
    quality_issue: np.ndarray
    unreliable_supplier: np.ndarray
    master_known_day: np.ndarray  # day the first master row exists (may be < 0)

    @property
    def n(self) -> int:
        return len(self.sku)

    def price_on(self, sku_idx: np.ndarray, day: np.ndarray) -> np.ndarray:
        return np.where(
            day >= self.price_change_day[sku_idx], self.price1[sku_idx], self.price0[sku_idx]
        )

    def active(self, day: np.ndarray) -> np.ndarray:
        """(n_sku, n_day) bool: the SKU is on sale."""
        d = np.asarray(day)[None, :]
        return (d >= self.intro_day[:, None]) & (d < self.discontinue_day[:, None])


def _retail_price(raw: float, rng: np.random.Generator) -> float:
    """Prices look like prices: 39.9, 128, 12.50, with the odd 2-decimal one."""
    r = rng.random()
    if raw < 10:
        return round(max(raw, 1.0), 1) + (0.09 if r < 0.3 else 0.0)
    if r < 0.55:
        return float(np.floor(raw)) + 0.9
    if r < 0.85:
        return float(np.round(raw))
    return round(raw, 2)


def build_catalogue(n_sku: int, timeline: Timeline, rng: np.random.Generator) -> Catalogue:
    n_days = timeline.n_days
    cat_w = np.array([c.b2b_weight + c.ecom_weight for c in CATEGORIES])
    category = rng.choice(len(CATEGORIES), size=n_sku, p=cat_w / cat_w.sum())
    brand_supplier: dict[str, str] = {}
    names: set[str] = set()
    sku_names, brands, suppliers = [], [], []
    price0 = np.empty(n_sku)
    season_peak = np.zeros(n_sku)
    season_amp = np.zeros(n_sku)
    gift = np.zeros(n_sku, dtype=bool)
    pack = np.empty(n_sku, dtype=np.int64)
    shelf = np.zeros(n_sku, dtype=np.int64)
    lead = np.empty(n_sku, dtype=np.int64)
    for i, ci in enumerate(category):
        cat = CATEGORIES[ci]
        tpl = cat.templates[rng.integers(len(cat.templates))]
        brand = cat.brands[rng.integers(len(cat.brands))]
        spec = tpl.specs[rng.integers(len(tpl.specs))]
        name = f"{brand} {tpl.item} {spec}"
        while name in names:  # more SKUs than combinations: model codes tell them apart
            name = f"{brand} {tpl.item} {spec} {chr(65 + rng.integers(26))}{rng.integers(100, 999)}"
        names.add(name)
        sku_names.append(name)
        brands.append(brand)
        if brand not in brand_supplier:
            brand_supplier[brand] = f"SUP-{1001 + len(brand_supplier):04d}"
        suppliers.append(brand_supplier[brand])
        price0[i] = _retail_price(cat.price_median * rng.lognormal(0.0, cat.price_sigma), rng)
        season_peak[i], season_amp[i], gift[i] = tpl.season_peak_doy, tpl.season_amplitude, tpl.gift
        pack[i] = cat.pack_sizes[rng.integers(len(cat.pack_sizes))]
        if cat.shelf_life:
            shelf[i] = int(rng.integers(*cat.shelf_life) // 30 * 30)
        lead[i] = rng.integers(cat.lead_time[0], cat.lead_time[1] + 1)

    imported = rng.random(n_sku) < IMPORTED_SHARE
    lead[imported] = rng.integers(30, 46, size=int(imported.sum()))

    popularity = rng.lognormal(0.0, POPULARITY_SIGMA, size=n_sku)
    popularity /= popularity.sum()
    b2b_aff = np.array([CATEGORIES[c].b2b_weight for c in category]) * rng.lognormal(0, 0.35, n_sku)
    ecom_aff = np.array([CATEGORIES[c].ecom_weight for c in category]) * rng.lognormal(
        0, 0.35, n_sku
    )

    intro = np.zeros(n_sku, dtype=np.int64)
    is_new = rng.random(n_sku) < NEW_SKU_SHARE
    intro[is_new] = rng.integers(60, max(61, n_days - 45), size=int(is_new.sum()))
    discontinue = np.full(n_sku, n_days + 10_000, dtype=np.int64)
    is_disc = (~is_new) & (rng.random(n_sku) < DISCONTINUED_SHARE)
    discontinue[is_disc] = rng.integers(120, max(121, n_days - 20), size=int(is_disc.sum()))

    change_day = np.full(n_sku, n_days + 10_000, dtype=np.int64)
    changes = rng.random(n_sku) < PRICE_CHANGE_SHARE
    change_day[changes] = rng.integers(30, n_days, size=int(changes.sum()))
    # a launched SKU keeps its launch price for at least a month
    change_day = np.where(is_new & changes, np.maximum(change_day, intro + 30), change_day)
    factor = np.where(
        rng.random(n_sku) < 0.7, rng.uniform(1.03, 1.10, n_sku), rng.uniform(0.90, 0.97, n_sku)
    )
    price1 = np.where(
        changes, np.round(price0 * factor, 1) - np.where(price0 > 10, 0.1, 0.0), price0
    )
    price1 = np.maximum(np.round(price1, 2), 0.5)

    median_price = float(np.median(price0))
    moq = pack * rng.choice([1, 2, 5, 10], size=n_sku, p=[0.4, 0.3, 0.2, 0.1])
    known = np.where(
        is_new,
        np.maximum(intro - rng.integers(7, 30, size=n_sku), 0),
        -rng.integers(30, 1500, size=n_sku),
    )
    return Catalogue(
        sku=[f"SKU-{i + 1:05d}" for i in range(n_sku)],
        name=sku_names,
        category=category,
        brand=brands,
        supplier_id=suppliers,
        price0=price0,
        price1=price1,
        price_change_day=change_day,
        cost_ratio=rng.uniform(0.45, 0.80, size=n_sku),
        lead_time_days=lead,
        moq=moq,
        pack_size=pack,
        shelf_life_days=shelf,
        popularity=popularity,
        b2b_affinity=b2b_aff,
        ecom_affinity=ecom_aff,
        packs_factor=np.clip(np.sqrt(median_price / price0), 0.25, 4.0),
        intro_day=intro,
        discontinue_day=discontinue,
        season_peak=season_peak,
        season_amp=season_amp,
        gift=gift,
        quality_issue=rng.random(n_sku) < QUALITY_ISSUE_SHARE,
        unreliable_supplier=rng.random(n_sku) < UNRELIABLE_SUPPLIER_SHARE,
        master_known_day=known,
    )


def product_versions(cat: Catalogue, timeline: Timeline, rng: np.random.Generator) -> pl.DataFrame:
    """Every version of every product master row, with the instant it was saved.

    A version is saved when the SKU is set up, when its list price changes, when it is
    discontinued, and at occasional master-data edits (moq, name wording).
    """
    rows: list[dict] = []
    horizon = timeline.n_days
    for i in range(cat.n):
        state = {
            "sku": cat.sku[i],
            "name": cat.name[i],
            "category": CATEGORIES[cat.category[i]].name,
            "brand": cat.brand[i],
            "unit_price_cny": float(cat.price0[i]),
            "unit_cost_cny": round(float(cat.price0[i] * cat.cost_ratio[i]), 4),
            "lead_time_days": int(cat.lead_time_days[i]),
            "moq": int(cat.moq[i]),
            "pack_size": int(cat.pack_size[i]),
            "shelf_life_days": int(cat.shelf_life_days[i]) or None,
            "status": "active",
        }
        events: list[tuple[int, dict]] = [(int(cat.master_known_day[i]), {})]
        if cat.price_change_day[i] < horizon:
            p1 = float(cat.price1[i])
            events.append(
                (
                    int(cat.price_change_day[i]),
                    {
                        "unit_price_cny": p1,
                        "unit_cost_cny": round(p1 * float(cat.cost_ratio[i]), 4),
                    },
                )
            )
        if cat.discontinue_day[i] < horizon:
            events.append((int(cat.discontinue_day[i]), {"status": "discontinued"}))
        first_day = max(int(cat.master_known_day[i]), 0)
        for day in rng.integers(first_day, horizon, size=rng.poisson(0.6)):
            edit = (
                {"moq": int(cat.moq[i] * 2)}
                if rng.random() < 0.5
                else {"name": cat.name[i] + "（新包装）"}
            )
            events.append((int(day), edit))
        for day, change in sorted(events, key=lambda e: e[0]):
            state = {**state, **change}
            second = int(rng.integers(8 * 3600, 19 * 3600))
            rows.append({**state, "_known_at": int(timeline.seconds(day, second))})
    df = pl.DataFrame(rows, infer_schema_length=None)
    return df.with_columns(updated_at=pl.col("_known_at"))


def demand_weights(cat: Catalogue, timeline: Timeline, labels: np.ndarray) -> np.ndarray:
    """(n_sku, n_day) channel-independent demand weight: popularity × on-sale ×
    seasonality × Spring Festival gift boost. Channels multiply in their affinity."""
    days = np.arange(timeline.n_days)
    doy = (timeline.dates() - timeline.dates().astype("datetime64[Y]")).astype(np.int64) + 1
    season = 1.0 + cat.season_amp[:, None] * np.cos(
        2 * np.pi * (doy[None, :] - cat.season_peak[:, None]) / 365.25
    )
    gift_days = np.isin(labels, ["pre_spring_festival", "national_day"])
    gift_boost = np.where(cat.gift[:, None] & gift_days[None, :], 2.5, 1.0)
    w = cat.popularity[:, None] * season * gift_boost * cat.active(days)
    return w
