"""The dashboard's charts (Plotly), labelled in the reader's language."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from dashboards.i18n import Translator

GOOD, BAD, NEUTRAL, ACCENT = "#2e7d32", "#c62828", "#607d8b", "#1565c0"
CHANNEL_COLOURS = {"b2b": "#1565c0", "ecommerce": "#ef6c00"}
LAYOUT = {
    "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
    "legend": {"orientation": "h", "y": -0.2},
    "hovermode": "x unified",
}


def _figure(title: str, height: int = 320) -> go.Figure:
    figure = go.Figure()
    figure.update_layout(title=title, height=height, **LAYOUT)
    return figure


def _date_axis(figure: go.Figure, t: Translator, period: str = "day") -> go.Figure:
    """Dates on the x axis and in the hover labels in the reader's language."""
    fmt = t.chart_dates(period)
    figure.update_xaxes(tickformat=fmt, hoverformat=fmt)
    return figure


def kpi_trend(daily: pl.DataFrame, metric: str, unit: str, t: Translator) -> go.Figure:
    """One KPI per day with its target."""
    series = daily.filter(pl.col("metric") == metric).sort("date")
    figure = _figure(t.value(metric), height=260)
    scale = 100.0 if unit == "rate" else 1.0
    figure.add_scatter(
        x=series["date"].to_list(),
        y=[None if v is None else v * scale for v in series["value"].to_list()],
        mode="lines",
        name=t("value"),
        line={"color": ACCENT},
    )
    if series["target"].drop_nulls().len():
        figure.add_scatter(
            x=series["date"].to_list(),
            y=[None if v is None else v * scale for v in series["target"].to_list()],
            mode="lines",
            name=t("target"),
            line={"color": NEUTRAL, "dash": "dash"},
        )
    figure.update_yaxes(ticksuffix="%" if unit == "rate" else "")
    _date_axis(figure, t)
    return figure


def tiers(distribution: pl.DataFrame, t: Translator) -> go.Figure:
    figure = _figure(t("tiers"))
    labels = [t.value(tier) for tier in distribution["tier"].to_list()]
    figure.add_bar(x=labels, y=distribution["customers"].to_list(), name=t("customers_n"))
    figure.add_scatter(
        x=labels,
        y=[share * 100 for share in distribution["revenue_share"].to_list()],
        name=t("revenue_12m") + " %",
        yaxis="y2",
        mode="markers+lines",
        line={"color": "#ef6c00"},
    )
    figure.update_layout(yaxis2={"overlaying": "y", "side": "right", "ticksuffix": "%"})
    return figure


def segments(distribution: pl.DataFrame, t: Translator) -> go.Figure:
    figure = _figure(t("rfm_segments"))
    figure.add_bar(
        y=distribution["rfm_segment"].to_list(),
        x=distribution["customers"].to_list(),
        orientation="h",
        name=t("customers_n"),
    )
    figure.update_yaxes(autorange="reversed")
    return figure


def movement(frame: pl.DataFrame, t: Translator) -> go.Figure:
    """Customers per (previous tier → tier) of one month, as a heat map."""
    sources = sorted(frame["previous_tier"].unique().to_list())
    targets = sorted(frame["tier"].unique().to_list())
    counts = {(r["previous_tier"], r["tier"]): r["customers"] for r in frame.iter_rows(named=True)}
    figure = _figure(t("tier_movement"), height=360)
    figure.add_heatmap(
        z=[[counts.get((s, d), 0) for d in targets] for s in sources],
        x=[t.value(d) for d in targets],
        y=[t.value(s) for s in sources],
        colorscale="Blues",
        texttemplate="%{z}",
    )
    figure.update_layout(xaxis_title=t("to_tier"), yaxis_title=t("from_tier"))
    return figure


