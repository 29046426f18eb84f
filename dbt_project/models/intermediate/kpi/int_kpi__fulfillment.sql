-- Order KPIs as additive components per day, warehouse, channel and metric (see
-- fct_kpi_daily_components): a KPI over any set of warehouses and channels is
-- sum(numerator) / sum(denominator) of its rows. As FEEDS.md defines them:
-- fulfillment_hours_avg and on_time_rate over orders delivered that date (an order
-- delivered exactly at its promise is on time; one without a promise counts for hours,
-- not for on-time); fill_rate and mis_shipment_rate over order lines shipped that date.
-- A line of a shipped order that shipped no units is a line shipped short by all of it:
-- it counts for fill_rate (0 of its units), not for mis_shipment_rate (nothing shipped).
-- A line shipped over its ordered quantity fills it, no more: fill is a share of what was
-- ordered, and one over-shipped line must not make up for another's shortfall.
-- An order without a warehouse counts at the unknown member.
with order_lines as (
    select * from {{ ref('int_order_lines') }}
),

orders as (
    select
        order_id,
        -- warehouse and channel are order-level: every line of an order carries the same
        any_value(warehouse_id) as warehouse_id,
        any_value(channel) as channel,
        min(ordered_at) as ordered_at,
        max(delivered_at) as delivered_at,
        max(promised_at) as promised_at
    from order_lines
    group by order_id
),

delivered as (
    select
        coalesce(warehouse_id, '{{ var("unknown_member_key") }}') as warehouse_id,
        channel,
        cast(delivered_at as date) as kpi_date,
        -- none for an order delivered before it was ordered, which still counts for
        -- on-time against its promise
        {{ fulfillment_seconds('ordered_at', 'delivered_at') }} as fulfillment_seconds,
        case when promised_at is not null
            then cast(delivered_at <= promised_at as integer) end as on_time
    from orders
    where delivered_at is not null
),

shipped_lines as (
    select
        coalesce(warehouse_id, '{{ var("unknown_member_key") }}') as warehouse_id,
        channel,
        cast(shipped_at as date) as kpi_date,
        ordered_qty,
        shipped_qty,
        case when shipped_qty > 0 then cast(is_mis_shipment as integer) end as mis_shipped
    from order_lines
    where shipped_at is not null
),

per_order as (
    select
        kpi_date,
        warehouse_id,
        channel,
        -- whole seconds add up exactly, so the sum does not depend on the order it is taken in
        sum(fulfillment_seconds) / 3600.0 as hours_numerator,
        count(fulfillment_seconds) as hours_denominator,
        sum(on_time) as on_time_numerator,
        count(on_time) as on_time_denominator
    from delivered
    group by kpi_date, warehouse_id, channel
),

per_line as (
    select
        kpi_date,
        warehouse_id,
        channel,
        sum(least(shipped_qty, ordered_qty)) as fill_numerator,
        sum(ordered_qty) as fill_denominator,
        count(*) as lines_shipped,
        sum(mis_shipped) as mis_shipment_numerator,
        count(mis_shipped) as mis_shipment_denominator
    from shipped_lines
    group by kpi_date, warehouse_id, channel
),

final as (
    -- observations: the orders (lines) the metric is measured over
    select kpi_date, warehouse_id, channel, 'fulfillment_hours_avg' as metric,
           hours_numerator as numerator, hours_denominator as denominator,
           hours_denominator as observations
    from per_order
    union all
    select kpi_date, warehouse_id, channel, 'on_time_rate', on_time_numerator,
           on_time_denominator, on_time_denominator
    from per_order
    union all
    select kpi_date, warehouse_id, channel, 'fill_rate', fill_numerator, fill_denominator,
           lines_shipped
    from per_line
    union all
    select kpi_date, warehouse_id, channel, 'mis_shipment_rate', mis_shipment_numerator,
           mis_shipment_denominator, mis_shipment_denominator
    from per_line
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
