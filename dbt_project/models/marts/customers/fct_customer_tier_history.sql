-- One row per customer and month: the tier at the month's end, for downgrade alerts.
with history as (
    select * from {{ ref('int_customer_tier_history') }}
),

final as (
    select
        customer_key,
        month,
        tier,
        lag(tier) over (partition by customer_key order by month) as previous_tier,
        revenue_12m_cny,
        orders_12m,
        days_since_last_order
    from history
)

select
    customer_key, month, tier, previous_tier, revenue_12m_cny, orders_12m, days_since_last_order
from final
