-- Revenue and orders per customer and calendar month (cancelled lines excluded).
with order_lines as (
    select * from {{ ref('fct_order_lines') }}
),

final as (
    select
        customer_key,
        cast(date_trunc('month', ordered_at) as date) as activity_month,
        sum(line_amount_cny) as revenue_cny,
        count(distinct order_id) as orders,
        max(ordered_at) as last_order_at
    from order_lines
    where not is_cancelled
        and ordered_at is not null
        and customer_key <> '{{ var("unknown_member_key") }}'
    group by customer_key, cast(date_trunc('month', ordered_at) as date)
)

select customer_key, activity_month, revenue_cny, orders, last_order_at from final
