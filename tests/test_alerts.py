"""Churn alerts: every alert type fires on a constructed case and not on its near miss,
and its reason names the evidence. The rule engine (rule_actions): happy path, every
kind of bad rule, and an attempt to inject SQL through a value."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import polars as pl
import pytest

from models_ml.alerts import INPUT_COLUMNS, SEVERITIES, AlertConfig, cny, raise_alerts
from models_ml.rules import (
    DEFAULT_RULES,
    RuleError,
    compile_condition,
    evaluate_rules,
    load_rules,
    parse_rules,
)

AS_OF = date(2025, 11, 30)

# a steady, healthy customer: no rule fires on it
CALM = {
    "customer_key": "C",
    "p_alive": 0.97,
    "silence_probability": 0.6,
    "previous_p_alive": 0.98,
    "previous_as_of": date(2025, 11, 29),
    "purchases": 30,
    "days_since_last_order": 10,
    "median_recent_gap_days": 21.0,
    "revenue_12m_cny": 800_000.0,
    "revenue_q0_cny": 200_000.0,
    "revenue_q1_cny": 200_000.0,
    "revenue_q2_cny": 200_000.0,
    "tier": "regular",
    "previous_tier": "regular",
    "negative_feedback": 0,
    "negative_feedback_topics": None,
}


def alerts_for(**changes) -> pl.DataFrame:
    row = CALM | changes
    frame = pl.DataFrame([row], schema=INPUT_COLUMNS)
    return raise_alerts(frame, AS_OF)


def only(alert_type: str, **changes) -> dict | None:
    found = alerts_for(**changes).filter(pl.col("alert_type") == alert_type)
    return found.row(0, named=True) if found.height else None


def test_a_calm_customer_raises_nothing() -> None:
    assert alerts_for().is_empty()


def test_no_order_fires_on_an_unusual_silence_and_names_the_numbers() -> None:
    alert = only(
        "no_order_90d",
        days_since_last_order=104,
        p_alive=0.12,
        silence_probability=0.004,
        revenue_12m_cny=6_200_000.0,
    )
    assert alert is not None
    assert alert["reason"].startswith(
        "no order for 104 days; usually orders every 21 days; revenue 12 m 6.2 M CNY"
    )
    assert "P(alive) 12%" in alert["reason"]
    assert alert["severity"] == "critical"  # worth more than 5 M CNY a year
    assert alert["recommended_action"] == "churn risk: automatic follow-up call"
    assert alert["raised_on"] == AS_OF


@pytest.mark.parametrize(
    "near_miss",
    [
        {"days_since_last_order": 89, "p_alive": 0.12, "silence_probability": 0.004},
        # 120 days is usual for this customer: the model still thinks it alive
        {"days_since_last_order": 120, "p_alive": 0.8, "silence_probability": 0.2},
        # a single earlier order: no rhythm to break (the one-time-buyer rule covers it)
        {"days_since_last_order": 200, "p_alive": 0.1, "purchases": 1},
    ],
)
def test_no_order_near_misses(near_miss: dict) -> None:
    assert only("no_order_90d", **near_miss) is None


def test_no_order_on_silence_evidence_alone_names_the_chance() -> None:
    alert = only("no_order_90d", days_since_last_order=150, p_alive=0.6, silence_probability=0.01)
    assert alert is not None and "chance of such a silence if still buying 1.0%" in alert["reason"]
    assert (
        only("no_order_90d", days_since_last_order=150, p_alive=0.6, silence_probability=0.026)
        is None
    )


def test_no_order_fires_on_a_b2b_account_that_never_ordered_again() -> None:
    alert = only(
        "no_order_90d",
        purchases=1,
        days_since_last_order=235,
        p_alive=0.02,
        silence_probability=None,
        median_recent_gap_days=None,
        population="b2b",
        population_repeat_rate=0.98,
        revenue_12m_cny=5563.0,
    )
    assert alert is not None
    assert alert["reason"] == (
        "no order for 235 days; a single order so far, while 98% of first-time b2b "
        "customers order again; revenue 12 m 5.6 k CNY; P(alive) 2%"
    )
    assert alert["severity"] == "high" and alert["evidence_value"] == 235.0


@pytest.mark.parametrize(
    "near_miss",
    [
        # web buyers often buy once: a single order is no broken rhythm there
        {"population": "ecommerce", "population_repeat_rate": 0.77},
        # the return curve still gives it a fair chance to come back
        {"p_alive": 0.31},
        {"days_since_last_order": 89},
    ],
)
def test_no_order_one_time_buyer_near_misses(near_miss: dict) -> None:
    one_time_b2b = {
        "purchases": 1,
        "days_since_last_order": 235,
        "p_alive": 0.02,
        "silence_probability": None,
        "median_recent_gap_days": None,
        "population": "b2b",
        "population_repeat_rate": 0.98,
    }
    assert only("no_order_90d", **(one_time_b2b | near_miss)) is None


def test_p_alive_drop_fires_when_crossing_the_threshold_since_the_last_run() -> None:
    alert = only("p_alive_drop", previous_p_alive=0.62, p_alive=0.41, days_since_last_order=60)
    assert alert is not None
    assert alert["reason"].startswith("P(alive) fell from 62% on 2025-11-29 to 41% (threshold 50%)")
    assert "no order for 60 days" in alert["reason"]
    # already below at the last run, still above now, or no previous run: no alert
    assert only("p_alive_drop", previous_p_alive=0.45, p_alive=0.30) is None
    assert only("p_alive_drop", previous_p_alive=0.90, p_alive=0.51) is None
    assert only("p_alive_drop", previous_p_alive=None, p_alive=0.10) is None
    # a one-time buyer's P(alive) slides down the return curve by design: no alert
    assert only("p_alive_drop", previous_p_alive=0.62, p_alive=0.41, purchases=1) is None


def test_tier_downgrade_fires_on_a_lower_tier_not_on_an_equal_one() -> None:
    alert = only("tier_downgrade", previous_tier="high_value", tier="small")
    assert alert is not None and alert["severity"] == "high"
    assert alert["reason"].startswith("tier fell from high_value to small this month")
    assert only("tier_downgrade", previous_tier="growth", tier="regular") is None
    assert only("tier_downgrade", previous_tier="small", tier="regular") is None


def test_revenue_drop_fires_at_30_percent_for_high_value_customers() -> None:
    big = {"revenue_12m_cny": 7_000_000.0, "revenue_q1_cny": 2_000_000.0}
    alert = only("revenue_drop_qoq", revenue_q0_cny=1_400_000.0, **big)
    assert alert is not None
    assert alert["reason"] == (
        "revenue last 90 days 1.4 M CNY, down 30% from 2.0 M CNY the 90 days before; "
        "revenue 12 m 7.0 M CNY"
    )
    assert alert["recommended_action"] == "account manager review"
    assert only("revenue_drop_qoq", revenue_q0_cny=1_420_000.0, **big) is None  # down 29 %
    small = {"revenue_12m_cny": 4_900_000.0, "revenue_q1_cny": 2_000_000.0}
    assert only("revenue_drop_qoq", revenue_q0_cny=1_000_000.0, **small) is None


def test_repeated_negative_feedback_goes_to_a_supervisor() -> None:
    alert = only("negative_feedback", negative_feedback=2, negative_feedback_topics="delivery")
    assert alert is not None
    assert alert["reason"].startswith("2 feedback scored 2 or lower in the last 90 days (delivery)")
    assert alert["recommended_action"] == "supervisor review of the complaints"
    assert only("negative_feedback", negative_feedback=1) is None


def test_growth_customer_gets_a_promotion() -> None:
    rising = {"revenue_q2_cny": 100_000.0, "revenue_q1_cny": 120_000.0}
    alert = only("growth_customer", revenue_q0_cny=150_000.0, **rising)
    assert alert is not None and alert["severity"] == "low"
    assert "100 k CNY → 120 k CNY → 150 k CNY, last +25%" in alert["reason"]
    assert alert["recommended_action"] == "targeted promotion"
    assert only("growth_customer", revenue_q0_cny=130_000.0, **rising) is None  # +8 %
    tiny = {"revenue_q2_cny": 10_000.0, "revenue_q1_cny": 20_000.0}
    assert only("growth_customer", revenue_q0_cny=40_000.0, **tiny) is None  # too small


def test_thresholds_are_configurable_and_severities_are_the_contracts() -> None:
    frame = pl.DataFrame(
        [CALM | {"negative_feedback": 1, "negative_feedback_topics": "quality"}],
        schema=INPUT_COLUMNS,
    )
    assert raise_alerts(frame, AS_OF).is_empty()
    alerts = raise_alerts(frame, AS_OF, AlertConfig(negative_feedback_count=1))
    assert alerts["alert_type"].to_list() == ["negative_feedback"]
    assert set(alerts["severity"]) <= set(SEVERITIES)


def test_money_is_written_for_people() -> None:
    assert [cny(6_200_000), cny(48_000), cny(4_500), cny(950)] == [
        "6.2 M CNY",
        "48 k CNY",
        "4.5 k CNY",
        "950 CNY",
    ]


# ---------------------------------------------------------------------------- rule engine
@pytest.fixture
def marts() -> duckdb.DuckDBPyConnection:
    """Two customers, three orders: the columns the rule fields read."""
    con = duckdb.connect()
    con.execute("CREATE SCHEMA marts")
    con.execute("""CREATE TABLE marts.customer_segments AS SELECT * FROM (VALUES
        ('A', 'high_value', 'big', 'Champions', 6000000.0, 40, TIMESTAMP '2025-11-29 10:00'),
        ('B', 'small', 'small', 'At Risk', 20000.0, 2, TIMESTAMP '2025-05-01 10:00'))
        AS t(customer_key, tier, value_class, rfm_segment, revenue_12m_cny, orders_12m,
             last_order_at)""")
    con.execute("""CREATE TABLE marts.dim_customer AS SELECT * FROM (VALUES
        ('A', '上海市', 'East'), ('B', '广东省', 'South')) AS t(customer_key, province, region)""")
    con.execute("""CREATE TABLE marts.fct_order_lines AS SELECT * FROM (VALUES
        ('SO1', 'A', 'b2b', NULL, 'WH1', 90000.0, 10, false, false,
         TIMESTAMP '2025-11-20 09:00'),
        ('SO1', 'A', 'b2b', NULL, 'WH1', 30000.0, 5, false, false, TIMESTAMP '2025-11-20 09:00'),
        ('SO2', 'B', 'b2b', NULL, 'WH2', 5000.0, 1, false, true, TIMESTAMP '2025-05-01 10:00'),
        ('SO3', 'B', 'b2b', NULL, 'WH2', 4000.0, 1, false, true, TIMESTAMP '2025-04-01 10:00'))
        AS t(order_id, customer_key, channel, platform, warehouse_id, line_amount_cny,
             ordered_qty, is_cancelled, is_invoice_paid_late, ordered_at)""")
    return con


def test_the_default_rules_parse() -> None:
    ids = [rule.id for rule in load_rules()]
    assert {"vip_channel", "suspend_credit"} <= set(ids) and len(ids) >= 4


def test_rules_fire_on_orders_and_customers_with_a_reason(marts) -> None:
    rules = parse_rules(DEFAULT_RULES)
    actions = evaluate_rules(marts, rules, AS_OF)
    fired = {(r["customer_key"], r["rule_id"]): r for r in actions.iter_rows(named=True)}
    assert set(fired) == {("A", "vip_channel"), ("B", "suspend_credit"), ("B", "win_back_lapsed")}
    vip = fired[("A", "vip_channel")]
    assert vip["action"] == "enable_vip_channel"
    assert vip["reason"] == "order.amount_cny > 100000 — order.amount_cny = 120000.0; order SO1"
    assert vip["triggered_at"] == datetime(2025, 11, 20, 9, 0)
    assert "customer.late_payments_12m = 2.0" in fired[("B", "suspend_credit")]["reason"]
    assert fired[("B", "suspend_credit")]["triggered_at"] == datetime(2025, 11, 30)


def test_boolean_operators_and_parentheses(marts) -> None:
    rules = parse_rules(
        "- id: r1\n"
        "  when: not (customer.tier == 'small' or customer.region == 'East')"
        " or customer.orders_12m >= 40\n"
        "  then: act\n"
    )
    assert evaluate_rules(marts, rules, AS_OF)["customer_key"].to_list() == ["A"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("- id: r1\n  when: customer.credit_score > 3\n  then: act\n", "unknown field"),
        ("- id: r1\n  when: customer.tier > 3\n  then: act\n", "wrong type"),
        ("- id: r1\n  when: customer.orders_12m >= 'many'\n  then: act\n", "wrong type"),
        ("- id: r1\n  when: customer.orders_12m >=\n  then: act\n", "syntax error"),
        ("- id: r1\n  when: customer.orders_12m >= 2 and\n  then: act\n", "syntax error"),
        ("- id: r1\n  when: (customer.orders_12m >= 2\n  then: act\n", "syntax error"),
        ("- id: r1\n  when: customer.orders_12m ; 2\n  then: act\n", "syntax error"),
        ("- id: r1\n  then: act\n", "'when' is missing"),
        ("- id: r1\n  when: customer.orders_12m > 1\n  then: drop table\n", "then: an action"),
        (
            "- id: r1\n  when: customer.orders_12m > 1\n  then: a\n"
            "- id: r1\n  when: customer.orders_12m > 2\n  then: b\n",
            "duplicate id",
        ),
    ],
)
def test_a_bad_rule_fails_before_anything_runs_naming_the_rule(text: str, problem: str) -> None:
    with pytest.raises(RuleError) as error:
        parse_rules(text)
    assert error.value.rule_id == "r1"
    assert problem in str(error.value) and "rule 'r1'" in str(error.value)


def test_a_value_cannot_inject_sql(marts) -> None:
    # the quote ends the text: what follows is not a value, so the rule is refused
    with pytest.raises(RuleError, match="syntax error"):
        parse_rules("- id: r1\n  when: \"customer.tier == 'x' OR 1=1 --'\"\n  then: act\n")
    # an escaped quote stays inside the value, which reaches DuckDB only as a parameter
    rules = parse_rules(
        "- id: r1\n  when: \"customer.tier == 'x\\\\' OR 1=1; DROP TABLE marts.dim_customer; --'\""
        "\n  then: act\n"
    )
    sql, params = compile_condition(rules[0].condition)
    assert sql == "(c.tier = ?)" and params == ["x' OR 1=1; DROP TABLE marts.dim_customer; --"]
    assert evaluate_rules(marts, rules, AS_OF).is_empty()
    assert marts.execute("SELECT count(*) FROM marts.dim_customer").fetchall() == [(2,)]
