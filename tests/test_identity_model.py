"""The stored identity model (int_identity_match_model): a daily build scores the new
records with the model it has, and trains again only when the schedule says so. Real
ingest and real dbt on the small shared world, copied."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
import yaml
from conftest import identity_model_module, private_copy, query
from extract_builder import write_orders

from ingest.load import ingest_extracts
from wmsight.transform import run_dbt

ROOT = Path(__file__).resolve().parents[1]
IDENTITY_MODELS_ONLY = [
    "--select",
    "+int_identity_links__probabilistic",
    "--exclude-resource-type",
    "test",
    "--exclude-resource-type",
    "unit_test",
]


def _match_model_module():
    return identity_model_module("int_identity_match_model")


STORED = {
    "config_fingerprint": "abc",
    "trained_through_drop": date(2025, 11, 30),
    "trained_on_records": 1000,
}


@pytest.mark.parametrize(
    ("stored", "changes", "retrains"),
    [
        (None, {}, True),
        (STORED, {}, False),
        (STORED, {"fingerprint": "another"}, True),
        (STORED, {"newest_drop": date(2025, 12, 6)}, False),  # six days later
        (STORED, {"newest_drop": date(2025, 12, 7)}, True),  # a week later
        (STORED, {"records": 1099}, False),
        (STORED, {"records": 1100}, True),  # grew by a tenth
        (STORED, {"records": 900}, True),  # shrank by a tenth (a source withdrawn)
        (STORED | {"trained_through_drop": None}, {}, True),  # trained before any drop
        (STORED, {"newest_drop": date(2025, 11, 29)}, True),  # its newest drop taken back
        (STORED, {"newest_drop": None}, True),  # every customer record taken back
        (STORED | {"trained_through_drop": None}, {"newest_drop": None}, False),
    ],
)
def test_the_model_is_trained_again_only_when_due(
    stored: dict | None, changes: dict, retrains: bool
) -> None:
    arguments = {
        "fingerprint": "abc",
        "newest_drop": date(2025, 11, 30),
        "records": 1000,
        "retrain_days": 7,
        "retrain_growth": 0.1,
    } | changes
    reason = _match_model_module().retrain_reason(stored, **arguments)
    assert (reason is not None) == retrains, reason


def test_the_fingerprint_follows_the_training_settings() -> None:
    module = _match_model_module()
    base = {"seed": 42, "u_max_pairs": 5e6, "prior_recall": 0.3}
    fingerprint = module.config_fingerprint(**base)
    assert module.config_fingerprint(**base) == fingerprint
    for changed in ({"seed": 43}, {"u_max_pairs": 1e6}, {"prior_recall": 0.5}):
        assert module.config_fingerprint(**base | changed) != fingerprint


def _stored_model(db_path: Path) -> tuple:
    [row] = query(
        db_path,
        "SELECT trained_through_drop, trained_on_records, config_fingerprint, settings_json "
        "FROM intermediate.int_identity_match_model",
    )
    return row


def _linked_buyer_and_order(db_path: Path, extracts: Path) -> tuple[str, str, dict]:
    """A company record the model links to an e-commerce buyer, the buyer's record key,
    and one of that buyer's orders as delivered."""
    pairs = query(
        db_path,
        "SELECT record_key_l, record_key_r FROM intermediate.int_identity_links__probabilistic "
        "WHERE record_key_l NOT LIKE 'ecommerce:%' AND record_key_r LIKE 'ecommerce:%' "
        "ORDER BY record_key_l, record_key_r",
    )
    assert pairs, "the small world has no company linked to a buyer by the model"
    for company, buyer in pairs:
        platform, buyer_id = buyer.removeprefix("ecommerce:").split(":", 1)
        for orders in sorted(extracts.glob("*/ecommerce/orders.jsonl")):
            for line in orders.read_text(encoding="utf-8").splitlines():
                order = json.loads(line)
                if order["platform"] == platform and order["buyer"]["buyer_id"] == buyer_id:
                    return company, buyer, order
    raise AssertionError("no order of a linked buyer found in the extracts")


