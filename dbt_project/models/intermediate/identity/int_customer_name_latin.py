"""A company name as one key in Latin letters, whatever the script it was written in.

Sales reps type some CRM accounts in English (Beijing Haichuan Hotel Management Co.,
Ltd.) while the ERP keeps the registered Chinese name (北京市海川酒店管理有限公司). The
English form of a Chinese company name is conventional: [city pinyin] trade name in
pinyin, the industry word translated, [(branch place in pinyin)], legal form. Both
spellings are reduced to `trade pinyin|industry|branch pinyin`: haichuan|酒店管理| for
both names above. The industry is kept (as its Chinese word), because two companies of
one trade name in one city differ in it (海川酒店管理 / 海川食品). A name whose industry
word is not in INDUSTRY_TERMS gets no key: without it the key would join such siblings.
"""

from __future__ import annotations

import re

import pyarrow as pa
from pypinyin import lazy_pinyin

# Industry words of Chinese company names and their usual English renderings
# (lower case, without spaces). Longer Chinese words first where one contains another.
INDUSTRY_TERMS: dict[str, tuple[str, ...]] = {
    "供应链管理": ("supplychainmanagement", "supplychain"),
    "五金机电": (
        "hardware&electromechanical",
        "hardwareandelectromechanical",
        "hardwareelectromechanical",
    ),
    "文化用品": ("stationery", "culturalsupplies", "officesupplies"),
    "餐饮管理": ("cateringmanagement", "catering"),
    "酒店管理": ("hotelmanagement",),
    "物业管理": ("propertymanagement",),
    "国际贸易": ("internationaltrading", "internationaltrade"),
    "进出口": ("importexport", "importandexport"),
    "信息技术": ("informationtechnology",),
    "网络科技": ("networktechnology",),
    "文化传媒": ("culturemedia", "media"),
    "房地产": ("realestate",),
    "日用品": ("dailynecessities", "dailyproducts", "householdproducts"),
    "贸易": ("trading", "trade"),
    "商贸": ("commerce", "commercial", "commerceandtrade"),
    "物流": ("logistics",),
    "科技": ("technology", "tech", "science&technology", "scienceandtechnology"),
    "电子": ("electronics", "electronic"),
    "食品": ("foods", "food", "foodstuffs"),
    "实业": ("industrial", "industry", "industries"),
    "建材": ("buildingmaterials", "buildingmaterial"),
    "医药": ("pharmaceutical", "pharmaceuticals", "pharmacy", "medicine"),
    "百货": ("departmentstore", "departmentstores"),
    "化工": ("chemical", "chemicals"),
    "机械": ("machinery",),
    "汽车": ("automobile", "automotive", "auto"),
    "服装": ("garment", "garments", "apparel", "clothing"),
    "纺织": ("textile", "textiles"),
    "包装": ("packaging",),
    "印刷": ("printing",),
    "能源": ("energy",),
    "环保": ("environmentalprotection", "environmental"),
    "农业": ("agriculture", "agricultural"),
    "建筑": ("construction",),
    "装饰": ("decoration",),
    "广告": ("advertising",),
    "咨询": ("consulting", "consultancy"),
    "投资": ("investment", "investments"),
    "软件": ("software",),
    "家具": ("furniture",),
    "电器": ("electricalappliances", "electricappliances", "appliances"),
    "塑料": ("plastics", "plastic"),
    "运输": ("transportation", "transport"),
    "仓储": ("warehousing", "storage"),
    "酒店": ("hotel",),
    "餐饮": ("food&beverage",),
}
ENGLISH_TERMS = sorted(
    ((english, chinese) for chinese, words in INDUSTRY_TERMS.items() for english in words),
    key=lambda term: -len(term[0]),
)
CHINESE_TERMS = sorted(INDUSTRY_TERMS, key=len, reverse=True)

