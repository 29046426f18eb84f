with source as (
    select * from {{ source('raw', 'ecommerce__promotions') }}
),

renamed as (
    select
        trim(promo_id) as promo_id,
        platform,
        {{ clean_text('sku') }} as sku,
        starts_on,
        ends_on,
        discount_pct,
        _drop_date as source_drop_date,
        _line as source_line
    from source
),

latest as (
    {{ latest_version('renamed', ['promo_id'], has_updated_at=false) }}
)

select * from latest
