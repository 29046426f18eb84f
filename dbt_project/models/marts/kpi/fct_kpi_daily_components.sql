-- The daily KPIs of FEEDS.md (kpi_daily) as additive components, the single source of
-- truth for them: a KPI over any set of warehouses, regions and channels on a date is
-- sum(numerator) / sum(denominator) of the set's rows, published where sum(observations)
-- > 0 and the denominator is not 0 (fct_kpi_daily is exactly that, per warehouse and for
-- 'ALL'). A rate cannot be averaged across warehouses or channels; its parts can be added.
-- How trailing windows (return_rate, inventory_turnover, days_of_inventory) stay additive
-- is written in the int_kpi__ models.
-- warehouse_id: the warehouse; the unknown member when a fact names none; null where a
-- fact counts company-wide only (feedback without an order or about an order without a
-- warehouse). channel: the order's channel (fct_order_lines: b2b, ecommerce) for the
-- order, feedback and return metrics, the unknown member for feedback and returns without
-- a known order; null for inventory metrics, which have no channel (a channel filter does
-- not apply to them).
with all_components as (
    select * from {{ ref('int_kpi__fulfillment') }}
    union all
    select * from {{ ref('int_kpi__customer_experience') }}
    union all
    select * from {{ ref('int_kpi__inventory') }}
),

warehouses as (
    select * from {{ ref('dim_warehouse') }}
),

final as (
    select
        all_components.kpi_date as date,
        all_components.warehouse_id,
        warehouses.region,
        all_components.channel,
        all_components.metric,
        all_components.numerator,
        all_components.denominator,
        all_components.observations
    from all_components
    left join warehouses on all_components.warehouse_id = warehouses.warehouse_id
)

select date, warehouse_id, region, channel, metric, numerator, denominator, observations
from final
