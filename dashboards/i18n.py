"""Chinese and English: every label of the app, and numbers, money and dates formatted
the way each language writes them (English: CNY 1,234,567 and 30 Nov 2025; Chinese:
¥123.5万 and 2025年11月30日)."""

from __future__ import annotations

import math
from datetime import date, datetime

LANGUAGES = {"zh": "中文", "en": "English"}
DEFAULT_LANGUAGE = "zh"

# key: (English, 中文)
TEXT: dict[str, tuple[str, str]] = {
    # app frame
    "app_title": ("wmsight — warehouse analytics", "wmsight — 仓储分析"),
    "language": ("Language", "语言"),
    "as_of": ("As of", "数据截至"),
    "published": ("published", "发布于"),
    "no_publication": (
        "Nothing published yet in {root}: run `wmsight run` (or `make demo`) first.",
        "{root} 中还没有发布的数据：请先运行 `wmsight run`（或 `make demo`）。",
    ),
    "missing_data": (
        "{name} is not in this run's publication: {reason}.",
        "本次发布中没有 {name}：{reason}。",
    ),
    "read_only": (
        "Read-only: log in to approve recommendations or handle alerts.",
        "只读模式：登录后才能审批补货建议或处理预警。",
    ),
    "login": ("Log in", "登录"),
    "logout": ("Log out", "退出登录"),
    "username": ("Username", "用户名"),
    "password": ("Password", "密码"),
    "login_failed": ("Username or password is incorrect.", "用户名或密码不正确。"),
    "logged_in_as": ("Logged in as {name} ({roles})", "已登录：{name}（{roles}）"),
    "not_allowed": (
        "Your role may not do this ({needed} needed).",
        "您的角色无权执行此操作（需要：{needed}）。",
    ),
    # pages
    "page_overview": ("Overview", "总览"),
    "page_customers": ("Customers", "客户"),
    "page_alerts": ("Churn alerts", "流失预警"),
    "page_review": ("Replenishment review", "补货审批"),
    "page_accuracy": ("Forecast accuracy", "预测准确度"),
    "page_quality": ("Data quality", "数据质量"),
    # overview
    "warehouses": ("Warehouses", "仓库"),
    "regions": ("Regions", "大区"),
    "channels": ("Channels", "渠道"),
    "date_range": ("Date range", "日期范围"),
    "all": ("All", "全部"),
    "kpis_on": ("KPIs on {date}", "{date} 的关键指标"),
    "target": ("target", "目标"),
    "meets_target": ("meets target", "达标"),
    "misses_target": ("misses target", "未达标"),
    "no_target": ("no target set", "未设目标"),
    "since_yesterday": ("What changed since the day before", "与前一日相比的变化"),
    "nothing_changed": ("No KPI moved from the day before.", "与前一日相比没有指标变化。"),
    "trends": ("Trends", "趋势"),
    "metric": ("Metric", "指标"),
    "value": ("Value", "数值"),
    "previous": ("Day before", "前一日"),
    "change": ("Change", "变化"),
    "better": ("better", "改善"),
    "worse": ("worse", "变差"),
    "no_slicing": (
        "This publication has no KPI components: showing the company or one warehouse only, "
        "not by channel.",
        "本次发布不含指标分量：只能查看全公司或单个仓库，不能按渠道筛选。",
    ),
    "channel_free_note": (
        "Stock metrics (stockout, turnover, days of inventory, accuracy) do not depend on "
        "the channel.",
        "库存类指标（缺货率、周转率、库存天数、盘点准确率）不区分渠道。",
    ),
    "no_kpis": ("No KPI values in this range.", "所选范围内没有指标数据。"),
    # customers
    "tiers": ("Customer tiers", "客户分层"),
    "customers_n": ("Customers", "客户数"),
    "revenue_12m": ("Revenue, last 12 months", "近12个月收入"),
    "rfm_segments": ("RFM segments", "RFM 细分"),
    "tier_movement": ("Tier movement", "分层迁移"),
    "month": ("Month", "月份"),
    "from_tier": ("Previous tier", "上月分层"),
    "to_tier": ("Tier", "本月分层"),
    "customer_360": ("Customer 360", "客户全景"),
    "search_customer": (
        "Search by name, phone, e-mail or any source id (CRM, ERP, platform:buyer)",
        "按名称、电话、邮箱或任意来源编号（CRM、ERP、平台:买家）搜索",
    ),
    "no_match": ("No customer matches “{query}”.", "没有匹配“{query}”的客户。"),
    "matches": ("{n} customer(s) match", "匹配到 {n} 位客户"),
    "choose_customer": ("Customer", "客户"),
    "source_records": ("Merged source records", "合并的来源记录"),
    "orders": ("Orders", "订单"),
    "order_timeline": ("Orders per month", "每月订单"),
    "feedback": ("Feedback", "客户反馈"),
    "alerts": ("Alerts", "预警"),
    "rule_actions": ("Rule actions", "规则动作"),
    "tier_history": ("Tier history", "分层历史"),
    "tier": ("Tier", "分层"),
    "region": ("Region", "大区"),
    "orders_12m": ("Orders, 12 months", "近12个月订单"),
    "churn_probability": ("Churn probability", "流失概率"),
    "next_order": ("Expected next order", "预计下次下单"),
    "avg_satisfaction": ("Average satisfaction", "平均满意度"),
    "return_rate": ("Return rate", "退货率"),
    "rfm": ("R / F / M", "R / F / M"),
    "last_order": ("Last order", "最近下单"),
    "none_yet": ("none", "无"),
    # alerts
    "severity": ("Severity", "严重程度"),
    "alert_type": ("Alert type", "预警类型"),
    "account_manager": ("Account manager", "客户经理"),
    "include_handled": ("Show handled alerts", "显示已处理的预警"),
    "alerts_shown": ("{n} alert(s)", "共 {n} 条预警"),
    "export": ("Export CSV", "导出 CSV"),
    "mark_handled": ("Mark handled", "标记为已处理"),
    "choose_alerts": ("Alerts to mark handled", "要标记为已处理的预警"),
    "note": ("What was done", "处理说明"),
    "handled_saved": ("{n} alert(s) marked handled.", "已将 {n} 条预警标记为已处理。"),
    "handled": ("Handled", "已处理"),
    # review
    "warehouse": ("Warehouse", "仓库"),
    "supplier": ("Supplier", "供应商"),
    "all_suppliers": ("All suppliers", "全部供应商"),
    "only_to_order": ("Only lines with an order recommended", "仅显示建议下单的行"),
    "purchases": ("Purchase recommendations", "采购建议"),
    "transfers": ("Transfer recommendations", "调拨建议"),
    "proposals": (
        "Purchase proposals (one per supplier and warehouse)",
        "采购提案（每个供应商和仓库一份）",
    ),
    "no_lines": ("No recommendation here.", "此处没有建议。"),
    "decide_line": ("Decide on one line", "逐行审批"),
    "decide_bulk": ("Decide in bulk", "批量审批"),
    "line": ("Line", "建议行"),
    "inspect": ("Look closer at", "查看详情"),
    "lines": ("Lines", "建议行"),
    "decision": ("Decision", "决定"),
    "do_approve": ("Approve", "批准"),
    "do_change": ("Change quantity", "修改数量"),
    "do_reject": ("Reject", "拒绝"),
    "quantity": ("Quantity", "数量"),
    "comment": ("Comment", "备注"),
    "bulk_comment": ("Comment for every selected line", "备注（所选各行）"),
    "save": ("Save decision", "保存决定"),
    "apply_bulk": ("Apply to selected lines", "应用到所选行"),
    "saved": (
        "{n} decision(s) saved and published to the approval feeds.",
        "已保存 {n} 个决定，并发布到审批数据源。",
    ),
    "decision_failed": ("Not saved: {error}", "未保存：{error}"),
    "sku_detail": ("{sku} at {warehouse}", "{warehouse} 的 {sku}"),
    "history_forecast": ("Demand: history, forecast and interval", "需求：历史、预测与区间"),
    "stock_projection": ("Projected stock against the reorder point", "预计库存与再订货点"),
    "ordered": ("Ordered", "订购量"),
    "forecast": ("Forecast", "预测"),
    "interval": ("Interval", "预测区间"),
    "without_order": ("Without ordering", "不下单"),
    "with_order": ("With the recommended order", "按建议下单"),
    "reorder_point": ("Reorder point", "再订货点"),
    "safety_stock": ("Safety stock", "安全库存"),
    "audit_trail": ("Decision history (audit trail)", "审批记录（审计轨迹）"),
    "no_decisions": ("No decision recorded yet.", "尚无审批记录。"),
    "undecided": ("undecided", "待审批"),
    "date": ("Date", "日期"),
    "units": ("Units", "件数"),
    # accuracy
    "overall_accuracy": ("Backtest accuracy", "回测准确度"),
    "by_warehouse": ("By warehouse", "按仓库"),
    "by_abc": ("By ABC class", "按 ABC 分类"),
    "by_model": ("By model", "按模型"),
    "wape": ("WAPE", "WAPE"),
    "baseline_wape": ("Seasonal naive WAPE", "季节性朴素法 WAPE"),
    "mase_median": ("Median MASE", "MASE 中位数"),
    "series": ("Series", "序列数"),
    "models_used": ("Models used", "使用的模型"),
    "simulation": ("Replenishment simulation against today's rules", "补货仿真：与现行规则对比"),
    "no_simulation": (
        "No simulation in this publication: run `wmsight simulate --db …`, then publish.",
        "本次发布不含仿真结果：请运行 `wmsight simulate --db …` 后再发布。",
    ),
    "policy": ("Policy", "策略"),
    "fill_rate": ("Fill rate", "满足率"),
    "stockout_days": ("Stockout days", "缺货天数"),
    "avg_inventory_value": ("Average inventory value", "平均库存金额"),
    "order_lines": ("Order lines", "订单行数"),
    # quality
    "drops": ("Drops loaded", "已加载的数据包"),
    "load_log": ("Load log", "加载日志"),
    "status": ("Status", "状态"),
    "quarantine": ("Quarantined rows", "隔离的行"),
    "search_quarantine": (
        "Search file, column, rule, message or original text",
        "搜索文件、列、规则、说明或原始内容",
    ),
    "rule": ("Rule", "规则"),
    "quarantine_by_rule": ("Quarantined rows by rule", "按规则统计的隔离行"),
    "no_quarantine": ("No quarantined row matches.", "没有匹配的隔离行。"),
    "contract_results": ("Feed contracts per run", "每次运行的数据源契约结果"),
    "unresolved": ("References waiting for their master", "等待主数据的引用"),
    "no_unresolved": ("Every reference resolves.", "所有引用均已解析。"),
    "data_docs": ("Great Expectations Data Docs", "Great Expectations 数据文档"),
    "data_docs_where": (
        "Data Docs of this run's contract checks: {path}",
        "本次运行契约校验的数据文档：{path}",
    ),
    "rows": ("rows", "行"),
    "expectation_results": ("Contract rules checked per run", "每次运行检查的契约规则"),
    "feed": ("Feed", "数据源"),
    "outcome": ("Outcome", "结果"),
    "no_expectations": ("No rule matches.", "没有匹配的规则。"),
    "data_docs_view": (
        "Open it in a browser on this machine, or download the site and open its index.html. "
        "The pages load their styles and scripts from public CDNs: offline the index lists "
        "nothing and the other pages show unstyled.",
        "请在本机浏览器中打开，或下载整个站点后打开其中的 index.html。"
        "页面的样式和脚本来自公共 CDN：离线时索引页不显示列表，其他页面没有样式。",
    ),
    "data_docs_download": ("Download the Data Docs (zip)", "下载数据文档（zip）"),
    "no_data_docs": (
        "This publication has no Data Docs (it was published before they were built).",
        "本次发布没有数据文档（发布时尚未生成数据文档）。",
    ),
}

