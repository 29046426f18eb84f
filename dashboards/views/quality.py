"""Data quality: drops and the load log, quarantined rows (searchable), contract results
per run (per feed and per rule, filterable), the run's Great Expectations Data Docs,
unresolved references."""

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
    st.subheader(t("expectation_results"))
    every_rule = quality.expectation_results(publication)
    feed_names = sorted(every_rule["feed"].unique().to_list())
    columns = st.columns(2)
    feeds = columns[0].multiselect(t("feed"), feed_names, placeholder=t("all"), key="dq_feed")
    outcomes = columns[1].multiselect(
        t("outcome"), quality.OUTCOMES, format_func=t.value, placeholder=t("all"), key="dq_outcome"
    )
    rules = quality.expectation_results(publication, tuple(feeds), tuple(outcomes))
    if rules.is_empty():
        st.caption(t("no_expectations"))
    else:
        st.caption(f"{t.number(rules.height)} {t('rows')}")
        tables.show(rules, t)

with shown(context):
    st.subheader(t("data_docs"))
    index = quality.data_docs_index(publication)
    if index is None:
        st.caption(t("no_data_docs"))
    else:
        st.markdown(t("data_docs_where", path=f"`{index}`"))
        st.caption(t("data_docs_view"))
        st.download_button(
            t("data_docs_download"),
            # built when clicked (then cached): the page never waits on the zip
            data=lambda: quality.data_docs_zip(publication),
            file_name=f"data_docs_{publication.key}.zip",
            mime="application/zip",
            on_click="ignore",
            key="dq_data_docs_zip",
        )

with shown(context):
    st.subheader(t("unresolved"))
    unresolved = quality.unresolved_references(publication)
    if unresolved is None or unresolved.is_empty():
        st.caption(t("no_unresolved"))
    else:
        tables.show(unresolved, t)
