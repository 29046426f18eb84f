with products as (
    select * from {{ ref('stg_erp__products') }}
),

known as (
    select
        sku,
        product_name,
        category,
        brand,
        unit_cost_cny,
        unit_price_cny,
        lead_time_days,
        moq,
        pack_size,
        shelf_life_days,
        product_status,
        false as is_unknown_member
    from products
),

-- facts whose SKU has no master yet point here until the master arrives
unknown_member as (
    select
        '{{ var("unknown_member_key") }}' as sku,
        'Unknown product' as product_name,
        cast(null as varchar) as category,
        cast(null as varchar) as brand,
        cast(null as decimal(18, 4)) as unit_cost_cny,
        cast(null as decimal(18, 4)) as unit_price_cny,
        cast(null as bigint) as lead_time_days,
        cast(null as bigint) as moq,
        cast(null as bigint) as pack_size,
        cast(null as bigint) as shelf_life_days,
        cast(null as varchar) as product_status,
        true as is_unknown_member
),

final as (
    select
        sku, product_name, category, brand, unit_cost_cny, unit_price_cny, lead_time_days,
        moq, pack_size, shelf_life_days, product_status, is_unknown_member
    from known
    union all
    select
        sku, product_name, category, brand, unit_cost_cny, unit_price_cny, lead_time_days,
        moq, pack_size, shelf_life_days, product_status, is_unknown_member
    from unknown_member
)

select
    sku, product_name, category, brand, unit_cost_cny, unit_price_cny, lead_time_days, moq,
    pack_size, shelf_life_days, product_status, is_unknown_member
from final
