-- ABC and XYZ class of every SKU per warehouse (and company-wide, 'ALL') over the year
-- before the latest order: A/B/C by cumulative share of revenue (Pareto), X/Y/Z by how
-- much weekly demand varies (coefficient of variation; weeks without demand count as 0).
with order_lines as (
    select * from {{ ref('fct_order_lines') }}
),

as_of as (
    select
        cast(max(ordered_at) as date) as as_of_date,
        -- weeks of the year actually covered by history (a young business has fewer)
        least(52, ceil(date_diff('day', min(ordered_at), max(ordered_at)) / 7.0) + 1)
            as weeks
    from order_lines
),

year_lines as (
    select
        warehouse_id,
        sku,
        cast(date_trunc('week', ordered_at) as date) as demand_week,
        ordered_qty,
        line_amount_cny
    from order_lines
    where not is_cancelled
        and cast(ordered_at as date) > (select as_of_date from as_of) - interval 365 days
),

scoped as ({{ with_company_scope('year_lines') }}),

weekly as (
    select warehouse_id, sku, demand_week, sum(ordered_qty) as units,
           sum(line_amount_cny) as revenue_cny
    from scoped
    group by warehouse_id, sku, demand_week
),

per_sku as (
    select
        warehouse_id,
        sku,
        sum(revenue_cny) as revenue_365d_cny,
        sum(units) as units_365d,
        -- over every week of the window, the weeks without demand being zeros
        sum(units) / any_value(weeks) as mean_weekly_units,
        sqrt(greatest(
            sum(units * units) / any_value(weeks) - power(sum(units) / any_value(weeks), 2), 0
        )) as std_weekly_units
    from weekly
    cross join as_of
    group by warehouse_id, sku
),

ranked as (
    select
        *,
        sum(revenue_365d_cny) over (
            partition by warehouse_id order by revenue_365d_cny desc, sku
            rows between unbounded preceding and current row
        ) / nullif(sum(revenue_365d_cny) over (partition by warehouse_id), 0)
            as cumulative_revenue_share,
        std_weekly_units / nullif(mean_weekly_units, 0) as demand_cv
    from per_sku
),

final as (
    select
        warehouse_id,
        sku,
        revenue_365d_cny,
        units_365d,
        cumulative_revenue_share,
        demand_cv,
        case
            when cumulative_revenue_share <= {{ var('abc_a_revenue_share') }} then 'A'
            when cumulative_revenue_share <= {{ var('abc_b_revenue_share') }} then 'B'
            else 'C'
        end as abc_class,
        case
            when demand_cv <= {{ var('xyz_x_max_cv') }} then 'X'
            when demand_cv <= {{ var('xyz_y_max_cv') }} then 'Y'
            else 'Z'
        end as xyz_class
    from ranked
)

select
    warehouse_id, sku, revenue_365d_cny, units_365d, cumulative_revenue_share, demand_cv,
    abc_class, xyz_class
from final
