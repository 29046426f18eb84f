with source as (
    select * from {{ source('raw', 'erp__returns') }}
),

renamed as (
    select
        trim(return_id) as return_id,
        trim(order_ref) as order_ref,
        trim(sku) as sku,
        qty as returned_qty,
        reason as return_reason,
        requested_at,
        received_at,
        {{ clean_text('warehouse_id') }} as warehouse_id,
        _drop_date as source_drop_date,
        _line as source_line
    from source
),

latest as (
    {{ latest_version('renamed', ['return_id'], has_updated_at=false) }}
)

select * from latest
