with source as (
    select * from {{ source('raw', 'erp__stock_counts') }}
),

renamed as (
    select
        trim(count_id) as count_id,
        counted_at,
        {{ clean_text('warehouse_id') }} as warehouse_id,
        {{ clean_text('sku') }} as sku,
        book_qty,
        counted_qty,
        _drop_date as source_drop_date,
        _line as source_line
    from source
),

latest as (
    {{ latest_version('renamed', ['count_id'], has_updated_at=false) }}
)

select * from latest
