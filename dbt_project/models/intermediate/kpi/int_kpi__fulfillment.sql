-- Order KPIs per day and warehouse (and 'ALL'), as FEEDS.md defines them:
-- fulfillment_hours_avg and on_time_rate over orders delivered that date (an order
-- delivered exactly at its promise is on time; one without a promise counts for hours,
-- not for on-time); fill_rate and mis_shipment_rate over order lines shipped that date.
-- A line of a shipped order that shipped no units is a line shipped short by all of it:
-- it counts for fill_rate (0 of its units), not for mis_shipment_rate (nothing shipped).
with order_lines as (
    select * from {{ ref('int_order_lines') }}
),

orders as (
    select
        order_id,
        any_value(warehouse_id) as warehouse_id,
        min(ordered_at) as ordered_at,
        max(delivered_at) as delivered_at,
        max(promised_at) as promised_at
    from order_lines
    group by order_id
),

delivered as (
    select
        warehouse_id,
        cast(delivered_at as date) as kpi_date,
        date_diff('second', ordered_at, delivered_at) / 3600.0 as fulfillment_hours,
        case when promised_at is not null
            then cast(delivered_at <= promised_at as integer) end as on_time
    from orders
    where delivered_at is not null
),

shipped_lines as (
    select
        warehouse_id,
        cast(shipped_at as date) as kpi_date,
        ordered_qty,
        shipped_qty,
        case when shipped_qty > 0 then cast(is_mis_shipment as integer) end as mis_shipped
    from order_lines
    where shipped_at is not null
),

delivered_scoped as ({{ with_company_scope('delivered') }}),
shipped_scoped as ({{ with_company_scope('shipped_lines') }}),

per_order as (
    select
        kpi_date,
        warehouse_id,
        avg(fulfillment_hours) as fulfillment_hours_avg,
        avg(on_time) as on_time_rate
    from delivered_scoped
    group by kpi_date, warehouse_id
),

per_line as (
    select
        kpi_date,
        warehouse_id,
        sum(shipped_qty) / sum(ordered_qty) as fill_rate,
        avg(mis_shipped) as mis_shipment_rate
    from shipped_scoped
    group by kpi_date, warehouse_id
),

final as (
    unpivot per_order on fulfillment_hours_avg, on_time_rate into name metric value metric_value
    union all
    unpivot per_line on fill_rate, mis_shipment_rate into name metric value metric_value
)

select kpi_date, warehouse_id, metric, cast(metric_value as double) as metric_value
from final
where metric_value is not null
