"""Feedback routing and the customer-experience marts, built for real on a small world.

The generated world is delivered as usual; one extra drop adds feedback whose comments we
choose (every comment the generator writes, plus edge cases), written by a known CRM
account, about a known order, or about nothing anyone knows.
"""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import query
from extract_builder import write_csv

from ingest.load import ingest_extracts
from wmsight.demo import generate_world
from wmsight.demo.feedback import COMMENTS_EN, COMMENTS_ZH
from wmsight.transform import build_warehouse

# what each of the generator's comment pools is about, as routing should see it
POOL_ROUTE = {
    "none": ("praise", "none"),
    "late": ("logistics", "logistics"),
    "wrong_item": ("wrong_item", "warehouse_operations"),
    "damaged": ("packaging", "supplier_qa"),
    "quality": ("quality", "supplier_qa"),
    "stockout": ("stockout", "planning"),
    "service": ("service", "customer_service"),
    "neutral": ("other", "triage"),
}
# neutral remarks that still name a slow delivery
NEUTRAL_BUT_SLOW = {"东西可以，物流有点慢", "Fine, a bit slow."}

# comment, score -> category, department (the issue's examples, Chinese and English)
EDGE_CASES = {
    "FBX-ZH-LATE": ("配送慢", 2, "logistics", "logistics"),
    "FBX-ZH-PACK": ("包装破损", 2, "packaging", "supplier_qa"),
    "FBX-ZH-WRONG": ("发错货", 1, "wrong_item", "warehouse_operations"),
    "FBX-ZH-STOCK": ("缺货", 2, "stockout", "planning"),
    "FBX-ZH-SERVICE": ("服务态度差", 1, "service", "customer_service"),
    "FBX-EN-LATE": ("LATE DELIVERY!!", 2, "logistics", "logistics"),
    "FBX-EN-WRONG": ("They sent the Wrong Item", 1, "wrong_item", "warehouse_operations"),
    "FBX-EN-STOCK": ("Out of stock, again", 2, "stockout", "planning"),
    # two complaints over two lines: the more severe one (service, high) owns it
    "FBX-TWO-LINES": ("配送慢\n服务态度差", 2, "service", "customer_service"),
    # a complaint outranks praise in the same comment
    "FBX-MIXED": ("包装完好，但是发错货了", 3, "wrong_item", "warehouse_operations"),
    # nothing to route on: a person triages
    "FBX-UNMATCHED": ("还行吧", 3, "other", "triage"),
    "FBX-BLANK": ("", 4, "other", "triage"),
    "FBX-WORD-INSIDE": ("the chocolate was fine", 3, "other", "triage"),
    "FBX-FORMULA": ("=HYPERLINK('http://x')", 3, "other", "triage"),
    # praise under a score of 1 contradicts itself: triage, high
    "FBX-PRAISE-LOW": ("很满意", 1, "other", "triage"),
}


def _first_row(path: Path) -> dict[str, str]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return next(csv.DictReader(f))


def _pool_rows() -> list[tuple[str, str, int, str, str]]:
    """(feedback_id, comment, score, category, department) for every generator comment."""
    rows = []
    for language, pools in (("ZH", COMMENTS_ZH), ("EN", COMMENTS_EN)):
        for pool, comments in pools.items():
            for i, comment in enumerate(comments):
                category, department = POOL_ROUTE[pool]
                if comment in NEUTRAL_BUT_SLOW:
                    category, department = "logistics", "logistics"
                score = {"none": 5, "neutral": 3}.get(pool, 2)
                rows.append((f"FBP-{language}-{pool}-{i}", comment, score, category, department))
    return rows


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("feedback")
    extracts = root / "extracts"
    generate_world(extracts, scale=0.03, seed=21, days=150, delta_drops=2)
    drops = sorted(p for p in extracts.iterdir() if p.name[0].isdigit())
    first, last = drops[0], drops[-1]
    drop = (date.fromisoformat(last.name) + timedelta(days=1)).isoformat()
    submitted = f"{drop} 10:00:00"

    crm_id = _first_row(first / "crm" / "customers.csv")["crm_id"]
    erp_order = _first_row(first / "erp" / "sales_order_lines.csv")["order_no"]
    with (first / "ecommerce" / "orders.jsonl").open(encoding="utf-8") as f:
        online_order = next(o["order_id"] for o in map(json.loads, f) if o["items"])

    def row(feedback_id: str, comment: str, score: int, **who: str | None) -> dict:
        return {
            "feedback_id": feedback_id,
            "crm_id": who.get("crm_id"),
            "order_ref": who.get("order_ref"),
            "channel": "app",
            "submitted_at": submitted,
            "score": score,
            "comment": comment,
        }

    rows = [row(fid, comment, score) for fid, comment, score, _, _ in _pool_rows()]
    rows += [row(fid, comment, score) for fid, (comment, score, _, _) in EDGE_CASES.items()]
    rows += [
        row("FBX-BY-CRM", "配送慢", 2, crm_id=crm_id, order_ref="SO-NOBODY-KNOWS"),
        row("FBX-BY-ERP-ORDER", "发错货", 1, order_ref=erp_order),
        row("FBX-BY-ONLINE-ORDER", "很满意", 5, order_ref=online_order),
        row("FBX-BY-NOBODY", "缺货", 2, crm_id="CRM-NOBODY", order_ref="SO-NOBODY-KNOWS"),
    ]
    write_csv(extracts, drop, "crm/feedback.csv", rows)

    db_path = root / "wmsight.duckdb"
    ingest_extracts(extracts, db_path)
    build_warehouse(db_path)
    return {
        "db": db_path,
        "crm_id": crm_id,
        "erp_order": erp_order,
        "online_order": online_order,
        "drop": drop,
    }


