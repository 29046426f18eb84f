-- Stock position per warehouse and SKU on every date the ERP delivered a snapshot, with
-- what was on order (open purchase orders), ordered and shipped that day.
with snapshots as (
    select * from {{ ref('stg_erp__stock_snapshots') }}
),

purchase_orders as (
    select * from {{ ref('stg_erp__purchase_orders') }}
),

flows as (
    select * from {{ ref('int_warehouse_sku_daily_flows') }}
),

warehouses as (
    select warehouse_id from {{ ref('dim_warehouse') }}
),

products as (
    select sku, unit_cost_cny from {{ ref('dim_product') }}
),

on_order as (
    select
        snapshots.snapshot_date,
        snapshots.warehouse_id,
        snapshots.sku,
        sum(purchase_orders.ordered_qty) as on_order_qty
    from snapshots
    inner join purchase_orders
        on purchase_orders.warehouse_id = snapshots.warehouse_id
        and purchase_orders.sku = snapshots.sku
        and cast(purchase_orders.ordered_at as date) <= snapshots.snapshot_date
        and (purchase_orders.received_at is null
             or cast(purchase_orders.received_at as date) > snapshots.snapshot_date)
    group by all
),

final as (
    select
        snapshots.snapshot_date as position_date,
        -- facts keep their id; the key points at the unknown member until the master arrives
        case when warehouses.warehouse_id is null
            then '{{ var("unknown_member_key") }}' else snapshots.warehouse_id end
            as warehouse_key,
        snapshots.warehouse_id,
        case when products.sku is null
            then '{{ var("unknown_member_key") }}' else snapshots.sku end as sku_key,
        snapshots.sku,
        snapshots.on_hand,
        snapshots.reserved,
        snapshots.in_transit,
        snapshots.damaged,
        snapshots.available,
        coalesce(on_order.on_order_qty, 0) as on_order,
        coalesce(flows.ordered_qty, 0) as ordered_qty,
        coalesce(flows.shipped_qty, 0) as shipped_qty,
        coalesce(flows.ordered_qty, 0) > 0 and snapshots.available <= 0 as is_stockout,
        snapshots.on_hand * products.unit_cost_cny as inventory_value_cny
    from snapshots
    left join on_order
        on snapshots.snapshot_date = on_order.snapshot_date
        and snapshots.warehouse_id = on_order.warehouse_id
        and snapshots.sku = on_order.sku
    left join flows
        on snapshots.snapshot_date = flows.flow_date
        and snapshots.warehouse_id = flows.warehouse_id
        and snapshots.sku = flows.sku
    left join warehouses on snapshots.warehouse_id = warehouses.warehouse_id
    left join products on snapshots.sku = products.sku
)

select
    position_date, warehouse_key, warehouse_id, sku_key, sku, on_hand, reserved, in_transit,
    damaged, available, on_order, ordered_qty, shipped_qty, is_stockout, inventory_value_cny
from final
