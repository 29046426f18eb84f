with source as (
    select * from {{ source('raw', 'erp__warehouses') }}
),

renamed as (
    select
        trim(warehouse_id) as warehouse_id,
        {{ clean_text('name') }} as warehouse_name,
        region,
        {{ province_key('province') }} as province_raw,
        {{ clean_text('city') }} as city,
        cast(latitude as double) as latitude,
        cast(longitude as double) as longitude,
        capacity_units,
        _drop_date as source_drop_date,
        _line as source_line
    from source
),

latest as (
    {{ latest_version('renamed', ['warehouse_id'], has_updated_at=false) }}
)

select * from latest
