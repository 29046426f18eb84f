with source as (
    select * from {{ source('raw', 'ecommerce__orders') }}
),

renamed as (
    select
        trim(order_id) as order_id,
        platform,
        trim(buyer_id) as buyer_id,
        -- a buyer is identified by platform and buyer id together
        coalesce(platform, 'unknown') || ':' || trim(buyer_id) as buyer_key,
        {{ clean_text('buyer_nickname') }} as buyer_nickname,
        {{ normalize_phone('buyer_phone') }} as buyer_phone,
        {{ normalize_email('buyer_email') }} as buyer_email,
        {{ province_key('ship_province') }} as ship_province_raw,
        {{ clean_text('ship_city') }} as ship_city,
        {{ clean_text('ship_district') }} as ship_district,
        created_at,
        paid_at,
        shipped_at,
        delivered_at,
        cancelled_at,
        status as order_status,
        {{ clean_text('warehouse_id') }} as warehouse_id,
        updated_at,
        _drop_date as source_drop_date,
        _line as source_line
    from source
),

latest as (
    {{ latest_version('renamed', ['order_id']) }}
)

select * from latest
