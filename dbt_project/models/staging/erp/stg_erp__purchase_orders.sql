with source as (
    select * from {{ source('raw', 'erp__purchase_orders') }}
),

renamed as (
    select
        trim(po_no) as po_no,
        line_no,
        {{ clean_text('supplier_id') }} as supplier_id,
        trim(sku) as sku,
        trim(warehouse_id) as warehouse_id,
        qty as ordered_qty,
        ordered_at,
        expected_at,
        received_at,
        updated_at,
        _drop_date as source_drop_date,
        _line as source_line
    from source
),

latest as (
    {{ latest_version('renamed', ['po_no', 'line_no']) }}
)

select * from latest
