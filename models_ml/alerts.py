"""Churn alerts: one row per customer and alert type, with the evidence in a sentence.

`alert_inputs` gathers, per customer, everything the rules look at (the scores from
`models_ml/churn.py`, revenue in the last two quarters and 12 months, the tier history,
negative feedback, the previous run's P(alive)); `raise_alerts` applies the rules in
`AlertConfig` to that frame and nothing else, so every rule can be tested on a
hand-built row. Alert types:

- no_order_90d: a repeat customer (`no_order_min_purchases`+ order days) has not ordered
  for `no_order_days`+ days and the silence is unusual for it: P(alive) below
  `no_order_max_p_alive`, or a silence this long had a chance below
  `no_order_max_silence_probability` had it kept buying at its own rate; or a one-time
  buyer in a population where `one_time_min_repeat_rate`+ of first-time buyers order
  again (B2B accounts) whose return-curve P(alive) is below `no_order_max_p_alive` → automatic
  follow-up call;
- p_alive_drop: a repeat customer's P(alive) was at or above `p_alive_threshold` at the
  previous run and is below it now → retention offer;
- tier_downgrade: this month's tier ranks below last month's (`tier_rank`) → account
  manager check-in;
- revenue_drop_qoq: 12-month revenue of `high_value_revenue_cny`+ and the last 90 days'
  revenue down `revenue_drop_share`+ on the 90 days before → account manager review;
- negative_feedback: `negative_feedback_count`+ feedback scored `negative_score_max` or
  lower in `negative_feedback_days` days → supervisor review;
- growth_customer: revenue rose `growth_quarters` quarters in a row by `growth_min_rate`+
  each, to `growth_min_revenue_cny`+ a quarter → targeted promotion.

`CHURN_ALERT_TYPES` are the ones that say "this customer is leaving" (measured against
the generator's churners in bench/churn.py).
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl
from pydantic import BaseModel, Field

SEVERITIES = ("low", "medium", "high", "critical")
CHURN_ALERT_TYPES = ("no_order_90d", "p_alive_drop")
ALERT_COLUMNS = {
    "customer_key": pl.Utf8,
    "alert_type": pl.Utf8,
    "severity": pl.Utf8,
    "reason": pl.Utf8,
    "recommended_action": pl.Utf8,
    "raised_on": pl.Date,
    "evidence_value": pl.Float64,
}


class AlertConfig(BaseModel):
    """Thresholds of the churn alerts (defaults follow the business's tier vars)."""

    no_order_days: int = Field(90, description="days without an order before no_order_90d")
    no_order_max_p_alive: float = Field(
        0.3, description="no_order_90d only when the silence is unusual: P(alive) below this"
    )
    no_order_max_silence_probability: float = Field(
        0.025,
        description="no_order_90d also when a silence this long was this unlikely for the "
        "customer's own rate (the evidence behind P(alive), without the population prior)",
    )
    no_order_min_purchases: int = Field(
        2, description="purchases (order days) that make a customer 'active' with a rhythm"
    )
    one_time_min_repeat_rate: float = Field(
        0.9,
        description="no_order_90d for a one-time buyer only in a population where at least "
        "this share of first-time buyers order again (B2B accounts, not web one-off buyers)",
    )
    p_alive_threshold: float = Field(0.5, description="p_alive_drop: crossing below this")
    high_value_revenue_cny: float = Field(
        5_000_000, description="revenue_drop_qoq watches customers with 12-month revenue above"
    )
    revenue_drop_share: float = Field(0.30, description="quarter-on-quarter drop that alerts")
    negative_score_max: int = Field(2, description="feedback scores at or below are negative")
    negative_feedback_count: int = Field(2, description="negative feedback that alerts")
    negative_feedback_days: int = Field(90, description="window for negative feedback")
    growth_quarters: int = Field(
        2, ge=1, le=2, description="quarters of rising revenue for growth_customer"
    )
    growth_min_rate: float = Field(0.10, description="minimum rise per quarter")
    growth_min_revenue_cny: float = Field(
        50_000, description="growth_customer only from this quarterly revenue"
    )
    tier_rank: dict[str, int] = Field(
        default_factory=lambda: {
            "high_value": 4,
            "growth": 3,
            "regular": 3,
            "small": 2,
            "churn_risk": 1,
            "lapsed": 0,
        },
        description="tier order for downgrades; equal ranks (growth, regular) are no downgrade",
    )
    critical_revenue_cny: float = Field(
        5_000_000, description="12-month revenue above which a churn alert is critical"
    )
    high_revenue_cny: float = Field(
        1_000_000, description="12-month revenue above which a churn alert is high"
    )


# ---------------------------------------------------------------------------- formatting
def cny(amount: float | None) -> str:
    """6200000 -> '6.2 M CNY', 48000 -> '48 k CNY', 950 -> '950 CNY'."""
    if amount is None:
        return "n/a"
    value = abs(amount)
    if value >= 1_000_000:
        text = f"{amount / 1_000_000:.1f} M CNY"
    elif value >= 10_000:
        text = f"{amount / 1_000:.0f} k CNY"
    elif value >= 1_000:
        text = f"{amount / 1_000:.1f} k CNY"
    else:
        text = f"{amount:.0f} CNY"
    return text


def _value_severity(revenue_12m: float | None, config: AlertConfig, base: str) -> str:
    """Raise a churn alert's severity with what the customer is worth."""
    revenue = revenue_12m or 0.0
    if revenue >= config.critical_revenue_cny:
        return "critical"
    if revenue >= config.high_revenue_cny:
        return "high" if base != "critical" else base
    return base


# ---------------------------------------------------------------------------- inputs
INPUT_COLUMNS = {
    "customer_key": pl.Utf8,
    "p_alive": pl.Float64,
    "silence_probability": pl.Float64,
    "population": pl.Utf8,
    "population_repeat_rate": pl.Float64,
    "previous_p_alive": pl.Float64,
    "previous_as_of": pl.Date,
    "purchases": pl.Int64,
    "days_since_last_order": pl.Int64,
    "median_recent_gap_days": pl.Float64,
    "revenue_12m_cny": pl.Float64,
    "revenue_q0_cny": pl.Float64,  # (as_of - 90, as_of]
    "revenue_q1_cny": pl.Float64,  # (as_of - 180, as_of - 90]
    "revenue_q2_cny": pl.Float64,  # (as_of - 270, as_of - 180]
    "tier": pl.Utf8,
    "previous_tier": pl.Utf8,
    "negative_feedback": pl.Int64,
    "negative_feedback_topics": pl.Utf8,
}


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    [(found,)] = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
        [schema, name],
    ).fetchall()
    return bool(found)


