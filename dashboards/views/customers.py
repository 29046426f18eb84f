"""Customers: tiers, RFM segments, tier movement, and the customer 360."""

import streamlit as st

from dashboards import charts, customers, tables
from dashboards.session import current, shown

context = current()
t, publication = context.t, context.publication
st.title(t("page_customers"))

with shown(context):
    left, right = st.columns(2)
    left.plotly_chart(charts.tiers(customers.tier_distribution(publication), t), key="tiers")
    right.plotly_chart(
        charts.segments(customers.segment_distribution(publication), t), key="segments"
    )

with shown(context):
    months = customers.tier_months(publication)
    month = st.selectbox(t("month"), months, format_func=t.day, key="cu_month")
    st.plotly_chart(charts.movement(customers.tier_movement(publication, month), t), key="movement")

st.header(t("customer_360"))
with shown(context):
    query = st.text_input(t("search_customer"), key="cu_query")
    matches = customers.search(publication, query) if query.strip() else None
    if matches is not None and matches.is_empty():
        st.info(t("no_match", query=query))
    elif matches is not None:
        st.caption(t("matches", n=matches.height))
        labels = {
            r["customer_key"]: f"{r['display_name']} · {t.value(r['tier'])} · "
            f"{r['region'] or '—'} · {r['matched_on']}"
            for r in matches.iter_rows(named=True)
        }
        key = st.selectbox(
            t("choose_customer"), list(labels), format_func=labels.get, key="cu_customer"
        )
        found = customers.profile(publication, key)
        if found is not None:
            c = found.customer
            st.subheader(c["display_name"] or c["customer_key"])
            tiles = st.columns(6)
            tiles[0].metric(t("tier"), t.value(c["tier"] or "none"))
            tiles[1].metric(t("revenue_12m"), t.money(c["revenue_12m"]))
            tiles[2].metric(t("orders_12m"), t.number(c["orders_12m"]))
            tiles[3].metric(t("churn_probability"), t.percent(c["churn_probability"]))
            tiles[4].metric(t("next_order"), t.day(c["expected_next_order_date"]))
            tiles[5].metric(
                t("avg_satisfaction"),
                t.number(c["avg_satisfaction"], 1) if c["avg_satisfaction"] else "—",
            )
            st.caption(
                f"{t('region')}: {c['region'] or '—'} · {c['province'] or '—'} · "
                f"{t('rfm')}: {c['r_score'] or '—'}/{c['f_score'] or '—'}/{c['m_score'] or '—'}"
                f" {c['rfm_segment'] or ''} · {t('last_order')}: {t.moment(c['last_order_at'])}"
                f" · {t('return_rate')}: {t.percent(c['return_rate'])}"
            )
            st.markdown(f"**{t('source_records')}**")
            tables.show(found.sources.drop("customer_key"), t)
            if not found.orders.is_empty():
                st.plotly_chart(
                    charts.orders_timeline(customers.monthly_orders(found.orders), t),
                    key="orders_timeline",
                )
                with st.expander(f"{t('orders')} ({found.orders.height})"):
                    tables.show(found.orders.drop("customer_key"), t)
            if not found.feedback.is_empty():
                st.plotly_chart(charts.feedback_timeline(found.feedback, t), key="feedback")
                with st.expander(f"{t('feedback')} ({found.feedback.height})"):
                    tables.show(found.feedback.drop("customer_key"), t)
            cols = st.columns(2)
            cols[0].markdown(f"**{t('alerts')}**")
            tables.show(found.alerts.drop("customer_key", strict=False), t, cols[0])
            cols[1].markdown(f"**{t('rule_actions')}**")
            tables.show(found.rule_actions.drop("customer_key", strict=False), t, cols[1])
            with st.expander(t("tier_history")):
                tables.show(found.tiers.drop("customer_key", strict=False), t)