# Places whose usual English name is not their pinyin (Harbin, not Haerbin).
PLACE_EXONYMS: dict[str, tuple[str, ...]] = {
    "哈尔滨": ("harbin",),
    "乌鲁木齐": ("urumqi", "urumchi"),
    "呼和浩特": ("hohhot",),
    "克拉玛依": ("karamay",),
    "喀什": ("kashgar", "kashi"),
    "拉萨": ("lhasa",),
    "西安": ("xian", "xi'an"),
    "香港": ("hongkong",),
    "澳门": ("macau", "macao"),
    "内蒙古": ("innermongolia",),
    "西藏": ("tibet",),
}

HAN = re.compile(r"[\u4e00-\u9fff]")
LEGAL_FORMS = re.compile(
    r"\b(co|company|corp|corporation|inc|incorporated|ltd|limited|llc|plc|group|holdings?)\b\.?"
)
BRACKET = re.compile(r"\(([^()]*)\)")


def _latin(text: str) -> str:
    """Han characters as toneless pinyin, everything else lower case; letters and digits only."""
    return re.sub(r"[^0-9a-z&]", "", "".join(lazy_pinyin(text)).lower())


def _place_names(place: str | None) -> set[str]:
    """How a place starts an English company name: its pinyin or its usual English name."""
    if not place:
        return set()
    bare = re.sub(r"(省|市|自治区|特别行政区)$", "", place)
    return {_latin(bare), *(re.sub(r"[^a-z]", "", name) for name in PLACE_EXONYMS.get(bare, ()))}


def _from_chinese(core: str) -> str | None:
    """name_core (e.g. 海川酒店管理, hrs医药, 福源物流(南京)) -> key."""
    branch = "".join(BRACKET.findall(core))
    body = BRACKET.sub("", core)
    industry = next((term for term in CHINESE_TERMS if body.endswith(term)), None)
    trade = body[: len(body) - len(industry)] if industry else ""
    if not industry or not _latin(trade):
        return None
    return f"{_latin(trade)}|{industry}|{_latin(branch)}"


def _from_english(name: str, places: list[str]) -> str | None:
    """Beijing Haichuan Hotel Management (Nanjing) Co., Ltd. -> key."""
    text = LEGAL_FORMS.sub(" ", name.lower().replace("&", " & "))
    branch = _latin("".join(BRACKET.findall(text)))
    body = re.sub(r"[^0-9a-z&]", "", BRACKET.sub("", text))
    for place in places:  # the city or province it starts with
        if body.startswith(place) and len(body) > len(place):
            body = body[len(place) :]
            break
    match = next(((en, cn) for en, cn in ENGLISH_TERMS if body.endswith(en)), None)
    if match is None or len(body) == len(match[0]):
        return None
    english, industry = match
    return f"{body[: -len(english)]}|{industry}|{branch}"


def name_latin(
    source_name: str | None, name_core: str | None, city: str | None, province: str | None
) -> str | None:
    """The key of a company name (see the module docstring); None when there is none."""
    if not source_name or not name_core:
        return None
    if HAN.search(source_name):
        return _from_chinese(name_core)
    if not re.search(r"[A-Za-z]", source_name):
        return None
    places = sorted(
        {p for p in _place_names(city) | _place_names(province) if p}, key=len, reverse=True
    )
    return _from_english(source_name, places)


def name_keys(records: pa.Table) -> pa.Table:
    """record_key, name_latin, name_is_latin for the records whose name has a key."""
    rows = records.select(["record_key", "source_name", "name_core", "city", "province"])
    keys, values, latin = [], [], []
    for row in rows.to_pylist():
        key = name_latin(row["source_name"], row["name_core"], row["city"], row["province"])
        if key is not None:
            keys.append(row["record_key"])
            values.append(key)
            latin.append(not HAN.search(row["source_name"]))
    return pa.table(
        {
            "record_key": pa.array(keys, pa.string()),
            "name_latin": pa.array(values, pa.string()),
            "name_is_latin": pa.array(latin, pa.bool_()),
        }
    )


def model(dbt, session):
    dbt.config(materialized="table")
    return name_keys(dbt.ref("int_customer_source_records").to_arrow_table())