# values shown to people: tiers, metrics, decisions, severities…
VALUES: dict[str, tuple[str, str]] = {
    "fulfillment_hours_avg": ("Fulfilment time (h)", "平均履约时长（小时）"),
    "on_time_rate": ("On-time delivery", "准时交付率"),
    "fill_rate": ("Fill rate", "满足率"),
    "stockout_rate": ("Stockout rate", "缺货率"),
    "mis_shipment_rate": ("Mis-shipment rate", "错发率"),
    "return_rate": ("Return rate", "退货率"),
    "satisfaction_rate": ("Satisfaction", "满意度"),
    "nps": ("NPS", "净推荐值"),
    "inventory_turnover": ("Inventory turnover", "库存周转率"),
    "days_of_inventory": ("Days of inventory", "库存天数"),
    "inventory_accuracy": ("Inventory accuracy", "库存准确率"),
    "high_value": ("High value", "高价值"),
    "growth": ("Growth", "成长型"),
    "regular": ("Regular", "普通"),
    "small": ("Small", "小客户"),
    "churn_risk": ("Churn risk", "流失风险"),
    "lapsed": ("Lapsed", "已流失"),
    "none": ("No tier", "未分层"),
    "new": ("New", "新客户"),
    "b2b": ("B2B", "B2B 大客户"),
    "ecommerce": ("E-commerce", "电商"),
    "(unknown)": ("Unknown", "未知"),
    "critical": ("Critical", "紧急"),
    "high": ("High", "高"),
    "medium": ("Medium", "中"),
    "low": ("Low", "低"),
    "approve": ("Approved", "已批准"),
    "change": ("Changed", "已修改"),
    "reject": ("Rejected", "已拒绝"),
    "no_order_90d": ("No order for 90 days", "90天未下单"),
    "tier_downgrade": ("Tier downgrade", "分层降级"),
    "negative_feedback": ("Negative feedback", "负面反馈"),
    "growth_customer": ("Growing customer", "成长客户"),
    "loaded": ("Loaded", "已加载"),
    "unchanged": ("Unchanged", "未变化"),
    "rejected": ("Rejected", "已拒收"),
    "unknown": ("Unknown file", "未知文件"),
    "published": ("Published", "已发布"),
    "skipped": ("Skipped", "已跳过"),
    "passed": ("Passed", "通过"),
    "failed": ("Failed", "未通过"),
    "error": ("Could not run", "无法执行"),
    "plan": ("Our plan", "本系统计划"),
    "plan_lean": ("Our plan (lean service levels)", "本系统计划（较低服务水平）"),
    "erp_rule": ("ERP reorder rule", "ERP 再订货规则"),
    "static_minmax": ("Static min/max", "静态最小/最大库存"),
    "planner": ("planner", "计划员"),
    "account_manager": ("account manager", "客户经理"),
    "analyst": ("analyst", "分析师"),
    "admin": ("admin", "管理员"),
}


