-- One row per customer feedback, routed (the feedback_routing feed): category, owning
-- department and severity from int_feedback__categorized, the customer from the single
-- customer view and the warehouse of the order it is about.
-- The customer: the CRM account that wrote it, else the customer of the order it names,
-- else the unknown member (customer_match says which).
with feedback as (
    select * from {{ ref('int_feedback__categorized') }}
),

customer_keys as (
    select * from {{ ref('customer_identity_map') }}
),

order_lines as (
    select * from {{ ref('fct_order_lines') }}
),

orders as (
    select
        order_id,
        any_value(channel) as order_channel,
        any_value(platform) as platform,
        -- an order has one customer and one warehouse; min() makes the pick deterministic
        min(customer_key) filter (where customer_key <> '{{ var("unknown_member_key") }}')
            as customer_key,
        min(warehouse_key) as warehouse_id
    from order_lines
    group by order_id
),

final as (
    select
        feedback.feedback_id,
        coalesce(
            customer_keys.customer_key, orders.customer_key, '{{ var("unknown_member_key") }}'
        ) as customer_key,
        case
            when customer_keys.customer_key is not null then 'crm_id'
            when orders.customer_key is not null then 'order'
            else 'unknown'
        end as customer_match,
        feedback.crm_id,
        feedback.category,
        feedback.department,
        feedback.severity,
        feedback.severity_reason,
        feedback.matched_keyword,
        cast(feedback.score as integer) as score,
        feedback.is_satisfied,
        feedback.nps_group,
        feedback.submitted_at,
        cast(feedback.submitted_at as date) as submitted_on,
        feedback.channel,
        'crm' as source_system,
        feedback.order_ref,
        orders.order_channel,
        orders.platform,
        orders.warehouse_id,
        feedback.comment
    from feedback
    left join customer_keys
        on customer_keys.source_system = 'crm' and feedback.crm_id = customer_keys.source_id
    left join orders on feedback.order_ref = orders.order_id
)

select
    feedback_id, customer_key, customer_match, crm_id, category, department, severity,
    severity_reason, matched_keyword, score, is_satisfied, nps_group, submitted_at,
    submitted_on, channel, source_system, order_ref, order_channel, platform, warehouse_id,
    comment
from final
