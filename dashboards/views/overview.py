"""Overview: the KPIs against their targets, what changed, trends; by warehouse, region,
channel and dates."""

import streamlit as st

from dashboards import charts, overview
from dashboards.session import current, shown

context = current()
t, publication = context.t, context.publication
st.title(t("page_overview"))

with shown(context):
    options = overview.slice_options(publication)
    first, last = overview.date_bounds(publication)
    start, end = overview.default_range(publication)
    columns = st.columns([2, 2, 2, 3])
    regions = columns[0].multiselect(
        t("regions"), options["regions"], placeholder=t("all"), key="ov_regions"
    )
    in_regions = overview.warehouses_in_regions(publication, regions) if regions else None
    warehouse_choices = [w for w in options["warehouses"] if in_regions is None or w in in_regions]
    warehouses = columns[1].multiselect(
        t("warehouses"), warehouse_choices, placeholder=t("all"), key="ov_warehouses"
    )
    channels = columns[2].multiselect(
        t("channels"),
        options["channels"],
        format_func=t.value,
        placeholder=t("all"),
        key="ov_channels",
        disabled=not overview.can_slice(publication),
    )
    picked = columns[3].date_input(
        t("date_range"),
        (max(start, first), end),
        min_value=first,
        max_value=last,
        key="ov_dates",
    )
    if not overview.can_slice(publication):
        st.caption(t("no_slicing"))
    elif channels:
        st.caption(t("channel_free_note"))
    if isinstance(picked, tuple) and len(picked) == 2:
        start, end = picked
    chosen = tuple(warehouses) if warehouses else in_regions
    kpi_slice = overview.KpiSlice(
        start, end, warehouses=chosen, channels=tuple(channels) if channels else None
    )
    summary = overview.summary(publication, kpi_slice)
    if summary.is_empty():
        st.info(t("no_kpis"))
        st.stop()

    st.subheader(t("kpis_on", date=t.day(summary["date"].max())))
    tiles = st.columns(4)
    for index, row in enumerate(summary.iter_rows(named=True)):
        unit = row["unit"]
        delta = None
        if row["change"] is not None:
            delta = t.percent(row["change"]) if unit == "rate" else t.number(row["change"], 1)
        if row["target"] is None:
            status = t("no_target")
        else:
            verdict = t("meets_target") if row["meets_target"] else t("misses_target")
            status = f"{t('target')} {t.metric_value(unit, row['target'])} · {verdict}"
        higher = overview.METRICS_BY_NAME[row["metric"]].higher_is_better
        tiles[index % 4].metric(
            t.value(row["metric"]),
            t.metric_value(unit, row["value"]),
            delta=delta,
            delta_color="normal" if higher else "inverse",
            help=status,
            border=True,
        )
        tiles[index % 4].caption(status)

    st.subheader(t("since_yesterday"))
    changes = overview.changes_since_yesterday(publication, kpi_slice)
    if changes.is_empty():
        st.caption(t("nothing_changed"))
    else:
        st.dataframe(
            [
                {
                    t("metric"): t.value(r["metric"]),
                    t("previous"): t.metric_value(r["unit"], r["previous_value"]),
                    t("value"): t.metric_value(r["unit"], r["value"]),
                    t("change"): t("better") if r["improved"] else t("worse"),
                }
                for r in changes.iter_rows(named=True)
            ],
            hide_index=True,
        )

    st.subheader(t("trends"))
    daily = overview.daily_values(publication, kpi_slice)
    grid = st.columns(2)
    for index, metric in enumerate(m for m in overview.METRICS if m.name in summary["metric"]):
        grid[index % 2].plotly_chart(
            charts.kpi_trend(daily, metric.name, metric.unit, t),
            key=f"trend_{metric.name}",
        )
