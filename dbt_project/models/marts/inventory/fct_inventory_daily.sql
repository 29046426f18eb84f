-- Stock position per warehouse and SKU for EVERY day from the cell's first snapshot to
-- the newest drop that delivered stock records (snapshots or movements), with what was on
-- order (open purchase orders), ordered and shipped that day, and the stockout flag.
--
-- A snapshot is the position at the end of its date. Between snapshots on_hand is rolled
-- forward with the day's movements (receipts, shipments, transfers in and out, adjustments,
-- returns: signed, + in, - out); a snapshot re-anchors it, and on_hand_drift keeps by how
-- much the rolled-forward book missed the snapshot (rolled - snapshot). Reserved,
-- in_transit and damaged have no movements of their own: they carry the last snapshot's
-- value until the next one, so available between snapshots is on_hand as moved minus the
-- last known reservations and damage.
-- Quantities only: stock is valued where it is used, at the product's current cost, so a
-- cost change never leaves old rows valued differently from new ones.
--
-- Incremental: a build rebuilds, per warehouse and SKU, only the days from the earliest
-- one new data touches (a snapshot, also a late one; a movement; a purchase order from its
-- order date; an order line's order or ship date; a master that arrived) plus the new days
-- up to the newest drop. It rolls forward again from the last snapshot before that day.
{{ config(
    materialized='incremental',
    unique_key=['position_date', 'warehouse_id', 'sku'],
) }}

with snapshots as (
    select * from {{ ref('stg_erp__stock_snapshots') }}
),

movements as (
    select * from {{ ref('int_stock_movements_daily') }}
),

purchase_orders as (
    select * from {{ ref('stg_erp__purchase_orders') }}
),

flows as (
    select * from {{ ref('int_warehouse_sku_daily_flows') }}
),

order_lines as (
    select * from {{ ref('int_order_lines') }}
),

warehouses as (
    select warehouse_id from {{ ref('dim_warehouse') }}
),

products as (
    select sku from {{ ref('dim_product') }}
),

-- the last day positions are known for: the newest drop with stock records in it
horizon as (
    select max(drop_date) as horizon_date
    from (
        select source_drop_date as drop_date from snapshots
        union all
        select last_source_drop_date from movements
    )
),

cells as (
    select warehouse_id, sku, min(snapshot_date) as first_snapshot_date
    from snapshots
    group by warehouse_id, sku
),

{% if is_incremental() %}
{#- Positions run to the horizon of the previous build, so its last position date is the
    newest stock drop already absorbed. A table from before daily positions (no drift
    column) counts as empty: everything is rebuilt once. -#}
{%- set existing_columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list %}
loaded as (
    {% if 'on_hand_drift' in existing_columns -%}
    select coalesce(max(position_date), date '1900-01-01') as last_drop from {{ this }}
    {%- else -%}
    select date '1900-01-01' as last_drop
    {%- endif %}
),

-- demand and shipments per cell and day as the order lines say now, over the days built
current_flows as (
    select flows.warehouse_id, flows.sku, flows.flow_date as position_date,
           flows.ordered_qty, flows.shipped_qty
    from flows
    inner join cells on flows.warehouse_id = cells.warehouse_id and flows.sku = cells.sku
    where flows.flow_date >= cells.first_snapshot_date
        and flows.flow_date <= (select last_drop from loaded)
        and (flows.ordered_qty <> 0 or flows.shipped_qty <> 0)
),

-- and as they were built
built_flows as (
    select warehouse_id, sku, position_date, ordered_qty, shipped_qty from {{ this }}
    where ordered_qty <> 0 or shipped_qty <> 0
),

changes as (
    select warehouse_id, sku, snapshot_date as changed_from from snapshots
    where source_drop_date > (select last_drop from loaded)
    union all
    select warehouse_id, sku, movement_date from movements
    where last_source_drop_date > (select last_drop from loaded)
    union all
    -- a new or received purchase order changes on_order from the day it was placed
    select warehouse_id, sku, cast(ordered_at as date) from purchase_orders
    where source_drop_date > (select last_drop from loaded)
    union all
    select warehouse_id, sku, cast(ordered_at as date) from order_lines
    where last_changed_drop > (select last_drop from loaded) and ordered_at is not null
    union all
    select warehouse_id, shipped_sku, cast(shipped_at as date) from order_lines
    where last_changed_drop > (select last_drop from loaded) and shipped_at is not null
    union all
    -- demand and shipments as built against what the order lines say now: a line can
    -- leave a cell without a new drop date there (an item removed from a newer version of
    -- its order, an order re-allocated to another warehouse, another SKU shipped)
    select warehouse_id, sku, min(position_date)
    from ({{ differing_rows('current_flows', 'built_flows') }})
    group by warehouse_id, sku
    union all
    -- rows still waiting for their warehouse or SKU master: rebuilt until it arrives
    select warehouse_id, sku, min(position_date) from {{ this }}
    where warehouse_key = '{{ var("unknown_member_key") }}'
        or sku_key = '{{ var("unknown_member_key") }}'
    group by warehouse_id, sku
),

earliest_changes as (
    select warehouse_id, sku, min(changed_from) as changed_from
    from changes
    group by warehouse_id, sku
),

rebuilds as (
    select
        cells.warehouse_id,
        cells.sku,
        cells.first_snapshot_date,
        -- every cell gets its new days; changed cells also the days since the change
        greatest(
            cells.first_snapshot_date,
            least(
                coalesce(earliest_changes.changed_from, loaded.last_drop + 1),
                loaded.last_drop + 1
            )
        ) as rebuild_from
    from cells
    cross join loaded
    left join earliest_changes
        on cells.warehouse_id = earliest_changes.warehouse_id
        and cells.sku = earliest_changes.sku
),

-- Per cell, the snapshot its first rebuilt day anchors on and the one before that: running
-- totals are only ever differenced within a cell from that earlier snapshot on, so the
-- snapshots before it and the movements up to its day cannot change a rebuilt row. A
-- daily build then rolls forward weeks of each cell, not its whole history.
snapshot_dates as (
    select
        warehouse_id,
        sku,
        snapshot_date,
        lag(snapshot_date) over (
            partition by warehouse_id, sku order by snapshot_date
        ) as previous_snapshot_date
    from snapshots
),

cutoffs as (
    select
        rebuilds.warehouse_id,
        rebuilds.sku,
        coalesce(anchor.previous_snapshot_date, date '1900-01-01') as cutoff_date
    from rebuilds
    asof left join snapshot_dates as anchor
        on rebuilds.warehouse_id = anchor.warehouse_id
        and rebuilds.sku = anchor.sku
        and rebuilds.rebuild_from >= anchor.snapshot_date
    where rebuilds.rebuild_from <= (select horizon_date from horizon)
),

needed_snapshots as (
    select snapshots.*
    from snapshots
    inner join cutoffs
        on snapshots.warehouse_id = cutoffs.warehouse_id and snapshots.sku = cutoffs.sku
    where snapshots.snapshot_date >= cutoffs.cutoff_date
),

needed_movements as (
    select movements.*
    from movements
    inner join cutoffs
        on movements.warehouse_id = cutoffs.warehouse_id and movements.sku = cutoffs.sku
    where movements.movement_date > cutoffs.cutoff_date
),
{% else %}
rebuilds as (
    select warehouse_id, sku, first_snapshot_date, first_snapshot_date as rebuild_from
    from cells
),

needed_snapshots as (
    select * from snapshots
),

needed_movements as (
    select * from movements
),
{% endif %}

-- Set-based roll-forward: on_hand on a day = the last snapshot's on_hand + the net of the
-- movements after the snapshot's day up to this day, read as the difference of the cell's
-- running movement total at both days (as-of joins, no walk over the days).
movement_levels as (
    select
        warehouse_id,
        sku,
        movement_date,
        net_qty,
        sum(net_qty) over (
            partition by warehouse_id, sku order by movement_date
            rows between unbounded preceding and current row
        ) as running_net_qty
    from needed_movements
),

-- every snapshot with its drift: the previous snapshot moved by the movements since,
-- minus what this one found (null for the cell's first snapshot)
anchored_snapshots as (
    select
        snapshots.*,
        lag(snapshots.snapshot_date) over cell_snapshots as previous_snapshot_date,
        lag(snapshots.on_hand) over cell_snapshots as previous_on_hand
    from needed_snapshots as snapshots
    window cell_snapshots as (
        partition by snapshots.warehouse_id, snapshots.sku order by snapshots.snapshot_date
    )
),

snapshot_levels as (
    select
        anchored_snapshots.*,
        coalesce(at_snapshot.running_net_qty, 0) as running_net_at_snapshot,
        anchored_snapshots.previous_on_hand
            + coalesce(at_snapshot.running_net_qty, 0)
            - coalesce(at_previous.running_net_qty, 0)
            - anchored_snapshots.on_hand as on_hand_drift
    from anchored_snapshots
    asof left join movement_levels as at_snapshot
        on anchored_snapshots.warehouse_id = at_snapshot.warehouse_id
        and anchored_snapshots.sku = at_snapshot.sku
        and anchored_snapshots.snapshot_date >= at_snapshot.movement_date
    asof left join movement_levels as at_previous
        on anchored_snapshots.warehouse_id = at_previous.warehouse_id
        and anchored_snapshots.sku = at_previous.sku
        and anchored_snapshots.previous_snapshot_date >= at_previous.movement_date
),

days as (
    select
        rebuilds.warehouse_id,
        rebuilds.sku,
        cast(unnest(generate_series(
            rebuilds.rebuild_from, horizon.horizon_date, interval 1 day
        )) as date) as position_date
    from rebuilds
    cross join horizon
    where rebuilds.rebuild_from <= horizon.horizon_date
),

rebuilt as (
    select
        days.warehouse_id,
        days.sku,
        days.position_date,
        anchor.snapshot_date = days.position_date as is_snapshot_day,
        cast(
            anchor.on_hand
            + coalesce(at_day.running_net_qty, 0) - anchor.running_net_at_snapshot
            as bigint
        ) as on_hand,
        -- no movements of their own: carried from the last snapshot
        anchor.reserved,
        anchor.in_transit,
        anchor.damaged,
        case when anchor.snapshot_date = days.position_date
            then cast(anchor.on_hand_drift as bigint) end as on_hand_drift,
        anchor.source_drop_date as snapshot_drop_date
    from days
    asof inner join snapshot_levels as anchor
        on days.warehouse_id = anchor.warehouse_id
        and days.sku = anchor.sku
        and days.position_date >= anchor.snapshot_date
    asof left join movement_levels as at_day
        on days.warehouse_id = at_day.warehouse_id
        and days.sku = at_day.sku
        and days.position_date >= at_day.movement_date
),

-- open purchase-order units per cell, as a running level that changes when a PO is placed
-- (+) and when it is received (-); each day reads the level of its latest change
on_order_changes as (
    select warehouse_id, sku, change_date, sum(qty) as qty
    from (
        select warehouse_id, sku, cast(ordered_at as date) as change_date, ordered_qty as qty
        from purchase_orders
        where ordered_at is not null
        union all
        select warehouse_id, sku, cast(received_at as date), -ordered_qty
        from purchase_orders
        where ordered_at is not null and received_at is not null
    )
    group by warehouse_id, sku, change_date
),

on_order_levels as (
    select
        warehouse_id,
        sku,
        change_date,
        sum(qty) over (
            partition by warehouse_id, sku order by change_date
            rows between unbounded preceding and current row
        ) as on_order_qty
    from on_order_changes
),

final as (
    select
        rebuilt.position_date,
        -- facts keep their id; the key points at the unknown member until the master arrives
        case when warehouses.warehouse_id is null
            then '{{ var("unknown_member_key") }}' else rebuilt.warehouse_id end
            as warehouse_key,
        rebuilt.warehouse_id,
        case when products.sku is null
            then '{{ var("unknown_member_key") }}' else rebuilt.sku end as sku_key,
        rebuilt.sku,
        rebuilt.on_hand,
        rebuilt.reserved,
        rebuilt.in_transit,
        rebuilt.damaged,
        -- reserved + damaged above on_hand is a backorder: available goes negative
        rebuilt.on_hand - rebuilt.reserved - rebuilt.damaged as available,
        cast(coalesce(on_order_levels.on_order_qty, 0) as bigint) as on_order,
        coalesce(flows.ordered_qty, 0) as ordered_qty,
        coalesce(flows.shipped_qty, 0) as shipped_qty,
        coalesce(flows.ordered_qty, 0) > 0
            and rebuilt.on_hand - rebuilt.reserved - rebuilt.damaged <= 0 as is_stockout,
        cast(coalesce(movements.net_qty, 0) as bigint) as net_movement_qty,
        rebuilt.is_snapshot_day,
        rebuilt.on_hand_drift,
        rebuilt.snapshot_drop_date
    from rebuilt
    asof left join on_order_levels
        on rebuilt.warehouse_id = on_order_levels.warehouse_id
        and rebuilt.sku = on_order_levels.sku
        and rebuilt.position_date >= on_order_levels.change_date
    left join needed_movements as movements
        on rebuilt.position_date = movements.movement_date
        and rebuilt.warehouse_id = movements.warehouse_id
        and rebuilt.sku = movements.sku
    left join flows
        on rebuilt.position_date = flows.flow_date
        and rebuilt.warehouse_id = flows.warehouse_id
        and rebuilt.sku = flows.sku
    left join warehouses on rebuilt.warehouse_id = warehouses.warehouse_id
    left join products on rebuilt.sku = products.sku
)

select
    position_date, warehouse_key, warehouse_id, sku_key, sku, on_hand, reserved, in_transit,
    damaged, available, on_order, ordered_qty, shipped_qty, is_stockout, net_movement_qty,
    is_snapshot_day, on_hand_drift, snapshot_drop_date
from final
