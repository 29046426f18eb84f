-- Inventory KPIs as additive components per day and warehouse (no channel: stock is not
-- held per channel), see fct_kpi_daily_components: a KPI over any set of warehouses is
-- sum(numerator) / sum(denominator) of its rows. From the daily positions of
-- fct_inventory_daily (every day, rolled forward between snapshots); stock and goods
-- shipped are valued at the current unit cost.
-- stockout_rate: warehouse x SKU positions with demand that date and nothing available /
--   positions with demand.
-- inventory_turnover: trailing-365-day cost of goods shipped / average daily stock value
--   over the same days. The average is over the stock days of the window: the days, of
--   that date and the 364 before it, on which the company has valued positions (365 once
--   stock history is a year long). A warehouse's row carries numerator = its cogs_365d x
--   stock days and denominator = the sum of its daily stock value over the window, so for
--   any set of warehouses the sums give cogs_365d / (sum of daily stock value / stock
--   days): the turnover of that set. The count of stock days is the company's, the same
--   for every warehouse: a day on which a warehouse has no position counts as no stock
--   there. Every warehouse has a position every day (positions roll forward from its first
--   snapshot), so this differs from averaging a warehouse over its own days only for a
--   warehouse whose first snapshot comes later than the company's first one.
-- days_of_inventory: stock value that date / average daily cost of goods shipped over the
--   trailing 90 days: numerator = stock value x 90, denominator = cogs_90d, additive as is.
-- inventory_accuracy: cycle counts that date with counted = book / cycle counts.
-- Turnover and days of inventory are written on every date the company has valued
-- positions, for every warehouse with stock or goods shipped in the window (goods shipped
-- from the unknown member too), so the company-wide sums include every warehouse's cost
-- of goods; observations (the warehouse's valued positions that date) say whether the
-- set has stock that date, i.e. a value.
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
    select
        positions.position_date as kpi_date,
        coalesce(positions.warehouse_id, '{{ var("unknown_member_key") }}') as warehouse_id,
        positions.is_stockout,
        positions.ordered_qty,
        positions.on_hand * products.unit_cost_cny as inventory_value_cny
    from positions
    left join products on positions.sku = products.sku
),

stock as (
    select
        kpi_date,
        warehouse_id,
        count(*) filter (where is_stockout) as stockouts,
        count(*) filter (where ordered_qty > 0) as positions_with_demand,
        sum(inventory_value_cny) as inventory_value_cny,
        count(inventory_value_cny) as positions_valued
    from valued_positions
    group by kpi_date, warehouse_id
),

cogs_daily as (
    select
        coalesce(order_lines.warehouse_id, '{{ var("unknown_member_key") }}') as warehouse_id,
        cast(order_lines.shipped_at as date) as kpi_date,
        sum(order_lines.shipped_qty * products.unit_cost_cny) as cogs_cny
    from order_lines
    inner join products on order_lines.shipped_sku = products.sku
    where order_lines.shipped_at is not null and order_lines.shipped_qty > 0
    group by all
),

-- stock value and cost of goods per warehouse on one date axis
warehouse_days as (
    select
        warehouse_id,
        kpi_date,
        sum(inventory_value_cny) as inventory_value_cny,
        sum(positions_valued) as positions_valued,
        sum(cogs_cny) as cogs_cny
    from (
        select warehouse_id, kpi_date, inventory_value_cny, positions_valued,
               null as cogs_cny
        from stock
        union all
        select warehouse_id, kpi_date, null, null, cogs_cny
        from cogs_daily
    )
    group by warehouse_id, kpi_date
),

stock_days as (
    select
        kpi_date,
        count(*) over (
            order by kpi_date range between interval 364 days preceding and current row
        ) as stock_days_365d
    from (select distinct kpi_date from stock where positions_valued > 0)
),

windowed as (
    select
        stock_days.kpi_date,
        warehouse_days.warehouse_id,
        any_value(stock_days.stock_days_365d) as stock_days_365d,
        sum(warehouse_days.inventory_value_cny) as inventory_value_365d,
        sum(warehouse_days.cogs_cny) as cogs_365d,
        sum(warehouse_days.cogs_cny)
            filter (where warehouse_days.kpi_date > stock_days.kpi_date - interval 90 days)
            as cogs_90d,
        sum(warehouse_days.inventory_value_cny)
            filter (where warehouse_days.kpi_date = stock_days.kpi_date)
            as inventory_value_cny,
        coalesce(sum(warehouse_days.positions_valued)
            filter (where warehouse_days.kpi_date = stock_days.kpi_date), 0)
            as positions_valued
    from stock_days
    inner join warehouse_days
        on warehouse_days.kpi_date between stock_days.kpi_date - interval 364 days
        and stock_days.kpi_date
    group by stock_days.kpi_date, warehouse_days.warehouse_id
),

counted as (
    select
        coalesce(warehouse_id, '{{ var("unknown_member_key") }}') as warehouse_id,
        cast(counted_at as date) as kpi_date,
        count(*) filter (where counted_qty = book_qty) as accurate_counts,
        count(*) as cycle_counts
    from counts
    where counted_at is not null
    group by all
),

final as (
    -- observations: the positions with demand, the valued positions, the cycle counts
    select kpi_date, warehouse_id, 'stockout_rate' as metric, stockouts as numerator,
           positions_with_demand as denominator, positions_with_demand as observations
    from stock
    union all
    select kpi_date, warehouse_id, 'inventory_turnover', cogs_365d * stock_days_365d,
           inventory_value_365d, positions_valued
    from windowed
    union all
    select kpi_date, warehouse_id, 'days_of_inventory', inventory_value_cny * 90,
           cogs_90d, positions_valued
    from windowed
    union all
    select kpi_date, warehouse_id, 'inventory_accuracy', accurate_counts, cycle_counts,
           cycle_counts
    from counted
)

select
    kpi_date,
    warehouse_id,
    cast(null as varchar) as channel,
    metric,
    cast(coalesce(numerator, 0) as double) as numerator,
    cast(coalesce(denominator, 0) as double) as denominator,
    cast(observations as bigint) as observations
from final
where observations > 0 or denominator <> 0 or numerator <> 0
