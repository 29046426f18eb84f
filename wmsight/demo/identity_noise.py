"""How one real customer gets spelled differently in each system.

Sales reps type company names into the CRM the way they say them, the ERP keeps the
legal name from the business licence (sometimes with full-width brackets from a
Chinese IME), platforms show a nickname and a masked phone. These functions produce
those variants from one canonical identity; none of them is random beyond the
generator passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wmsight.demo.names import EMAIL_DOMAINS, MOBILE_PREFIXES, NICKNAME_WORDS

_FW_OFFSET = 0xFEE0  # full-width forms: U+FF01..U+FF5E mirror ASCII 0x21..0x7E


def to_fullwidth(text: str) -> str:
    """ASCII letters, digits and brackets to their full-width forms (ＡＢＣ, （）)."""
    return "".join(chr(ord(ch) + _FW_OFFSET) if 0x21 <= ord(ch) <= 0x7E else ch for ch in text)


def to_halfwidth(text: str) -> str:
    return "".join(chr(ord(ch) - _FW_OFFSET) if 0xFF01 <= ord(ch) <= 0xFF5E else ch for ch in text)


@dataclass(frozen=True)
class CompanyName:
    """The parts of a company name as registered: [city]字号[（branch）]行业有限公司."""

    trade: str  # 华通 or a Latin acronym (ABC)
    trade_pinyin: str
    industry: str
    industry_en: str
    city: str | None  # 广州市 prefix (most companies register with their city)
    city_pinyin: str | None
    branch: str | None  # 上海 in 华通贸易（上海）有限公司
    branch_pinyin: str | None

    def canonical(self) -> str:
        if self.branch:
            return f"{self.trade}{self.industry}（{self.branch}）有限公司"
        return f"{self.city or ''}{self.trade}{self.industry}有限公司"

    def english(self) -> str:
        trade = self.trade_pinyin
        if self.branch:
            return f"{trade} {self.industry_en} ({self.branch_pinyin}) Co., Ltd."
        city = f"{self.city_pinyin} " if self.city_pinyin else ""
        return f"{city}{trade} {self.industry_en} Co., Ltd."

    def short(self) -> str:
        """What people call it: 华通贸易."""
        return f"{self.trade}{self.industry}"


def company_variant(name: CompanyName, rng: np.random.Generator, system: str) -> str:
    """A spelling of `name` as `system` (crm | erp) would hold it."""
    if system == "crm":
        if rng.random() < 0.08:
            return name.english()
        text = name.canonical()
        if name.city and rng.random() < 0.30:
            text = text.replace(name.city, "", 1)  # reps drop the city prefix
        if rng.random() < 0.05:
            text = text.replace("有限公司", " 有限公司")  # stray space
    else:
        text = name.canonical()
    if rng.random() < 0.15:
        text = text.replace("有限公司", "有限责任公司")
    if rng.random() < 0.35:
        text = text.replace("（", "(").replace("）", ")")  # half-width brackets
    if rng.random() < 0.35 and any("A" <= ch <= "Z" for ch in name.trade):
        text = text.replace(name.trade, to_fullwidth(name.trade))
    return text


# ----------------------------------------------------------------------------- phones
def new_mobile(rng: np.random.Generator) -> str:
    prefix = MOBILE_PREFIXES[rng.integers(len(MOBILE_PREFIXES))]
    return f"{prefix}{rng.integers(0, 10**8):08d}"


def new_landline(rng: np.random.Generator, area_code: str) -> str:
    first = rng.integers(2, 9)  # local numbers do not start with 0 or 1
    return f"{area_code}{first}{rng.integers(0, 10**7):07d}"


def format_mobile(number: str, rng: np.random.Generator) -> str:
    """13800138000 as people and systems write it."""
    a, b, c = number[:3], number[3:7], number[7:]
    styles = (
        number,
        f"{a}-{b}-{c}",
        f"{a} {b} {c}",
        f"+86 {a}-{b}-{c}",
        f"+86{number}",
        f"+86 {a} {b} {c}",
    )
    return styles[rng.choice(len(styles), p=[0.40, 0.15, 0.15, 0.15, 0.08, 0.07])]


def format_landline(number: str, area_code: str, rng: np.random.Generator) -> str:
    local = number[len(area_code) :]
    half = len(local) // 2
    styles = (
        f"{area_code}-{local[:half]} {local[half:]}",
        f"{area_code}-{local}",
        f"({area_code}){local}",
        f"+86 {area_code[1:]} {local[:half]} {local[half:]}",
        number,
    )
    return styles[rng.choice(len(styles), p=[0.30, 0.35, 0.15, 0.10, 0.10])]


def mask_mobile(number: str) -> str:
    """How marketplaces hand out a buyer's phone: 138****8000."""
    return f"{number[:3]}****{number[7:]}"


