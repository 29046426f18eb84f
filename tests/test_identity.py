"""The single customer view, built for real: a generated world plus one hand-written drop
of tricky records, real ingest, real `dbt build` (Splink runs inside it), measured
against the generator's truth. The world (seed 7, scale 1, plus tests/identity_cases.py)
is the session's shared `scale1_warehouse` (tests/conftest.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import Scale1Warehouse, identity_model_module, query

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from identity import measure  # noqa: E402


@pytest.fixture(scope="module")
def world(scale1_warehouse: Scale1Warehouse) -> tuple[Path, Path]:
    return scale1_warehouse.db_path, scale1_warehouse.truth / "identity.csv"


def keys_of(db_path: Path, *records: tuple[str, str]) -> dict[tuple[str, str], tuple]:
    rows = query(
        db_path,
        "SELECT source_system, source_id, customer_key, match_rule "
        "FROM marts.customer_identity_map",
    )
    found = {(s, i): (k, r) for s, i, k, r in rows}
    return {record: found[record] for record in records}


def test_clustering_matches_the_truth(world: tuple[Path, Path]) -> None:
    db_path, truth = world
    quality = measure(db_path, truth)
    assert quality.true_pairs > 1000
    assert quality.precision >= 0.99, quality
    # 0.97 is the target, out of reach here: the recall ceiling (true pairs
    # joined by any identifying value) is 0.95 on this world. The rest are a person's
    # second marketplace account with no phone and a nickname drawn afresh, sharing a
    # surname or nothing but the district with dozens of strangers (see bench/identity.py
    # and docs/BENCHMARKS.md). Measured on seed 7 without the hand-written cases: 0.9445.
    assert quality.recall >= 0.94, quality


def test_hard_negatives_stay_apart(world: tuple[Path, Path]) -> None:
    db_path, _ = world
    keys = keys_of(db_path, ("crm", "CRM-T00002"), ("erp", "C9T0002"), ("erp", "C9T0003"))
    # 上海耀华贸易 / 上海市耀华物流 / 耀华贸易（上海）: three legal entities
    assert len({key for key, _ in keys.values()}) == 3, keys


def test_a_shared_switchboard_does_not_merge_strangers(world: tuple[Path, Path]) -> None:
    db_path, _ = world
    behind = [("crm", "CRM-T00003"), ("crm", "CRM-T00004")] + [
        ("ecommerce", f"jd:jd_t{i:07d}") for i in range(8)
    ]
    keys = keys_of(db_path, *behind)
    assert len({key for key, _ in keys.values()}) == len(behind), keys
    assert {rule for _, rule in keys.values()} == {"singleton"}
    [(shared,)] = query(
        db_path,
        "SELECT bool_and(phone_is_shared) FROM intermediate.int_customer_source_records "
        "WHERE phone = '075588886666'",
    )
    assert shared


def test_placeholders_link_nobody(world: tuple[Path, Path]) -> None:
    db_path, _ = world
    # phone 0 / 00000000000, e-mail 无, tax id 000000000000000000: four companies
    records = [("crm", "CRM-T00007"), ("crm", "CRM-T00008")]
    records += [("erp", "C9T0006"), ("erp", "C9T0007")]
    keys = keys_of(db_path, *records)
    assert len({key for key, _ in keys.values()}) == len(records), keys
    assert {rule for _, rule in keys.values()} == {"singleton"}


def test_one_customer_in_three_systems_merges(world: tuple[Path, Path]) -> None:
    db_path, _ = world
    keys = keys_of(
        db_path, ("crm", "CRM-T00001"), ("erp", "C9T0001"), ("ecommerce", "tmall:tm_t00001")
    )
    assert len({key for key, _ in keys.values()}) == 1, keys
    # CRM and ERP share a phone; the Tmall buyer is named after the company, in its city
    assert keys[("crm", "CRM-T00001")][1] == "phone"
    assert keys[("ecommerce", "tmall:tm_t00001")][1] == "company_name"


def test_a_phone_written_two_ways_links(world: tuple[Path, Path]) -> None:
    db_path, _ = world
    keys = keys_of(db_path, ("crm", "CRM-T00005"), ("erp", "C9T0004"))
    # +86 (0)571 8765 4321 and 0571-87654321-808 / 0571-87654320: one number, 057187654321
    assert len({key for key, _ in keys.values()}) == 1, keys
    assert keys[("crm", "CRM-T00005")][1] == "phone"


def test_an_erp_account_names_its_crm_account_as_typed(world: tuple[Path, Path]) -> None:
    db_path, _ = world
    keys = keys_of(db_path, ("crm", "CRM-T00006"), ("erp", "C9T0005"))
    # crm_id typed ｃｒｍ-t 00006 in the ERP: the CRM's CRM-T00006 all the same
    assert len({key for key, _ in keys.values()}) == 1, keys
    assert keys[("erp", "C9T0005")][1] == "crm_id"


def test_every_customer_is_one_dim_row(world: tuple[Path, Path]) -> None:
    db_path, _ = world
    [(mapped, customers, listed)] = query(
        db_path,
        """
        SELECT (SELECT count(DISTINCT customer_key) FROM marts.customer_identity_map),
               (SELECT count(*) FROM marts.dim_customer),
               (SELECT sum(len(crm_ids) + len(erp_codes) + len(buyer_ids))
                FROM marts.dim_customer)""",
    )
    [(records,)] = query(db_path, "SELECT count(*) FROM marts.customer_identity_map")
    assert mapped == customers and listed == records
    [(name, region, erp_codes)] = query(
        db_path,
        """
        SELECT d.display_name, d.region, d.erp_codes FROM marts.dim_customer AS d
        JOIN marts.customer_identity_map AS m USING (customer_key)
        WHERE m.source_system = 'crm' AND m.source_id = 'CRM-T00001'""",
    )
    assert (name, region, erp_codes) == ("深圳鹏程科技有限责任公司", "华南", ["C9T0001"])


def _name_latin_module():
    return identity_model_module("int_customer_name_latin")


@pytest.mark.parametrize(
    ("english", "chinese", "core", "city", "province"),
    [
        (
            "Beijing Haichuan Hotel Management Co., Ltd.",
            "北京市海川酒店管理有限公司", "海川酒店管理", "北京", "北京市",
        ),
        (
            "Fuyuan Logistics (Nanjing) Co., Ltd.",
            "福源物流（南京）有限公司", "福源物流(南京)", "南京", "江苏省",
        ),
        (
            "Kunming Lianhua Hardware & Electromechanical Co., Ltd.",
            "昆明市联华五金机电有限公司", "联华五金机电", "昆明", "云南省",
        ),
        (
            "Dalian HRS Pharmaceutical Co., Ltd.",
            "大连市ＨＲＳ医药有限公司", "hrs医药", "大连", "辽宁省",
        ),
        (
            "Harbin Xinsheng Electronics Co., Ltd.",
            "哈尔滨市鑫盛电子有限公司", "鑫盛电子", "哈尔滨", "黑龙江省",
        ),
        (
            "Chongqing Wantong Foods Company Limited",
            "重庆万通食品有限责任公司", "万通食品", "重庆", "重庆市",
        ),
    ],
)  # fmt: skip
def test_an_english_company_name_has_the_key_of_its_chinese_name(
    english: str, chinese: str, core: str, city: str, province: str
) -> None:
    name_latin = _name_latin_module().name_latin
    key = name_latin(chinese, core, city, province)
    assert key is not None
    assert name_latin(english, english.lower(), city, province) == key


def test_latin_keys_keep_industry_and_branch_apart() -> None:
    name_latin = _name_latin_module().name_latin
    foods = name_latin("Beijing Haichuan Foods Co., Ltd.", "x", "北京", "北京市")
    assert foods != name_latin("北京市海川酒店管理有限公司", "海川酒店管理", "北京", "北京市")
    assert name_latin("Haichuan Foods (Shanghai) Co., Ltd.", "x", "上海", "上海市") != name_latin(
        "上海海川食品有限公司", "海川食品", "上海", "上海市"
    )
    # a person's name, or a name without a known industry word, has no key
    assert name_latin("王伟", "王伟", "北京", "北京市") is None
    assert name_latin("Sunny", "sunny", "北京", "北京市") is None


@pytest.mark.parametrize(
    ("name", "spoken"),
    [
        ("陈娜", ("chenna", "han")),
        ("chenna_6954", ("chenna", "latin")),
        ("Chen.Na 88", ("chenna", "latin")),
        ("曾伟", ("zengwei", "han")),  # a surname's own reading, not the everyday ceng
        ("小曾", ("xiaozeng", "han")),
        ("陈**", None),  # a masked name says only the surname
        ("陈na", None),
        ("ab_12", None),
        (None, None),
    ],
)
def test_a_person_name_is_keyed_as_it_is_said(name: str | None, spoken: tuple | None) -> None:
    assert _name_latin_module().spoken_name(name) == spoken
