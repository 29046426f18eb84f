"""Churn alerts: filter, mark handled with a note (account managers), export."""

import streamlit as st

from dashboards import alerts, tables
from dashboards.auth import HANDLE_ALERTS
from dashboards.session import current, flash, require_permission, shown
from wmsight import decisions as store

context = current()
t, publication = context.t, context.publication
st.title(t("page_alerts"))
decisions_file = store.decisions_path(context.db_path)

with shown(context):
    frame = alerts.alerts(publication, store.handled_alerts(decisions_file))
    columns = st.columns(5)
    filters = (
        ("severity", t.value), ("alert_type", t.value), ("tier", t.value),
        ("account_manager", str),
    )  # fmt: skip
    picked = {
        field: tuple(
            column.multiselect(
                t(field), alerts.options(frame, field), format_func=shown_as,
                placeholder=t("all"), key=f"al_{field}",
            )
        )
        for column, (field, shown_as) in zip(columns, filters, strict=False)
    }  # fmt: skip
    chosen = alerts.AlertFilter(
        severities=picked["severity"],
        alert_types=picked["alert_type"],
        tiers=picked["tier"],
        account_managers=picked["account_manager"],
        include_handled=columns[4].toggle(t("include_handled"), value=True, key="al_handled"),
    )
    shown_alerts = alerts.filter_alerts(frame, chosen)
    st.caption(t("alerts_shown", n=shown_alerts.height))
    tables.show(
        shown_alerts.select(
            "severity",
            "alert_type",
            "display_name",
            "tier",
            "account_manager",
            "reason",
            "recommended_action",
            "raised_on",
            "handled",
            "handled_by",
            "handling_note",
            "customer_key",
        ),
        t,
    )
    st.download_button(
        t("export"),
        alerts.export_csv(shown_alerts),
        file_name=f"churn_alerts_{publication.as_of}.csv",
        mime="text/csv",
        key="al_export",
    )

    st.subheader(t("mark_handled"))
    if require_permission(context, HANDLE_ALERTS):
        open_alerts = shown_alerts.filter(~shown_alerts["handled"])
        labels = {
            alerts.alert_key(r): (
                f"{r['display_name']} · {t.value(r['alert_type'])} · {t.value(r['severity'])}"
            )
            for r in open_alerts.iter_rows(named=True)
        }
        with st.form("al_handle_form", clear_on_submit=True):
            picked = st.multiselect(
                t("choose_alerts"), list(labels), format_func=labels.get, key="al_pick"
            )
            note = st.text_input(t("note"), key="al_note")
            if st.form_submit_button(t("mark_handled")):
                try:
                    n = store.record_alert_handled(
                        decisions_file,
                        [alerts.parse_alert_key(key) for key in picked],
                        note,
                        context.user.username,
                        context.user.name,
                    )
                except store.DecisionError as error:
                    st.error(t("decision_failed", error=error))
                else:
                    flash(t("handled_saved", n=n))
                    st.rerun()
