-- Inventory KPIs per day and warehouse (and 'ALL'), from the daily positions of
-- fct_inventory_daily (every day, rolled forward between snapshots): stockout_rate (SKUs
-- with demand that date and nothing available), inventory_turnover (trailing-365-day cost
-- of goods shipped / average daily stock value over the same days), days_of_inventory
-- (stock value / average daily cost of goods shipped over 90 days); inventory_accuracy
-- per cycle-count date. Stock and goods shipped are valued at the current unit cost.
with positions as (
    select * from {{ ref('fct_inventory_daily') }}
),

order_lines as (
    select * from {{ ref('int_order_lines') }}
),

products as (
    select * from {{ ref('dim_product') }}
),

counts as (
    select * from {{ ref('stg_erp__stock_counts') }}
),

valued_positions as (
    select positions.*, positions.on_hand * products.unit_cost_cny as inventory_value_cny
    from positions
    left join products on positions.sku = products.sku
),

positions_scoped as ({{ with_company_scope('valued_positions') }}),

stock as (
    select
        position_date as kpi_date,
        warehouse_id,
        count(*) filter (where is_stockout)
            / nullif(count(*) filter (where ordered_qty > 0), 0) as stockout_rate,
        sum(inventory_value_cny) as inventory_value_cny
    from positions_scoped
    group by position_date, warehouse_id
),

cogs_lines as (
    select
        order_lines.warehouse_id,
        cast(order_lines.shipped_at as date) as kpi_date,
        order_lines.shipped_qty * products.unit_cost_cny as cogs_cny
    from order_lines
    inner join products on order_lines.shipped_sku = products.sku
    where order_lines.shipped_at is not null and order_lines.shipped_qty > 0
),

cogs_scoped as ({{ with_company_scope('cogs_lines') }}),

cogs_daily as (
    select warehouse_id, kpi_date, sum(cogs_cny) as cogs_cny
    from cogs_scoped
    group by warehouse_id, kpi_date
),

-- stock value and cost of goods on one date axis, so trailing windows see both
timeline as (
    select warehouse_id, kpi_date, inventory_value_cny, 0 as cogs_cny, stockout_rate
    from stock
    union all
    select warehouse_id, kpi_date, null, cogs_cny, null
    from cogs_daily
),

timeline_daily as (
    select
        warehouse_id,
        kpi_date,
        max(inventory_value_cny) as inventory_value_cny,
        sum(cogs_cny) as cogs_cny,
        max(stockout_rate) as stockout_rate
    from timeline
    group by warehouse_id, kpi_date
),

rolling as (
    select
        *,
        sum(cogs_cny) over year_window as cogs_365d,
        avg(inventory_value_cny) over year_window as avg_inventory_value_365d,
        sum(cogs_cny) over quarter_window as cogs_90d
    from timeline_daily
    window
        year_window as (partition by warehouse_id order by kpi_date
                        range between interval 364 days preceding and current row),
        quarter_window as (partition by warehouse_id order by kpi_date
                           range between interval 89 days preceding and current row)
),

per_day as (
    select
        kpi_date,
        warehouse_id,
        stockout_rate,
        cogs_365d / nullif(avg_inventory_value_365d, 0) as inventory_turnover,
        -- value / (cogs_90d / 90), written so that whole numbers stay whole
        inventory_value_cny * 90.0 / nullif(cogs_90d, 0) as days_of_inventory
    from rolling
    where inventory_value_cny is not null
),

counted as (
    select
        warehouse_id,
        cast(counted_at as date) as kpi_date,
        cast(counted_qty = book_qty as integer) as accurate
    from counts
    where counted_at is not null
),

counted_scoped as ({{ with_company_scope('counted') }}),

per_count as (
    select kpi_date, warehouse_id, avg(accurate) as inventory_accuracy
    from counted_scoped
    group by kpi_date, warehouse_id
),

final as (
    unpivot per_day on stockout_rate, inventory_turnover, days_of_inventory
        into name metric value metric_value
    union all
    unpivot per_count on inventory_accuracy into name metric value metric_value
)

select kpi_date, warehouse_id, metric, cast(metric_value as double) as metric_value
from final
where metric_value is not null
