"""Data quality: drops and the load log, quarantined rows (searchable), contract results
per run, unresolved references."""

import streamlit as st

from dashboards import quality, tables
from dashboards.session import current, shown

context = current()
t, publication = context.t, context.publication
st.title(t("page_quality"))

with shown(context):
    st.subheader(t("drops"))
    tables.show(quality.drops(publication), t)
    with st.expander(t("load_log")):
        log = quality.load_log(publication)
        statuses = st.multiselect(
            t("status"),
            sorted(log["status"].unique().to_list()),
            format_func=t.value,
            placeholder=t("all"),
            key="dq_status",
        )
        tables.show(quality.load_log(publication, tuple(statuses)), t)

with shown(context):
    st.subheader(t("quarantine"))
    by_rule = quality.quarantine_by_rule(publication)
    columns = st.columns([3, 2])
    text = columns[0].text_input(t("search_quarantine"), key="dq_search")
    rule = columns[1].selectbox(
        t("rule"),
        [None, *sorted(by_rule["rule"].unique().to_list())],
        format_func=lambda r: r or t("all"),
        key="dq_rule",
    )
    rows = quality.quarantine(publication, text, rule)
    if rows.is_empty():
        st.caption(t("no_quarantine"))
    else:
        st.caption(f"{t.number(rows.height)} {t('rows')}")
        tables.show(rows, t)
    with st.expander(t("quarantine_by_rule")):
        tables.show(by_rule, t)

with shown(context):
    st.subheader(t("contract_results"))
    tables.show(quality.contract_results(publication), t)

with shown(context):
    st.subheader(t("unresolved"))
    unresolved = quality.unresolved_references(publication)
    if unresolved is None or unresolved.is_empty():
        st.caption(t("no_unresolved"))
    else:
        tables.show(unresolved, t)