def orders_timeline(monthly: pl.DataFrame, t: Translator) -> go.Figure:
    figure = _figure(t("order_timeline"), height=280)
    for channel in monthly["channel"].unique().sort().to_list():
        rows = monthly.filter(pl.col("channel") == channel)
        figure.add_bar(
            x=rows["month"].to_list(),
            y=rows["amount_cny"].to_list(),
            name=t.value(channel),
            marker_color=CHANNEL_COLOURS.get(channel),
        )
    figure.update_layout(barmode="stack")
    _date_axis(figure, t, "month")
    return figure


def feedback_timeline(feedback: pl.DataFrame, t: Translator) -> go.Figure:
    figure = _figure(t("feedback"), height=260)
    figure.add_scatter(
        x=feedback["submitted_at"].to_list(),
        y=feedback["score"].to_list(),
        mode="markers",
        text=feedback["comment"].to_list(),
        marker={"color": [GOOD if s >= 4 else BAD for s in feedback["score"].to_list()]},
        name=t("feedback"),
    )
    figure.update_yaxes(range=[0.5, 5.5], dtick=1)
    _date_axis(figure, t)
    return figure


def demand(history: pl.DataFrame, forecast: pl.DataFrame, t: Translator) -> go.Figure:
    """Daily ordered units, then the forecast with its interval."""
    figure = _figure(t("history_forecast"))
    figure.add_bar(
        x=history["date"].to_list(),
        y=history["ordered"].to_list(),
        name=t("ordered"),
        marker_color=NEUTRAL,
    )
    if not forecast.is_empty():
        dates = forecast["date"].to_list()
        figure.add_scatter(
            x=dates + dates[::-1],
            y=forecast["yhat_upper"].to_list() + forecast["yhat_lower"].to_list()[::-1],
            fill="toself",
            fillcolor="rgba(21,101,192,0.15)",
            line={"width": 0},
            name=t("interval"),
            hoverinfo="skip",
        )
        figure.add_scatter(
            x=dates, y=forecast["yhat"].to_list(), name=t("forecast"), line={"color": ACCENT}
        )
    _date_axis(figure, t)
    return figure


def projection(frame: pl.DataFrame, t: Translator) -> go.Figure:
    figure = _figure(t("stock_projection"))
    dates = frame["date"].to_list()
    for column, colour, dash in (
        ("without_order", BAD, None),
        ("with_order", GOOD, None),
        ("reorder_point", "#ef6c00", "dash"),
        ("safety_stock", NEUTRAL, "dot"),
    ):
        figure.add_scatter(
            x=dates,
            y=frame[column].to_list(),
            name=t(column),
            line={"color": colour, "dash": dash},
        )
    figure.update_yaxes(title=t("units"))
    _date_axis(figure, t)
    return figure


def accuracy(frame: pl.DataFrame, by: str, title: str, t: Translator) -> go.Figure:
    figure = _figure(title, height=300)
    labels = [t.value(v) for v in frame[by].to_list()]
    figure.add_bar(x=labels, y=frame["wape"].to_list(), name=t("wape"), marker_color=ACCENT)
    figure.add_bar(
        x=labels, y=frame["baseline_wape"].to_list(), name=t("baseline_wape"), marker_color=NEUTRAL
    )
    figure.update_layout(barmode="group")
    return figure


def simulation(frame: pl.DataFrame, t: Translator) -> go.Figure:
    figure = _figure(t("simulation"), height=300)
    labels = [t.value(p) for p in frame["policy"].to_list()]
    figure.add_bar(
        x=labels,
        y=frame["avg_inventory_value_cny"].to_list(),
        name=t("avg_inventory_value"),
        marker_color=NEUTRAL,
    )
    figure.add_scatter(
        x=labels,
        y=[v * 100 for v in frame["fill_rate"].to_list()],
        name=t("fill_rate") + " %",
        yaxis="y2",
        mode="markers",
        marker={"size": 12, "color": GOOD},
    )
    figure.update_layout(yaxis2={"overlaying": "y", "side": "right", "ticksuffix": "%"})
    return figure
