-- One row per customer (dim_customer): how their experience went over the trailing
-- customer_experience_window_days up to the as-of date (the latest order or feedback in
-- the data) - feedback count, average score (avg_satisfaction, 1-5), share satisfied
-- (score >= 4), and the return rate of the units shipped to them in that window
-- (returned / shipped units, returns counted on the shipped line whenever requested).
-- Null where there is nothing to average: no feedback, nothing shipped.
with customers as (
    select * from {{ ref('dim_customer') }}
),

feedback as (
    select * from {{ ref('fct_feedback') }}
),

order_lines as (
    select * from {{ ref('fct_order_lines') }}
),

as_of as (
    select
        cast(greatest(
            (select max(ordered_at) from order_lines),
            (select max(submitted_at) from feedback)
        ) as date) as as_of_date
),

bounds as (
    select
        as_of_date,
        as_of_date - {{ var('customer_experience_window_days') }} + 1 as window_start
    from as_of
),

feedback_in_window as (
    select
        feedback.customer_key,
        count(*) as feedback_count,
        avg(feedback.score) as avg_satisfaction,
        avg(cast(feedback.is_satisfied as integer)) as satisfaction_rate,
        max(feedback.submitted_at) as last_feedback_at
    from feedback
    cross join bounds
    where feedback.submitted_on between bounds.window_start and bounds.as_of_date
    group by feedback.customer_key
),

shipped_in_window as (
    select
        order_lines.customer_key,
        sum(order_lines.shipped_qty) as shipped_units,
        sum(order_lines.returned_qty) as returned_units
    from order_lines
    cross join bounds
    where order_lines.shipped_qty > 0
        and cast(order_lines.shipped_at as date) between bounds.window_start and bounds.as_of_date
    group by order_lines.customer_key
),

final as (
    select
        customers.customer_key,
        bounds.as_of_date,
        bounds.window_start,
        coalesce(feedback_in_window.feedback_count, 0) as feedback_count,
        cast(feedback_in_window.avg_satisfaction as double) as avg_satisfaction,
        cast(feedback_in_window.satisfaction_rate as double) as satisfaction_rate,
        feedback_in_window.last_feedback_at,
        cast(coalesce(shipped_in_window.shipped_units, 0) as bigint) as shipped_units,
        cast(coalesce(shipped_in_window.returned_units, 0) as bigint) as returned_units,
        cast(shipped_in_window.returned_units as double)
            / nullif(shipped_in_window.shipped_units, 0) as return_rate
    from customers
    cross join bounds
    left join feedback_in_window on customers.customer_key = feedback_in_window.customer_key
    left join shipped_in_window on customers.customer_key = shipped_in_window.customer_key
)

select
    customer_key, as_of_date, window_start, feedback_count, avg_satisfaction,
    satisfaction_rate, last_feedback_at, shipped_units, returned_units, return_rate
from final
