"""Replenishment review: recommendations with every input and reason, one SKU's demand
and stock projection, and the planner's decisions (line by line or in bulk)."""

import streamlit as st

from dashboards import charts, review, tables
from dashboards.auth import DECIDE_REPLENISHMENT
from dashboards.session import current, flash, require_permission, shown
from wmsight import decisions as store
from wmsight.publish import PublishError

context = current()
t, publication = context.t, context.publication
st.title(t("page_review"))
decisions_file = store.decisions_path(context.db_path)
DECISION_LABELS = {
    store.APPROVE: t("do_approve"),
    store.CHANGE: t("do_change"),
    store.REJECT: t("do_reject"),
}


def save(decisions: list[store.Decision]) -> None:
    try:
        n = review.decide(
            publication, context.db_path, decisions, context.user.username, context.user.name
        )
    except (store.DecisionError, PublishError) as error:
        st.error(t("decision_failed", error=error))
        return
    flash(t("saved", n=n))
    st.rerun()


with shown(context):
    current_decisions = store.current_decisions(decisions_file, publication.as_of)
    plan = publication.feed("replenishment_plan")
    if plan is None:
        st.info(
            t(
                "missing_data",
                name="replenishment_plan",
                reason=publication.why_missing("replenishment_plan"),
            )
        )
        st.stop()
    warehouses = sorted(plan["warehouse_id"].unique().to_list())
    columns = st.columns([2, 2, 3])
    warehouse = columns[0].selectbox(
        t("warehouse"), [None, *warehouses], format_func=lambda w: w or t("all"), key="rv_wh"
    )
    supplier = columns[1].selectbox(
        t("supplier"),
        [review.ALL_SUPPLIERS, *review.suppliers(publication, warehouse)],
        format_func=lambda s: t("all_suppliers") if s == review.ALL_SUPPLIERS else s,
        key="rv_supplier",
    )
    only_to_order = columns[2].toggle(t("only_to_order"), value=True, key="rv_only")
    purchases = review.purchases(publication, current_decisions, warehouse, supplier, only_to_order)
    transfers = review.transfers(publication, current_decisions, warehouse)

    left, right = st.columns([3, 2])
    left.subheader(t("purchases"))
    if purchases.is_empty():
        left.caption(t("no_lines"))
    else:
        tables.show(purchases, t, left, key="rv_purchases")
    right.subheader(t("transfers"))
    if transfers.is_empty():
        right.caption(t("no_lines"))
    else:
        tables.show(transfers, t, right, key="rv_transfers")
    proposals = publication.dataset("purchase_proposals")
    if proposals is not None and not proposals.is_empty():
        with st.expander(t("proposals")):
            tables.show(
                proposals
                if warehouse is None
                else proposals.filter(proposals["warehouse_id"] == warehouse),
                t,
            )

    lines = [review.purchase_line(r) for r in purchases.iter_rows(named=True)]
    lines += [review.transfer_line(r) for r in transfers.iter_rows(named=True)]
    by_key = {line.key: line for line in lines}

    st.subheader(t("decide_line"))
    if lines and require_permission(context, DECIDE_REPLENISHMENT):
        key = st.selectbox(
            t("line"),
            list(by_key),
            format_func=lambda k: review.line_label(by_key[k]),
            key="rv_line",
        )
        line = by_key[key]
        row = st.columns([2, 1, 3, 1])
        decision = row[0].radio(
            t("decision"),
            list(DECISION_LABELS),
            format_func=DECISION_LABELS.get,
            horizontal=True,
            key="rv_decision",
        )
        quantity = row[1].number_input(
            t("quantity"),
            min_value=0,
            step=1,
            value=line.recommended_qty,
            key=f"rv_qty_{key}",
            disabled=decision != store.CHANGE,
        )
        comment = row[2].text_input(t("comment"), key=f"rv_comment_{key}")
        if row[3].button(t("save"), type="primary", key="rv_save"):
            save([store.Decision(line, decision, int(quantity), comment)])

    st.subheader(t("decide_bulk"))
    if lines and require_permission(context, DECIDE_REPLENISHMENT):
        with st.form("rv_bulk"):
            picked = st.multiselect(
                t("lines"),
                list(by_key),
                format_func=lambda k: review.line_label(by_key[k]),
                key="rv_bulk_lines",
            )
            bulk_decision = st.radio(
                t("decision"),
                [store.APPROVE, store.REJECT],
                format_func=DECISION_LABELS.get,
                horizontal=True,
                key="rv_bulk_decision",
            )
            bulk_comment = st.text_input(t("bulk_comment"), key="rv_bulk_comment")
            if st.form_submit_button(t("apply_bulk")):
                save([store.Decision(by_key[k], bulk_decision, None, bulk_comment) for k in picked])

    if not purchases.is_empty():
        detail_rows = {
            f"{r['warehouse_id']}|{r['sku']}": r for r in purchases.iter_rows(named=True)
        }
        chosen = st.selectbox(
            t("inspect"),
            list(detail_rows),
            format_func=lambda k: (
                f"{detail_rows[k]['sku']} · {detail_rows[k]['warehouse_id']}"
                f" · {detail_rows[k].get('product_name') or ''}"
            ),
            key="rv_detail",
        )
        plan_row = detail_rows[chosen]
        st.subheader(t("sku_detail", sku=plan_row["sku"], warehouse=plan_row["warehouse_id"]))
        st.caption(plan_row["reason"])
        history = review.sku_history(publication, plan_row["warehouse_id"], plan_row["sku"])
        forecast = review.sku_forecast(publication, plan_row["warehouse_id"], plan_row["sku"])
        charts_row = st.columns(2)
        charts_row[0].plotly_chart(charts.demand(history, forecast, t), key="rv_demand")
        charts_row[1].plotly_chart(
            charts.projection(review.stock_projection(plan_row, forecast, publication.as_of), t),
            key="rv_projection",
        )

    with st.expander(t("audit_trail")):
        history_rows = store.decision_history(decisions_file, publication.as_of)
        if history_rows:
            tables.show(history_rows, t)
        else:
            st.caption(t("no_decisions"))
