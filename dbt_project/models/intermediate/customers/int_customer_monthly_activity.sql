-- Revenue and orders per customer and calendar month (cancelled lines excluded).
with order_lines as (
    select * from {{ ref('int_order_lines') }}
),

customer_keys as (
    select * from {{ ref('int_customer_keys') }}
),

final as (
    select
        customer_keys.customer_key,
        cast(date_trunc('month', ordered_at) as date) as activity_month,
        sum(line_amount_cny) as revenue_cny,
        count(distinct order_id) as orders,
        max(ordered_at) as last_order_at
    from order_lines
    inner join customer_keys
        on order_lines.customer_source_system = customer_keys.source_system
        and order_lines.customer_source_id = customer_keys.source_id
    where not order_lines.is_cancelled and order_lines.ordered_at is not null
    group by customer_keys.customer_key, cast(date_trunc('month', ordered_at) as date)
)

select customer_key, activity_month, revenue_cny, orders, last_order_at from final
