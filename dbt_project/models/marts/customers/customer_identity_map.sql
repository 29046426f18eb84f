with customer_keys as (
    select * from {{ ref('int_customer_keys') }}
),

final as (
    select
        source_system,
        source_id,
        customer_key,
        match_rule,
        match_score
    from customer_keys
)

select * from final