def alert_inputs(
    con: duckdb.DuckDBPyConnection,
    scores: pl.DataFrame,
    as_of: date,
    config: AlertConfig | None = None,
) -> pl.DataFrame:
    """One row per scored customer with every column in INPUT_COLUMNS, from the marts and
    the previous run in ml.customer_scores_history."""
    config = config or AlertConfig()
    con.register("_scores", scores.select(INPUT_COLUMNS.keys() & set(scores.columns)).to_arrow())
    try:
        revenue = con.sql(
            """
            SELECT customer_key,
                sum(line_amount_cny) FILTER (WHERE d > ? - 365)::DOUBLE AS revenue_12m_cny,
                sum(line_amount_cny) FILTER (WHERE d > ? - 90)::DOUBLE AS revenue_q0_cny,
                sum(line_amount_cny) FILTER (WHERE d > ? - 180 AND d <= ? - 90)::DOUBLE
                    AS revenue_q1_cny,
                sum(line_amount_cny) FILTER (WHERE d > ? - 270 AND d <= ? - 180)::DOUBLE
                    AS revenue_q2_cny
            FROM (SELECT customer_key, line_amount_cny, CAST(ordered_at AS DATE) AS d
                  FROM marts.fct_order_lines
                  WHERE customer_key <> '(unknown)' AND NOT coalesce(is_cancelled, false))
            WHERE d <= ? AND d > ? - 365
            GROUP BY customer_key""",
            params=[as_of] * 8,
        ).pl()
        if _table_exists(con, "marts", "fct_customer_tier_history"):
            tiers = con.sql(
                """
                SELECT customer_key, tier, previous_tier FROM marts.fct_customer_tier_history
                WHERE month = date_trunc('month', CAST(? AS DATE))""",
                params=[as_of],
            ).pl()
        else:
            tiers = pl.DataFrame(
                schema={"customer_key": pl.Utf8, "tier": pl.Utf8, "previous_tier": pl.Utf8}
            )
        feedback = _negative_feedback(con, as_of, config)
        previous = _previous_scores(con, as_of)
    finally:
        con.unregister("_scores")
    frame = (
        scores.select([c for c in scores.columns if c in INPUT_COLUMNS])
        .join(revenue, on="customer_key", how="left")
        .join(tiers, on="customer_key", how="left")
        .join(feedback, on="customer_key", how="left")
        .join(previous, on="customer_key", how="left")
    )
    for name, dtype in INPUT_COLUMNS.items():
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=dtype).alias(name))
    return frame.select(
        [pl.col(name).cast(dtype) for name, dtype in INPUT_COLUMNS.items()]
    ).with_columns(
        pl.col("negative_feedback").fill_null(0),
        *[pl.col(c).fill_null(0.0) for c in INPUT_COLUMNS if c.startswith("revenue_")],
    )


