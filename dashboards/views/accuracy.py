"""Forecast accuracy: backtest WAPE/MASE by warehouse, ABC class and model against
seasonal naive; the replenishment simulation against today's rules."""

import streamlit as st

from dashboards import accuracy, charts, tables
from dashboards.session import current, shown

context = current()
t, publication = context.t, context.publication
st.title(t("page_accuracy"))

with shown(context):
    total = accuracy.overall(publication)
    tiles = st.columns(4)
    tiles[0].metric(t("series"), t.number(total["series"]))
    tiles[1].metric(t("wape"), t.percent(total["wape"]))
    tiles[2].metric(t("baseline_wape"), t.percent(total["baseline_wape"]))
    tiles[3].metric(t("mase_median"), t.number(total["mase_median"], 2))
    for by, title in (
        ("warehouse_id", t("by_warehouse")),
        ("abc_class", t("by_abc")),
        ("model", t("by_model")),
    ):
        frame = accuracy.accuracy_by(publication, by)
        left, right = st.columns([3, 2])
        left.plotly_chart(charts.accuracy(frame, by, title, t), key=f"acc_{by}")
        tables.show(frame, t, right)
    with st.expander(t("models_used")):
        tables.show(accuracy.models_used(publication), t)

st.header(t("simulation"))
with shown(context):
    simulation = accuracy.simulation(publication)
    if simulation is None:
        st.info(t("no_simulation"))
    else:
        st.plotly_chart(charts.simulation(simulation, t), key="simulation")
        tables.show(simulation, t)