class Translator:
    """Labels and formats for one language."""

    def __init__(self, language: str = DEFAULT_LANGUAGE) -> None:
        self.language = language if language in LANGUAGES else DEFAULT_LANGUAGE
        self._index = 1 if self.language == "zh" else 0

    def __call__(self, key: str, **values: object) -> str:
        text = TEXT[key][self._index]
        return text.format(**values) if values else text

    def value(self, raw: object) -> str:
        """A data value people read (a tier, a metric…) in this language; others as is."""
        if raw is None:
            return "—"
        pair = VALUES.get(str(raw))
        return pair[self._index] if pair else str(raw)

    # -- numbers ---------------------------------------------------------------------
    def number(self, value: float | None, decimals: int = 0) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "—"
        return f"{value:,.{decimals}f}"

    def percent(self, value: float | None, decimals: int = 1) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "—"
        return f"{value * 100:,.{decimals}f}%"

    def points(self, change: float | None, decimals: int = 1) -> str:
        """A change of a rate, in percentage points: "+3.6 pp" / "+3.6个百分点"."""
        if change is None:
            return "—"
        unit = " pp" if self.language == "en" else "个百分点"
        return f"{change * 100:+,.{decimals}f}{unit}"

    def money(self, value: float | None) -> str:
        """CNY: `CNY 1,234,568` in English; in Chinese ¥ with 万 / 亿 for large sums."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "—"
        if self.language == "en":
            return f"CNY {value:,.0f}"
        magnitude = abs(value)
        if magnitude >= 1e8:
            return f"¥{value / 1e8:,.2f}亿"
        if magnitude >= 1e4:
            return f"¥{value / 1e4:,.1f}万"
        return f"¥{value:,.0f}"

    def day(self, value: date | datetime | str | None) -> str:
        if value is None:
            return "—"
        if isinstance(value, str):
            value = date.fromisoformat(value[:10])
        if self.language == "en":
            return f"{value.day} {value:%b %Y}"
        return f"{value.year}年{value.month}月{value.day}日"

    def chart_dates(self, period: str = "day") -> str:
        """Plotly's (d3) format for a date axis and its hover labels, written as `day`
        writes dates: 30 Nov 2025 / 2025年11月30日; "month": Nov 2025 / 2025年11月."""
        if period == "month":
            return "%b %Y" if self.language == "en" else "%Y年%-m月"
        return "%-d %b %Y" if self.language == "en" else "%Y年%-m月%-d日"

    def moment(self, value: datetime | None) -> str:
        if value is None:
            return "—"
        return f"{self.day(value)} {value:%H:%M}"

    def metric_value(self, metric_unit: str, value: float | None) -> str:
        """A KPI in its unit: rates as %, hours and days with one decimal, NPS as points."""
        if metric_unit == "rate":
            return self.percent(value)
        if metric_unit in ("hours", "days", "ratio", "score"):
            return self.number(value, 1)
        return self.number(value, 2)
