"""Churn alerts: every alert type fires on a constructed case and not on its near miss,
and its reason names the evidence."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from models_ml.alerts import INPUT_COLUMNS, SEVERITIES, AlertConfig, cny, raise_alerts

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
        only("no_order_90d", days_since_last_order=150, p_alive=0.6, silence_probability=0.031)
        is None
    )


def test_p_alive_drop_fires_when_crossing_the_threshold_since_the_last_run() -> None:
    alert = only("p_alive_drop", previous_p_alive=0.62, p_alive=0.41, days_since_last_order=60)
    assert alert is not None
    assert alert["reason"].startswith("P(alive) fell from 62% on 2025-11-29 to 41% (threshold 50%)")
    assert "no order for 60 days" in alert["reason"]
    # already below at the last run, still above now, or no previous run: no alert
    assert only("p_alive_drop", previous_p_alive=0.45, p_alive=0.30) is None
    assert only("p_alive_drop", previous_p_alive=0.90, p_alive=0.51) is None
    assert only("p_alive_drop", previous_p_alive=None, p_alive=0.10) is None


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
