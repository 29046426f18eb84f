with source as (
    select * from {{ source('raw', 'erp__sales_orders') }}
),

renamed as (
    select
        trim(order_no) as order_no,
        trim(erp_code) as erp_code,
        {{ clean_text('warehouse_id') }} as warehouse_id,
        ordered_at,
        promised_at,
        shipped_at,
        delivered_at,
        cancelled_at,
        status as order_status,
        updated_at,
        _drop_date as source_drop_date,
        _line as source_line
    from source
),

latest as (
    {{ latest_version('renamed', ['order_no']) }}
)

select * from latest
