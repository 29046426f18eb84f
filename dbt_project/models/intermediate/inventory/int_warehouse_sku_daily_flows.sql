-- Per warehouse, SKU and day: units ordered (demand, cancelled orders included: the
-- customer asked for them) and units shipped.
with order_lines as (
    select * from {{ ref('int_order_lines') }}
),

demand as (
    select
        coalesce(warehouse_id, '{{ var("unknown_member_key") }}') as warehouse_id,
        sku,
        cast(ordered_at as date) as flow_date,
        sum(ordered_qty) as ordered_qty,
        0 as shipped_qty
    from order_lines
    where ordered_at is not null
    group by all
),

shipments as (
    select
        coalesce(warehouse_id, '{{ var("unknown_member_key") }}') as warehouse_id,
        shipped_sku as sku,
        cast(shipped_at as date) as flow_date,
        0 as ordered_qty,
        sum(shipped_qty) as shipped_qty
    from order_lines
    where shipped_at is not null and shipped_qty > 0
    group by all
),

final as (
    select
        warehouse_id,
        sku,
        flow_date,
        sum(ordered_qty) as ordered_qty,
        sum(shipped_qty) as shipped_qty
    from (select * from demand union all select * from shipments)
    group by warehouse_id, sku, flow_date
)

select warehouse_id, sku, flow_date, ordered_qty, shipped_qty from final
