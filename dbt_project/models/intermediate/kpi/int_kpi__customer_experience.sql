-- Customer KPIs as additive components per day, warehouse, channel and metric (see
-- fct_kpi_daily_components): a KPI over any set of warehouses and channels is
-- sum(numerator) / sum(denominator) of its rows.
-- satisfaction_rate and nps over feedback submitted that date, at the warehouse and
-- channel of the order it is about. Feedback about no order (or an order we do not have)
-- has the unknown channel; feedback whose order has no warehouse (or that names no order)
-- has no warehouse: it counts company-wide only. nps = 100 x (promoters - detractors) /
-- feedback.
-- return_rate = units of returns requested that date / units shipped over the trailing
-- 30 days (that date and the 29 before it), at the return's warehouse (else its order's,
-- else the unknown member) and its order's channel (the unknown channel without one).
-- The 30-day shipments of every warehouse and channel are written on every date that has
-- a return anywhere, so that any set of them adds up to its own denominator.
with feedback as (
    select * from {{ ref('int_feedback__categorized') }}
),

order_lines as (
    select * from {{ ref('int_order_lines') }}
),

returns as (
    select * from {{ ref('stg_erp__returns') }}
),

orders as (
    select
        order_id,
        -- warehouse and channel are order-level: every line of an order carries the same
        any_value(warehouse_id) as warehouse_id,
        any_value(channel) as channel
    from order_lines
    group by order_id
),

feedback_located as (
    select
        cast(feedback.submitted_at as date) as kpi_date,
        orders.warehouse_id,
        coalesce(orders.channel, '{{ var("unknown_member_key") }}') as channel,
        -- satisfied (score >= 4) and the NPS groups (5 / 1-3) are defined once, upstream
        cast(feedback.is_satisfied as integer) as satisfied,
        case feedback.nps_group
            when 'promoter' then 1 when 'detractor' then -1 when 'passive' then 0
        end as nps_points
    from feedback
    left join orders on feedback.order_ref = orders.order_id
),

per_feedback as (
    select
        kpi_date,
        warehouse_id,
        channel,
        sum(satisfied) as satisfied,
        count(satisfied) as rated,
        sum(nps_points) * 100 as nps_numerator,
        count(nps_points) as nps_rated
    from feedback_located
    group by kpi_date, warehouse_id, channel
),

shipped_daily as (
    select
        cast(shipped_at as date) as kpi_date,
        coalesce(warehouse_id, '{{ var("unknown_member_key") }}') as warehouse_id,
        channel,
        sum(shipped_qty) as shipped_qty
    from order_lines
    where shipped_at is not null and shipped_qty > 0
    group by all
),

returned_daily as (
    select
        cast(returns.requested_at as date) as kpi_date,
        coalesce(returns.warehouse_id, orders.warehouse_id, '{{ var("unknown_member_key") }}')
            as warehouse_id,
        coalesce(orders.channel, '{{ var("unknown_member_key") }}') as channel,
        sum(returns.returned_qty) as returned_qty,
        count(*) as returns_requested
    from returns
    left join orders on returns.order_ref = orders.order_id
    where returns.requested_at is not null
    group by all
),

return_dates as (
    select distinct kpi_date from returned_daily
),

shipped_30d as (
    select
        return_dates.kpi_date,
        shipped_daily.warehouse_id,
        shipped_daily.channel,
        sum(shipped_daily.shipped_qty) as shipped_qty_30d
    from return_dates
    inner join shipped_daily
        on shipped_daily.kpi_date between return_dates.kpi_date - interval 29 days
        and return_dates.kpi_date
    group by all
),

per_return as (
    select
        coalesce(returned_daily.kpi_date, shipped_30d.kpi_date) as kpi_date,
        coalesce(returned_daily.warehouse_id, shipped_30d.warehouse_id) as warehouse_id,
        coalesce(returned_daily.channel, shipped_30d.channel) as channel,
        coalesce(returned_daily.returned_qty, 0) as returned_qty,
        coalesce(shipped_30d.shipped_qty_30d, 0) as shipped_qty_30d,
        coalesce(returned_daily.returns_requested, 0) as returns_requested
    from returned_daily
    full outer join shipped_30d
        on returned_daily.kpi_date = shipped_30d.kpi_date
        and returned_daily.warehouse_id = shipped_30d.warehouse_id
        and returned_daily.channel = shipped_30d.channel
),

final as (
    -- observations: the feedback (returns) the metric is measured over; a cell with only
    -- 30-day shipments has none, so a day without returns has no return_rate
    select kpi_date, warehouse_id, channel, 'satisfaction_rate' as metric,
           satisfied as numerator, rated as denominator, rated as observations
    from per_feedback
    union all
    select kpi_date, warehouse_id, channel, 'nps', nps_numerator, nps_rated, nps_rated
    from per_feedback
    union all
    select kpi_date, warehouse_id, channel, 'return_rate', returned_qty, shipped_qty_30d,
           returns_requested
    from per_return
)

select
    kpi_date,
    warehouse_id,
    channel,
    metric,
    cast(coalesce(numerator, 0) as double) as numerator,
    cast(coalesce(denominator, 0) as double) as denominator,
    cast(observations as bigint) as observations
from final
where observations > 0 or denominator <> 0 or numerator <> 0
