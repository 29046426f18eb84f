"""Tables as people read them: columns named in the reader's language, money and rates
formatted, categorical values (tiers, severities, decisions…) translated."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboards.i18n import Translator

# column: (English, 中文)
COLUMNS: dict[str, tuple[str, str]] = {
    "warehouse_id": ("Warehouse", "仓库"),
    "from_warehouse_id": ("From", "调出仓"),
    "to_warehouse_id": ("To", "调入仓"),
    "sku": ("SKU", "SKU"),
    "product_name": ("Product", "商品"),
    "supplier_id": ("Supplier", "供应商"),
    "proposal_id": ("Proposal", "采购提案"),
    "abc_class": ("ABC", "ABC"),
    "available": ("Available", "可用"),
    "on_hand": ("On hand", "在库"),
    "on_order": ("On order", "在途采购"),
    "in_transit": ("In transit", "调拨在途"),
    "transfer_in_qty": ("Transfer in", "调入"),
    "lead_time_days": ("Lead time (d)", "提前期（天）"),
    "demand_per_day": ("Demand/day", "日需求"),
    "forecast_demand_lead_time": ("Demand over lead time", "提前期内需求"),
    "service_level_target": ("Service level", "服务水平"),
    "safety_stock": ("Safety stock", "安全库存"),
    "reorder_point": ("Reorder point", "再订货点"),
    "order_up_to": ("Order-up-to", "补货上限"),
    "eoq": ("EOQ", "经济订货量"),
    "moq": ("MOQ", "起订量"),
    "pack_size": ("Pack", "包装数"),
    "recommended_order_qty": ("Recommended qty", "建议数量"),
    "qty": ("Qty", "数量"),
    "distance_km": ("Distance (km)", "距离（公里）"),
    "order_value_cny": ("Order value (CNY)", "订单金额（元）"),
    "days_of_cover": ("Days of cover", "可供天数"),
    "projected_stockout_date": ("Projected stockout", "预计缺货日"),
    "reason": ("Reason", "原因"),
    "decision": ("Decision", "决定"),
    "final_qty": ("Decided qty", "确定数量"),
    "comment": ("Comment", "备注"),
    "decided_by": ("Decided by", "审批人"),
    "decided_at": ("Decided at (UTC)", "审批时间（UTC）"),
    "lines": ("Lines", "行数"),
    "units": ("Units", "件数"),
    "value_cny": ("Value (CNY)", "金额（元）"),
    "earliest_stockout_date": ("Earliest stockout", "最早缺货日"),
    "severity": ("Severity", "严重程度"),
    "alert_type": ("Alert", "预警类型"),
    "display_name": ("Customer", "客户"),
    "tier": ("Tier", "分层"),
    "previous_tier": ("Previous tier", "上月分层"),
    "region": ("Region", "大区"),
    "account_manager": ("Account manager", "客户经理"),
    "recommended_action": ("Recommended action", "建议动作"),
    "raised_on": ("Raised on", "预警日期"),
    "handled": ("Handled", "已处理"),
    "handled_by": ("Handled by", "处理人"),
    "handling_note": ("Note", "处理说明"),
    "customer_key": ("Customer key", "客户编号"),
    "source_system": ("System", "来源系统"),
    "source_id": ("Source id", "来源编号"),
    "match_rule": ("Matched by", "匹配规则"),
    "match_score": ("Match score", "匹配分"),
    "source_name": ("Name", "名称"),
    "contact_name": ("Contact", "联系人"),
    "phone": ("Phone", "电话"),
    "email": ("E-mail", "邮箱"),
    "tax_id": ("Tax id", "税号"),
    "province": ("Province", "省份"),
    "city": ("City", "城市"),
    "order_id": ("Order", "订单号"),
    "channel": ("Channel", "渠道"),
    "platform": ("Platform", "平台"),
    "ordered_at": ("Ordered", "下单时间"),
    "delivered_at": ("Delivered", "签收时间"),
    "status": ("Status", "状态"),
    "amount_cny": ("Amount (CNY)", "金额（元）"),
    "returned_units": ("Returned", "退货件数"),
    "mis_shipped": ("Mis-shipped", "错发"),
    "on_time": ("On time", "准时"),
    "feedback_id": ("Feedback", "反馈编号"),
    "submitted_at": ("Submitted", "提交时间"),
    "score": ("Score", "评分"),
    "category": ("Category", "类别"),
    "department": ("Department", "责任部门"),
    "severity_reason": ("Why this severity", "严重程度依据"),
    "order_ref": ("Order", "订单"),
    "rule_id": ("Rule", "规则"),
    "action": ("Action", "动作"),
    "triggered_at": ("Triggered", "触发时间"),
    "month": ("Month", "月份"),
    "drop_date": ("Drop", "数据包日期"),
    "source_file": ("File", "文件"),
    "files": ("Files", "文件数"),
    "files_rejected": ("Rejected files", "拒收文件"),
    "files_unknown": ("Unknown files", "未知文件"),
    "encoding": ("Encoding", "编码"),
    "rows_read": ("Rows read", "读取行数"),
    "rows_loaded": ("Rows loaded", "加载行数"),
    "rows_quarantined": ("Rows quarantined", "隔离行数"),
    "extra_columns": ("Extra columns", "多余列"),
    "missing_columns": ("Missing columns", "缺失列"),
    "message": ("Message", "说明"),
    "started_at": ("Started", "开始时间"),
    "finished_at": ("Finished", "结束时间"),
    "line": ("Line", "行号"),
    "column_name": ("Column", "列"),
    "rule": ("Rule", "规则"),
    "key_text": ("Key", "主键"),
    "original_text": ("Original text", "原始内容"),
    "rows": ("Rows", "行数"),
    "as_of": ("As of", "数据日期"),
    "run_id": ("Run", "运行编号"),
    "feed": ("Feed", "数据源"),
    "contract_version": ("Contract", "契约版本"),
    "note": ("Note", "说明"),
    "rules_checked": ("Rules checked", "检查规则数"),
    "rules_broken": ("Rules broken", "违反规则数"),
    "check": ("Check", "校验"),
    "outcome": ("Outcome", "结果"),
    "unexpected": ("Rows breaking it", "违反的行数"),
    "examples": ("Examples", "示例"),
    "fact_key": ("Fact", "事实记录"),
    "missing_reference": ("Missing", "缺少"),
    "missing_id": ("Missing id", "缺少的编号"),
    "first_seen_drop": ("First seen in drop", "首次出现于数据包"),
    "last_seen_drop": ("Current version from drop", "当前版本所在数据包"),
    "model": ("Model", "模型"),
    "demand_class": ("Demand class", "需求类型"),
    "series": ("Series", "序列数"),
    "wape": ("WAPE", "WAPE"),
    "baseline_wape": ("Seasonal naive WAPE", "季节性朴素法 WAPE"),
    "wape_gain": ("Better than naive by", "较朴素法改善"),
    "bias": ("Bias", "偏差"),
    "mase_mean": ("Mean MASE", "MASE 均值"),
    "mase_median": ("Median MASE", "MASE 中位数"),
    "baseline_mase_median": ("Naive median MASE", "朴素法 MASE 中位数"),
    "policy": ("Policy", "策略"),
    "fill_rate": ("Fill rate", "满足率"),
    "stockout_days": ("Stockout days", "缺货天数"),
    "avg_inventory_value_cny": ("Avg inventory (CNY)", "平均库存（元）"),
    "order_lines": ("Order lines", "订单行数"),
    "transfers": ("Transfers", "调拨次数"),
    "demand_units": ("Demand units", "需求件数"),
    "shipped_units": ("Shipped units", "发货件数"),
    "window_start": ("From", "开始"),
    "window_end": ("To", "结束"),
    "weeks": ("Weeks", "周数"),
    "plan_date": ("Plan date", "计划日期"),
    "kind": ("Kind", "类型"),
    "recommended_qty": ("Recommended qty", "建议数量"),
}
RATES = {
    "service_level_target", "fill_rate", "wape", "baseline_wape", "bias", "wape_gain",
    "match_score", "return_rate", "churn_probability",
}  # fmt: skip
MONEY = {"order_value_cny", "amount_cny", "value_cny", "avg_inventory_value_cny", "revenue_12m"}
# columns whose values are codes people read in their language
TRANSLATED_VALUES = {
    "tier", "previous_tier", "severity", "alert_type", "decision", "channel", "status",
    "policy", "outcome",
}  # fmt: skip


def column_config(frame: pl.DataFrame, t: Translator) -> dict:
    index = 1 if t.language == "zh" else 0
    config = {}
    for name, dtype in frame.schema.items():
        label = COLUMNS[name][index] if name in COLUMNS else name
        if name in RATES and dtype.is_numeric():
            config[name] = st.column_config.NumberColumn(label, format="percent")
        elif dtype.is_numeric():
            config[name] = st.column_config.NumberColumn(label, format="localized")
        elif dtype == pl.Date:
            config[name] = st.column_config.DateColumn(
                label, format="YYYY年M月D日" if t.language == "zh" else "D MMM YYYY"
            )
        else:
            config[name] = label
    return config


def localized(frame: pl.DataFrame, t: Translator) -> pl.DataFrame:
    """Codes (tiers, severities, …) as words of the reader's language."""
    return frame.with_columns(
        pl.col(name).map_elements(t.value, return_dtype=pl.String)
        for name in frame.columns
        if name in TRANSLATED_VALUES and frame.schema[name] == pl.String
    )


def show(frame: pl.DataFrame | list, t: Translator, target=st, key: str | None = None) -> None:
    """A read-only table in the reader's language."""
    if isinstance(frame, list):
        frame = pl.DataFrame(frame)
    target.dataframe(
        localized(frame, t), hide_index=True, column_config=column_config(frame, t), key=key
    )