def _negative_feedback(
    con: duckdb.DuckDBPyConnection, as_of: date, config: AlertConfig
) -> pl.DataFrame:
    window = [
        as_of - timedelta(days=config.negative_feedback_days),
        as_of,
        config.negative_score_max,
    ]
    if _table_exists(con, "marts", "fct_feedback"):
        sql = """
            SELECT customer_key, count(*) AS negative_feedback,
                   string_agg(DISTINCT category, ', ' ORDER BY category)
                       AS negative_feedback_topics
            FROM marts.fct_feedback
            WHERE customer_key <> '(unknown)' AND submitted_on > ? AND submitted_on <= ?
              AND score <= ?
            GROUP BY customer_key"""
    elif _table_exists(con, "staging", "stg_crm__feedback") and _table_exists(
        con, "intermediate", "int_customer_keys"
    ):
        sql = """
            SELECT k.customer_key, count(*) AS negative_feedback,
                   NULL::VARCHAR AS negative_feedback_topics
            FROM staging.stg_crm__feedback AS f
            JOIN intermediate.int_customer_keys AS k
                ON k.source_system = 'crm' AND k.source_id = f.crm_id
            WHERE CAST(f.submitted_at AS DATE) > ? AND CAST(f.submitted_at AS DATE) <= ?
              AND f.score <= ?
            GROUP BY k.customer_key"""
    else:
        return pl.DataFrame(
            schema={
                "customer_key": pl.Utf8,
                "negative_feedback": pl.Int64,
                "negative_feedback_topics": pl.Utf8,
            }
        )
    return con.sql(sql, params=window).pl()


def _previous_scores(con: duckdb.DuckDBPyConnection, as_of: date) -> pl.DataFrame:
    """P(alive) at the latest earlier run (strictly before as_of, so a re-run of the same
    date compares with the same previous run)."""
    empty = pl.DataFrame(
        schema={"customer_key": pl.Utf8, "previous_p_alive": pl.Float64, "previous_as_of": pl.Date}
    )
    if not _table_exists(con, "ml", "customer_scores_history"):
        return empty
    return con.sql(
        """
        SELECT customer_key, p_alive AS previous_p_alive, as_of_date AS previous_as_of
        FROM ml.customer_scores_history
        WHERE as_of_date = (SELECT max(as_of_date) FROM ml.customer_scores_history
                            WHERE as_of_date < ?)""",
        params=[as_of],
    ).pl()