def test_a_few_records_the_rules_all_link_still_train() -> None:
    # a first try: one customer in three systems, one mobile on every record; the rules
    # link all three pairs, more than the prior's recall allows
    columns = [
        "unique_id", "kind", "name_core", "name_short", "contact_name", "name_spoken",
        "name_spoken_script", "phone", "mobile_visible_digits", "phone_kind", "email",
        "city", "district", "province", "tax_id",
    ]  # fmt: skip
    records = [
        ("crm:CRM-1", "company", "华通贸易", "华通贸易", "王伟"),
        ("erp:C1", "company", "华通贸易", "华通贸易", None),
        ("ecommerce:tmall:tm_1", "buyer", "小王", "小王", "小王"),
    ]
    rows = [
        dict.fromkeys(columns)
        | dict(zip(columns[:5], record, strict=True))
        | {"phone": "13800138000", "mobile_visible_digits": "1388000", "phone_kind": "mobile"}
        | {"city": "杭州", "province": "浙江省"}
        for record in records
    ]
    inputs = pa.Table.from_pylist(rows, schema=pa.schema([(c, pa.string()) for c in columns]))
    project_vars = yaml.safe_load((ROOT / "dbt_project/dbt_project.yml").read_text())["vars"]
    model = _match_model_module().train(
        inputs,
        seed=project_vars["identity_splink_seed"],
        u_max_pairs=project_vars["identity_splink_u_max_pairs"],
        prior_recall=project_vars["identity_splink_prior_recall"],
    )
    assert 0 < model["probability_two_random_records_match"] < 1


def test_a_daily_build_links_new_records_with_the_stored_model(
    small_warehouse_one_drop: Path, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    db_path = private_copy(small_warehouse_one_drop, tmp_path_factory, "identity_model")
    extracts = tmp_path / "extracts"
    shutil.copytree(small_warehouse_one_drop.parent / "extracts", extracts)
    trained_through, records, fingerprint, settings_json = _stored_model(db_path)
    newest_drop = max(date.fromisoformat(p.name) for p in extracts.iterdir() if p.name[0] == "2")
    assert trained_through == newest_drop
    assert json.loads(settings_json)["probability_two_random_records_match"] > 0
    # training again in this process on the same records gives the same model, to the byte
    with duckdb.connect(str(db_path), read_only=True) as con:
        inputs = con.sql("SELECT * FROM intermediate.int_identity_match_inputs").to_arrow_table()
    project_vars = yaml.safe_load((ROOT / "dbt_project/dbt_project.yml").read_text())["vars"]
    again = _match_model_module().train(
        inputs,
        seed=project_vars["identity_splink_seed"],
        u_max_pairs=project_vars["identity_splink_u_max_pairs"],
        prior_recall=project_vars["identity_splink_prior_recall"],
    )
    assert json.dumps(again, sort_keys=True) == settings_json

    # the next day, the same buyer opens a second account on the platform
    company, buyer, order = _linked_buyer_and_order(db_path, extracts)
    twin_id = order["buyer"]["buyer_id"] + "twin"
    twin = order | {
        "order_id": order["order_id"] + "T",
        "buyer": order["buyer"] | {"buyer_id": twin_id},
    }
    write_orders(extracts, str(newest_drop + timedelta(days=1)), [twin])
    ingest_extracts(extracts, db_path)
    assert run_dbt(db_path, "build", IDENTITY_MODELS_ONLY).success

    # not trained again (one day, one record more), yet the new account is scored
    assert _stored_model(db_path) == (trained_through, records, fingerprint, settings_json)
    twin_key = f"ecommerce:{order['platform']}:{twin_id}"
    linked = query(
        db_path,
        "SELECT record_key_l, record_key_r FROM intermediate.int_identity_links__probabilistic "
        "WHERE ? IN (record_key_l, record_key_r)",
        [twin_key],
    )
    assert tuple(sorted((company, twin_key))) in linked, linked
    [(same_customer,)] = query(
        db_path,
        "SELECT count(DISTINCT cluster_id) = 1 FROM intermediate.int_identity_clusters "
        "WHERE record_key IN (?, ?, ?)",
        [company, buyer, twin_key],
    )
    assert same_customer

    # a week after the drop it was trained through, it is trained again on today's records
    week_later = newest_drop + timedelta(days=7)
    write_orders(
        extracts,
        str(week_later),
        [twin | {"updated_at": f"{week_later}T09:00:00+08:00", "status": "delivered"}],
    )
    ingest_extracts(extracts, db_path)
    assert run_dbt(db_path, "build", IDENTITY_MODELS_ONLY).success
    retrained_through, retrained_on, retrained_fingerprint, _ = _stored_model(db_path)
    assert retrained_through == week_later
    assert retrained_on == records + 1
    assert retrained_fingerprint == fingerprint

    # asked to, it trains at once: one more record the next day, which alone would not do it
    next_day = week_later + timedelta(days=1)
    another = twin | {
        "order_id": order["order_id"] + "U",
        "buyer": order["buyer"] | {"buyer_id": order["buyer"]["buyer_id"] + "third"},
    }
    write_orders(extracts, str(next_day), [another])
    ingest_extracts(extracts, db_path)
    retrain = ["--vars", "{identity_model_retrain: true}"]
    assert run_dbt(db_path, "build", IDENTITY_MODELS_ONLY + retrain).success
    assert _stored_model(db_path)[:2] == (next_day, records + 2)