def _routes(db: Path) -> dict[str, tuple]:
    return {
        fid: tuple(rest)
        for fid, *rest in query(
            db,
            "SELECT feedback_id, category, department, severity, severity_reason, "
            "customer_key, customer_match, warehouse_id FROM marts.fct_feedback",
        )
    }


def test_every_feedback_is_routed_exactly_once(world: dict) -> None:
    db = world["db"]
    [(loaded, routed, distinct_routed, unrouted)] = query(
        db,
        """
        SELECT (SELECT count(DISTINCT feedback_id) FROM raw.crm__feedback),
               count(*), count(DISTINCT feedback_id),
               count(*) FILTER (WHERE category IS NULL OR department IS NULL
                                OR severity IS NULL OR customer_key IS NULL)
        FROM marts.fct_feedback""",
    )
    assert loaded == routed == distinct_routed > len(EDGE_CASES)
    assert unrouted == 0
    # a category always goes to the same department
    assert (
        query(
            db,
            "SELECT category FROM marts.fct_feedback GROUP BY category "
            "HAVING count(DISTINCT department) > 1",
        )
        == []
    )


@pytest.mark.parametrize("case", sorted(EDGE_CASES))
def test_known_comments_route_to_their_department(world: dict, case: str) -> None:
    comment, _, category, department = EDGE_CASES[case]
    assert _routes(world["db"])[case][:2] == (category, department), comment


def test_every_comment_the_generator_writes_routes_as_its_issue(world: dict) -> None:
    routes = _routes(world["db"])
    wrong = {
        comment: (routes[fid][:2], (category, department))
        for fid, comment, _, category, department in _pool_rows()
        if routes[fid][:2] != (category, department)
    }
    assert wrong == {}


def test_unmatched_comments_go_to_triage_as_other(world: dict) -> None:
    rows = query(
        world["db"],
        """
        SELECT category, department, count(*) FROM marts.fct_feedback
        WHERE matched_keyword IS NULL GROUP BY ALL""",
    )
    assert [(c, d) for c, d, _ in rows] == [("other", "triage")]


def test_severity_is_explained_and_follows_the_score(world: dict) -> None:
    routes = _routes(world["db"])
    assert routes["FBX-PRAISE-LOW"][2] == "high"  # score 1
    assert routes["FBX-ZH-WRONG"][2] == "high"  # 发错 is a high-severity keyword
    assert routes["FBX-ZH-PACK"][2] == "medium"  # keyword medium, score 2 medium
    assert routes["FBX-UNMATCHED"][2] == "low"
    assert "发错" in routes["FBX-ZH-WRONG"][3]
    [(missing_reason, score_one_not_high)] = query(
        world["db"],
        """
        SELECT count(*) FILTER (WHERE severity_reason IS NULL),
               count(*) FILTER (WHERE score = 1 AND severity <> 'high')
        FROM marts.fct_feedback""",
    )
    assert (missing_reason, score_one_not_high) == (0, 0)


