with source as (
    select * from {{ source('raw', 'erp__stock_movements') }}
),

renamed as (
    select
        trim(movement_id) as movement_id,
        moved_at,
        {{ clean_text('warehouse_id') }} as warehouse_id,
        {{ clean_text('sku') }} as sku,
        qty,
        movement_type,
        {{ clean_text('ref') }} as ref,
        _drop_date as source_drop_date,
        _line as source_line
    from source
),

latest as (
    {{ latest_version('renamed', ['movement_id'], has_updated_at=false) }}
)

select * from latest
