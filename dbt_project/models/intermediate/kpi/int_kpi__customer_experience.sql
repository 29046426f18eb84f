-- Customer KPIs per day and warehouse (and 'ALL'): satisfaction_rate and nps over
-- feedback submitted that date (feedback joins a warehouse through its order; feedback
-- without an order counts company-wide only; a day without feedback has no row, not a
-- zero); return_rate = units of returns requested that date / units shipped over the
-- trailing 30 days (that date and the 29 before it), at the return's warehouse (else its
-- order's).
with feedback as (
    select * from {{ ref('int_feedback__categorized') }}
),

order_lines as (
    select * from {{ ref('int_order_lines') }}
),

returns as (
    select * from {{ ref('stg_erp__returns') }}
),

order_warehouses as (
    select order_id, any_value(warehouse_id) as warehouse_id
    from order_lines
    group by order_id
),

feedback_located as (
    select
        order_warehouses.warehouse_id,
        cast(feedback.submitted_at as date) as kpi_date,
        -- satisfied (score >= 4) and the NPS groups (5 / 1-3) are defined once, upstream
        cast(feedback.is_satisfied as integer) as satisfied,
        cast(feedback.nps_group = 'promoter' as integer) as promoter,
        cast(feedback.nps_group = 'detractor' as integer) as detractor
    from feedback
    left join order_warehouses on feedback.order_ref = order_warehouses.order_id
),

feedback_scoped as (
    select * from feedback_located where warehouse_id is not null
    union all
    select * replace ('ALL' as warehouse_id) from feedback_located
),

per_feedback as (
    select
        kpi_date,
        warehouse_id,
        avg(satisfied) as satisfaction_rate,
        (avg(promoter) - avg(detractor)) * 100 as nps
    from feedback_scoped
    group by kpi_date, warehouse_id
),

shipped as (
    select warehouse_id, cast(shipped_at as date) as kpi_date, shipped_qty
    from order_lines
    where shipped_at is not null and shipped_qty > 0
),

returned as (
    select
        coalesce(returns.warehouse_id, order_warehouses.warehouse_id) as warehouse_id,
        cast(returns.requested_at as date) as kpi_date,
        returns.returned_qty
    from returns
    left join order_warehouses on returns.order_ref = order_warehouses.order_id
),

shipped_scoped as ({{ with_company_scope('shipped') }}),
returned_scoped as ({{ with_company_scope('returned') }}),

daily as (
    select warehouse_id, kpi_date, sum(shipped_qty) as shipped_qty, 0 as returned_qty
    from shipped_scoped group by all
    union all
    select warehouse_id, kpi_date, 0 as shipped_qty, sum(returned_qty) as returned_qty
    from returned_scoped group by all
),

daily_totals as (
    select warehouse_id, kpi_date, sum(shipped_qty) as shipped_qty,
           sum(returned_qty) as returned_qty
    from daily
    group by warehouse_id, kpi_date
),

rolling as (
    select
        warehouse_id,
        kpi_date,
        returned_qty,
        sum(shipped_qty) over (
            partition by warehouse_id order by kpi_date
            range between interval 29 days preceding and current row
        ) as shipped_qty_30d
    from daily_totals
),

per_return as (
    select
        kpi_date,
        warehouse_id,
        returned_qty / nullif(shipped_qty_30d, 0) as return_rate
    from rolling
    where returned_qty > 0
),

final as (
    unpivot per_feedback on satisfaction_rate, nps into name metric value metric_value
    union all
    unpivot per_return on return_rate into name metric value metric_value
)

select kpi_date, warehouse_id, metric, cast(metric_value as double) as metric_value
from final
where metric_value is not null