# ---------------------------------------------------------------------------- rules
def _no_order(row: dict, config: AlertConfig) -> tuple[str, str, str, float] | None:
    days = row["days_since_last_order"]
    alive, silence = row["p_alive"], row["silence_probability"]
    if days is None or days < config.no_order_days or alive is None:
        return None
    purchases = row["purchases"] or 0
    if purchases < config.no_order_min_purchases:
        return _one_time_buyer_gone(row, config)
    unlikely = silence is not None and silence < config.no_order_max_silence_probability
    if alive >= config.no_order_max_p_alive and not unlikely:
        return None
    gap = row["median_recent_gap_days"]
    rhythm = f"usually orders every {gap:.0f} days" if gap else "no regular rhythm yet"
    base = "high" if alive < 0.1 else "medium"
    chance = f"; chance of such a silence if still buying {silence:.1%}" if unlikely else ""
    reason = (
        f"no order for {days} days; {rhythm}; revenue 12 m {cny(row['revenue_12m_cny'])}; "
        f"P(alive) {alive:.0%}{chance}"
    )
    return (
        _value_severity(row["revenue_12m_cny"], config, base),
        reason,
        "churn risk: automatic follow-up call",
        float(days),
    )


def _one_time_buyer_gone(row: dict, config: AlertConfig) -> tuple[str, str, str, float] | None:
    """A single order and a long silence is a lost customer only where nearly every
    first-time buyer orders again (a B2B account), not among web buyers who often buy
    once; and only once the return curve says it is unlikely to come back."""
    repeat_rate, alive, days = (
        row["population_repeat_rate"],
        row["p_alive"],
        row["days_since_last_order"],
    )
    if (row["purchases"] or 0) != 1 or repeat_rate is None:
        return None
    if repeat_rate < config.one_time_min_repeat_rate or alive >= config.no_order_max_p_alive:
        return None
    population = row["population"] or "all"
    reason = (
        f"no order for {days} days; a single order so far, while {repeat_rate:.0%} of "
        f"first-time {population} customers order again; revenue 12 m "
        f"{cny(row['revenue_12m_cny'])}; P(alive) {alive:.0%}"
    )
    base = "high" if alive < 0.1 else "medium"
    return (
        _value_severity(row["revenue_12m_cny"], config, base),
        reason,
        "churn risk: automatic follow-up call",
        float(days),
    )


def _p_alive_drop(row: dict, config: AlertConfig) -> tuple[str, str, str, float] | None:
    before, now = row["previous_p_alive"], row["p_alive"]
    threshold = config.p_alive_threshold
    if before is None or now is None or not (before >= threshold > now):
        return None
    if (row["purchases"] or 0) < config.no_order_min_purchases:
        return None  # a one-time buyer's P(alive) falls with the return curve by design
    reason = (
        f"P(alive) fell from {before:.0%} on {row['previous_as_of']} to {now:.0%} "
        f"(threshold {threshold:.0%}); no order for {row['days_since_last_order']} days; "
        f"revenue 12 m {cny(row['revenue_12m_cny'])}"
    )
    base = "high" if now < threshold / 2 else "medium"
    return (
        _value_severity(row["revenue_12m_cny"], config, base),
        reason,
        "retention offer from the account owner",
        float(now),
    )


def _tier_downgrade(row: dict, config: AlertConfig) -> tuple[str, str, str, float] | None:
    tier, before = row["tier"], row["previous_tier"]
    ranks = config.tier_rank
    if tier is None or before is None or tier not in ranks or before not in ranks:
        return None
    drop = ranks[before] - ranks[tier]
    if drop <= 0:
        return None
    severity = {1: "medium", 2: "high"}.get(drop, "critical")
    reason = (
        f"tier fell from {before} to {tier} this month; revenue 12 m "
        f"{cny(row['revenue_12m_cny'])}; no order for {row['days_since_last_order']} days"
    )
    return severity, reason, "account manager check-in on the downgrade", float(drop)


