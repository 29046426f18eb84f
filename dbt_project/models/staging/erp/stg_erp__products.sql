with source as (
    select * from {{ source('raw', 'erp__products') }}
),

renamed as (
    select
        trim(sku) as sku,
        {{ clean_text('name') }} as product_name,
        {{ clean_text('category') }} as category,
        {{ clean_text('brand') }} as brand,
        unit_cost_cny,
        unit_price_cny,
        lead_time_days,
        moq,
        pack_size,
        shelf_life_days,
        status as product_status,
        updated_at,
        _drop_date as source_drop_date,
        _line as source_line
    from source
),

latest as (
    {{ latest_version('renamed', ['sku']) }}
)

select * from latest
