-- The tier of every customer at the end of every month since their first order (the
-- current month ends at the as-of date, the latest order in the data): trailing-12-month
-- revenue and orders, quarter-on-quarter revenue, days since the last order, and the
-- tier the business defines from them (thresholds are vars).
with activity as (
    select * from {{ ref('int_customer_monthly_activity') }}
),

as_of as (
    select cast(max(last_order_at) as date) as as_of_date from activity
),

spine as (
    select
        customer_key,
        cast(unnest(generate_series(
            min(activity_month),
            cast(date_trunc('month', (select as_of_date from as_of)) as date),
            interval 1 month
        )) as date) as month
    from activity
    group by customer_key
),

monthly as (
    select
        spine.customer_key,
        spine.month,
        least(last_day(spine.month), (select as_of_date from as_of)) as reference_date,
        coalesce(activity.revenue_cny, 0) as revenue_cny,
        coalesce(activity.orders, 0) as orders,
        activity.last_order_at
    from spine
    left join activity
        on spine.customer_key = activity.customer_key and spine.month = activity.activity_month
),

windowed as (
    select
        customer_key,
        month,
        reference_date,
        sum(revenue_cny) over (by_customer rows between 11 preceding and current row)
            as revenue_12m_cny,
        sum(orders) over (by_customer rows between 11 preceding and current row) as orders_12m,
        sum(revenue_cny) over (by_customer rows between 2 preceding and current row)
            as revenue_q0_cny,
        sum(revenue_cny) over (by_customer rows between 5 preceding and 3 preceding)
            as revenue_q1_cny,
        sum(revenue_cny) over (by_customer rows between 8 preceding and 6 preceding)
            as revenue_q2_cny,
        max(last_order_at) over (by_customer rows between unbounded preceding and current row)
            as last_order_at
    from monthly
    window by_customer as (partition by customer_key order by month)
),

classified as (
    select
        *,
        date_diff('day', cast(last_order_at as date), reference_date) as days_since_last_order,
        {% if var('tier_growth_rising_quarters') >= 2 %}
        revenue_q0_cny > revenue_q1_cny and revenue_q1_cny > revenue_q2_cny
            and revenue_q2_cny > 0
        {% else %}
        revenue_q0_cny > revenue_q1_cny and revenue_q1_cny > 0
        {% endif %} as is_growing
    from windowed
),

final as (
    select
        customer_key,
        month,
        reference_date,
        revenue_12m_cny,
        orders_12m,
        revenue_q0_cny,
        revenue_q1_cny,
        last_order_at,
        days_since_last_order,
        case
            -- no order in 12 months: no longer an active customer
            when orders_12m = 0 then 'lapsed'
            when days_since_last_order >= {{ var('tier_churn_risk_days') }} then 'churn_risk'
            when revenue_12m_cny > {{ var('tier_high_value_revenue_cny') }} then 'high_value'
            -- tiny accounts stay small even when they grow (100 -> 200 CNY is no trend)
            when revenue_12m_cny < {{ var('tier_small_revenue_cny') }} then 'small'
            when is_growing then 'growth'
            else 'regular'
        end as tier
    from classified
)

select
    customer_key, month, reference_date, revenue_12m_cny, orders_12m, revenue_q0_cny,
    revenue_q1_cny, last_order_at, days_since_last_order, tier
from final