def test_customer_key_resolves_through_the_single_customer_view(world: dict) -> None:
    db, routes = world["db"], _routes(world["db"])
    [(crm_customer,)] = query(
        db,
        "SELECT customer_key FROM marts.customer_identity_map "
        "WHERE source_system = 'crm' AND source_id = ?",
        [world["crm_id"]],
    )
    assert routes["FBX-BY-CRM"][4:6] == (crm_customer, "crm_id")
    for case, order in (
        ("FBX-BY-ERP-ORDER", world["erp_order"]),
        ("FBX-BY-ONLINE-ORDER", world["online_order"]),
    ):
        [(order_customer, warehouse)] = query(
            db,
            "SELECT DISTINCT customer_key, warehouse_key FROM marts.fct_order_lines "
            "WHERE order_id = ?",
            [order],
        )
        assert routes[case][4:] == (order_customer, "order", warehouse)
    assert routes["FBX-BY-NOBODY"][4:] == ("(unknown)", "unknown", None)
    # across the generated feedback: a known CRM account or a known order always resolves
    [(unresolved_but_known,)] = query(
        db,
        """
        SELECT count(*) FROM marts.fct_feedback AS f
        WHERE f.customer_key = '(unknown)'
          AND (EXISTS (SELECT 1 FROM marts.customer_identity_map AS m
                       WHERE m.source_system = 'crm' AND m.source_id = f.crm_id)
               OR EXISTS (SELECT 1 FROM marts.fct_order_lines AS o
                          WHERE o.order_id = f.order_ref AND o.customer_key <> '(unknown)'))""",
    )
    assert unresolved_but_known == 0
    [(generated, resolved)] = query(
        db,
        "SELECT count(*), count(*) FILTER (WHERE customer_key <> '(unknown)') "
        "FROM marts.fct_feedback WHERE feedback_id LIKE 'FB0%'",
    )
    assert resolved > 0.8 * generated


def test_customer_experience_has_one_row_per_customer_within_bounds(world: dict) -> None:
    db = world["db"]
    [(customers, rows, distinct, bad_satisfaction, bad_return, with_feedback)] = query(
        db,
        """
        SELECT (SELECT count(*) FROM marts.dim_customer), count(*),
               count(DISTINCT customer_key),
               count(*) FILTER (WHERE NOT avg_satisfaction BETWEEN 1 AND 5
                                OR NOT satisfaction_rate BETWEEN 0 AND 1),
               count(*) FILTER (WHERE return_rate < 0),
               count(*) FILTER (WHERE feedback_count > 0)
        FROM marts.fct_customer_experience""",
    )
    assert customers == rows == distinct > 0
    assert (bad_satisfaction, bad_return) == (0, 0)
    assert with_feedback > 0
    # the feedback written by the known CRM account counts for its customer
    [(count,)] = query(
        db,
        """
        SELECT e.feedback_count FROM marts.fct_customer_experience AS e
        JOIN marts.fct_feedback AS f USING (customer_key)
        WHERE f.feedback_id = 'FBX-BY-CRM'""",
    )
    assert count >= 1


def test_daily_satisfaction_and_nps_agree_with_the_routed_feedback(world: dict) -> None:
    rows = query(
        world["db"],
        """
        WITH expected AS (
            SELECT submitted_on AS date,
                   avg(CAST(is_satisfied AS INTEGER)) AS satisfaction_rate,
                   (avg(CAST(nps_group = 'promoter' AS INTEGER))
                    - avg(CAST(nps_group = 'detractor' AS INTEGER))) * 100 AS nps
            FROM marts.fct_feedback GROUP BY submitted_on
        ),
        actual AS (
            SELECT date,
                   max(value) FILTER (WHERE metric = 'satisfaction_rate') AS satisfaction_rate,
                   max(value) FILTER (WHERE metric = 'nps') AS nps
            FROM marts.fct_kpi_daily
            WHERE warehouse_id = 'ALL' AND metric IN ('satisfaction_rate', 'nps')
            GROUP BY date
        )
        SELECT count(*),
               count(*) FILTER (WHERE abs(e.satisfaction_rate - a.satisfaction_rate) > 1e-9
                                OR abs(e.nps - a.nps) > 1e-9 OR a.date IS NULL)
        FROM expected AS e LEFT JOIN actual AS a USING (date)""",
    )
    [(days, differing)] = rows
    assert days > 0 and differing == 0
