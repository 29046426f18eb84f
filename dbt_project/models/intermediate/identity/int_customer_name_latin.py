"""A company name as one key in Latin letters, whatever the script it was written in.

Sales reps type some CRM accounts in English (Beijing Haichuan Hotel Management Co.,
Ltd.) while the ERP keeps the registered Chinese name (北京市海川酒店管理有限公司). The
English form of a Chinese company name is conventional: [city pinyin] trade name in
pinyin, the industry word translated, [(branch place in pinyin)], legal form. Both
spellings are reduced to `trade pinyin|industry|branch pinyin`: haichuan|酒店管理| for
both names above. The industry is kept (as its Chinese word), because two companies of
one trade name in one city differ in it (海川酒店管理 / 海川食品). A name whose industry
word is not in INDUSTRY_TERMS gets no key: without it the key would join such siblings.

A person's name gets the same treatment: a marketplace handle is often the owner's name
in pinyin (chenna_6954) where another account or the CRM's contact has it in characters
(陈娜). `name_spoken` is the name as it is said (chenna for both) and `name_spoken_script`
tells which way it was written, so only a match across scripts says something new.
"""

from __future__ import annotations

import re
from functools import lru_cache

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

# Surnames read otherwise than the character's everyday reading (曾 is Zeng, not ceng).
SURNAME_READINGS: dict[str, str] = {
    "曾": "zeng", "单": "shan", "解": "xie", "区": "ou", "仇": "qiu", "朴": "piao",
    "查": "zha", "盖": "ge", "覃": "qin", "缪": "miao", "乐": "yue", "翟": "zhai",
    "尉": "yu", "种": "chong", "黑": "he", "繁": "po", "员": "yun", "召": "shao",
}  # fmt: skip
# 小王, 老王: what people call someone by the surname
FAMILIAR_PREFIXES = ("小", "老")

HAN = re.compile(r"[\u4e00-\u9fff]")
HAN_ONLY = re.compile(r"[\u4e00-\u9fff]{2,4}")
LATIN_NAME = re.compile(r"[a-z]{4,}")
# digits a platform appends to a taken handle, and separators inside it (liu_bin_4737)
HANDLE_NOISE = re.compile(r"[\s_.\-·]*[0-9]+$|[\s_.\-·]")
LEGAL_FORMS = re.compile(
    r"\b(co|company|corp|corporation|inc|incorporated|ltd|limited|llc|plc|group|holdings?)\b\.?"
)
BRACKET = re.compile(r"\(([^()]*)\)")


# Names, places and nicknames repeat across records (at scale 10, 69,000 records carry
# 18,000 distinct contact names): pinyin is the cost, so each distinct input is converted
# once. The caches live as long as one build's run of this model.
CACHE_SIZE = 1 << 17


@lru_cache(maxsize=CACHE_SIZE)
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


@lru_cache(maxsize=CACHE_SIZE)
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


@lru_cache(maxsize=CACHE_SIZE)
def spoken_name(name: str | None) -> tuple[str, str] | None:
    """A person's name or handle as it is said, and the script it was written in:
    陈娜 -> (chenna, han), chenna_6954 -> (chenna, latin). None for anything else (a
    masked name such as 陈**, a mix of scripts, a handle shorter than four letters)."""
    if not name:
        return None
    bare = HANDLE_NOISE.sub("", name).lower()
    if HAN_ONLY.fullmatch(bare):
        syllables = lazy_pinyin(bare)
        surname = 1 if bare.startswith(FAMILIAR_PREFIXES) else 0
        syllables[surname] = SURNAME_READINGS.get(bare[surname], syllables[surname])
        return "".join(syllables), "han"
    if LATIN_NAME.fullmatch(bare):
        return bare, "latin"
    return None


def name_keys(records: pa.Table) -> pa.Table:
    """record_key, name_latin, name_is_latin, name_spoken, name_spoken_script for every
    record (null where its name has no such key)."""
    rows = records.select(
        ["record_key", "source_name", "name_core", "contact_name", "city", "province"]
    )
    columns: dict[str, list] = {
        "record_key": [],
        "name_latin": [],
        "name_is_latin": [],
        "name_spoken": [],
        "name_spoken_script": [],
    }
    for row in rows.to_pylist():
        key = name_latin(row["source_name"], row["name_core"], row["city"], row["province"])
        spoken = spoken_name(row["contact_name"])
        columns["record_key"].append(row["record_key"])
        columns["name_latin"].append(key)
        columns["name_is_latin"].append(None if key is None else not HAN.search(row["source_name"]))
        columns["name_spoken"].append(spoken and spoken[0])
        columns["name_spoken_script"].append(spoken and spoken[1])
    types = {"name_is_latin": pa.bool_()}
    return pa.table(
        {name: pa.array(values, types.get(name, pa.string())) for name, values in columns.items()}
    )


def model(dbt, session):
    dbt.config(materialized="table")
    return name_keys(dbt.ref("int_customer_source_records").to_arrow_table())