# ----------------------------------------------------------------------------- email
def new_email(rng: np.random.Generator, pinyin_surname: str, pinyin_given: str) -> str:
    s, g = pinyin_surname.lower(), pinyin_given.lower()
    n = rng.integers(1, 99)
    local = (f"{s}.{g}", f"{g}{s}", f"{s}{g}{n}", f"{s}_{g}", f"{g}.{s}{n}")[rng.integers(5)]
    return f"{local}@{EMAIL_DOMAINS[rng.integers(len(EMAIL_DOMAINS))]}"


def company_email(rng: np.random.Generator, pinyin_surname: str, trade_pinyin: str) -> str:
    domain = "".join(ch for ch in trade_pinyin.lower() if ch.isalnum())
    tld = ("com", "com.cn", "cn")[rng.integers(3)]
    local = (pinyin_surname.lower(), "sales", "purchase", "info")[rng.integers(4)]
    return f"{local}@{domain}.{tld}"


def email_variant(email: str, rng: np.random.Generator) -> str:
    """Mixed case and stray spaces, as typed into a CRM form."""
    out = email
    r = rng.random()
    if r < 0.25:
        out = out.upper()
    elif r < 0.55:
        local, _, domain = out.partition("@")
        out = f"{local[:1].upper()}{local[1:]}@{domain[:1].upper()}{domain[1:]}"
    if rng.random() < 0.20:
        out = (" " + out) if rng.random() < 0.5 else (out + " ")
    return out


# ----------------------------------------------------------------------------- people
def nickname(rng: np.random.Generator, surname: str, given: str, pinyin: str) -> str:
    r = rng.random()
    if r < 0.25:
        return f"小{surname}"
    if r < 0.45:
        return f"{surname}**"
    if r < 0.65:
        return f"{pinyin.lower()}_{rng.integers(10, 9999)}"
    if r < 0.85:
        return NICKNAME_WORDS[rng.integers(len(NICKNAME_WORDS))] + str(rng.integers(1, 999))
    return f"{surname}{given}"


# ----------------------------------------------------------------------------- tax id
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def unified_social_credit_code(rng: np.random.Generator, division_code: str) -> str:
    """An 18-character 统一社会信用代码 with valid check characters (GB 32100-2015):
    '9' (registered with market regulation) '1' (enterprise), the 6-digit division
    code, a 9-character organisation code (GB 11714 check) and the final check."""
    body = [int(d) for d in rng.integers(0, 10, size=8)]
    org_check = 11 - sum(w * d for w, d in zip(_ORG_WEIGHTS, body, strict=True)) % 11
    org = "".join(map(str, body)) + {10: "X", 11: "0"}.get(org_check, str(org_check))
    first17 = "91" + division_code + org
    total = sum(_USCC_CHARS.index(ch) * w for ch, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return first17 + _USCC_CHARS[(31 - total % 31) % 31]


def is_valid_uscc(code: str) -> bool:
    if len(code) != 18 or any(ch not in _USCC_CHARS for ch in code):
        return False
    total = sum(_USCC_CHARS.index(ch) * w for ch, w in zip(code[:17], _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31] == code[17]