def _revenue_drop(row: dict, config: AlertConfig) -> tuple[str, str, str, float] | None:
    q0, q1, total = row["revenue_q0_cny"], row["revenue_q1_cny"], row["revenue_12m_cny"]
    if total < config.high_value_revenue_cny or q1 <= 0:
        return None
    change = q0 / q1 - 1.0
    if change > -config.revenue_drop_share:
        return None
    severity = "critical" if change <= -0.6 else "high"
    reason = (
        f"revenue last 90 days {cny(q0)}, down {-change:.0%} from {cny(q1)} the 90 days "
        f"before; revenue 12 m {cny(total)}"
    )
    return severity, reason, "account manager review", float(change)


def _negative_feedback_rule(row: dict, config: AlertConfig) -> tuple[str, str, str, float] | None:
    count = row["negative_feedback"] or 0
    if count < config.negative_feedback_count:
        return None
    topics = f" ({row['negative_feedback_topics']})" if row["negative_feedback_topics"] else ""
    severity = "high" if count >= 2 * config.negative_feedback_count else "medium"
    reason = (
        f"{count} feedback scored {config.negative_score_max} or lower in the last "
        f"{config.negative_feedback_days} days{topics}; revenue 12 m {cny(row['revenue_12m_cny'])}"
    )
    return severity, reason, "supervisor review of the complaints", float(count)


def _growth(row: dict, config: AlertConfig) -> tuple[str, str, str, float] | None:
    quarters = [row["revenue_q0_cny"], row["revenue_q1_cny"], row["revenue_q2_cny"]]
    needed = quarters[: config.growth_quarters + 1]
    if len(needed) < config.growth_quarters + 1 or min(needed) <= 0:
        return None
    if needed[0] < config.growth_min_revenue_cny:
        return None
    rises = [needed[i] / needed[i + 1] - 1.0 for i in range(config.growth_quarters)]
    if min(rises) < config.growth_min_rate:
        return None
    path = " → ".join(cny(q) for q in reversed(needed))
    reason = (
        f"revenue rose {config.growth_quarters} quarters in a row ({path}, last "
        f"+{rises[0]:.0%}); revenue 12 m {cny(row['revenue_12m_cny'])}"
    )
    return "low", reason, "targeted promotion", float(rises[0])


RULES = {
    "no_order_90d": _no_order,
    "p_alive_drop": _p_alive_drop,
    "tier_downgrade": _tier_downgrade,
    "revenue_drop_qoq": _revenue_drop,
    "negative_feedback": _negative_feedback_rule,
    "growth_customer": _growth,
}


def raise_alerts(
    inputs: pl.DataFrame, as_of: date, config: AlertConfig | None = None
) -> pl.DataFrame:
    """Apply every rule to every customer row (columns of INPUT_COLUMNS; missing ones are
    taken as unknown). One row per customer × alert type that fired."""
    config = config or AlertConfig()
    for name, dtype in INPUT_COLUMNS.items():
        if name not in inputs.columns:
            inputs = inputs.with_columns(pl.lit(None, dtype=dtype).alias(name))
    inputs = inputs.with_columns(
        *[pl.col(c).fill_null(0.0) for c in INPUT_COLUMNS if c.startswith("revenue_")]
    )
    rows = []
    for row in inputs.iter_rows(named=True):
        for alert_type, rule in RULES.items():
            fired = rule(row, config)
            if fired is None:
                continue
            severity, reason, action, evidence = fired
            rows.append(
                {
                    "customer_key": row["customer_key"],
                    "alert_type": alert_type,
                    "severity": severity,
                    "reason": reason,
                    "recommended_action": action,
                    "raised_on": as_of,
                    "evidence_value": evidence,
                }
            )
    return pl.DataFrame(rows, schema=ALERT_COLUMNS).sort("customer_key", "alert_type")
