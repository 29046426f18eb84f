-- Per warehouse, SKU and day: the stock movements of that day, summed per type (EXTRACTS.md:
-- qty is signed, + into the warehouse, - out of it), and their net effect on on-hand.
-- A movement counts on the day of its moved_at (naive Asia/Shanghai wall time), in its
-- current version.
--
-- A day some movement was on in an earlier version keeps its row, with zero units once
-- nothing is left on it: a movement re-delivered with another day, warehouse or SKU
-- changes the days of all its versions, and last_source_drop_date says so on each of them
-- (fct_inventory_daily rolls positions forward again from the earliest such day).
--
-- Incremental: a build recomputes only the days that a version delivered since the last
-- build is or was on; every other day keeps its row. A table from before movement_day_key
-- is rebuilt whole once (its rows have no key to be replaced by: the post-hook drops them).
{{ config(
    materialized='incremental',
    unique_key='movement_day_key',
    post_hook='delete from {{ this }} where movement_day_key is null',
) }}

with movements as (
    select * from {{ ref('stg_erp__stock_movements') }}
),

versions as (
    select * from {{ ref('stg_erp__stock_movement_versions') }}
),

-- the newest drop that delivered a version of each movement (incremental: of each
-- movement delivered since the last build)
changed_movements as (
    select movement_id, max(source_drop_date) as changed_drop
    from versions
    {% if is_incremental()
        and 'movement_day_key' in adapter.get_columns_in_relation(this) | map(attribute='name') %}
    where source_drop_date > ({{ last_loaded_drop('last_source_drop_date') }})
    {% endif %}
    group by movement_id
),

-- every day any version of those movements is or was on; a movement that did not change
-- was delivered before all of them, so the newest drop is one of theirs
days_to_build as (
    select
        versions.warehouse_id,
        versions.sku,
        cast(versions.moved_at as date) as movement_date,
        max(changed_movements.changed_drop) as last_source_drop_date
    from versions
    inner join changed_movements on versions.movement_id = changed_movements.movement_id
    where versions.moved_at is not null
    group by versions.warehouse_id, versions.sku, cast(versions.moved_at as date)
),

day_totals as (
    select
        movements.warehouse_id,
        movements.sku,
        cast(movements.moved_at as date) as movement_date,
        coalesce(sum(movements.qty) filter (where movements.movement_type = 'receipt'), 0)
            as receipt_qty,
        coalesce(sum(movements.qty) filter (where movements.movement_type = 'shipment'), 0)
            as shipment_qty,
        coalesce(sum(movements.qty) filter (where movements.movement_type = 'transfer_in'), 0)
            as transfer_in_qty,
        coalesce(sum(movements.qty) filter (where movements.movement_type = 'transfer_out'), 0)
            as transfer_out_qty,
        coalesce(sum(movements.qty) filter (where movements.movement_type = 'adjustment'), 0)
            as adjustment_qty,
        coalesce(sum(movements.qty) filter (where movements.movement_type = 'return'), 0)
            as return_qty,
        -- every movement moves stock, whatever its type (an unknown type still counts)
        sum(movements.qty) as net_qty,
        count(*) as movements
    from movements
    -- a warehouse or SKU may be missing (only the key is required): null matches null
    semi join days_to_build
        on movements.warehouse_id is not distinct from days_to_build.warehouse_id
        and movements.sku is not distinct from days_to_build.sku
        and cast(movements.moved_at as date) = days_to_build.movement_date
    where movements.moved_at is not null
    group by movements.warehouse_id, movements.sku, cast(movements.moved_at as date)
),

final as (
    select
        -- one key column, so that a day without warehouse or SKU is replaced like any other
        md5(to_json([
            days_to_build.warehouse_id, days_to_build.sku,
            cast(days_to_build.movement_date as varchar)
        ])) as movement_day_key,
        days_to_build.warehouse_id,
        days_to_build.sku,
        days_to_build.movement_date,
        coalesce(day_totals.receipt_qty, 0) as receipt_qty,
        coalesce(day_totals.shipment_qty, 0) as shipment_qty,
        coalesce(day_totals.transfer_in_qty, 0) as transfer_in_qty,
        coalesce(day_totals.transfer_out_qty, 0) as transfer_out_qty,
        coalesce(day_totals.adjustment_qty, 0) as adjustment_qty,
        coalesce(day_totals.return_qty, 0) as return_qty,
        coalesce(day_totals.net_qty, 0) as net_qty,
        coalesce(day_totals.movements, 0) as movements,
        -- the newest drop that delivered a version of a movement that is or was on this
        -- day: a later build rolls positions forward again from this day when it changes
        days_to_build.last_source_drop_date
    from days_to_build
    left join day_totals
        on days_to_build.warehouse_id is not distinct from day_totals.warehouse_id
        and days_to_build.sku is not distinct from day_totals.sku
        and days_to_build.movement_date = day_totals.movement_date
)

select
    movement_day_key, warehouse_id, sku, movement_date, receipt_qty, shipment_qty,
    transfer_in_qty, transfer_out_qty, adjustment_qty, return_qty, net_qty, movements,
    last_source_drop_date
from final
