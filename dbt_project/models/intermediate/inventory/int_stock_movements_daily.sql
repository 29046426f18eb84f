-- Per warehouse, SKU and day: the stock movements of that day, summed per type (EXTRACTS.md:
-- qty is signed, + into the warehouse, - out of it), and their net effect on on-hand.
-- A movement counts on the day of its moved_at (naive Asia/Shanghai wall time).
with movements as (
    select * from {{ ref('stg_erp__stock_movements') }}
),

final as (
    select
        warehouse_id,
        sku,
        cast(moved_at as date) as movement_date,
        coalesce(sum(qty) filter (where movement_type = 'receipt'), 0) as receipt_qty,
        coalesce(sum(qty) filter (where movement_type = 'shipment'), 0) as shipment_qty,
        coalesce(sum(qty) filter (where movement_type = 'transfer_in'), 0) as transfer_in_qty,
        coalesce(sum(qty) filter (where movement_type = 'transfer_out'), 0) as transfer_out_qty,
        coalesce(sum(qty) filter (where movement_type = 'adjustment'), 0) as adjustment_qty,
        coalesce(sum(qty) filter (where movement_type = 'return'), 0) as return_qty,
        -- every movement moves stock, whatever its type (an unknown type still counts)
        sum(qty) as net_qty,
        count(*) as movements,
        -- the newest drop that delivered one of these movements: a later build rolls
        -- positions forward again from this day when it changes
        max(source_drop_date) as last_source_drop_date
    from movements
    where moved_at is not null
    group by warehouse_id, sku, cast(moved_at as date)
)

select
    warehouse_id, sku, movement_date, receipt_qty, shipment_qty, transfer_in_qty,
    transfer_out_qty, adjustment_qty, return_qty, net_qty, movements, last_source_drop_date
from final
