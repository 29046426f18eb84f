-- How each SKU's stock performed in each warehouse over the trailing 365 days up to the
-- newest position date, from exactly the daily positions planners see (fct_inventory_daily):
--   inventory_turnover  cost of goods shipped / average inventory value (365 days)
--   days_of_inventory   inventory value on the as-of date / average daily cost of goods
--                       shipped over the trailing 90 days (as kpi_daily defines it)
--   stockout_days       days with demand and nothing available; stockout_rate divides
--                       them by the days with demand
--   fill_rate           units shipped / units ordered, over the order lines for the SKU
--                       ordered in the window and settled (shipped or cancelled); a line
--                       shipped with the wrong SKU counts for the SKU that was ordered,
--                       one shipped over its quantity as filled, no more
--   inventory_accuracy  share of the window's cycle counts with counted = book
-- plus the SKU's ABC and XYZ class in that warehouse (fct_sku_classification; null for a
-- SKU without sales in the classification's year). Stock and goods shipped are valued at
-- the product's current unit cost, so cost cancels out of turnover for one SKU.
with positions as (
    select * from {{ ref('fct_inventory_daily') }}
),

products as (
    select * from {{ ref('dim_product') }}
),

classes as (
    select * from {{ ref('fct_sku_classification') }}
),

counts as (
    select * from {{ ref('stg_erp__stock_counts') }}
),

order_lines as (
    select * from {{ ref('int_order_lines') }}
),

as_of as (
    select max(position_date) as as_of_date from positions
),

window_positions as (
    select
        positions.*,
        positions.position_date > as_of.as_of_date - interval 90 days as in_last_90_days,
        positions.position_date = as_of.as_of_date as is_as_of_date
    from positions
    cross join as_of
    where positions.position_date > as_of.as_of_date - interval 365 days
),

per_cell as (
    select
        warehouse_id,
        sku,
        any_value(warehouse_key) as warehouse_key,
        any_value(sku_key) as sku_key,
        count(*) as days_with_position,
        sum(ordered_qty) as units_ordered_365d,
        sum(shipped_qty) as units_shipped_365d,
        sum(shipped_qty) filter (where in_last_90_days) as units_shipped_90d,
        avg(on_hand) as avg_on_hand_365d,
        max(on_hand) filter (where is_as_of_date) as on_hand_as_of,
        count(*) filter (where ordered_qty > 0) as demand_days,
        count(*) filter (where is_stockout) as stockout_days
    from window_positions
    group by warehouse_id, sku
),

cell_counts as (
    select
        counts.warehouse_id,
        counts.sku,
        count(*) as cycle_counts_365d,
        avg(cast(counts.counted_qty = counts.book_qty as integer)) as inventory_accuracy
    from counts
    cross join as_of
    where cast(counts.counted_at as date) > as_of.as_of_date - interval 365 days
        and cast(counts.counted_at as date) <= as_of.as_of_date
    group by counts.warehouse_id, counts.sku
),

line_fill as (
    select
        coalesce(order_lines.warehouse_id, '{{ var("unknown_member_key") }}') as warehouse_id,
        order_lines.sku,
        -- an over-shipped line fills its order, no more (as kpi_daily's fill_rate)
        sum(least(order_lines.shipped_qty, order_lines.ordered_qty)) as units_shipped_of_settled,
        sum(order_lines.ordered_qty) as units_ordered_settled
    from order_lines
    cross join as_of
    where cast(order_lines.ordered_at as date) > as_of.as_of_date - interval 365 days
        and cast(order_lines.ordered_at as date) <= as_of.as_of_date
        and (order_lines.shipped_at is not null or order_lines.cancelled_at is not null)
    group by all
),

valued as (
    select
        per_cell.*,
        per_cell.units_shipped_365d * products.unit_cost_cny as cogs_365d_cny,
        per_cell.avg_on_hand_365d * products.unit_cost_cny as avg_inventory_value_365d_cny,
        per_cell.on_hand_as_of * products.unit_cost_cny as inventory_value_cny,
        coalesce(per_cell.units_shipped_90d, 0) * products.unit_cost_cny as cogs_90d_cny
    from per_cell
    left join products on per_cell.sku = products.sku
),

final as (
    select
        valued.warehouse_key,
        valued.warehouse_id,
        valued.sku_key,
        valued.sku,
        as_of.as_of_date,
        valued.days_with_position,
        valued.units_ordered_365d,
        valued.units_shipped_365d,
        cast(valued.cogs_365d_cny as double) as cogs_365d_cny,
        cast(valued.avg_inventory_value_365d_cny as double) as avg_inventory_value_365d_cny,
        cast(valued.inventory_value_cny as double) as inventory_value_cny,
        cast(valued.cogs_365d_cny / nullif(valued.avg_inventory_value_365d_cny, 0) as double)
            as inventory_turnover,
        -- value / (cogs_90d / 90), written so that whole numbers stay whole
        cast(valued.inventory_value_cny * 90.0 / nullif(valued.cogs_90d_cny, 0) as double)
            as days_of_inventory,
        valued.demand_days,
        valued.stockout_days,
        cast(valued.stockout_days / nullif(valued.demand_days, 0) as double) as stockout_rate,
        cast(line_fill.units_shipped_of_settled / nullif(line_fill.units_ordered_settled, 0)
            as double) as fill_rate,
        coalesce(cell_counts.cycle_counts_365d, 0) as cycle_counts_365d,
        cast(cell_counts.inventory_accuracy as double) as inventory_accuracy,
        classes.abc_class,
        classes.xyz_class
    from valued
    cross join as_of
    left join cell_counts
        on valued.warehouse_id = cell_counts.warehouse_id
        and valued.sku = cell_counts.sku
    left join line_fill
        on valued.warehouse_id = line_fill.warehouse_id
        and valued.sku = line_fill.sku
    left join classes
        on valued.warehouse_id = classes.warehouse_id
        and valued.sku = classes.sku
)

select
    warehouse_key, warehouse_id, sku_key, sku, as_of_date, days_with_position,
    units_ordered_365d, units_shipped_365d, cogs_365d_cny, avg_inventory_value_365d_cny,
    inventory_value_cny, inventory_turnover, days_of_inventory, demand_days, stockout_days,
    stockout_rate, fill_rate, cycle_counts_365d, inventory_accuracy, abc_class, xyz_class
from final
